import { tearDownKafkaForTests } from './kafka-setup';

export default async function globalTeardown(): Promise<void> {
  await tearDownKafkaForTests();
}
