import { assertSqlIdentifier, sqlErrorCode, type SqlClient } from '@lianfang/eventsourcing';

/**
 * The consumer's tables, in the consuming service's own schema (next to its event store), so that the
 * effect of a message, its inbox row and its dead-letter bookkeeping commit in one transaction:
 *
 * - `inbox`: one row per (consumer group, event id) processed. The effect and this row commit together;
 *   a redelivered or resent event finds its row and is acknowledged without effect. `applied = false`
 *   marks an event an operator skipped, so that a redelivery of it stays skipped.
 * - `dead_letters`: messages that could not be processed (`parked-head`: the one that failed, at most one
 *   per stream and group) and the later messages of the same stream parked behind it (`parked`), in
 *   arrival order (`id`); then `redriven` or `skipped` once an operator acted. Unique per message
 *   (group, topic, partition, offset): a redelivered message is never parked twice.
 * - `parked_streams`: one row per parked (group, stream): the lock that orders consumer and redrive (see
 *   dead-letters.ts), and the pending operator request (redrive / skip) the running consumer executes.
 * - `dead_letter_actions`: who did what, when and why (dead-lettered, requests, redriven, skipped, ...).
 *
 * Versioned like the event store's migrations: each runs once per schema, in order, recorded in
 * `<schema>.consumer_migrations`, all pending ones in one transaction under an advisory lock.
 */
interface ConsumerMigration {
  readonly version: number;
  readonly name: string;
  sql(s: string): string;
}

export const DEAD_LETTER_STATUSES = ['parked-head', 'parked', 'redriven', 'skipped'] as const;
export type DeadLetterStatus = (typeof DEAD_LETTER_STATUSES)[number];

const migrations: readonly ConsumerMigration[] = [
  {
    version: 1,
    name: 'inbox, dead letters, parked streams, actions',
    sql: (s) => `
      CREATE TABLE ${s}.inbox (
        consumer_group text NOT NULL,
        event_id text NOT NULL,
        stream_id text NOT NULL,
        topic text NOT NULL,
        partition integer NOT NULL,
        "offset" bigint NOT NULL,
        processed_at timestamptz NOT NULL,
        applied boolean NOT NULL DEFAULT true,
        CONSTRAINT inbox_pkey PRIMARY KEY (consumer_group, event_id)
      );
      CREATE INDEX inbox_retention_idx ON ${s}.inbox (consumer_group, processed_at);

      CREATE TABLE ${s}.dead_letters (
        id bigserial PRIMARY KEY,
        consumer_group text NOT NULL,
        topic text NOT NULL,
        partition integer NOT NULL,
        "offset" bigint NOT NULL,
        stream_id text NOT NULL,
        event_id text,
        type text,
        value text NOT NULL,
        headers jsonb NOT NULL,
        -- the message's own timestamp (handed to the handler again on redrive)
        produced_at timestamptz,
        error text,
        attempts integer NOT NULL DEFAULT 0,
        status text NOT NULL CHECK (status IN ('parked-head', 'parked', 'redriven', 'skipped')),
        parked_at timestamptz NOT NULL,
        resolved_at timestamptz,
        resolved_by text
      );
      -- One row per message: a redelivery (same coordinates, same bytes) is never recorded twice. The
      -- value's hash is part of it so that a topic deleted and recreated (offsets from 0 again) cannot
      -- make a new message look like an old one.
      CREATE UNIQUE INDEX dead_letters_message_idx
        ON ${s}.dead_letters (consumer_group, topic, partition, "offset", md5(value));
      CREATE UNIQUE INDEX dead_letters_one_head_idx ON ${s}.dead_letters (consumer_group, stream_id)
        WHERE status = 'parked-head';
      CREATE INDEX dead_letters_open_idx ON ${s}.dead_letters (consumer_group, stream_id, id)
        WHERE status IN ('parked-head', 'parked');
      CREATE INDEX dead_letters_stream_idx ON ${s}.dead_letters (stream_id, id);

      CREATE TABLE ${s}.parked_streams (
        consumer_group text NOT NULL,
        stream_id text NOT NULL,
        parked_at timestamptz NOT NULL,
        requested_action text CHECK (requested_action IN ('redrive', 'skip')),
        -- skip: the head it was requested for (refused if the head changed meanwhile)
        requested_id bigint,
        requested_by text,
        requested_at timestamptz,
        request_reason text,
        -- the dead_letter_actions row of the request: what follows from it points back to it
        request_action_id bigint,
        CONSTRAINT parked_streams_pkey PRIMARY KEY (consumer_group, stream_id)
      );

      CREATE TABLE ${s}.dead_letter_actions (
        id bigserial PRIMARY KEY,
        dead_letter_id bigint,
        consumer_group text NOT NULL,
        stream_id text NOT NULL,
        action text NOT NULL,
        actor text NOT NULL,
        reason text,
        request_id bigint,
        at timestamptz NOT NULL
      );
      CREATE INDEX dead_letter_actions_stream_idx ON ${s}.dead_letter_actions (consumer_group, stream_id, id);
      CREATE INDEX dead_letter_actions_letter_idx ON ${s}.dead_letter_actions (dead_letter_id);
    `,
  },
];

