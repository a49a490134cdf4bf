import { randomBytes } from 'node:crypto';
import { Client, Pool, type PoolConfig } from 'pg';
import { databaseUrl } from './infra';

/** A database of its own for one test file: created on demand, dropped at the end. */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** A pool on the test database; capped so parallel test files do not exhaust the server. */
  pool(config?: PoolConfig): Pool;
  /** Closes every pool handed out. */
  release(): Promise<void>;
  /** Closes every pool handed out and drops the database (killing any connection still open). */
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Databases of one test run share a prefix, so the global teardown can drop them all. */
export function testRunPrefix(): string {
  return `lf_${process.env.LIANFANG_TEST_RUN ?? 'adhoc'}_`;
}

export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const safe = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 30);
  const name = `${testRunPrefix()}${safe}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: databaseUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(databaseUrl(), name);
  const pools: Pool[] = [];
  const release = async () => {
    await Promise.all(pools.splice(0).map((p) => p.end().catch(() => undefined)));
  };
  return {
    name,
    url,
    pool(config: PoolConfig = {}) {
      const pool = new Pool({ connectionString: url, max: 10, ...config });
      pools.push(pool);
      return pool;
    },
    release,
    async drop() {
      await release();
      const c = new Client({ connectionString: databaseUrl() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * Jest helper: a fresh database for the enclosing describe block.
 * `const db = useTestDatabase('eventstore');` then `db().pool()` inside tests.
 */
export function useTestDatabase(label?: string): () => TestDatabase {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(
      label ?? expect.getState().testPath?.split('/').pop()?.replace('.spec.ts', ''),
    );
  });
  // Only the pools here: jest runs afterAll hooks in declaration order, so this one runs before the
  // suite's own clean-up, and dropping now would kill connections the suite has yet to close. The
  // global teardown drops every database of the run once all workers are gone.
  afterAll(async () => {
    await db?.release();
  });
  return () => {
    if (!db) throw new Error('useTestDatabase: the database exists only inside tests (after beforeAll)');
    return db;
  };
}

/** A topic prefix of its own for one test file, so parallel files never share topics. */
export function testTopicPrefix(label = 't'): string {
  return `lf-test.${label}.${randomBytes(4).toString('hex')}`;
}

/** Drops every database of this test run (global teardown: no worker holds a connection any more). */
export async function dropTestRunDatabases(): Promise<number> {
  const c = new Client({ connectionString: databaseUrl() });
  await c.connect();
  try {
    const { rows } = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`,
      [testRunPrefix()],
    );
    for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    return rows.length;
  } finally {
    await c.end();
  }
}
