import { createPostgresClient, type PostgresSqlClient } from '@lianfang/eventsourcing';
import { describeWithKafka, kafkaBrokers, testTopicPrefix, useTestDatabase } from '@lianfang/testing';
import { createKafkaTransport, type KafkaTransport } from '../kafka/kafka-transport';
import { traceIdFromCorrelationId } from '../transport/trace-context';
import { expectTracePropagation, traceScenario } from './test-fixtures/trace.fixture';

/** Servers: PostgreSQL, the real Kafka broker (headers travel as Kafka record headers). */
describeWithKafka('trace context across the bus (PostgreSQL, Kafka)', () => {
  const db = useTestDatabase('trace-kafka');
  let client: PostgresSqlClient;
  let transport: KafkaTransport;
  let scenario: Awaited<ReturnType<typeof traceScenario>> | undefined;

  afterAll(async () => {
    await scenario?.stop();
    await transport?.close();
    await client?.close();
  });

  it('carries the correlation id and trace from the append to the effect', async () => {
    client = createPostgresClient({ connectionString: db().url, max: 5 });
    transport = createKafkaTransport({ brokers: kafkaBrokers(), clientId: 'trace-spec' });
    const topic = `${testTopicPrefix('trace')}.events`;
    scenario = await traceScenario({ client, transport, topic, schemaPrefix: 'trace' });
    await expectTracePropagation(scenario, traceIdFromCorrelationId);
  });
});
