import { CreditCode, LocalDate, WasteCode } from '@lianfang/domain-kernel';
import { systemActor } from '@lianfang/eventsourcing';
import { given } from '@lianfang/testing';
import {
  acceptsNewManifests,
  canTake,
  facilityDecider,
  facilityStream,
  licensedCapacityKg,
  type FacilityCommand,
  type FacilityEvent,
  type FacilityProfile,
  type FacilityProfileInput,
  type FacilityState,
} from './decider';
import { fold } from '@lianfang/eventsourcing';

const metadata = {
  commandId: 'cmd-1',
  now: new Date('2026-03-02T02:00:00Z'), // 2026-03-02 10:00 in Shanghai
  actor: systemActor('licence-import'),
  correlationId: 'corr-1',
};
const operator = CreditCode.withCheckCharacter('91500000MA5U12345').value;

const input: FacilityProfileInput = {
  name: { zh: '重庆某危废处置中心', en: 'Chongqing Hazardous Waste Disposal Centre' },
  licenceNumber: '渝危废经第500112001号',
  operatorCreditCode: operator.toLowerCase(),
  jurisdiction: '500100',
  coordinates: { lat: '29.71800', lon: '106.6300' },
  licensed: [
    { category: 'hw49', annualCapacityTonnes: '2000' },
    {
      category: 'HW08',
      annualCapacityTonnes: '5000.5',
      wasteCodes: ['90024908', '900-214-08', '900-249-08'],
    },
  ],
  validFrom: '2024-01-01',
  validTo: '2028-12-31',
};
const profile: FacilityProfile = {
  name: input.name,
  licenceNumber: '渝危废经第500112001号',
  operatorCreditCode: operator,
  jurisdiction: '500100',
  coordinates: { lat: '29.718', lon: '106.63' },
  licensed: [
    { category: 'HW08', annualCapacityKg: '5000500.000', wasteCodes: ['900-214-08', '900-249-08'] },
    { category: 'HW49', annualCapacityKg: '2000000.000' },
  ],
  validFrom: '2024-01-01',
  validTo: '2028-12-31',
};

const register = (p: Partial<FacilityProfileInput> = {}): FacilityCommand => ({
  type: 'RegisterFacility',
  data: { facilityId: 'cq-1', profile: { ...input, ...p } },
  metadata,
});
const update = (changes: Partial<FacilityProfileInput>, reason?: string): FacilityCommand => ({
  type: 'UpdateFacility',
  data: { facilityId: 'cq-1', changes, ...(reason ? { reason } : {}) },
  metadata,
});
const suspend = (reason = '环评整改 / environmental rectification'): FacilityCommand => ({
  type: 'SuspendFacility',
  data: { facilityId: 'cq-1', reason },
  metadata,
});
const reinstate: FacilityCommand = { type: 'ReinstateFacility', data: { facilityId: 'cq-1' }, metadata };
const revoke = (reason = 'licence revoked by decision 2026-12'): FacilityCommand => ({
  type: 'RevokeFacility',
  data: { facilityId: 'cq-1', reason },
  metadata,
});

const registered: FacilityEvent = { type: 'FacilityRegistered', data: { facilityId: 'cq-1', profile } };
const suspended: FacilityEvent = {
  type: 'FacilitySuspended',
  data: { facilityId: 'cq-1', reason: '环评整改 / environmental rectification' },
};
const reinstated: FacilityEvent = { type: 'FacilityReinstated', data: { facilityId: 'cq-1' } };
const revoked: FacilityEvent = {
  type: 'FacilityRevoked',
  data: { facilityId: 'cq-1', reason: 'licence revoked by decision 2026-12' },
};

