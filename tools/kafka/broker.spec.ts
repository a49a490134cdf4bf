import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { describeWithKafka, requireInfra } from '@lianfang/testing';
import {
  makeTempDataDir,
  prerequisitesMissing,
  removeDataDir,
  restartBroker,
  startBroker,
  type BrokerHandle,
} from './broker.cjs';

jest.setTimeout(180_000);

function client(brokers: string): Kafka {
  return new Kafka({ clientId: 'lf-broker-spec', brokers: [brokers], logLevel: logLevel.WARN });
}

async function produce(brokers: string, topic: string, value: string): Promise<void> {
  const producer = client(brokers).producer({
    idempotent: true,
    maxInFlightRequests: 1,
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 5_000 },
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [{ key: 'k', value }] });
  } finally {
    await producer.disconnect();
  }
}

/** Reads the topic from the beginning with a fresh group until `count` messages arrived. */
async function consume(brokers: string, topic: string, count: number): Promise<string[]> {
  const consumer = client(brokers).consumer({ groupId: `lf-broker-spec.${randomUUID()}` });
  const values: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`only ${values.length} of ${count} messages after 30 s`)),
        30_000,
      );
      consumer
        .run({
          eachMessage: async ({ message }) => {
            values.push(message.value?.toString() ?? '');
            if (values.length >= count) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  return values;
}

// Needs Java even when KAFKA_BROKERS points at an outside broker: this suite starts brokers of its own.
const cannotStart = prerequisitesMissing();
if (cannotStart)
  console.warn(`\n⚠ SKIPPED "tools/kafka broker": cannot start a broker here (${cannotStart}).\n`);
// Under REQUIRE_INFRA=1 a missing Java or Maven must fail this suite, not skip it.
const describeBroker = cannotStart && !requireInfra() ? describe.skip : describeWithKafka;

describeBroker('tools/kafka broker: a second broker, restarted on the same port and data dir', () => {
  const topic = 'lf-broker-spec.durable';
  let dataDir: string;
  let broker: BrokerHandle | undefined;

  beforeAll(() => {
    dataDir = makeTempDataDir();
  });

  afterAll(async () => {
    await broker?.stop();
    if (dataDir) removeDataDir(dataDir);
  });

  it('keeps a message produced before a clean stop (SIGTERM) and restart', async () => {
    broker = await startBroker({ port: 0, dataDir });
    expect(broker.brokers).not.toBe(process.env.KAFKA_BROKERS);
    const admin = client(broker.brokers).admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    await produce(broker.brokers, topic, 'before-stop');

    const { port, pid } = broker;
    await broker.stop();
    expect(broker.isRunning()).toBe(false);
    await expect(broker.exited).resolves.not.toBe(-1);

    broker = await restartBroker(broker);
    expect(broker.port).toBe(port);
    expect(broker.pid).not.toBe(pid);
    expect(await consume(broker.brokers, topic, 1)).toEqual(['before-stop']);
  });

  it('keeps acknowledged messages across a SIGKILL (no shutdown) and restart', async () => {
    if (!broker?.isRunning()) throw new Error('the previous test left no running broker');
    await produce(broker.brokers, topic, 'before-kill');
    broker.kill();
    await broker.exited;
    expect(broker.isRunning()).toBe(false);

    broker = await restartBroker(broker);
    expect(await consume(broker.brokers, topic, 2)).toEqual(['before-stop', 'before-kill']);
  });
});
