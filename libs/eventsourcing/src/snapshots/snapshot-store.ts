/**
 * Snapshots of a decider's state for long streams (a facility's capacity ledger grows with every
 * receipt). A snapshot is a CACHE: the events stay the truth. It is written after the append, outside
 * its transaction; losing one costs a longer fold, never a wrong answer, as long as every stored
 * snapshot is a state the stream really had at `streamVersion`.
 *
 * A snapshot carries the schema version of the serialized state (`SnapshotPolicy.version`): when the
 * state's shape or `evolve` changes, bump it and the old snapshots are ignored, then overwritten.
 */
import { assertSqlIdentifier, toBigInt, type SqlClient } from '../sql/sql-client';

export interface Snapshot {
  readonly streamId: string;
  /** `SnapshotPolicy.version` of the code that took it. */
  readonly snapshotVersion: number;
  /** The stream version (position of the last event) the state reflects. */
  readonly streamVersion: bigint;
  /** `SnapshotPolicy.serialize(state)`: JSON. */
  readonly state: unknown;
  readonly takenAt: Date;
}

export interface SnapshotStore {
  /** The latest snapshot of the stream, whatever its snapshot version, or undefined. */
  load(streamId: string): Promise<Snapshot | undefined>;
  /**
   * Stores the snapshot unless a newer one of the same snapshot version is there already
   * (concurrent writers never move a snapshot backwards). A snapshot of another version is replaced.
   */
  save(snapshot: Snapshot): Promise<void>;
  /** Forgets the stream's snapshot (e.g. after erasing personal data folded into it). */
  delete(streamId: string): Promise<void>;
}

export interface SqlSnapshotStoreOptions {
  readonly sql: SqlClient;
  /** The event store's schema; undefined: the connection's search_path. */
  readonly schema?: string;
}

/** `SnapshotStore` over PostgreSQL or PGlite, table `<schema>.snapshots`. Call `migrate()` once. */
export class SqlSnapshotStore implements SnapshotStore {
  private readonly sql: SqlClient;
  private readonly schema: string | undefined;
  readonly table: string;

  constructor(options: SqlSnapshotStoreOptions) {
    if (options.schema !== undefined) assertSqlIdentifier(options.schema, 'schema name');
    this.sql = options.sql;
    this.schema = options.schema;
    this.table = options.schema === undefined ? 'snapshots' : `${options.schema}.snapshots`;
  }

  /** Idempotent: creates the schema and the table when missing. Safe to run concurrently. */
  async migrate(): Promise<void> {
    await this.sql.transaction(async (tx) => {
      // Concurrent CREATE ... IF NOT EXISTS can still collide in the catalog: serialize the creators.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('lianfang.snapshots.ddl'))`);
      if (this.schema !== undefined) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await tx.query(
        `CREATE TABLE IF NOT EXISTS ${this.table}(stream_id text primary key, snapshot_version int, stream_version bigint, state jsonb, taken_at timestamptz)`,
      );
    });
  }

  async load(streamId: string): Promise<Snapshot | undefined> {
    const { rows } = await this.sql.query<{
      snapshot_version: number;
      stream_version: unknown;
      state: unknown;
      taken_at: Date | string;
    }>(`SELECT snapshot_version, stream_version, state, taken_at FROM ${this.table} WHERE stream_id = $1`, [
      streamId,
    ]);
    const row = rows[0];
    if (!row) return undefined;
    return {
      streamId,
      snapshotVersion: Number(row.snapshot_version),
      streamVersion: toBigInt(row.stream_version),
      // jsonb comes back parsed from both drivers; a string here would be a JSON string value.
      state: row.state,
      takenAt: row.taken_at instanceof Date ? row.taken_at : new Date(row.taken_at),
    };
  }

  async save(snapshot: Snapshot): Promise<void> {
    await this.sql.query(
      `INSERT INTO ${this.table} AS s (stream_id, snapshot_version, stream_version, state, taken_at)
       VALUES ($1, $2, $3::bigint, $4::jsonb, $5::timestamptz)
       ON CONFLICT (stream_id) DO UPDATE
         SET snapshot_version = excluded.snapshot_version, stream_version = excluded.stream_version,
             state = excluded.state, taken_at = excluded.taken_at
         WHERE s.snapshot_version IS DISTINCT FROM excluded.snapshot_version
            OR s.stream_version < excluded.stream_version`,
      [
        snapshot.streamId,
        snapshot.snapshotVersion,
        snapshot.streamVersion.toString(),
        JSON.stringify(snapshot.state),
        // as text: drivers disagree on Date parameters across realms (jest, PGlite)
        snapshot.takenAt.toISOString(),
      ],
    );
  }

  async delete(streamId: string): Promise<void> {
    await this.sql.query(`DELETE FROM ${this.table} WHERE stream_id = $1`, [streamId]);
  }
}

/** Creates the store and runs its migration. */
export async function createSqlSnapshotStore(options: SqlSnapshotStoreOptions): Promise<SqlSnapshotStore> {
  const store = new SqlSnapshotStore(options);
  await store.migrate();
  return store;
}
