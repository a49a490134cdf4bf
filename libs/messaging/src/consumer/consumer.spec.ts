import { deadLetterTopicFor } from '@lianfang/contracts';
import { createPostgresClient, type PostgresSqlClient } from '@lianfang/eventsourcing';
import { describeWithPostgres, useTestDatabase } from '@lianfang/testing';
import { listDeadLetters } from '../dlq/dead-letters';
import { createMemoryTransport, type MemoryTransport } from '../memory/memory-transport';
import { HEADERS, type Transport } from '../transport/transport';
import { startConsumer, type Consumer, type ConsumerOptions } from './consumer';
import { PermanentMessageError } from './processing';
import {
  collect,
  counterEffect,
  counterEnvelope,
  createEffectTables,
  effectState,
  eventually,
  publish,
  testContracts,
  toOutgoing,
  type CounterEffect,
} from './test-fixtures/counter.fixture';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

describeWithPostgres('consumer: inbox, retries, dead letters (memory transport, real PostgreSQL)', () => {
  const db = useTestDatabase('consumer');
  let client: PostgresSqlClient;
  let transport: MemoryTransport;
  let schemaSeq = 0;
  const running: Consumer[] = [];

  beforeAll(() => {
    client = createPostgresClient({ pool: db().pool({ max: 6 }) });
  });
  beforeEach(() => {
    transport = createMemoryTransport({ logger: quiet });
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.stop()));
    await transport.close();
  });
  afterAll(async () => {
    await client.close();
  });

  /** A fresh service schema with the effect tables, a topic, and a consumer on it. */
  async function setup(overrides: Partial<ConsumerOptions> = {}): Promise<{
    schema: string;
    topic: string;
    effect: CounterEffect;
    consumer: Consumer;
    start: () => Promise<Consumer>;
  }> {
    const schema = `svc_${++schemaSeq}`;
    const topic = `lianfang.test${schemaSeq}.v1`;
    await createEffectTables(client, schema);
    const effect = counterEffect(schema);
    await transport.ensureTopics([{ name: topic, partitions: 3, replicationFactor: 1 }]);
    const start = async () => {
      const c = await startConsumer({
        transport: overrides.transport ?? transport,
        client,
        schema,
        groupId: `${schema}.group`,
        topics: [topic],
        contracts: testContracts(),
        handle: effect.handle,
        maxAttempts: 3,
        backoff: { initialMs: 5, maxMs: 20 },
        requestPollMs: false,
        logger: quiet,
        ...overrides,
      });
      running.push(c);
      return c;
    };
    return { schema, topic, effect, consumer: await start(), start };
  }

  it('applies an event once when it is delivered twice (relay resend: same event id, new offset)', async () => {
    const { schema, topic, consumer } = await setup();
    const e = counterEnvelope('A', 1);
    await publish(transport, [toOutgoing(topic, e), toOutgoing(topic, e)]);
    await eventually('both deliveries handled', async () => consumer.metrics().duplicates === 1);
    expect(await effectState(client, schema)).toEqual({ total: 1, log: { A: [1] } });
    expect(consumer.metrics()).toMatchObject({ processed: 1, duplicates: 1, deadLettered: 0 });
    const inbox = await client.query(`SELECT event_id FROM ${schema}.inbox`);
    expect(inbox.rows).toEqual([{ event_id: e.eventId }]);
  });

  it('applies an event once when the same offset is delivered again (crash after commit, before the offset commit)', async () => {
    // The transport as it is, except that the first successful handling of A/1 is reported as a failure:
    // exactly what a crash between the inbox commit and the offset commit looks like to the transport.
    let crashed = false;
    const crashing: Transport = {
      kind: transport.kind,
      ensureTopics: (t) => transport.ensureTopics(t),
      createPublisher: () => transport.createPublisher(),
      close: () => transport.close(),
      subscribe: (o) =>
        transport.subscribe({
          ...o,
          // The per-message path (consumer-batch.spec.ts covers runs).
          handleBatch: undefined,
          handle: async (m) => {
            await o.handle(m);
            if (!crashed && m.topic === o.topics[0]) {
              crashed = true;
              throw new Error('crash before the offset commit');
            }
          },
        }),
    };
    const { schema, topic, consumer } = await setup({ transport: crashing });
    await publish(transport, [
      toOutgoing(topic, counterEnvelope('A', 1)),
      toOutgoing(topic, counterEnvelope('A', 2)),
    ]);
    await eventually('A/2 applied', async () => (await effectState(client, schema)).log.A?.length === 2);
    expect(crashed).toBe(true);
    expect(await effectState(client, schema)).toEqual({ total: 2, log: { A: [1, 2] } });
    expect(consumer.metrics()).toMatchObject({ processed: 2, duplicates: 1 });
  });

  it('retries a transient failure in place, with backoff, then applies it; the stream waits meanwhile', async () => {
    const { schema, topic, effect, consumer } = await setup();
    let failures = 0;
    effect.fail = (stream, seq) =>
      stream === 'A' && seq === 1 && failures++ < 2 ? new Error('deadlock, try again') : undefined;
    await publish(
      transport,
      [1, 2, 3].map((seq) => toOutgoing(topic, counterEnvelope('A', seq))),
    );
    await eventually('A/3 applied', async () => (await effectState(client, schema)).log.A?.length === 3);
    expect(await effectState(client, schema)).toEqual({ total: 3, log: { A: [1, 2, 3] } });
    expect(effect.calls.filter((c) => c.stream === 'A').map((c) => c.seq)).toEqual([1, 1, 1, 2, 3]);
    expect(consumer.metrics()).toMatchObject({ processed: 3, retries: 2, deadLettered: 0 });
    expect(await listDeadLetters(client, schema)).toEqual([]);
  });

  it('hands a retry back to the transport beyond the in-place budget; the attempts carry over', async () => {
    const { schema, topic, effect, consumer } = await setup({ retryInPlaceMs: 0, maxAttempts: 3 });
    let failures = 0;
    effect.fail = (stream) =>
      stream === 'A' && failures++ < 2
        ? new Error('transient')
        : stream === 'P'
          ? new Error('permanent')
          : undefined;
    await publish(transport, [
      toOutgoing(topic, counterEnvelope('A', 1)),
      toOutgoing(topic, counterEnvelope('P', 1)),
    ]);
    await eventually('A applied, P dead-lettered', async () => {
      const m = consumer.metrics();
      return m.processed === 1 && m.deadLettered === 1;
    });
    // Every retry was a redelivery by the transport, and still: 3 attempts of P in all, then the dead letter.
    expect(effect.calls.filter((c) => c.stream === 'A')).toHaveLength(3);
    expect(effect.calls.filter((c) => c.stream === 'P')).toHaveLength(3);
    expect((await listDeadLetters(client, schema)).map((l) => [l.streamId, l.attempts])).toEqual([['P', 3]]);
    expect(await effectState(client, schema)).toEqual({ total: 1, log: { A: [1] } });
  });

  it('dead-letters a message that violates its contract at once (no retries), with the violation in the error header', async () => {
    const { schema, topic, effect, consumer } = await setup();
    const dlq = await collect(transport, deadLetterTopicFor(topic), 'dlq-reader-1');
    const bad = counterEnvelope('A', 1, { stream: 'A', seq: 'one' });
    const unparseable = counterEnvelope('B', 1);
    await publish(transport, [
      toOutgoing(topic, bad),
      toOutgoing(topic, unparseable, '{"eventId": "not json'),
      toOutgoing(topic, counterEnvelope('C', 1)),
    ]);
    await eventually('two dead letters on the .dlq topic', async () => dlq.messages.length === 2);
    await eventually('C/1 applied', async () => (await effectState(client, schema)).log.C?.length === 1);
    await dlq.stop();

    expect(effect.calls).toEqual([{ stream: 'C', seq: 1 }]); // the handler never saw the invalid ones
    const byKey = Object.fromEntries(dlq.messages.map((m) => [m.key, m]));
    expect(byKey.A.value).toBe(JSON.stringify(bad));
    expect(byKey.A.headers[HEADERS.error]).toContain('data.seq [isInt]');
    expect(byKey.A.headers[HEADERS.attempts]).toBe('1');
    expect(byKey.A.headers[HEADERS.originalTopic]).toBe(topic);
    expect(byKey.A.headers[HEADERS.eventId]).toBe(bad.eventId); // the original headers travel along
    expect(byKey.B.headers[HEADERS.error]).toMatch(/\[json\] not JSON/);

    const letters = await listDeadLetters(client, schema);
    expect(letters.map((l) => [l.streamId, l.status, l.attempts])).toEqual(
      expect.arrayContaining([
        ['A', 'parked-head', 1],
        ['B', 'parked-head', 1],
      ]),
    );
    expect(letters.find((l) => l.streamId === 'A')?.error).toContain('data.seq [isInt]');
    expect(consumer.metrics()).toMatchObject({ deadLettered: 2, retries: 0, processed: 1 });
  });

  it('dead-letters a PermanentMessageError at once, and a failing message after maxAttempts', async () => {
    const { schema, topic, effect, consumer } = await setup();
    effect.fail = (stream) =>
      stream === 'P'
        ? new PermanentMessageError('unknown agency')
        : stream === 'F'
          ? new Error('down')
          : undefined;
    await publish(transport, [
      toOutgoing(topic, counterEnvelope('P', 1)),
      toOutgoing(topic, counterEnvelope('F', 1)),
    ]);
    await eventually('both dead-lettered', async () => consumer.metrics().deadLettered === 2);
    expect(effect.calls.filter((c) => c.stream === 'P')).toHaveLength(1);
    expect(effect.calls.filter((c) => c.stream === 'F')).toHaveLength(3);
    const letters = await listDeadLetters(client, schema, { status: 'parked-head' });
    const attempts = Object.fromEntries(letters.map((l) => [l.streamId, l.attempts]));
    expect(attempts).toEqual({ P: 1, F: 3 });
    expect(letters.find((l) => l.streamId === 'P')?.error).toContain('PermanentMessageError: unknown agency');
    // Nothing of theirs was applied: the failed attempts rolled back with their inbox rows.
    expect(await effectState(client, schema)).toEqual({ total: 0, log: {} });
    expect((await client.query(`SELECT 1 FROM ${schema}.inbox`)).rowCount).toBe(0);
  });

  it('stops cleanly during a backoff: the message is not committed and the next consumer gets it', async () => {
    const { schema, topic, effect, consumer, start } = await setup({
      maxAttempts: 1000,
      backoff: { initialMs: 200, maxMs: 200 },
    });
    effect.fail = () => new Error('database of a dependency is down');
    await publish(transport, [toOutgoing(topic, counterEnvelope('A', 1))]);
    await eventually('retrying', async () => consumer.metrics().retries >= 1);
    await consumer.stop();
    const partition = transport.messages(topic)[0].partition;
    expect(transport.committedOffset(`${schema}.group`, topic, partition)).toBeUndefined();

    effect.fail = () => undefined;
    const next = await start();
    await eventually('applied by the next consumer', async () => next.metrics().processed === 1);
    expect(await effectState(client, schema)).toEqual({ total: 1, log: { A: [1] } });
    await eventually(
      'offset committed',
      async () => transport.committedOffset(`${schema}.group`, topic, partition) === '1',
    );
  });

  it('prunes inbox rows older than the retention, in batches, and only those of its own group', async () => {
    let now = new Date('2025-01-01T00:00:00Z');
    const { schema, topic, consumer } = await setup({
      clock: () => now,
      inboxRetention: { retentionMs: 14 * 24 * 3600_000, batchSize: 2 },
    });
    await publish(
      transport,
      [1, 2, 3, 4, 5].map((seq) => toOutgoing(topic, counterEnvelope('old', seq))),
    );
    await eventually('old ones applied', async () => consumer.metrics().processed === 5);
    // Another group's old rows in the same schema must stay.
    await client.query(
      `INSERT INTO ${schema}.inbox (consumer_group, event_id, stream_id, topic, partition, "offset", processed_at)
       VALUES ('other.group', 'e-other', 's', $1, 0, 0, '2024-12-01T00:00:00Z')`,
      [topic],
    );
    now = new Date('2025-01-14T00:00:00Z'); // 13 days later
    await publish(transport, [toOutgoing(topic, counterEnvelope('new', 1))]);
    await eventually('new one applied', async () => consumer.metrics().processed === 6);
    expect(await consumer.pruneInbox()).toBe(0); // nothing is older than 14 days yet

    now = new Date('2025-01-15T00:00:01Z'); // 14 days and a second after the old ones
    expect(await consumer.pruneInbox()).toBe(5);
    const left = await client.query<{ consumer_group: string; stream_id: string }>(
      `SELECT consumer_group, stream_id FROM ${schema}.inbox ORDER BY consumer_group`,
    );
    expect(left.rows).toEqual([
      { consumer_group: 'other.group', stream_id: 's' },
      { consumer_group: `${schema}.group`, stream_id: 'new' },
    ]);
    expect(consumer.metrics().inboxPruned).toBe(5);
  });

  it('reports its status: counters and what is parked', async () => {
    const { topic, effect, consumer } = await setup();
    effect.fail = (stream, seq) => (stream === 'A' && seq === 1 ? new Error('boom') : undefined);
    await publish(transport, [
      toOutgoing(topic, counterEnvelope('A', 1)),
      toOutgoing(topic, counterEnvelope('A', 2)),
      toOutgoing(topic, counterEnvelope('B', 1)),
    ]);
    await eventually('A/2 parked, B applied', async () => {
      const m = consumer.metrics();
      return m.parked === 1 && m.processed === 1;
    });
    expect(await consumer.status()).toMatchObject({
      transport: 'memory',
      running: true,
      processed: 1,
      deadLettered: 1,
      parked: 1,
      retries: 2,
      parkedStreams: 1,
      openDeadLetters: 2,
      pendingRequests: 0,
    });
  });
});
