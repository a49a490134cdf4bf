import {
  makeTempDataDir,
  removeDataDir,
  restartBroker,
  startBroker,
  type BrokerHandle,
} from '../../../../tools/kafka/broker.cjs';
import { describeWithKafka, testTopicPrefix, useTestDatabase } from '@lianfang/testing';
import { exactlyOnce, streamName, unsentOutbox } from './fixtures/counter';
import { Pipeline, SRC } from './fixtures/pipeline';

const OUTAGE_MS = 15_000;

/**
 * A broker of this test's own (the shared one serves other test files) is stopped for at least 15 s while
 * appends go on, then restarted on the same port and data. Relay and consumer ride it out.
 */
describeWithKafka('fault tests: the broker stopped for 15 s while appends continue', () => {
  const db = useTestDatabase('fault-outage');
  let broker: BrokerHandle | undefined;
  let pipeline: Pipeline | undefined;

  afterAll(async () => {
    await pipeline?.stop();
    if (broker) {
      await broker.stop().catch(() => undefined);
      removeDataDir(broker.dataDir);
    }
  });

  it('loses nothing and doubles nothing', async () => {
    broker = await startBroker({ port: 0, dataDir: makeTempDataDir(), heapMb: 512 });
    const topic = `${testTopicPrefix('fault-outage')}.counter`;
    pipeline = await Pipeline.create({
      databaseUrl: db().url,
      brokers: broker.brokers,
      topic,
      groupId: `${topic}.consumer`,
      partitions: 6,
      quietTransport: true,
    });
    await pipeline.startConsumer();
    await pipeline.startRelay();
    const streams = Array.from({ length: 40 }, (_, i) => streamName(i));
    const round = async () => {
      for (let i = 0; i < streams.length; i += 8) await pipeline!.appender.append(streams.slice(i, i + 8));
    };

    // Flowing before the outage.
    for (let i = 0; i < 5; i++) await round();
    await pipeline.waitForCompletion(pipeline.appender.appended);

    // The broker goes away (cleanly: SIGTERM); appends go on for 15 s, two rounds (80 events) a second.
    const port = broker.port;
    await broker.stop();
    const down = Date.now();
    const beforeOutage = pipeline.appender.appended;
    while (Date.now() - down < OUTAGE_MS) {
      await round();
      await new Promise((r) => setTimeout(r, 500));
    }
    const appendedDuringOutage = pipeline.appender.appended - beforeOutage;
    expect(appendedDuringOutage).toBeGreaterThan(0);
    // Nothing got out while the broker was down: all of it waits in the outbox.
    expect(await unsentOutbox(pipeline.client, SRC)).toBe(appendedDuringOutage);

    // Same port, same data.
    broker = await restartBroker(broker);
    expect(broker.port).toBe(port);
    for (let i = 0; i < 5; i++) await round();

    const total = pipeline.appender.appended;
    await pipeline.waitForCompletion(total, 120_000);
    expect(await pipeline.check()).toEqual(exactlyOnce(total));
  }, 240_000);
});