describe('facility register', () => {
  it('names its stream by facility id', () => {
    expect(facilityStream('cq-1')).toBe('facility-cq-1');
  });

  it('registers a licence in canonical form: kg, dashed codes, sorted categories, upper-case credit code', () => {
    given(facilityDecider).when(register()).then(registered);
    given(facilityDecider).when(register()).thenState({ status: 'active', facilityId: 'cq-1', profile });
  });

  it('registers once', () => {
    given(facilityDecider, registered)
      .when(register())
      .thenThrows({ code: 'facility.already-registered', field: 'facilityId' });
  });

  it.each<[string, Partial<FacilityProfileInput>, string, string]>([
    [
      'a mistyped credit code',
      { operatorCreditCode: operator.slice(0, 17) + (operator.endsWith('0') ? '1' : '0') },
      'facility.credit-code-check-character',
      'operatorCreditCode',
    ],
    ['a malformed jurisdiction', { jurisdiction: '5001' }, 'facility.jurisdiction-format', 'jurisdiction'],
    [
      'a whole province as location',
      { jurisdiction: '510000' },
      'facility.jurisdiction-not-city',
      'jurisdiction',
    ],
    [
      'a latitude beyond 90°',
      { coordinates: { lat: '90.00000001', lon: '106.63' } },
      'facility.coordinate-range',
      'coordinates.lat',
    ],
    [
      'a longitude beyond -180°',
      { coordinates: { lat: '29.7', lon: '-180.5' } },
      'facility.coordinate-range',
      'coordinates.lon',
    ],
    [
      'a latitude with a comma',
      { coordinates: { lat: '29,7', lon: '106.63' } },
      'facility.coordinate-format',
      'coordinates.lat',
    ],
    [
      'a latitude in exponent form',
      { coordinates: { lat: '2.9e1', lon: '106.63' } },
      'facility.coordinate-format',
      'coordinates.lat',
    ],
    [
      'a longitude with 9 decimals',
      { coordinates: { lat: '29.7', lon: '106.630000001' } },
      'facility.coordinate-precision',
      'coordinates.lon',
    ],
    ['an empty licence number', { licenceNumber: '  ' }, 'facility.licence-number-required', 'licenceNumber'],
    [
      'an over-long licence number',
      { licenceNumber: 'X'.repeat(65) },
      'facility.licence-number-too-long',
      'licenceNumber',
    ],
    ['no licensed category', { licensed: [] }, 'facility.licensed-scope-empty', 'licensed'],
    [
      'an unknown category',
      { licensed: [{ category: 'HW42', annualCapacityTonnes: '1' }] },
      'facility.waste-category-unknown',
      'licensed[0].category',
    ],
    [
      'a category listed twice',
      {
        licensed: [
          { category: 'HW08', annualCapacityTonnes: '1' },
          { category: 'hw08', annualCapacityTonnes: '2' },
        ],
      },
      'facility.duplicate-category',
      'licensed[1].category',
    ],
    [
      'a zero capacity',
      { licensed: [{ category: 'HW08', annualCapacityTonnes: '0.000' }] },
      'facility.capacity-not-positive',
      'licensed[0].annualCapacityTonnes',
    ],
    [
      'a capacity finer than a gram',
      { licensed: [{ category: 'HW08', annualCapacityTonnes: '1.0000001' }] },
      'facility.quantity-precision',
      'licensed[0].annualCapacityTonnes',
    ],
    [
      'a negative capacity',
      { licensed: [{ category: 'HW08', annualCapacityTonnes: '-5' }] },
      'facility.quantity-negative',
      'licensed[0].annualCapacityTonnes',
    ],
    [
      'a code of another category',
      { licensed: [{ category: 'HW08', annualCapacityTonnes: '1', wasteCodes: ['900-041-49'] }] },
      'facility.waste-code-outside-category',
      'licensed[0].wasteCodes[0]',
    ],
    [
      'a malformed waste code',
      { licensed: [{ category: 'HW08', annualCapacityTonnes: '1', wasteCodes: ['900-249'] }] },
      'facility.waste-code-format',
      'licensed[0].wasteCodes[0]',
    ],
    [
      'a licence ending before it starts',
      { validFrom: '2026-01-01', validTo: '2025-12-31' },
      'facility.licence-window',
      'validTo',
    ],
    ['an impossible date', { validTo: '2026-02-30' }, 'facility.date-invalid', 'validTo'],
    ['an expired licence', { validTo: '2026-03-01' }, 'facility.licence-expired', 'validTo'],
    ['a name without English', { name: { zh: '某中心', en: '' } }, 'facility.name-required', 'name'],
  ])('refuses %s, naming the field and the rule', (_, bad, code, field) => {
    given(facilityDecider).when(register(bad)).thenThrows({ code, field });
  });

  it('gives the bilingual kernel message for kernel rules', () => {
    given(facilityDecider)
      .when(register({ jurisdiction: '990100' }))
      .thenThrows({
        code: 'facility.jurisdiction-province',
        field: 'jurisdiction',
        message: { zh: /省级/, en: /provincial-level/ },
        details: { rule: 'jurisdiction.province', value: '990100' },
      });
  });

  it('accepts a licence that ends today (the last day is included) and a county-level location', () => {
    given(facilityDecider)
      .when(register({ validTo: '2026-03-02', jurisdiction: '500112' }))
      .thenState((s) =>
        expect(s).toMatchObject({ profile: { validTo: '2026-03-02', jurisdiction: '500112' } }),
      );
  });

  it('treats an empty code list as the whole category and a name as optional', () => {
    const { name: _omitted, ...noName } = input;
    given(facilityDecider)
      .when({
        type: 'RegisterFacility',
        metadata,
        data: {
          facilityId: 'cq-1',
          profile: { ...noName, licensed: [{ category: 'HW08', annualCapacityTonnes: '1', wasteCodes: [] }] },
        },
      })
      .thenState((s) => {
        expect(s).toMatchObject({
          profile: { licensed: [{ category: 'HW08', annualCapacityKg: '1000.000' }] },
        });
        expect(s.status !== 'unregistered' && s.profile.name).toBeFalsy();
        expect(s.status !== 'unregistered' && 'wasteCodes' in s.profile.licensed[0]).toBe(false);
      });
  });
});

