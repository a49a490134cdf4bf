import { dropTestRunDatabases } from '../postgres';
import { tearDownKafkaForTests } from './kafka-setup';

export default async function globalTeardown(): Promise<void> {
  if (!process.env.LIANFANG_TEST_PG_MISSING) await dropTestRunDatabases();
  await tearDownKafkaForTests();
}
