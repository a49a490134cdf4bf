/**
 * A Sichuan → Chongqing application and a manifest of the demo region, for the deadline specs. Dates sit
 * around National Day 2026 (holidays 10-01..10-07, Saturday 10-10 a working day) so working days really
 * skip holidays. Instants are UTC; Asia/Shanghai is +08:00.
 */
import { LocalDate } from '@lianfang/domain-kernel';
import type { Actor, CommandMetadata } from '@lianfang/eventsourcing';
import type { CarrierLeg, OpenManifestData } from '../manifest/decider';
import type { Attachment, SubmitApplicationData } from '../transfer/decider';

export const SICHUAN = '510000';
export const CHONGQING = '500000';
/** cd-jincheng-auto in config/directory/demo-region.json. */
export const GENERATOR = { agencyId: 'cd-jincheng-auto', creditCode: '91510100MA61RK3T26' };
export const RECEIVER_CREDIT_CODE = '91500115MA5YH9P3C1';
export const CARRIER_CREDIT_CODE = '91510100MA6CB8W21Q';

/** 10:00 in Shanghai on `day`. */
export const morning = (day: string) => new Date(`${day}T02:00:00.000Z`);
/** 24:00 Asia/Shanghai at the end of `day`. */
export const endOf = (day: string) => LocalDate.parseOrThrow(day).plusDays(1).startInstant();

const sha = (c: string) => c.repeat(64);
export const ATTACHMENTS: Attachment[] = [
  { sha256: sha('a'), size: 204_800, mediaType: 'application/pdf', kind: 'licence' },
  { sha256: sha('b'), size: 51_200, mediaType: 'application/pdf', kind: 'method' },
  { sha256: sha('c'), size: 1_048_576, mediaType: 'image/jpeg', kind: 'contract' },
];

export const application = (
  transferId: string,
  over: Partial<SubmitApplicationData> = {},
): SubmitApplicationData => ({
  transferId,
  generator: GENERATOR,
  exportingJurisdiction: SICHUAN,
  receivingJurisdiction: CHONGQING,
  receiver: { facilityId: 'cq-yuhuan-1', licenceValidUntil: '2028-06-30' },
  lines: [{ wasteCode: '900-249-08', quantityKg: '12000.5' }],
  method: 'R9 废矿物油再生利用 / re-refining of waste mineral oil',
  window: { from: '2026-11-01', to: '2027-12-31' },
  attachments: ATTACHMENTS,
  path: 'letter',
  ...over,
});

export const openManifestData = (manifestNumber: string, transferId: string): OpenManifestData => ({
  manifestNumber,
  authorization: {
    kind: 'approval',
    id: transferId,
    remainingKg: '12000.500',
    validFrom: '2026-09-01',
    validUntil: '2026-12-31',
    wasteClasses: ['hazardous:900-249-08'],
    receiverFacilityId: 'cq-yuhuan-1',
  },
  generator: { creditCode: GENERATOR.creditCode, jurisdiction: '510100' },
  receiver: { creditCode: RECEIVER_CREDIT_CODE, jurisdiction: '500115', facilityId: 'cq-yuhuan-1' },
  carrierCreditCode: CARRIER_CREDIT_CODE,
  consignor: 'generator',
  waste: {
    wasteClass: 'hazardous:900-249-08',
    name: '废矿物油',
    declaredKg: '4000',
    hazardCharacteristics: ['T', 'I'],
    packaging: 'IBC 吨桶',
    form: 'liquid',
    emergencyMeasures: '泄漏时用沙土围堵，禁止明火',
  },
});

export const LEG: CarrierLeg = {
  carrierCreditCode: CARRIER_CREDIT_CODE,
  vehiclePlate: '川A12345',
  operatingLicence: '川交运管许可成字510100001234号',
  driverSubjectId: 'subject-driver-7f3a',
};

export const actors = {
  generator: { kind: 'user', userId: 'u-gen', agencyId: GENERATOR.agencyId, jurisdiction: '510100' },
  sichuan: { kind: 'user', userId: 'u-sc', agencyId: 'sc-eeb', jurisdiction: SICHUAN },
  chongqing: { kind: 'user', userId: 'u-cq', agencyId: 'cq-eeb', jurisdiction: CHONGQING },
  spec: { kind: 'system', name: 'spec' },
} satisfies Record<string, Actor>;

let n = 0;
export const meta = (actor: Actor, now: Date): CommandMetadata => ({
  commandId: `deadlines-spec-${++n}`,
  now,
  actor,
  correlationId: 'corr-deadlines',
});