describe('facility update (history kept as events)', () => {
  it('records a licence renewal with what it changed', () => {
    given(facilityDecider, registered)
      .when(update({ licenceNumber: '渝危废经第500112002号', validTo: '2031-12-31' }, 'renewal'))
      .then({
        type: 'FacilityUpdated',
        data: {
          facilityId: 'cq-1',
          profile: { ...profile, licenceNumber: '渝危废经第500112002号', validTo: '2031-12-31' },
          changed: ['licenceNumber', 'validTo'],
          capacityChanges: [],
          reason: 'renewal',
        },
      });
  });

  it('records per-category capacity changes, including added and dropped categories', () => {
    given(facilityDecider, registered)
      .when(
        update({
          licensed: [
            { category: 'HW08', annualCapacityTonnes: '6000', wasteCodes: ['900-214-08', '900-249-08'] },
            { category: 'HW18', annualCapacityTonnes: '0.5' },
          ],
        }),
      )
      .then({
        type: 'FacilityUpdated',
        data: {
          facilityId: 'cq-1',
          profile: {
            ...profile,
            licensed: [
              { category: 'HW08', annualCapacityKg: '6000000.000', wasteCodes: ['900-214-08', '900-249-08'] },
              { category: 'HW18', annualCapacityKg: '500.000' },
            ],
          },
          changed: ['licensed'],
          capacityChanges: [
            { category: 'HW08', fromKg: '5000500.000', toKg: '6000000.000' },
            { category: 'HW18', fromKg: '0.000', toKg: '500.000' },
            { category: 'HW49', fromKg: '2000000.000', toKg: '0.000' },
          ],
        },
      });
  });

  it('records nothing when the licence is sent again as it stands (same values, other spelling)', () => {
    given(facilityDecider, registered)
      .when(
        update({
          coordinates: { lat: '29.718000', lon: '106.63' },
          operatorCreditCode: operator.toLowerCase(),
        }),
      )
      .thenNothing();
  });

  it('validates the changed fields with the registration rules', () => {
    given(facilityDecider, registered)
      .when(update({ licensed: [{ category: 'HW08', annualCapacityTonnes: '0' }] }))
      .thenThrows({ code: 'facility.capacity-not-positive', field: 'licensed[0].annualCapacityTonnes' });
    given(facilityDecider, registered)
      .when(update({ validFrom: '2029-01-01' }))
      .thenThrows({ code: 'facility.licence-window', field: 'validTo' });
    given(facilityDecider, registered)
      .when(update({ validTo: '2025-12-31' }))
      .thenThrows({ code: 'facility.licence-expired', field: 'validTo' });
  });

  it('lets an expired licence be corrected without renewing it', () => {
    const expired: FacilityEvent = {
      type: 'FacilityRegistered',
      data: { facilityId: 'cq-1', profile: { ...profile, validTo: '2025-12-31' } },
    };
    given(facilityDecider, expired)
      .when(update({ coordinates: { lat: '29.72', lon: '106.63' } }))
      .thenState((s) =>
        expect(s).toMatchObject({ profile: { coordinates: { lat: '29.72' }, validTo: '2025-12-31' } }),
      );
  });

  it('updates a suspended facility and keeps it suspended', () => {
    given(facilityDecider, registered, suspended)
      .when(update({ validTo: '2030-12-31' }))
      .thenState((s) => expect(s).toMatchObject({ status: 'suspended', profile: { validTo: '2030-12-31' } }));
  });

  it('refuses to update a facility never registered, or revoked', () => {
    given(facilityDecider)
      .when(update({ validTo: '2030-12-31' }))
      .thenThrows('facility.not-registered');
    given(facilityDecider, registered, revoked)
      .when(update({ validTo: '2030-12-31' }))
      .thenThrows({ code: 'facility.revoked', field: 'facilityId' });
  });
});

