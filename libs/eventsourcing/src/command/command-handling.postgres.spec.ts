import { describeWithPostgres, useTestDatabase } from '@lianfang/testing';
import { fold } from '../decider/decider';
import { ledgerDecider, openLedger, reserveCapacity, type LedgerEvent } from '../decider/examples.fixture';
import { createPostgresEventStore, type SqlEventStore } from '../postgres/postgres-event-store';
import { createPostgresClient } from '../sql/postgres-client';
import type { EventStore } from '../store/event-store';
import { handleCommand } from './command-handling';

/** Resolves for everyone once `parties` have arrived. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return () => {
    arrived += 1;
    if (arrived === parties) open();
    return opened;
  };
}

describeWithPostgres('handleCommand retries under real concurrency (PostgreSQL)', () => {
  const db = useTestDatabase('command_retry');
  const stores: SqlEventStore[] = [];

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
  });

  async function openStore(): Promise<SqlEventStore> {
    // One connection per writer: the appends really race in the server.
    const client = createPostgresClient({ connectionString: db().url, max: 1 });
    const store = createPostgresEventStore({ client, schema: 'es', ownsClient: true });
    await store.start();
    stores.push(store);
    return store;
  }

  it('several writers of one stream all succeed, through retries', async () => {
    const writers = 6; // each can lose at most writers-1 times: the default maxRetries (5) suffices
    const setup = await openStore();
    const streamId = 'facility-concurrent';
    await handleCommand({ store: setup, decider: ledgerDecider, streamId, command: openLedger('f', 1000) });

    // Every writer's FIRST load happens before any of them appends: conflicts are certain, not likely.
    const allLoaded = barrier(writers);
    const racing = await Promise.all(
      Array.from({ length: writers }, async (): Promise<EventStore> => {
        const store = await openStore();
        let first = true;
        return {
          append: (r) => store.append(r),
          readAll: (o) => store.readAll(o),
          tailAll: (o) => store.tailAll(o),
          close: () => store.close(),
          async readStream(id, o) {
            const read = await store.readStream(id, o);
            if (first) {
              first = false;
              await allLoaded();
            }
            return read;
          },
        };
      }),
    );

    const onRetry = jest.fn();
    const results = await Promise.all(
      racing.map((store, i) =>
        handleCommand({
          store,
          decider: ledgerDecider,
          streamId,
          command: reserveCapacity(`r-${i}`, 10 + i),
          onRetry,
        }),
      ),
    );

    const retries = results.map((r) => r.retries);
    expect(retries.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(writers - 1);
    expect(onRetry).toHaveBeenCalledTimes(retries.reduce((a, b) => a + b, 0));
    expect(Math.max(...retries)).toBeLessThanOrEqual(5);
    expect(retries.filter((r) => r === 0)).toHaveLength(1); // exactly one won the first round
    expect(results.map((r) => r.version).sort()).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);

    const read = await setup.readStream(streamId);
    expect(read.version).toBe(6n);
    expect(read.events.map((e) => e.streamPosition)).toEqual([0n, 1n, 2n, 3n, 4n, 5n, 6n]);
    const state = fold(ledgerDecider, read.events as unknown as LedgerEvent[]);
    expect(state).toMatchObject({ reservedKg: 10 + 11 + 12 + 13 + 14 + 15 });
    // the writer that appended last saw every other reservation in its state
    const last = results.find((r) => r.version === 6n);
    expect(last?.state).toEqual(state);
  });
});
