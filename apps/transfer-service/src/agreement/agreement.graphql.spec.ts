import type { Identity } from '@lianfang/auth';
import { EVENT_STORE, type EventStore } from '@lianfang/eventsourcing';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import { useSubgraph } from '@lianfang/testing';
import { PUBLISHED } from '../common/published';
import { service } from '../service';
import { agreementStream } from './decider';

const secretariat: Identity = {
  subject: 'zhou.min',
  agencyId: 'chengyu-secretariat',
  agencyKind: 'regional-secretariat',
  jurisdiction: '510000',
  roles: ['clerk'],
};
const sichuan: Identity = {
  subject: 'li.na',
  agencyId: 'sc-eeb',
  agencyKind: 'provincial-bureau',
  jurisdiction: '510000',
  roles: ['approver'],
};
const chongqing: Identity = {
  subject: 'wang.fang',
  agencyId: 'cq-eeb',
  agencyKind: 'provincial-bureau',
  jurisdiction: '500000',
  roles: ['approver'],
};
const chongqingClerk: Identity = { ...chongqing, subject: 'he.jun', roles: ['clerk'] };
/** A bureau of a province that is no member of the Sichuan–Chongqing agreements. */
const yunnan: Identity = {
  subject: 'duan.li',
  agencyId: 'yn-eeb',
  agencyKind: 'provincial-bureau',
  jurisdiction: '530000',
  roles: ['approver'],
};
const sichuanFinance: Identity = {
  subject: 'qian.yu',
  agencyId: 'sc-finance',
  agencyKind: 'finance-office',
  jurisdiction: '510000',
  roles: ['viewer'],
};
const generator: Identity = {
  subject: 'chen.jie',
  agencyId: 'cd-jincheng-auto',
  agencyKind: 'generator',
  jurisdiction: '510100',
  roles: ['clerk', 'admin'],
};

const clauses = (overrides: Record<string, unknown> = {}) => ({
  whitelist: [
    {
      entryId: 'wl-2026-01',
      exportingMember: '510000',
      receivingFacilityId: 'fac-cq-yuhuan',
      wasteCodes: ['900-249-08', '90021408'],
      tonnes: '500',
      year: 2026,
    },
  ],
  compensationRates: [
    {
      wasteClassOrCategory: 'hw08',
      yuanPerTonne: '150.5',
      payer: '510000',
      payees: [{ jurisdiction: '500000', shareBasisPoints: 10000 }],
      from: '2026-01-01',
      to: null,
    },
  ],
  tolerance: { percent: '2.5', kg: '50' },
  maxTransitDays: 2,
  dataSharing: [{ agencyKind: 'transport-department', scope: 'manifests' }],
  ...overrides,
});

const proposal = (agreementId: string, overrides: Record<string, unknown> = {}) => ({
  agreementId,
  title: { zh: '川渝危险废物跨省转移白名单合作协议', en: 'Sichuan–Chongqing whitelist agreement' },
  members: ['510000', '500000'],
  effectiveFrom: '2026-01-01',
  validUntil: '2026-12-31',
  clauses: clauses(),
  ...overrides,
});

const CLAUSES = `whitelist { entryId exportingMember receivingFacilityId wasteCodes quantityKg tonnes year }
  compensationRates { wasteClassOrCategory fenPerTonne yuanPerTonne payer payees { jurisdiction shareBasisPoints } from to }
  tolerance { percentBasisPoints kg } maxTransitDays dataSharing { member agencyKind scope }`;
const FIELDS = `id title { zh en } status secretariatId members effectiveFrom validUntil
  signatures { member signed signedAt } rejection { member reason }
  versions { effectiveFrom amendmentId clauses { whitelist { entryId quantityKg } } }
  pendingAmendment { amendmentId effectiveFrom signatures { member signed } }
  nextActions { code label { zh en } dueAt }`;
const PROPOSE = `mutation($key: String!, $input: ProposeAgreementInput!) {
  proposeAgreement(idempotencyKey: $key, input: $input) { ${FIELDS} proposedClauses { ${CLAUSES} } } }`;
