import type { INestApplication } from '@nestjs/common';
import type { Identity } from '@lianfang/auth';
import { ContractRegistry, TRANSFER_CONTRACTS } from '@lianfang/contracts';
import { LocalDate, WorkingDayCalendar } from '@lianfang/domain-kernel';
import {
  Aggregates,
  type Actor,
  type PersonalDataCodec,
  type RecordedEvent,
  type SqlClient,
  systemActor,
} from '@lianfang/eventsourcing';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import { describeWithPostgres, useSubgraph, useTestDatabase } from '@lianfang/testing';
import { AgreementReadModel } from '../agreement/agreement.projection';
import { WORKING_DAY_CALENDAR } from '../common/time';
import { agreementDecider, agreementStream, type AgreementCommand } from '../agreement/decider';
import {
  capacityDecider,
  capacityStream,
  type CapacityCommand,
  type CapacityLedgerState,
} from '../capacity/decider';
import { facilityDecider, facilityStream, type FacilityCommand } from '../facility/decider';
import { service } from '../service';
import { WorklistReadModel } from '../worklist/worklist.projection';
import {
  transferDecider,
  transferStream,
  type TransferCommand,
  type TransferState,
} from '../transfer/decider';
import { manifestStream } from './decider';
import { driverStream } from './drivers';
import { MANIFEST_PERSONAL_DATA, ManifestCommands } from './manifest.commands';
import { approvalUsageStream } from './usage';

// ─── the demo directory's parties (config/directory/demo-region.json) ──────────────────────────

const GENERATOR_CODE = '91510100MA61RK3T26'; // cd-jincheng-auto, Chengdu
const CARRIER_CODE = '91510100MA6CB8W21Q'; // sc-shuyun-transport
const CARRIER_2_CODE = '91500105MA60JL2K8E'; // cq-yutong-transport
const RECEIVER_CODE = '91500115MA5YH9P3C1'; // cq-yuhuan-disposal

const person = (agencyId: string, agencyKind: Identity['agencyKind'], jurisdiction: string): Identity => ({
  subject: `${agencyId}.staff`,
  agencyId,
  agencyKind,
  jurisdiction,
  roles: ['clerk'],
});
const generator = person('cd-jincheng-auto', 'generator', '510100');
const otherGenerator = person('cq-liangjiang-chem', 'generator', '500000');
const carrier = person('sc-shuyun-transport', 'carrier', '510100');
const carrier2 = person('cq-yutong-transport', 'carrier', '500000');
const receiver = person('cq-yuhuan-disposal', 'receiver', '500000');
const otherReceiver = person('dy-lvyuan-env', 'receiver', '510600');
const sichuan = person('sc-eeb', 'provincial-bureau', '510000');
const chongqing = person('cq-eeb', 'provincial-bureau', '500000');
const chengdu = person('cd-eeb', 'municipal-bureau', '510100');
const deyang = person('dy-eeb', 'municipal-bureau', '510600');
const sichuanTransport = person('sc-transport', 'transport-department', '510000');
// Bureaus decide through their approvers (the reply to a letter, the review of discrepancies).
const approver = (who: Identity): Identity => ({
  ...who,
  subject: `${who.agencyId}.approver`,
  roles: ['approver'],
});
const chongqingApprover = approver(chongqing);
const sichuanApprover = approver(sichuan);

const actorOf = (who: Identity): Actor => ({
  kind: 'user',
  userId: who.subject,
  agencyId: who.agencyId,
  jurisdiction: who.jurisdiction,
});

// ─── approvals through the store, as the transfer and capacity mechanisms record them ──────────

const transfers = transferDecider({ calendar: WorkingDayCalendar.default() });
const SHA = (c: string) => c.repeat(64);

async function registerFacility(app: INestApplication, facilityId: string): Promise<void> {
  const command = {
    type: 'RegisterFacility',
    data: {
      facilityId,
      profile: {
        name: { zh: '重庆渝环处置中心', en: 'Yuhuan disposal centre' },
        licenceNumber: `渝危废经第${facilityId}号`,
        operatorCreditCode: RECEIVER_CODE,
        jurisdiction: '500115',
        coordinates: { lat: '29.71', lon: '106.63' },
        licensed: [{ category: 'HW08', annualCapacityTonnes: '5000' }],
        validFrom: '2024-01-01',
        validTo: '2099-12-31',
      },
    },
    metadata: meta(chongqing, `register-${facilityId}`),
  } satisfies FacilityCommand;
  await app
    .get(Aggregates)
    .handle({ decider: facilityDecider, streamId: facilityStream(facilityId), command });
}

function meta(who: Identity, commandId: string) {
  return { commandId, now: new Date(), actor: actorOf(who), correlationId: `spec-${commandId}` };
}

