import { createHash } from 'node:crypto';
import { assertSqlIdentifier, type SqlClient, type SqlExecutor } from '../sql/sql-client';

/**
 * The event store's schema, versioned. Each migration runs once per store schema, in order, recorded in
 * `<schema>.schema_migrations`. All pending migrations run in ONE transaction that first takes an
 * advisory lock for the schema, so two processes starting at once do not race: the second waits, then
 * finds everything applied. Never edit a released migration; add the next one.
 *
 * The same SQL runs on PostgreSQL ≥ 13 (xid8, pg_current_xact_id) and on PGlite.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** The SQL, for the store schema `s` (a validated plain identifier). */
  sql(s: string): string;
}

/** NOTIFY channel of a store's appends (events): tailing readers and projections LISTEN on it. */
export function eventsChannel(schema: string): string {
  return `lf_events_${assertSqlIdentifier(schema, 'schema name')}`;
}

/** NOTIFY channel of a store's outbox inserts: the outbox relay LISTENs on it. */
export function outboxChannel(schema: string): string {
  return `lf_outbox_${assertSqlIdentifier(schema, 'schema name')}`;
}

const tables: Migration = {
  version: 1,
  name: 'streams, events, commands, outbox',
  sql: (s) => `
    -- One row per stream: its version (position of its last event). The row is the optimistic
    -- concurrency guard: an append updates it with WHERE version = expected (or inserts it for a new
    -- stream), so concurrent writers of one stream serialise on this row and the loser sees the
    -- winner's version. fillfactor leaves room for HOT updates (version is not indexed).
    CREATE TABLE ${s}.streams (
      stream_id text PRIMARY KEY,
      version bigint NOT NULL CHECK (version >= 0)
    ) WITH (fillfactor = 70);

    CREATE SEQUENCE ${s}.events_global_position_seq AS bigint;

    -- The log. (transaction_id, global_position) is its order: see readAll in postgres-event-store.ts.
    CREATE TABLE ${s}.events (
      global_position bigint NOT NULL DEFAULT nextval('${s}.events_global_position_seq'),
      transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
      stream_id text NOT NULL,
      stream_position bigint NOT NULL CHECK (stream_position >= 0),
      event_id uuid NOT NULL,
      type text NOT NULL,
      schema_version integer NOT NULL,
      -- json, not jsonb: the log is written once and read back whole, and json keeps the text as
      -- written (validated, not rebuilt): cheaper to insert and to read out than jsonb, whose binary form
      -- pays off only for querying inside documents (cast to jsonb for that, or index an expression).
      data json NOT NULL,
      -- actor, correlationId, causationId, commandId, occurredAt
      metadata json NOT NULL,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT events_pkey PRIMARY KEY (stream_id, stream_position),
      CONSTRAINT events_event_id_key UNIQUE (event_id)
    );
    ALTER SEQUENCE ${s}.events_global_position_seq OWNED BY ${s}.events.global_position;
    CREATE INDEX events_log_idx ON ${s}.events (transaction_id, global_position);

    -- Idempotency: one row per commandId, inserted first thing in the append transaction. A concurrent
    -- append of the same command waits on the primary key until the first commits (then replays it) or
    -- rolls back (then proceeds). The first result is the command's events: those of transaction_id
    -- carrying the commandId; result holds what events cannot tell (versions of check-only streams).
    CREATE TABLE ${s}.commands (
      command_id text PRIMARY KEY,
      command_hash text NOT NULL,
      transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
      result jsonb,
      recorded_at timestamptz NOT NULL DEFAULT now()
    );

    -- Transactional outbox: integration events, written in the same transaction as the domain events.
    CREATE TABLE ${s}.outbox (
      id bigserial PRIMARY KEY,
      transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
      topic text NOT NULL,
      key text NOT NULL,
      type text NOT NULL,
      schema_version integer NOT NULL,
      payload jsonb NOT NULL,
      headers jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      sent_at timestamptz,
      attempts integer NOT NULL DEFAULT 0,
      last_error text
    );
    CREATE INDEX outbox_unsent_idx ON ${s}.outbox (id) WHERE sent_at IS NULL;
  `,
};

