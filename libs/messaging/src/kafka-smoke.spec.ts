import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type Admin } from 'kafkajs';
import { describeWithKafka, kafkaBrokers, testTopicPrefix } from '@lianfang/testing';

interface Received {
  key: string;
  value: string;
  partition: number;
  offset: string;
}

/** Rejects after ms unless the promise settles first. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

describeWithKafka('Kafka smoke test (real broker)', () => {
  const topic = `${testTopicPrefix('smoke')}.events`;
  let kafka: Kafka;
  let admin: Admin;
  let topicExists = false;

  beforeAll(async () => {
    kafka = new Kafka({ clientId: 'lf-kafka-smoke', brokers: kafkaBrokers(), logLevel: logLevel.WARN });
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    // Only when the test did not get to it: kafkajs retries deleting a missing topic for ~10 s.
    if (topicExists) await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('round-trips 10 keyed messages through a 3-partition topic with an idempotent producer', async () => {
    await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    topicExists = true;
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0].partitions).toHaveLength(3);

    // One request in flight: kafkajs's idempotence tracks one sequence number per partition (KIP-98's rule).
    // `retry` explicitly: kafkajs 2.2.4 documents unlimited retries for idempotent producers, but it merges
    // the client's retry options in first, so without this they silently get the default 5 (and any finite
    // number logs "Limiting retries for the idempotent producer may invalidate EoS guarantees").
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 5_000 },
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    const sent = Array.from({ length: 10 }, (_, i) => ({
      key: `agency-${i % 3}`,
      value: JSON.stringify({ seq: i, id: randomUUID() }),
    }));
    await producer.connect();
    try {
      // One send per message, in order, as an outbox relay would: per-key order must survive.
      for (const message of sent) {
        const [meta] = await producer.send({ topic, acks: -1, messages: [message] });
        expect(meta.errorCode).toBe(0);
      }
    } finally {
      await producer.disconnect();
    }

    const consumer = kafka.consumer({ groupId: `${topic}.smoke.${randomUUID()}` });
    const received: Received[] = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await within(
        30_000,
        'consuming 10 messages',
        new Promise<void>((resolve, reject) => {
          consumer
            .run({
              eachMessage: async ({ partition, message }) => {
                received.push({
                  key: message.key?.toString() ?? '',
                  value: message.value?.toString() ?? '',
                  partition,
                  offset: message.offset,
                });
                if (received.length >= sent.length) resolve();
              },
            })
            .catch(reject);
        }),
      );
    } finally {
      await consumer.disconnect();
    }

    expect(received).toHaveLength(10);
    const byValue = (a: { value: string }, b: { value: string }) => a.value.localeCompare(b.value);
    expect(received.map(({ key, value }) => ({ key, value })).sort(byValue)).toEqual([...sent].sort(byValue));

    for (const key of new Set(sent.map((m) => m.key))) {
      const got = received.filter((r) => r.key === key);
      // Same key, same partition, and the order it was produced in.
      expect(new Set(got.map((r) => r.partition)).size).toBe(1);
      expect(got.map((r) => r.value)).toEqual(sent.filter((m) => m.key === key).map((m) => m.value));
      const offsets = got.map((r) => BigInt(r.offset));
      expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    }

    await admin.deleteTopics({ topics: [topic] });
    topicExists = false;
    // Deletion is asynchronous in KRaft: the controller acknowledges before every broker's metadata
    // cache drops the topic, so poll (bounded) instead of reading once.
    let listed = await admin.listTopics();
    for (let attempt = 0; attempt < 50 && listed.includes(topic); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      listed = await admin.listTopics();
    }
    expect(listed).not.toContain(topic);
  });
});