/** NOTIFY channel of a schema's dead-letter requests: running consumers LISTEN on it. */
export function deadLetterChannel(schema: string): string {
  return `lf_dlq_${assertSqlIdentifier(schema, 'schema name')}`;
}

/** Creates or upgrades the consumer tables of a schema (idempotent, safe for concurrent starts). */
export async function ensureConsumerTables(client: SqlClient, schema: string): Promise<void> {
  const s = assertSqlIdentifier(schema, 'schema name');
  for (let attempt = 1; ; attempt++) {
    try {
      await client.transaction(async (tx) => {
        // Serialises concurrent starts (the constant tells our lock from the event store's).
        await tx.query(`SELECT pg_advisory_xact_lock(7226843, hashtext($1))`, [s]);
        await tx.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
        await tx.query(
          `CREATE TABLE IF NOT EXISTS ${s}.consumer_migrations (
             version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
        );
        const done = new Set(
          (await tx.query<{ version: number }>(`SELECT version FROM ${s}.consumer_migrations`)).rows.map(
            (r) => Number(r.version),
          ),
        );
        for (const m of migrations) {
          if (done.has(m.version)) continue;
          await tx.query(m.sql(s));
          await tx.query(`INSERT INTO ${s}.consumer_migrations (version, name) VALUES ($1, $2)`, [
            m.version,
            m.name,
          ]);
        }
      });
      return;
    } catch (error) {
      // CREATE SCHEMA IF NOT EXISTS races with another writer of the schema (the event store's own
      // migrations take another lock): one of them sees a unique violation. Once more finds it there.
      if (attempt < 3 && sqlErrorCode(error) === '23505') continue;
      throw error;
    }
  }
}

/** Whether a schema has the consumer tables (the CLI checks before it reads). */
export async function hasConsumerTables(client: SqlClient, schema: string): Promise<boolean> {
  const s = assertSqlIdentifier(schema, 'schema name');
  const r = await client.query<{ t: string | null }>(`SELECT to_regclass($1)::text AS t`, [
    `${s}.dead_letters`,
  ]);
  return r.rows[0]?.t != null;
}

/** Dead letters waiting for an operator, per consumer group and the topic they came from. */
export interface OpenDeadLetterCount {
  readonly groupId: string;
  /** The original topic; its dead letters are on `<topic>.dlq`. */
  readonly topic: string;
  /** `parked-head` and `parked` rows. */
  readonly count: number;
}

/** Counts the open dead letters of a schema (metrics); [] when it has no consumer tables. */
export async function countOpenDeadLetters(
  client: SqlClient,
  schema: string,
): Promise<OpenDeadLetterCount[]> {
  const s = assertSqlIdentifier(schema, 'schema name');
  if (!(await hasConsumerTables(client, s))) return [];
  const r = await client.query<{ consumer_group: string; topic: string; n: unknown }>(
    `SELECT consumer_group, topic, count(*) AS n FROM ${s}.dead_letters
      WHERE status IN ('parked-head', 'parked')
      GROUP BY consumer_group, topic ORDER BY consumer_group, topic`,
  );
  return r.rows.map((row) => ({ groupId: row.consumer_group, topic: row.topic, count: Number(row.n) }));
}
