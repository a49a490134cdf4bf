import { randomUUID } from 'node:crypto';
import type { IntegrationEventEnvelope } from '../envelope';
import type { TransferEventData, TransferEventType } from './contracts';

// A Sichuan–Chongqing story, one valid payload per contract: specs of the contracts, the services
// and the broker round trip reuse them, so what is published and what is validated stay one thing.

const GENERATOR = '91510100MA6123456W'; // a Chengdu generator (valid GB 32100 check character)
const RECEIVER = '91500115MA5YH9P3C1'; // the Chongqing facility's operator
const CARRIER = '91510100MA6CB8W21Q'; // a Sichuan hazardous-goods carrier
const FACILITY = 'facility-cq-001';
const TRANSFER = 'transfer-2026-0001';
const MANIFEST = '20265101000001'; // 2026, Sichuan 51, Chengdu 01, serial 000001

const agreement: TransferEventData['AgreementAdopted'] = {
  agreementId: 'agreement-sc-cq-2026',
  title: {
    zh: '川渝危险废物跨省转移白名单合作协议',
    en: 'Sichuan–Chongqing hazardous waste whitelist agreement',
  },
  members: ['510000', '500000'],
  effectiveFrom: '2026-01-01',
  effectiveTo: '2026-12-31',
  whitelist: [
    {
      entryId: 'wl-2026-01',
      exportingMember: '510000',
      receivingFacilityId: FACILITY,
      wasteCodes: ['900-249-08', '900-214-08'],
      quantityKg: '500000.000',
      year: 2026,
    },
  ],
  rateSchedules: [
    {
      wasteClassOrCategory: 'HW08',
      fenPerTonne: '15000',
      payer: '510000',
      payees: [{ jurisdiction: '500000', shareBasisPoints: 10_000 }],
      from: '2026-01-01',
      to: '2026-06-30',
    },
    {
      wasteClassOrCategory: 'HW08',
      fenPerTonne: '16000',
      payer: '510000',
      payees: [{ jurisdiction: '500000', shareBasisPoints: 10_000 }],
      from: '2026-07-01',
      to: null,
    },
    {
      // A 10/90 split between the transfer-station and the facility district, as Beijing's (2012).
      wasteClassOrCategory: 'construction',
      fenPerTonne: '10000',
      payer: '510100',
      payees: [
        { jurisdiction: '500000', shareBasisPoints: 1_000 },
        { jurisdiction: '500100', shareBasisPoints: 9_000 },
      ],
      from: '2026-01-01',
      to: '2026-12-31',
    },
  ],
  discrepancyTolerance: { percentBasisPoints: 500, kg: '100.000' },
  maxTransitDays: 3,
};

const examples: TransferEventData = {
  AgreementAdopted: agreement,
  AgreementAmended: {
    ...agreement,
    whitelist: [{ ...agreement.whitelist[0], quantityKg: '650000.000' }],
    amendmentId: 'amendment-2026-01',
    amendmentEffectiveDate: '2026-07-01',
  },
  TransferApproved: {
    transferId: TRANSFER,
    generatorCreditCode: GENERATOR,
    exportingJurisdiction: '510000',
    receivingJurisdiction: '500000',
    receiverFacilityId: FACILITY,
    wasteLines: [
      { wasteCode: '900-249-08', quantityKg: '120000.000', method: 'R9 废矿物油再生 re-refining' },
    ],
    validFrom: '2026-03-02',
    validTo: '2027-03-01',
    path: 'letter',
    notifiedAgencies: [
      { agencyId: 'sc-transport', jurisdiction: '510000', department: 'transport' },
      { agencyId: 'cq-eeb', jurisdiction: '500000', department: 'environment' },
      { agencyId: 'cq-transport', jurisdiction: '500000', department: 'transport' },
    ],
  },
  ManifestReceived: {
    manifestNumber: MANIFEST,
    acceptedKg: '9870.500',
    wasteClass: 'hazardous:900-249-08',
    fromJurisdiction: '510100',
    toJurisdiction: '500000',
    facilityId: FACILITY,
    receiptDate: '2026-03-12',
    transferId: TRANSFER,
  },
  ManifestReceiptCorrected: {
    manifestNumber: MANIFEST,
    previousAcceptedKg: '9870.500',
    correctedAcceptedKg: '9780.500',
    reason: '地磅复检 weighbridge recalibrated',
    correctionDate: '2026-03-16',
  },
  ManifestDiscrepancyFound: {
    manifestNumber: MANIFEST,
    kind: 'weight',
    // 629.5 kg and 6%: more than both 100 kg and 5%.
    declared: '10500.000',
    accepted: '9870.500',
    fromJurisdiction: '510100',
    toJurisdiction: '500000',
  },
  ManifestDiscrepancyReferred: {
    manifestNumber: MANIFEST,
    transferId: TRANSFER,
    generatorCreditCode: GENERATOR,
    receiverCreditCode: RECEIVER,
    carrierCreditCode: CARRIER,
    kinds: ['weight', 'packaging'],
    note: '重量短少6%且包装与联单不符，移送执法 / 6% short and not the declared drums: referred',
    fromJurisdiction: '510100',
    toJurisdiction: '500000',
    reportTo: '500000',
    reviewedBy: 'cq-eeb',
    reviewedAt: '2026-03-13T02:00:00.000Z',
  },
  ManifestOverdue: {
    manifestNumber: MANIFEST,
    reason: 'receipt',
    dueAt: '2026-03-19T16:00:00.000Z', // 24:00 of 2026-03-19 in Asia/Shanghai
    fromJurisdiction: '510100',
    toJurisdiction: '500000',
  },
  DeadlineMissed: {
    recordType: 'transfer',
    recordId: TRANSFER,
    step: 'reply',
    responsibleJurisdiction: '500000',
    responsibleAgencyId: 'cq-eeb',
    dueDate: '2026-02-13',
  },
  FacilitySuspended: {
    facilityId: FACILITY,
    jurisdiction: '500000',
    reason: '超许可范围经营 operating beyond the licence',
    fromDate: '2026-04-01',
  },
};

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** One valid data payload per transfer contract (frozen: clone before changing one). */
export const TRANSFER_CONTRACT_EXAMPLES: Readonly<TransferEventData> = deepFreeze(examples);

/**
 * A whole valid envelope around the example data of `type` (a fresh eventId each call), as the
 * outbox relay publishes it; `overrides` replace envelope fields, `data` replaces the payload.
 */
export function transferExampleEnvelope<T extends TransferEventType>(
  type: T,
  overrides: Partial<IntegrationEventEnvelope<TransferEventData[T]>> = {},
): IntegrationEventEnvelope<TransferEventData[T]> {
  return {
    eventId: randomUUID(),
    type,
    schemaVersion: 1,
    source: 'transfer',
    streamId: `example-${type}`,
    streamPosition: '1',
    occurredAt: '2026-03-12T08:00:00.000Z',
    correlationId: randomUUID(),
    causationId: null,
    actor: { kind: 'system', name: 'example' },
    data: structuredClone(TRANSFER_CONTRACT_EXAMPLES[type]) as TransferEventData[T],
    ...overrides,
  };
}
