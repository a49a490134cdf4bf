import { toBigInt, type SqlClient, type SqlExecutor } from '../sql/sql-client';
import { formatLogPosition, type LogPosition } from '../store/events';
import { assertIdentifier, type TableNames } from './projection';

/**
 * The bookkeeping tables of projections, in the schema of the read models:
 *
 * - `projection_checkpoints`: one row per projection, the SERVING generation: its version, the physical
 *   tables the logical views point at (`active_tables`), and the log position its tables reflect.
 * - `projection_rebuilds`: at most one row per projection, a blue/green rebuild in progress (resumable).
 *
 * Positions are text `commit:position`, compared in code (never in SQL, never as numbers).
 */
export type Slot = 'active' | 'rebuild';

export interface CheckpointRow {
  readonly name: string;
  readonly version: number;
  readonly generation: number;
  /** `commit:position` */
  readonly position: string;
  /** Logical → physical, unqualified. */
  readonly tables: Record<string, string>;
  /** Active slot: physical tables switched out and not dropped yet. */
  readonly retiredTables: string[];
  readonly eventsDone: bigint;
  readonly eventsApplied: bigint;
  readonly lastRecordedAt: Date | null;
  readonly lastAppliedAt: Date | null;
  readonly updatedAt: Date;
}

/** Where the projection bookkeeping lives; `schema` undefined means the connection's search_path. */
export class CheckpointTables {
  readonly checkpoints: string;
  readonly rebuilds: string;

  constructor(readonly schema?: string) {
    if (schema !== undefined) assertIdentifier('Schema', schema);
    this.checkpoints = this.qualify('projection_checkpoints');
    this.rebuilds = this.qualify('projection_rebuilds');
  }

  qualify(table: string): string {
    return this.schema === undefined ? table : `${this.schema}.${table}`;
  }

  /** The names a projection's code sees: physical, qualified with the schema. */
  qualifiedNames(tables: Record<string, string>): TableNames {
    return Object.freeze(Object.fromEntries(Object.entries(tables).map(([l, p]) => [l, this.qualify(p)])));
  }

  table(slot: Slot): string {
    return slot === 'active' ? this.checkpoints : this.rebuilds;
  }

  async ensure(client: SqlClient): Promise<void> {
    await client.transaction(async (tx) => {
      // Concurrent CREATE ... IF NOT EXISTS can still collide in the catalog: serialize the creators.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('lianfang.projections.ddl'))`);
      if (this.schema !== undefined) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await tx.query(`
        CREATE TABLE IF NOT EXISTS ${this.checkpoints} (
          name text PRIMARY KEY,
          version integer NOT NULL,
          generation integer NOT NULL,
          position text NOT NULL,
          active_tables jsonb NOT NULL,
          retired_tables jsonb NOT NULL DEFAULT '[]',
          events_done bigint NOT NULL DEFAULT 0,
          events_applied bigint NOT NULL DEFAULT 0,
          last_recorded_at timestamptz,
          last_applied_at timestamptz,
          created_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now()
        )`);
      await tx.query(`
        CREATE TABLE IF NOT EXISTS ${this.rebuilds} (
          name text PRIMARY KEY,
          version integer NOT NULL,
          generation integer NOT NULL,
          position text NOT NULL,
          tables jsonb NOT NULL,
          events_done bigint NOT NULL DEFAULT 0,
          events_applied bigint NOT NULL DEFAULT 0,
          last_recorded_at timestamptz,
          last_applied_at timestamptz,
          started_at timestamptz NOT NULL DEFAULT now(),
          updated_at timestamptz NOT NULL DEFAULT now()
        )`);
    });
  }

