import {
  createPgliteClient,
  createPostgresEventStore,
  type PgliteSqlClient,
  type SqlEventStore,
} from '@lianfang/eventsourcing';
import { createMemoryTransport, type MemoryTransport } from '../memory/memory-transport';
import { HEADERS, type IncomingMessage } from '../transport/transport';
import { startOutboxRelay, type OutboxRelay } from './outbox-relay';
import { appendMany, distinctEventIds, expectAllInStreamOrder, until } from './relay.fixture';

const quiet = { warn: () => undefined, error: (...args: unknown[]) => console.error(...args) };

/** The embedded mode: PGlite + the in-process transport, the same relay code. */
describe('Outbox relay (PGlite and the memory transport)', () => {
  let client: PgliteSqlClient;
  let store: SqlEventStore;
  let transport: MemoryTransport;
  const relays: OutboxRelay[] = [];
  let schema = '';
  let tests = 0;
  const topic = 'lianfang.transfer.v1';

  // One PGlite for the file (starting one takes seconds), a store schema of its own per test.
  beforeAll(async () => {
    client = await createPgliteClient();
  });

  afterAll(async () => {
    await client.close();
  });

  beforeEach(async () => {
    schema = `embedded_${++tests}`;
    store = createPostgresEventStore({ client, schema });
    await store.start();
    transport = createMemoryTransport({ partitions: 3 });
    await transport.ensureTopics([{ name: topic, partitions: 3, replicationFactor: 1 }]);
  });

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    await transport.close();
    await store.close();
  });

  async function collect(): Promise<IncomingMessage[]> {
    const received: IncomingMessage[] = [];
    await transport.subscribe({
      groupId: 'check',
      topics: [topic],
      handle: async (m) => void received.push(m),
    });
    return received;
  }

  const unsent = async () =>
    Number(
      (await client.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${schema}.outbox WHERE sent_at IS NULL`))
        .rows[0].n,
    );

  it('publishes in per-stream order with key and headers, and marks the rows sent', async () => {
    const received = await collect();
    const relay = await startOutboxRelay({ client, schema, transport, batchSize: 5, logger: quiet });
    relays.push(relay);
    const appended = await appendMany(store, topic, 'emb', 5, 8);
    await until(() => distinctEventIds(received).size === 40, '40 events');
    expect(received).toHaveLength(40);
    expectAllInStreamOrder(received, appended);
    for (const e of appended) {
      const m = received.find((x) => x.headers[HEADERS.eventId] === e.eventId);
      expect(m?.key).toBe(e.streamId);
      expect(m?.headers).toMatchObject({
        [HEADERS.type]: 'Counted',
        [HEADERS.schemaVersion]: '1',
        [HEADERS.streamId]: e.streamId,
        [HEADERS.correlationId]: e.correlationId,
        [HEADERS.traceparent]: e.traceparent,
      });
    }
    await until(async () => (await unsent()) === 0, 'all marked sent');
    expect(relay.status().role).toBe('leader');
  });

  it('publishes again what was acknowledged but not marked sent when the relay dies in between', async () => {
    const received = await collect();
    let crashes = 1;
    const relay = await startOutboxRelay({
      client,
      schema,
      transport,
      logger: quiet,
      backoff: { initialMs: 5 },
      faultHooks: {
        afterSendBeforeMark: () => {
          if (crashes > 0) {
            crashes--;
            throw new Error('simulated crash between send and mark');
          }
        },
      },
    });
    relays.push(relay);
    const appended = await appendMany(store, topic, 'crash', 3, 5);
    await until(async () => (await unsent()) === 0, 'all marked sent');
    expect(crashes).toBe(0);
    await until(() => distinctEventIds(received).size === 15, 'all 15 delivered');
    // The batch acknowledged before the "crash" was published again: some messages arrive twice.
    await until(() => received.length > 15, 'the republished batch');
    expect(distinctEventIds(received).size).toBe(15);
    expectAllInStreamOrder(received, appended);
  });

  it('lets one relay per store publish in a process; the other takes over when it stops', async () => {
    const received = await collect();
    const sentBy: Record<string, number> = { one: 0, two: 0 };
    const start = (name: string) =>
      startOutboxRelay({
        client,
        schema,
        transport,
        instanceId: name,
        leaseRetryMs: 20,
        logger: quiet,
        metrics: { onPublished: (info) => (sentBy[name] += info.ids.length) },
      });
    const one = await start('one');
    relays.push(one);
    await until(() => one.status().role === 'leader', 'one leads');
    const two = await start('two');
    relays.push(two);
    await until(() => two.status().role === 'standby', 'two stands by');
    const first = await appendMany(store, topic, 'pair-a', 2, 5);
    await until(() => distinctEventIds(received).size === 10, 'the first 10');
    expect(sentBy).toEqual({ one: 10, two: 0 });

    await one.stop();
    await until(() => two.status().role === 'leader', 'two takes over');
    const second = await appendMany(store, topic, 'pair-b', 2, 5);
    await until(() => distinctEventIds(received).size === 20, 'the next 10');
    expect(sentBy).toEqual({ one: 10, two: 10 });
    expectAllInStreamOrder(received, [...first, ...second]);
  });

  it('stops when its AbortSignal fires, freeing the lease at once', async () => {
    const received = await collect();
    const controller = new AbortController();
    const first = await startOutboxRelay({
      client,
      schema,
      transport,
      signal: controller.signal,
      logger: quiet,
    });
    await until(() => first.status().role === 'leader', 'the first relay leads');
    controller.abort();
    await until(() => first.status().role === 'stopped', 'stopped by the signal');
    const appended = await appendMany(store, topic, 'abort', 1, 3);
    const next = await startOutboxRelay({ client, schema, transport, logger: quiet });
    relays.push(next);
    await until(() => distinctEventIds(received).size === 3, 'published by the next relay');
    expect(first.status().published).toBe(0);
    expect(next.status().published).toBe(3);
    expectAllInStreamOrder(received, appended);
  });
});
