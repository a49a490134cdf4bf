// The contenders of the event-store benchmark behind one small interface, so the worker runs the
// very same workload against each. Each runs in a process of its own (see eventstore-worker.ts).
import { dumbo } from '@event-driven-io/dumbo';
import { getPostgreSQLEventStore, readMessagesBatch } from '@event-driven-io/emmett-postgresql';
import {
  LOG_START,
  type NewEvent,
  type SqlEventStore,
  createPgliteEventStore,
  createPostgresClient,
  createPostgresEventStore,
} from '@lianfang/eventsourcing';
import pg from 'pg';
import {
  type ContenderName,
  EVENT_TYPE,
  type WriterCursor,
  context,
  manifest,
  streamName,
} from './eventstore-workload';

export interface ContenderConfig {
  readonly contender: ContenderName;
  /** Distinguishes the streams of this run: `bench-<run>-w<writer>-<n>`. */
  readonly run: string;
  readonly url: string;
  /** PostgreSQL schema of this contender and round, created empty by the orchestrator. */
  readonly schema: string;
  /** PGlite: an empty temporary directory for the data dir. */
  readonly dataDir: string;
  readonly writers: number;
}

export interface Contender {
  /** Events per append when topping the log up for read-all (Emmett's literal-SQL appends slow down with size). */
  readonly topUpBatch: number;
  /** One event in one append (its own transaction, committed durably) to the writer's stream. */
  appendOne(cursor: WriterCursor): Promise<void>;
  /** Read-all setup only: `count` events in one append to a new stream `streamId`. */
  appendMany(streamId: string, count: number, seq: number): Promise<void>;
  /**
   * Reads the log from the start in batches of `batch`, deserialised, until its end (or, with `limit`,
   * until at least `limit` events were read); returns how many events it read. `onEvent` gets each
   * event's data and its global position (so duplicates can be told apart).
   */
  readAll(
    batch: number,
    onEvent: (data: unknown, position: bigint | string) => void,
    limit?: number,
  ): Promise<number>;
  /** Settings worth printing (PGlite's own, say); optional. */
  settings?(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

// ── Ours ───────────────────────────────────────────────────────────────────────────────────────

/**
 * Our store through the EventStore port. Our version is the position of the last event: the first
 * append expects `no-stream`, the next ones the exact version (events in the stream − 1).
 */
function ours(store: SqlEventStore, config: ContenderConfig): Contender {
  const event = (writer: number, seq: number): NewEvent => ({
    type: EVENT_TYPE,
    data: manifest(writer, seq),
  });
  return {
    topUpBatch: 500,
    async appendOne(cursor) {
      await store.append({
        streams: [
          {
            streamId: streamName(config.run, cursor),
            expectedVersion: cursor.version === 0 ? 'no-stream' : BigInt(cursor.version - 1),
            events: [event(cursor.writer, cursor.seq)],
          },
        ],
        context: context(),
      });
    },
    async appendMany(streamId, count, seq) {
      const events = Array.from({ length: count }, (_, i) => event(99, seq + i));
      await store.append({
        streams: [{ streamId, expectedVersion: 'no-stream', events }],
        context: context(),
      });
    },
    async readAll(batch, onEvent, limit = Infinity) {
      let after = LOG_START;
      let read = 0;
      for (;;) {
        const { events, next } = await store.readAll({ after, maxCount: batch });
        for (const e of events) onEvent(e.data, e.globalPosition);
        read += events.length;
        after = next;
        if (events.length < batch || read >= limit) return read;
      }
    },
    async settings(): Promise<Record<string, string>> {
      if (store.client.dialect !== 'pglite') return {};
      const show = async (name: string) =>
        (await store.client.query<Record<string, string>>(`SHOW ${name}`)).rows[0]?.[name] ?? '?';
      return { fsync: await show('fsync'), synchronous_commit: await show('synchronous_commit') };
    },
    close: () => store.close(),
  };
}

/** Our store on PostgreSQL: its own pool of `writers` connections, the round's schema. */
async function oursPostgres(config: ContenderConfig): Promise<Contender> {
  const client = createPostgresClient({
    connectionString: config.url,
    max: config.writers,
    applicationName: 'lf-bench',
  });
  const store = createPostgresEventStore({ client, schema: config.schema, ownsClient: true });
  await store.start();
  return ours(store, config);
}

/** Our store on PGlite: one connection in this process, file-backed in a fresh temp dir, default durability. */
async function oursPglite(config: ContenderConfig): Promise<Contender> {
  const store = await createPgliteEventStore({ dataDir: config.dataDir, schema: 'bench' });
  return ours(store, config);
}

// ── Emmett ─────────────────────────────────────────────────────────────────────────────────────

/**
 * Emmett's PostgreSQL store on a pool of `writers` connections whose search_path is the round's
 * schema (Emmett's tables and functions are unqualified). Emmett's stream version is a count:
 * `expectedStreamVersion: 0n` creates the stream, n expects n events in it.
 * Read-all: `readMessagesBatch`, the query Emmett's own consumers poll with (pg parses jsonb).
 * Note: dumbo sets process-wide `pg` type parsers (int8 → BigInt, json with a BigInt reviver),
 * one reason every contender runs in a process of its own.
 */
async function emmett(config: ContenderConfig): Promise<Contender> {
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.writers,
    options: `-c search_path=${config.schema}`,
  });
  pool.on('error', () => undefined);
  const db = dumbo({ connectionString: config.url, pool });
  const store = getPostgreSQLEventStore(config.url, {
    connectionOptions: { dumbo: db },
    schema: { autoMigration: 'None' },
  });
  await store.schema.migrate();
  const event = (writer: number, seq: number) => {
    const { actor, occurredAt, correlationId } = context();
    return {
      type: EVENT_TYPE,
      data: manifest(writer, seq),
      metadata: { actor, occurredAt: occurredAt.toISOString(), correlationId },
    };
  };
  return {
    topUpBatch: 50,
    async appendOne(cursor) {
      await store.appendToStream(streamName(config.run, cursor), [event(cursor.writer, cursor.seq)], {
        expectedStreamVersion: BigInt(cursor.version),
      });
    },
    async appendMany(streamId, count, seq) {
      const events = Array.from({ length: count }, (_, i) => event(99, seq + i));
      await store.appendToStream(streamId, events, { expectedStreamVersion: 0n });
    },
    async readAll(batch, onEvent, limit = Infinity) {
      let after = 0n;
      let read = 0;
      for (;;) {
        const result = await readMessagesBatch(db.execute, { after, batchSize: batch });
        for (const message of result.messages) onEvent(message.data, message.metadata.globalPosition);
        read += result.messages.length;
        after = result.currentGlobalPosition;
        if (!result.areMessagesLeft || read >= limit) return read;
      }
    },
    async close() {
      await store.close();
      await pool.end();
    },
  };
}

