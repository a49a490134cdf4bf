/**
 * For integration-events.kafka.spec.ts: the transfer-service booted in-process as `npm start` builds it
 * (PostgreSQL store, Kafka bus, through libs/testing's useRunningService) with a clock the test moves, a caller that plays the gateway (signed
 * identity, a correlation id per request), the demo region's parties, and a reader of the service topic
 * with a fresh consumer group.
 */
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { CORRELATION_HEADER, createIdentitySigner, IDENTITY_HEADER, type Identity } from '@lianfang/auth';
import { useRunningService } from '@lianfang/testing';
import { Kafka, logLevel } from 'kafkajs';
import { exportSPKI, generateKeyPair, type KeyLike } from 'jose';
import { CLOCK } from './common/time';
import { DEADLINE_POLL_INTERVAL_MS } from './deadlines/deadline-timers';
import { service } from './service';

// ─── the demo region's parties (config/directory/demo-region.json) ───────────────────────────

const person = (
  agencyId: string,
  agencyKind: Identity['agencyKind'],
  jurisdiction: string,
  roles: Identity['roles'],
): Identity => ({ subject: `${agencyId}.${roles.join('-')}`, agencyId, agencyKind, jurisdiction, roles });

export const parties = {
  secretariat: person('chengyu-secretariat', 'regional-secretariat', '510000', ['clerk']),
  sichuanClerk: person('sc-eeb', 'provincial-bureau', '510000', ['clerk']),
  sichuanApprover: person('sc-eeb', 'provincial-bureau', '510000', ['approver']),
  chongqingClerk: person('cq-eeb', 'provincial-bureau', '500000', ['clerk']),
  chongqingApprover: person('cq-eeb', 'provincial-bureau', '500000', ['approver']),
  generator: person('cd-jincheng-auto', 'generator', '510100', ['clerk']),
  carrier: person('sc-shuyun-transport', 'carrier', '510100', ['clerk']),
  receiver: person('cq-yuhuan-disposal', 'receiver', '500000', ['clerk']),
};

export const GENERATOR_CREDIT_CODE = '91510100MA61RK3T26'; // cd-jincheng-auto
export const CARRIER_CREDIT_CODE = '91510100MA6CB8W21Q'; // sc-shuyun-transport
export const RECEIVER_CREDIT_CODE = '91500115MA5YH9P3C1'; // cq-yuhuan-disposal
/** The facility's district (Chongqing, Changshou): the manifests' destination. */
export const FACILITY_JURISDICTION = '500115';

// ─── GraphQL documents ─────────────────────────────────────────────────────────────────────