const appendFunction: Migration = {
  version: 2,
  name: 'append_events function',
  sql: (s) => `
    CREATE FUNCTION ${s}.raise_wrong_expected_version(
      p_stream_id text, p_kind text, p_expected bigint, p_actual bigint
    ) RETURNS void LANGUAGE plpgsql AS $fn$
    BEGIN
      RAISE EXCEPTION USING
        ERRCODE = 'LF001',
        MESSAGE = format('Stream "%s" is at version %s, expected %s', p_stream_id,
          coalesce(p_actual::text, 'none'), CASE WHEN p_kind = 'exact' THEN p_expected::text ELSE p_kind END),
        DETAIL = json_build_object('streamId', p_stream_id, 'actual', p_actual::text)::text;
    END
    $fn$;

    -- The same, reading the stream's version itself: VOLATILE, so it sees what committed since the
    -- calling statement began (the version that won). For the single-statement append, whose CASE calls
    -- it only when the stream's expectation failed; the text result type only lets it sit in that CASE.
    CREATE FUNCTION ${s}.raise_stream_conflict(p_stream_id text, p_kind text, p_expected bigint)
    RETURNS text LANGUAGE plpgsql VOLATILE AS $fn$
    DECLARE
      v_actual bigint;
    BEGIN
      SELECT st.version INTO v_actual FROM ${s}.streams st WHERE st.stream_id = p_stream_id;
      PERFORM ${s}.raise_wrong_expected_version(p_stream_id, p_kind, p_expected, v_actual);
      RETURN NULL;
    END
    $fn$;

    -- One append = one call = (outside an explicit transaction) one statement, one round trip, one
    -- commit. Callers prepare the call once per connection: never change its parameters or result in
    -- place; a new signature gets a new function name in a new migration.
    --
    -- Streams come sorted by id (the client sorts): locking them in one global order means two
    -- multi-stream appends can never deadlock. Any failed expectation raises LF001, which rolls back
    -- everything the call did (command row, other streams, events, outbox).
    --
    -- p_event_data is ONE json array of the events' data, in order (the client joins the texts; an
    -- array of json would need every quote of every payload escaped, then unescaped). The result is one
    -- text row, tab-separated (JSON escapes tabs, so the trailing JSON field cannot contain one):
    --   status, transaction id, recorded_at (ms since epoch), versions (per stream, ','), global positions
    --   (per event, ','), command result (JSON) -- status 'appended', 'replayed' or 'conflict'.
    CREATE FUNCTION ${s}.append_events(
      p_stream_ids text[],
      p_expected_kinds text[],
      p_expected_versions bigint[],
      p_event_counts integer[],
      p_event_streams integer[],
      p_event_offsets integer[],
      p_event_ids uuid[],
      p_event_types text[],
      p_event_schema_versions integer[],
      p_event_data json,
      p_metadata json,
      p_command_id text,
      p_command_hash text,
      p_outbox_topics text[],
      p_outbox_keys text[],
      p_outbox_types text[],
      p_outbox_schema_versions integer[],
      p_outbox_payloads jsonb[],
      p_outbox_headers jsonb[],
      p_notify boolean
    ) RETURNS text LANGUAGE plpgsql AS $fn$
    DECLARE
      v_streams integer := coalesce(cardinality(p_stream_ids), 0);
      v_versions bigint[] := '{}';
      v_positions bigint[] := '{}';
      v_transaction_id xid8;
      v_recorded_at timestamptz;
      v_version bigint;
      v_count integer;
      v_kind text;
      v_expected bigint;
      v_check_only boolean := false;
      v_result jsonb;
      v_stored_hash text;
      v_n integer;
      v_j integer;
      v_si integer;
      v_data json;
      v_position bigint;
    BEGIN
      IF p_command_id IS NOT NULL THEN
        -- Blocks while another transaction holds the same command id uncommitted.
        INSERT INTO ${s}.commands (command_id, command_hash) VALUES (p_command_id, p_command_hash)
        ON CONFLICT (command_id) DO NOTHING;
        IF NOT FOUND THEN
          SELECT c.command_hash, c.transaction_id, c.result INTO v_stored_hash, v_transaction_id, v_result
            FROM ${s}.commands c WHERE c.command_id = p_command_id;
          RETURN concat_ws(E'\t', CASE WHEN v_stored_hash = p_command_hash THEN 'replayed' ELSE 'conflict' END,
                           v_transaction_id::text, '', '', '', coalesce(v_result::text, ''));
        END IF;
      END IF;

      FOR i IN 1 .. v_streams LOOP
        v_count := p_event_counts[i];
        v_kind := p_expected_kinds[i];
        v_expected := p_expected_versions[i];
        v_version := NULL;
        IF v_count = 0 THEN
          -- A check-only stream: the expectation must hold until commit (FOR SHARE keeps writers out).
          v_check_only := true;
          SELECT st.version INTO v_version FROM ${s}.streams st WHERE st.stream_id = p_stream_ids[i] FOR SHARE;
          IF (v_kind = 'exact' AND v_version IS DISTINCT FROM v_expected)
             OR (v_kind = 'no-stream' AND v_version IS NOT NULL)
             OR (v_kind = 'exists' AND v_version IS NULL) THEN
            PERFORM ${s}.raise_wrong_expected_version(p_stream_ids[i], v_kind, v_expected, v_version);
          END IF;
        ELSE
          IF v_kind = 'exact' THEN
            UPDATE ${s}.streams st SET version = v_expected + v_count
             WHERE st.stream_id = p_stream_ids[i] AND st.version = v_expected
             RETURNING st.version INTO v_version;
          ELSIF v_kind = 'no-stream' THEN
            INSERT INTO ${s}.streams AS st (stream_id, version) VALUES (p_stream_ids[i], v_count - 1)
            ON CONFLICT (stream_id) DO NOTHING
            RETURNING st.version INTO v_version;
          ELSIF v_kind = 'exists' THEN
            UPDATE ${s}.streams st SET version = st.version + v_count
             WHERE st.stream_id = p_stream_ids[i]
             RETURNING st.version INTO v_version;
          ELSIF v_kind = 'any' THEN
            INSERT INTO ${s}.streams AS st (stream_id, version) VALUES (p_stream_ids[i], v_count - 1)
            ON CONFLICT (stream_id) DO UPDATE SET version = st.version + v_count
            RETURNING st.version INTO v_version;
          ELSE
            RAISE EXCEPTION 'append_events: unknown expected version kind "%"', v_kind;
          END IF;
          IF v_version IS NULL THEN
            SELECT st.version INTO v_version FROM ${s}.streams st WHERE st.stream_id = p_stream_ids[i];
            PERFORM ${s}.raise_wrong_expected_version(p_stream_ids[i], v_kind, v_expected, v_version);
          END IF;
        END IF;
        v_versions[i] := v_version;
      END LOOP;

      -- One single-row INSERT per event (and per outbox message) rather than one INSERT … SELECT:
      -- appends carry a handful of rows, and a single-row INSERT gets a cheap cached generic plan where
      -- the set-based form was re-planned on every call (measured: a third of the call's time).
      v_n := coalesce(cardinality(p_event_ids), 0);
      IF v_n > 0 THEN
        FOR v_data, v_j IN SELECT d.value, d.ord FROM json_array_elements(p_event_data) WITH ORDINALITY AS d(value, ord) LOOP
          v_si := p_event_streams[v_j];
          INSERT INTO ${s}.events (stream_id, stream_position, event_id, type, schema_version, data, metadata)
          VALUES (p_stream_ids[v_si], v_versions[v_si] - p_event_counts[v_si] + 1 + p_event_offsets[v_j],
                  p_event_ids[v_j], p_event_types[v_j], p_event_schema_versions[v_j], v_data, p_metadata)
          RETURNING global_position, transaction_id, recorded_at INTO v_position, v_transaction_id, v_recorded_at;
          v_positions[v_j] := v_position;
        END LOOP;
        IF cardinality(v_positions) <> v_n THEN
          RAISE EXCEPTION 'append_events: % event ids but % event data', v_n, cardinality(v_positions);
        END IF;
        IF p_notify THEN
          PERFORM pg_notify('lf_events_${s}', '');
        END IF;
      END IF;

      v_n := coalesce(cardinality(p_outbox_topics), 0);
      IF v_n > 0 THEN
        FOR j IN 1 .. v_n LOOP
          INSERT INTO ${s}.outbox (topic, key, type, schema_version, payload, headers)
          VALUES (p_outbox_topics[j], p_outbox_keys[j], p_outbox_types[j], p_outbox_schema_versions[j],
                  p_outbox_payloads[j], coalesce(p_outbox_headers[j], '{}'::jsonb));
        END LOOP;
        IF p_notify THEN
          PERFORM pg_notify('lf_outbox_${s}', '');
        END IF;
      END IF;

      IF p_command_id IS NOT NULL AND v_check_only THEN
        -- Versions of check-only streams cannot be read back from the events: keep them for replays.
        v_result := jsonb_build_object('streamIds', to_jsonb(p_stream_ids), 'versions', to_jsonb(v_versions::text[]));
        UPDATE ${s}.commands c SET result = v_result WHERE c.command_id = p_command_id;
      END IF;

      IF v_transaction_id IS NULL THEN
        v_transaction_id := pg_current_xact_id();
        v_recorded_at := now();
      END IF;
      RETURN concat_ws(E'\t', 'appended', v_transaction_id::text,
                       floor(extract(epoch FROM v_recorded_at) * 1000)::bigint::text,
                       array_to_string(v_versions, ',', ''), array_to_string(v_positions, ','),
                       coalesce(v_result::text, ''));
    END
    $fn$;
  `,
};

