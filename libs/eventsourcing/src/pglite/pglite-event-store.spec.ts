import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readOutbox } from '../postgres/outbox';
import { createPostgresEventStore } from '../postgres/postgres-event-store';
import { createPgliteClient, type PgliteSqlClient } from '../sql/pglite-client';
import { eventStoreContract } from '../store/event-store.contract';
import { createPgliteEventStore } from './pglite-event-store';

const context = {
  actor: { kind: 'system' as const, name: 'test' },
  occurredAt: new Date(),
  correlationId: 'c',
};

describe('PGlite event store', () => {
  let client: PgliteSqlClient;
  beforeAll(async () => {
    client = await createPgliteClient({ memory: true });
  });
  afterAll(async () => {
    await client?.close();
  });

  eventStoreContract('PGlite (in memory)', async (config) => {
    const schema = `es_${randomBytes(4).toString('hex')}`;
    const store = createPostgresEventStore({ client, schema, ...config });
    await store.start();
    return {
      store,
      readOutbox: () => readOutbox(client, schema),
      cleanup: () => store.close(),
    };
  });

  it.each(['after-commit', 'in-transaction'] as const)(
    'wakes listeners of the PGlite client (%s notify)',
    async (notify) => {
      const schema = `n_${randomBytes(4).toString('hex')}`;
      const store = createPostgresEventStore({ client, schema, notify });
      await store.start();
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
        while (new Set(heard).size < 2 && Date.now() < until) {
          await new Promise((r) => setTimeout(r, 10));
        }
        expect([...new Set(heard)].sort()).toEqual(['events', 'outbox']);
      } finally {
        await stopEvents();
        await stopOutbox();
        await store.close();
      }
    },
  );

  it('is file-backed in a directory: data persists across close and reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lf-pglite-'));
    try {
      const first = await createPgliteEventStore({ dataDir: dir, schema: 'transfer' });
      const appended = await first.append({
        streams: [
          {
            streamId: 'transfer-1',
            expectedVersion: 'no-stream',
            events: [{ type: 'T', data: { grams: 2n ** 64n } }],
          },
        ],
        outbox: [{ topic: 't', key: 'transfer-1', type: 'x', schemaVersion: 1, payload: {} }],
        context: { ...context, commandId: 'cmd-1', commandHash: 'h' },
      });
      await first.close();

      const reopened = await createPgliteEventStore({ dataDir: dir, schema: 'transfer' });
      try {
        expect(await reopened.start()).toMatchObject({ applied: [] });
        const read = await reopened.readStream('transfer-1');
        expect(read.events).toEqual(appended.events);
        expect(read.events[0].data).toEqual({ grams: 18446744073709551616n });
        expect(await readOutbox(reopened.client, 'transfer')).toHaveLength(1);
        const replay = await reopened.append({
          streams: [
            {
              streamId: 'transfer-1',
              expectedVersion: 'no-stream',
              events: [{ type: 'T', data: { grams: 2n ** 64n } }],
            },
          ],
          context: { ...context, commandId: 'cmd-1', commandHash: 'h' },
        });
        expect(replay.replayed).toBe(true);
        const next = await reopened.append({
          streams: [{ streamId: 'transfer-1', expectedVersion: 0n, events: [{ type: 'T', data: {} }] }],
          context,
        });
        expect(next.events[0].globalPosition).toBeGreaterThan(appended.events[0].globalPosition);
      } finally {
        await reopened.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
