import { randomBytes } from 'node:crypto';
import { createPgliteClient, type PgliteSqlClient } from '../sql/pglite-client';
import { systemActor, type Actor } from '../store/actor';
import { LOG_START } from '../store/events';
import { UpcasterChain } from '../store/upcasting';
import { EVENT_RECORD, EventRecordDecoder } from './event-records';
import { createPostgresEventStore, type SqlEventStore } from './postgres-event-store';

const alice: Actor = {
  kind: 'user',
  userId: 'user-alice',
  agencyId: 'agency-320115-epb',
  jurisdiction: '320115',
};
const timer = systemActor('transfer.completeness-timer');

describe('event records (one text per event read)', () => {
  let client: PgliteSqlClient;
  let store: SqlEventStore;
  beforeAll(async () => {
    client = await createPgliteClient({ memory: true });
  });
  beforeEach(async () => {
    store = createPostgresEventStore({ client, schema: `er_${randomBytes(4).toString('hex')}` });
    await store.start();
  });
  afterEach(async () => {
    await store.close();
  });
  afterAll(async () => {
    await client?.close();
  });

  const context = (actor: Actor, correlationId: string) => ({
    actor,
    occurredAt: new Date('2025-03-01T08:00:00.001Z'),
    correlationId,
  });

  it('keeps stream ids and types that hold the separator, quotes, backslashes, line breaks or emoji', async () => {
    const odd = [
      'plain-stream',
      'unit\u001fseparator',
      '"starts with a quote',
      'ends with a quote"',
      'back\\slash',
      'tab\tand\nnewline',
      '联防/🚛/emoji',
      '"',
      '\u001f',
      'x',
    ];
    for (const [i, streamId] of odd.entries()) {
      await store.append({
        streams: [
          {
            streamId,
            expectedVersion: 'no-stream',
            events: [{ type: odd[odd.length - 1 - i], data: { i } }],
          },
        ],
        context: context(alice, `c-${i}`),
      });
    }
    const all = (await store.readAll()).events;
    expect(all.map((e) => e.streamId)).toEqual(odd);
    expect(all.map((e) => e.type)).toEqual([...odd].reverse());
    expect(all.map((e) => e.data)).toEqual(odd.map((_, i) => ({ i })));
    for (const streamId of odd) {
      const [event] = (await store.readStream(streamId)).events;
      expect(event.streamId).toBe(streamId);
    }
  });

  it('gives each event the metadata of its own append, also when appends alternate', async () => {
    const appends = [
      { actor: alice, correlationId: 'first', count: 3 },
      { actor: timer, correlationId: 'second', count: 1 },
      { actor: alice, correlationId: 'third', count: 2 },
      { actor: alice, correlationId: 'third', count: 1 },
    ];
    const written = [];
    for (const [i, a] of appends.entries()) {
      const r = await store.append({
        streams: [
          {
            streamId: `meta-${i}`,
            expectedVersion: 'no-stream',
            events: Array.from({ length: a.count }, (_, n) => ({ type: 'Noted', data: { n } })),
          },
        ],
        context: { ...context(a.actor, a.correlationId), causationId: i === 1 ? 'cause' : undefined },
      });
      written.push(...r.events);
    }
    const read = (await store.readAll()).events;
    expect(read).toEqual(written);
    expect(read.map((e) => e.metadata.correlationId)).toEqual([
      'first',
      'first',
      'first',
      'second',
      'third',
      'third',
      'third',
    ]);
    expect(read[3].metadata.actor).toEqual(timer);
    expect(read[3].metadata.causationId).toBe('cause');
    expect(read[4].metadata.causationId).toBeNull();
    // Events of one transaction share its commit; the next append has a later one.
    expect(read[1].logPosition.commit).toBe(read[0].logPosition.commit);
    expect(read[3].logPosition.commit > read[0].logPosition.commit).toBe(true);
    // Each event has its own Dates: changing one changes no other.
    read[0].metadata.occurredAt.setTime(0);
    expect(read[1].metadata.occurredAt.toISOString()).toBe('2025-03-01T08:00:00.001Z');
  });

  it('decodes data with "$" in plain text as it is, and tagged values exactly', async () => {
    const plain = { price: '$12', note: 'costs "$"', nested: [{ $: 1 }] };
    const tagged = { fen: 12_345n, at: new Date('2024-02-29T23:59:59.999Z'), $look: 'alike' };
    await store.append({
      streams: [
        {
          streamId: 'dollars',
          expectedVersion: 'no-stream',
          events: [
            { type: 'Plain', data: plain },
            { type: 'Tagged', data: tagged },
          ],
        },
      ],
      context: context(alice, 'd'),
    });
    const [a, b] = (await store.readAll()).events;
    expect(a.data).toEqual(plain);
    expect(b.data).toEqual(tagged);
    expect((b.data as typeof tagged).fen).toBe(12_345n);
  });

  it('stores data and metadata as ASCII JSON, which SQL and every read give back as written', async () => {
    const actor: Actor = {
      kind: 'user',
      userId: '王建国',
      agencyId: 'agency-510100-eeb',
      jurisdiction: '510100',
    };
    const data = { name: '含有或沾染毒性危险废物的废弃包装物', plate: '川A·D12345', truck: '🚛', latin: 'é' };
    const appended = await store.append({
      streams: [{ streamId: 'cjk', expectedVersion: 'no-stream', events: [{ type: 'Noted', data }] }],
      context: context(actor, '关联-1'),
    });
    const stored = await client.query<{ data: string; metadata: string; name: string; user: string }>(
      `SELECT data::text AS data, metadata::text AS metadata, data->>'name' AS name,
              metadata->'actor'->>'userId' AS user
         FROM ${store.schema}.events WHERE stream_id = 'cjk'`,
    );
    const row = stored.rows[0];
    expect(row.data).toMatch(/^[\x20-\x7e]+$/);
    expect(row.metadata).toMatch(/^[\x20-\x7e]+$/);
    expect(row.data).toContain('\\ud83d\\ude9b');
    expect(row.name).toBe(data.name); // SQL reads the characters, not the escapes
    expect(row.user).toBe('王建国');
    const [read] = (await store.readAll()).events;
    expect(read).toEqual(appended.events[0]);
    expect(read.data).toEqual(data);
    expect(read.metadata.actor).toEqual(actor);
    expect(read.metadata.correlationId).toBe('关联-1');
    expect((await store.readStream('cjk')).events).toEqual(appended.events);
  });

  it('reads events stored before data was written as ASCII (raw UTF-8 JSON) the same', async () => {
    const data = { name: '危险废物', truck: '🚛' };
    await store.append({
      streams: [{ streamId: 'utf8', expectedVersion: 'no-stream', events: [{ type: 'T', data }] }],
      context: context(alice, '旧'),
    });
    await client.query(
      `UPDATE ${store.schema}.events SET data = $1::json,
              metadata = json_build_object('actor', metadata->'actor', 'correlationId', '旧的',
                'causationId', null, 'commandId', null, 'occurredAt', metadata->>'occurredAt')
        WHERE stream_id = 'utf8'`,
      [JSON.stringify(data)],
    );
    expect(
      (await client.query<{ d: string }>(`SELECT data::text AS d FROM ${store.schema}.events`)).rows[0].d,
    ).toBe(JSON.stringify(data));
    const [event] = (await store.readAll()).events;
    expect(event.data).toEqual(data);
    expect(event.metadata.correlationId).toBe('旧的');
  });

  it('finds where the next batch starts from a record without decoding it', async () => {
    await store.append({
      streams: [
        {
          streamId: 'pos',
          expectedVersion: 'no-stream',
          events: [
            { type: 'T', data: {} },
            { type: '"quoted\u001ftype', data: { big: 'x'.repeat(5000) } },
          ],
        },
      ],
      context: context(alice, 'p'),
    });
    const rows = (
      await client.query<[string]>(
        `SELECT ${EVENT_RECORD} FROM ${store.schema}.events e ORDER BY e.transaction_id, e.global_position`,
        [],
        { rowMode: 'array' },
      )
    ).rows;
    const decoder = new EventRecordDecoder(new UpcasterChain());
    const events = decoder.decode(rows);
    expect(rows.map((r) => decoder.logPosition(r))).toEqual(events.map((e) => e.logPosition));
    expect(() => decoder.logPosition(['12'])).toThrow(/Malformed event record: 12/);
  });

  it('reads data stored with JSON whitespace (tabs, line breaks) by something other than the store', async () => {
    await store.append({
      streams: [{ streamId: 'hand', expectedVersion: 'no-stream', events: [{ type: 'T', data: { a: 1 } }] }],
      context: context(alice, 'h'),
    });
    await client.query(`UPDATE ${store.schema}.events SET data = $1::json WHERE stream_id = 'hand'`, [
      '{\n\t"a" : 1,\r\n\t"list": [ 1,\t2 ]\n}',
    ]);
    const [event] = (await store.readAll({ after: LOG_START })).events;
    expect(event.data).toEqual({ a: 1, list: [1, 2] });
  });

  it('refuses a malformed record, naming it', () => {
    const decoder = new EventRecordDecoder(new UpcasterChain());
    expect(() => decoder.decode([['1\u001f2\u001f3']])).toThrow(/Malformed event record: 1/);
    expect(() => decoder.decode([[null]])).toThrow(/Malformed event record: null/);
  });
});