export const GQL = {
  registerFacility: `mutation($key: String!, $input: RegisterFacilityInput!) {
    registerFacility(idempotencyKey: $key, input: $input) { id } }`,
  suspendFacility: `mutation($key: String!, $id: ID!, $reason: String!) {
    suspendFacility(idempotencyKey: $key, facilityId: $id, reason: $reason) { status } }`,
  proposeAgreement: `mutation($key: String!, $input: ProposeAgreementInput!) {
    proposeAgreement(idempotencyKey: $key, input: $input) { id status } }`,
  signAgreement: `mutation($key: String!, $id: ID!) {
    signAgreement(idempotencyKey: $key, agreementId: $id) { status } }`,
  proposeAmendment: `mutation($key: String!, $input: ProposeAgreementAmendmentInput!) {
    proposeAmendment(idempotencyKey: $key, input: $input) { status } }`,
  signAmendment: `mutation($key: String!, $id: ID!, $amendmentId: ID!) {
    signAmendment(idempotencyKey: $key, agreementId: $id, amendmentId: $amendmentId) {
      status pendingAmendment { amendmentId } } }`,
  upload: `mutation($kind: TransferAttachmentKind!, $mediaType: String!, $content: String!) {
    uploadTransferAttachment(kind: $kind, mediaType: $mediaType, contentBase64: $content) { sha256 } }`,
  submit: `mutation($key: String!, $input: SubmitTransferApplicationInput!) {
    submitTransferApplication(idempotencyKey: $key, input: $input) { id status } }`,
  accept: `mutation($key: String!, $id: ID!) {
    acceptTransferApplication(idempotencyKey: $key, transferId: $id) { status } }`,
  letter: `mutation($key: String!, $id: ID!) {
    sendConsultationLetter(idempotencyKey: $key, transferId: $id) {
      status dueDates { step lastDay dueAt responsibleJurisdiction } } }`,
  approve: `mutation($key: String!, $id: ID!) {
    approveTransfer(idempotencyKey: $key, transferId: $id) {
      status approval { validFrom validUntil } } }`,
  openManifest: `mutation($key: String!, $input: OpenManifestInput!) {
    openManifest(idempotencyKey: $key, input: $input) { number status } }`,
  pickup: `mutation($key: String!, $number: ID!, $vehicle: ManifestVehicleInput!) {
    confirmManifestPickup(idempotencyKey: $key, number: $number, vehicle: $vehicle) { status transitDueAt } }`,
  deliver: `mutation($key: String!, $number: ID!) {
    deliverManifest(idempotencyKey: $key, number: $number) { status } }`,
  receive: `mutation($key: String!, $number: ID!, $input: ReceiveManifestInput!) {
    receiveManifest(idempotencyKey: $key, number: $number, input: $input) {
      status acceptedKg discrepancies { kind } } }`,
  review: `mutation($key: String!, $number: ID!, $input: ReviewManifestDiscrepanciesInput!) {
    reviewManifestDiscrepancies(idempotencyKey: $key, number: $number, input: $input) {
      openDiscrepancies discrepancyReviews { decision kinds reviewedBy } } }`,
  correct: `mutation($key: String!, $number: ID!, $kg: String!, $reason: String!) {
    correctManifestReceipt(idempotencyKey: $key, number: $number, acceptedKg: $kg, reason: $reason) {
      acceptedKg } }`,
};

// ─── inputs ────────────────────────────────────────────────────────────────────────────────

export const facilityInput = (licence: string) => ({
  name: { zh: '重庆渝环危险废物处置中心', en: 'Chongqing Yuhuan hazardous waste disposal centre' },
  licenceNumber: `渝危废经第${licence}号`,
  operatorCreditCode: RECEIVER_CREDIT_CODE,
  jurisdiction: FACILITY_JURISDICTION,
  coordinates: { lat: '29.857', lon: '107.081' },
  licensed: [{ category: 'HW08', annualCapacityTonnes: '5000' }],
  validFrom: '2024-01-01',
  validTo: '2099-12-31',
});

/** The documents an application needs (licence copy, method description, contract). */
export const DOCUMENTS: readonly (readonly [kind: string, mediaType: string, bytes: Buffer])[] = [
  ['LICENCE', 'application/pdf', Buffer.from('%PDF-1.7 许可证复印件 licence copy')],
  ['METHOD', 'application/pdf', Buffer.from('%PDF-1.7 利用处置方式说明 method description')],
  ['CONTRACT', 'application/pdf', Buffer.from('%PDF-1.7 委托合同 contract')],
];

export const wasteInput = (declaredKg: string) => ({
  wasteClass: 'hazardous:900-249-08',
  name: '废矿物油',
  declaredKg,
  hazardCharacteristics: ['T', 'I'],
  packaging: 'IBC 吨桶',
  form: 'liquid',
  emergencyMeasures: '泄漏时用沙土围堵，禁止明火',
});

export const vehicle = {
  vehiclePlate: '川A12345',
  operatingLicence: '川交运管许可成字510100001234号',
  driver: { name: '张伟', phone: '13800138000' },
};

// ─── the service, with a clock the test moves ──────────────────────────────────────────────

/** Real time, plus however far the test has moved it: what the deadline timers see as now. */
export class MovableClock {
  private aheadMs = 0;
  readonly read = () => new Date(Date.now() + this.aheadMs);
  /** From now on, the clock reads `instant` (and runs on from there). */
  moveTo(instant: Date): void {
    this.aheadMs = Math.max(this.aheadMs, instant.getTime() - Date.now());
  }
}