const SIGN = `mutation($key: String!, $id: ID!, $member: JurisdictionCode) {
  signAgreement(idempotencyKey: $key, agreementId: $id, member: $member) { ${FIELDS} } }`;
const REJECT = `mutation($key: String!, $id: ID!, $reason: String!) {
  rejectAgreement(idempotencyKey: $key, agreementId: $id, reason: $reason) { ${FIELDS} } }`;
const AMEND = `mutation($key: String!, $input: ProposeAgreementAmendmentInput!) {
  proposeAmendment(idempotencyKey: $key, input: $input) { ${FIELDS} } }`;
const SIGN_AMENDMENT = `mutation($key: String!, $id: ID!, $amendmentId: ID!) {
  signAmendment(idempotencyKey: $key, agreementId: $id, amendmentId: $amendmentId) { ${FIELDS} } }`;
const REJECT_AMENDMENT = `mutation($key: String!, $id: ID!, $amendmentId: ID!, $reason: String!) {
  rejectAmendment(idempotencyKey: $key, agreementId: $id, amendmentId: $amendmentId, reason: $reason) { ${FIELDS} } }`;
const EXPIRE = `mutation($key: String!, $id: ID!) { expireAgreement(idempotencyKey: $key, agreementId: $id) { ${FIELDS} } }`;
const ONE = `query($id: ID!) { agreement(id: $id) { ${FIELDS} } }`;

type Agreement = {
  id: string;
  status: string;
  signatures: { member: string; signed: boolean; signedAt: string | null }[];
  nextActions: { code: string; label: { zh: string; en: string }; dueAt: string | null }[];
} & Record<string, unknown>;
type Extensions = Record<string, unknown>;

