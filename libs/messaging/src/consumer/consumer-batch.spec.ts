import { createPostgresClient, type PostgresSqlClient } from '@lianfang/eventsourcing';
import { describeWithPostgres, useTestDatabase } from '@lianfang/testing';
import { listDeadLetters } from '../dlq/dead-letters';
import { createMemoryTransport, type MemoryTransport } from '../memory/memory-transport';
import type { IncomingMessage, OutgoingMessage, Transport } from '../transport/transport';
import { startConsumer, type Consumer } from './consumer';
import {
  counterEffect,
  counterEnvelope,
  createEffectTables,
  effectState,
  eventually,
  testContracts,
  toOutgoing,
} from './test-fixtures/counter.fixture';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

interface BatchCall {
  readonly offsets: string[];
  outcome?: 'resolved' | 'rejected';
}

/**
 * The transport as it is, recording the runs handed to `handleBatch` and how they ended; with
 * `batching: false` it drops `handleBatch`, i.e. the consumer runs one message at a time as before.
 */
function observed(inner: Transport, calls: BatchCall[], batching: boolean): Transport {
  return {
    kind: inner.kind,
    ensureTopics: (t) => inner.ensureTopics(t),
    createPublisher: () => inner.createPublisher(),
    close: () => inner.close(),
    subscribe: (o) => {
      const batch = o.handleBatch;
      return inner.subscribe({
        ...o,
        handleBatch:
          batching && batch
            ? async (messages: IncomingMessage[]) => {
                const call: BatchCall = { offsets: messages.map((m) => m.offset) };
                calls.push(call);
                try {
                  await batch(messages);
                  call.outcome = 'resolved';
                } catch (error) {
                  call.outcome = 'rejected';
                  throw error;
                }
              }
            : undefined,
      });
    },
  };
}

