import type { Identity } from '@lianfang/auth';
import { CreditCode } from '@lianfang/domain-kernel';
import { EVENT_STORE, type EventStore } from '@lianfang/eventsourcing';
import { useSubgraph } from '@lianfang/testing';
import { service } from '../service';
import { facilityStream } from './decider';

const chongqingClerk: Identity = {
  subject: 'wang.fang',
  agencyId: 'cq-eeb',
  agencyKind: 'provincial-bureau',
  jurisdiction: '500000',
  roles: ['clerk'],
};
const sichuanApprover: Identity = {
  subject: 'li.na',
  agencyId: 'sc-eeb',
  agencyKind: 'provincial-bureau',
  jurisdiction: '510000',
  roles: ['approver'],
};
const sichuanViewer: Identity = { ...sichuanApprover, subject: 'zhao.lei', roles: ['viewer'] };
const generator: Identity = {
  subject: 'chen.jie',
  agencyId: 'cq-gen-1',
  agencyKind: 'generator',
  jurisdiction: '500100',
  roles: ['clerk', 'admin'],
};

const operator = CreditCode.withCheckCharacter('91500000MA5U12345').value;
const input = (overrides: Record<string, unknown> = {}) => ({
  name: { zh: '重庆某危废处置中心', en: 'Chongqing Hazardous Waste Disposal Centre' },
  licenceNumber: '渝危废经第500112001号',
  operatorCreditCode: operator,
  jurisdiction: '500112',
  coordinates: { lat: '29.71800', lon: '106.63' },
  licensed: [
    { category: 'hw49', annualCapacityTonnes: '2000' },
    { category: 'HW08', annualCapacityTonnes: '5000.5', wasteCodes: ['900-249-08'] },
  ],
  validFrom: '2024-01-01',
  validTo: '2099-12-31',
  ...overrides,
});

const FIELDS = `id name { zh en } licenceNumber operatorCreditCode jurisdiction coordinates { lat lon }
  licensedCategories licensed { category annualCapacityKg wasteCodes } status statusReason validFrom validTo`;
const REGISTER = `mutation($key: String!, $input: RegisterFacilityInput!) {
  registerFacility(idempotencyKey: $key, input: $input) { ${FIELDS} } }`;
const SUSPEND = `mutation($key: String!, $id: ID!, $reason: String!) {
  suspendFacility(idempotencyKey: $key, facilityId: $id, reason: $reason) { id status statusReason } }`;
const REINSTATE = `mutation($key: String!, $id: ID!, $reason: String) {
  reinstateFacility(idempotencyKey: $key, facilityId: $id, reason: $reason) { id status statusReason } }`;

const UPDATE = `mutation($key: String!, $id: ID!, $input: UpdateFacilityInput!, $reason: String) {
  updateFacility(idempotencyKey: $key, facilityId: $id, input: $input, reason: $reason) { ${FIELDS} } }`;
const REVOKE = `mutation($key: String!, $id: ID!, $reason: String!) {
  revokeFacility(idempotencyKey: $key, facilityId: $id, reason: $reason) { id status statusReason } }`;

type Facility = { id: string; status: string; statusReason: string | null } & Record<string, unknown>;