const logHorizon: Migration = {
  version: 3,
  name: 'log_horizon function',
  sql: (s) => `
    -- Where reading the log must stop for now: below the oldest transaction still in progress that could
    -- yet add events to this log. pg_snapshot_xmin alone is the oldest running transaction of the whole
    -- cluster, so one long transaction in ANY database on the server (another service's, a test's, an
    -- idle-in-transaction session) holds every tailing reader back. A transaction running in another
    -- database can never write this table, so it is left out, but only when pg_stat_activity says so:
    -- an id it cannot place (finished meanwhile, a prepared transaction, no permission) still counts.
    -- Exact, not a heuristic: ids only ever attach to one database, and whatever starts after the
    -- snapshot gets an id ≥ its xmax.
    -- STABLE: it sees the calling statement's snapshot, the one that decides which rows it returns.
    CREATE FUNCTION ${s}.log_horizon() RETURNS xid8 LANGUAGE plpgsql STABLE AS $fn$
    DECLARE
      v_snapshot pg_snapshot := pg_current_snapshot();
      v_database oid;
      v_horizon xid8;
    BEGIN
      IF pg_snapshot_xmin(v_snapshot) = pg_snapshot_xmax(v_snapshot) THEN
        RETURN pg_snapshot_xmax(v_snapshot); -- nothing in progress
      END IF;
      SELECT d.oid INTO v_database FROM pg_database d WHERE d.datname = current_database();
      SELECT min(x.id) INTO v_horizon
        FROM pg_snapshot_xip(v_snapshot) AS x(id)
       WHERE NOT EXISTS (SELECT 1 FROM pg_stat_get_activity(NULL) a
                          WHERE a.backend_xid = xid(x.id) AND a.datid <> v_database);
      RETURN coalesce(v_horizon, pg_snapshot_xmax(v_snapshot));
    END
    $fn$;
  `,
};

