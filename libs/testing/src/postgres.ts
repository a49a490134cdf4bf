import { randomBytes } from 'node:crypto';
import { Client, Pool, type PoolConfig } from 'pg';
import { databaseUrl } from './infra';

/** A database of its own for one test file: created on demand, dropped at the end. */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** A pool on the test database; capped so parallel test files do not exhaust the server. */
  pool(config?: PoolConfig): Pool;
  /** Closes every pool handed out and drops the database. */
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const safe = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 30);
  const name = `lf_${safe}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: databaseUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(databaseUrl(), name);
  const pools: Pool[] = [];
  return {
    name,
    url,
    pool(config: PoolConfig = {}) {
      const pool = new Pool({ connectionString: url, max: 10, ...config });
      pools.push(pool);
      return pool;
    },
    async drop() {
      await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
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
  afterAll(async () => {
    await db?.drop();
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