  /** Serializes the lifecycle steps (create, rebuild start, switch) of one projection. */
  async lockProjection(tx: SqlExecutor, name: string): Promise<void> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`lianfang.projection:${name}`]);
  }

  async load(
    db: SqlExecutor,
    slot: Slot,
    name: string,
    forUpdate = false,
  ): Promise<CheckpointRow | undefined> {
    const tablesColumn = slot === 'active' ? 'active_tables' : 'tables';
    const retired = slot === 'active' ? 'retired_tables' : `'[]'::jsonb`;
    const { rows } = await db.query<Record<string, unknown>>(
      `SELECT name, version, generation, position, ${tablesColumn} AS tables, ${retired} AS retired_tables,
              events_done, events_applied, last_recorded_at, last_applied_at, updated_at
         FROM ${this.table(slot)} WHERE name = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [name],
    );
    return rows.length === 0 ? undefined : toRow(rows[0]);
  }

  async insert(
    tx: SqlExecutor,
    slot: Slot,
    row: {
      name: string;
      version: number;
      generation: number;
      position: LogPosition;
      tables: Record<string, string>;
    },
  ): Promise<void> {
    const tablesColumn = slot === 'active' ? 'active_tables' : 'tables';
    await tx.query(
      `INSERT INTO ${this.table(slot)} (name, version, generation, position, ${tablesColumn})
       VALUES ($1, $2, $3, $4, $5::jsonb)`,
      [row.name, row.version, row.generation, formatLogPosition(row.position), JSON.stringify(row.tables)],
    );
  }

  async advance(
    tx: SqlExecutor,
    slot: Slot,
    name: string,
    to: LogPosition,
    events: number,
    applied: number,
    lastRecordedAt: Date | undefined,
  ): Promise<void> {
    await tx.query(
      `UPDATE ${this.table(slot)}
          SET position = $2,
              events_done = events_done + $3,
              events_applied = events_applied + $4,
              last_recorded_at = COALESCE($5::timestamptz, last_recorded_at),
              last_applied_at = CASE WHEN $4 > 0 THEN now() ELSE last_applied_at END,
              updated_at = now()
        WHERE name = $1`,
      [name, formatLogPosition(to), events, applied, lastRecordedAt ? lastRecordedAt.toISOString() : null],
    );
  }

  async delete(tx: SqlExecutor, slot: Slot, name: string): Promise<void> {
    await tx.query(`DELETE FROM ${this.table(slot)} WHERE name = $1`, [name]);
  }

  /** Points each logical view at its physical table; drops views of logical tables no longer owned. */
  async pointViews(
    tx: SqlExecutor,
    tables: Record<string, string>,
    previous: Record<string, string> = {},
  ): Promise<void> {
    for (const logical of Object.keys(previous)) {
      if (!(logical in tables)) await tx.query(`DROP VIEW IF EXISTS ${this.qualify(logical)}`);
    }
    for (const [logical, physical] of Object.entries(tables)) {
      // DROP + CREATE rather than CREATE OR REPLACE: a new version may have different columns.
      await tx.query(`DROP VIEW IF EXISTS ${this.qualify(logical)}`);
      await tx.query(`CREATE VIEW ${this.qualify(logical)} AS SELECT * FROM ${this.qualify(physical)}`);
    }
  }

  async dropTables(tx: SqlExecutor, physical: readonly string[]): Promise<void> {
    for (const t of physical) {
      assertIdentifier('Table', t);
      await tx.query(`DROP TABLE IF EXISTS ${this.qualify(t)}`);
    }
  }

  /** Drops the tables a switch retired, and forgets them. Safe to repeat. */
  async dropRetired(client: SqlClient, name: string): Promise<string[]> {
    return client.transaction(async (tx) => {
      const row = await this.load(tx, 'active', name, true);
      if (!row || row.retiredTables.length === 0) return [];
      const keep = new Set(Object.values(row.tables));
      const drop = row.retiredTables.filter((t) => !keep.has(t));
      await this.dropTables(tx, drop);
      await tx.query(
        `UPDATE ${this.checkpoints} SET retired_tables = '[]'::jsonb, updated_at = now() WHERE name = $1`,
        [name],
      );
      return drop;
    });
  }
}

function json(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

function date(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(String(value));
}

function toRow(r: Record<string, unknown>): CheckpointRow {
  return {
    name: String(r.name),
    version: Number(r.version),
    generation: Number(r.generation),
    position: String(r.position),
    tables: json(r.tables) as Record<string, string>,
    retiredTables: json(r.retired_tables) as string[],
    eventsDone: toBigInt(r.events_done),
    eventsApplied: toBigInt(r.events_applied),
    lastRecordedAt: date(r.last_recorded_at),
    lastAppliedAt: date(r.last_applied_at),
    updatedAt: date(r.updated_at) ?? new Date(0),
  };
}