// ── Raw ceiling ────────────────────────────────────────────────────────────────────────────────

/**
 * What PostgreSQL can commit on this machine with the same writers: autocommit single-row INSERTs
 * of the same payload into `t(id bigserial primary key, stream_id text, data jsonb)`: one round
 * trip, no version check, no metadata. Its read-all (keyset pages by id) is a reference only.
 */
async function raw(config: ContenderConfig): Promise<Contender> {
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.writers,
    options: `-c search_path=${config.schema}`,
  });
  pool.on('error', () => undefined);
  await pool.query('CREATE TABLE t (id bigserial PRIMARY KEY, stream_id text NOT NULL, data jsonb NOT NULL)');
  return {
    topUpBatch: 500,
    async appendOne(cursor) {
      await pool.query('INSERT INTO t (stream_id, data) VALUES ($1, $2)', [
        streamName(config.run, cursor),
        JSON.stringify(manifest(cursor.writer, cursor.seq)),
      ]);
    },
    async appendMany(streamId, count, seq) {
      const data = Array.from({ length: count }, (_, i) => JSON.stringify(manifest(99, seq + i)));
      await pool.query('INSERT INTO t (stream_id, data) SELECT $1, d FROM unnest($2::jsonb[]) AS d', [
        streamId,
        data,
      ]);
    },
    async readAll(batch, onEvent, limit = Infinity) {
      let after = '0';
      let read = 0;
      for (;;) {
        const { rows } = await pool.query<{ id: string; stream_id: string; data: unknown }>(
          'SELECT id, stream_id, data FROM t WHERE id > $1 ORDER BY id LIMIT $2',
          [after, batch],
        );
        for (const row of rows) onEvent(row.data, row.id);
        read += rows.length;
        if (rows.length < batch || read >= limit) return read;
        after = rows[rows.length - 1].id;
      }
    },
    async close() {
      await pool.end();
    },
  };
}

export async function createContender(config: ContenderConfig): Promise<Contender> {
  switch (config.contender) {
    case 'emmett':
      return emmett(config);
    case 'raw':
      return raw(config);
    case 'ours-pg':
      return oursPostgres(config);
    case 'ours-pglite':
      return oursPglite(config);
  }
}
