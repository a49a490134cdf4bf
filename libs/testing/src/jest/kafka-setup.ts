import {
  makeTempDataDir,
  prerequisitesMissing,
  probeBrokers,
  reapOrphanedBrokers,
  removeDataDir,
  startBroker,
  type BrokerHandle,
} from '../../../../tools/kafka/broker.cjs';

/** The broker this jest run started (globalSetup and globalTeardown run in the same process). */
const state = globalThis as typeof globalThis & { __lianfangKafkaBroker?: BrokerHandle };

function say(message: string): void {
  process.stderr.write(`[kafka] ${message}\n`);
}

/**
 * Starts one Kafka broker for the whole test run when KAFKA_BROKERS is unset.
 * Returns why Kafka is unavailable, or undefined when KAFKA_BROKERS points at a live broker.
 *
 * - KAFKA_BROKERS set: probes it (connect + describe cluster, short timeout) and uses it as is.
 * - unset: starts a real broker from tools/kafka (Java 17 + Maven, jars from Maven Central) on a free port
 *   with a fresh temp data dir and sets KAFKA_BROKERS, which the jest workers inherit.
 */
export async function setUpKafkaForTests(): Promise<string | undefined> {
  const missing = await findOrStartKafka();
  // Said here too: jest (without --verbose) hides the console of a test file whose tests were all skipped.
  if (missing) say(`NOT AVAILABLE, the Kafka suites will be skipped: ${missing}`);
  return missing;
}

async function findOrStartKafka(): Promise<string | undefined> {
  const given = process.env.KAFKA_BROKERS;
  if (given) {
    const problem = await probeBrokers(given, { timeoutMs: 5000 });
    return problem ? `KAFKA_BROKERS=${given} is not reachable: ${problem}` : undefined;
  }

  const cannotStart = prerequisitesMissing();
  if (cannotStart) return `KAFKA_BROKERS is unset and no broker can be started here: ${cannotStart}`;

  const reaped = reapOrphanedBrokers();
  if (reaped > 0) say(`removed ${reaped} broker(s) left behind by earlier test runs that died`);

  const dataDir = makeTempDataDir();
  try {
    const broker = await startBroker({ port: 0, dataDir, onProgress: say });
    state.__lianfangKafkaBroker = broker;
    process.env.KAFKA_BROKERS = broker.brokers;
    return undefined;
  } catch (e) {
    removeDataDir(dataDir);
    // The full story (with the broker log's tail) once here; the short reason goes into every skip notice.
    const message = (e as Error).message;
    say(`could not start a broker: ${message}`);
    return `KAFKA_BROKERS is unset and starting a broker failed: ${message.split('\n')[0]} (details above)`;
  }
}

export async function tearDownKafkaForTests(): Promise<void> {
  const broker = state.__lianfangKafkaBroker;
  if (!broker) return;
  state.__lianfangKafkaBroker = undefined;
  const started = Date.now();
  await broker.stop();
  removeDataDir(broker.dataDir);
  if (process.env.KAFKA_BROKERS === broker.brokers) delete process.env.KAFKA_BROKERS;
  say(`stopped the test broker in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