describeWithPostgres(
  'consumer: runs of messages in one transaction (memory transport, real PostgreSQL)',
  () => {
    const db = useTestDatabase('consumer_batch');
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

    /** A fresh schema, a ONE-partition topic (so messages of several streams form one run) and a consumer. */
    async function setup(batching: boolean) {
      const schema = `svc_batch_${++schemaSeq}`;
      const topic = `lianfang.batch${schemaSeq}.v1`;
      await createEffectTables(client, schema);
      const effect = counterEffect(schema);
      await transport.ensureTopics([{ name: topic, partitions: 1, replicationFactor: 1 }]);
      const calls: BatchCall[] = [];
      /** The transaction id each (stream, seq) was applied in, by successful handler calls. */
      const txOf = new Map<string, string>();
      const consumer = await startConsumer({
        transport: observed(transport, calls, batching),
        client,
        schema,
        groupId: `${schema}.group`,
        topics: [topic],
        contracts: testContracts(),
        handle: async (envelope, tx, message) => {
          await effect.handle(envelope, tx, message);
          const r = await tx.query<{ id: unknown }>(`SELECT txid_current()::text AS id`);
          const data = envelope.data as { stream: string; seq: number };
          txOf.set(`${data.stream}/${data.seq}`, String(r.rows[0].id));
        },
        maxAttempts: 3,
        backoff: { initialMs: 5, maxMs: 20 },
        requestPollMs: false,
        deadLetterTopics: false,
        logger: quiet,
      });
      running.push(consumer);
      /** All in one send: stored together, so the transport has the whole run at hand. */
      const sendAll = async (messages: OutgoingMessage[]) => {
        const publisher = await transport.createPublisher();
        await publisher.send(messages);
        await publisher.close();
      };
      return { schema, topic, effect, consumer, calls, txOf, sendAll };
    }

    it('applies a run of messages of one partition in one transaction, offsets committed after', async () => {
      const { schema, topic, consumer, calls, txOf, sendAll } = await setup(true);
      await sendAll(
        [
          ['A', 1],
          ['B', 1],
          ['A', 2],
          ['B', 2],
          ['A', 3],
        ].map(([s, n]) => toOutgoing(topic, counterEnvelope(String(s), Number(n)))),
      );
      await eventually('the run applied', async () => consumer.metrics().processed === 5);
      expect(calls).toEqual([{ offsets: ['0', '1', '2', '3', '4'], outcome: 'resolved' }]);
      expect(new Set(txOf.values()).size).toBe(1);
      expect(await effectState(client, schema)).toEqual({ total: 5, log: { A: [1, 2, 3], B: [1, 2] } });
      expect(transport.committedOffset(`${schema}.group`, topic, 0)).toBe('5');
      const inbox = await client.query(`SELECT count(*)::int AS n FROM ${schema}.inbox`);
      expect(inbox.rows[0]).toEqual({ n: 5 });
    });

    it('applies an event twice in a run (relay resend) once', async () => {
      const { schema, topic, consumer, calls, sendAll } = await setup(true);
      const a1 = counterEnvelope('A', 1);
      await sendAll([
        toOutgoing(topic, a1),
        toOutgoing(topic, counterEnvelope('A', 2)),
        toOutgoing(topic, a1),
      ]);
      await eventually('the run handled', async () => calls.some((c) => c.outcome === 'resolved'));
      expect(consumer.metrics()).toMatchObject({ processed: 2, duplicates: 1 });
      expect(await effectState(client, schema)).toEqual({ total: 2, log: { A: [1, 2] } });
    });

    /**
     * A failing message in the middle of a run, then a run with a message of the parked stream: the outcome
     * (effects, dead letters, parking, metrics) must be exactly that of one message at a time.
     */
    async function failingScenario(batching: boolean) {
      const { schema, topic, effect, consumer, calls, txOf, sendAll } = await setup(batching);
      effect.fail = (stream, seq) =>
        stream === 'A' && seq === 2 ? new Error('A/2 cannot be applied') : undefined;
      const first: Array<[string, number]> = [
        ['A', 1],
        ['B', 1],
        ['A', 2],
        ['B', 2],
        ['A', 3],
      ];
      await sendAll(first.map(([s, n]) => toOutgoing(topic, counterEnvelope(s, n))));
      await eventually('first run handled', async () => {
        const m = consumer.metrics();
        return m.processed === 3 && m.deadLettered === 1 && m.parked === 1;
      });
      const second: Array<[string, number]> = [
        ['A', 4],
        ['B', 3],
        ['C', 1],
      ];
      await sendAll(second.map(([s, n]) => toOutgoing(topic, counterEnvelope(s, n))));
      await eventually('second run handled', async () => {
        const m = consumer.metrics();
        return m.processed === 5 && m.parked === 2;
      });
      const letters = (await listDeadLetters(client, schema)).map((l) => ({
        stream: l.streamId,
        status: l.status,
        offset: l.offset,
        attempts: l.attempts,
      }));
      const inbox = await client.query<{ offset: string }>(
        `SELECT "offset"::text AS offset FROM ${schema}.inbox ORDER BY "offset"`,
      );
      return {
        effects: await effectState(client, schema),
        letters,
        inbox: inbox.rows.map((r) => r.offset),
        metrics: consumer.metrics(),
        calls,
        txOf,
        committed: transport.committedOffset(`${schema}.group`, topic, 0),
      };
    }

    it('rolls back a run whose handler fails, then dead-letters and parks exactly as one at a time', async () => {
      const batched = await failingScenario(true);
      const oneByOne = await failingScenario(false);

      // The first run was rejected as a whole (nothing of it committed) and replayed one at a time: the
      // messages before the failing one applied once, the failing one dead-lettered after its 3 attempts.
      expect(batched.calls[0]).toEqual({ offsets: ['0', '1', '2', '3', '4'], outcome: 'rejected' });
      // The second run went through in one transaction: A/4 parked behind A/2, B/3 and C/1 applied.
      expect(batched.calls.at(-1)).toEqual({ offsets: ['5', '6', '7'], outcome: 'resolved' });
      expect(batched.txOf.get('B/3')).toBe(batched.txOf.get('C/1'));
      expect(oneByOne.calls).toEqual([]);

      expect(batched.effects).toEqual({ total: 5, log: { A: [1], B: [1, 2, 3], C: [1] } });
      expect(batched.letters).toEqual([
        { stream: 'A', status: 'parked-head', offset: '2', attempts: 3 },
        { stream: 'A', status: 'parked', offset: '4', attempts: 0 },
        { stream: 'A', status: 'parked', offset: '5', attempts: 0 },
      ]);
      expect(batched.inbox).toEqual(['0', '1', '3', '6', '7']);
      expect(batched.committed).toBe('8');
      expect(batched.metrics).toMatchObject({ processed: 5, duplicates: 0, deadLettered: 1, parked: 2 });

      // Exactly what the per-message path does.
      expect(batched.effects).toEqual(oneByOne.effects);
      expect(batched.letters).toEqual(oneByOne.letters);
      expect(batched.inbox).toEqual(oneByOne.inbox);
      expect(batched.committed).toEqual(oneByOne.committed);
      expect(batched.metrics).toEqual(oneByOne.metrics);
    });
  },
);
