import { handleCommand } from '../command/command-handling';
import { fold } from '../decider/decider';
import {
  ledgerDecider,
  openLedger,
  reserveCapacity,
  snapshottingLedgerDecider,
  type LedgerEvent,
} from '../decider/examples.fixture';
import { createPgliteEventStore } from '../pglite/pglite-event-store';
import type { SqlEventStore } from '../postgres/postgres-event-store';
import type { ReadStreamOptions } from '../store/event-store';
import { createSqlSnapshotStore, type SnapshotStore } from './snapshot-store';

describe('snapshots in handleCommand (PGlite)', () => {
  let store: SqlEventStore;
  let snapshots: SnapshotStore;
  let n = 0;
  const facility = () => `facility-snap-${++n}`;

  beforeAll(async () => {
    store = await createPgliteEventStore({ schema: 'es' });
    snapshots = await createSqlSnapshotStore({ sql: store.client, schema: store.schema });
  });
  afterAll(() => store.close());

  /** A long stream: open + `reservations` reservations of 1 kg, through handleCommand with snapshots. */
  async function longStream(
    streamId: string,
    reservations: number,
    decider = snapshottingLedgerDecider(1, 10),
  ) {
    await handleCommand({ store, snapshots, decider, streamId, command: openLedger(streamId, 10_000) });
    for (let i = 0; i < reservations; i++) {
      await handleCommand({ store, snapshots, decider, streamId, command: reserveCapacity(`r-${i}`, 1) });
    }
  }

  async function fullFold(streamId: string) {
    const read = await store.readStream(streamId);
    return fold(ledgerDecider, read.events as unknown as LedgerEvent[]);
  }

  function spyReads() {
    const spy = jest.spyOn(store, 'readStream');
    return {
      calls: () => spy.mock.calls.map(([id, o]: [string, ReadStreamOptions?]) => ({ id, from: o?.from })),
      results: async () =>
        Promise.all(spy.mock.results.map((r) => r.value as ReturnType<SqlEventStore['readStream']>)),
      restore: () => spy.mockRestore(),
    };
  }

  it('takes a snapshot every `every` events, after the append', async () => {
    const streamId = facility();
    await longStream(streamId, 8); // versions 0..8: 9 events, not yet 10
    expect(await snapshots.load(streamId)).toBeUndefined();
    await handleCommand({
      store,
      snapshots,
      decider: snapshottingLedgerDecider(1, 10),
      streamId,
      command: reserveCapacity('tenth', 1),
    });
    const snapshot = await snapshots.load(streamId);
    expect(snapshot).toMatchObject({ streamId, snapshotVersion: 1, streamVersion: 9n });
    expect(snapshot?.takenAt).toBeInstanceOf(Date);

    // a snapshot at the head of the stream: one read, from after it, of nothing
    const reads = spyReads();
    const r = await handleCommand({
      store,
      snapshots,
      decider: snapshottingLedgerDecider(1, 10),
      streamId,
      command: reserveCapacity('eleventh', 1),
    });
    expect(reads.calls()).toEqual([{ id: streamId, from: 10n }]);
    expect((await reads.results())[0]).toEqual({ events: [], version: 9n });
    reads.restore();
    expect(r.state).toEqual(await fullFold(streamId));
  });

  it('loads a long stream from its snapshot: fewer events read, the same state as a full fold', async () => {
    const streamId = facility();
    const decider = snapshottingLedgerDecider(1, 10);
    await longStream(streamId, 44, decider); // versions 0..44, snapshots at 9, 19, 29, 39
    expect((await snapshots.load(streamId))?.streamVersion).toBe(39n);

    const reads = spyReads();
    const r = await handleCommand({ store, snapshots, decider, streamId, command: reserveCapacity('x', 1) });
    expect(reads.calls()).toEqual([{ id: streamId, from: 40n }]);
    const [tail] = await reads.results();
    reads.restore();
    expect(tail.events.map((e) => e.streamPosition)).toEqual([40n, 41n, 42n, 43n, 44n]);

    expect(r.version).toBe(45n);
    expect(r.state).toEqual(await fullFold(streamId));
    expect(r.state).toMatchObject({ status: 'open', reservedKg: 45, eventsFolded: 46 });
  });

  it('ignores a snapshot of another schema version, folds everything, then replaces it', async () => {
    const streamId = facility();
    await longStream(streamId, 24, snapshottingLedgerDecider(1, 10)); // snapshot v1 at 19
    expect(await snapshots.load(streamId)).toMatchObject({ snapshotVersion: 1, streamVersion: 19n });

    const bumped = snapshottingLedgerDecider(2, 10);
    const reads = spyReads();
    const r = await handleCommand({
      store,
      snapshots,
      decider: bumped,
      streamId,
      command: reserveCapacity('y', 1),
    });
    expect(reads.calls()).toEqual([{ id: streamId, from: undefined }]); // the whole stream
    reads.restore();
    expect(r.state).toEqual(await fullFold(streamId));
    // 26 events since "no snapshot" ≥ 10: a v2 snapshot replaces the v1 one
    expect(await snapshots.load(streamId)).toMatchObject({ snapshotVersion: 2, streamVersion: 25n });

    // ...and the old code, if it still runs somewhere, ignores the v2 snapshot in turn
    const readsOld = spyReads();
    const old = await handleCommand({
      store,
      snapshots,
      decider: snapshottingLedgerDecider(1, 10),
      streamId,
      command: reserveCapacity('z', 1),
    });
    expect(readsOld.calls()).toEqual([{ id: streamId, from: undefined }]);
    readsOld.restore();
    expect(old.state).toEqual(await fullFold(streamId));
  });

  it('ignores a snapshot ahead of its stream (it cannot be a state the stream had)', async () => {
    const streamId = facility();
    await longStream(streamId, 2);
    await snapshots.save({
      streamId,
      snapshotVersion: 1,
      streamVersion: 50n,
      state: { status: 'none' },
      takenAt: new Date(),
    });
    const r = await handleCommand({
      store,
      snapshots,
      decider: snapshottingLedgerDecider(1, 10),
      streamId,
      command: reserveCapacity('w', 1),
    });
    expect(r.state).toEqual(await fullFold(streamId));
    expect(r.version).toBe(3n);
    expect(await snapshots.load(streamId)).toBeUndefined(); // forgotten, so a real one can take its place
  });

  it('falls back to the full fold when the snapshot cannot be loaded or read', async () => {
    const streamId = facility();
    const decider = snapshottingLedgerDecider(1, 2);
    await longStream(streamId, 3, decider);
    const onSnapshotError = jest.fn();
    const unreachable: SnapshotStore = {
      load: () => Promise.reject(new Error('connection reset')),
      save: (snapshot) => snapshots.save(snapshot),
      delete: (id) => snapshots.delete(id),
    };
    const r1 = await handleCommand({
      store,
      snapshots: unreachable,
      decider,
      streamId,
      command: reserveCapacity('a', 1),
      onSnapshotError,
    });
    expect(r1.state).toEqual(await fullFold(streamId));
    expect(onSnapshotError).toHaveBeenCalledWith(
      expect.objectContaining({ message: 'connection reset' }),
      streamId,
    );

    const corrupt = {
      ...decider,
      snapshot: {
        ...decider.snapshot!,
        deserialize: () => {
          throw new Error('unexpected shape');
        },
      },
    };
    const r2 = await handleCommand({
      store,
      snapshots,
      decider: corrupt,
      streamId,
      command: reserveCapacity('b', 1),
      onSnapshotError,
    });
    expect(r2.state).toEqual(await fullFold(streamId));
    expect(onSnapshotError).toHaveBeenLastCalledWith(
      expect.objectContaining({ message: 'unexpected shape' }),
      streamId,
    );
  });

  it('a failed snapshot write does not fail the command: a snapshot is a cache', async () => {
    const streamId = facility();
    const broken: SnapshotStore = {
      load: (id) => snapshots.load(id),
      delete: (id) => snapshots.delete(id),
      save: () => Promise.reject(new Error('disk full')),
    };
    const onSnapshotError = jest.fn();
    const decider = snapshottingLedgerDecider(1, 1);
    const r = await handleCommand({
      store,
      snapshots: broken,
      decider,
      streamId,
      command: openLedger(streamId, 5),
      onSnapshotError,
    });
    expect(r.version).toBe(0n);
    expect(onSnapshotError).toHaveBeenCalledWith(expect.objectContaining({ message: 'disk full' }), streamId);
  });

  it('a repeated command hidden behind a snapshot still gets its first result', async () => {
    const streamId = facility();
    const decider = snapshottingLedgerDecider(1, 2);
    await handleCommand({ store, snapshots, decider, streamId, command: openLedger(streamId, 100) });
    const command = reserveCapacity('once', 5);
    const first = await handleCommand({ store, snapshots, decider, streamId, command });
    // the snapshot now covers the command's event: the tail does not show it
    expect((await snapshots.load(streamId))?.streamVersion).toBe(1n);
    const second = await handleCommand({ store, snapshots, decider, streamId, command });
    expect(second).toMatchObject({ replayed: true, version: first.version });
    expect(second.events.map((e) => e.eventId)).toEqual(first.events.map((e) => e.eventId));
  });

  it('without a snapshot store, the policy is ignored and the stream folds from the start', async () => {
    const streamId = facility();
    const decider = snapshottingLedgerDecider(1, 1);
    await handleCommand({ store, decider, streamId, command: openLedger(streamId, 5) });
    await handleCommand({ store, decider, streamId, command: reserveCapacity('a', 1) });
    expect(await snapshots.load(streamId)).toBeUndefined();
  });
});
