import { ContractRegistry, type ContractViolation } from '../registry';
import {
  AgreementAdoptedV1,
  DISCREPANCY_KINDS,
  ManifestReceivedV1,
  TRANSFER_CONTRACT_EXAMPLES,
  TRANSFER_CONTRACTS,
  TransferApprovedV1,
  transferExampleEnvelope,
  type TransferEventData,
  type TransferEventType,
} from './index';

const registry = new ContractRegistry(TRANSFER_CONTRACTS);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests reach into nested JSON to break it
type Loose = Record<string, any>;

/** As a consumer receives it: the relay's JSON, parsed back. */
const receive = (message: unknown) => registry.validate(JSON.parse(JSON.stringify(message)));

const check = <T extends TransferEventType>(type: T, data: unknown) =>
  receive(transferExampleEnvelope(type, { data: data as TransferEventData[T] }));

/** A mutable copy of the example of `type`, changed by `change`. */
function variant<T extends TransferEventType>(type: T, change: (data: Loose) => void): unknown {
  const data = structuredClone(TRANSFER_CONTRACT_EXAMPLES[type]) as unknown as Record<string, unknown>;
  change(data);
  return data;
}

const pairs = (violations: readonly ContractViolation[]) => violations.map((v) => [v.field, v.rule]);

const TYPES = Object.keys(TRANSFER_CONTRACT_EXAMPLES) as TransferEventType[];

