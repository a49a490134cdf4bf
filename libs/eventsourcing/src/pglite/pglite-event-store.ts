import type { PGlite } from '@electric-sql/pglite';
import {
  createPostgresEventStore,
  type SqlEventStore,
  type SqlEventStoreOptions,
} from '../postgres/postgres-event-store';
import { createPgliteClient } from '../sql/pglite-client';

export interface PgliteEventStoreOptions extends Omit<SqlEventStoreOptions, 'client' | 'ownsClient'> {
  /** File-backed, in this directory (the embedded default: `./data/<service>`). */
  readonly dataDir?: string;
  /** In memory (the default without `dataDir` or `pglite`). */
  readonly memory?: boolean;
  /** An instance the caller owns (shared with projections, say); not closed with the store. */
  readonly pglite?: PGlite;
  readonly relaxedDurability?: boolean;
}

/**
 * The event store embedded in this process: PGlite (PostgreSQL compiled to WebAssembly) with the very
 * same SQL as the PostgreSQL adapter. Opens (or creates) the database, migrates the schema, and closes
 * the database with the store unless `pglite` was given.
 */
export async function createPgliteEventStore(options: PgliteEventStoreOptions): Promise<SqlEventStore> {
  const { dataDir, memory, pglite, relaxedDurability, ...storeOptions } = options;
  const client = await createPgliteClient(pglite ? { pglite } : { dataDir, memory, relaxedDurability });
  const store = createPostgresEventStore({ ...storeOptions, client, ownsClient: true });
  try {
    await store.start();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return store;
}
