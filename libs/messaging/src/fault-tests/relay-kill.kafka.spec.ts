import { describeWithKafka, kafkaBrokers, testTopicPrefix, useTestDatabase } from '@lianfang/testing';
import { exactlyOnce, streamName, unsentOutbox } from './fixtures/counter';
import { startChild, type RunningChild } from './fixtures/child';
import { Pipeline, SRC } from './fixtures/pipeline';

/**
 * The relay (a child process) is SIGKILLed by its `afterSendBeforeMark` fault hook: Kafka has the batch,
 * the outbox still says unsent. A new relay sends the batch again; the consumer's inbox drops the copies.
 */
describeWithKafka('fault tests: relay SIGKILLed between send and mark-sent', () => {
  const db = useTestDatabase('fault-relay-kill');
  let pipeline: Pipeline | undefined;
  const children: RunningChild[] = [];

  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill()));
    await pipeline?.stop();
  });

  it('resends the unmarked batch, and the inbox deduplicates it: effect exactly once', async () => {
    const topic = `${testTopicPrefix('fault-relay')}.counter`;
    const brokers = kafkaBrokers().join(',');
    pipeline = await Pipeline.create({ databaseUrl: db().url, brokers, topic, groupId: `${topic}.consumer` });
    const consumer = await pipeline.startConsumer();
    const streams = Array.from({ length: 20 }, (_, i) => streamName(i));
    await pipeline.appender.fill(streams, 50, { streamsPerAppend: 5, concurrency: 4 });
    const total = pipeline.appender.appended;
    expect(total).toBe(1000);

    // 1. A relay publishes batch 1 (200 rows, marked sent) and batch 2, then dies before marking batch 2.
    const env = { DATABASE_URL: db().url, SCHEMA: SRC, KAFKA_BROKERS: brokers, BATCH_SIZE: '200' };
    const doomed = startChild('relay-child.ts', 'relay 1', { ...env, KILL_AT_BATCH: '2' });
    children.push(doomed);
    expect(await doomed.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(doomed.output()).toMatch(/SIGKILL after send, before mark \(batch 2\)/);
    expect(await unsentOutbox(pipeline.client, SRC)).toBe(total - 200);
    expect(await pipeline.messagesOnTopic()).toBe(400);

    // 2. A new relay (it gets the lease the dead one's connection held) publishes from the first unmarked row.
    const relay = startChild('relay-child.ts', 'relay 2', env);
    children.push(relay);
    await pipeline.waitForCompletion(total);
    await relay.stop();

    // The copies really reached Kafka, and reached the consumer…
    expect(await pipeline.messagesOnTopic()).toBe(total + 200);
    expect(consumer.metrics().duplicates).toBe(200);
    // …and the effect is still exactly once, in order.
    expect(await pipeline.check()).toEqual(exactlyOnce(total));
  }, 240_000);
});
