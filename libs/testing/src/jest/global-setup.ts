import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { databaseUrl, requireInfra } from '../infra';
import { setUpKafkaForTests } from './kafka-setup';

async function probePostgres(): Promise<string | undefined> {
  const client = new Client({ connectionString: databaseUrl(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (e) {
    return `${databaseUrl()}: ${(e as Error).message}. Install and start PostgreSQL 15+, or set DATABASE_URL`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Probes the infrastructure once per run; tests read the verdict from the environment. */
export default async function globalSetup(): Promise<void> {
  // Names this run's databases (see dropTestRunDatabases in the teardown).
  process.env.LIANFANG_TEST_RUN = randomBytes(3).toString('hex');
  const pgMissing = await probePostgres();
  const kafkaMissing = await setUpKafkaForTests();
  const missing = [pgMissing && `PostgreSQL: ${pgMissing}`, kafkaMissing && `Kafka: ${kafkaMissing}`].filter(
    Boolean,
  );
  if (missing.length > 0 && requireInfra()) {
    throw new Error(`REQUIRE_INFRA=1 but infrastructure is missing:\n  ${missing.join('\n  ')}`);
  }
  // Said here too: jest hides the console of a file whose tests were all skipped.
  if (pgMissing)
    console.error(`\n⚠ PostgreSQL unavailable: its integration suites are SKIPPED. ${pgMissing}\n`);
  process.env.LIANFANG_TEST_PG_MISSING = pgMissing ?? '';
  process.env.LIANFANG_TEST_KAFKA_MISSING = kafkaMissing ?? '';
}
