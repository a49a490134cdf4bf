/**
 * What the test run found: the jest global setup probes PostgreSQL and Kafka once and writes the
 * result into the environment that every test worker inherits.
 */
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(): string {
  return process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
}

export function requireInfra(): boolean {
  return process.env.REQUIRE_INFRA === '1';
}

/** Why PostgreSQL is missing, or undefined when it is there. */
export function postgresMissing(): string | undefined {
  return process.env.LIANFANG_TEST_PG_MISSING || undefined;
}

/** Why Kafka is missing, or undefined when `KAFKA_BROKERS` points at a live broker. */
export function kafkaMissing(): string | undefined {
  return process.env.LIANFANG_TEST_KAFKA_MISSING || undefined;
}

export function kafkaBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers)
    throw new Error('KAFKA_BROKERS is not set: the jest global setup starts a broker, or set it yourself');
  return brokers.split(',').map((b) => b.trim());
}

function describeWhen(missing: string | undefined, what: string, name: string, fn: () => void): void {
  if (!missing) {
    describe(name, fn);
    return;
  }
  // Loud: a skipped infrastructure suite must never pass silently. CI sets REQUIRE_INFRA=1,
  // and then the global setup has already failed the run instead.
  console.warn(`\n⚠ SKIPPED "${name}": ${what} is not available (${missing}).\n`);
  describe.skip(`${name} [SKIPPED: ${what} unavailable: ${missing}]`, fn);
}

/** A suite that needs the real PostgreSQL server. */
export function describeWithPostgres(name: string, fn: () => void): void {
  describeWhen(postgresMissing(), 'PostgreSQL', name, fn);
}

/** A suite that needs the real Kafka broker (and so PostgreSQL too, where it keeps an outbox). */
export function describeWithKafka(name: string, fn: () => void): void {
  describeWhen(kafkaMissing(), 'Kafka', name, fn);
}
