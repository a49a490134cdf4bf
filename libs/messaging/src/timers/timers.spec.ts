import { randomUUID } from 'node:crypto';
import {
  createPgliteClient,
  createPostgresClient,
  createPostgresEventStore,
  type SqlClient,
  type SqlEventStore,
} from '@lianfang/eventsourcing';
import { WorkingDayCalendar } from '@lianfang/domain-kernel';
import { describeWithPostgres, useTestDatabase } from '@lianfang/testing';
import {
  cancelTimer,
  listTimers,
  ManualClock,
  migrateTimers,
  readTimer,
  scheduleTimer,
  timerCommandId,
  timerId,
  TimerRunner,
  type Timer,
  type TimerRunnerOptions,
} from './timers';
import {
  DEADLINE,
  fireOverdue,
  flagsOf,
  streamOf,
  submitWithDeadline,
  timerKeyOf,
} from './test-fixtures/deadline.fixture';

const T0 = new Date('2025-03-03T08:00:00.000Z'); // a Monday, 16:00 in Shanghai
const HOUR = 3_600_000;

/** Polls until `check` returns true (generous timeout: the machine is shared). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function timerSuite(label: string, open: () => Promise<SqlClient>): void {
  let client: SqlClient;
  let store: SqlEventStore;
  let schema: string;
  let n = 0;
  const runners: TimerRunner[] = [];

  beforeAll(async () => {
    client = await open();
  });
  beforeEach(async () => {
    schema = `timers_${++n}`;
    store = createPostgresEventStore({ client, schema });
    await store.start();
    await migrateTimers(client, schema);
  });
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop()));
    await store.close();
  });
  afterAll(async () => {
    await client?.close();
  });

  function runner(clock: ManualClock, extra: Partial<TimerRunnerOptions> = {}): TimerRunner {
    const r = new TimerRunner({
      client,
      schema,
      clock,
      pollMs: 60_000,
      fire: fireOverdue(store),
      retryBaseMs: 1000,
      ...extra,
    });
    runners.push(r);
    return r;
  }

  const submit = (transferId: string, dueAt: Date, fail = false) =>
    submitWithDeadline(store, schema, { transferId, now: T0, dueAt, fail });

  it(`${label}: schedules the timer in the append's transaction: a rolled-back append leaves none`, async () => {
    const kept = randomUUID();
    const lost = randomUUID();
    await submit(kept, new Date(T0.getTime() + HOUR));
    await expect(submit(lost, new Date(T0.getTime() + HOUR), true)).rejects.toThrow(/roll back/);
    // The same stream again: the append's expectation fails inside the transaction, the timer goes too.
    await expect(
      store.client.transaction(async (tx) => {
        await scheduleTimer(tx, schema, { key: 'orphan', name: DEADLINE, dueAt: T0 });
        await store.appendIn(tx, {
          streams: [
            { streamId: streamOf(kept), expectedVersion: 'no-stream', events: [{ type: 'X', data: {} }] },
          ],
          context: { actor: { kind: 'system', name: 't' }, occurredAt: T0, correlationId: 'c' },
        });
      }),
    ).rejects.toThrow(/expected no-stream/);

    const timers = await listTimers(client, schema);
    expect(timers.map((t) => t.key)).toEqual([timerKeyOf(kept)]);
    const [timer] = timers;
    expect(timer).toMatchObject({
      id: timerId(timerKeyOf(kept)),
      name: DEADLINE,
      dueAt: new Date(T0.getTime() + HOUR),
      payload: { transferId: kept },
      correlationId: `corr-${kept}`,
      firedAt: null,
      attempts: 0,
    });
    expect((await store.readStream(streamOf(lost))).version).toBeUndefined();
  });

  it(`${label}: scheduling the same key again keeps the first timer`, async () => {
    const first = await client.transaction((tx) =>
      scheduleTimer(tx, schema, { key: 'k1', name: DEADLINE, dueAt: T0, payload: { v: 1 } }),
    );
    const again = await client.transaction((tx) =>
      scheduleTimer(tx, schema, {
        key: 'k1',
        name: DEADLINE,
        dueAt: new Date(T0.getTime() + HOUR),
        payload: { v: 2 },
      }),
    );
    expect(first).toEqual({ id: timerId('k1'), created: true });
    expect(again).toEqual({ id: timerId('k1'), created: false });
    expect(await listTimers(client, schema)).toEqual([
      expect.objectContaining({ key: 'k1', dueAt: T0, payload: { v: 1 } }),
    ]);
  });

  it(`${label}: fires at the due time of the injected clock, not before, as the system actor`, async () => {
    const transferId = randomUUID();
    // A working-day deadline, computed by the caller with the domain kernel's calendar.
    const dueAt = WorkingDayCalendar.default().addWorkingDays(T0, 5).deadline;
    expect(dueAt).toEqual(new Date('2025-03-10T16:00:00.000Z')); // Mon 3 Mar + 5 working days → 24:00 Mon 10 Mar (UTC+8)
    const { timerId: id, eventId } = await submit(transferId, dueAt);
    const clock = new ManualClock(T0);
    const r = runner(clock);

    expect(await r.tick()).toEqual({ fired: 0, failed: 0 });
    clock.set(new Date(dueAt.getTime() - 1));
    expect(await r.tick()).toEqual({ fired: 0, failed: 0 });
    expect(await flagsOf(store, transferId)).toBe(0);

    clock.set(dueAt);
    expect(await r.tick()).toEqual({ fired: 1, failed: 0 });
    const { events } = await store.readStream(streamOf(transferId));
    expect(events.map((e) => e.type)).toEqual(['TransferSubmitted', 'TransferFlaggedOverdue']);
    expect(events[1].metadata).toMatchObject({
      actor: { kind: 'system', name: DEADLINE },
      commandId: timerCommandId({ id }),
      causationId: eventId,
      correlationId: `corr-${transferId}`,
      occurredAt: dueAt,
    });
    const timer = await readTimer(client, schema, timerKeyOf(transferId));
    expect(timer).toMatchObject({ firedAt: dueAt, attempts: 1, lastError: null });
    // Fired timers stay fired.
    clock.advance(HOUR);
    expect(await r.tick()).toEqual({ fired: 0, failed: 0 });
    expect(await flagsOf(store, transferId)).toBe(1);
  });

  it(`${label}: a running runner wakes when the clock moves (no poll needed)`, async () => {
    const transferId = randomUUID();
    await submit(transferId, new Date(T0.getTime() + HOUR));
    const clock = new ManualClock(T0);
    await runner(clock, { pollMs: 600_000 }).start();
    clock.advance(2 * HOUR);
    await until('the timer to fire', async () => (await flagsOf(store, transferId)) === 1);
    await until(
      'the timer to be marked',
      async () => (await readTimer(client, schema, timerKeyOf(transferId)))?.firedAt !== null,
    );
  });

  it(`${label}: two runners racing over the same due timers fire each one once in effect`, async () => {
    const ids = Array.from({ length: 12 }, () => randomUUID());
    for (const id of ids) await submit(id, new Date(T0.getTime() + HOUR));
    const clock = new ManualClock(new Date(T0.getTime() + 2 * HOUR));
    const fires: string[] = [];
    const a = runner(clock, { batchSize: 3, fire: fireOverdue(store, (t) => fires.push(t.key)) });
    const b = runner(clock, { batchSize: 3, fire: fireOverdue(store, (t) => fires.push(t.key)) });
    const results = await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
    expect(results.reduce((s, r) => s + r.fired, 0)).toBe(12);
    expect(new Set(fires).size).toBe(12);
    for (const id of ids) expect(await flagsOf(store, id)).toBe(1);
    expect((await listTimers(client, schema)).every((t) => t.firedAt !== null)).toBe(true);
  });

  it(`${label}: a crash between the command and the mark fires again, and yields ONE event`, async () => {
    const transferId = randomUUID();
    await submit(transferId, new Date(T0.getTime() + HOUR));
    const clock = new ManualClock(new Date(T0.getTime() + HOUR));
    const fires: string[] = [];
    let crashes = 1;
    const r = runner(clock, {
      fire: fireOverdue(store, (t) => fires.push(t.key)),
      hooks: {
        afterFireBeforeMark: async () => {
          if (crashes-- > 0) throw new Error('crashed after the command, before the mark');
        },
      },
    });
    expect(await r.tick()).toEqual({ fired: 0, failed: 1 });
    expect(await flagsOf(store, transferId)).toBe(1); // the command went through
    const pending = await readTimer(client, schema, timerKeyOf(transferId));
    expect(pending).toMatchObject({
      firedAt: null,
      attempts: 1,
      lastError: expect.stringMatching(/crashed/),
    });
    // Retried after its backoff, by the clock.
    expect(pending!.nextAttemptAt.getTime()).toBeGreaterThan(clock.now().getTime());
    expect(await r.tick()).toEqual({ fired: 0, failed: 0 });
    clock.set(pending!.nextAttemptAt);
    expect(await r.tick()).toEqual({ fired: 1, failed: 0 });

    expect(fires).toEqual([timerKeyOf(transferId), timerKeyOf(transferId)]); // fired twice…
    expect(await flagsOf(store, transferId)).toBe(1); // …one event
    expect(await readTimer(client, schema, timerKeyOf(transferId))).toMatchObject({ attempts: 2 });
  });

  it(`${label}: a claim that outlives its lease is taken over by another runner, still one event`, async () => {
    const transferId = randomUUID();
    await submit(transferId, new Date(T0.getTime() + HOUR));
    const clock = new ManualClock(new Date(T0.getTime() + HOUR));
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    let firedA = 0;
    let firedB = 0;
    // Runner A issues the command, then hangs (a long GC pause, a partitioned host) before marking.
    const a = runner(clock, {
      leaseMs: 60_000,
      fire: fireOverdue(store, () => firedA++),
      hooks: { afterFireBeforeMark: () => stuck },
    });
    const b = runner(clock, { leaseMs: 60_000, fire: fireOverdue(store, () => firedB++) });
    const tickA = a.tick();
    await until('runner A to fire', async () => (await flagsOf(store, transferId)) === 1);
    expect(await b.tick()).toEqual({ fired: 0, failed: 0 }); // A's lease holds
    clock.advance(60_001);
    expect(await b.tick()).toEqual({ fired: 1, failed: 0 }); // lease expired: B fires again
    release();
    expect(await tickA).toEqual({ fired: 1, failed: 0 });
    expect([firedA, firedB]).toEqual([1, 1]);
    expect(await flagsOf(store, transferId)).toBe(1);
  });

  it(`${label}: a cancelled timer never fires`, async () => {
    const cancelled = randomUUID();
    const fired = randomUUID();
    await submit(cancelled, new Date(T0.getTime() + HOUR));
    await submit(fired, new Date(T0.getTime() + HOUR));
    expect(await client.transaction((tx) => cancelTimer(tx, schema, timerKeyOf(cancelled), T0))).toBe(true);
    expect(await client.transaction((tx) => cancelTimer(tx, schema, timerKeyOf(cancelled), T0))).toBe(false);
    const clock = new ManualClock(new Date(T0.getTime() + 2 * HOUR));
    expect(await runner(clock).tick()).toEqual({ fired: 1, failed: 0 });
    expect(await flagsOf(store, cancelled)).toBe(0);
    expect(await flagsOf(store, fired)).toBe(1);
    expect(await readTimer(client, schema, timerKeyOf(cancelled))).toMatchObject({
      cancelledAt: T0,
      firedAt: null,
    });
    // Too late to cancel a fired one.
    expect(await client.transaction((tx) => cancelTimer(tx, schema, timerKeyOf(fired)))).toBe(false);
  });

  it(`${label}: retries a failing fire with growing backoff, then gives up visibly`, async () => {
    const transferId = randomUUID();
    await submit(transferId, T0);
    const clock = new ManualClock(T0);
    const errors: Array<Timer | undefined> = [];
    const r = runner(clock, {
      fire: async () => {
        throw new Error('downstream unavailable');
      },
      retryBaseMs: 1000,
      maxAttempts: 3,
      onError: (_e, t) => errors.push(t),
    });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(await r.tick()).toEqual({ fired: 0, failed: 1 });
      const t = (await readTimer(client, schema, timerKeyOf(transferId)))!;
      expect(t).toMatchObject({ attempts: attempt, lastError: 'Error: downstream unavailable' });
      delays.push(t.nextAttemptAt.getTime() - clock.now().getTime());
      clock.set(t.nextAttemptAt);
    }
    // Equal jitter around base·2^(n-1): [500,1000], [1000,2000], [2000,4000].
    expect(delays[0]).toBeGreaterThanOrEqual(500);
    expect(delays[0]).toBeLessThanOrEqual(1000);
    expect(delays[1]).toBeGreaterThanOrEqual(1000);
    expect(delays[2]).toBeGreaterThanOrEqual(2000);
    const failed = (await readTimer(client, schema, timerKeyOf(transferId)))!;
    expect(failed.failedAt).not.toBeNull();
    clock.advance(HOUR);
    expect(await r.tick()).toEqual({ fired: 0, failed: 0 });
    expect(errors).toHaveLength(3);
    expect(await flagsOf(store, transferId)).toBe(0);
  });
}

describe('persisted timers (PGlite)', () => {
  timerSuite('PGlite', () => createPgliteClient());
});

describeWithPostgres('persisted timers (PostgreSQL)', () => {
  const db = useTestDatabase('timers');
  timerSuite('PostgreSQL', async () => createPostgresClient({ connectionString: db().url, max: 6 }));
});
