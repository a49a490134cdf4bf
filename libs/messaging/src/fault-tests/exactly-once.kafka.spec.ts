import { describeWithKafka, kafkaBrokers, testTopicPrefix, useTestDatabase } from '@lianfang/testing';
import { exactlyOnce, streamName } from './fixtures/counter';
import { Pipeline } from './fixtures/pipeline';

/**
 * 10,000 events over 100 streams through the real path: event store + outbox → relay → Kafka (6
 * partitions) → consumer (inbox + non-idempotent increment). Every count exact, every stream in order.
 */
describeWithKafka('fault tests: 10,000 events over 100 streams, exactly once and in order', () => {
  const db = useTestDatabase('fault-10k');
  let pipeline: Pipeline | undefined;

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('applies every event once, each stream in order', async () => {
    const topic = `${testTopicPrefix('fault-10k')}.counter`;
    pipeline = await Pipeline.create({
      databaseUrl: db().url,
      brokers: kafkaBrokers().join(','),
      topic,
      groupId: `${topic}.consumer`,
      partitions: 6,
    });
    const streams = Array.from({ length: 100 }, (_, i) => streamName(i));
    // Consumer and relay run while the appends go on: the stream's events interleave with each other.
    await pipeline.startConsumer();
    await pipeline.startRelay();
    await pipeline.appender.fill(streams, 100, { streamsPerAppend: 4, concurrency: 6 });
    expect(pipeline.appender.appended).toBe(10_000);

    await pipeline.waitForCompletion(10_000, 180_000);
    expect(await pipeline.check()).toEqual(exactlyOnce(10_000));
    // Nothing resent in a run without faults: the topic holds each event once.
    expect(await pipeline.messagesOnTopic()).toBe(10_000);
  }, 240_000);
});
