import type { INestApplication } from '@nestjs/common';
import type { Identity } from '@lianfang/auth';
import { LocalDate, WorkingDayCalendar } from '@lianfang/domain-kernel';
import { Aggregates, type Actor } from '@lianfang/eventsourcing';
import { useSubgraph } from '@lianfang/testing';
import {
  capacityDecider,
  capacityStream,
  type CapacityCommand,
  type CapacityLedgerState,
} from '../capacity/decider';
import { CLOCK } from '../common/time';
import { facilityDecider, facilityStream, type FacilityCommand } from '../facility/decider';
import { service } from '../service';
import {
  transferDecider,
  transferStream,
  type TransferCommand,
  type TransferState,
} from '../transfer/decider';
import { manifestStream } from './decider';

// ─── the demo directory's agencies (config/directory/demo-region.json) ──────────────────────────

const GENERATOR_CODE = '91510100MA61RK3T26'; // cd-jincheng-auto, Chengdu
const CARRIER_CODE = '91510100MA6CB8W21Q'; // sc-shuyun-transport
const CHONGQING_RECEIVER_CODE = '91500115MA5YH9P3C1'; // cq-yuhuan-disposal
const DEYANG_RECEIVER_CODE = '91510600MA62A4E769'; // dy-lvyuan-env

const who = (
  agencyId: string,
  agencyKind: Identity['agencyKind'],
  jurisdiction: string,
  roles: Identity['roles'],
): Identity => ({ subject: `${agencyId}.${roles.join('-')}`, agencyId, agencyKind, jurisdiction, roles });

const generator = who('cd-jincheng-auto', 'generator', '510100', ['clerk']);
const carrier = who('sc-shuyun-transport', 'carrier', '510100', ['clerk']);
const sichuan = who('sc-eeb', 'provincial-bureau', '510000', ['clerk']);
const sichuanApprover = who('sc-eeb', 'provincial-bureau', '510000', ['approver']);
const chongqing = who('cq-eeb', 'provincial-bureau', '500000', ['clerk']);
const chongqingApprover = who('cq-eeb', 'provincial-bureau', '500000', ['approver']);
const yunnan = who('yn-eeb', 'provincial-bureau', '530000', ['clerk']);
const secretariat = who('chengyu-secretariat', 'regional-secretariat', '510000', ['clerk']);
/** The grantee: Chongqing's public security, which sees no manifest by the base policy. */
const chongqingPolice = who('cq-psb', 'public-security', '500000', [
  'viewer',
  'clerk',
  'reviewer',
  'approver',
]);
/** Public security of the other member: the rule names Chongqing only. */
const sichuanPolice = who('sc-psd', 'public-security', '510000', ['viewer', 'clerk']);
/** The agreement shares transfers (not manifests) with finance offices. */
const chongqingFinance = who('cq-finance', 'finance-office', '500000', ['viewer']);
/** A kind no rule names. */
const enforcement = who('chengyu-enforcement', 'enforcement-team', '500000', ['viewer', 'clerk']);

