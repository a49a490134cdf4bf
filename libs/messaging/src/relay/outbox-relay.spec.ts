import {
  createPostgresClient,
  createPostgresEventStore,
  type PostgresSqlClient,
  type SqlEventStore,
} from '@lianfang/eventsourcing';
import { describeWithKafka, kafkaBrokers, testTopicPrefix, useTestDatabase } from '@lianfang/testing';
import { KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { createKafkaTransport, type KafkaTransport } from '../kafka/kafka-transport';
import { HEADERS, type IncomingMessage, type Subscription } from '../transport/transport';
import { startOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from './outbox-relay';
import { relayApplicationName } from './relay-lease';
import {
  appendMany,
  distinctEventIds,
  expectAllInStreamOrder,
  until,
  withFatalProducerErrors,
} from './relay.fixture';

const quiet = { warn: () => undefined, error: (...args: unknown[]) => console.error(...args) };

describeWithKafka('Outbox relay (real PostgreSQL and Kafka)', () => {
  const db = useTestDatabase('outbox_relay');
  const prefix = testTopicPrefix('relay');
  let client: PostgresSqlClient;
  let transport: KafkaTransport;
  const relays: OutboxRelay[] = [];
  const subscriptions: Subscription[] = [];
  const stores: SqlEventStore[] = [];
  const topics: string[] = [];

  beforeAll(async () => {
    client = createPostgresClient({ connectionString: db().url, max: 6 });
    transport = createKafkaTransport({ brokers: kafkaBrokers(), clientId: 'lf-relay-spec', logger: quiet });
  });

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
  });

  afterAll(async () => {
    await transport.deleteTopics(topics).catch(() => undefined);
    await transport.close();
    for (const s of stores) await s.close();
    await client.close();
  });

  async function storeFor(schema: string): Promise<SqlEventStore> {
    const store = createPostgresEventStore({ client, schema });
    await store.start();
    stores.push(store);
    return store;
  }

  async function topicFor(name: string, partitions: number): Promise<string> {
    const topic = `${prefix}.${name}`;
    await transport.ensureTopics([{ name: topic, partitions, replicationFactor: 1 }]);
    topics.push(topic);
    return topic;
  }

  async function collect(topic: string): Promise<IncomingMessage[]> {
    const received: IncomingMessage[] = [];
    subscriptions.push(
      await transport.subscribe({
        groupId: `${topic}.check`,
        topics: [topic],
        handle: async (m) => void received.push(m),
      }),
    );
    return received;
  }

  async function relay(
    options: Partial<OutboxRelayOptions> & Pick<OutboxRelayOptions, 'schema'>,
  ): Promise<OutboxRelay> {
    const r = await startOutboxRelay({ client, transport, logger: quiet, leaseRetryMs: 100, ...options });
    relays.push(r);
    return r;
  }

  const unsent = async (schema: string) =>
    Number(
      (await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.outbox WHERE sent_at IS NULL`))
        .rows[0].n,
    );

  it('publishes appended outbox messages in per-stream order with key and headers, and marks them sent', async () => {
    const schema = 'relay_basic';
    const store = await storeFor(schema);
    const topic = await topicFor('basic', 3);
    const received = await collect(topic);
    const r = await relay({ schema, batchSize: 7 });

    const appended = await appendMany(store, topic, 'basic', 6, 10);
    await until(() => distinctEventIds(received).size === 60, '60 events on Kafka');
    expectAllInStreamOrder(received, appended);

    for (const e of appended) {
      const m = received.find((x) => (JSON.parse(x.value) as { eventId: string }).eventId === e.eventId);
      expect(m).toBeDefined();
      expect(m?.key).toBe(e.streamId);
      expect(m?.headers).toEqual({
        [HEADERS.type]: 'Counted',
        [HEADERS.schemaVersion]: '1',
        [HEADERS.eventId]: e.eventId,
        [HEADERS.streamId]: e.streamId,
        [HEADERS.correlationId]: e.correlationId,
        // The trace context the consumer restores (trace-context.ts).
        [HEADERS.xCorrelationId]: e.correlationId,
        [HEADERS.traceparent]: e.traceparent,
      });
      expect(JSON.parse(m?.value ?? '{}')).toMatchObject({
        eventId: e.eventId,
        streamId: e.streamId,
        data: { n: e.n },
      });
    }
    // Same stream, same partition.
    for (const s of new Set(appended.map((e) => e.streamId))) {
      expect(new Set(received.filter((m) => m.key === s).map((m) => m.partition)).size).toBe(1);
    }
    await until(async () => (await unsent(schema)) === 0, 'every row marked sent');
    const rows = await client.query<{ sent: boolean; attempts: number }>(
      `SELECT sent_at IS NOT NULL AS sent, attempts FROM ${schema}.outbox`,
    );
    expect(rows.rows).toHaveLength(60);
    expect(rows.rows.every((row) => row.sent && row.attempts >= 1)).toBe(true);
    expect(r.status()).toMatchObject({ role: 'leader', consecutiveFailures: 0 });
    expect(r.status().published).toBeGreaterThanOrEqual(60);
    expect(await r.backlog()).toBe(0);
  });

  it('with two relays on one schema, only the lease holder publishes; when its lease dies the other takes over, nothing lost', async () => {
    const schema = 'relay_two';
    const store = await storeFor(schema);
    const topic = await topicFor('two', 2);
    const received = await collect(topic);
    const sentBy: Record<string, Set<string>> = { a: new Set(), b: new Set() };
    const metrics = (name: string) => ({
      onPublished: (info: { eventIds: readonly string[] }) =>
        info.eventIds.forEach((id) => sentBy[name].add(id)),
    });
    const a = await relay({ schema, instanceId: 'a', leaseCooldownMs: 1500, metrics: metrics('a') });
    await until(() => a.status().role === 'leader', 'a leads');
    const b = await relay({ schema, instanceId: 'b', leaseCooldownMs: 1500, metrics: metrics('b') });
    await until(() => b.status().role === 'standby', 'b stands by');

    const first = await appendMany(store, topic, 'two-first', 4, 10);
    await until(() => distinctEventIds(received).size === 40, 'the first 40');
    await until(async () => (await unsent(schema)) === 0, 'the first 40 marked sent');
    expect(sentBy.a.size).toBe(40);
    expect(sentBy.b.size).toBe(0);
    expect(b.status().role).toBe('standby');

    // Kill a's lease connection (as if its host lost the network or the process died).
    const killed = await client.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1`,
      [relayApplicationName(schema, 'a')],
    );
    expect(killed.rows).toEqual([{ ok: true }]);
    await until(() => b.status().role === 'leader', 'b takes over');
    await until(() => a.status().role === 'standby', 'a stands by');

    const second = await appendMany(store, topic, 'two-second', 4, 10);
    await until(() => distinctEventIds(received).size === 80, 'the next 40');
    const secondIds = new Set(second.map((e) => e.eventId));
    expect([...sentBy.a].filter((id) => secondIds.has(id))).toEqual([]);
    expect([...sentBy.b].filter((id) => secondIds.has(id)).length).toBe(40);

    // b stops cleanly: a leads again and publishes what follows.
    await b.stop();
    expect(b.status().role).toBe('stopped');
    await until(() => a.status().role === 'leader', 'a leads again');
    const third = await appendMany(store, topic, 'two-third', 2, 10);
    await until(() => distinctEventIds(received).size === 100, 'all 100');
    const thirdIds = new Set(third.map((e) => e.eventId));
    expect([...sentBy.a].filter((id) => thirdIds.has(id)).length).toBe(20);
    expect([...sentBy.b].filter((id) => thirdIds.has(id))).toEqual([]);

    expectAllInStreamOrder(received, [...first, ...second, ...third]);
    await until(async () => (await unsent(schema)) === 0, 'everything marked sent');
  });

  it('recreates the publisher after a fatal producer error and resends from the outbox', async () => {
    const schema = 'relay_fatal';
    const store = await storeFor(schema);
    const topic = await topicFor('fatal', 2);
    const received = await collect(topic);
    // Everything is in the outbox before the relay starts: its first batch is big, half of it gets
    // through, then the "producer" dies with a sequence error.
    const appended = await appendMany(store, topic, 'fatal', 4, 10);
    const faulty = withFatalProducerErrors(transport, 1, () => {
      const protocol = new KafkaJSProtocolError({
        type: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
        code: 45,
        retriable: false,
        message: 'The broker received an out of order sequence number',
      } as never);
      return Object.assign(new KafkaJSNonRetriableError(protocol), { cause: protocol });
    });
    const r = await relay({ schema, transport: faulty, batchSize: 40, backoff: { initialMs: 10 } });

    await until(() => distinctEventIds(received).size === 40, 'all 40 after the recovery');
    await until(async () => (await unsent(schema)) === 0, 'all marked sent');
    expect(faulty.injected).toBe(1);
    expect(faulty.publishersCreated).toBe(2);
    expect(faulty.publishersClosed).toBe(1);
    expect(r.status().publisherRecreations).toBe(1);
    expect(r.status().lastError).toMatch(/OUT_OF_ORDER_SEQUENCE_NUMBER/);
    // The half that got through before the failure was sent again: duplicates that consumers dedupe.
    // (Counted by partition and offset: a redelivery to the checking consumer is not a second record.)
    const records = () => new Set(received.map((m) => `${m.partition}:${m.offset}`)).size;
    await until(() => records() >= 60, 'the 20 resent duplicates');
    expect(records()).toBe(60);
    expectAllInStreamOrder(received, appended);
    const attempts = await client.query<{ max: number }>(`SELECT max(attempts) AS max FROM ${schema}.outbox`);
    expect(Number(attempts.rows[0].max)).toBe(2);
  });

  it('deletes only sent rows older than the retention, in bounded batches', async () => {
    const schema = 'relay_retention';
    const store = await storeFor(schema);
    const topic = await topicFor('retention', 1);
    const r = await relay({ schema, retention: { maxAgeMs: 60 * 60 * 1000, batchSize: 2 } });
    await appendMany(store, topic, 'ret', 1, 10);
    await until(async () => (await unsent(schema)) === 0, 'the 10 rows sent');
    await r.stop();

    // ids 1-4 sent 2 h ago, 5 sent 59 min ago, 6-10 sent just now; then 3 rows created 3 days ago, unsent.
    await client.query(`UPDATE ${schema}.outbox SET sent_at = now() - interval '2 hours' WHERE id <= 4`);
    await client.query(`UPDATE ${schema}.outbox SET sent_at = now() - interval '59 minutes' WHERE id = 5`);
    await appendMany(store, topic, 'ret-unsent', 1, 3);
    await client.query(
      `UPDATE ${schema}.outbox SET created_at = now() - interval '3 days' WHERE sent_at IS NULL`,
    );

    expect(await r.runRetention()).toBe(4);
    const left = await client.query<{ id: string; sent: boolean }>(
      `SELECT o.id::text AS id, o.sent_at IS NOT NULL AS sent FROM ${schema}.outbox o ORDER BY o.id`,
    );
    expect(left.rows.map((row) => Number(row.id))).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(left.rows.filter((row) => !row.sent).map((row) => Number(row.id))).toEqual([11, 12, 13]);

    // The leader's periodic pass does the same on its own.
    await client.query(
      `UPDATE ${schema}.outbox SET sent_at = now() - interval '3 hours' WHERE id IN (5, 6, 7)`,
    );
    const leader = await relay({
      schema,
      retention: { maxAgeMs: 60 * 60 * 1000, intervalMs: 100, batchSize: 2 },
    });
    await until(() => leader.status().retentionDeleted === 3, 'the periodic retention pass');
    await until(async () => (await unsent(schema)) === 0, 'the 3 old unsent rows published, not deleted');
    const after = await client.query<{ id: string }>(
      `SELECT o.id::text AS id FROM ${schema}.outbox o ORDER BY o.id`,
    );
    expect(after.rows.map((row) => Number(row.id))).toEqual([8, 9, 10, 11, 12, 13]);
  });
});
