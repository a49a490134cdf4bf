import { randomUUID } from 'node:crypto';
import { deadLetterTopicFor } from '@lianfang/contracts';
import { createPostgresClient, type PostgresSqlClient } from '@lianfang/eventsourcing';
import {
  describeWithKafka,
  describeWithPostgres,
  kafkaBrokers,
  testTopicPrefix,
  useTestDatabase,
} from '@lianfang/testing';
import { startConsumer, type Consumer } from '../consumer/consumer';
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
} from '../consumer/test-fixtures/counter.fixture';
import { createKafkaTransport } from '../kafka/kafka-transport';
import { createMemoryTransport } from '../memory/memory-transport';
import { HEADERS, type Transport } from '../transport/transport';
import { listDeadLetters, showDeadLetter } from './dead-letters';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The poison message, end to end, on a given transport: dead-lettered to `<topic>.dlq` with headers and
 * recorded as the head of its parked stream; later messages of its stream parked (not applied) while
 * another stream flows; after the fix, a redrive applies the head and the parked ones once each, in
 * order; the stream is unparked and a new message flows normally; a resend of a redriven one is a no-op.
 */
function poisonScenario(
  label: string,
  client: () => PostgresSqlClient,
  makeTransport: () => Transport,
  topicPrefix: string,
): void {
  it(`parks a poisoned stream, lets others flow, and redrives it in order (${label})`, async () => {
    const schema = `poison_${label}`;
    const topic = `${topicPrefix}.${label}.events`;
    const groupId = `${schema}.group`;
    const transport = makeTransport();
    let consumer: Consumer | undefined;
    let dlq: Awaited<ReturnType<typeof collect>> | undefined;
    try {
      // The consumer creates `<topic>.dlq` itself (default settings).
      await transport.ensureTopics([{ name: topic, partitions: 3, replicationFactor: 1 }]);
      await createEffectTables(client(), schema);
      const effect = counterEffect(schema);
      let broken = true;
      effect.fail = (stream, seq) =>
        broken && stream === 'A' && seq === 2 ? new Error('poison: no such agency') : undefined;
      consumer = await startConsumer({
        transport,
        client: client(),
        schema,
        groupId,
        topics: [topic],
        contracts: testContracts(),
        handle: effect.handle,
        maxAttempts: 3,
        backoff: { initialMs: 5, maxMs: 20 },
        requestPollMs: false,
        logger: quiet,
      });
      dlq = await collect(transport, deadLetterTopicFor(topic), `${schema}.dlq-reader.${randomUUID()}`);

      const A = [1, 2, 3, 4].map((seq) => counterEnvelope('A', seq));
      const B = [1, 2, 3].map((seq) => counterEnvelope('B', seq));
      await publish(
        transport,
        [A[0], A[1], B[0], A[2], B[1], A[3], B[2]].map((e) => toOutgoing(topic, e)),
      );

      await eventually('B applied and A/3, A/4 parked', async () => {
        const letters = await listDeadLetters(client(), schema);
        const { log } = await effectState(client(), schema);
        return letters.length === 3 && log.B?.length === 3;
      });
      await eventually('the dead letter on the .dlq topic', async () => dlq!.messages.length === 1);

      // Other streams flowed; A stopped at its poison.
      expect(await effectState(client(), schema)).toEqual({ total: 4, log: { A: [1], B: [1, 2, 3] } });
      const [message] = dlq.messages;
      expect(message.key).toBe('A');
      expect(message.value).toBe(JSON.stringify(A[1]));
      expect(message.headers[HEADERS.error]).toContain('poison: no such agency');
      expect(message.headers[HEADERS.originalTopic]).toBe(topic);
      expect(message.headers[HEADERS.attempts]).toBe('3');
      expect(message.headers[HEADERS.originalPartition]).toMatch(/^\d+$/);
      expect(message.headers[HEADERS.originalOffset]).toMatch(/^\d+$/);

      const letters = await listDeadLetters(client(), schema);
      expect(letters.map((l) => [l.streamId, l.eventId, l.status])).toEqual([
        ['A', A[1].eventId, 'parked-head'],
        ['A', A[2].eventId, 'parked'],
        ['A', A[3].eventId, 'parked'],
      ]);
      const head = letters[0];
      expect(head).toMatchObject({ attempts: 3, topic, groupId });
      expect(head.partition).toBe(Number(message.headers[HEADERS.originalPartition]));
      expect(head.offset).toBe(message.headers[HEADERS.originalOffset]);
      const detail = await showDeadLetter(client(), schema, head.id);
      expect(detail?.behind.map((l) => l.eventId)).toEqual([A[2].eventId, A[3].eventId]);
      expect(detail?.actions.map((a) => a.action)).toEqual(['dead-lettered']);

      // The fix, then the redrive: head and parked ones once each, in order.
      broken = false;
      const outcome = await consumer.redrive(head.id, { by: 'operator-li', reason: 'agency registered' });
      expect(outcome).toMatchObject({
        finished: true,
        unparked: true,
        failed: undefined,
        refused: undefined,
      });
      expect(outcome.redriven).toEqual(letters.map((l) => ({ id: l.id, duplicate: false })));
      expect(await effectState(client(), schema)).toEqual({
        total: 7,
        log: { A: [1, 2, 3, 4], B: [1, 2, 3] },
      });
      expect((await listDeadLetters(client(), schema)).map((l) => [l.status, l.resolvedBy])).toEqual([
        ['redriven', 'operator-li'],
        ['redriven', 'operator-li'],
        ['redriven', 'operator-li'],
      ]);

      // Unparked: a new A message flows normally; a resend of a redriven one is not applied again.
      await publish(transport, [toOutgoing(topic, counterEnvelope('A', 5)), toOutgoing(topic, A[2])]);
      await eventually('A/5 applied and the resend seen', async () => consumer!.metrics().duplicates === 1);
      expect(await effectState(client(), schema)).toEqual({
        total: 8,
        log: { A: [1, 2, 3, 4, 5], B: [1, 2, 3] },
      });
      expect(await listDeadLetters(client(), schema, { status: ['parked-head', 'parked'] })).toEqual([]);
      expect(dlq.messages).toHaveLength(1);

      const history = (await showDeadLetter(client(), schema, head.id))?.actions ?? [];
      expect(history.map((a) => [a.action, a.actor])).toEqual([
        ['dead-lettered', groupId],
        ['redrive-requested', 'operator-li'],
        ['redriven', 'operator-li'],
        ['redriven', 'operator-li'],
        ['redriven', 'operator-li'],
        ['unparked', 'operator-li'],
      ]);
      expect(history[1].reason).toBe('agency registered');
    } finally {
      await dlq?.stop();
      await consumer?.stop();
      if ('deleteTopics' in transport) {
        await (transport as { deleteTopics(t: string[]): Promise<void> })
          .deleteTopics([topic, deadLetterTopicFor(topic)])
          .catch(() => undefined);
      }
      await transport.close();
    }
  });
}

describeWithPostgres('poison message (memory transport)', () => {
  const db = useTestDatabase('dlq_poison_memory');
  let client: PostgresSqlClient;
  beforeAll(() => {
    client = createPostgresClient({ pool: db().pool({ max: 4 }) });
  });
  afterAll(() => client.close());
  poisonScenario(
    'memory',
    () => client,
    () => createMemoryTransport({ logger: quiet }),
    testTopicPrefix('poison'),
  );
});

describeWithKafka('poison message (Kafka transport, real broker)', () => {
  const db = useTestDatabase('dlq_poison_kafka');
  let client: PostgresSqlClient;
  beforeAll(() => {
    client = createPostgresClient({ pool: db().pool({ max: 4 }) });
  });
  afterAll(() => client.close());
  poisonScenario(
    'kafka',
    () => client,
    () =>
      createKafkaTransport({
        brokers: kafkaBrokers(),
        clientId: `lf-poison-${randomUUID().slice(0, 8)}`,
        logger: { warn: () => undefined, error: (m: string) => console.error(m) },
        kafkaLogLevel: 'error',
      }),
    testTopicPrefix('poison'),
  );
});