/** The service's clock, moved by the test: a grant is judged on the clock's day. */
class TestClock {
  constructor(public now: Date) {}
  readonly read = () => this.now;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const realNow = new Date();
const today = LocalDate.ofInstant(realNow);

// ─── approvals and facilities through the store, as their own mechanisms record them ────────────

const actorOf = (identity: Identity): Actor => ({
  kind: 'user',
  userId: identity.subject,
  agencyId: identity.agencyId,
  jurisdiction: identity.jurisdiction,
});
const meta = (identity: Identity, commandId: string) => ({
  commandId,
  now: new Date(),
  actor: actorOf(identity),
  correlationId: `ds-spec-${commandId}`,
});
const transfers = transferDecider({ calendar: WorkingDayCalendar.default() });
const SHA = (c: string) => c.repeat(64);

async function registerFacility(
  app: INestApplication,
  facilityId: string,
  jurisdiction: string,
  operatorCreditCode: string,
  registrar: Identity,
): Promise<void> {
  const command = {
    type: 'RegisterFacility',
    data: {
      facilityId,
      profile: {
        name: { zh: `危险废物处置中心 ${jurisdiction}`, en: `disposal centre ${jurisdiction}` },
        licenceNumber: `危废经第${facilityId}号`,
        operatorCreditCode,
        jurisdiction,
        coordinates: { lat: '29.71', lon: '106.63' },
        licensed: [{ category: 'HW08', annualCapacityTonnes: '5000' }],
        validFrom: '2024-01-01',
        validTo: '2099-12-31',
      },
    },
    metadata: meta(registrar, `register-${facilityId}`),
  } satisfies FacilityCommand;
  await app
    .get(Aggregates)
    .handle({ decider: facilityDecider, streamId: facilityStream(facilityId), command });
}

/**
 * Chengdu's generator applies, Sichuan accepts and approves; across provinces the receiving bureau
 * consents to the letter first. The reservation goes in the approval's append.
 */
async function approveTransfer(
  app: INestApplication,
  transferId: string,
  facilityId: string,
  receiving: Identity,
): Promise<void> {
  const aggregates = app.get(Aggregates);
  const handle = (command: TransferCommand) =>
    aggregates.handle({ decider: transfers, streamId: transferStream(transferId), command });
  await handle({
    type: 'SubmitApplication',
    data: {
      transferId,
      generator: { agencyId: generator.agencyId, creditCode: GENERATOR_CODE },
      exportingJurisdiction: '510000',
      receivingJurisdiction: receiving.jurisdiction,
      receiver: { facilityId, licenceValidUntil: '2099-12-31' },
      lines: [{ wasteCode: '900-249-08', quantityKg: '10000' }],
      method: 'R9 废矿物油再生利用',
      window: { from: today.toString(), to: today.plusDays(180).toString() },
      attachments: [
        { sha256: SHA('a'), size: 2048, mediaType: 'application/pdf', kind: 'licence' },
        { sha256: SHA('b'), size: 2048, mediaType: 'application/pdf', kind: 'method' },
        { sha256: SHA('c'), size: 2048, mediaType: 'application/pdf', kind: 'contract' },
      ],
      path: 'letter',
    },
    metadata: meta(generator, `${transferId}-submit`),
  });
  await handle({
    type: 'AcceptApplication',
    data: { transferId },
    metadata: meta(sichuan, `${transferId}-accept`),
  });
  if (receiving.jurisdiction !== '510000') {
    await handle({
      type: 'SendConsultationLetter',
      data: { transferId, letterId: `${transferId}-letter` },
      metadata: meta(sichuan, `${transferId}-letter`),
    });
    await handle({
      type: 'ReplyToLetter',
      data: { transferId, decision: 'consent' },
      metadata: meta(receiving, `${transferId}-reply`),
    });
  }
  const year = today.year;
  await aggregates.handleAcross({
    command: {
      type: 'ApproveTransfer',
      data: { transferId },
      metadata: meta(sichuan, `${transferId}-approve`),
    },
    streams: {
      transfer: { streamId: transferStream(transferId), decider: transfers },
      ledger: { streamId: capacityStream(facilityId, 'HW08', year), decider: capacityDecider },
    },
    decide: (command, states) => {
      let ledger = states.ledger as CapacityLedgerState;
      const commands: CapacityCommand[] = [
        ...(ledger.status === 'open'
          ? []
          : [
              {
                type: 'OpenLedger' as const,
                data: { facilityId, category: 'HW08', year, capacityKg: '5000000.000' },
                metadata: command.metadata,
              },
            ]),
        {
          type: 'Reserve',
          data: { reservationId: transferId, quantityKg: '10000' },
          metadata: command.metadata,
        },
      ];
      const ledgerEvents = [];
      for (const c of commands)
        for (const e of capacityDecider.decide(c, ledger)) {
          ledger = capacityDecider.evolve(ledger, e);
          ledgerEvents.push(e);
        }
      return {
        transfer: transfers.decide(command as TransferCommand, states.transfer as TransferState),
        ledger: ledgerEvents,
      };
    },
  });
}

// ─── GraphQL ───────────────────────────────────────────────────────────────────────────────

const FIELDS = `number status fromJurisdiction toJurisdiction
  legs { kind carrierCreditCode vehiclePlate driver { name phone erased } }
  nextActions { code }`;
const OPEN = `mutation($key: String!, $input: OpenManifestInput!) {
  openManifest(idempotencyKey: $key, input: $input) { number } }`;
const PICKUP = `mutation($key: String!, $number: ID!, $vehicle: ManifestVehicleInput!) {
  confirmManifestPickup(idempotencyKey: $key, number: $number, vehicle: $vehicle) { number } }`;
const DELIVER = `mutation($key: String!, $number: ID!) {
  deliverManifest(idempotencyKey: $key, number: $number) { number status } }`;
const RECEIVE = `mutation($key: String!, $number: ID!, $input: ReceiveManifestInput!) {
  receiveManifest(idempotencyKey: $key, number: $number, input: $input) { number status } }`;
const ONE = `query($number: ID!) { manifest(number: $number) { ${FIELDS} } }`;
const LIST = `query($filter: ManifestFilter, $first: Int, $after: String) {
  manifests(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { number } } } }`;
const HISTORY = `query($number: ID!) { manifestHistory(number: $number) { type } }`;
const AS_OF = `query($number: ID!, $asOf: DateTime!) {
  manifestAsOf(number: $number, asOf: $asOf) { number status legs { driver { name } } } }`;
const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Manifest { number status } } }`;
const PROPOSE = `mutation($key: String!, $input: ProposeAgreementInput!) {
  proposeAgreement(idempotencyKey: $key, input: $input) { id status } }`;
const SIGN = `mutation($key: String!, $id: ID!) {
  signAgreement(idempotencyKey: $key, agreementId: $id) { id status } }`;
const READS = `query($id: ID!) { transferRecordReads(recordId: $id, first: 100) {
  edges { node { agencyId operation } } } }`;

type Answer = {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions: Record<string, unknown> }[];
};
type Page = {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { cursor: string; node: { number: string } }[];
};
type Manifest = {
  number: string;
  status: string;
  fromJurisdiction: string;
  toJurisdiction: string;
  legs: { kind: string; driver: { name: string | null; phone: string | null } | null }[];
  nextActions: { code: string }[];
};

describe('transfer-service: manifests shared under an adopted agreement', () => {
  const clock = new TestClock(realNow);
  const subgraph = useSubgraph(service, { overrides: [{ provide: CLOCK, useValue: clock.read }] });
  const app = () => subgraph.running().app;
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
  /** The refusal of a read the caller may not make (the manifest's own rule, as before). */
  const refusal = async (query: string, variables: Record<string, unknown>, identity: Identity) => {
    const body = await post(query, variables, identity);
    return {
      data: body.data?.[Object.keys(body.data ?? {})[0]] ?? null,
      error: body.errors?.[0]?.extensions,
    };
  };
  const eventsOf = async (number: string) =>
    (await app().get(Aggregates).store.readStream(manifestStream(number))).events.map((e) => e.type);

  const list = (identity: Identity, variables: Record<string, unknown> = {}) =>
    data<Page>(LIST, variables, identity, 'manifests');
  const one = (identity: Identity, number: string) => data<Manifest>(ONE, { number }, identity, 'manifest');
  const history = (identity: Identity, number: string) =>
    data<{ type: string }[]>(HISTORY, { number }, identity, 'manifestHistory');

  /** Chengdu → Chongqing (twice), Chengdu → Deyang (within Sichuan), Chengdu → Kunming (a non-member). */
  const numbers = { toChongqing: '', toChongqingLater: '', withinSichuan: '', toYunnan: '' };
  const hidden = () => [numbers.withinSichuan, numbers.toYunnan];

  const open = async (key: string, transferId: string) =>
    (
      await data<{ number: string }>(
        OPEN,
        {
          key,
          input: {
            transferId,
            carrierCreditCode: CARRIER_CODE,
            waste: {
              wasteClass: 'hazardous:900-249-08',
              name: '废矿物油',
              declaredKg: '2000',
              hazardCharacteristics: ['T', 'I'],
              packaging: 'IBC 吨桶',
              form: 'liquid',
              emergencyMeasures: '泄漏时用沙土围堵，禁止明火',
            },
          },
        },
        generator,
        'openManifest',
      )
    ).number;

  beforeAll(async () => {
    await registerFacility(app(), 'ds-fac-cq', '500115', CHONGQING_RECEIVER_CODE, chongqing);
    await registerFacility(app(), 'ds-fac-dy', '510603', DEYANG_RECEIVER_CODE, sichuan);
    await registerFacility(app(), 'ds-fac-km', '530102', DEYANG_RECEIVER_CODE, yunnan);
    await approveTransfer(app(), 'ds-tr-cq', 'ds-fac-cq', chongqing);
    await approveTransfer(app(), 'ds-tr-dy', 'ds-fac-dy', sichuan);
    await approveTransfer(app(), 'ds-tr-km', 'ds-fac-km', yunnan);
    numbers.toChongqing = await open('ds-open-cq-1', 'ds-tr-cq');
    // Picked up: its leg names a driver, personal data a non-party never sees.
    await data(
      PICKUP,
      {
        key: 'ds-pickup-cq-1',
        number: numbers.toChongqing,
        vehicle: {
          vehiclePlate: '川A12345',
          operatingLicence: '道路运输经营许可证-川A12345',
          driver: { name: '张伟', phone: '13800138000' },
        },
      },
      carrier,
      'confirmManifestPickup',
    );
    numbers.toChongqingLater = await open('ds-open-cq-2', 'ds-tr-cq');
    numbers.withinSichuan = await open('ds-open-dy', 'ds-tr-dy');
    numbers.toYunnan = await open('ds-open-km', 'ds-tr-km');
  });

  afterEach(() => {
    clock.now = realNow;
  });

  const proposal = {
    agreementId: 'ag-share-manifests',
    title: {
      zh: '川渝危险废物转移联单信息共享协议',
      en: 'Sichuan–Chongqing manifest data-sharing agreement',
    },
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
        { member: '500000', agencyKind: 'public-security', scope: 'manifests' },
        { member: '500000', agencyKind: 'finance-office', scope: 'transfers' },
      ],
    },
  };

  it('sets the scene: the places of each manifest, seen by the bureaus as before', async () => {
    const places = async (number: string) => {
      const m = await one(sichuan, number);
      return `${m.fromJurisdiction}>${m.toJurisdiction}`;
    };
    expect(await places(numbers.toChongqing)).toBe('510100>500115');
    expect(await places(numbers.withinSichuan)).toBe('510100>510603');
    expect(await places(numbers.toYunnan)).toBe('510100>530102');
  });

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
    for (const query of [ONE, HISTORY])
      expect(await refusal(query, { number: numbers.toChongqing }, chongqingPolice)).toMatchObject({
        data: null,
        error: { category: 'FORBIDDEN', rule: 'manifest.read' },
      });
  });

  it('once adopted, shows the manifests between the members to the named agency, page by page', async () => {
    expect(
      await data<{ status: string }>(
        SIGN,
        { key: 'ds-sign-cq', id: proposal.agreementId },
        chongqingApprover,
        'signAgreement',
      ),
    ).toMatchObject({ status: 'ADOPTED' });

    // Only the two Chengdu → Chongqing manifests, newest first, in the count and the cursors alike.
    const all = await list(chongqingPolice);
    expect(all.totalCount).toBe(2);
    expect(all.edges.map((e) => e.node.number)).toEqual([numbers.toChongqingLater, numbers.toChongqing]);
    const first = await list(chongqingPolice, { first: 1 });
    expect(first).toMatchObject({ totalCount: 2, pageInfo: { hasNextPage: true } });
    expect(first.edges.map((e) => e.node.number)).toEqual([numbers.toChongqingLater]);
    const second = await list(chongqingPolice, { first: 1, after: first.pageInfo.endCursor });
    expect(second).toMatchObject({ totalCount: 2, pageInfo: { hasNextPage: false } });
    expect(second.edges.map((e) => e.node.number)).toEqual([numbers.toChongqing]);
    // The list's own filters still apply on top of the grant.
    const inTransit = await list(chongqingPolice, { filter: { status: 'IN_TRANSIT' } });
    expect(inTransit.edges.map((e) => e.node.number)).toEqual([numbers.toChongqing]);
    expect((await list(chongqingPolice, { filter: { transferId: 'ds-tr-dy' } })).totalCount).toBe(0);

    const read = await one(chongqingPolice, numbers.toChongqing);
    expect(read).toMatchObject({
      number: numbers.toChongqing,
      status: 'IN_TRANSIT',
      fromJurisdiction: '510100',
      toJurisdiction: '500115',
      // Reading only: nothing to do.
      nextActions: [],
    });
    expect((await history(chongqingPolice, numbers.toChongqing)).map((h) => h.type)).toEqual([
      'ManifestOpened',
      'ManifestPickedUp',
    ]);
    expect(
      await data(
        AS_OF,
        { number: numbers.toChongqing, asOf: new Date().toISOString() },
        chongqingPolice,
        'manifestAsOf',
      ),
    ).toEqual({ number: numbers.toChongqing, status: 'IN_TRANSIT', legs: [{ driver: null }] });
    expect(
      await data(
        ENTITIES,
        { r: [{ __typename: 'Manifest', number: numbers.toChongqing }] },
        chongqingPolice,
        '_entities',
      ),
    ).toEqual([{ number: numbers.toChongqing, status: 'IN_TRANSIT' }]);

    // Within one member, or with a non-member: as hidden as before.
    for (const number of hidden()) {
      for (const query of [ONE, HISTORY])
        expect(await refusal(query, { number }, chongqingPolice)).toMatchObject({
          data: null,
          error: { category: 'FORBIDDEN', rule: 'manifest.read' },
        });
      expect(await refusal(AS_OF, { number, asOf: new Date().toISOString() }, chongqingPolice)).toMatchObject(
        { data: null, error: { rule: 'manifest.read' } },
      );
      const entities = await post(ENTITIES, { r: [{ __typename: 'Manifest', number }] }, chongqingPolice);
      expect(entities.data?._entities ?? [null]).toEqual([null]);
      expect(entities.errors?.[0]?.extensions).toMatchObject({ rule: 'manifest.read' });
    }
    // The bureaus see what they saw: the grant adds, it takes nothing away.
    expect((await list(sichuan)).totalCount).toBe(4);
    expect((await list(chongqing)).totalCount).toBe(2);
  });

  it('reveals no driver to the grantee: what a non-party bureau sees, nothing more', async () => {
    const legs = (m: Manifest) => m.legs.map((l) => ({ kind: l.kind, driver: l.driver }));
    // The carrier (a party) sees its driver; the grantee, like the bureaus, sees the leg without.
    expect(legs(await one(carrier, numbers.toChongqing))).toEqual([
      { kind: 'pickup', driver: { name: '张伟', phone: '13800138000', erased: false } },
    ]);
    const shared = await one(chongqingPolice, numbers.toChongqing);
    expect(legs(shared)).toEqual([{ kind: 'pickup', driver: null }]);
    expect(legs(shared)).toEqual(legs(await one(chongqing, numbers.toChongqing)));
    expect(JSON.stringify(shared)).not.toMatch(/张伟|13800138000/);
  });

  it('grants nothing to another member’s agency, another kind, or for another scope', async () => {
    // The rule names Chongqing's public security; the finance office's rule is for transfers.
    for (const identity of [sichuanPolice, chongqingFinance, enforcement]) {
      expect((await list(identity)).totalCount).toBe(0);
      for (const query of [ONE, HISTORY])
        expect(await refusal(query, { number: numbers.toChongqing }, identity)).toMatchObject({
          data: null,
          error: { category: 'FORBIDDEN', rule: 'manifest.read' },
        });
    }
  });

  it('lets the owners see who read their manifest through the grant', async () => {
    await one(chongqingPolice, numbers.toChongqing);
    const reads = async (owner: Identity, number: string) =>
      (
        await data<{ edges: { node: { agencyId: string; operation: string } }[] }>(
          READS,
          { id: number },
          owner,
          'transferRecordReads',
        )
      ).edges.map((e) => `${e.node.agencyId}:${e.node.operation}`);
    // The generator, the carrier and the receiver are its parties: each sees the reads.
    for (const owner of [generator, carrier, who('cq-yuhuan-disposal', 'receiver', '500000', ['clerk'])])
      expect(await reads(owner, numbers.toChongqing)).toEqual(
        expect.arrayContaining(['cq-psb:list', 'cq-psb:read', 'cq-psb:history', 'cq-psb:asOf']),
      );
    // Not a manifest it was never shown, and nobody else's log.
    for (const number of hidden()) expect(await reads(generator, number)).not.toContain('cq-psb:read');
    expect(await reads(chongqingPolice, numbers.toChongqing)).toEqual([]);
  });

  it('gives no right to act on a shared manifest', async () => {
    const before = await eventsOf(numbers.toChongqing);
    const deliver = await post(
      DELIVER,
      { key: 'ds-psb-deliver', number: numbers.toChongqing },
      chongqingPolice,
    );
    expect(deliver.data ?? null).toBeNull();
    expect(deliver.errors?.[0]?.extensions).toMatchObject({ category: 'FORBIDDEN', rule: 'manifest.carry' });
    const receive = await post(
      RECEIVE,
      { key: 'ds-psb-receive', number: numbers.toChongqing, input: { acceptedKg: '2000', method: 'R9' } },
      chongqingPolice,
    );
    expect(receive.data ?? null).toBeNull();
    expect(receive.errors?.[0]?.extensions).toMatchObject({
      category: 'FORBIDDEN',
      rule: 'manifest.receive',
    });
    expect(await eventsOf(numbers.toChongqing)).toEqual(before);
  });

  it('opens nothing once the agreement’s term has passed, nor before it began', async () => {
    clock.now = new Date(realNow.getTime() + 2 * DAY_MS);
    expect((await list(chongqingPolice)).totalCount).toBe(0);
    for (const query of [ONE, HISTORY])
      expect(await refusal(query, { number: numbers.toChongqing }, chongqingPolice)).toMatchObject({
        error: { rule: 'manifest.read' },
      });

    clock.now = new Date(realNow.getTime() - 11 * DAY_MS);
    expect((await list(chongqingPolice)).totalCount).toBe(0);
    expect(await refusal(ONE, { number: numbers.toChongqing }, chongqingPolice)).toMatchObject({
      error: { rule: 'manifest.read' },
    });

    // Back within the term: shared again.
    clock.now = realNow;
    expect((await list(chongqingPolice)).totalCount).toBe(2);
  });
});