/** Submitted, accepted, consulted, consented and approved, the reservation in the same append. */
async function approveTransfer(app: INestApplication, transferId: string, facilityId: string, kg: string) {
  const aggregates = app.get(Aggregates);
  const today = LocalDate.ofInstant(new Date());
  const handle = (command: TransferCommand) =>
    aggregates.handle({ decider: transfers, streamId: transferStream(transferId), command });
  await handle({
    type: 'SubmitApplication',
    data: {
      transferId,
      generator: { agencyId: generator.agencyId, creditCode: GENERATOR_CODE },
      exportingJurisdiction: '510000',
      receivingJurisdiction: '500000',
      receiver: { facilityId, licenceValidUntil: '2099-12-31' },
      lines: [{ wasteCode: '900-249-08', quantityKg: kg }],
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
  await handle({
    type: 'SendConsultationLetter',
    data: { transferId, letterId: `${transferId}-letter` },
    metadata: meta(sichuan, `${transferId}-letter`),
  });
  await handle({
    type: 'ReplyToLetter',
    data: { transferId, decision: 'consent' },
    metadata: meta(chongqing, `${transferId}-reply`),
  });
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
        { type: 'Reserve', data: { reservationId: transferId, quantityKg: kg }, metadata: command.metadata },
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

const FIELDS = `number status transferId transitDueAt facilityId carrierCreditCode acceptedKg fromJurisdiction toJurisdiction
  generator { creditCode jurisdiction } receiver { creditCode jurisdiction }
  waste { wasteClass wasteCode declaredKg }
  legs { kind carrierCreditCode vehiclePlate place driver { name phone erased } }
  receipt { acceptance acceptedKg method onTime }
  corrections { previousAcceptedKg acceptedKg reason }
  disposal { method }
  discrepancies { kind declared found differenceKg reportTo }
  nextActions { code label { zh en } dueAt overdue }`;

const OPEN = `mutation($key: String!, $input: OpenManifestInput!) {
  openManifest(idempotencyKey: $key, input: $input) { ${FIELDS} } }`;
const PICKUP = `mutation($key: String!, $number: ID!, $vehicle: ManifestVehicleInput!) {
  confirmManifestPickup(idempotencyKey: $key, number: $number, vehicle: $vehicle) { ${FIELDS} } }`;
const HAND_OVER = `mutation($key: String!, $number: ID!, $input: ManifestHandOverInput!) {
  handOverManifest(idempotencyKey: $key, number: $number, input: $input) { ${FIELDS} } }`;
const DELIVER = `mutation($key: String!, $number: ID!) {
  deliverManifest(idempotencyKey: $key, number: $number) { ${FIELDS} } }`;
const RECEIVE = `mutation($key: String!, $number: ID!, $input: ReceiveManifestInput!) {
  receiveManifest(idempotencyKey: $key, number: $number, input: $input) { ${FIELDS} } }`;
const REJECT = `mutation($key: String!, $number: ID!, $input: RejectManifestInput!) {
  rejectManifest(idempotencyKey: $key, number: $number, input: $input) { ${FIELDS} } }`;
const CORRECT = `mutation($key: String!, $number: ID!, $kg: String!, $reason: String!) {
  correctManifestReceipt(idempotencyKey: $key, number: $number, acceptedKg: $kg, reason: $reason) { ${FIELDS} } }`;
const DISPOSE = `mutation($key: String!, $number: ID!, $method: String!) {
  confirmManifestDisposal(idempotencyKey: $key, number: $number, method: $method) { ${FIELDS} } }`;
const ONE = `query($number: ID!) { manifest(number: $number) { ${FIELDS} } }`;

interface Manifest {
  number: string;
  status: string;
  legs: {
    kind: string;
    carrierCreditCode: string;
    driver: { name: string | null; erased: boolean } | null;
  }[];
  nextActions: { code: string }[];
  [field: string]: unknown;
}
type Answer = { data?: Record<string, unknown> | null; errors?: { extensions: Record<string, unknown> }[] };

const openInput = (transferId: string, declaredKg: string) => ({
  transferId,
  carrierCreditCode: CARRIER_CODE,
  waste: {
    wasteClass: 'hazardous:900-249-08',
    name: '废矿物油',
    declaredKg,
    hazardCharacteristics: ['T', 'I'],
    packaging: 'IBC 吨桶',
    form: 'liquid',
    emergencyMeasures: '泄漏时用沙土围堵，禁止明火',
  },
});
const vehicle = (plate: string, name: string, phone: string) => ({
  vehiclePlate: plate,
  operatingLicence: `道路运输经营许可证-${plate}`,
  driver: { name, phone },
});

function suite(subgraph: ReturnType<typeof useSubgraph>, label: string) {
  const app = () => subgraph.running().app;
  const post = async (
    query: string,
    variables: Record<string, unknown>,
    identity: Identity,
  ): Promise<Answer> => (await subgraph.post<Record<string, unknown>>(query, { variables, identity })).body;
  const ok = (answer: Answer, field: string): Manifest => {
    expect(answer.errors).toBeUndefined();
    return answer.data?.[field] as Manifest;
  };
  const refusal = (answer: Answer) => answer.errors?.[0]?.extensions;
  const stream = async (streamId: string): Promise<readonly RecordedEvent[]> =>
    (await app().get(Aggregates).store.readStream(streamId)).events;
  let keys = 0;
  const key = (what: string) => `${label}-${what}-${++keys}`;
  const open = (transferId: string, kg: string, who: Identity = generator) =>
    post(OPEN, { key: key('open'), input: openInput(transferId, kg) }, who);

  /** Opened, picked up by the engaged carrier and delivered by it. */
  async function delivered(transferId: string, kg: string): Promise<string> {
    const number = ok(await open(transferId, kg), 'openManifest').number;
    ok(
      await post(
        PICKUP,
        { key: key('pickup'), number, vehicle: vehicle('川A12345', '张伟', '13800138000') },
        carrier,
      ),
      'confirmManifestPickup',
    );
    ok(await post(DELIVER, { key: key('deliver'), number }, carrier), 'deliverManifest');
    return number;
  }

  return { app, post, ok, refusal, stream, key, open, delivered };
}

describe('transfer-service: electronic manifests through GraphQL', () => {
  const subgraph = useSubgraph(service);
  const t = suite(subgraph, 'pglite');
  const year = LocalDate.ofInstant(new Date()).year;
  const FACILITY = 'fac-yuhuan-1';

  beforeAll(async () => {
    await registerFacility(t.app(), FACILITY);
    await approveTransfer(t.app(), 'tr-trip', FACILITY, '10000');
    await approveTransfer(t.app(), 'tr-quota', FACILITY, '10000');
    await approveTransfer(t.app(), 'tr-weights', FACILITY, '10000');
    await approveTransfer(t.app(), 'tr-review', FACILITY, '10000');
  });

  it('runs a trip from opening to disposal, each step by its party and refused to the others', async () => {
    // Only the transfer's generator opens.
    expect(t.refusal(await t.open('tr-trip', '4000', otherGenerator))).toMatchObject({
      category: 'FORBIDDEN',
      rule: 'manifest.open',
    });
    expect(t.refusal(await t.open('tr-trip', '4000', carrier))).toMatchObject({ rule: 'manifest.open' });
    const opened = t.ok(await t.open('tr-trip', '4000'), 'openManifest');
    expect(opened.number).toMatch(new RegExp(`^${year}5101\\d{6}$`));
    expect(opened).toMatchObject({
      status: 'OPEN',
      transferId: 'tr-trip',
      facilityId: FACILITY,
      generator: { creditCode: GENERATOR_CODE, jurisdiction: '510100' },
      receiver: { creditCode: RECEIVER_CODE, jurisdiction: '500115' },
      waste: { wasteClass: 'hazardous:900-249-08', wasteCode: '900-249-08', declaredKg: '4000.000' },
      fromJurisdiction: '510100',
      toJurisdiction: '500115',
      nextActions: [],
    });
    const number = opened.number;

    // The engaged carrier picks up; another carrier may not.
    const shuyunTruck = vehicle('川A12345', '张伟', '13800138000');
    const wrongCarrier = await t.post(
      PICKUP,
      { key: t.key('pickup'), number, vehicle: shuyunTruck },
      carrier2,
    );
    expect(t.refusal(wrongCarrier)).toMatchObject({ category: 'FORBIDDEN', rule: 'manifest.carry' });
    const carrierView = t.ok(await t.post(ONE, { number }, carrier), 'manifest');
    expect(carrierView.nextActions.map((a) => a.code)).toEqual(['confirmManifestPickup']);
    const pickedUp = t.ok(
      await t.post(PICKUP, { key: t.key('pickup'), number, vehicle: shuyunTruck }, carrier),
      'confirmManifestPickup',
    );
    expect(pickedUp).toMatchObject({
      status: 'IN_TRANSIT',
      legs: [
        {
          kind: 'pickup',
          carrierCreditCode: CARRIER_CODE,
          vehiclePlate: '川A12345',
          driver: { name: '张伟', phone: '13800138000', erased: false },
        },
      ],
    });
    expect(pickedUp.nextActions.map((a) => a.code).sort()).toEqual(['deliverManifest', 'handOverManifest']);

    // Hand-over to a Chongqing carrier, with its own driver; then only it delivers.
    const handedOver = t.ok(
      await t.post(
        HAND_OVER,
        {
          key: t.key('handover'),
          number,
          input: {
            toCarrierCreditCode: CARRIER_2_CODE,
            vehicle: vehicle('渝B67890', '李娜', '13900139000'),
            at: new Date().toISOString(),
            place: '成渝高速荣昌收费站 / Rongchang toll gate',
          },
        },
        carrier,
      ),
      'handOverManifest',
    );
    expect(handedOver.carrierCreditCode).toBe(CARRIER_2_CODE);
    expect(handedOver.legs.map((l) => l.kind)).toEqual(['pickup', 'hand-over']);
    expect(t.refusal(await t.post(DELIVER, { key: t.key('deliver'), number }, carrier))).toMatchObject({
      rule: 'manifest.carry',
    });
    t.ok(await t.post(DELIVER, { key: t.key('deliver'), number }, carrier2), 'deliverManifest');

    // The facility's operator receives; another receiver may not, nor the generator.
    const receipt = { acceptedKg: '3990', method: 'R9 再生利用' };
    for (const who of [otherReceiver, generator])
      expect(
        t.refusal(await t.post(RECEIVE, { key: t.key('receive'), number, input: receipt }, who)),
      ).toMatchObject({ category: 'FORBIDDEN', rule: 'manifest.receive' });
    const received = t.ok(
      await t.post(RECEIVE, { key: t.key('receive'), number, input: receipt }, receiver),
      'receiveManifest',
    );
    expect(received).toMatchObject({
      status: 'RECEIVED',
      acceptedKg: '3990.000',
      receipt: { acceptance: 'full', acceptedKg: '3990.000', method: 'R9 再生利用', onTime: true },
      discrepancies: [], // 10 kg, 0.25%: within 5% and 100 kg
    });
    const disposed = t.ok(
      await t.post(DISPOSE, { key: t.key('dispose'), number, method: 'R9 再生利用' }, receiver),
      'confirmManifestDisposal',
    );
    expect(disposed).toMatchObject({ status: 'DISPOSED', disposal: { method: 'R9 再生利用' } });

    // The receipt consumed the facility's capacity and replaced the declared weight on the approval,
    // each in the manifest's own append.
    const ledger = await t.stream(capacityStream(FACILITY, 'HW08', year));
    expect(ledger.find((e) => e.type === 'CapacityConsumed')?.data).toMatchObject({
      reservationId: 'tr-trip',
      receiptId: number,
      quantityKg: '3990.000',
    });
    const usage = (await t.stream(approvalUsageStream('tr-trip'))).map((e) => [e.type, e.data]);
    expect(usage).toEqual([
      ['ApprovalQuantityCommitted', expect.objectContaining({ manifestNumber: number, kg: '4000.000' })],
      ['ApprovalQuantitySettled', expect.objectContaining({ previousKg: '4000.000', kg: '3990.000' })],
    ]);
    // The manifest's events name the drivers by subject only.
    const events = await t.stream(manifestStream(number));
    expect(JSON.stringify(events.map((e) => e.data))).not.toMatch(/张伟|13800138000|李娜/);

    // Reads: the parties, both provinces, Chengdu (the generator's city) and transport; not Deyang.
    for (const who of [sichuan, chongqing, chengdu, sichuanTransport, carrier, carrier2, receiver]) {
      const seen = await t.post(ONE, { number }, who);
      expect(seen.errors).toBeUndefined();
      expect((seen.data?.manifest as Manifest).number).toBe(number);
    }
    const bureauView = t.ok(await t.post(ONE, { number }, sichuan), 'manifest');
    expect(bureauView.legs.map((l) => l.driver)).toEqual([null, null]); // drivers: parties only
    for (const who of [deyang, otherGenerator, otherReceiver]) {
      expect(t.refusal(await t.post(ONE, { number }, who))).toMatchObject({
        category: 'FORBIDDEN',
        rule: 'manifest.read',
      });
      const list = await t.post(
        '{ manifests(first: 100) { totalCount edges { node { number } } } }',
        {},
        who,
      );
      const numbers = (list.data?.manifests as { edges: { node: { number: string } }[] }).edges.map(
        (e) => e.node.number,
      );
      expect(numbers).not.toContain(number);
      const history = await t.post(
        `query($n: ID!) { manifestHistory(number: $n) { type } }`,
        { n: number },
        who,
      );
      expect(t.refusal(history)).toMatchObject({ rule: 'manifest.read' });
      const entities = await t.post(
        `query($r: [_Any!]!) { _entities(representations: $r) { ... on Manifest { number } } }`,
        { r: [{ __typename: 'Manifest', number }] },
        who,
      );
      expect(entities.data?._entities ?? [null]).toEqual([null]);
      expect(entities.errors?.[0]?.extensions).toMatchObject({ rule: 'manifest.read' });
    }
    const entities = await t.post(
      `query($r: [_Any!]!) { _entities(representations: $r) { ... on Manifest { number status } } }`,
      { r: [{ __typename: 'Manifest', number }] },
      chengdu,
    );
    expect(entities.data?._entities).toEqual([{ number, status: 'DISPOSED' }]);

    // History and the record as it was after opening.
    const history = await t.post(
      `query($n: ID!) { manifestHistory(number: $n) { type actor { agencyId } } }`,
      { n: number },
      chongqing,
    );
    expect((history.data?.manifestHistory as { type: string }[]).map((h) => h.type)).toEqual([
      'ManifestOpened',
      'ManifestPickedUp',
      'ManifestHandedOver',
      'ManifestDelivered',
      'ManifestReceived',
      'ManifestDisposed',
    ]);
    const asOf = await t.post(
      `query($n: ID!, $at: DateTime!) { manifestAsOf(number: $n, asOf: $at) { status legs { kind } } }`,
      { n: number, at: events[0].metadata.recordedAt.toISOString() },
      generator,
    );
    expect(asOf.data?.manifestAsOf).toEqual({ status: 'OPEN', legs: [] });
    const listed = await t.post(
      `query($f: ManifestFilter) { manifests(filter: $f) { totalCount edges { node { number } } } }`,
      { f: { transferId: 'tr-trip', status: 'DISPOSED' } },
      chengdu,
    );
    expect(listed.data?.manifests).toEqual({ totalCount: 1, edges: [{ node: { number } }] });
  });

  it('answers a retried opening with the same manifest, stored once', async () => {
    const input = openInput('tr-trip', '100');
    const first = t.ok(await t.post(OPEN, { key: 'retry-open', input }, generator), 'openManifest');
    const again = t.ok(await t.post(OPEN, { key: 'retry-open', input }, generator), 'openManifest');
    expect(again.number).toBe(first.number);
    expect((await t.stream(manifestStream(first.number))).map((e) => e.type)).toEqual(['ManifestOpened']);
  });

  it('counts declared weights against the approval: beyond it is refused, even for two at once', async () => {
    // 10 000 kg approved. Two openings at once both fit: each gets its own number.
    const [a, b] = await Promise.all([t.open('tr-quota', '3000'), t.open('tr-quota', '3000')]);
    const numbers = [t.ok(a, 'openManifest').number, t.ok(b, 'openManifest').number];
    expect(new Set(numbers).size).toBe(2);

    // 4 000 kg left: 4 000.001 is refused, naming the field, and nothing is stored.
    const over = await t.open('tr-quota', '4000.001');
    expect(t.refusal(over)).toMatchObject({
      code: 'manifest.exceeds-authorized-quantity',
      field: 'waste.declaredKg',
      details: { remainingKg: '4000.000' },
    });

    // Two openings at once that fit alone but not together: exactly one is refused.
    const race = await Promise.all([t.open('tr-quota', '2500'), t.open('tr-quota', '2500')]);
    const refused = race.filter((r) => r.errors !== undefined);
    expect(refused).toHaveLength(1);
    expect(t.refusal(refused[0])).toMatchObject({ code: 'manifest.exceeds-authorized-quantity' });
    const committed = (await t.stream(approvalUsageStream('tr-quota'))).map(
      (e) => (e.data as { kg: string }).kg,
    );
    expect(committed).toEqual(['3000.000', '3000.000', '2500.000']);
  });

  it('raises ManifestDiscrepancyFound beyond both tolerances, in the events and the outbox', async () => {
    // 1 000 declared, 880 weighed: 120 kg and 12%, beyond both 100 kg and 5% (no agreement: defaults).
    const number = await t.delivered('tr-weights', '1000');
    const received = t.ok(
      await t.post(
        RECEIVE,
        { key: t.key('receive'), number, input: { acceptedKg: '880', method: 'R9' } },
        receiver,
      ),
      'receiveManifest',
    );
    expect(received.discrepancies).toEqual([
      { kind: 'weight', declared: '1000.000', found: '880.000', differenceKg: '120.000', reportTo: '500000' },
    ]);
    const types = (await t.stream(manifestStream(number))).map((e) => e.type);
    expect(types).toContain('ManifestDiscrepancyFound');
    const platform = t.app().get<Platform>(PLATFORM, { strict: false });
    const outbox = await (platform.sql as SqlClient).query<{ type: string; payload: unknown }>(
      `SELECT type, payload FROM ${platform.schema}.outbox WHERE key = $1 ORDER BY id`,
      [manifestStream(number)],
    );
    const published = outbox.rows.map((r) =>
      typeof r.payload === 'string'
        ? (JSON.parse(r.payload) as Record<string, unknown>)
        : (r.payload as Record<string, unknown>),
    );
    expect(published.map((p) => p.type)).toEqual(['ManifestReceived', 'ManifestDiscrepancyFound']);
    const contracts = new ContractRegistry(TRANSFER_CONTRACTS);
    for (const envelope of published) expect(contracts.validate(envelope)).toMatchObject({ ok: true });
    expect(published[1].data).toEqual({
      manifestNumber: number,
      kind: 'weight',
      declared: '1000.000',
      accepted: '880.000',
      fromJurisdiction: '510100',
      toJurisdiction: '500115',
    });

    // 1 000 declared, 960 weighed: 40 kg and 4%, within both: no discrepancy.
    const within = await t.delivered('tr-weights', '1000');
    const fine = t.ok(
      await t.post(
        RECEIVE,
        { key: t.key('receive'), number: within, input: { acceptedKg: '960', method: 'R9' } },
        receiver,
      ),
      'receiveManifest',
    );
    expect(fine.discrepancies).toEqual([]);
  });

  it("lets the receiving province's bureau review the discrepancies, once, and takes them off its worklist", async () => {
    const REVIEW = `mutation($key: String!, $number: ID!, $input: ReviewManifestDiscrepanciesInput!) {
      reviewManifestDiscrepancies(idempotencyKey: $key, number: $number, input: $input) {
        number openDiscrepancies discrepancyReviews { decision note kinds reviewedBy at } nextActions { code } } }`;
    const review = (who: Identity, decision: string, note: string, key = t.key('review')) =>
      t.post(REVIEW, { key, number, input: { decision, note } }, who);
    type Reviews = { decision: string; kinds: string[]; at: string }[];
    const reviewsOf = (m: Manifest) => m.discrepancyReviews as Reviews;
    const codes = async (who: Identity) =>
      t.ok(await t.post(ONE, { number }, who), 'manifest').nextActions.map((a) => a.code);
    const storedTypes = async () => (await t.stream(manifestStream(number))).map((e) => e.type);
    /** The bureau's discrepancy items of this manifest, once the worklist has read the whole stream. */
    const worklist = async (agencyId: string, as: Identity) => {
      const events = await t.stream(manifestStream(number));
      await t
        .app()
        .get(WorklistReadModel)
        .waitFor(events[events.length - 1].logPosition);
      const answer = await t.post(
        `query($id: ID!) { agency(id: $id) { transferWorklist(first: 100) {
          edges { node { recordId action party jurisdiction since } } } } }`,
        { id: agencyId },
        as,
      );
      expect(answer.errors).toBeUndefined();
      const page = (
        answer.data?.agency as { transferWorklist: { edges: { node: Record<string, string> }[] } }
      ).transferWorklist;
      return page.edges
        .map((e) => e.node)
        .filter((n) => n.recordId === number && n.action.startsWith('manifest.discrepancy-'));
    };

    // 1 000 declared, 880 weighed (beyond both tolerances), and other drums than declared.
    const number = await t.delivered('tr-review', '1000');
    const received = t.ok(
      await t.post(
        RECEIVE,
        {
          key: t.key('receive'),
          number,
          input: {
            acceptedKg: '880',
            method: 'R9',
            differences: [{ kind: 'packaging', declared: 'IBC 吨桶', found: '200 L 铁桶' }],
          },
        },
        receiver,
      ),
      'receiveManifest',
    );
    expect(received.discrepancies).toHaveLength(2);
    expect((await worklist('cq-eeb', chongqing)).map((n) => [n.action, n.party, n.jurisdiction])).toEqual([
      ['manifest.discrepancy-packaging', 'receiving-bureau', '500000'],
      ['manifest.discrepancy-weight', 'receiving-bureau', '500000'],
    ]);

    // The action is offered to the receiving province's approvers only.
    expect(await codes(chongqingApprover)).toEqual(['reviewManifestDiscrepancies']);
    for (const who of [chongqing, sichuanApprover, chengdu]) expect(await codes(who)).toEqual([]);
    expect(await codes(receiver)).toEqual(['confirmManifestDisposal', 'correctManifestReceipt']);

    // Everyone else is refused, naming the rule and the check, and nothing is stored.
    const before = await storedTypes();
    // Each refusal says which check failed (kind, role, jurisdiction), in both languages.
    for (const [who, why] of [
      [generator, /only a provincial environment bureau may do this/],
      [receiver, /only a provincial environment bureau may do this/],
      [chengdu, /only a provincial environment bureau may do this/],
      [chongqing, /needs one of the roles/], // a clerk prepares, an approver decides
      [sichuanApprover, /touches no jurisdiction within yours \(510000\)/], // the exporting side
    ] as const) {
      const refused = t.refusal(await review(who, 'NO_FURTHER_ACTION', '已核实'));
      expect(refused).toMatchObject({ category: 'FORBIDDEN', rule: 'manifest.review-discrepancies' });
      expect((refused?.messages as { en: string }).en).toMatch(why);
      expect((refused?.messages as { zh: string }).zh).toMatch(/核查联单差异/);
    }
    // Bad input: a typed error naming the field, in both languages; nothing stored either.
    // A decision outside the enum never reaches the service's code: the graph refuses it by name.
    const badDecision = await review(chongqingApprover, 'CLOSE', '已核实');
    expect(badDecision.data ?? null).toBeNull();
    expect(JSON.stringify(badDecision.errors)).toMatch(/DiscrepancyReviewDecision/);
    expect(t.refusal(await review(chongqingApprover, 'REFER_TO_ENFORCEMENT', '  '))).toMatchObject({
      code: 'manifest.required',
      field: 'note',
    });
    expect(
      t.refusal(await review(chongqingApprover, 'REFER_TO_ENFORCEMENT', '差'.repeat(2001))),
    ).toMatchObject({ code: 'manifest.note-too-long', field: 'note' });
    expect(await storedTypes()).toEqual(before);

    // The receiving bureau refers the matter to enforcement; a retry answers the same, stored once.
    const key = t.key('review');
    const note = '重量短少12%且包装不符，移送执法核查 / 12% short and other drums: referred';
    const reviewed = t.ok(
      await review(chongqingApprover, 'REFER_TO_ENFORCEMENT', note, key),
      'reviewManifestDiscrepancies',
    );
    expect(reviewed).toMatchObject({
      openDiscrepancies: [],
      discrepancyReviews: [
        { decision: 'REFER_TO_ENFORCEMENT', note, kinds: ['weight', 'packaging'], reviewedBy: 'cq-eeb' },
      ],
      nextActions: [],
    });
    const retried = t.ok(
      await review(chongqingApprover, 'REFER_TO_ENFORCEMENT', note, key),
      'reviewManifestDiscrepancies',
    );
    expect(retried.discrepancyReviews).toEqual(reviewed.discrepancyReviews);
    expect(await storedTypes()).toEqual([...before, 'ManifestDiscrepanciesReviewed']);

    // Off the bureau's worklist; in the history, by whom.
    expect(await worklist('cq-eeb', chongqing)).toEqual([]);
    const history = await t.post(
      `query($n: ID!) { manifest(number: $n) { history { type actor { agencyId } } } }`,
      { n: number },
      sichuan,
    );
    expect(history.errors).toBeUndefined();
    expect((history.data?.manifest as { history: unknown[] }).history.slice(-1)).toEqual([
      { type: 'ManifestDiscrepanciesReviewed', actor: { agencyId: 'cq-eeb' } },
    ]);

    // Nothing open now: a second review is refused.
    expect(t.refusal(await review(chongqingApprover, 'NO_FURTHER_ACTION', '再次核查'))).toMatchObject({
      code: 'manifest.no-open-discrepancies',
      field: 'manifestNumber',
    });
    expect(await codes(chongqingApprover)).toEqual([]);

    // A later correction still beyond tolerance is a new weight discrepancy, on the worklist again.
    t.ok(
      await t.post(
        CORRECT,
        { key: t.key('correct'), number, kg: '870', reason: '复磅 / re-weighed' },
        receiver,
      ),
      'correctManifestReceipt',
    );
    const reopened = await worklist('cq-eeb', chongqing);
    expect(reopened.map((n) => n.action)).toEqual(['manifest.discrepancy-weight']);
    expect(Date.parse(reopened[0].since)).toBeGreaterThanOrEqual(Date.parse(reviewsOf(reviewed)[0].at));
    expect(await codes(chongqingApprover)).toEqual(['reviewManifestDiscrepancies']);
    const second = t.ok(
      await review(chongqingApprover, 'NO_FURTHER_ACTION', '复磅后短少130千克，计量误差 / weighing error'),
      'reviewManifestDiscrepancies',
    );
    expect(reviewsOf(second).map((r) => [r.decision, r.kinds])).toEqual([
      ['REFER_TO_ENFORCEMENT', ['weight', 'packaging']],
      ['NO_FURTHER_ACTION', ['weight']],
    ]);
    expect(await worklist('cq-eeb', chongqing)).toEqual([]);
  });

  it('corrects a receipt with a new fact: the approval and the capacity follow, the first receipt stays', async () => {
    const number = await t.delivered('tr-weights', '2000');
    t.ok(
      await t.post(
        RECEIVE,
        { key: t.key('receive'), number, input: { acceptedKg: '1990', method: 'R9' } },
        receiver,
      ),
      'receiveManifest',
    );
    expect(
      t.refusal(
        await t.post(CORRECT, { key: t.key('correct'), number, kg: '1980', reason: '复磅' }, generator),
      ),
    ).toMatchObject({ rule: 'manifest.receive' });
    const corrected = t.ok(
      await t.post(
        CORRECT,
        { key: t.key('correct'), number, kg: '1980.5', reason: '地磅复检 / re-weighed' },
        receiver,
      ),
      'correctManifestReceipt',
    );
    expect(corrected).toMatchObject({
      acceptedKg: '1980.500',
      corrections: [
        { previousAcceptedKg: '1990.000', acceptedKg: '1980.500', reason: '地磅复检 / re-weighed' },
      ],
    });
    const events = await t.stream(manifestStream(number));
    expect(events.map((e) => e.type)).toEqual([
      'ManifestOpened',
      'ManifestPickedUp',
      'ManifestDelivered',
      'ManifestReceived',
      'ManifestReceiptCorrected',
    ]);
    expect(events[3].data).toMatchObject({ acceptedKg: '1990.000' });
    const usage = (await t.stream(approvalUsageStream('tr-weights'))).filter(
      (e) => (e.data as { manifestNumber: string }).manifestNumber === number,
    );
    expect(usage.map((e) => (e.data as { kg: string }).kg)).toEqual(['2000.000', '1990.000', '1980.500']);
    const ledger = await t.stream(capacityStream(FACILITY, 'HW08', year));
    const mine = ledger.filter((e) => (e.data as { receiptId?: string }).receiptId === number);
    expect(mine.map((e) => e.type)).toEqual(['CapacityConsumed', 'CapacityReceiptCorrected']);
    const platform = t.app().get<Platform>(PLATFORM, { strict: false });
    const outbox = await (platform.sql as SqlClient).query<{ type: string }>(
      `SELECT type FROM ${platform.schema}.outbox WHERE key = $1 ORDER BY id`,
      [manifestStream(number)],
    );
    expect(outbox.rows.map((r) => r.type)).toEqual(['ManifestReceived', 'ManifestReceiptCorrected']);
  });

  it('gives a rejected load back to the approval', async () => {
    const number = await t.delivered('tr-weights', '500');
    t.ok(
      await t.post(
        REJECT,
        {
          key: t.key('reject'),
          number,
          input: { reasons: ['包装破损 / broken drums'], disposition: 'return-to-generator' },
        },
        receiver,
      ),
      'rejectManifest',
    );
    const usage = (await t.stream(approvalUsageStream('tr-weights'))).filter(
      (e) => (e.data as { manifestNumber: string }).manifestNumber === number,
    );
    expect(usage.map((e) => e.type)).toEqual(['ApprovalQuantityCommitted', 'ApprovalQuantityReleased']);
  });

  it("reads an erased driver's name and phone as erased, and keeps every event", async () => {
    const number = await t.delivered('tr-weights', '300');
    const before = await t.stream(manifestStream(number));
    const subject = (before[1].data as { driverSubjectId: string }).driverSubjectId;
    expect((await t.stream(driverStream(subject))).map((e) => e.type)).toEqual(['ManifestDriverRecorded']);
    const shown = t.ok(await t.post(ONE, { number }, generator), 'manifest');
    expect(shown.legs[0].driver).toEqual({ name: '张伟', phone: '13800138000', erased: false });

    const codec = t.app().get<PersonalDataCodec>(MANIFEST_PERSONAL_DATA, { strict: false });
    await codec.keys.erase(subject, { by: 'user:dpo', reason: 'PIPL Art 47 request #12' });

    const erased = t.ok(await t.post(ONE, { number }, generator), 'manifest');
    expect(erased.legs[0].driver).toEqual({ name: null, phone: null, erased: true });
    const after = await t.stream(manifestStream(number));
    expect(after.map((e) => [e.eventId, e.streamPosition])).toEqual(
      before.map((e) => [e.eventId, e.streamPosition]),
    );
  });

  it('opens no manifest to a suspended facility, nor under a transfer that is not approved', async () => {
    await registerFacility(t.app(), 'fac-suspended');
    await approveTransfer(t.app(), 'tr-suspended', 'fac-suspended', '1000');
    await t
      .app()
      .get(Aggregates)
      .handle({
        decider: facilityDecider,
        streamId: facilityStream('fac-suspended'),
        command: {
          type: 'SuspendFacility',
          data: { facilityId: 'fac-suspended', reason: '整改 / rectification' },
          metadata: meta(chongqing, 'suspend-fac-suspended'),
        },
      });
    expect(t.refusal(await t.open('tr-suspended', '100'))).toMatchObject({
      code: 'manifest.facility-not-accepting',
      field: 'transferId',
    });
    expect(t.refusal(await t.open('tr-unknown', '100'))).toMatchObject({
      code: 'manifest.transfer-not-approved',
      field: 'transferId',
    });
    expect(await t.stream(approvalUsageStream('tr-suspended'))).toEqual([]);
  });

  it('publishes ManifestOverdue when the transit timer finds the trip late (a system command)', async () => {
    const number = t.ok(await t.open('tr-weights', '50'), 'openManifest').number;
    const pickedUp = t.ok(
      await t.post(
        PICKUP,
        { key: t.key('pickup'), number, vehicle: vehicle('川A12345', '张伟', '13800138000') },
        carrier,
      ),
      'confirmManifestPickup',
    );
    const dueAt = new Date(pickedUp.transitDueAt as string);
    const commands = t.app().get(ManifestCommands);
    const result = await commands.handle({
      type: 'TransitTimerFired',
      data: { manifestNumber: number },
      metadata: {
        commandId: `transit-timer-${number}`,
        now: new Date(dueAt.getTime() + 1000),
        actor: systemActor('manifest.transit-timer'),
        correlationId: `timer-${number}`,
      },
    });
    expect(result.state).toMatchObject({ status: 'in-transit', overdue: ['transit'] });
    // A person cannot fire a timer.
    await expect(
      commands.handle(
        {
          type: 'TransitTimerFired',
          data: { manifestNumber: number },
          metadata: { ...meta(carrier, `timer-by-hand-${number}`) },
        },
        carrier,
      ),
    ).rejects.toMatchObject({ rule: 'manifest.timer' });
    const platform = t.app().get<Platform>(PLATFORM, { strict: false });
    const outbox = await (platform.sql as SqlClient).query<{ type: string; payload: unknown }>(
      `SELECT type, payload FROM ${platform.schema}.outbox WHERE key = $1 ORDER BY id`,
      [manifestStream(number)],
    );
    expect(outbox.rows.map((r) => r.type)).toEqual(['ManifestOverdue']);
    const envelope = (
      typeof outbox.rows[0].payload === 'string' ? JSON.parse(outbox.rows[0].payload) : outbox.rows[0].payload
    ) as Record<string, unknown>;
    expect(new ContractRegistry(TRANSFER_CONTRACTS).validate(envelope)).toMatchObject({ ok: true });
    expect(envelope.data).toEqual({
      manifestNumber: number,
      reason: 'transit',
      dueAt: dueAt.toISOString(),
      fromJurisdiction: '510100',
      toJurisdiction: '500115',
    });
  });

  it("refuses the decider's refusals as typed errors naming the field", async () => {
    const badPlate = await t.post(
      PICKUP,
      {
        key: t.key('pickup'),
        number: t.ok(await t.open('tr-weights', '10'), 'openManifest').number,
        vehicle: vehicle('ABC', '王五', '13700137000'),
      },
      carrier,
    );
    expect(t.refusal(badPlate)).toMatchObject({
      code: 'manifest.vehicle-plate-format',
      field: 'vehiclePlate',
    });
    const badPhone = await t.post(
      PICKUP,
      {
        key: t.key('pickup'),
        number: t.ok(await t.open('tr-weights', '10'), 'openManifest').number,
        vehicle: vehicle('川A12345', '王五', '12'),
      },
      carrier,
    );
    expect(t.refusal(badPhone)).toMatchObject({
      code: 'manifest.driver-phone-format',
      field: 'driver.phone',
    });
  });

  it('backfills a paper manifest from an outage with its pickup and delivery, numbered in the trip year', async () => {
    const today = LocalDate.ofInstant(new Date()).toString();
    const picked = new Date(Date.now() - 3 * 3600_000).toISOString();
    const deliveredAt = new Date(Date.now() - 3600_000).toISOString();
    const answer = await t.post(
      `mutation($key: String!, $input: BackfillPaperManifestInput!) {
        backfillPaperManifest(idempotencyKey: $key, input: $input) {
          number status paperReference deliveredAt receiptDueAt receiptDueProvisional
          legs { kind driver { name erased } } } }`,
      {
        key: t.key('backfill'),
        input: {
          ...openInput('tr-weights', '200'),
          paperReference: 'ZY-2026-000123',
          tripDate: today,
          pickupVehicle: vehicle('川A12345', '赵六', '13600136000'),
          pickedUpAt: picked,
          deliveredAt,
        },
      },
      generator,
    );
    const backfilled = t.ok(answer, 'backfillPaperManifest');
    expect(backfilled).toMatchObject({
      status: 'DELIVERED',
      paperReference: 'ZY-2026-000123',
      // Five working days from delivery, provisional only if they reach a year the calendar lacks.
      receiptDueProvisional: t
        .app()
        .get<WorkingDayCalendar>(WORKING_DAY_CALENDAR)
        .addWorkingDays(new Date(deliveredAt), 5).provisional,
      legs: [{ kind: 'pickup', driver: { name: '赵六', erased: false } }],
    });
    expect(Date.parse(backfilled.receiptDueAt as string)).toBeGreaterThan(Date.now());
    expect(backfilled.number).toMatch(new RegExp(`^${year}5101\\d{6}$`));
    expect((await t.stream(manifestStream(backfilled.number))).map((e) => e.type)).toEqual([
      'PaperManifestBackfilled',
    ]);
    // A carrier cannot backfill for the generator.
    const byCarrier = await t.post(
      `mutation($key: String!, $input: BackfillPaperManifestInput!) {
        backfillPaperManifest(idempotencyKey: $key, input: $input) { number } }`,
      {
        key: t.key('backfill'),
        input: { ...openInput('tr-weights', '200'), paperReference: 'x', tripDate: today },
      },
      carrier,
    );
    expect(t.refusal(byCarrier)).toMatchObject({ category: 'FORBIDDEN', rule: 'manifest.open' });
  });

  // Last of this suite: from here on an adopted agreement governs Sichuan–Chongqing.
  it("applies the adopted agreement's tolerance and transit time instead of the defaults", async () => {
    const today = LocalDate.ofInstant(new Date());
    const aggregates = t.app().get(Aggregates);
    const agreement = (command: AgreementCommand) =>
      aggregates.handle({ decider: agreementDecider, streamId: agreementStream('ag-chengyu'), command });
    const system = (commandId: string) => ({
      commandId,
      now: new Date(),
      actor: systemActor('manifest-spec'),
      correlationId: 'spec-agreement',
    });
    await agreement({
      type: 'ProposeAgreement',
      data: {
        agreementId: 'ag-chengyu',
        secretariatId: 'chengyu-secretariat',
        title: { zh: '川渝危险废物跨省转移合作协议', en: 'Sichuan–Chongqing transfer agreement' },
        members: ['510000', '500000'],
        effectiveFrom: today.plusDays(-30).toString(),
        validUntil: today.plusDays(365).toString(),
        clauses: {
          whitelist: [],
          compensationRates: [
            {
              wasteClassOrCategory: 'HW08',
              yuanPerTonne: '100',
              payer: '510000',
              payees: [{ jurisdiction: '500000', shareBasisPoints: 10_000 }],
              from: today.plusDays(-30).toString(),
              to: null,
            },
          ],
          tolerance: { percent: '2.5', kg: '50' },
          maxTransitDays: 2,
          dataSharing: [],
        },
      },
      metadata: system('ag-propose'),
    });
    await agreement({
      type: 'SignAgreement',
      data: { agreementId: 'ag-chengyu', member: '510000' },
      metadata: system('ag-sign-sc'),
    });
    const adopted = await agreement({
      type: 'SignAgreement',
      data: { agreementId: 'ag-chengyu', member: '500000' },
      metadata: system('ag-sign-cq'),
    });
    expect(adopted.events.map((e) => e.type)).toContain('AgreementAdopted');
    await t.app().get(AgreementReadModel).waitFor(adopted.lastLogPosition);

    // 1 000 declared, 945 weighed: 55 kg and 5.5%, within the default 100 kg, beyond 2.5% and 50 kg.
    const number = t.ok(await t.open('tr-weights', '1000'), 'openManifest').number;
    t.ok(
      await t.post(
        PICKUP,
        { key: t.key('pickup'), number, vehicle: vehicle('川A12345', '张伟', '13800138000') },
        carrier,
      ),
      'confirmManifestPickup',
    );
    t.ok(await t.post(DELIVER, { key: t.key('deliver'), number }, carrier), 'deliverManifest');
    const received = t.ok(
      await t.post(
        RECEIVE,
        { key: t.key('receive'), number, input: { acceptedKg: '945', method: 'R9' } },
        receiver,
      ),
      'receiveManifest',
    );
    expect(received.discrepancies).toEqual([
      { kind: 'weight', declared: '1000.000', found: '945.000', differenceKg: '55.000', reportTo: '500000' },
    ]);
    const events = await t.stream(manifestStream(number));
    expect(events.find((e) => e.type === 'ManifestPickedUp')?.data).toMatchObject({ maxTransitDays: 2 });
    expect(events.find((e) => e.type === 'ManifestDiscrepancyFound')?.data).toMatchObject({
      tolerance: { percentBasisPoints: 250, kg: '50.000' },
    });
  });
});

describeWithPostgres('transfer-service on PostgreSQL: openings racing for the last kilograms', () => {
  const db = useTestDatabase('manifest-race');
  const subgraph = useSubgraph(service, { env: () => ({ EVENT_STORE: 'postgres', DATABASE_URL: db().url }) });
  const t = suite(subgraph, 'pg');

  it('lets one of two concurrent openings through and refuses the other; numbers never collide', async () => {
    await registerFacility(t.app(), 'fac-pg');
    await approveTransfer(t.app(), 'tr-pg', 'fac-pg', '1000');
    const openings = await Promise.all([0, 1, 2, 3].map(() => t.open('tr-pg', '400')));
    const passed = openings.filter((o) => o.errors === undefined).map((o) => t.ok(o, 'openManifest').number);
    expect(passed).toHaveLength(2);
    expect(new Set(passed).size).toBe(2);
    for (const refused of openings.filter((o) => o.errors !== undefined))
      expect(t.refusal(refused)).toMatchObject({ code: 'manifest.exceeds-authorized-quantity' });
  });
});
