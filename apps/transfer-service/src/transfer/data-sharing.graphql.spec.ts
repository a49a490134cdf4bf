import type { Identity } from '@lianfang/auth';
import { LocalDate } from '@lianfang/domain-kernel';
import { EVENT_STORE, type EventStore } from '@lianfang/eventsourcing';
import { useSubgraph } from '@lianfang/testing';
import { CLOCK } from '../common/time';
import { service } from '../service';
import { transferStream } from './decider';

// Agencies of config/directory/demo-region.json (the service's default directory).
const who = (
  agencyId: string,
  agencyKind: Identity['agencyKind'],
  jurisdiction: string,
  roles: Identity['roles'],
): Identity => ({ subject: `${agencyId}.${roles.join('-')}`, agencyId, agencyKind, jurisdiction, roles });

const generator = who('cd-jincheng-auto', 'generator', '510100', ['clerk']);
const sichuanClerk = who('sc-eeb', 'provincial-bureau', '510000', ['clerk']);
const sichuanApprover = who('sc-eeb', 'provincial-bureau', '510000', ['approver']);
const chongqingClerk = who('cq-eeb', 'provincial-bureau', '500000', ['clerk']);
const chongqingApprover = who('cq-eeb', 'provincial-bureau', '500000', ['approver']);
/** A bureau of a province outside the Sichuan–Chongqing agreement (registers the Kunming facility). */
const yunnanClerk = who('yn-eeb', 'provincial-bureau', '530000', ['clerk']);
const secretariat = who('chengyu-secretariat', 'regional-secretariat', '510000', ['clerk']);
/** The grantee: Chongqing's public security, which sees no transfer by the base policy. */
const chongqingPolice = who('cq-psb', 'public-security', '500000', ['viewer', 'clerk', 'reviewer']);
/** Public security of the other member: the rule names Chongqing only. */
const sichuanPolice = who('sc-psd', 'public-security', '510000', ['viewer', 'clerk', 'reviewer']);
/** The agreement shares manifests (not transfers) with transport departments. */
const chongqingTransport = who('cq-transport', 'transport-department', '500000', ['viewer']);
/** A kind no rule names. */
const chongqingFinance = who('cq-finance', 'finance-office', '500000', ['viewer']);

/** The service's clock, moved by the test: a grant is judged on the clock's day. */
class TestClock {
  constructor(public now: Date) {}
  readonly read = () => this.now;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const realNow = new Date();
const today = LocalDate.ofInstant(realNow);
const window = { from: today.toString(), to: today.plusDays(200).toString() };

const FIELDS = `id status exportingJurisdiction receivingJurisdiction nextActions { code }
  attachments { sha256 }`;
const SUBMIT = `mutation($key: String!, $input: SubmitTransferApplicationInput!) {
  submitTransferApplication(idempotencyKey: $key, input: $input) { ${FIELDS} } }`;
const ONE = `query($id: ID!) { transfer(id: $id) { ${FIELDS} } }`;
const LIST = `query($filter: TransferFilterInput, $first: Int, $after: String) {
  transfers(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }`;
const HISTORY = `query($id: ID!) { transferHistory(id: $id) { type } }`;
const AS_OF = `query($id: ID!, $asOf: DateTime!) { transferAsOf(id: $id, asOf: $asOf) { id status } }`;
const DOWNLOAD = `query($id: ID!, $sha256: String!) {
  transferAttachment(transferId: $id, sha256: $sha256) { sha256 size } }`;
const ACCEPT = `mutation($key: String!, $id: ID!) {
  acceptTransferApplication(idempotencyKey: $key, transferId: $id) { id status } }`;
const REGISTER = `mutation($key: String!, $input: RegisterFacilityInput!) {
  registerFacility(idempotencyKey: $key, input: $input) { id } }`;
const UPLOAD = `mutation($kind: TransferAttachmentKind!, $content: String!) {
  uploadTransferAttachment(kind: $kind, mediaType: "application/pdf", contentBase64: $content) { sha256 } }`;
const AGREEMENT = `id status`;
const PROPOSE = `mutation($key: String!, $input: ProposeAgreementInput!) {
  proposeAgreement(idempotencyKey: $key, input: $input) { ${AGREEMENT} } }`;
const SIGN = `mutation($key: String!, $id: ID!) {
  signAgreement(idempotencyKey: $key, agreementId: $id) { ${AGREEMENT} } }`;
const READS = `query($id: ID!) { transferRecordReads(recordId: $id, first: 100) {
  edges { node { agencyId operation } } } }`;

type Answer = {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions: Record<string, unknown> }[];
};
type Page = {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { cursor: string; node: { id: string } }[];
};
type Transfer = {
  id: string;
  status: string;
  nextActions: { code: string }[];
  attachments: { sha256: string }[];
};

