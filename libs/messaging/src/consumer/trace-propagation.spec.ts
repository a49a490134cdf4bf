import { createPgliteClient, type PgliteSqlClient } from '@lianfang/eventsourcing';
import { createMemoryTransport, type MemoryTransport } from '../memory/memory-transport';
import { traceIdFromCorrelationId } from '../transport/trace-context';
import { expectTracePropagation, traceScenario } from './test-fixtures/trace.fixture';

/** Embedded mode: PGlite, the in-process transport, the real relay and consumer. */
describe('trace context across the bus (PGlite, memory transport)', () => {
  let client: PgliteSqlClient;
  let transport: MemoryTransport;
  let scenario: Awaited<ReturnType<typeof traceScenario>> | undefined;

  beforeAll(async () => {
    client = await createPgliteClient();
    transport = createMemoryTransport({ partitions: 3 });
  });

  afterAll(async () => {
    await scenario?.stop();
    await transport.close();
    await client.close();
  });

  it('carries the correlation id and trace from the append to the effect', async () => {
    scenario = await traceScenario({
      client,
      transport,
      topic: 'lianfang.transfer.v1',
      schemaPrefix: 'trace',
    });
    await expectTracePropagation(scenario, traceIdFromCorrelationId);
  });
});
