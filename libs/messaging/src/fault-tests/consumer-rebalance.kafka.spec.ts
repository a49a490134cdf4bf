import { describeWithKafka, kafkaBrokers, testTopicPrefix, useTestDatabase } from '@lianfang/testing';
import { exactlyOnce, streamName } from './fixtures/counter';
import { startChild, type RunningChild } from './fixtures/child';
import { DST, Pipeline } from './fixtures/pipeline';

/**
 * Consumers in child processes, one group: B joins while A is consuming (rebalance), then A is SIGKILLed
 * mid-stream (its partitions go to B once its session expires; whatever A applied but had not committed
 * the offset of comes again to B). Appends go on throughout.
 */
describeWithKafka('fault tests: a consumer joins, another is SIGKILLed mid-stream', () => {
  const db = useTestDatabase('fault-rebalance');
  let pipeline: Pipeline | undefined;
  const children: RunningChild[] = [];

  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill()));
    await pipeline?.stop();
  });

  it('loses nothing and doubles nothing across both rebalances', async () => {
    const topic = `${testTopicPrefix('fault-rebalance')}.counter`;
    const brokers = kafkaBrokers().join(',');
    const groupId = `${topic}.consumer`;
    pipeline = await Pipeline.create({ databaseUrl: db().url, brokers, topic, groupId, partitions: 6 });
    await pipeline.startRelay();
    const env = { DATABASE_URL: db().url, SCHEMA: DST, KAFKA_BROKERS: brokers, TOPIC: topic, GROUP: groupId };
    const start = (name: string) => {
      const child = startChild('consumer-child.ts', name, { ...env, NAME: name });
      children.push(child);
      return child;
    };

    // Appends run in the background the whole time (60 streams, one event each per round, about 600
    // events/s), until some rounds after the kill.
    const streams = Array.from({ length: 60 }, (_, i) => streamName(i));
    let roundsLeft = Number.POSITIVE_INFINITY;
    const appends = (async () => {
      for (let round = 0; roundsLeft-- > 0 && round < 400; round++) {
        for (let i = 0; i < streams.length; i += 6) await pipeline!.appender.append(streams.slice(i, i + 6));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const a = start('A');
    await a.waitFor(/processed 300\n/);
    const b = start('B'); // joins: the group rebalances, A gives up some partitions
    await b.waitFor(/processed 100\n/);
    await a.kill(); // SIGKILL mid-stream: no leave-group, its session must expire
    expect(await a.exited).toEqual({ code: null, signal: 'SIGKILL' });
    roundsLeft = 10;

    await appends;
    const total = pipeline.appender.appended;
    expect(total).toBeLessThan(400 * 60); // the appends were still going when A died
    await pipeline.waitForCompletion(total);
    await b.stop();

    expect(await pipeline.check()).toEqual(exactlyOnce(total));
    // Both really consumed (the rebalances happened with work on both sides).
    const { rows } = await pipeline.client.query<{ applied_by: string; n: string }>(
      `SELECT applied_by, count(*) AS n FROM ${DST}.effect_log GROUP BY applied_by ORDER BY applied_by`,
    );
    expect(rows.map((r) => r.applied_by)).toEqual(['A', 'B']);
    expect(rows.every((r) => Number(r.n) >= 100)).toBe(true);
  }, 240_000);
});
