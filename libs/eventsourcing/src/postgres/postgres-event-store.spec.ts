import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createTestDatabase, describeWithPostgres, useTestDatabase } from '@lianfang/testing';
import { createPostgresClient, type PostgresSqlClient } from '../sql/postgres-client';
import { eventStoreContract } from '../store/event-store.contract';
import { LOG_START } from '../store/events';
import { EVENT_STORE_MIGRATIONS, migrateEventStore } from './migrations';
import { readOutbox } from './outbox';
import { createPostgresEventStore, type SqlEventStore } from './postgres-event-store';

const newSchema = (label: string) => `${label}_${randomBytes(4).toString('hex')}`;

describeWithPostgres('PostgreSQL event store', () => {
  const db = useTestDatabase('pg_event_store');
  let client: PostgresSqlClient;

  beforeAll(() => {
    client = createPostgresClient({ connectionString: db().url, max: 8 });
  });
  afterAll(async () => {
    await client?.close();
  });

  eventStoreContract('PostgreSQL (after-commit notify)', async (config) => {
    const schema = newSchema('es');
    const store = createPostgresEventStore({ client, schema, ...config });
    await store.start();
    return {
      store,
      readOutbox: () => readOutbox(client, schema),
      cleanup: () => store.close(),
    };
  });

  eventStoreContract('PostgreSQL (in-transaction notify)', async (config) => {
    const schema = newSchema('es');
    const store = createPostgresEventStore({ client, schema, notify: 'in-transaction', ...config });
    await store.start();
    return {
      store,
      readOutbox: () => readOutbox(client, schema),
      cleanup: () => store.close(),
    };
  });

  describe('migrations', () => {
    it('are versioned, recorded in the store schema, and applied once', async () => {
      const schema = newSchema('mig');
      const first = await migrateEventStore(client, schema);
      expect(first.applied).toEqual(EVENT_STORE_MIGRATIONS.map((m) => m.version));
      const again = await migrateEventStore(client, schema);
      expect(again.applied).toEqual([]);
      const rows = await client.query<{ version: number; name: string }>(
        `SELECT version, name FROM ${schema}.schema_migrations ORDER BY version`,
      );
      expect(rows.rows.map((r) => r.version)).toEqual(EVENT_STORE_MIGRATIONS.map((m) => m.version));
    });

    it('two processes starting at once do not race: each migration is applied exactly once', async () => {
      const schema = newSchema('race');
      const clients = Array.from({ length: 4 }, () =>
        createPostgresClient({ connectionString: db().url, max: 2 }),
      );
      try {
        const reports = await Promise.all(clients.map((c) => migrateEventStore(c, schema)));
        const applied = reports.flatMap((r) => r.applied).sort();
        expect(applied).toEqual(EVENT_STORE_MIGRATIONS.map((m) => m.version));
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
    });

    it('brings an older schema up to date', async () => {
      const schema = newSchema('old');
      await migrateEventStore(client, schema, EVENT_STORE_MIGRATIONS.slice(0, 1));
      const report = await migrateEventStore(client, schema);
      expect(report.applied).toEqual(EVENT_STORE_MIGRATIONS.slice(1).map((m) => m.version));
    });

    it('refuses a schema name that would need quoting', () => {
      expect(() => createPostgresEventStore({ client, schema: 'Transfer; DROP' })).toThrow(
        /Invalid schema name/,
      );
    });
  });

  describe('SQL adapter extras', () => {
    let store: SqlEventStore;
    let schema: string;
    beforeEach(async () => {
      schema = newSchema('x');
      store = createPostgresEventStore({ client, schema });
      await store.start();
    });
    afterEach(() => store.close());

    const context = {
      actor: { kind: 'system' as const, name: 'test' },
      occurredAt: new Date(),
      correlationId: 'c',
    };

    it('appendIn writes inside the caller transaction and is rolled back with it', async () => {
      await expect(
        client.transaction(async (tx) => {
          await store.appendIn(tx, {
            streams: [{ streamId: 'a', expectedVersion: 'no-stream', events: [{ type: 'T', data: {} }] }],
            context,
          });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect((await store.readStream('a')).version).toBeUndefined();
      await client.transaction(async (tx) => {
        await store.appendIn(tx, {
          streams: [{ streamId: 'a', expectedVersion: 'no-stream', events: [{ type: 'T', data: {} }] }],
          context,
        });
        await tx.query(`CREATE TABLE ${schema}.side_effect (id int)`);
      });
      expect((await store.readStream('a')).version).toBe(0n);
    });

    it('notifies listeners of the events channel and of the outbox channel', async () => {
      const heard: string[] = [];
      const stopEvents = await client.listen(store.eventsChannel, () => heard.push('events'));
      const stopOutbox = await client.listen(store.outboxChannel, () => heard.push('outbox'));
      try {
        await store.append({
          streams: [{ streamId: 'n', expectedVersion: 'any', events: [{ type: 'T', data: {} }] }],
          outbox: [{ topic: 't', key: 'n', type: 'x', schemaVersion: 1, payload: {} }],
          context,
        });
        const until = Date.now() + 5000;
        while (heard.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
        expect([...new Set(heard)].sort()).toEqual(['events', 'outbox']);
      } finally {
        await stopEvents();
        await stopOutbox();
      }
    });

    it('a transaction left open in another database does not hold the log back; one in this database does', async () => {
      const append = (streamId: string) =>
        store.append({
          streams: [{ streamId, expectedVersion: 'any', events: [{ type: 'T', data: {} }] }],
          context,
        });
      const other = await createTestDatabase('other_db');
      const elsewhere = new Client({ connectionString: other.url });
      await elsewhere.connect();
      try {
        await elsewhere.query('BEGIN');
        await elsewhere.query('SELECT pg_current_xact_id()');
        const first = await append('one');
        // pg_snapshot_xmin is held back by `elsewhere`; the log is not.
        const xmin = await client.query<{ held: boolean }>(
          `SELECT pg_snapshot_xmin(pg_current_snapshot()) <= $1::xid8 AS held`,
          [first.lastLogPosition.commit.toString()],
        );
        expect(xmin.rows[0].held).toBe(true);
        expect((await store.readAll()).events.map((e) => e.eventId)).toEqual(
          first.events.map((e) => e.eventId),
        );

        const here = await client.transaction(async (tx) => {
          await tx.query('SELECT pg_current_xact_id()');
          const second = await append('two');
          // An older transaction of this database is still open: `second` must wait for it.
          expect((await store.readAll({ after: first.lastLogPosition })).events).toEqual([]);
          return second;
        });
        expect((await store.readAll({ after: first.lastLogPosition })).events.map((e) => e.eventId)).toEqual(
          here.events.map((e) => e.eventId),
        );
      } finally {
        await elsewhere.query('ROLLBACK').catch(() => undefined);
        await elsewhere.end();
        await other.drop();
      }
    });

    it('close() flushes a throttled notification at once instead of waiting out the interval', async () => {
      const slow = createPostgresEventStore({ client, schema, notifyIntervalMs: 60_000 });
      const heard: string[] = [];
      const stop = await client.listen(slow.eventsChannel, () => heard.push('events'));
      try {
        for (let i = 0; i < 3; i++) {
          await slow.append({
            streams: [{ streamId: 'slow', expectedVersion: 'any', events: [{ type: 'T', data: {} }] }],
            context,
          });
        }
        const started = Date.now();
        await slow.close();
        expect(Date.now() - started).toBeLessThan(5000);
        const until = Date.now() + 5000;
        while (heard.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
        // The first append notified at once; the two made during the interval, at close.
        expect(heard.length).toBe(2);
      } finally {
        await stop();
      }
    });

    it('never serves a stale short batch read ahead: what was appended since is read', async () => {
      const append = (n: number) =>
        store.append({
          streams: [
            {
              streamId: 'ahead',
              expectedVersion: 'any',
              events: Array.from({ length: n }, () => ({ type: 'T', data: {} })),
            },
          ],
          context,
        });
      await append(3);
      const first = await store.readAll({ maxCount: 2 }); // full: reads the next two ahead (only one there)
      expect(first.events).toHaveLength(2);
      await append(2);
      const second = await store.readAll({ after: first.next, maxCount: 2 });
      expect(second.events.map((e) => e.streamPosition)).toEqual([2n, 3n]);
      const third = await store.readAll({ after: second.next, maxCount: 2 });
      expect(third.events.map((e) => e.streamPosition)).toEqual([4n]);
    });

    it('sends the read-ahead query of a full batch before decoding that batch, and serves it in order', async () => {
      let readAllQueries = 0;
      const counting: PostgresSqlClient = {
        ...client,
        query: (text, params, options) => {
          if (options?.name?.endsWith('_read_all')) readAllQueries++;
          return client.query(text, params, options);
        },
      };
      const sentWhenDecoded: number[] = [];
      const reader = createPostgresEventStore({
        client: counting,
        schema,
        upcasters: [
          {
            type: 'Old',
            fromVersion: 1,
            toVersion: 2,
            upcast: (data: { n: number }) => {
              sentWhenDecoded.push(readAllQueries);
              return { ...data, upcast: true };
            },
          },
        ],
      });
      try {
        await store.append({
          streams: [
            {
              streamId: 'ahead-order',
              expectedVersion: 'no-stream',
              events: Array.from({ length: 5 }, (_, n) => ({ type: 'Old', data: { n } })),
            },
          ],
          context,
        });
        const seen: number[] = [];
        let after = LOG_START;
        for (;;) {
          const batch = await reader.readAll({ after, maxCount: 2 });
          seen.push(...batch.events.map((e) => (e.data as { n: number }).n));
          expect(batch.events.every((e) => e.schemaVersion === 2)).toBe(true);
          after = batch.next;
          if (batch.events.length < 2) break;
        }
        expect(seen).toEqual([0, 1, 2, 3, 4]);
        // Batch 1 (events 0, 1) was decoded after the query for batch 2 went out, batch 2 after batch 3's.
        expect(sentWhenDecoded.slice(0, 4)).toEqual([2, 2, 3, 3]);
      } finally {
        await reader.close();
      }
    });

    it('stores event data as ASCII JSON, which SQL reads as the characters written', async () => {
      const data = { name: '含有毒性危险废物', truck: '🚛' };
      const appended = await store.append({
        streams: [{ streamId: 'cjk', expectedVersion: 'no-stream', events: [{ type: 'T', data }] }],
        context,
      });
      const row = (
        await client.query<{ text: string; name: string }>(
          `SELECT data::text AS text, data->>'name' AS name FROM ${schema}.events WHERE stream_id = 'cjk'`,
        )
      ).rows[0];
      expect(row.text).toMatch(/^[\x20-\x7e]+$/);
      expect(row.name).toBe(data.name);
      expect((await store.readAll()).events).toEqual(appended.events);
    });

    it('reports the backlog after a position', async () => {
      const r = await store.append({
        streams: [
          {
            streamId: 'b',
            expectedVersion: 'any',
            events: [
              { type: 'T', data: {} },
              { type: 'T', data: {} },
              { type: 'T', data: {} },
            ],
          },
        ],
        context,
      });
      expect(await store.backlog(LOG_START)).toBe(3);
      expect(await store.backlog(r.events[0].logPosition)).toBe(2);
    });

    it('readAll and the held-back probe are index range scans on (transaction_id, global_position)', async () => {
      await client.query(
        `INSERT INTO ${schema}.events (stream_id, stream_position, event_id, type, schema_version, data, metadata)
         SELECT 'bulk', g, gen_random_uuid(), 'T', 1, '{}', '{}' FROM generate_series(0, 20000) g`,
      );
      await client.query(`ANALYZE ${schema}.events`);
      const plan = async (sql: string) =>
        (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`)).rows
          .map((r) => r['QUERY PLAN'])
          .join('\n');
      const readAll = await plan(
        `SELECT * FROM ${schema}.events e
          WHERE (e.transaction_id, e.global_position) > ('5'::xid8, 7::bigint)
            AND e.transaction_id < (SELECT ${schema}.log_horizon())
          ORDER BY e.transaction_id, e.global_position LIMIT 100`,
      );
      expect(readAll).toMatch(/Index Scan using events_log_idx/);
      expect(readAll).not.toMatch(/Sort/);
      const heldBack = await plan(
        `SELECT coalesce((SELECT e.transaction_id FROM ${schema}.events e ORDER BY e.transaction_id DESC LIMIT 1)
           >= ${schema}.log_horizon(), false) AS held`,
      );
      expect(heldBack).toMatch(/events_log_idx/);
    });
  });
});