describe('transfer contracts, version 1', () => {
  it('registers the ten transfer events once each, published by the transfer service', () => {
    expect(TRANSFER_CONTRACTS.map((c) => c.type).sort()).toEqual(
      [
        'AgreementAdopted',
        'AgreementAmended',
        'DeadlineMissed',
        'FacilitySuspended',
        'ManifestDiscrepancyFound',
        'ManifestDiscrepancyReferred',
        'ManifestOverdue',
        'ManifestReceiptCorrected',
        'ManifestReceived',
        'TransferApproved',
      ].sort(),
    );
    for (const c of TRANSFER_CONTRACTS) expect([c.source, c.version]).toEqual(['transfer', 1]);
    expect([...TYPES].sort()).toEqual(TRANSFER_CONTRACTS.map((c) => c.type).sort());
  });

  it.each(TYPES)('accepts the example %s after a JSON round trip, as its data class', (type) => {
    const result = receive(transferExampleEnvelope(type));
    expect(result).toMatchObject({ ok: true });
    if (result.ok) {
      expect(result.contract.type).toBe(type);
      expect(result.envelope.data).toBeInstanceOf(result.contract.schema);
      expect(JSON.parse(JSON.stringify(result.envelope.data))).toEqual(TRANSFER_CONTRACT_EXAMPLES[type]);
    }
  });

  it('keeps the examples frozen and hands out fresh envelopes', () => {
    expect(Object.isFrozen(TRANSFER_CONTRACT_EXAMPLES.AgreementAdopted.rateSchedules[0].payees)).toBe(true);
    const a = transferExampleEnvelope('ManifestReceived');
    const b = transferExampleEnvelope('ManifestReceived');
    expect(a.eventId).not.toBe(b.eventId);
    a.data.acceptedKg = '1.000';
    expect(TRANSFER_CONTRACT_EXAMPLES.ManifestReceived.acceptedKg).toBe('9870.500');
  });

  it('validates data against the contract of its own type', () => {
    const result = check('TransferApproved', TRANSFER_CONTRACT_EXAMPLES.ManifestReceived);
    expect(result.ok).toBe(false);
    expect(pairs(result.ok ? [] : result.violations)).toEqual(
      expect.arrayContaining([
        ['data.generatorCreditCode', 'isCreditCode'],
        ['data.path', 'isIn'],
      ]),
    );
  });

  // [what is wrong, type, change, the violations expected as [field, rule] (exactly these)]
  const invalid: [string, TransferEventType, (d: Loose) => void, string[][]][] = [
    // AgreementAdopted
    [
      'a 4-digit member code',
      'AgreementAdopted',
      (d) => (d.members[1] = '5000'),
      [['data.members', 'isProvincialJurisdiction']],
    ],
    [
      'a city as a member',
      'AgreementAdopted',
      (d) => (d.members[1] = '510100'),
      [['data.members', 'isProvincialJurisdiction']],
    ],
    [
      'a member twice',
      'AgreementAdopted',
      (d) => (d.members = ['510000', '500000', '500000']),
      [['data.members', 'arrayUnique']],
    ],
    [
      'payee shares summing to 90%',
      'AgreementAdopted',
      (d) => (d.rateSchedules[2].payees[1].shareBasisPoints = 8_000),
      [['data.rateSchedules.2.payees', 'sharesSumTo100']],
    ],
    [
      'a share as a percent float',
      'AgreementAdopted',
      (d) => (d.rateSchedules[0].payees[0].shareBasisPoints = 99.5),
      [['data.rateSchedules.0.payees.0.shareBasisPoints', 'isInt']],
    ],
    [
      'a rate in yuan as a float',
      'AgreementAdopted',
      (d) => (d.rateSchedules[0].fenPerTonne = 150.5),
      [['data.rateSchedules.0.fenPerTonne', 'isFen']],
    ],
    [
      'a rate with fractional fen',
      'AgreementAdopted',
      (d) => (d.rateSchedules[0].fenPerTonne = '15000.5'),
      [['data.rateSchedules.0.fenPerTonne', 'isFen']],
    ],
    [
      'a rate for all hazardous waste',
      'AgreementAdopted',
      (d) => (d.rateSchedules[2].wasteClassOrCategory = 'hazardous'),
      [['data.rateSchedules.2.wasteClassOrCategory', 'isWasteClassOrCategory']],
    ],
    [
      'a rate for a category not in the List',
      'AgreementAdopted',
      (d) => (d.rateSchedules[2].wasteClassOrCategory = 'HW42'),
      [['data.rateSchedules.2.wasteClassOrCategory', 'isWasteClassOrCategory']],
    ],
    [
      'a whitelist quantity as a float',
      'AgreementAdopted',
      (d) => (d.whitelist[0].quantityKg = 500000.5),
      [['data.whitelist.0.quantityKg', 'isKilograms']],
    ],
    [
      'a whitelist quantity of zero',
      'AgreementAdopted',
      (d) => (d.whitelist[0].quantityKg = '0.000'),
      [['data.whitelist.0.quantityKg', 'isKilograms']],
    ],
    [
      'a waste code of category 42',
      'AgreementAdopted',
      (d) => (d.whitelist[0].wasteCodes[1] = '900-249-42'),
      [['data.whitelist.0.wasteCodes', 'isWasteCode']],
    ],
    [
      'a whitelist entry for a non-member',
      'AgreementAdopted',
      (d) => (d.whitelist[0].exportingMember = '530000'),
      [['data.whitelist', 'withinMembers']],
    ],
    [
      'a payee outside the members',
      'AgreementAdopted',
      (d) => (d.rateSchedules[2].payees[1].jurisdiction = '440300'),
      [['data.rateSchedules', 'withinMembers']],
    ],
    [
      'overlapping rate periods',
      'AgreementAdopted',
      (d) => (d.rateSchedules[1].from = '2026-06-30'),
      [['data.rateSchedules', 'periodsContiguous']],
    ],
    [
      'a gap between rate periods',
      'AgreementAdopted',
      (d) => (d.rateSchedules[1].from = '2026-07-02'),
      [['data.rateSchedules', 'periodsContiguous']],
    ],
    [
      'an open period followed by another',
      'AgreementAdopted',
      (d) => (d.rateSchedules[0].to = null),
      [['data.rateSchedules', 'periodsContiguous']],
    ],
    [
      'a term ending before it starts',
      'AgreementAdopted',
      (d) => (d.effectiveTo = '2025-12-31'),
      [['data.effectiveTo', 'onOrAfter']],
    ],
    [
      'a date with a time',
      'AgreementAdopted',
      (d) => (d.effectiveFrom = '2026-01-01T00:00:00Z'),
      [['data.effectiveFrom', 'isLocalDate']],
    ],
    [
      'a tolerance of 100 kg written as an integer',
      'AgreementAdopted',
      (d) => (d.discrepancyTolerance.kg = '100'),
      [['data.discrepancyTolerance.kg', 'isKilograms']],
    ],
    [
      'a tolerance percent above 100%',
      'AgreementAdopted',
      (d) => (d.discrepancyTolerance.percentBasisPoints = 10_001),
      [['data.discrepancyTolerance.percentBasisPoints', 'max']],
    ],
    [
      'fractional transit days',
      'AgreementAdopted',
      (d) => (d.maxTransitDays = 2.5),
      [['data.maxTransitDays', 'isInt']],
    ],
    // AgreementAmended
    [
      'no amendment id',
      'AgreementAmended',
      (d) => delete d.amendmentId,
      [
        ['data.amendmentId', 'isString'],
        ['data.amendmentId', 'minLength'],
      ],
    ],
    [
      'an amendment before the agreement',
      'AgreementAmended',
      (d) => (d.amendmentEffectiveDate = '2025-12-31'),
      [['data.amendmentEffectiveDate', 'onOrAfter']],
    ],
    [
      'an amendment on 30 February',
      'AgreementAmended',
      (d) => (d.amendmentEffectiveDate = '2026-02-30'),
      [['data.amendmentEffectiveDate', 'isLocalDate']],
    ],
    [
      'a bad payee code in the amended text',
      'AgreementAmended',
      (d) => (d.rateSchedules[0].payees[0].jurisdiction = 'CQ'),
      [['data.rateSchedules.0.payees.0.jurisdiction', 'isJurisdictionCode']],
    ],
    // TransferApproved
    [
      'a mistyped credit code',
      'TransferApproved',
      (d) => (d.generatorCreditCode = '91510100MA6123456X'),
      [['data.generatorCreditCode', 'isCreditCode']],
    ],
    [
      'a city as the exporting jurisdiction',
      'TransferApproved',
      (d) => (d.exportingJurisdiction = '510100'),
      [['data.exportingJurisdiction', 'isProvincialJurisdiction']],
    ],
    [
      'a float waste quantity',
      'TransferApproved',
      (d) => (d.wasteLines[0].quantityKg = 120000.25),
      [['data.wasteLines.0.quantityKg', 'isKilograms']],
    ],
    [
      'a quantity in tonnes with 6 decimals',
      'TransferApproved',
      (d) => (d.wasteLines[0].quantityKg = '120.000000'),
      [['data.wasteLines.0.quantityKg', 'isKilograms']],
    ],
    [
      'a waste code without dashes',
      'TransferApproved',
      (d) => (d.wasteLines[0].wasteCode = 'HW08'),
      [['data.wasteLines.0.wasteCode', 'isWasteCode']],
    ],
    ['no waste lines', 'TransferApproved', (d) => (d.wasteLines = []), [['data.wasteLines', 'arrayMinSize']]],
    [
      'a validity of 12 months and a day',
      'TransferApproved',
      (d) => (d.validTo = '2027-03-02'),
      [['data.validTo', 'withinTwelveMonths']],
    ],
    [
      'a validity ending before it starts',
      'TransferApproved',
      (d) => (d.validTo = '2026-03-01'),
      [['data.validTo', 'onOrAfter']],
    ],
    ['the filing path', 'TransferApproved', (d) => (d.path = 'filing'), [['data.path', 'isIn']]],
    [
      'a whitelist approval without its entry',
      'TransferApproved',
      (d) => ((d.path = 'whitelist'), (d.agreementId = 'agreement-sc-cq-2026')),
      [
        ['data.whitelistEntryId', 'isString'],
        ['data.whitelistEntryId', 'minLength'],
      ],
    ],
    [
      'nobody notified',
      'TransferApproved',
      (d) => (d.notifiedAgencies = []),
      [['data.notifiedAgencies', 'arrayMinSize']],
    ],
    [
      'a department that is not notified by Art 26',
      'TransferApproved',
      (d) => (d.notifiedAgencies[0].department = 'police'),
      [['data.notifiedAgencies.0.department', 'isIn']],
    ],
    // ManifestReceived
    [
      'a 13-digit manifest number',
      'ManifestReceived',
      (d) => (d.manifestNumber = '2026510100001'),
      [['data.manifestNumber', 'isManifestNumber']],
    ],
    [
      'a manifest number with serial 000000',
      'ManifestReceived',
      (d) => (d.manifestNumber = '20265101000000'),
      [['data.manifestNumber', 'isManifestNumber']],
    ],
    [
      'a manifest number as a JSON number',
      'ManifestReceived',
      (d) => (d.manifestNumber = 20265101000001),
      [['data.manifestNumber', 'isManifestNumber']],
    ],
    [
      'a float accepted weight',
      'ManifestReceived',
      (d) => (d.acceptedKg = 9870.5),
      [['data.acceptedKg', 'isKilograms']],
    ],
    [
      'an accepted weight with 1 decimal',
      'ManifestReceived',
      (d) => (d.acceptedKg = '9870.5'),
      [['data.acceptedKg', 'isKilograms']],
    ],
    [
      'a province code that does not exist',
      'ManifestReceived',
      (d) => (d.fromJurisdiction = '990000'),
      [['data.fromJurisdiction', 'isJurisdictionCode']],
    ],
    [
      'a bare waste code without its class',
      'ManifestReceived',
      (d) => (d.wasteClass = '900-249-08'),
      [['data.wasteClass', 'isWasteClass']],
    ],
    [
      'hazardous waste without a code',
      'ManifestReceived',
      (d) => (d.wasteClass = 'hazardous'),
      [['data.wasteClass', 'isWasteClass']],
    ],
    [
      'a receipt date as an instant',
      'ManifestReceived',
      (d) => (d.receiptDate = '2026-03-12T02:00:00.000Z'),
      [['data.receiptDate', 'isLocalDate']],
    ],
    ['no transfer id', 'ManifestReceived', (d) => (d.transferId = ''), [['data.transferId', 'minLength']]],
    // ManifestReceiptCorrected
    [
      'a correction that changes nothing',
      'ManifestReceiptCorrected',
      (d) => (d.correctedAcceptedKg = '9870.500'),
      [['data.correctedAcceptedKg', 'differsFrom']],
    ],
    [
      'a weight in exponent notation',
      'ManifestReceiptCorrected',
      (d) => (d.previousAcceptedKg = '9.8705e3'),
      [['data.previousAcceptedKg', 'isKilograms']],
    ],
    [
      'a negative corrected weight',
      'ManifestReceiptCorrected',
      (d) => (d.correctedAcceptedKg = '-1.000'),
      [['data.correctedAcceptedKg', 'isKilograms']],
    ],
    ['no reason', 'ManifestReceiptCorrected', (d) => (d.reason = ''), [['data.reason', 'minLength']]],
    // ManifestDiscrepancyFound
    ['an unknown kind', 'ManifestDiscrepancyFound', (d) => (d.kind = 'colour'), [['data.kind', 'isIn']]],
    [
      'a weight discrepancy in words',
      'ManifestDiscrepancyFound',
      (d) => (d.declared = 'about 10 t'),
      [['data.declared', 'isKilograms']],
    ],
    [
      'a weight discrepancy with a float',
      'ManifestDiscrepancyFound',
      (d) => (d.accepted = '9870.5'),
      [['data.accepted', 'isKilograms']],
    ],
    [
      'a county code without a city part',
      'ManifestDiscrepancyFound',
      (d) => (d.toJurisdiction = '500001'),
      [['data.toJurisdiction', 'isJurisdictionCode']],
    ],
    // ManifestDiscrepancyReferred
    [
      'a referral of nothing',
      'ManifestDiscrepancyReferred',
      (d) => (d.kinds = []),
      [['data.kinds', 'arrayMinSize']],
    ],
    [
      'a kind that is not a discrepancy',
      'ManifestDiscrepancyReferred',
      (d) => (d.kinds = ['weight', 'colour']),
      [['data.kinds', 'isIn']],
    ],
    [
      'a kind referred twice',
      'ManifestDiscrepancyReferred',
      (d) => (d.kinds = ['packaging', 'packaging']),
      [['data.kinds', 'arrayUnique']],
    ],
    [
      'a single kind instead of a list',
      'ManifestDiscrepancyReferred',
      (d) => (d.kinds = 'weight'),
      [
        ['data.kinds', 'isArray'],
        ['data.kinds', 'arrayMinSize'],
        ['data.kinds', 'arrayUnique'],
      ],
    ],
    [
      "the receiver's district as the reporting province",
      'ManifestDiscrepancyReferred',
      (d) => (d.reportTo = '500115'),
      [['data.reportTo', 'isProvincialJurisdiction']],
    ],
    ['no note', 'ManifestDiscrepancyReferred', (d) => (d.note = ''), [['data.note', 'minLength']]],
    [
      'no reviewing agency',
      'ManifestDiscrepancyReferred',
      (d) => delete d.reviewedBy,
      [
        ['data.reviewedBy', 'isString'],
        ['data.reviewedBy', 'minLength'],
      ],
    ],
    [
      'a review time without a time',
      'ManifestDiscrepancyReferred',
      (d) => (d.reviewedAt = '2026-03-13'),
      [['data.reviewedAt', 'isInstant']],
    ],
    [
      'no transfer id',
      'ManifestDiscrepancyReferred',
      (d) => (d.transferId = ''),
      [['data.transferId', 'minLength']],
    ],
    [
      "a mistyped generator's credit code",
      'ManifestDiscrepancyReferred',
      (d) => (d.generatorCreditCode = '91510100MA6123456X'),
      [['data.generatorCreditCode', 'isCreditCode']],
    ],
    [
      "a receiver's credit code of 17 characters",
      'ManifestDiscrepancyReferred',
      (d) => (d.receiverCreditCode = '91500115MA5YH9P3C'),
      [['data.receiverCreditCode', 'isCreditCode']],
    ],
    [
      'no carrier',
      'ManifestDiscrepancyReferred',
      (d) => delete d.carrierCreditCode,
      [['data.carrierCreditCode', 'isCreditCode']],
    ],
    [
      "a carrier's credit code with a letter O",
      'ManifestDiscrepancyReferred',
      (d) => (d.carrierCreditCode = '91510100MA6CB8WO1Q'),
      [['data.carrierCreditCode', 'isCreditCode']],
    ],
    // ManifestOverdue
    ['an unknown reason', 'ManifestOverdue', (d) => (d.reason = 'late'), [['data.reason', 'isIn']]],
    [
      'a due time without a time',
      'ManifestOverdue',
      (d) => (d.dueAt = '2026-03-19'),
      [['data.dueAt', 'isInstant']],
    ],
    [
      'a due time without an offset',
      'ManifestOverdue',
      (d) => (d.dueAt = '2026-03-20T00:00:00'),
      [['data.dueAt', 'isInstant']],
    ],
    [
      'a manifest number from 1999',
      'ManifestOverdue',
      (d) => (d.manifestNumber = '19995101000001'),
      [['data.manifestNumber', 'isManifestNumber']],
    ],
    // DeadlineMissed
    [
      'an unknown record type',
      'DeadlineMissed',
      (d) => (d.recordType = 'case'),
      [['data.recordType', 'isIn']],
    ],
    [
      'a step that is not kebab case',
      'DeadlineMissed',
      (d) => (d.step = 'Reply Letter'),
      [['data.step', 'matches']],
    ],
    [
      'a due date in month 13',
      'DeadlineMissed',
      (d) => (d.dueDate = '2026-13-01'),
      [['data.dueDate', 'isLocalDate']],
    ],
    [
      'a jurisdiction as a JSON number',
      'DeadlineMissed',
      (d) => (d.responsibleJurisdiction = 500000),
      [['data.responsibleJurisdiction', 'isJurisdictionCode']],
    ],
    // FacilitySuspended
    [
      'a date written day first',
      'FacilitySuspended',
      (d) => (d.fromDate = '01/04/2026'),
      [['data.fromDate', 'isLocalDate']],
    ],
    [
      'a 5-digit jurisdiction',
      'FacilitySuspended',
      (d) => (d.jurisdiction = '50000'),
      [['data.jurisdiction', 'isJurisdictionCode']],
    ],
    [
      'no facility',
      'FacilitySuspended',
      (d) => delete d.facilityId,
      [
        ['data.facilityId', 'isString'],
        ['data.facilityId', 'minLength'],
      ],
    ],
  ];

  it.each(invalid)('refuses %s (%s), naming the field and rule', (_what, type, change, expected) => {
    const result = check(type, variant(type, change));
    expect(result.ok).toBe(false);
    expect(pairs(result.ok ? [] : result.violations).sort()).toEqual([...expected].sort());
  });

  it('has at least two invalid examples for every contract', () => {
    for (const type of TYPES) expect(invalid.filter(([, t]) => t === type).length).toBeGreaterThanOrEqual(2);
  });

  it('says what is wrong in English and Chinese, with the kernel rule that decided', () => {
    const result = check(
      'ManifestReceived',
      variant('ManifestReceived', (d) => (d.manifestNumber = '2026510100001')),
    );
    expect(result).toMatchObject({
      ok: false,
      violations: [
        {
          field: 'data.manifestNumber',
          rule: 'isManifestNumber',
          message: expect.stringMatching(
            /a manifest number is 14 digits.*联单编号须为14位数字.*manifestNumber\.format/,
          ),
        },
      ],
    });
    const shares = check(
      'AgreementAdopted',
      variant('AgreementAdopted', (d) => (d.rateSchedules[2].payees[1].shareBasisPoints = 8_000)),
    );
    expect(shares).toMatchObject({
      ok: false,
      violations: [{ message: expect.stringMatching(/exactly 100% \(they add up to 90%\).*恰好为 100%/) }],
    });
  });

  it('accepts the variants the contracts allow', () => {
    const accepted: [TransferEventType, (d: Loose) => void][] = [
      ['AgreementAdopted', (d) => ((d.effectiveTo = null), delete d.title)],
      ['AgreementAdopted', (d) => ((d.whitelist = []), (d.rateSchedules = []))],
      [
        'AgreementAdopted',
        (d) => (d.rateSchedules[2].payees = [{ jurisdiction: '500100', shareBasisPoints: 10_000 }]),
      ],
      [
        'TransferApproved',
        (d) => ((d.path = 'whitelist'), (d.agreementId = 'a-1'), (d.whitelistEntryId = 'wl-1')),
      ],
      ['TransferApproved', (d) => (d.validTo = d.validFrom)],
      ['ManifestReceived', (d) => ((d.wasteClass = 'construction'), (d.acceptedKg = '0.000'))],
      [
        'ManifestDiscrepancyFound',
        (d) => ((d.kind = 'name'), (d.declared = '废矿物油'), (d.accepted = '废乳化液')),
      ],
      ['ManifestDiscrepancyReferred', (d) => (d.kinds = ['characteristics'])],
      ['ManifestDiscrepancyReferred', (d) => (d.kinds = [...DISCREPANCY_KINDS])],
      ['ManifestOverdue', (d) => ((d.reason = 'transit'), (d.dueAt = '2026-03-15T10:30:00+08:00'))],
    ];
    for (const [type, change] of accepted)
      expect([type, check(type, variant(type, change)).ok]).toEqual([type, true]);
  });

  it('ends a validity from 29 February on the last day of February a year later', () => {
    const from29Feb = (validTo: string) =>
      check(
        'TransferApproved',
        variant('TransferApproved', (d) => ((d.validFrom = '2028-02-29'), (d.validTo = validTo))),
      ).ok;
    expect(from29Feb('2029-02-28')).toBe(true);
    expect(from29Feb('2029-03-01')).toBe(false);
  });

  it('exports the data classes for typed consumers', () => {
    const result = receive(transferExampleEnvelope('TransferApproved'));
    expect(result.ok && result.envelope.data).toBeInstanceOf(TransferApprovedV1);
    expect(receive(transferExampleEnvelope('ManifestReceived')).ok && ManifestReceivedV1).toBe(
      ManifestReceivedV1,
    );
    expect(new AgreementAdoptedV1()).toBeInstanceOf(AgreementAdoptedV1);
  });
});