describe('facility suspension, reinstatement and revocation', () => {
  it('suspends with a reason, once', () => {
    given(facilityDecider, registered).when(suspend()).then(suspended);
    given(facilityDecider, registered, suspended).when(suspend()).thenNothing();
    given(facilityDecider, registered)
      .when(suspend(' '))
      .thenThrows({ code: 'facility.reason-required', field: 'reason' });
  });

  it('reinstates a suspended facility; an active one has nothing to reinstate', () => {
    given(facilityDecider, registered, suspended).when(reinstate).then(reinstated);
    given(facilityDecider, registered, suspended)
      .when({ ...reinstate, data: { facilityId: 'cq-1', reason: ' rectified ' } })
      .then({ type: 'FacilityReinstated', data: { facilityId: 'cq-1', reason: 'rectified' } });
    given(facilityDecider, registered, suspended, reinstated)
      .when(reinstate)
      .thenState({ status: 'active', facilityId: 'cq-1', profile });
    given(facilityDecider, registered).when(reinstate).thenNothing();
  });

  it('revokes from active or suspended, with a reason; revocation is final', () => {
    given(facilityDecider, registered).when(revoke()).then(revoked);
    given(facilityDecider, registered, suspended).when(revoke()).then(revoked);
    given(facilityDecider, registered).when(revoke('')).thenThrows('facility.reason-required');
    given(facilityDecider, registered, revoked).when(revoke()).thenNothing();
    given(facilityDecider, registered, revoked).when(reinstate).thenThrows('facility.revoked');
    given(facilityDecider, registered, revoked).when(suspend()).thenThrows('facility.revoked');
    given(facilityDecider, registered, revoked).when(register()).thenThrows('facility.already-registered');
  });

  it('refuses to suspend, reinstate or revoke a facility never registered', () => {
    given(facilityDecider).when(suspend()).thenThrows('facility.not-registered');
    given(facilityDecider).when(reinstate).thenThrows('facility.not-registered');
    given(facilityDecider).when(revoke()).thenThrows('facility.not-registered');
  });
});

describe('acceptsNewManifests / canTake / licensedCapacityKg', () => {
  const state = (...events: FacilityEvent[]): FacilityState => fold(facilityDecider, events);
  const active = state(registered);

  it('accepts new manifests only while active and within the licence, both ends included', () => {
    expect(acceptsNewManifests(active, '2024-01-01')).toBe(true);
    expect(acceptsNewManifests(active, LocalDate.parseOrThrow('2028-12-31'))).toBe(true);
    expect(acceptsNewManifests(active, '2023-12-31')).toBe(false);
    expect(acceptsNewManifests(active, '2029-01-01')).toBe(false);
    expect(acceptsNewManifests(state(registered, suspended), '2026-03-02')).toBe(false);
    expect(acceptsNewManifests(state(registered, suspended, reinstated), '2026-03-02')).toBe(true);
    expect(acceptsNewManifests(state(registered, revoked), '2026-03-02')).toBe(false);
    expect(acceptsNewManifests(facilityDecider.initialState(), '2026-03-02')).toBe(false);
  });

  it('takes a code of a wholly licensed category, or a listed code of a restricted one', () => {
    const on = '2026-03-02';
    expect(canTake(active, { wasteCode: '900-041-49', onDate: on })).toBe(true);
    expect(canTake(active, { wasteCode: '90024908', onDate: on })).toBe(true);
    expect(canTake(active, { wasteCode: WasteCode.parseOrThrow('900-214-08'), onDate: on })).toBe(true);
    expect(canTake(active, { wasteCode: '251-001-08', onDate: on })).toBe(false);
    expect(canTake(active, { wasteCode: '772-002-18', onDate: on })).toBe(false);
    expect(canTake(active, { wasteCode: '900-041-49', onDate: '2029-01-01' })).toBe(false);
    expect(canTake(state(registered, suspended), { wasteCode: '900-041-49', onDate: on })).toBe(false);
    expect(canTake(facilityDecider.initialState(), { wasteCode: '900-041-49', onDate: on })).toBe(false);
  });

  it('gives the licensed annual capacity of a category in kg, for the capacity ledger', () => {
    expect(licensedCapacityKg(active, 'hw08')).toBe('5000500.000');
    expect(licensedCapacityKg(active, 'HW18')).toBeUndefined();
    expect(licensedCapacityKg(facilityDecider.initialState(), 'HW08')).toBeUndefined();
  });
});
