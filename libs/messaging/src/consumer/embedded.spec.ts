import { createPgliteClient, type PgliteSqlClient } from '@lianfang/eventsourcing';
import { createMemoryTransport } from '../memory/memory-transport';
import { startConsumer } from './consumer';
import {
  counterEffect,
  counterEnvelope,
  createEffectTables,
  effectState,
  eventually,
  publish,
  testContracts,
  toOutgoing,
} from './test-fixtures/counter.fixture';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

// The embedded mode (`npm start`: PGlite, BUS=memory) runs the very same consumer and redrive SQL.
describe('consumer in the embedded mode (PGlite + memory transport)', () => {
  let client: PgliteSqlClient;
  beforeAll(async () => {
    client = await createPgliteClient();
  });
  afterAll(() => client.close());

  it('dedupes, parks a poisoned stream and redrives it in order', async () => {
    const transport = createMemoryTransport({ logger: quiet });
    await createEffectTables(client, 'embedded');
    const effect = counterEffect('embedded');
    let broken = true;
    effect.fail = (s, q) => (broken && s === 'A' && q === 1 ? new Error('boom') : undefined);
    const consumer = await startConsumer({
      transport,
      client,
      schema: 'embedded',
      groupId: 'embedded.group',
      topics: ['lianfang.embedded.v1'],
      contracts: testContracts(),
      handle: effect.handle,
      maxAttempts: 2,
      backoff: { initialMs: 5, maxMs: 10 },
      logger: quiet,
    });
    try {
      const b1 = counterEnvelope('B', 1);
      await publish(
        transport,
        [counterEnvelope('A', 1), counterEnvelope('A', 2), b1, counterEnvelope('A', 3), b1].map((e) =>
          toOutgoing('lianfang.embedded.v1', e),
        ),
      );
      await eventually('A parked, B applied once', async () => {
        const m = consumer.metrics();
        return m.parked === 2 && m.duplicates === 1;
      });
      expect(await effectState(client, 'embedded')).toEqual({ total: 1, log: { B: [1] } });
      broken = false;
      const outcome = await consumer.redrive('A', { by: 'ops' });
      expect(outcome).toMatchObject({ finished: true, unparked: true });
      expect(outcome.redriven).toHaveLength(3);
      expect(await effectState(client, 'embedded')).toEqual({ total: 4, log: { B: [1], A: [1, 2, 3] } });
    } finally {
      await consumer.stop();
      await transport.close();
    }
  });
});
