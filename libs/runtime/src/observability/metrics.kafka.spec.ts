import { createKafkaTransport, type KafkaTransport, type OutgoingMessage } from '@lianfang/messaging';
import { describeWithKafka, kafkaBrokers, testTopicPrefix } from '@lianfang/testing';
import { consumerLagCollector } from './collectors';
import { ServiceMetrics } from './metrics';

describeWithKafka('consumer lag on the real broker', () => {
  let transport: KafkaTransport;
  let metrics: ServiceMetrics | undefined;

  afterAll(async () => {
    metrics?.registry.clear();
    await transport?.close();
  });

  it('reports end offset − committed offset per partition in /metrics', async () => {
    transport = createKafkaTransport({
      brokers: kafkaBrokers(),
      clientId: 'lag-spec',
      kafkaLogLevel: 'error',
    });
    const topic = `${testTopicPrefix('lag')}.events`;
    const groupId = `${topic}.consumer`;
    await transport.ensureTopics([{ name: topic, partitions: 2, replicationFactor: 1 }]);
    const message = (i: number): OutgoingMessage => ({
      topic,
      key: `stream-${i}`,
      value: `{"i":${i}}`,
      headers: {},
    });
    const publisher = await transport.createPublisher();
    await publisher.send([0, 1, 2, 3, 4].map(message));

    // Before the group exists: nothing committed, everything is lag.
    const before = await transport.consumerLag(groupId, [topic]);
    expect(before.map((l) => l.committed)).toEqual([undefined, undefined]);
    expect(before.reduce((n, l) => n + l.lag, 0)).toBe(5);

    // The group reads all five, commits, and stops; then three more arrive: a lag of three.
    let handled = 0;
    const subscription = await transport.subscribe({
      groupId,
      topics: [topic],
      fromBeginning: true,
      handle: async () => void handled++,
    });
    for (let i = 0; (await transport.consumerLag(groupId, [topic])).some((l) => l.lag > 0); i++) {
      if (i > 600) throw new Error(`the group did not catch up (handled ${handled})`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await subscription.stop();
    await publisher.send([5, 6, 7].map(message));
    await publisher.close();

    metrics = new ServiceMetrics({
      service: 'compensation-service',
      defaultMetrics: false,
      collectors: {
        consumerLag: consumerLagCollector(transport, [{ groupId, topics: [topic, `${topic}.missing`] }]),
      },
    });
    const text = await metrics.metrics();
    const lines = text.split('\n').filter((l) => l.startsWith('lianfang_consumer_lag_messages{'));
    expect(lines).toHaveLength(2); // one per partition; the missing topic is left out
    const total = lines.reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    expect(total).toBe(3);
    for (const l of lines) {
      expect(l).toContain(`group="${groupId}"`);
      expect(l).toContain(`topic="${topic}"`);
      expect(l).toMatch(/partition="[01]"/);
      expect(l).toContain('service="compensation-service"');
    }
    const after = await transport.consumerLag(groupId, [topic]);
    expect(after.every((l) => l.committed !== undefined || l.high === '0')).toBe(true);
  });
});
