/**
 * The store under real concurrency: separate connections, released together, with transactions held
 * open to force commits out of sequence order. Every test asserts that the race it is about actually
 * happened (conflicts counted, an out-of-order commit observed, a blocked duplicate), so it cannot pass
 * by the writers politely taking turns.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeWithPostgres, useTestDatabase } from '@lianfang/testing';
import { createPostgresClient, type PostgresSqlClient } from '../sql/postgres-client';
import type { AppendContext, AppendRequest } from '../store/event-store';
import { IdempotencyConflictError, WrongExpectedVersionError } from '../store/errors';
import { compareLogPositions, type RecordedEvent } from '../store/events';
import { hashCommand } from '../store/hash-command';
import { readOutbox } from './outbox';
import { createPostgresEventStore, type SqlEventStore } from './postgres-event-store';

const context = (over: Partial<AppendContext> = {}): AppendContext => ({
  actor: { kind: 'system', name: 'concurrency-test' },
  occurredAt: new Date(),
  correlationId: 'corr',
  ...over,
});

/** Resolves for everyone once `n` parties are waiting: releases writers at the same instant. */
function barrier(n: number): () => Promise<void> {
  let waiting = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return () => {
    waiting++;
    if (waiting === n) release();
    return gate;
  };
}

describeWithPostgres('PostgreSQL event store under concurrency', () => {
  const db = useTestDatabase('es_concurrency');
  let client: PostgresSqlClient;
  let store: SqlEventStore;
  let schema: string;

  beforeAll(() => {
    // ≥ 16 connections: every writer on its own connection at once.
    client = createPostgresClient({ connectionString: db().url, max: 24 });
  });
  afterAll(async () => {
    await client?.close();
  });
  beforeEach(async () => {
    schema = `cc_${randomBytes(4).toString('hex')}`;
    store = createPostgresEventStore({ client, schema });
    await store.start();
  });
  afterEach(() => store.close());

  it('16 writers on ONE stream, each on its own connection: no lost update, versions contiguous, conflicts really happened', async () => {
    const writers = 16;
    const streamId = 'ledger-1';
    // Sixteen "processes": a client with one connection and a store each, on the same schema.
    const clients = Array.from({ length: writers }, () =>
      createPostgresClient({ connectionString: db().url, max: 1 }),
    );
    const stores = clients.map((c) => createPostgresEventStore({ client: c, schema }));
    try {
      await Promise.all(stores.map((s) => s.start()));
      const ready = barrier(writers);
      let conflicts = 0;
      await Promise.all(
        stores.map(async (mine, w) => {
          await ready();
          for (let attempt = 0; ; attempt++) {
            if (attempt > 500) throw new Error(`writer ${w} never got in`);
            const { version } = await mine.readStream(streamId, { direction: 'backwards', maxCount: 1 });
            try {
              await mine.append({
                streams: [
                  {
                    streamId,
                    expectedVersion: version ?? 'no-stream',
                    events: [{ type: 'Reserved', data: { writer: w, attempt } }],
                  },
                ],
                context: context(),
              });
              return;
            } catch (error) {
              if (!(error instanceof WrongExpectedVersionError)) throw error;
              conflicts++;
            }
          }
        }),
      );
      const read = await store.readStream(streamId);
      expect(read.events.map((e) => e.streamPosition)).toEqual(
        Array.from({ length: writers }, (_, i) => BigInt(i)),
      );
      expect(read.version).toBe(BigInt(writers - 1));
      expect(new Set(read.events.map((e) => (e.data as { writer: number }).writer)).size).toBe(writers);
      expect(conflicts).toBeGreaterThan(0);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('16 writers on different streams, some commits held back: a tailing reader sees every event exactly once, in log order', async () => {
    const writers = 16;
    const perWriter = 6;
    const total = writers * perWriter;
    const seen: RecordedEvent[] = [];
    const controller = new AbortController();
    const tail = (async () => {
      for await (const e of store.tailAll({ signal: controller.signal, idleWaitMs: 200, maxCount: 7 })) {
        seen.push(e);
        if (seen.length >= total) break;
      }
    })();

    // Commit order as the writers observe it: an append's promise resolves after its COMMIT.
    let committed = 0;
    let maxCommittedPosition = 0n;
    const outOfOrder: Array<{ held: bigint; committedBefore: bigint }> = [];
    const ready = barrier(writers);
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        await ready();
        for (let i = 0; i < perWriter; i++) {
          const request: AppendRequest = {
            streams: [
              {
                streamId: `s-${w}`,
                expectedVersion: i === 0 ? 'no-stream' : BigInt(i - 1),
                events: [{ type: 'E', data: { w, i } }],
              },
            ],
            context: context(),
          };
          if (w % 4 === 0 && i % 2 === 0) {
            // Take a position now, commit later, after others have committed (higher positions).
            await client.transaction(async (tx) => {
              const position = (await store.appendIn(tx, request)).events[0].globalPosition;
              const target = committed + 3;
              const deadline = Date.now() + 2000;
              while (committed < target && Date.now() < deadline) await sleep(5);
              // Everything counted in `committed` has committed; we have not, yet.
              if (maxCommittedPosition > position)
                outOfOrder.push({ held: position, committedBefore: maxCommittedPosition });
            });
          } else {
            const position = (await store.append(request)).events[0].globalPosition;
            committed++;
            if (position > maxCommittedPosition) maxCommittedPosition = position;
          }
        }
      }),
    );
    await Promise.race([tail, sleep(20_000)]);
    controller.abort();
    await tail;

    expect(outOfOrder.length).toBeGreaterThan(0);
    expect(seen).toHaveLength(total);
    const ids = seen.map((e) => e.eventId);
    expect(new Set(ids).size).toBe(total);
    for (let i = 1; i < seen.length; i++) {
      expect(compareLogPositions(seen[i - 1].logPosition, seen[i].logPosition)).toBeLessThan(0);
    }
    const all = (await store.readAll({ maxCount: 10_000 })).events;
    expect(all.map((e) => e.eventId)).toEqual(ids);
  });
  it('never skips the commit that ordering by position alone would skip (xid order ≠ sequence order)', async () => {
    // P takes its transaction id first, then its position LAST; Q takes a later id but an EARLIER
    // position and commits after P. Ordering by global_position with the xmin filter reads P (xmin is
    // Q's id, P's is lower), moves past P's position, and never returns Q's lower one.
    const seen: RecordedEvent[] = [];
    const controller = new AbortController();
    const tail = (async () => {
      for await (const e of store.tailAll({ signal: controller.signal, idleWaitMs: 50 })) {
        seen.push(e);
        if (seen.length >= 2) break;
      }
    })();
    let pCommit = 0n;
    let qCommit = 0n;
    let pPosition = 0n;
    let qPosition = 0n;
    let releaseQ!: () => void;
    const qMayCommit = new Promise<void>((r) => (releaseQ = r));
    let qAppended!: () => void;
    const qHasPosition = new Promise<void>((r) => (qAppended = r));
    let pIdTaken!: () => void;
    const pHasId = new Promise<void>((r) => (pIdTaken = r));

    const p = client.transaction(async (tx) => {
      await tx.query('SELECT pg_current_xact_id()');
      pIdTaken();
      await qHasPosition;
      const r = await store.appendIn(tx, {
        streams: [{ streamId: 'p', expectedVersion: 'no-stream', events: [{ type: 'P', data: {} }] }],
        context: context(),
      });
      pCommit = r.events[0].logPosition.commit;
      pPosition = r.events[0].globalPosition;
    });
    await pHasId;
    const q = client.transaction(async (tx) => {
      const r = await store.appendIn(tx, {
        streams: [{ streamId: 'q', expectedVersion: 'no-stream', events: [{ type: 'Q', data: {} }] }],
        context: context(),
      });
      qCommit = r.events[0].logPosition.commit;
      qPosition = r.events[0].globalPosition;
      qAppended();
      await qMayCommit;
    });
    await p;
    // P is committed, Q still running: give the tail time to read P (and, were it ordering by position, to move past Q's).
    const until = Date.now() + 5000;
    while (seen.length < 1 && Date.now() < until) await sleep(10);
    expect(seen.map((e) => e.type)).toEqual(['P']);
    releaseQ();
    await q;
    await Promise.race([tail, sleep(10_000)]);
    controller.abort();
    await tail;

    expect(pCommit).toBeLessThan(qCommit);
    expect(pPosition).toBeGreaterThan(qPosition);
    expect(seen.map((e) => e.type)).toEqual(['P', 'Q']);
  });

  // Both append paths: one stream (the single-statement form) and several (the append_events function).
  describe.each([
    ['one stream (single statement)', false],
    ['two streams (append_events)', true],
  ])('idempotency under concurrency, %s', (_label, twoStreams) => {
    const streamsOf = (streamId: string, expectedVersion: 'any' | 'no-stream', type: string) => [
      { streamId, expectedVersion, events: [{ type, data: {} }] },
      ...(twoStreams
        ? [
            {
              streamId: `${streamId}-audit`,
              expectedVersion: 'any' as const,
              events: [{ type: 'Audited', data: {} }],
            },
          ]
        : []),
    ];

    it('the same commandId from two connections at once is stored once: one appends, the other waits and replays', async () => {
      const commandHash = hashCommand({ type: 'Approve', id: 'x' });
      const request = (streamId: string, commandId: string): AppendRequest => ({
        streams: streamsOf(streamId, 'any', 'Approved'),
        outbox: [{ topic: 't', key: streamId, type: 'approved', schemaVersion: 1, payload: {} }],
        context: context({ commandId, commandHash }),
      });
      // First: hold the command row uncommitted in a transaction of our own.
      let secondSettled = false;
      let second: Promise<unknown> | undefined;
      const first = client.transaction(async (tx) => {
        const r = await store.appendIn(tx, request('order-1', 'cmd-1'));
        second = store.append(request('order-1', 'cmd-1')).finally(() => (secondSettled = true));
        await sleep(300);
        // The second append is blocked on the command id while we hold it.
        expect(secondSettled).toBe(false);
        return r;
      });
      const firstResult = await first;
      const secondResult = (await second) as Awaited<typeof first>;
      expect(firstResult.replayed).toBe(false);
      expect(secondResult.replayed).toBe(true);
      expect(secondResult.events).toEqual(firstResult.events);
      expect(secondResult.streams).toEqual(firstResult.streams);
      expect((await store.readStream('order-1')).events).toHaveLength(1);
      expect(await readOutbox(client, schema)).toHaveLength(1);

      // Many at once, released together: exactly one stores.
      const ready = barrier(8);
      const results = await Promise.all(
        Array.from({ length: 8 }, async () => {
          await ready();
          return store.append(request('order-2', 'cmd-2'));
        }),
      );
      expect(results.filter((r) => !r.replayed)).toHaveLength(1);
      for (const r of results) expect(r.events).toEqual(results[0].events);
      expect((await store.readStream('order-2')).events).toHaveLength(1);
      expect(await readOutbox(client, schema)).toHaveLength(2);
    });

    it('the same commandId with another payload, concurrently: IdempotencyConflictError, nothing stored by it', async () => {
      let second: Promise<unknown> | undefined;
      await client.transaction(async (tx) => {
        await store.appendIn(tx, {
          streams: streamsOf('a', 'no-stream', 'A'),
          context: context({ commandId: 'cmd-x', commandHash: hashCommand({ v: 1 }) }),
        });
        second = store
          .append({
            streams: streamsOf('b', 'no-stream', 'B'),
            context: context({ commandId: 'cmd-x', commandHash: hashCommand({ v: 2 }) }),
          })
          .catch((e: unknown) => e);
        await sleep(200);
      });
      expect(await second).toBeInstanceOf(IdempotencyConflictError);
      expect((await store.readStream('b')).version).toBeUndefined();
    });

    it('a failed first attempt does not block a concurrent duplicate: it proceeds once the first rolls back', async () => {
      const commandHash = hashCommand({ v: 1 });
      let second: Promise<{ replayed: boolean }> | undefined;
      await expect(
        client.transaction(async (tx) => {
          await store.appendIn(tx, {
            streams: streamsOf('r', 'no-stream', 'A'),
            context: context({ commandId: 'cmd-r', commandHash }),
          });
          second = store.append({
            streams: streamsOf('r', 'no-stream', 'A'),
            context: context({ commandId: 'cmd-r', commandHash }),
          });
          await sleep(200);
          throw new Error('first attempt fails');
        }),
      ).rejects.toThrow('first attempt fails');
      expect((await second)?.replayed).toBe(false);
      expect((await store.readStream('r')).events).toHaveLength(1);
    });
  });

  it('atomic multi-stream append with one wrong expected version: nothing in any stream, no outbox row', async () => {
    await store.append({
      streams: [
        { streamId: 'capacity', expectedVersion: 'no-stream', events: [{ type: 'Opened', data: {} }] },
      ],
      context: context(),
    });
    // A competitor moves `capacity` while our (stale) multi-stream append is in flight.
    const ready = barrier(2);
    const [ours, theirs] = await Promise.allSettled([
      (async () => {
        await ready();
        await sleep(20);
        return store.append({
          streams: [
            { streamId: 'approval', expectedVersion: 'no-stream', events: [{ type: 'Approved', data: {} }] },
            { streamId: 'capacity', expectedVersion: 0n, events: [{ type: 'Reserved', data: {} }] },
            { streamId: 'audit', expectedVersion: 'any', events: [{ type: 'Noted', data: {} }] },
          ],
          outbox: [{ topic: 't', key: 'approval', type: 'approved', schemaVersion: 1, payload: {} }],
          context: context(),
        });
      })(),
      (async () => {
        await ready();
        return store.append({
          streams: [
            {
              streamId: 'capacity',
              expectedVersion: 0n,
              events: [{ type: 'Reserved', data: { by: 'them' } }],
            },
          ],
          context: context(),
        });
      })(),
    ]);
    expect(theirs.status).toBe('fulfilled');
    expect(ours.status).toBe('rejected');
    expect((ours as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedVersionError);
    expect((await store.readStream('approval')).version).toBeUndefined();
    expect((await store.readStream('audit')).version).toBeUndefined();
    expect((await store.readStream('capacity')).events.map((e) => e.data)).toEqual([{}, { by: 'them' }]);
    expect(await readOutbox(client, schema)).toHaveLength(0);
    const rows = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.events`);
    expect(rows.rows[0].n).toBe('2');
  });

  it('multi-stream appends over the same streams listed in opposite orders never deadlock', async () => {
    const writers = 16;
    const rounds = 10;
    const ready = barrier(writers);
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        await ready();
        for (let i = 0; i < rounds; i++) {
          const ids = ['x', 'y', 'z'];
          if (w % 2 === 1) ids.reverse();
          await store.append({
            streams: ids.map((streamId) => ({
              streamId,
              expectedVersion: 'any' as const,
              events: [{ type: 'T', data: { w, i } }],
            })),
            context: context(),
          });
        }
      }),
    );
    for (const s of ['x', 'y', 'z']) {
      const read = await store.readStream(s);
      expect(read.events.map((e) => e.streamPosition)).toEqual(
        Array.from({ length: writers * rounds }, (_, i) => BigInt(i)),
      );
    }
  });
});