export interface GraphQLBody<D> {
  readonly data?: D | null;
  readonly errors?: { message: string; extensions: Record<string, unknown> }[];
}

export interface BootedService {
  readonly app: INestApplication;
  /** A GraphQL request as the gateway forwards it: the identity signed, the correlation id given. */
  post<D = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown>,
    identity: Identity,
    correlationId: string,
  ): Promise<GraphQLBody<D>>;
}

/**
 * For the enclosing describe block: the service as `npm start` builds it, on `env` (read when the suite
 * starts), listening on a free port, with CLOCK replaced and the timer loop polling rarely, so the test's
 * `runDue` decides when deadlines fire.
 */
export function useTransferService(
  env: () => Record<string, string>,
  clock: MovableClock,
  startTimeoutMs: number,
): () => BootedService {
  let key: KeyLike | undefined;
  let publicKey = '';
  // Before useRunningService's beforeAll reads the environment (hooks run in the order declared).
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    key = pair.privateKey;
    publicKey = await exportSPKI(pair.publicKey);
  });
  const running = useRunningService(service, {
    env: () => ({ ...env(), GATEWAY_PUBLIC_KEY: publicKey }),
    overrides: [
      { provide: CLOCK, useValue: clock.read },
      { provide: DEADLINE_POLL_INTERVAL_MS, useValue: 60_000 },
    ],
    startTimeoutMs,
  });
  const post = async <D>(
    query: string,
    variables: Record<string, unknown>,
    identity: Identity,
    correlationId: string,
  ): Promise<GraphQLBody<D>> => {
    if (!key) throw new Error('the gateway key is made in beforeAll');
    const res = await fetch(`${running().url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [IDENTITY_HEADER]: await createIdentitySigner(key).sign(identity),
        [CORRELATION_HEADER]: correlationId,
      },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GraphQLBody<D>;
  };
  return () => ({ app: running().app, post });
}

// ─── the topic, as a new consumer reads it ─────────────────────────────────────────────────

export interface ConsumedMessage {
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly envelope: Record<string, unknown>;
}

/** Where every partition of `topic` ends now (the offset the next message will get), and starts. */
export interface PartitionRange {
  readonly low: bigint;
  readonly high: bigint;
}

export async function topicRanges(brokers: string[], topic: string): Promise<Map<number, PartitionRange>> {
  const admin = new Kafka({
    clientId: 'integration-events-spec',
    brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Every message of `topic` from the beginning up to the `high` of `ranges` (per partition, exclusive),
 * read with a consumer group of its own that never existed before.
 */
export async function readTopic(
  brokers: string[],
  topic: string,
  ranges: Map<number, PartitionRange>,
  timeoutMs = 60_000,
): Promise<ConsumedMessage[]> {
  const kafka = new Kafka({ clientId: 'integration-events-spec', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `integration-events-spec-${randomUUID()}` });
  const messages: ConsumedMessage[] = [];
  // A partition with nothing left to read (empty, or emptied by retention) is read already.
  const reached = new Set([...ranges].filter(([, r]) => r.high <= r.low).map(([p]) => p));
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the topic was not read to its end in ${timeoutMs} ms`)),
        timeoutMs,
      );
      const done = () => {
        if (reached.size < ranges.size) return false;
        clearTimeout(timer);
        resolve();
        return true;
      };
      if (done()) return;
      void consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            const end = ranges.get(partition)?.high ?? 0n;
            if (BigInt(message.offset) >= end) return; // published after the count: not ours to judge
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(message.headers ?? {}))
              if (value !== undefined)
                headers[name] = Array.isArray(value) ? String(value[0]) : String(value);
            messages.push({
              partition,
              offset: message.offset,
              key: message.key?.toString('utf8') ?? null,
              headers,
              envelope: JSON.parse(message.value?.toString('utf8') ?? 'null') as Record<string, unknown>,
            });
            if (BigInt(message.offset) >= end - 1n) reached.add(partition);
            done();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}
