/**
 * The two real backends the personal-data specs run against: PostgreSQL (a fresh database per file) and
 * PGlite (in memory). Not exported from the library. The spec hands in the helpers of `@lianfang/testing`
 * (a library may import the testing library only from its specs).
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { createPgliteEventStore } from '../pglite/pglite-event-store';
import { createPostgresEventStore, type SqlEventStore } from '../postgres/postgres-event-store';
import { createPostgresClient } from '../sql/postgres-client';
import type { SqlClient } from '../sql/sql-client';

export const STORE_SCHEMA = 'transfer';
export const MASTER_KEY = randomBytes(32).toString('base64');

export interface Backend {
  readonly kind: 'postgres' | 'pglite';
  /** The event store's client: the key store shares it (its own table, outside the event tables). */
  readonly client: SqlClient;
  readonly store: SqlEventStore;
  /**
   * Connections of "another process": PostgreSQL, a second pool; PGlite has one connection, so the same
   * client (another key store instance on it still has a cache of its own).
   */
  readonly otherClient: SqlClient;
}

/** What the fixture needs of `@lianfang/testing`. */
export interface TestingHelpers {
  describeWithPostgres(name: string, fn: () => void): void;
  useTestDatabase(label?: string): () => { pool(config?: { max?: number }): Pool };
}

/** Runs `suite` against PostgreSQL and against PGlite. */
export function forEachBackend(
  { describeWithPostgres, useTestDatabase }: TestingHelpers,
  name: string,
  suite: (backend: () => Backend) => void,
): void {
  describeWithPostgres(`${name} (PostgreSQL)`, () => {
    const db = useTestDatabase('personal_data');
    let backend: Backend | undefined;
    beforeAll(async () => {
      const client = createPostgresClient({ pool: db().pool({ max: 5 }) });
      const otherClient = createPostgresClient({ pool: db().pool({ max: 5 }) });
      const store = createPostgresEventStore({ client, schema: STORE_SCHEMA, ownsClient: true });
      await store.start();
      backend = { kind: 'postgres', client, store, otherClient };
    });
    afterAll(async () => {
      await backend?.store.close();
      await backend?.otherClient.close();
    });
    suite(() => required(backend));
  });

  describe(`${name} (PGlite)`, () => {
    let backend: Backend | undefined;
    beforeAll(async () => {
      const store = await createPgliteEventStore({ memory: true, schema: STORE_SCHEMA });
      backend = { kind: 'pglite', client: store.client, store, otherClient: store.client };
    });
    afterAll(async () => {
      await backend?.store.close();
    });
    suite(() => required(backend));
  });
}

function required(backend: Backend | undefined): Backend {
  if (!backend) throw new Error('The backend exists only inside tests (after beforeAll)');
  return backend;
}

/** A SqlClient that counts the queries it passes on to the real one (to check batching). */
export function countingClient(inner: SqlClient): SqlClient & { readonly queries: string[] } {
  const queries: string[] = [];
  return {
    dialect: inner.dialect,
    queries,
    query(text, params) {
      queries.push(text);
      return inner.query(text, params);
    },
    transaction(fn) {
      return inner.transaction((tx) =>
        fn({
          query(text, params) {
            queries.push(text);
            return tx.query(text, params);
          },
        }),
      );
    },
    listen: (channel, onNotify) => inner.listen(channel, onNotify),
    close: async () => undefined,
  };
}