describe('transfer-service: licensed facilities through GraphQL', () => {
  const subgraph = useSubgraph(service);
  const post = (query: string, variables: Record<string, unknown>, identity: Identity = chongqingClerk) =>
    subgraph.post<Record<string, Facility>>(query, { variables, identity });
  const eventsOf = async (facilityId: string) =>
    (
      await subgraph
        .running()
        .app.get<EventStore>(EVENT_STORE, { strict: false })
        .readStream(facilityStream(facilityId))
    ).events;

  it('registers a facility, answers with the stored licence, and any party reads it back', async () => {
    const { body } = await post(REGISTER, { key: 'reg-cq-1', input: input() });
    expect(body.errors).toBeUndefined();
    const facility = body.data?.registerFacility as Facility;
    expect(facility).toMatchObject({
      name: { zh: '重庆某危废处置中心', en: 'Chongqing Hazardous Waste Disposal Centre' },
      licenceNumber: '渝危废经第500112001号',
      operatorCreditCode: operator,
      jurisdiction: '500112',
      coordinates: { lat: '29.718', lon: '106.63' },
      licensedCategories: ['HW08', 'HW49'],
      licensed: [
        { category: 'HW08', annualCapacityKg: '5000500.000', wasteCodes: ['900-249-08'] },
        { category: 'HW49', annualCapacityKg: '2000000.000', wasteCodes: null },
      ],
      status: 'ACTIVE',
      statusReason: null,
      validFrom: '2024-01-01',
      validTo: '2099-12-31',
    });

    // Reference data: a Sichuan viewer and a generator read Chongqing's licence too.
    const one = await post(
      `query($id: ID!) { facility(id: $id) { ${FIELDS} } }`,
      { id: facility.id },
      sichuanViewer,
    );
    expect(one.body.data?.facility).toEqual(facility);
    const listed = await subgraph.post<{
      facilities: { totalCount: number; edges: { node: { id: string } }[] };
    }>('{ facilities(category: "hw08", jurisdiction: "500000") { totalCount edges { node { id } } } }', {
      identity: generator,
    });
    expect(listed.body.errors).toBeUndefined();
    expect(listed.body.data?.facilities.edges.map((e) => e.node.id)).toContain(facility.id);
    const elsewhere = await subgraph.post<{ facilities: { edges: { node: { id: string } }[] } }>(
      '{ facilities(jurisdiction: "510000") { edges { node { id } } } }',
      { identity: generator },
    );
    expect(elsewhere.body.data?.facilities.edges.map((e) => e.node.id)).not.toContain(facility.id);
    const entities = await post(
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on Facility { id status } } }`,
      { r: [{ __typename: 'Facility', id: facility.id }] },
    );
    expect(entities.body.data?._entities).toEqual([{ id: facility.id, status: 'ACTIVE' }]);
  });

  it('answers a retry with the same key with the same facility and records one event; a changed request is a conflict', async () => {
    const first = await post(REGISTER, { key: 'reg-cq-2', input: input({ licenceNumber: '渝危废经第2号' }) });
    const again = await post(REGISTER, { key: 'reg-cq-2', input: input({ licenceNumber: '渝危废经第2号' }) });
    expect(first.body.errors).toBeUndefined();
    expect(again.body.data?.registerFacility).toEqual(first.body.data?.registerFacility);
    const id = (first.body.data?.registerFacility as Facility).id;
    expect((await eventsOf(id)).map((e) => e.type)).toEqual(['FacilityRegistered']);

    const changed = await post(REGISTER, {
      key: 'reg-cq-2',
      input: input({ licenceNumber: '渝危废经第3号' }),
    });
    expect(changed.body.data).toBeNull();
    expect(changed.body.errors?.[0].extensions).toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
      field: 'idempotencyKey',
    });
    expect(await eventsOf(id)).toHaveLength(1);
  });

  it("refuses the decider's refusals as typed errors naming the field", async () => {
    const zero = await post(REGISTER, {
      key: 'reg-cq-zero',
      input: input({ licensed: [{ category: 'HW49', annualCapacityTonnes: '0' }] }),
    });
    expect(zero.body.errors?.[0].extensions).toMatchObject({
      code: 'facility.capacity-not-positive',
      category: 'BUSINESS_RULE',
      field: 'licensed[0].annualCapacityTonnes',
    });
    const province = await post(REGISTER, {
      key: 'reg-cq-province',
      input: input({ jurisdiction: '500000' }),
    });
    expect(province.body.errors?.[0].extensions).toMatchObject({
      code: 'facility.jurisdiction-not-city',
      field: 'jurisdiction',
    });
  });

  it('suspends and reinstates a facility, each answering the changed status', async () => {
    const registered = await post(REGISTER, {
      key: 'reg-cq-4',
      input: input({ licenceNumber: '渝危废经第4号' }),
    });
    const id = (registered.body.data?.registerFacility as Facility).id;

    const suspended = await post(SUSPEND, { key: 'susp-cq-4', id, reason: '环评整改 / rectification' });
    expect(suspended.body.errors).toBeUndefined();
    expect(suspended.body.data?.suspendFacility).toEqual({
      id,
      status: 'SUSPENDED',
      statusReason: '环评整改 / rectification',
    });

    const reinstated = await post(REINSTATE, { key: 'rein-cq-4', id, reason: '整改完成 / rectified' });
    expect(reinstated.body.errors).toBeUndefined();
    expect(reinstated.body.data?.reinstateFacility).toEqual({ id, status: 'ACTIVE', statusReason: null });
    expect((await eventsOf(id)).map((e) => e.type)).toEqual([
      'FacilityRegistered',
      'FacilitySuspended',
      'FacilityReinstated',
    ]);

    const unknown = await post(SUSPEND, { key: 'susp-none', id: 'no-such-facility', reason: 'x' });
    expect(unknown.body.errors?.[0].extensions).toMatchObject({
      code: 'facility.not-registered',
      field: 'facilityId',
    });
  });

  it('lets only the provincial bureau whose province holds the facility register, suspend or reinstate it', async () => {
    // Chongqing cannot license a Sichuan facility…
    const sichuanFacility = input({ jurisdiction: '510100', licenceNumber: '川危废经第1号' });
    const byChongqing = await post(REGISTER, { key: 'reg-sc-by-cq', input: sichuanFacility });
    expect(byChongqing.body.data).toBeNull();
    expect(byChongqing.body.errors?.[0].extensions).toMatchObject({
      category: 'FORBIDDEN',
      rule: 'facility.manage',
    });
    // …Sichuan can.
    const bySichuan = await post(REGISTER, { key: 'reg-sc-1', input: sichuanFacility }, sichuanApprover);
    expect(bySichuan.body.errors).toBeUndefined();
    const id = (bySichuan.body.data?.registerFacility as Facility).id;

    // A generator cannot register at all, nor a bureau's viewer.
    for (const who of [generator, sichuanViewer]) {
      const refused = await post(REGISTER, { key: `reg-by-${who.subject}`, input: input() }, who);
      expect(refused.body.errors?.[0].extensions).toMatchObject({
        category: 'FORBIDDEN',
        rule: 'facility.manage',
      });
    }

    // Chongqing cannot suspend Sichuan's facility: it stays active with one event.
    const suspend = await post(SUSPEND, { key: 'susp-sc-by-cq', id, reason: '越权 / out of scope' });
    expect(suspend.body.errors?.[0].extensions).toMatchObject({
      category: 'FORBIDDEN',
      rule: 'facility.manage',
    });
    const reinstate = await post(REINSTATE, { key: 'rein-sc-by-cq', id, reason: null });
    expect(reinstate.body.errors?.[0].extensions).toMatchObject({ category: 'FORBIDDEN' });
    expect((await eventsOf(id)).map((e) => e.type)).toEqual(['FacilityRegistered']);
  });

  const register = async (
    key: string,
    overrides: Record<string, unknown>,
    who: Identity = chongqingClerk,
  ) => {
    const { body } = await post(REGISTER, { key, input: input(overrides) }, who);
    expect(body.errors).toBeUndefined();
    return (body.data?.registerFacility as Facility).id;
  };

  it('updates a licence with the fields given, records what changed and answers the updated record', async () => {
    const id = await register('reg-cq-upd', { licenceNumber: '渝危废经第5号' });
    const renewed = await post(UPDATE, {
      key: 'upd-cq-5',
      id,
      input: {
        validTo: '2100-06-30',
        licensed: [{ category: 'HW08', annualCapacityTonnes: '6000', wasteCodes: ['900-249-08'] }],
      },
      reason: '换证 / licence renewed',
    });
    expect(renewed.body.errors).toBeUndefined();
    expect(renewed.body.data?.updateFacility).toMatchObject({
      id,
      licenceNumber: '渝危废经第5号',
      validTo: '2100-06-30',
      licensedCategories: ['HW08'],
      licensed: [{ category: 'HW08', annualCapacityKg: '6000000.000', wasteCodes: ['900-249-08'] }],
      status: 'ACTIVE',
    });
    const events = await eventsOf(id);
    expect(events.map((e) => e.type)).toEqual(['FacilityRegistered', 'FacilityUpdated']);
    expect(events[1].data).toMatchObject({
      changed: ['licensed', 'validTo'],
      capacityChanges: [
        { category: 'HW08', fromKg: '5000500.000', toKg: '6000000.000' },
        { category: 'HW49', fromKg: '2000000.000', toKg: '0.000' },
      ],
      reason: '换证 / licence renewed',
    });
    expect(events[1].metadata.actor).toMatchObject({ kind: 'user', userId: 'wang.fang', agencyId: 'cq-eeb' });

    // The same key again: the same answer, nothing more stored; the licence as it stands: nothing recorded.
    const retry = await post(UPDATE, {
      key: 'upd-cq-5',
      id,
      input: {
        validTo: '2100-06-30',
        licensed: [{ category: 'HW08', annualCapacityTonnes: '6000', wasteCodes: ['900-249-08'] }],
      },
      reason: '换证 / licence renewed',
    });
    expect(retry.body.data?.updateFacility).toEqual(renewed.body.data?.updateFacility);
    const same = await post(UPDATE, { key: 'upd-cq-5-again', id, input: { validTo: '2100-06-30' } });
    expect(same.body.errors).toBeUndefined();
    expect(await eventsOf(id)).toHaveLength(2);
  });

  it("refuses a bad update naming the field and rule, and an update out of the caller's province", async () => {
    const id = await register('reg-cq-upd-bad', { licenceNumber: '渝危废经第6号' });
    const badCode = await post(UPDATE, {
      key: 'upd-bad-1',
      id,
      input: { operatorCreditCode: '91500000MA5U1234X' },
    });
    expect(badCode.body.data).toBeNull();
    expect(badCode.body.errors?.[0].extensions).toMatchObject({
      category: 'BUSINESS_RULE',
      field: 'operatorCreditCode',
      messages: { zh: expect.any(String), en: expect.any(String) },
    });
    const window = await post(UPDATE, { key: 'upd-bad-2', id, input: { validTo: '2020-01-01' } });
    expect(window.body.errors?.[0].extensions).toMatchObject({
      code: 'facility.licence-window',
      field: 'validTo',
    });
    const unknown = await post(UPDATE, { key: 'upd-bad-3', id: 'no-such', input: { validTo: '2100-01-01' } });
    expect(unknown.body.errors?.[0].extensions).toMatchObject({ code: 'facility.not-registered' });
    // Sichuan may not touch a Chongqing licence, nor move one of its own into Chongqing.
    const bySichuan = await post(
      UPDATE,
      { key: 'upd-by-sc', id, input: { validTo: '2100-01-01' } },
      sichuanApprover,
    );
    expect(bySichuan.body.errors?.[0].extensions).toMatchObject({
      category: 'FORBIDDEN',
      rule: 'facility.manage',
    });
    const generatorTry = await post(
      UPDATE,
      { key: 'upd-by-gen', id, input: { validTo: '2100-01-01' } },
      generator,
    );
    expect(generatorTry.body.errors?.[0].extensions).toMatchObject({ category: 'FORBIDDEN' });
    expect((await eventsOf(id)).map((e) => e.type)).toEqual(['FacilityRegistered']);
  });

  it('revokes a licence for good: later changes are refused, a repeat records nothing', async () => {
    const id = await register('reg-cq-rev', { licenceNumber: '渝危废经第7号' });
    const noReason = await post(REVOKE, { key: 'rev-cq-7-blank', id, reason: '  ' });
    expect(noReason.body.errors?.[0].extensions).toMatchObject({
      code: 'facility.reason-required',
      field: 'reason',
    });
    const bySichuan = await post(REVOKE, { key: 'rev-by-sc', id, reason: '越权' }, sichuanApprover);
    expect(bySichuan.body.errors?.[0].extensions).toMatchObject({
      category: 'FORBIDDEN',
      rule: 'facility.manage',
    });

    const revoked = await post(REVOKE, { key: 'rev-cq-7', id, reason: '伪造台账 / falsified records' });
    expect(revoked.body.errors).toBeUndefined();
    expect(revoked.body.data?.revokeFacility).toEqual({
      id,
      status: 'REVOKED',
      statusReason: '伪造台账 / falsified records',
    });
    const again = await post(REVOKE, { key: 'rev-cq-7-again', id, reason: '再次 / again' });
    expect(again.body.data?.revokeFacility).toMatchObject({ status: 'REVOKED' });

    for (const [query, variables] of [
      [REINSTATE, { key: 'rein-after-rev', id, reason: null }],
      [SUSPEND, { key: 'susp-after-rev', id, reason: '暂停' }],
      [UPDATE, { key: 'upd-after-rev', id, input: { validTo: '2100-01-01' } }],
    ] as const) {
      const refused = await post(query, variables);
      expect(refused.body.errors?.[0].extensions).toMatchObject({
        code: 'facility.revoked',
        field: 'facilityId',
      });
    }
    const events = await eventsOf(id);
    expect(events.map((e) => e.type)).toEqual(['FacilityRegistered', 'FacilityRevoked']);
    const listed = await subgraph.post<{ facility: { status: string } }>(
      `query($id: ID!) { facility(id: $id) { status } }`,
      { variables: { id }, identity: generator },
    );
    expect(listed.body.data?.facility.status).toBe('REVOKED');
  });
});
