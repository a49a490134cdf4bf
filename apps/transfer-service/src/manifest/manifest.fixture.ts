import type { ManifestEvent, ManifestOpenedData } from './decider';

/** The waste of the manifest specs: 4 t of waste mineral oil in IBCs. */
export const WASTE_OIL: ManifestOpenedData['waste'] = {
  wasteClass: 'hazardous:900-249-08',
  wasteCode: '900-249-08',
  name: '废矿物油',
  declaredKg: '4000.000',
  hazardCharacteristics: ['T', 'I'],
  packaging: 'IBC 吨桶',
  form: 'liquid',
  emergencyMeasures: '泄漏时用沙土围堵，禁止明火',
};

/** A ManifestOpened event of the specs: the generator consigns the oil unless told otherwise. */
export function manifestOpened(
  data: Omit<ManifestOpenedData, 'waste' | 'consignor'> & Partial<ManifestOpenedData>,
): ManifestEvent {
  return { type: 'ManifestOpened', data: { consignor: 'generator', waste: WASTE_OIL, ...data } };
}
