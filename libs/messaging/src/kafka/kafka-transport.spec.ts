import { KafkaJSNonRetriableError, KafkaJSProtocolError, type Admin, type Producer } from 'kafkajs';
import { describeWithKafka, kafkaBrokers, testTopicPrefix } from '@lianfang/testing';
import type { IncomingMessage, OutgoingMessage, Subscription } from '../transport/transport';
import { createKafkaTransport, type KafkaTransport } from './kafka-transport';
import { isFatalProducerError } from './producer-errors';

async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Logged {
  warn: string[];
  error: string[];
}

function recordingLogger(): Pick<Console, 'warn' | 'error'> & { logged: Logged } {
  const logged: Logged = { warn: [], error: [] };
  return {
    logged,
    warn: (...args: unknown[]) => void logged.warn.push(args.map(String).join(' ')),
    error: (...args: unknown[]) => void logged.error.push(args.map(String).join(' ')),
  };
}

const msg = (
  topic: string,
  key: string,
  value: string,
  headers: Record<string, string> = {},
): OutgoingMessage => ({
  topic,
  key,
  value,
  headers: { 'lf-type': 'Tested', ...headers },
});

describeWithKafka('Kafka transport (real broker)', () => {
  const prefix = testTopicPrefix('kafka-transport');
  const logger = recordingLogger();
  let transport: KafkaTransport;
  let admin: Admin;
  const subscriptions: Subscription[] = [];
  const created: string[] = [];

  const topic = async (name: string, partitions: number) => {
    const full = `${prefix}.${name}`;
    await transport.ensureTopics([{ name: full, partitions, replicationFactor: 1 }]);
    created.push(full);
    return full;
  };
  const subscribe = async (...args: Parameters<KafkaTransport['subscribe']>) => {
    const s = await transport.subscribe(...args);
    subscriptions.push(s);
    return s;
  };
  const committed = async (groupId: string, t: string) => {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [t] });
    return Object.fromEntries(offsets.partitions.map((p) => [p.partition, p.offset]));
  };

  beforeAll(async () => {
    transport = createKafkaTransport({
      brokers: kafkaBrokers(),
      clientId: 'lf-kafka-transport-spec',
      logger,
      redelivery: { initialDelayMs: 50, maxDelayMs: 200 },
    });
    admin = transport.kafka.admin();
    await admin.connect();
  });

  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
  });

  afterAll(async () => {
    await transport.deleteTopics(created).catch(() => undefined);
    await admin.disconnect();
    await transport.close();
  });

  it('creates topics once with their partitions, and warns about an existing topic that differs', async () => {
    const name = `${prefix}.ensure`;
    created.push(name);
    await transport.ensureTopics([{ name, partitions: 3, replicationFactor: 1 }]);
    await transport.ensureTopics([{ name, partitions: 3, replicationFactor: 1 }]);
    const metadata = await admin.fetchTopicMetadata({ topics: [name] });
    expect(metadata.topics[0].partitions).toHaveLength(3);
    expect(logger.logged.warn.filter((w) => w.includes(name))).toEqual([]);

    await transport.ensureTopics([{ name, partitions: 5, replicationFactor: 1 }]);
    expect(logger.logged.warn.filter((w) => w.includes(name))).toEqual([
      expect.stringContaining(`has 3 partitions, configured 5`),
    ]);
    expect((await admin.fetchTopicMetadata({ topics: [name] })).topics[0].partitions).toHaveLength(3);
    expect(await transport.topicOffsets(name)).toEqual([
      { partition: 0, low: '0', high: '0' },
      { partition: 1, low: '0', high: '0' },
      { partition: 2, low: '0', high: '0' },
    ]);
    await expect(
      transport.ensureTopics([{ name: `${prefix}.rf`, partitions: 1, replicationFactor: 3 }]),
    ).rejects.toThrow(/Could not create topics .*rf/);
  });

  it('round-trips keyed messages: same key, same partition, in order; headers and offsets as strings; offsets committed', async () => {
    const t = await topic('roundtrip', 3);
    const publisher = await transport.createPublisher();
    const sent = Array.from({ length: 30 }, (_, i) =>
      msg(t, `stream-${i % 6}`, `{"seq":${i}}`, { seq: String(i) }),
    );
    await publisher.send(sent.slice(0, 10));
    await publisher.send(sent.slice(10));
    await publisher.close();

    const received: IncomingMessage[] = [];
    const groupId = `${t}.g`;
    await subscribe({ groupId, topics: [t], handle: async (m) => void received.push(m) });
    await until(() => received.length >= 30, '30 messages');
    expect(received).toHaveLength(30);
    for (const m of received) {
      expect(typeof m.offset).toBe('string');
      expect(m.offset).toMatch(/^\d+$/);
      expect(m.headers).toEqual({ 'lf-type': 'Tested', seq: JSON.parse(m.value).seq.toString() });
      expect(m.timestamp).toBeInstanceOf(Date);
    }
    for (let k = 0; k < 6; k++) {
      const got = received.filter((m) => m.key === `stream-${k}`);
      expect(new Set(got.map((m) => m.partition)).size).toBe(1);
      expect(got.map((m) => m.value)).toEqual(
        sent.filter((m) => m.key === `stream-${k}`).map((m) => m.value),
      );
    }
    const ends = await transport.topicOffsets(t);
    await until(async () => {
      const c = await committed(groupId, t);
      // A partition nobody wrote to has no committed offset (-1).
      return ends.every((e) => c[e.partition] === (e.high === '0' ? '-1' : e.high));
    }, 'offsets committed up to the end of each partition');
  });

  it('redelivers a rejected message without committing it or crashing, and holds back its partition', async () => {
    const t = await topic('redeliver', 2);
    const publisher = await transport.createPublisher();
    // Same key for all: one partition, strict order.
    await publisher.send(['0', '1', '2', '3', '4'].map((v) => msg(t, 'one-stream', v)));
    const handled: string[] = [];
    let failures = 0;
    const groupId = `${t}.g`;
    await subscribe({
      groupId,
      topics: [t],
      handle: async (m) => {
        if (m.value === '2' && failures < 3) {
          failures++;
          handled.push(`fail ${m.value}@${m.offset}`);
          throw new Error('transient failure');
        }
        handled.push(`ok ${m.value}@${m.offset}`);
      },
    });
    await until(() => handled.includes('ok 4@4'), 'all five');
    expect(handled).toEqual([
      'ok 0@0',
      'ok 1@1',
      'fail 2@2',
      'fail 2@2',
      'fail 2@2',
      'ok 2@2',
      'ok 3@3',
      'ok 4@4',
    ]);
    expect(logger.logged.error.filter((e) => /Crash|eachBatch/.test(e))).toEqual([]);
  });

  it('commits only what was handled: a message that keeps failing is delivered again to the next consumer of the group', async () => {
    const t = await topic('commit', 1);
    const publisher = await transport.createPublisher();
    await publisher.send(['0', '1', '2', '3', '4'].map((v) => msg(t, 'k', v)));
    const groupId = `${t}.g`;
    const first: string[] = [];
    const sub = await subscribe({
      groupId,
      topics: [t],
      handle: async (m) => {
        if (m.value === '3') {
          first.push(`fail ${m.value}`);
          throw new Error('broken until the fix');
        }
        first.push(`ok ${m.value}`);
      },
    });
    await until(() => first.filter((e) => e === 'fail 3').length >= 2, 'message 3 failing repeatedly');
    await sub.stop();
    expect(first.filter((e) => e.startsWith('ok'))).toEqual(['ok 0', 'ok 1', 'ok 2']);
    expect(await committed(groupId, t)).toEqual({ 0: '3' });

    // "After the fix": the same group resumes at the failed message, nothing before it again.
    const second: string[] = [];
    await subscribe({ groupId, topics: [t], handle: async (m) => void second.push(m.value) });
    await until(() => second.length >= 2, 'messages 3 and 4');
    expect(second).toEqual(['3', '4']);
    await until(async () => (await committed(groupId, t))[0] === '5', 'committed to the end');
  });

  it('shares the partitions of a topic between two subscriptions of one group', async () => {
    const t = await topic('shared', 2);
    const groupId = `${t}.g`;
    const byMember: Record<string, IncomingMessage[]> = { a: [], b: [] };
    const handler = (name: string) => async (m: IncomingMessage) => void byMember[name].push(m);
    await subscribe({ groupId, topics: [t], handle: handler('a') });
    await subscribe({ groupId, topics: [t], handle: handler('b') });
    const publisher = await transport.createPublisher();
    const keys = Array.from({ length: 8 }, (_, i) => `s${i}`);
    let round = 0;
    // Keep publishing until both members have received something (the group settles after the 2nd join).
    await until(async () => {
      await publisher.send(keys.map((k) => msg(t, k, String(round))));
      round++;
      await new Promise((r) => setTimeout(r, 200));
      return byMember.a.length > 0 && byMember.b.length > 0;
    }, 'both members receive messages');
    await until(() => byMember.a.length + byMember.b.length >= round * keys.length, 'everything published');
    const partitionsOf = (ms: IncomingMessage[]) => new Set(ms.map((m) => m.partition));
    const all = [...byMember.a, ...byMember.b];
    // Each key's messages all arrived, in order (a rebalance may repeat some: at least once).
    for (const k of keys) {
      const values = all.filter((m) => m.key === k).map((m) => Number(m.value));
      expect(new Set(values).size).toBe(round);
    }
    // After settling, the members own disjoint partitions.
    const lastA = byMember.a.slice(-4);
    const lastB = byMember.b.slice(-4);
    for (const p of partitionsOf(lastA)) expect(partitionsOf(lastB).has(p)).toBe(false);
    await publisher.close();
  });

  it('refuses to publish to a topic that was not declared (never creates one on the fly)', async () => {
    const publisher = await transport.createPublisher();
    const missing = `${prefix}.undeclared`;
    await expect(publisher.send([msg(missing, 'k', 'v')])).rejects.toThrow(
      `Cannot publish to "${missing}": no such topic`,
    );
    await publisher.close();
    expect(await admin.listTopics()).not.toContain(missing);
  });

  it('replaces the producer after a fatal producer error: the failed send rejects, the next one succeeds', async () => {
    const t = await topic('fatal', 1);
    let inject = true;
    const faulty = createKafkaTransport({
      brokers: kafkaBrokers(),
      clientId: 'lf-kafka-transport-spec-fatal',
      logger,
      wrapProducer: (producer: Producer) => {
        const sendBatch = producer.sendBatch.bind(producer);
        producer.sendBatch = async (batch) => {
          if (inject) {
            inject = false;
            const protocol = new KafkaJSProtocolError({
              type: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
              code: 45,
              retriable: false,
              message: 'The broker received an out of order sequence number',
            } as never);
            throw Object.assign(new KafkaJSNonRetriableError(protocol), { cause: protocol });
          }
          return sendBatch(batch);
        };
        return producer;
      },
    });
    try {
      const publisher = await faulty.createPublisher();
      const error = await publisher.send([msg(t, 'k', 'first')]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isFatalProducerError(error)).toBe(true);
      await publisher.send([msg(t, 'k', 'second')]);
      expect(publisher.producersCreated).toBe(2);
      await publisher.close();
      expect(await transport.topicOffsets(t)).toEqual([{ partition: 0, low: '0', high: '1' }]);
    } finally {
      await faulty.close();
    }
  });
});