describe('transfer-service: transfers shared under an adopted agreement', () => {
  const clock = new TestClock(realNow);
  const subgraph = useSubgraph(service, { overrides: [{ provide: CLOCK, useValue: clock.read }] });
  const post = async (query: string, variables: Record<string, unknown>, identity: Identity) =>
    (await subgraph.post<Record<string, unknown>>(query, { variables, identity })).body as Answer;
  const data = async <T>(
    query: string,
    variables: Record<string, unknown>,
    identity: Identity,
    field: string,
  ) => {
    const body = await post(query, variables, identity);
    expect(body.errors).toBeUndefined();
    return body.data?.[field] as T;
  };
  const store = () => subgraph.running().app.get<EventStore>(EVENT_STORE, { strict: false });
  const eventsOf = async (id: string) =>
    (await store().readStream(transferStream(id))).events.map((e) => e.type);

  const list = (identity: Identity, variables: Record<string, unknown> = {}) =>
    data<Page>(LIST, variables, identity, 'transfers');
  const one = (identity: Identity, id: string) => data<Transfer | null>(ONE, { id }, identity, 'transfer');
  const history = (identity: Identity, id: string) =>
    data<{ type: string }[] | null>(HISTORY, { id }, identity, 'transferHistory');

  /** Sichuan → Chongqing (twice), within Sichuan, and Sichuan → Yunnan (a non-member). */
  const ids = { toChongqing: '', toChongqingLater: '', withinSichuan: '', toYunnan: '' };
  let attachments: string[] = [];

  const facility = (key: string, jurisdiction: string, identity: Identity, licenceNumber: string) =>
    data<{ id: string }>(
      REGISTER,
      {
        key,
        input: {
          name: { zh: `危险废物处置中心 ${jurisdiction}`, en: `disposal centre ${jurisdiction}` },
          licenceNumber,
          operatorCreditCode: jurisdiction.startsWith('50') ? '91500115MA5YH9P3C1' : '91510600MA62A4E769',
          jurisdiction,
          coordinates: { lat: '29.718', lon: '104.63' },
          licensed: [{ category: 'HW08', annualCapacityTonnes: '5000' }],
          validFrom: '2024-01-01',
          validTo: '2099-12-31',
        },
      },
      identity,
      'registerFacility',
    ).then((f) => f.id);

  const submit = async (key: string, receiverFacilityId: string) =>
    (
      await data<Transfer>(
        SUBMIT,
        {
          key,
          input: {
            path: 'LETTER',
            receiverFacilityId,
            lines: [{ wasteCode: '900-249-08', quantityKg: '800' }],
            method: 'R9 废矿物油再生利用 / re-refining',
            window,
            attachments,
          },
        },
        generator,
        'submitTransferApplication',
      )
    ).id;

  beforeAll(async () => {
    const chongqing = await facility('ds-cq', '500112', chongqingClerk, '渝危废经第500112019号');
    const deyang = await facility('ds-dy', '510603', sichuanClerk, '川危废经第510603019号');
    const kunming = await facility('ds-km', '530102', yunnanClerk, '滇危废经第530102019号');
    attachments = [];
    for (const kind of ['LICENCE', 'METHOD', 'CONTRACT']) {
      const content = Buffer.from(`%PDF-1.7 ${kind.toLowerCase()} data-sharing`).toString('base64');
      attachments.push(
        (await data<{ sha256: string }>(UPLOAD, { kind, content }, generator, 'uploadTransferAttachment'))
          .sha256,
      );
    }
    ids.toChongqing = await submit('ds-to-cq-1', chongqing);
    ids.toChongqingLater = await submit('ds-to-cq-2', chongqing);
    ids.withinSichuan = await submit('ds-within-sc', deyang);
    ids.toYunnan = await submit('ds-to-yn', kunming);
  });

  afterEach(() => {
    clock.now = realNow;
  });

  const proposal = {
    agreementId: 'ag-share-transfers',
    title: { zh: '川渝危险废物转移信息共享协议', en: 'Sichuan–Chongqing transfer data-sharing agreement' },
    members: ['510000', '500000'],
    effectiveFrom: today.plusDays(-10).toString(),
    // In force today and tomorrow: the clock moved two days on, it has lapsed.
    validUntil: today.plusDays(1).toString(),
    clauses: {
      whitelist: [],
      compensationRates: [],
      tolerance: { percent: '5', kg: '100' },
      maxTransitDays: 3,
      dataSharing: [
        { member: '500000', agencyKind: 'public-security', scope: 'transfers' },
        { agencyKind: 'transport-department', scope: 'manifests' },
      ],
    },
  };

  it('opens nothing while the agreement is only proposed', async () => {
    expect(
      await data<{ status: string }>(
        PROPOSE,
        { key: 'ds-propose', input: proposal },
        secretariat,
        'proposeAgreement',
      ),
    ).toMatchObject({ status: 'PROPOSED' });
    expect(
      await data<{ status: string }>(
        SIGN,
        { key: 'ds-sign-sc', id: proposal.agreementId },
        sichuanApprover,
        'signAgreement',
      ),
    ).toMatchObject({ status: 'PROPOSED' });

    expect(await list(chongqingPolice)).toEqual({
      totalCount: 0,
      pageInfo: { hasNextPage: false, endCursor: null },
      edges: [],
    });
    expect(await one(chongqingPolice, ids.toChongqing)).toBeNull();
    expect(await history(chongqingPolice, ids.toChongqing)).toBeNull();
  });

  it('once adopted, shows the transfers between the members to the named agency, page by page', async () => {
    expect(
      await data<{ status: string }>(
        SIGN,
        { key: 'ds-sign-cq', id: proposal.agreementId },
        chongqingApprover,
        'signAgreement',
      ),
    ).toMatchObject({ status: 'ADOPTED' });

    // Only the two Sichuan → Chongqing transfers, newest first, in the count and the cursors alike.
    const all = await list(chongqingPolice);
    expect(all.totalCount).toBe(2);
    expect(all.edges.map((e) => e.node.id)).toEqual([ids.toChongqingLater, ids.toChongqing]);
    const first = await list(chongqingPolice, { first: 1 });
    expect(first).toMatchObject({ totalCount: 2, pageInfo: { hasNextPage: true } });
    expect(first.edges.map((e) => e.node.id)).toEqual([ids.toChongqingLater]);
    const second = await list(chongqingPolice, { first: 1, after: first.pageInfo.endCursor });
    expect(second).toMatchObject({ totalCount: 2, pageInfo: { hasNextPage: false } });
    expect(second.edges.map((e) => e.node.id)).toEqual([ids.toChongqing]);
    // The list's own filters still apply on top of the grant.
    expect((await list(chongqingPolice, { filter: { receivingJurisdiction: '530000' } })).totalCount).toBe(0);
    expect((await list(chongqingPolice, { filter: { exportingJurisdiction: '510000' } })).totalCount).toBe(2);

    const read = await one(chongqingPolice, ids.toChongqing);
    expect(read).toMatchObject({
      id: ids.toChongqing,
      status: 'SUBMITTED',
      exportingJurisdiction: '510000',
      receivingJurisdiction: '500000',
      // Reading only: nothing to do.
      nextActions: [],
    });
    expect((await history(chongqingPolice, ids.toChongqing))?.map((h) => h.type)).toEqual([
      'TransferSubmitted',
    ]);
    expect(
      await data(
        AS_OF,
        { id: ids.toChongqing, asOf: new Date().toISOString() },
        chongqingPolice,
        'transferAsOf',
      ),
    ).toEqual({ id: ids.toChongqing, status: 'SUBMITTED' });
    const sha256 = read!.attachments[0].sha256;
    expect(
      await data(DOWNLOAD, { id: ids.toChongqing, sha256 }, chongqingPolice, 'transferAttachment'),
    ).toMatchObject({ sha256 });

    // Within one member, or with a non-member: as hidden as before.
    for (const id of [ids.withinSichuan, ids.toYunnan]) {
      expect(await one(chongqingPolice, id)).toBeNull();
      expect(await history(chongqingPolice, id)).toBeNull();
      expect(
        await data(AS_OF, { id, asOf: new Date().toISOString() }, chongqingPolice, 'transferAsOf'),
      ).toBeNull();
    }
    // The bureaus see what they saw: the grant adds, it takes nothing away.
    expect((await list(sichuanClerk)).totalCount).toBe(4);
  });

  it('grants nothing to another member’s agency, another kind, or for another scope', async () => {
    // The rule names Chongqing's public security; the manifests rule opens no transfer.
    for (const identity of [sichuanPolice, chongqingTransport, chongqingFinance]) {
      expect((await list(identity)).totalCount).toBe(0);
      expect(await one(identity, ids.toChongqing)).toBeNull();
      expect(await history(identity, ids.toChongqing)).toBeNull();
    }
  });

  it('lets the owners see who read their record through the grant', async () => {
    await one(chongqingPolice, ids.toChongqing);
    const { edges } = await data<{ edges: { node: { agencyId: string; operation: string } }[] }>(
      READS,
      { id: ids.toChongqing },
      generator,
      'transferRecordReads',
    );
    expect(edges.map((e) => `${e.node.agencyId}:${e.node.operation}`)).toEqual(
      expect.arrayContaining([
        'cq-psb:list',
        'cq-psb:read',
        'cq-psb:history',
        'cq-psb:asOf',
        'cq-psb:download',
      ]),
    );
    // Not a transfer it was never shown.
    const other = await data<{ edges: { node: { agencyId: string } }[] }>(
      READS,
      { id: ids.withinSichuan },
      generator,
      'transferRecordReads',
    );
    expect(other.edges.map((e) => e.node.agencyId)).not.toContain('cq-psb');
  });

  it('gives no right to act on a shared transfer', async () => {
    const refused = await post(ACCEPT, { key: 'ds-psb-accept', id: ids.toChongqing }, chongqingPolice);
    expect(refused.data ?? null).toBeNull();
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      category: 'FORBIDDEN',
      rule: 'transfer.prepare',
    });
    expect(await eventsOf(ids.toChongqing)).toEqual(['TransferSubmitted']);
  });

  it('opens nothing once the agreement’s term has passed, nor before it began', async () => {
    clock.now = new Date(realNow.getTime() + 2 * DAY_MS);
    expect((await list(chongqingPolice)).totalCount).toBe(0);
    expect(await one(chongqingPolice, ids.toChongqing)).toBeNull();
    expect(await history(chongqingPolice, ids.toChongqing)).toBeNull();

    clock.now = new Date(realNow.getTime() - 11 * DAY_MS);
    expect((await list(chongqingPolice)).totalCount).toBe(0);
    expect(await one(chongqingPolice, ids.toChongqing)).toBeNull();

    // Back within the term: shared again.
    clock.now = realNow;
    expect((await list(chongqingPolice)).totalCount).toBe(2);
  });
});
