import * as kernel from './index';

describe('@lianfang/domain-kernel public API', () => {
  it('exports every value object and the error model', () => {
    for (const name of [
      'JurisdictionCode',
      'KNOWN_JURISDICTIONS',
      'nameOf',
      'WasteCode',
      'WasteCategory',
      'WasteClass',
      'HazardCharacteristic',
      'Quantity',
      'Money',
      'Rate',
      'CreditCode',
      'ManifestNumber',
      'LocalDate',
      'WorkingDayCalendar',
      'DomainValidationError',
      'unwrap',
    ]) {
      expect(kernel).toHaveProperty(name);
    }
  });

  it('serialises values into an event as strings and reads them back', () => {
    const event = {
      manifest: kernel.ManifestNumber.parseOrThrow('20265101000001'),
      generator: kernel.CreditCode.parseOrThrow('91350100M000100Y43'),
      from: kernel.JurisdictionCode.parseOrThrow('510100'),
      wasteCode: kernel.WasteCode.parseOrThrow('900-249-08'),
      weight: kernel.Quantity.ofKg('1234.5'),
      compensation: kernel.Money.perTonne(kernel.Rate.of('150.00'), kernel.Quantity.ofKg('1234.5')),
      receivedOn: kernel.LocalDate.parseOrThrow('2026-09-23'),
    };
    const json = JSON.parse(JSON.stringify(event)) as Record<string, string>;
    expect(json).toEqual({
      manifest: '20265101000001',
      generator: '91350100M000100Y43',
      from: '510100',
      wasteCode: '900-249-08',
      weight: '1234.500',
      compensation: '185.18', // 150 × 1.2345 t = 185.175 yuan: the half fen rounds up
      receivedOn: '2026-09-23',
    });
    expect(kernel.Quantity.parseOrThrow(json.weight).equals(event.weight)).toBe(true);
    expect(kernel.Money.parseOrThrow(json.compensation).equals(event.compensation)).toBe(true);
  });
});