describe('transfer-service: regional agreements through GraphQL', () => {
  const subgraph = useSubgraph(service);
  const post = <D = Record<string, Agreement>>(
    query: string,
    variables: Record<string, unknown>,
    identity: Identity,
  ) => subgraph.post<D>(query, { variables, identity });
  const store = () => subgraph.running().app.get<EventStore>(EVENT_STORE, { strict: false });
  const eventsOf = async (id: string) =>
    (await store().readStream(agreementStream(id))).events.map((e) => e.type);
  const outboxOf = async (id: string) => {
    const platform = subgraph.running().app.get<Platform>(PLATFORM, { strict: false });
    const { rows } = await platform.sql.query<{ type: string; payload: unknown }>(
      `SELECT type, payload FROM ${platform.schema}.outbox WHERE key = $1 ORDER BY id`,
      [agreementStream(id)],
    );
    return rows.map((r) => ({
      type: r.type,
      payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Record<string, unknown>,
    }));
  };
  const errorOf = (body: { errors?: { extensions: Extensions }[] }) => body.errors?.[0]?.extensions;

  /** Proposed by the secretariat and signed by both members. */
  async function adopt(id: string, overrides: Record<string, unknown> = {}): Promise<Agreement> {
    const proposed = await post(PROPOSE, { key: `p-${id}`, input: proposal(id, overrides) }, secretariat);
    expect(proposed.body.errors).toBeUndefined();
    await post(SIGN, { key: `s-sc-${id}`, id }, sichuan);
    const adopted = await post(SIGN, { key: `s-cq-${id}`, id }, chongqing);
    expect(adopted.body.errors).toBeUndefined();
    return adopted.body.data?.signAgreement as Agreement;
  }

  it('adopts an agreement once every member has signed, and publishes AgreementAdopted per its contract', async () => {
    const proposed = await post(PROPOSE, { key: 'p-ag-1', input: proposal('ag-1') }, secretariat);
    expect(proposed.body.errors).toBeUndefined();
    expect(proposed.body.data?.proposeAgreement).toMatchObject({
      id: 'ag-1',
      status: 'PROPOSED',
      secretariatId: 'chengyu-secretariat',
      members: ['510000', '500000'],
      signatures: [
        { member: '510000', signed: false, signedAt: null },
        { member: '500000', signed: false, signedAt: null },
      ],
      versions: [],
      // The secretariat has nothing to do while the members answer.
      nextActions: [],
      proposedClauses: {
        whitelist: [
          {
            entryId: 'wl-2026-01',
            wasteCodes: ['900-249-08', '900-214-08'],
            quantityKg: '500000.000',
            tonnes: '500.000000',
            year: 2026,
          },
        ],
        compensationRates: [
          {
            wasteClassOrCategory: 'HW08',
            fenPerTonne: '15050',
            yuanPerTonne: '150.50',
            payer: '510000',
            payees: [{ jurisdiction: '500000', shareBasisPoints: 10000 }],
            from: '2026-01-01',
            to: null,
          },
        ],
        tolerance: { percentBasisPoints: 250, kg: '50.000' },
        maxTransitDays: 2,
        dataSharing: [{ member: null, agencyKind: 'transport-department', scope: 'manifests' }],
      },
    });

    // Each member's approver sees what awaits its signature.
    const waiting = await post(ONE, { id: 'ag-1' }, sichuan);
    expect(waiting.body.data?.agreement.nextActions.map((a) => a.code)).toEqual([
      'SIGN_AGREEMENT',
      'REJECT_AGREEMENT',
    ]);

    const first = await post(SIGN, { key: 's-sc-ag-1', id: 'ag-1' }, sichuan);
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data?.signAgreement).toMatchObject({ status: 'PROPOSED', nextActions: [] });
    expect(first.body.data?.signAgreement.signatures[0]).toMatchObject({ member: '510000', signed: true });
    expect(first.body.data?.signAgreement.signatures[0].signedAt).toEqual(expect.any(String));
    // A retry with the same key answers the same and stores nothing more.
    const retry = await post(SIGN, { key: 's-sc-ag-1', id: 'ag-1' }, sichuan);
    expect(retry.body.data?.signAgreement).toEqual(first.body.data?.signAgreement);

    const last = await post(SIGN, { key: 's-cq-ag-1', id: 'ag-1' }, chongqing);
    expect(last.body.errors).toBeUndefined();
    expect(last.body.data?.signAgreement).toMatchObject({
      status: 'ADOPTED',
      versions: [
        {
          effectiveFrom: '2026-01-01',
          amendmentId: null,
          clauses: { whitelist: [{ entryId: 'wl-2026-01' }] },
        },
      ],
    });
    expect(await eventsOf('ag-1')).toEqual([
      'AgreementProposed',
      'AgreementSigned',
      'AgreementSigned',
      'AgreementAdopted',
    ]);

    const inForce = await post<{ agreement: { clausesInForce: unknown; before: unknown } }>(
      `query($id: ID!) { agreement(id: $id) {
        clausesInForce(onDate: "2026-03-01") { effectiveFrom amendmentId clauses { compensationRates { fenPerTonne } } }
        before: clausesInForce(onDate: "2025-12-31") { effectiveFrom } } }`,
      { id: 'ag-1' },
      sichuanFinance,
    );
    expect(inForce.body.data?.agreement).toEqual({
      clausesInForce: {
        effectiveFrom: '2026-01-01',
        amendmentId: null,
        clauses: { compensationRates: [{ fenPerTonne: '15050' }] },
      },
      before: null,
    });

    const outbox = await outboxOf('ag-1');
    expect(outbox.map((m) => m.type)).toEqual(['AgreementAdopted']);
    expect(PUBLISHED.validate(outbox[0].payload)).toMatchObject({ ok: true });
    expect(outbox[0].payload.data).toEqual({
      agreementId: 'ag-1',
      title: { zh: '川渝危险废物跨省转移白名单合作协议', en: 'Sichuan–Chongqing whitelist agreement' },
      members: ['510000', '500000'],
      effectiveFrom: '2026-01-01',
      effectiveTo: '2026-12-31',
      whitelist: [
        {
          entryId: 'wl-2026-01',
          exportingMember: '510000',
          receivingFacilityId: 'fac-cq-yuhuan',
          wasteCodes: ['900-249-08', '900-214-08'],
          quantityKg: '500000.000',
          year: 2026,
        },
      ],
      rateSchedules: [
        {
          wasteClassOrCategory: 'HW08',
          fenPerTonne: '15050',
          payer: '510000',
          payees: [{ jurisdiction: '500000', shareBasisPoints: 10000 }],
          from: '2026-01-01',
          to: null,
        },
      ],
      discrepancyTolerance: { percentBasisPoints: 250, kg: '50.000' },
      maxTransitDays: 2,
    });
  });

  it('refuses a non-member, a bureau signing for another province, a clerk and a generator', async () => {
    await post(PROPOSE, { key: 'p-ag-2', input: proposal('ag-2') }, secretariat);

    const nonMember = await post(SIGN, { key: 's-yn-ag-2', id: 'ag-2' }, yunnan);
    expect(nonMember.body.data).toBeNull();
    expect(errorOf(nonMember.body)).toMatchObject({ category: 'FORBIDDEN', rule: 'agreement.sign' });

    const forOther = await post(SIGN, { key: 's-sc-for-cq', id: 'ag-2', member: '500000' }, sichuan);
    expect(errorOf(forOther.body)).toMatchObject({ category: 'FORBIDDEN', rule: 'agreement.sign' });
    expect(forOther.body.errors?.[0].message).toContain('500000');

    const clerk = await post(SIGN, { key: 's-cq-clerk', id: 'ag-2' }, chongqingClerk);
    expect(errorOf(clerk.body)).toMatchObject({ category: 'FORBIDDEN', rule: 'agreement.sign' });
    const enterprise = await post(SIGN, { key: 's-gen', id: 'ag-2' }, generator);
    expect(errorOf(enterprise.body)).toMatchObject({ category: 'FORBIDDEN', rule: 'agreement.sign' });

    // Only the secretariat proposes, and only among the jurisdictions of its region.
    const byBureau = await post(PROPOSE, { key: 'p-by-sc', input: proposal('ag-by-sc') }, sichuan);
    expect(errorOf(byBureau.body)).toMatchObject({ category: 'FORBIDDEN', rule: 'agreement.propose' });
    const outside = await post(
      PROPOSE,
      { key: 'p-yn', input: proposal('ag-yn', { members: ['510000', '530000'] }) },
      secretariat,
    );
    expect(errorOf(outside.body)).toMatchObject({ category: 'FORBIDDEN', rule: 'agreement.propose' });
    expect(await eventsOf('ag-yn')).toEqual([]);
    expect(await eventsOf('ag-by-sc')).toEqual([]);

    expect(await eventsOf('ag-2')).toEqual(['AgreementProposed']);
  });

  it('refuses invalid clauses with a typed error naming the field, and stores nothing', async () => {
    const shares = await post(
      PROPOSE,
      {
        key: 'p-bad-shares',
        input: proposal('ag-bad-1', {
          clauses: clauses({
            compensationRates: [
              {
                wasteClassOrCategory: 'HW08',
                yuanPerTonne: '150',
                payer: '510000',
                payees: [{ jurisdiction: '500000', shareBasisPoints: 9000 }],
                from: '2026-01-01',
              },
            ],
          }),
        }),
      },
      secretariat,
    );
    expect(shares.body.data).toBeNull();
    expect(errorOf(shares.body)).toMatchObject({
      code: 'agreement.shares-not-100-percent',
      category: 'BUSINESS_RULE',
      field: 'clauses.compensationRates[0].payees',
    });
    expect(shares.body.errors?.[0].message).toMatch(/100%/);

    const several = await post(
      PROPOSE,
      {
        key: 'p-bad-many',
        input: proposal('ag-bad-2', {
          clauses: clauses({
            whitelist: [{ ...clauses().whitelist[0], tonnes: '-3' }],
            compensationRates: [{ ...clauses().compensationRates[0], yuanPerTonne: '150.555' }],
            maxTransitDays: 0,
          }),
        }),
      },
      secretariat,
    );
    const extensions = errorOf(several.body) as { field: string; details: { errors: { field: string }[] } };
    expect(extensions.field).toBe('clauses.whitelist[0].tonnes');
    expect(extensions.details.errors.map((e) => e.field)).toEqual([
      'clauses.whitelist[0].tonnes',
      'clauses.compensationRates[0].yuanPerTonne',
      'clauses.maxTransitDays',
    ]);

    const term = await post(
      PROPOSE,
      { key: 'p-bad-term', input: proposal('ag-bad-3', { validUntil: '2025-06-30' }) },
      secretariat,
    );
    expect(errorOf(term.body)).toMatchObject({ code: 'agreement.term-order', field: 'validUntil' });

    for (const id of ['ag-bad-1', 'ag-bad-2', 'ag-bad-3']) expect(await eventsOf(id)).toEqual([]);
  });

  it('adopts an amendment signed by all and publishes AgreementAmended; a rejected one changes nothing', async () => {
    await adopt('ag-3');
    const amendment = {
      agreementId: 'ag-3',
      amendmentId: 'am-3-1',
      effectiveFrom: '2026-07-01',
      clauses: clauses({ whitelist: [{ ...clauses().whitelist[0], tonnes: '650' }] }),
    };
    // A member's bureau does not amend: the secretariat does.
    const byBureau = await post(AMEND, { key: 'am-by-cq', input: amendment }, chongqing);
    expect(errorOf(byBureau.body)).toMatchObject({ category: 'FORBIDDEN', rule: 'agreement.keep' });

    const proposed = await post(AMEND, { key: 'am-3-1', input: amendment }, secretariat);
    expect(proposed.body.errors).toBeUndefined();
    expect(proposed.body.data?.proposeAmendment).toMatchObject({
      status: 'ADOPTED',
      pendingAmendment: {
        amendmentId: 'am-3-1',
        effectiveFrom: '2026-07-01',
        signatures: [
          { member: '510000', signed: false },
          { member: '500000', signed: false },
        ],
      },
    });
    const waiting = await post(ONE, { id: 'ag-3' }, chongqing);
    expect(waiting.body.data?.agreement.nextActions.map((a) => a.code)).toEqual([
      'SIGN_AMENDMENT',
      'REJECT_AMENDMENT',
    ]);

    await post(SIGN_AMENDMENT, { key: 'sa-sc', id: 'ag-3', amendmentId: 'am-3-1' }, sichuan);
    const amended = await post(
      SIGN_AMENDMENT,
      { key: 'sa-cq', id: 'ag-3', amendmentId: 'am-3-1' },
      chongqing,
    );
    expect(amended.body.errors).toBeUndefined();
    expect(amended.body.data?.signAmendment).toMatchObject({
      status: 'ADOPTED',
      pendingAmendment: null,
      versions: [
        {
          effectiveFrom: '2026-01-01',
          amendmentId: null,
          clauses: { whitelist: [{ quantityKg: '500000.000' }] },
        },
        {
          effectiveFrom: '2026-07-01',
          amendmentId: 'am-3-1',
          clauses: { whitelist: [{ quantityKg: '650000.000' }] },
        },
      ],
    });

    const outbox = await outboxOf('ag-3');
    expect(outbox.map((m) => m.type)).toEqual(['AgreementAdopted', 'AgreementAmended']);
    for (const message of outbox) expect(PUBLISHED.validate(message.payload)).toMatchObject({ ok: true });
    expect(outbox[1].payload.data).toMatchObject({
      agreementId: 'ag-3',
      amendmentId: 'am-3-1',
      amendmentEffectiveDate: '2026-07-01',
      effectiveFrom: '2026-01-01',
      effectiveTo: '2026-12-31',
      whitelist: [{ entryId: 'wl-2026-01', quantityKg: '650000.000' }],
    });

    // A second amendment that Chongqing rejects: the clauses stay as they were.
    await post(
      AMEND,
      { key: 'am-3-2', input: { ...amendment, amendmentId: 'am-3-2', effectiveFrom: '2026-10-01' } },
      secretariat,
    );
    const noReason = await post(
      REJECT_AMENDMENT,
      { key: 'ra-cq-0', id: 'ag-3', amendmentId: 'am-3-2', reason: ' ' },
      chongqing,
    );
    expect(errorOf(noReason.body)).toMatchObject({ code: 'agreement.reason-required', field: 'reason' });
    const rejected = await post(
      REJECT_AMENDMENT,
      { key: 'ra-cq', id: 'ag-3', amendmentId: 'am-3-2', reason: '数量未经论证 / quantity not justified' },
      chongqing,
    );
    expect(rejected.body.errors).toBeUndefined();
    expect(rejected.body.data?.rejectAmendment).toMatchObject({ pendingAmendment: null });
    expect((rejected.body.data?.rejectAmendment.versions as unknown[]).length).toBe(2);
    expect((await outboxOf('ag-3')).length).toBe(2);
  });

  it('ends an agreement by rejection or by expiry, and says so in nextActions', async () => {
    await post(PROPOSE, { key: 'p-ag-4', input: proposal('ag-4') }, secretariat);
    const rejected = await post(
      REJECT,
      { key: 'r-cq-ag-4', id: 'ag-4', reason: '费率过低 / rate too low' },
      chongqing,
    );
    expect(rejected.body.data?.rejectAgreement).toMatchObject({
      status: 'REJECTED',
      rejection: { member: '500000', reason: '费率过低 / rate too low' },
      nextActions: [],
    });

    // A term already over: the secretariat may record the expiry from the day after its last day.
    const past = await adopt('ag-5', {
      effectiveFrom: '2024-01-01',
      validUntil: '2024-12-31',
      clauses: clauses({
        whitelist: [{ ...clauses().whitelist[0], entryId: 'wl-2024-01', year: 2024 }],
        compensationRates: [{ ...clauses().compensationRates[0], from: '2024-01-01' }],
      }),
    });
    expect(past.status).toBe('ADOPTED');
    const keeper = await post(ONE, { id: 'ag-5' }, secretariat);
    expect(keeper.body.data?.agreement.nextActions).toEqual([
      { code: 'PROPOSE_AMENDMENT', label: { zh: '提出协议修订', en: 'propose an amendment' }, dueAt: null },
      {
        code: 'EXPIRE_AGREEMENT',
        label: { zh: '宣告协议到期', en: "record the agreement's expiry" },
        dueAt: '2024-12-31T16:00:00.000Z',
      },
    ]);
    const byBureau = await post(EXPIRE, { key: 'e-sc-ag-5', id: 'ag-5' }, sichuan);
    expect(errorOf(byBureau.body)).toMatchObject({ category: 'FORBIDDEN', rule: 'agreement.keep' });
    const expired = await post(EXPIRE, { key: 'e-ag-5', id: 'ag-5' }, secretariat);
    expect(expired.body.errors).toBeUndefined();
    expect(expired.body.data?.expireAgreement).toMatchObject({ status: 'EXPIRED', nextActions: [] });
  });

  it('shows agreements to members’ bureaus, their finance offices and the secretariat only, in lists, history, asOf and _entities', async () => {
    await adopt('ag-6');
    const LIST = `query($filter: AgreementFilter, $first: Int, $after: String) {
      agreements(filter: $filter, first: $first, after: $after) { totalCount edges { node { id status } } pageInfo { hasNextPage endCursor } } }`;
    type List = { agreements: { totalCount: number; edges: { node: { id: string; status: string } }[] } };
    const ids = async (who: Identity, filter: Record<string, unknown> = {}) => {
      const { body } = await post<List>(LIST, { filter }, who);
      expect(body.errors).toBeUndefined();
      return body.data!.agreements.edges.map((e) => e.node.id);
    };
    for (const who of [secretariat, sichuan, chongqing, sichuanFinance])
      expect(await ids(who)).toContain('ag-6');
    expect(await ids(yunnan)).toEqual([]);
    const { body: counted } = await post<List>(LIST, {}, yunnan);
    expect(counted.data?.agreements.totalCount).toBe(0);
    const refused = await post<List>(LIST, {}, generator);
    expect(errorOf(refused.body)).toMatchObject({ category: 'FORBIDDEN', rule: 'agreement.read' });

    // Filters: status, member, in force on a day.
    expect(await ids(sichuan, { status: 'ADOPTED', member: '500000', onDate: '2026-05-01' })).toContain(
      'ag-6',
    );
    expect(await ids(sichuan, { onDate: '2027-01-01' })).not.toContain('ag-6');
    expect(await ids(sichuan, { status: 'PROPOSED' })).not.toContain('ag-6');
    expect(await ids(sichuan, { member: '530000' })).toEqual([]);

    expect((await post(ONE, { id: 'ag-6' }, yunnan)).body.data?.agreement).toBeNull();

    const HISTORY = `query($id: ID!) { agreementHistory(id: $id) { type actor { kind agencyId } } }`;
    type History = { agreementHistory: { type: string; actor: { agencyId: string } }[] };
    const history = await post<History>(HISTORY, { id: 'ag-6' }, chongqing);
    expect(history.body.data?.agreementHistory).toEqual([
      { type: 'AgreementProposed', actor: { kind: 'user', agencyId: 'chengyu-secretariat' } },
      { type: 'AgreementSigned', actor: { kind: 'user', agencyId: 'sc-eeb' } },
      { type: 'AgreementSigned', actor: { kind: 'user', agencyId: 'cq-eeb' } },
      { type: 'AgreementAdopted', actor: { kind: 'user', agencyId: 'cq-eeb' } },
    ]);
    const hiddenHistory = await post<History>(HISTORY, { id: 'ag-6' }, yunnan);
    expect(errorOf(hiddenHistory.body)).toMatchObject({ category: 'FORBIDDEN', rule: 'agreement.read' });

    // As of the moment after the first signature: proposed, one signature, and that much history.
    const recorded = (await store().readStream(agreementStream('ag-6'))).events;
    const asOf = recorded[1].metadata.recordedAt.toISOString();
    const AS_OF = `query($id: ID!, $asOf: DateTime!) { agreementAsOf(id: $id, asOf: $asOf) {
      status signatures { member signed } history { type } } }`;
    type AsOf = { agreementAsOf: { status: string; history: { type: string }[] } | null };
    const then = await post<AsOf>(AS_OF, { id: 'ag-6', asOf }, sichuanFinance);
    expect(then.body.data?.agreementAsOf).toEqual({
      status: 'PROPOSED',
      signatures: [
        { member: '510000', signed: true },
        { member: '500000', signed: false },
      ],
      history: [{ type: 'AgreementProposed' }, { type: 'AgreementSigned' }],
    });
    const before = await post<AsOf>(AS_OF, { id: 'ag-6', asOf: '2020-01-01T00:00:00Z' }, sichuan);
    expect(before.body.data?.agreementAsOf).toBeNull();
    const hiddenAsOf = await post<AsOf>(AS_OF, { id: 'ag-6', asOf }, yunnan);
    expect(errorOf(hiddenAsOf.body)).toMatchObject({ category: 'FORBIDDEN', rule: 'agreement.read' });

    const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Agreement { id status } } }`;
    const entity = await post<{ _entities: unknown[] }>(
      ENTITIES,
      { r: [{ __typename: 'Agreement', id: 'ag-6' }] },
      chongqing,
    );
    expect(entity.body.data?._entities).toEqual([{ id: 'ag-6', status: 'ADOPTED' }]);
    const hiddenEntity = await post<{ _entities: unknown[] }>(
      ENTITIES,
      { r: [{ __typename: 'Agreement', id: 'ag-6' }] },
      yunnan,
    );
    expect(hiddenEntity.body.data?._entities).toEqual([null]);
  });
});
