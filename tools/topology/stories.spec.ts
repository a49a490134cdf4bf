import { randomBytes } from 'node:crypto';
import { ContractRegistry, TRANSFER_CONTRACTS, topicFor } from '@lianfang/contracts';
import { LocalDate } from '@lianfang/domain-kernel';
import { describeWithKafka, kafkaBrokers, useTestDatabase } from '@lianfang/testing';
import type { UserClaims } from './issuer';
import { freePorts, startApp, startTopology, type AppProcess, type Topology } from './processes';
import {
  Correlations,
  eventually,
  readDirectory,
  readWholeTopic,
  serverTiming,
  staffOf,
  straightToSubgraph,
  throughGateway,
  type Answer,
  type Caller,
  type ServerTiming,
  type TopicMessage,
} from './story-client';

// The Sichuan→Chongqing story of issue 6, told by the people of the demo region through the gateway
// with their own tokens, against the four apps running as separate processes on the real PostgreSQL
// and Kafka: once by consultation letter, once under a whitelist entry; then what the bus carried;
// then two transfer-service processes approving against the same facility at the same moment.

const run = randomBytes(4).toString('hex');
const stories = new Correlations(`stories-${run}`);
const race = new Correlations(`race-${run}`);

const directory = readDirectory();
const agency = (id: string) => {
  const found = directory.get(id);
  if (!found) throw new Error(`${id} is not in the demo directory`);
  return found;
};
const RECEIVER = agency('cq-yuhuan-disposal');
const CARRIER = agency('sc-shuyun-transport');
const GENERATOR = agency('cd-jincheng-auto');

// Each person holds only the roles the step needs.
const people = {
  secretariat: staffOf(agency('chengyu-secretariat'), ['clerk']),
  sichuanClerk: staffOf(agency('sc-eeb'), ['clerk']),
  sichuanApprover: staffOf(agency('sc-eeb'), ['approver']),
  chongqingClerk: staffOf(agency('cq-eeb'), ['clerk']),
  chongqingApprover: staffOf(agency('cq-eeb'), ['approver']),
  generator: staffOf(GENERATOR, ['clerk']),
  carrier: staffOf(CARRIER, ['clerk']),
  otherCarrier: staffOf(agency('cq-yutong-transport'), ['clerk']),
  receiver: staffOf(RECEIVER, ['clerk']),
} satisfies Record<string, UserClaims>;
type Person = keyof typeof people;

const today = LocalDate.ofInstant(new Date());
const year = today.year;
const WASTE_CODE = '900-249-08';
const WINDOW = { from: today.toString(), to: today.plusDays(60).toString() };

// ─── GraphQL documents ────────────────────────────────────────────────────────────────────────────

const REGISTER_FACILITY = `mutation($key: String!, $input: RegisterFacilityInput!) {
  registerFacility(idempotencyKey: $key, input: $input) { id status operatorCreditCode jurisdiction } }`;
const AGREEMENT = `id status signatures { member signed }
  versions { clauses { whitelist { entryId receivingFacilityId quantityKg year } tolerance { percentBasisPoints kg } } }`;
const PROPOSE = `mutation($key: String!, $input: ProposeAgreementInput!) {
  proposeAgreement(idempotencyKey: $key, input: $input) { ${AGREEMENT} } }`;
const SIGN = `mutation($key: String!, $id: ID!, $member: JurisdictionCode) {
  signAgreement(idempotencyKey: $key, agreementId: $id, member: $member) { ${AGREEMENT} } }`;
const UPLOAD = `mutation($kind: TransferAttachmentKind!, $mediaType: String!, $content: String!) {
  uploadTransferAttachment(kind: $kind, mediaType: $mediaType, contentBase64: $content) { sha256 kind } }`;
const TRANSFER = `id status route totalKg
  whitelist { entryId agreementId remainingKg withinEntry }
  approval { validFrom validUntil totalKg }`;
const SUBMIT = `mutation($key: String!, $input: SubmitTransferApplicationInput!) {
  submitTransferApplication(idempotencyKey: $key, input: $input) { ${TRANSFER} } }`;
const ACCEPT = `mutation($key: String!, $id: ID!) {
  acceptTransferApplication(idempotencyKey: $key, transferId: $id) { ${TRANSFER} } }`;
const LETTER = `mutation($key: String!, $id: ID!) {
  sendConsultationLetter(idempotencyKey: $key, transferId: $id) { ${TRANSFER} } }`;
