/**
 * The little SQL surface the event store, projections and outbox need, over `pg` and PGlite alike,
 * so that one set of SQL serves servers and the embedded mode.
 *
 * int8 columns come back as they come (string from `pg`, bigint from our PGlite client, number or
 * bigint from a PGlite instance with default parsers): callers convert with `toBigInt`, never compare
 * them as strings or pass them through `number`.
 */
export interface SqlResult<R> {
  readonly rows: R[];
  readonly rowCount: number;
}

export interface SqlQueryOptions {
  /**
   * Prepare the statement under this name, once per connection, and reuse it: the server skips parsing
   * and planning on later calls (measured: a third more appends per second). Only for hot, fixed
   * statements: one name always carries the same text, and its result columns never change. Ignored
   * where it does not apply (PGlite).
   */
  readonly name?: string;
  /**
   * `array`: each row is an array of the column values in select order, not an object (no per-row
   * object keyed by column names: cheaper on big reads, notably on PGlite). Type the rows accordingly.
   */
  readonly rowMode?: 'array';
}

export interface SqlExecutor {
  query<R = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
    options?: SqlQueryOptions,
  ): Promise<SqlResult<R>>;
}

export interface SqlClient extends SqlExecutor {
  readonly dialect: 'postgres' | 'pglite';
  /**
   * Runs `fn` in one transaction on one connection; commits, or rolls back and rethrows.
   * Use only `tx` inside `fn`: on PGlite (one connection) a query on the client itself waits for the
   * transaction to end, so awaiting one inside `fn` would never return (the PGlite client throws instead).
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * LISTEN on a channel; returns a function that stops listening. Channel names are plain lower-case
   * identifiers (`[a-z_][a-z0-9_]*`). Notifications can be lost (a dropped connection, a crash between
   * commit and notify): treat them as wake-ups, never as data, and keep a bounded idle poll. After the
   * PostgreSQL listener reconnects, every callback is called once with payload `''` ("you may have missed
   * something").
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Exact conversion of an int8 value as the driver returned it. */
export function toBigInt(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  throw new TypeError(`Not an exact integer: ${String(value)}`);
}

/** The SQLSTATE of a driver error (`pg` and PGlite both expose `code`), or undefined. */
export function sqlErrorCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,47}$/;

/**
 * Schema and channel names are interpolated into SQL (they cannot be bind parameters), so they must be
 * plain lower-case identifiers: no quoting needed anywhere, and LISTEN/NOTIFY and PGlite agree on case.
 */
export function assertSqlIdentifier(name: string, what = 'identifier'): string {
  if (!IDENTIFIER.test(name)) {
    throw new Error(
      `Invalid ${what} "${name}": use lower-case letters, digits and _ (at most 48, not starting with a digit)`,
    );
  }
  return name;
}
