import { assertSqlIdentifier, toBigInt, type SqlExecutor } from '../sql/sql-client';

/** An outbox row as stored by the SQL event store (`<schema>.outbox`). */
export interface OutboxRow {
  readonly id: bigint;
  /** The writing transaction (xid8): rows of one append share it. */
  readonly transactionId: bigint;
  readonly topic: string;
  readonly key: string;
  readonly type: string;
  readonly schemaVersion: number;
  /** Plain JSON, as given (bigints were written as strings). */
  readonly payload: unknown;
  readonly headers: Readonly<Record<string, string>>;
  readonly createdAt: Date;
  readonly sentAt: Date | null;
  readonly attempts: number;
}

interface Row {
  id: unknown;
  transaction_id: string;
  topic: string;
  key: string;
  type: string;
  schema_version: number;
  payload: string;
  headers: string;
  created_at: Date | string;
  sent_at: Date | string | null;
  attempts: number;
}

/** Reads outbox rows in id order (all, or only the unsent ones). */
export async function readOutbox(
  on: SqlExecutor,
  schema: string,
  options: { readonly unsentOnly?: boolean; readonly afterId?: bigint; readonly limit?: number } = {},
): Promise<OutboxRow[]> {
  const s = assertSqlIdentifier(schema, 'schema name');
  const rows = (
    await on.query<Row>(
      `SELECT id, transaction_id::text AS transaction_id, topic, key, type, schema_version, payload::text AS payload,
              headers::text AS headers, created_at, sent_at, attempts
         FROM ${s}.outbox
        WHERE id > $1::bigint AND ($2::boolean IS NOT TRUE OR sent_at IS NULL)
        ORDER BY id
        LIMIT $3::bigint`,
      [(options.afterId ?? 0n).toString(), options.unsentOnly ?? false, options.limit ?? null],
    )
  ).rows;
  return rows.map((r) => ({
    id: toBigInt(r.id),
    transactionId: toBigInt(r.transaction_id),
    topic: r.topic,
    key: r.key,
    type: r.type,
    schemaVersion: Number(r.schema_version),
    payload: JSON.parse(r.payload),
    headers: JSON.parse(r.headers),
    createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
    sentAt: r.sent_at === null ? null : r.sent_at instanceof Date ? r.sent_at : new Date(r.sent_at),
    attempts: Number(r.attempts),
  }));
}