const REPLY = `mutation($key: String!, $id: ID!, $consent: Boolean!) {
  replyToConsultationLetter(idempotencyKey: $key, transferId: $id, consent: $consent) { ${TRANSFER} } }`;
const APPROVE = `mutation($key: String!, $id: ID!) {
  approveTransfer(idempotencyKey: $key, transferId: $id) { ${TRANSFER} } }`;
const ONE_TRANSFER = `query($id: ID!) { transfer(id: $id) { ${TRANSFER} } }`;
const MANIFEST = `number status transferId facilityId acceptedKg waste { declaredKg } receipt { acceptance acceptedKg }
  disposal { method }`;
const OPEN = `mutation($key: String!, $input: OpenManifestInput!) {
  openManifest(idempotencyKey: $key, input: $input) { ${MANIFEST} } }`;
const PICKUP = `mutation($key: String!, $number: ID!, $vehicle: ManifestVehicleInput!) {
  confirmManifestPickup(idempotencyKey: $key, number: $number, vehicle: $vehicle) { ${MANIFEST} } }`;
const DELIVER = `mutation($key: String!, $number: ID!) {
  deliverManifest(idempotencyKey: $key, number: $number) { ${MANIFEST} } }`;
const RECEIVE = `mutation($key: String!, $number: ID!, $input: ReceiveManifestInput!) {
  receiveManifest(idempotencyKey: $key, number: $number, input: $input) { ${MANIFEST} } }`;
const DISPOSE = `mutation($key: String!, $number: ID!, $method: String!) {
  confirmManifestDisposal(idempotencyKey: $key, number: $number, method: $method) { ${MANIFEST} } }`;
const WORKLIST = `query($id: ID!) { agency(id: $id) {
  transferWorklist(first: 100) { edges { node { recordType recordId action party } } } } }`;
const CAN_TAKE = `query($code: String!, $year: Int!) {
  facilitiesThatCanTake(wasteCode: $code, tonnes: "0.001", year: $year, within: "500000", first: 100) {
    facility { id } availableKg } }`;

interface TransferView {
  id: string;
  status: string;
  route: string;
  totalKg: string;
  whitelist: {
    entryId: string;
    agreementId: string | null;
    remainingKg: string;
    withinEntry: boolean;
  } | null;
  approval: { validFrom: string; validUntil: string; totalKg: string } | null;
}
interface ManifestView {
  number: string;
  status: string;
  acceptedKg: string | null;
  [field: string]: unknown;
}
interface WorkItem {
  recordType: string;
  recordId: string;
  action: string;
  party: string;
}

const facilityInput = (licence: string, capacityTonnes: string) => ({
  name: { zh: '重庆渝环危险废物处置中心', en: 'Chongqing Yuhuan hazardous waste disposal centre' },
  licenceNumber: licence,
  operatorCreditCode: RECEIVER.creditCode,
  jurisdiction: '500115',
  coordinates: { lat: '29.857', lon: '107.081' },
  licensed: [{ category: 'HW08', annualCapacityTonnes: capacityTonnes }],
  validFrom: '2024-01-01',
  validTo: '2099-12-31',
});

const manifestInput = (transferId: string, declaredKg: string) => ({
  transferId,
  carrierCreditCode: CARRIER.creditCode,
  waste: {
    wasteClass: `hazardous:${WASTE_CODE}`,
    name: '废矿物油 / waste mineral oil',
    declaredKg,
    hazardCharacteristics: ['T', 'I'],
    packaging: 'IBC 吨桶',
    form: 'liquid',
    emergencyMeasures: '泄漏时用沙土围堵，禁止明火 / contain spills with sand, no naked flames',
  },
});

const truck = {
  vehiclePlate: '川A3F721',
  operatingLicence: '川交运管许可成字510100001234号',
  driver: { name: '王建国', phone: '13880001234' },
};

/** The answer's data field, failing with the errors when there are any. */
function ok<T>(answer: Answer, field: string): T {
  expect({ field, errors: answer.errors }).toEqual({ field, errors: [] });
  const value = answer.data?.[field];
  expect(value).toBeDefined();
  return value as T;
}

/** The refusal's extensions; nothing was returned. */
function refusal(answer: Answer): Record<string, unknown> {
  expect(answer.errors.length).toBeGreaterThan(0);
  for (const v of Object.values(answer.data ?? {})) expect(v).toBeNull();
  return (answer.errors[0].extensions ?? {}) as Record<string, unknown>;
}

