import type { SqlExecutor } from '../sql/sql-client';
import type { RecordedEvent } from '../store/events';

/**
 * Logical table name → the physical table the code must write to, ready to put into SQL
 * (a lowercase identifier, schema-qualified when the runner has a schema): `names.transfers` may be
 * `transfers__v3_7` today and `transfers__v4_8` after a rebuild.
 *
 * Queries read through the logical name: the runner keeps a VIEW of that name pointing at the active
 * physical table, and swaps it in the same transaction that switches a rebuild in.
 */
export type TableNames = Readonly<Record<string, string>>;

/**
 * A read model built from the event log. Its tables live in the database (and schema) of the service's
 * own event store, so a batch of read-model changes and the checkpoint commit together.
 */
export interface Projection<E extends RecordedEvent = RecordedEvent> {
  /** Stable name, the key of its checkpoint row, e.g. `transfer-summary`. */
  readonly name: string;
  /**
   * Bump it whenever the tables or what `apply` writes change: a runner whose code version is higher than
   * the stored one rebuilds from the start of the log into new tables (blue/green) and switches when done.
   */
  readonly version: number;
  /** The logical tables it owns: lowercase identifiers (`[a-z][a-z0-9_]*`); queries use these names. */
  readonly tables: readonly string[];
  /**
   * Creates its tables (and indexes) under the physical names given. Runs inside a transaction.
   * Let PostgreSQL name indexes (`CREATE INDEX ON ${names.t} (x)`): a fixed index name would collide
   * with the previous generation's during a rebuild (and `names` may be schema-qualified).
   */
  setup(tx: SqlExecutor, names: TableNames): Promise<void>;
  /** The event types it reads; others never reach `apply` (they still advance the checkpoint). */
  readonly handles: readonly string[];
  /**
   * Applies a batch of handled events, in log order, inside the transaction that also moves the checkpoint.
   * It need not be idempotent: a batch is applied exactly once or not at all.
   */
  apply(tx: SqlExecutor, events: E[], names: TableNames): Promise<void>;
}

/** Identity helper that keeps the event type of `apply` while checking the shape. */
export function defineProjection<E extends RecordedEvent = RecordedEvent>(
  projection: Projection<E>,
): Projection<E> {
  validateProjection(projection as unknown as Projection);
  return projection;
}

const IDENTIFIER = /^[a-z][a-z0-9_]*$/;
/** PostgreSQL truncates identifiers longer than this (NAMEDATALEN − 1). */
export const MAX_IDENTIFIER_LENGTH = 63;

export function assertIdentifier(what: string, value: string): void {
  if (!IDENTIFIER.test(value) || value.length > MAX_IDENTIFIER_LENGTH) {
    throw new Error(
      `${what} "${value}" must be a lowercase SQL identifier ([a-z][a-z0-9_]*, at most 63 characters)`,
    );
  }
}

export function validateProjection(p: Projection): void {
  if (!p.name || typeof p.name !== 'string') throw new Error('A projection needs a name');
  if (!Number.isSafeInteger(p.version) || p.version < 1) {
    throw new Error(`Projection "${p.name}": version must be a positive integer, got ${String(p.version)}`);
  }
  if (p.tables.length === 0) throw new Error(`Projection "${p.name}" owns no tables`);
  const seen = new Set<string>();
  for (const t of p.tables) {
    assertIdentifier(`Projection "${p.name}": table`, t);
    if (t.includes('__'))
      throw new Error(`Projection "${p.name}": table "${t}" must not contain "__" (kept for versions)`);
    if (seen.has(t)) throw new Error(`Projection "${p.name}": table "${t}" is listed twice`);
    seen.add(t);
  }
  if (p.handles.length === 0) throw new Error(`Projection "${p.name}" handles no event types`);
}

/** The physical name of a logical table for a version and generation: `<table>__v<version>_<generation>`. */
export function physicalTableName(table: string, version: number, generation: number): string {
  const name = `${table}__v${version}_${generation}`;
  if (name.length > MAX_IDENTIFIER_LENGTH) {
    throw new Error(
      `Physical table name "${name}" is longer than ${MAX_IDENTIFIER_LENGTH} characters: shorten "${table}"`,
    );
  }
  return name;
}

export function physicalTableNames(p: Projection, generation: number): Record<string, string> {
  return Object.fromEntries(p.tables.map((t) => [t, physicalTableName(t, p.version, generation)]));
}