/** Every migration of the event store, in order. */
export const EVENT_STORE_MIGRATIONS: readonly Migration[] = [tables, appendFunction, logHorizon];

export interface MigrationReport {
  /** Versions applied by this call (empty when the schema was up to date). */
  readonly applied: readonly number[];
  readonly current: number;
}

function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex').slice(0, 16);
}

/**
 * Creates the store schema if needed and applies the pending migrations, once, under an advisory lock.
 * Safe to call from several processes at once and on every start.
 */
export async function migrateEventStore(
  client: SqlClient,
  schema: string,
  migrations: readonly Migration[] = EVENT_STORE_MIGRATIONS,
): Promise<MigrationReport> {
  const s = assertSqlIdentifier(schema, 'schema name');
  for (let i = 0; i < migrations.length; i++) {
    if (migrations[i].version !== i + 1) throw new Error('Migrations must be numbered 1, 2, 3, … in order');
  }
  // Fast path: everything applied already (no lock, no DDL).
  const current = await currentVersion(client, s);
  if (current >= migrations.length) return { applied: [], current };
  return client.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
      `lianfang.eventstore.migrate:${s}`,
    ]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await tx.query(`
      CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const done = new Set(
      (await tx.query<{ version: number }>(`SELECT version FROM ${s}.schema_migrations`)).rows.map((r) =>
        Number(r.version),
      ),
    );
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await applyMigration(tx, s, m);
      applied.push(m.version);
    }
    return { applied, current: migrations.length };
  });
}

async function applyMigration(tx: SqlExecutor, s: string, m: Migration): Promise<void> {
  const sql = m.sql(s);
  await tx.query(sql);
  await tx.query(`INSERT INTO ${s}.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`, [
    m.version,
    m.name,
    checksum(sql),
  ]);
}

async function currentVersion(client: SqlClient, s: string): Promise<number> {
  const exists = await client.query<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [
    `${s}.schema_migrations`,
  ]);
  if (!exists.rows[0]?.present) return 0;
  const r = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${s}.schema_migrations`);
  return Number(r.rows[0]?.v ?? 0);
}