describeWithKafka('the Sichuan→Chongqing story through the gateway, one process per app', () => {
  const db = useTestDatabase('stories');
  let topology: Topology;
  const as = {} as Record<Person, Caller>;

  beforeAll(async () => {
    topology = await startTopology({
      databaseUrl: db().url,
      kafkaBrokers: kafkaBrokers(),
      readyTimeoutMs: 60_000,
    });
    for (const [who, claims] of Object.entries(people) as [Person, UserClaims][])
      as[who] = throughGateway(topology.url('gateway'), topology.issuer, claims, stories);
  }, 150_000);

  afterAll(async () => {
    await topology?.stop();
  }, 60_000);

  /** What waits on `agencyId` for one record, as `action@party`, sorted. */
  async function workOn(agencyId: string, recordId: string, who: Person): Promise<string[]> {
    const answer = await as[who](WORKLIST, { id: agencyId });
    const agencyNode = ok<{ transferWorklist: { edges: { node: WorkItem }[] } }>(answer, 'agency');
    return agencyNode.transferWorklist.edges
      .map((e) => e.node)
      .filter((n) => n.recordId === recordId)
      .map((n) => `${n.action}@${n.party}`)
      .sort();
  }

  /** The worklist projection follows the events: wait until it shows exactly `expected`. */
  async function expectWork(who: Person, recordId: string, expected: string[]): Promise<void> {
    const agencyId = people[who].agency_id;
    let last: string[] = [];
    await eventually(
      async () => {
        last = await workOn(agencyId, recordId, who);
        return JSON.stringify(last) === JSON.stringify([...expected].sort()) ? true : undefined;
      },
      () =>
        `${agencyId}'s worklist for ${recordId}: ${JSON.stringify(last)}, expected ${JSON.stringify(expected)}`,
    );
  }

  /** The facility's capacity left this year for HW08, once the capacity read model has it. */
  async function availableKg(facilityId: string, settledOn: (kg: string) => boolean): Promise<string> {
    let last: string | null = null;
    return eventually(
      async () => {
        const candidates = ok<{ facility: { id: string }; availableKg: string }[]>(
          await as.generator(CAN_TAKE, { code: WASTE_CODE, year }),
          'facilitiesThatCanTake',
        );
        last = candidates.find((c) => c.facility.id === facilityId)?.availableKg ?? null;
        return last !== null && settledOn(last) ? last : undefined;
      },
      () => `facility ${facilityId} has ${last ?? 'no'} kg available for ${WASTE_CODE} in ${year}`,
    );
  }

  async function registerFacility(key: string, licence: string, capacityTonnes: string): Promise<string> {
    const registered = ok<{ id: string; status: string; operatorCreditCode: string }>(
      await as.chongqingClerk(REGISTER_FACILITY, {
        key,
        input: facilityInput(licence, capacityTonnes),
      }),
      'registerFacility',
    );
    expect(registered).toMatchObject({ status: 'ACTIVE', operatorCreditCode: RECEIVER.creditCode });
    return registered.id;
  }

  let attachments: string[] = [];
  async function uploadAttachments(): Promise<string[]> {
    const documents: [string, string, Buffer][] = [
      ['LICENCE', 'application/pdf', Buffer.from(`%PDF-1.7 危险废物经营许可证复印件 ${run}`)],
      ['METHOD', 'application/pdf', Buffer.from(`%PDF-1.7 利用处置方式说明 re-refining ${run}`)],
      ['CONTRACT', 'application/pdf', Buffer.from(`%PDF-1.7 委托处置合同 disposal contract ${run}`)],
    ];
    const stored: string[] = [];
    for (const [kind, mediaType, bytes] of documents) {
      const answer = await as.generator(UPLOAD, { kind, mediaType, content: bytes.toString('base64') });
      stored.push(ok<{ sha256: string }>(answer, 'uploadTransferAttachment').sha256);
    }
    return stored;
  }

  const submit = async (key: string, input: Record<string, unknown>) =>
    ok<TransferView>(
      await as.generator(SUBMIT, {
        key,
        input: {
          path: 'LETTER',
          lines: [{ wasteCode: WASTE_CODE, quantityKg: '12000.5' }],
          method: 'R9 废矿物油再生利用 / re-refining',
          window: WINDOW,
          attachments,
          ...input,
        },
      }),
      'submitTransferApplication',
    );

  /** A transfer by letter taken to the decision: accepted, written about, consented to. */
  async function awaitingDecision(key: string, facilityId: string, kg: string): Promise<string> {
    const { id } = await submit(`${key}-submit`, {
      receiverFacilityId: facilityId,
      lines: [{ wasteCode: WASTE_CODE, quantityKg: kg }],
    });
    ok(await as.sichuanClerk(ACCEPT, { key: `${key}-accept`, id }), 'acceptTransferApplication');
    ok(await as.sichuanClerk(LETTER, { key: `${key}-letter`, id }), 'sendConsultationLetter');
    const replied = ok<TransferView>(
      await as.chongqingApprover(REPLY, { key: `${key}-reply`, id, consent: true }),
      'replyToConsultationLetter',
    );
    expect(replied.status).toBe('AWAITING_DECISION');
    return id;
  }

  // Shared by the stories: the agreement, the facility it whitelists, the transfers and manifests.
  const story = {
    facilityId: '',
    agreementId: '',
    entryId: `wl-${year}-sc-yuhuan-${run}`,
    letter: { transferId: '', manifest: '', receiptDate: '' },
    whitelist: { transferId: '', manifest: '', receiptDate: '' },
  };

  it('by letter: agreement, facility, application, letter, consent, approval, one trip to disposal', async () => {
    // The receiving facility: Chongqing's bureau keeps the licence on the platform; not Sichuan's.
    const licence = `渝危废经第500115${run}号`;
    const bySichuan = await as.sichuanClerk(REGISTER_FACILITY, {
      key: `facility-by-sichuan-${run}`,
      input: facilityInput(`${licence}-x`, '1000'),
    });
    expect(refusal(bySichuan)).toMatchObject({ code: 'FORBIDDEN', rule: 'facility.manage' });
    story.facilityId = await registerFacility(`facility-${run}`, licence, '1000');

    // The secretariat proposes the Sichuan–Chongqing agreement: whitelist entry, rates, tolerance.
    const proposed = ok<{ id: string; status: string }>(
      await as.secretariat(PROPOSE, {
        key: `agreement-${run}`,
        input: {
          title: {
            zh: '川渝危险废物跨省转移合作协议',
            en: 'Sichuan–Chongqing agreement on cross-province hazardous waste transfers',
          },
          members: ['510000', '500000'],
          effectiveFrom: `${year}-01-01`,
          clauses: {
            whitelist: [
              {
                entryId: story.entryId,
                exportingMember: '510000',
                receivingFacilityId: story.facilityId,
                wasteCodes: [WASTE_CODE],
                tonnes: '50',
                year,
              },
            ],
            compensationRates: [
              {
                wasteClassOrCategory: 'HW08',
                yuanPerTonne: '150.00',
                payer: '510000',
                payees: [{ jurisdiction: '500000', shareBasisPoints: 10_000 }],
                from: `${year}-01-01`,
              },
            ],
            tolerance: { percent: '5', kg: '100' },
            maxTransitDays: 3,
          },
        },
      }),
      'proposeAgreement',
    );
    expect(proposed.status).toBe('PROPOSED');
    story.agreementId = proposed.id;
    await expectWork('sichuanClerk', story.agreementId, ['agreement.sign@member-bureau']);
    await expectWork('chongqingClerk', story.agreementId, ['agreement.sign@member-bureau']);

    // Each bureau signs for its own province only.
    const forChongqing = await as.sichuanApprover(SIGN, {
      key: `sign-sc-for-cq-${run}`,
      id: story.agreementId,
      member: '500000',
    });
    expect(refusal(forChongqing)).toMatchObject({ category: 'FORBIDDEN' });
    const half = ok<{ status: string }>(
      await as.sichuanApprover(SIGN, { key: `sign-sc-${run}`, id: story.agreementId }),
      'signAgreement',
    );
    expect(half.status).toBe('PROPOSED');
    await expectWork('sichuanClerk', story.agreementId, []);
    await expectWork('chongqingClerk', story.agreementId, ['agreement.sign@member-bureau']);
    const adopted = ok<{ status: string; signatures: unknown[]; versions: unknown[] }>(
      await as.chongqingApprover(SIGN, { key: `sign-cq-${run}`, id: story.agreementId }),
      'signAgreement',
    );
    expect(adopted).toMatchObject({
      status: 'ADOPTED',
      signatures: expect.arrayContaining([
        { member: '510000', signed: true },
        { member: '500000', signed: true },
      ]),
      versions: [
        {
          clauses: {
            whitelist: [
              {
                entryId: story.entryId,
                receivingFacilityId: story.facilityId,
                quantityKg: '50000.000',
                year,
              },
            ],
            tolerance: { percentBasisPoints: 500, kg: '100.000' },
          },
        },
      ],
    });
    await expectWork('chongqingClerk', story.agreementId, []);

    // The Chengdu generator applies with its documents.
    attachments = await uploadAttachments();
    const submitted = await submit(`letter-submit-${run}`, { receiverFacilityId: story.facilityId });
    expect(submitted).toMatchObject({ status: 'SUBMITTED', route: 'LETTER', totalKg: '12000.500' });
    const id = submitted.id;
    story.letter.transferId = id;
    await expectWork('sichuanClerk', id, ['transfer.check-completeness@exporting-bureau']);

    // Sichuan accepts it and writes to Chongqing.
    const accepted = ok<TransferView>(
      await as.sichuanClerk(ACCEPT, { key: `letter-accept-${run}`, id }),
      'acceptTransferApplication',
    );
    expect(accepted.status).toBe('UNDER_REVIEW');
    await expectWork('sichuanClerk', id, ['transfer.review@exporting-bureau']);
    const consulting = ok<TransferView>(
      await as.sichuanClerk(LETTER, { key: `letter-send-${run}`, id }),
      'sendConsultationLetter',
    );
    expect(consulting.status).toBe('CONSULTING');
    await expectWork('chongqingClerk', id, ['transfer.reply@receiving-bureau']);
    await expectWork('sichuanClerk', id, []);

    // Only the receiving bureau replies; it consents.
    const sichuanReplies = await as.sichuanApprover(REPLY, {
      key: `letter-reply-sc-${run}`,
      id,
      consent: true,
    });
    expect(refusal(sichuanReplies)).toMatchObject({ code: 'FORBIDDEN', rule: 'transfer.reply' });
    const consented = ok<TransferView>(
      await as.chongqingApprover(REPLY, { key: `letter-reply-${run}`, id, consent: true }),
      'replyToConsultationLetter',
    );
    expect(consented.status).toBe('AWAITING_DECISION');
    await expectWork('sichuanClerk', id, ['transfer.decide@exporting-bureau']);
    await expectWork('chongqingClerk', id, []);

    // Only the exporting bureau decides; its approval reserves the facility's capacity.
    const chongqingApproves = await as.chongqingApprover(APPROVE, { key: `letter-approve-cq-${run}`, id });
    expect(refusal(chongqingApproves)).toMatchObject({ code: 'FORBIDDEN', rule: 'transfer.decide' });
    const before = await availableKg(story.facilityId, () => true);
    expect(before).toBe('1000000.000');
    const approved = ok<TransferView>(
      await as.sichuanApprover(APPROVE, { key: `letter-approve-${run}`, id }),
      'approveTransfer',
    );
    expect(approved).toMatchObject({
      status: 'APPROVED',
      approval: { validFrom: WINDOW.from, validUntil: WINDOW.to, totalKg: '12000.500' },
    });
    expect(await availableKg(story.facilityId, (kg) => kg !== before)).toBe('987999.500');
    await expectWork('sichuanClerk', id, []);

    // One trip: the generator opens the manifest, the engaged carrier takes and delivers, the facility receives.
    const opened = ok<ManifestView>(
      await as.generator(OPEN, { key: `letter-open-${run}`, input: manifestInput(id, '4000') }),
      'openManifest',
    );
    expect(opened).toMatchObject({ status: 'OPEN', transferId: id, facilityId: story.facilityId });
    const number = opened.number;
    story.letter.manifest = number;
    await expectWork('carrier', number, ['manifest.pickup@carrier']);

    const wrongCarrier = await as.otherCarrier(PICKUP, {
      key: `letter-pickup-x-${run}`,
      number,
      vehicle: truck,
    });
    expect(refusal(wrongCarrier)).toMatchObject({ code: 'FORBIDDEN', rule: 'manifest.carry' });
    const inTransit = ok<ManifestView>(
      await as.carrier(PICKUP, { key: `letter-pickup-${run}`, number, vehicle: truck }),
      'confirmManifestPickup',
    );
    expect(inTransit.status).toBe('IN_TRANSIT');
    await expectWork('carrier', number, ['manifest.deliver@carrier']);

    const delivered = ok<ManifestView>(
      await as.carrier(DELIVER, { key: `letter-deliver-${run}`, number }),
      'deliverManifest',
    );
    expect(delivered.status).toBe('DELIVERED');
    await expectWork('carrier', number, []);
    await expectWork('receiver', number, ['manifest.confirm-receipt@receiver']);

    const received = ok<ManifestView>(
      await as.receiver(RECEIVE, {
        key: `letter-receive-${run}`,
        number,
        input: { acceptedKg: '3990', method: 'R9 再生利用 / re-refining' },
      }),
      'receiveManifest',
    );
    story.letter.receiptDate = LocalDate.ofInstant(new Date()).toString();
    expect(received).toMatchObject({
      status: 'RECEIVED',
      acceptedKg: '3990.000',
      receipt: { acceptance: 'full', acceptedKg: '3990.000' },
    });
    await expectWork('receiver', number, ['manifest.confirm-disposal@receiver']);

    const disposed = ok<ManifestView>(
      await as.receiver(DISPOSE, {
        key: `letter-dispose-${run}`,
        number,
        method: 'R9 再生利用 / re-refining',
      }),
      'confirmManifestDisposal',
    );
    expect(disposed).toMatchObject({ status: 'DISPOSED', disposal: { method: 'R9 再生利用 / re-refining' } });
    await expectWork('receiver', number, []);
  }, 90_000);

  it('whitelisted: approved directly by Sichuan, Chongqing notified, one trip to receipt', async () => {
    expect(story.agreementId).not.toBe('');
    const submitted = await submit(`wl-submit-${run}`, {
      path: 'WHITELIST',
      whitelistEntryId: story.entryId,
      receiverFacilityId: story.facilityId,
      lines: [{ wasteCode: WASTE_CODE, quantityKg: '5000' }],
    });
    expect(submitted).toMatchObject({
      status: 'SUBMITTED',
      route: 'WHITELIST',
      whitelist: {
        entryId: story.entryId,
        agreementId: story.agreementId,
        remainingKg: '50000.000',
        withinEntry: true,
      },
    });
    const id = submitted.id;
    story.whitelist.transferId = id;
    ok(await as.sichuanClerk(ACCEPT, { key: `wl-accept-${run}`, id }), 'acceptTransferApplication');
    await eventually(
      async () =>
        (await workOn('sc-eeb', id, 'sichuanClerk')).includes('transfer.decide@exporting-bureau') ||
        undefined,
      () => `sc-eeb's worklist has no decision on ${id}`,
    );

    // No letter on the whitelist path: Sichuan approves directly.
    const letter = await as.sichuanClerk(LETTER, { key: `wl-letter-${run}`, id });
    expect(refusal(letter)).toMatchObject({ code: 'transfer.letter-not-needed' });
    const before = await availableKg(story.facilityId, () => true);
    const approved = ok<TransferView>(
      await as.sichuanApprover(APPROVE, { key: `wl-approve-${run}`, id }),
      'approveTransfer',
    );
    expect(approved).toMatchObject({
      status: 'APPROVED',
      route: 'WHITELIST',
      approval: { totalKg: '5000.000' },
    });
    expect(await availableKg(story.facilityId, (kg) => kg !== before)).toBe('982999.500');
    await expectWork('sichuanClerk', id, []);

    // Chongqing was not asked, only told: it sees the approval, and nothing waits on it.
    const seen = ok<TransferView | null>(await as.chongqingClerk(ONE_TRANSFER, { id }), 'transfer');
    expect(seen).toMatchObject({
      id,
      status: 'APPROVED',
      route: 'WHITELIST',
      whitelist: { entryId: story.entryId },
    });
    await expectWork('chongqingClerk', id, []);

    // One trip, to receipt.
    const number = ok<ManifestView>(
      await as.generator(OPEN, { key: `wl-open-${run}`, input: manifestInput(id, '5000') }),
      'openManifest',
    ).number;
    story.whitelist.manifest = number;
    ok(
      await as.carrier(PICKUP, { key: `wl-pickup-${run}`, number, vehicle: truck }),
      'confirmManifestPickup',
    );
    ok(await as.carrier(DELIVER, { key: `wl-deliver-${run}`, number }), 'deliverManifest');
    await expectWork('receiver', number, ['manifest.confirm-receipt@receiver']);
    const received = ok<ManifestView>(
      await as.receiver(RECEIVE, {
        key: `wl-receive-${run}`,
        number,
        input: { acceptedKg: '4985.5', method: 'R9 再生利用 / re-refining' },
      }),
      'receiveManifest',
    );
    story.whitelist.receiptDate = LocalDate.ofInstant(new Date()).toString();
    expect(received).toMatchObject({ status: 'RECEIVED', acceptedKg: '4985.500' });
  }, 60_000);

  it('published what happened on lianfang.transfer.v1: a fresh consumer group reads it all, every message valid', async () => {
    expect(story.whitelist.manifest).not.toBe('');
    const registry = new ContractRegistry(TRANSFER_CONTRACTS);
    const envelopeOf = (m: TopicMessage) =>
      m.value as { type?: string; correlationId?: string; data?: Record<string, unknown> };
    const ours = (messages: readonly TopicMessage[]) =>
      messages.filter((m) => stories.owns(envelopeOf(m).correlationId));
    const expectedTypes = [
      'AgreementAdopted',
      'ManifestReceived',
      'ManifestReceived',
      'TransferApproved',
      'TransferApproved',
    ];
    const typesOf = (messages: readonly TopicMessage[]) =>
      messages.map((m) => String(envelopeOf(m).type)).sort();

    const all = await readWholeTopic({
      brokers: kafkaBrokers(),
      topic: topicFor('transfer'),
      groupId: `stories-${run}`,
      enough: (messages) => typesOf(ours(messages)).length >= expectedTypes.length,
      timeoutMs: 45_000,
    });
    const mine = ours(all);

    // Every message on the topic, whoever published it, is valid against its contract: a consumer
    // starting from the beginning never meets one it cannot read.
    const invalid = all.flatMap((m) => {
      const checked = registry.validate(m.value);
      return checked.ok
        ? []
        : [
            {
              type: envelopeOf(m).type,
              offset: `${m.partition}:${m.offset}`,
              violations: checked.violations,
            },
          ];
    });
    expect(invalid).toEqual([]);
    // What this run's requests caused (by their correlation ids): exactly the expected events.
    expect(typesOf(mine)).toEqual(expectedTypes);
    const byType = (type: string) => mine.map(envelopeOf).filter((e) => e.type === type);

    expect(byType('AgreementAdopted')).toEqual([
      expect.objectContaining({
        source: 'transfer',
        data: expect.objectContaining({
          agreementId: story.agreementId,
          members: expect.arrayContaining(['510000', '500000']),
          whitelist: [
            expect.objectContaining({
              entryId: story.entryId,
              exportingMember: '510000',
              receivingFacilityId: story.facilityId,
              wasteCodes: [WASTE_CODE],
              quantityKg: '50000.000',
              year,
            }),
          ],
          discrepancyTolerance: { percentBasisPoints: 500, kg: '100.000' },
          maxTransitDays: 3,
        }),
      }),
    ]);

    const approvals = new Map(byType('TransferApproved').map((e) => [e.data?.transferId, e.data]));
    const approvedCommon = {
      generatorCreditCode: GENERATOR.creditCode,
      exportingJurisdiction: '510000',
      receivingJurisdiction: '500000',
      receiverFacilityId: story.facilityId,
    };
    expect(approvals.get(story.letter.transferId)).toMatchObject({
      ...approvedCommon,
      path: 'letter',
      wasteLines: [expect.objectContaining({ wasteCode: WASTE_CODE, quantityKg: '12000.500' })],
      notifiedAgencies: expect.arrayContaining([
        expect.objectContaining({ agencyId: 'cq-eeb', jurisdiction: '500000', department: 'environment' }),
      ]),
    });
    expect(approvals.get(story.whitelist.transferId)).toMatchObject({
      ...approvedCommon,
      path: 'whitelist',
      wasteLines: [expect.objectContaining({ wasteCode: WASTE_CODE, quantityKg: '5000.000' })],
      notifiedAgencies: expect.arrayContaining([
        expect.objectContaining({ agencyId: 'cq-eeb', jurisdiction: '500000', department: 'environment' }),
      ]),
    });

    const receipts = new Map(byType('ManifestReceived').map((e) => [e.data?.manifestNumber, e.data]));
    const receivedCommon = {
      wasteClass: `hazardous:${WASTE_CODE}`,
      fromJurisdiction: '510100',
      toJurisdiction: '500115',
      facilityId: story.facilityId,
    };
    expect(receipts.get(story.letter.manifest)).toMatchObject({
      ...receivedCommon,
      acceptedKg: '3990.000',
      receiptDate: story.letter.receiptDate,
      transferId: story.letter.transferId,
    });
    expect(receipts.get(story.whitelist.manifest)).toMatchObject({
      ...receivedCommon,
      acceptedKg: '4985.500',
      receiptDate: story.whitelist.receiptDate,
      transferId: story.whitelist.transferId,
    });
  }, 60_000);

  // ─── the capacity race ──────────────────────────────────────────────────────────────────────────

  describe('two transfer-service processes on one database, approving against one facility at once', () => {
    let second: AppProcess;

    beforeAll(async () => {
      const first = topology.apps['transfer-service'];
      const [port] = await freePorts(1);
      second = startApp('transfer-service', topology.images.images['transfer-service'], {
        ...first.env,
        PORT: String(port),
      });
      await second.waitUntilReady(60_000);
    }, 90_000);

    afterAll(async () => {
      await second?.stop();
    }, 30_000);

    interface Round {
      readonly facilityId: string;
      readonly outcomes: { process: string; transferId: string; answer: Answer; timing: ServerTiming }[];
      readonly overlapped: boolean;
    }

    /**
     * A facility with 10 t of HW08 this year and two applications of 6 t awaiting decision: each fits
     * alone, not both. Sichuan's approver approves one on each process, both requests sent together.
     */
    async function raceOnce(round: number): Promise<Round> {
      // The applications need their documents, whether or not the stories above got that far.
      if (attachments.length === 0) attachments = await uploadAttachments();
      const facilityId = await registerFacility(
        `facility-${run}-race-${round}`,
        `渝危废经第500115${run}R${round}号`,
        '10',
      );
      const [t1, t2] = await Promise.all([
        awaitingDecision(`race-${run}-${round}-a`, facilityId, '6000'),
        awaitingDecision(`race-${run}-${round}-b`, facilityId, '6000'),
      ]);
      const processes = [topology.apps['transfer-service'], second];
      const approvers = await Promise.all(
        processes.map((p) =>
          straightToSubgraph(p.url, topology.secrets.GATEWAY_SIGNING_KEY, people.sichuanApprover, race),
        ),
      );
      // Warm both processes' connections so the two approvals leave together.
      await Promise.all(approvers.map((call) => call('{ transferServiceInfo { name } }')));
      const transfers = [t1, t2];
      const answers = await Promise.all(
        approvers.map((call, i) =>
          call(APPROVE, { key: `race-${run}-${round}-approve-${i}`, id: transfers[i] }),
        ),
      );
      const outcomes = await Promise.all(
        answers.map(async (answer, i) => ({
          process: `${processes[i].app} pid ${processes[i].pid}`,
          transferId: transfers[i],
          answer,
          timing: await eventually(
            async () => serverTiming(processes[i].output(), answer.correlationId),
            () => `no log line of ${answer.correlationId} from pid ${processes[i].pid}`,
            5_000,
          ),
        })),
      );
      const [a, b] = outcomes.map((o) => o.timing);
      // Both reached a service before either had answered.
      const overlapped = a.receivedAt < b.answeredAt && b.receivedAt < a.answeredAt;
      return { facilityId, outcomes, overlapped };
    }

    it('lets exactly one approval through; the other is refused with capacity.insufficient; 4 t are left', async () => {
      const rounds: Round[] = [];
      for (let round = 1; round <= 3; round++) {
        const r = await raceOnce(round);
        rounds.push(r);

        // Whatever the timing: exactly one approved, the other refused for capacity, nothing else stored.
        const approved = r.outcomes.filter((o) => o.answer.errors.length === 0);
        const refused = r.outcomes.filter((o) => o.answer.errors.length > 0);
        expect({ approved: approved.length, refused: refused.length }).toEqual({ approved: 1, refused: 1 });
        expect((approved[0].answer.data?.approveTransfer as TransferView).status).toBe('APPROVED');
        expect(refusal(refused[0].answer)).toMatchObject({
          code: 'capacity.insufficient',
          category: 'BUSINESS_RULE',
        });
        const loser = ok<TransferView>(
          await as.sichuanApprover(ONE_TRANSFER, { id: refused[0].transferId }),
          'transfer',
        );
        expect(loser.status).toBe('AWAITING_DECISION');
        expect(await availableKg(r.facilityId, (kg) => kg !== '10000.000')).toBe('4000.000');

        if (r.overlapped) break;
      }
      // The race must really have been run: the two requests in the services at the same time.
      const timings = rounds.map((r) => {
        const t0 = Math.min(...r.outcomes.map((o) => o.timing.receivedAt));
        return r.outcomes
          .map(
            (o) =>
              `${o.process}: in at +${o.timing.receivedAt - t0} ms, out at +${o.timing.answeredAt - t0} ms`,
          )
          .join('; ');
      });
      expect({ overlapped: rounds.some((r) => r.overlapped), timings }).toEqual({
        overlapped: true,
        timings,
      });
    }, 120_000);
  });
});
