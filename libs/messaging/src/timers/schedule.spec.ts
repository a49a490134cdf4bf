import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createPgliteClient,
  createPostgresClient,
  createPostgresEventStore,
  DomainError,
  handleCommand,
  startProjection,
  type Command,
  type Decider,
  type DomainEvent,
  type ProjectionRunner,
  type RecordedEvent,
  type SqlClient,
  type SqlEventStore,
} from '@lianfang/eventsourcing';
import {
  ManualClock,
  migrateTimers,
  readTimer,
  scheduleTimer,
  timerCommandMetadata,
  TimerRunner,
  type Timer,
  type TimerRunnerOptions,
} from './timers';
import { describeWithPostgres, useTestDatabase } from '@lianfang/testing';
import { defineTimerSchedule, timerHandlers, type TimerHandler } from './schedule';

// A tiny domain: a task with a deadline that can be opened, moved and closed, and is flagged when late.
type TaskEvent =
  | DomainEvent<'TaskOpened', { taskId: string; dueAt: string }>
  | DomainEvent<'TaskMoved', { taskId: string; dueAt: string }>
  | DomainEvent<'TaskClosed', { taskId: string }>
  | DomainEvent<'TaskLate', { taskId: string; n: number }>;
type FlagLate = Command<'FlagLate', { taskId: string }>;

/** Deliberately NOT idempotent: every FlagLate appends one more TaskLate; only the commandId keeps it once. */
const lateDecider: Decider<FlagLate, TaskEvent, number> = {
  initialState: () => 0,
  evolve: (n, e) => (e.type === 'TaskLate' ? n + 1 : n),
  decide: (cmd, n) => [{ type: 'TaskLate', data: { taskId: cmd.data.taskId, n: n + 1 } }],
};
const streamOf = (taskId: string) => `task-${taskId}`;
const TARGET = 'test.task-deadline';
const T0 = new Date('2026-03-02T02:00:00.000Z');
const HOUR = 3_600_000;
const at = (hours: number) => new Date(T0.getTime() + hours * HOUR);

type Recorded = RecordedEvent<TaskEvent['type'], TaskEvent['data']>;

const scheduleFor = (schema: string, version = 1) =>
  defineTimerSchedule<Recorded>({
    name: 'task-deadlines',
    version,
    schema,
    handles: ['TaskOpened', 'TaskMoved', 'TaskClosed', 'TaskLate'],
    plan: (e) => {
      const event = { type: e.type, data: e.data } as TaskEvent;
      switch (event.type) {
        case 'TaskOpened':
        case 'TaskMoved':
          return [
            {
              schedule: {
                timerId: `task-${event.data.taskId}:due`,
                dueAt: event.data.dueAt,
                target: TARGET,
                payload: { taskId: event.data.taskId },
              },
            },
          ];
        case 'TaskClosed':
        case 'TaskLate':
          // TaskLate closes the slot too: the schedule must not cancel the very timer that fired it.
          return [{ cancel: `task-${event.data.taskId}:due` }];
      }
    },
  });

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One process's worth of objects on a database: store, schedule projection, runner. */
class Node {
  readonly runners: TimerRunner[] = [];
  projection?: ProjectionRunner;
  store!: SqlEventStore;
  constructor(
    readonly client: SqlClient,
    readonly schema: string,
  ) {}

  async start(version = 1): Promise<this> {
    this.store = createPostgresEventStore({ client: this.client, schema: this.schema });
    await this.store.start();
    await migrateTimers(this.client, this.schema);
    this.projection = await startProjection({
      client: this.client,
      store: this.store,
      projection: this.schedule(version).projection,
      idleWaitMs: 50,
      logger: { warn: () => undefined, error: () => undefined },
    });
    return this;
  }

  schedule(version = 1) {
    return scheduleFor(this.schema, version);
  }

  flag(onFire?: (t: Timer) => void): TimerHandler {
    return async (timer, context) => {
      onFire?.(timer);
      const { taskId } = timer.payload as { taskId: string };
      await handleCommand({
        store: this.store,
        decider: lateDecider,
        streamId: streamOf(taskId),
        command: {
          type: 'FlagLate',
          data: { taskId },
          metadata: timerCommandMetadata(timer, { now: context.now }),
        },
      });
    };
  }

  runner(
    clock: ManualClock,
    handlers: Record<string, TimerHandler>,
    extra: Partial<TimerRunnerOptions> = {},
  ) {
    const r = new TimerRunner({
      client: this.client,
      schema: this.schema,
      clock,
      pollMs: 60_000,
      retryBaseMs: 1000,
      fire: timerHandlers(handlers),
      ...extra,
    });
    this.runners.push(r);
    return r;
  }

  async append(taskId: string, event: TaskEvent, occurredAt = T0) {
    const result = await this.store.append({
      streams: [{ streamId: streamOf(taskId), expectedVersion: 'any', events: [event] }],
      context: { actor: { kind: 'system', name: 'test' }, occurredAt, correlationId: `corr-${taskId}` },
    });
    await this.projection!.waitFor(result.lastLogPosition, 15_000);
    return result;
  }

  async lateCount(taskId: string): Promise<number> {
    return (await this.store.readStream(streamOf(taskId))).events.filter((e) => e.type === 'TaskLate').length;
  }

  async stop(): Promise<void> {
    await Promise.all(this.runners.splice(0).map((r) => r.stop()));
    await this.projection?.stop();
    await this.store?.close();
  }
}

function suite(label: string, open: () => Promise<{ client: SqlClient; reopen?: () => Promise<SqlClient> }>) {
  let client: SqlClient;
  let reopen: (() => Promise<SqlClient>) | undefined;
  let node: Node;
  let schema: string;
  let n = 0;

  beforeAll(async () => {
    ({ client, reopen } = await open());
  });
  beforeEach(async () => {
    schema = `task_timers_${++n}`;
    node = await new Node(client, schema).start();
  });
  afterEach(async () => {
    await node.stop();
  });
  afterAll(async () => {
    await client?.close();
  });

  it(`${label}: an event schedules its timer; it fires at the due time of the injected clock, as the system actor`, async () => {
    const clock = new ManualClock(T0);
    const runner = node.runner(clock, { [TARGET]: node.flag() });
    const opened = await node.append('a', {
      type: 'TaskOpened',
      data: { taskId: 'a', dueAt: at(5).toISOString() },
    });

    const stored = await node.schedule().read(client, 'task-a:due');
    expect(stored?.slot).toMatchObject({
      target: TARGET,
      dueAt: at(5),
      cancelled: false,
      cause: opened.events[0].eventId,
    });
    expect(stored?.timer).toMatchObject({
      name: TARGET,
      dueAt: at(5),
      firedAt: null,
      causationId: opened.events[0].eventId,
    });

    clock.set(new Date(at(5).getTime() - 1));
    expect(await runner.tick()).toEqual({ fired: 0, failed: 0 });
    clock.set(at(5));
    expect(await runner.tick()).toEqual({ fired: 1, failed: 0 });
    const { events } = await node.store.readStream(streamOf('a'));
    const late = events.find((e) => e.type === 'TaskLate')!;
    expect(late.metadata.actor).toEqual({ kind: 'system', name: TARGET });
    expect(late.metadata.occurredAt).toEqual(at(5));
    expect(late.metadata.commandId).toBe(timerCommandMetadata(stored!.timer!).commandId);

    // The TaskLate the timer caused closes the slot, but does not cancel the timer that fired it.
    await node.projection!.waitFor(
      (await node.store.readStream(streamOf('a'))).events.at(-1)!.logPosition,
      15_000,
    );
    const after = await node.schedule().read(client, 'task-a:due');
    expect(after?.slot.cancelled).toBe(true);
    expect(after?.timer).toMatchObject({ cancelledAt: null });
    expect(after?.timer?.firedAt).not.toBeNull();
    clock.advance(HOUR);
    expect(await runner.tick()).toEqual({ fired: 0, failed: 0 });
    expect(await node.lateCount('a')).toBe(1);
  });

  it(`${label}: a closing event cancels the timer: it never fires`, async () => {
    const clock = new ManualClock(T0);
    const runner = node.runner(clock, { [TARGET]: node.flag() });
    await node.append('b', { type: 'TaskOpened', data: { taskId: 'b', dueAt: at(1).toISOString() } });
    await node.append('b', { type: 'TaskClosed', data: { taskId: 'b' } });
    clock.set(at(48));
    expect(await runner.tick()).toEqual({ fired: 0, failed: 0 });
    expect(await node.lateCount('b')).toBe(0);
    const { timer } = (await node.schedule().read(client, 'task-b:due'))!;
    expect(timer?.cancelledAt).not.toBeNull();
    expect(await node.schedule().open(client)).toEqual([]);
  });

  it(`${label}: scheduling the same timer again moves it: the old generation is cancelled`, async () => {
    const clock = new ManualClock(T0);
    const runner = node.runner(clock, { [TARGET]: node.flag() });
    await node.append('c', { type: 'TaskOpened', data: { taskId: 'c', dueAt: at(2).toISOString() } });
    const first = (await node.schedule().read(client, 'task-c:due'))!;
    await node.append('c', { type: 'TaskMoved', data: { taskId: 'c', dueAt: at(10).toISOString() } });
    const moved = (await node.schedule().read(client, 'task-c:due'))!;
    expect(moved.slot.timerKey).not.toBe(first.slot.timerKey);
    expect(moved.slot.dueAt).toEqual(at(10));

    clock.set(at(3));
    expect(await runner.tick()).toEqual({ fired: 0, failed: 0 });
    clock.set(at(10));
    expect(await runner.tick()).toEqual({ fired: 1, failed: 0 });
    expect(await node.lateCount('c')).toBe(1);
  });

  it(`${label}: a failing handler is retried with backoff and the error recorded, then fires once`, async () => {
    const clock = new ManualClock(T0);
    let failures = 2;
    const flag = node.flag();
    const runner = node.runner(clock, {
      [TARGET]: async (timer, context) => {
        if (failures-- > 0) throw new Error('the database blinked');
        await flag(timer, context);
      },
    });
    await node.append('d', { type: 'TaskOpened', data: { taskId: 'd', dueAt: at(1).toISOString() } });
    clock.set(at(1));
    expect(await runner.tick()).toEqual({ fired: 0, failed: 1 });
    const failed = (await node.schedule().read(client, 'task-d:due'))!.timer!;
    expect(failed).toMatchObject({ attempts: 1, firedAt: null, lastError: 'Error: the database blinked' });
    expect(failed.nextAttemptAt.getTime()).toBeGreaterThan(at(1).getTime());
    // Not before the backoff.
    expect(await runner.tick()).toEqual({ fired: 0, failed: 0 });
    clock.advance(HOUR);
    expect(await runner.tick()).toEqual({ fired: 0, failed: 1 });
    clock.advance(HOUR);
    expect(await runner.tick()).toEqual({ fired: 1, failed: 0 });
    expect(await node.lateCount('d')).toBe(1);
  });

  it(`${label}: a DomainError settles the timer; a target without a handler is retried, not dropped`, async () => {
    const clock = new ManualClock(T0);
    const refused: string[] = [];
    const runner = new TimerRunner({
      client,
      schema,
      clock,
      pollMs: 60_000,
      fire: timerHandlers(
        {
          [TARGET]: () =>
            Promise.reject(new DomainError({ code: 'task.closed', message: { zh: '已关闭', en: 'closed' } })),
        },
        { onSettledByRefusal: (t) => refused.push(t.key) },
      ),
    });
    node.runners.push(runner);
    await node.append('e', { type: 'TaskOpened', data: { taskId: 'e', dueAt: at(1).toISOString() } });
    await node.store.client.transaction(async (tx) => {
      await scheduleTimer(tx, schema, { key: 'orphan', name: 'test.unknown-target', dueAt: at(1) });
    });
    clock.set(at(1));
    expect(await runner.tick()).toEqual({ fired: 1, failed: 1 });
    expect(refused).toHaveLength(1);
    expect(await readTimer(client, schema, 'orphan')).toMatchObject({
      firedAt: null,
      lastError: expect.stringContaining('no handler for timer target "test.unknown-target"'),
    });
  });

  it(`${label}: a rebuild of the schedule replays the log without firing or reviving anything`, async () => {
    const clock = new ManualClock(T0);
    const runner = node.runner(clock, { [TARGET]: node.flag() });
    await node.append('f', { type: 'TaskOpened', data: { taskId: 'f', dueAt: at(1).toISOString() } });
    await node.append('g', { type: 'TaskOpened', data: { taskId: 'g', dueAt: at(2).toISOString() } });
    await node.append('g', { type: 'TaskClosed', data: { taskId: 'g' } });
    await node.append('h', { type: 'TaskOpened', data: { taskId: 'h', dueAt: at(5).toISOString() } });
    clock.set(at(1));
    expect(await runner.tick()).toEqual({ fired: 1, failed: 0 });
    await node.stop();

    // Version 2: rebuilt from the start of the log into new tables.
    node = await new Node(client, schema).start(2);
    await until('the rebuild', async () => node.projection!.status().servingVersion === 2);
    const again = node.runner(clock, { [TARGET]: node.flag() });
    clock.set(at(4));
    expect(await again.tick()).toEqual({ fired: 0, failed: 0 });
    clock.set(at(5));
    expect(await again.tick()).toEqual({ fired: 1, failed: 0 });
    expect([await node.lateCount('f'), await node.lateCount('g'), await node.lateCount('h')]).toEqual([
      1, 0, 1,
    ]);
  });

  it(`${label}: restarted between scheduling and firing (new client, store and runner), it fires once`, async () => {
    await node.append('r', { type: 'TaskOpened', data: { taskId: 'r', dueAt: at(3).toISOString() } });
    await node.stop();
    await client.close();

    client = await reopen!();
    node = await new Node(client, schema).start();
    const clock = new ManualClock(at(3));
    expect(await node.runner(clock, { [TARGET]: node.flag() }).tick()).toEqual({ fired: 1, failed: 0 });
    expect(await node.runner(clock, { [TARGET]: node.flag() }).tick()).toEqual({ fired: 0, failed: 0 });
    expect(await node.lateCount('r')).toBe(1);
  });
}

describe('timers scheduled from events (PGlite, file-backed)', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  suite('PGlite (file)', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lianfang-timer-schedule-'));
    const open = () => createPgliteClient({ dataDir: path.join(dir, 'db') });
    return { client: await open(), reopen: open };
  });
});

describeWithPostgres('timers scheduled from events (PostgreSQL)', () => {
  const db = useTestDatabase('timer_schedule');
  const open = () => createPostgresClient({ connectionString: db().url, max: 6 });
  suite('PostgreSQL', async () => ({ client: await open(), reopen: async () => open() }));

  describe('two runners', () => {
    let client: SqlClient;
    let other: SqlClient;
    let node: Node;
    beforeAll(async () => {
      client = await open();
      other = await open();
      node = await new Node(client, 'task_timers_race').start();
    });
    afterAll(async () => {
      await node.stop();
      await client.close();
      await other.close();
    });

    it('PostgreSQL: two runners on two pools, racing over the same due timers, fire each once', async () => {
      const ids = Array.from({ length: 12 }, (_, i) => `race-${i}`);
      for (const id of ids)
        await node.append(id, { type: 'TaskOpened', data: { taskId: id, dueAt: at(1).toISOString() } });
      const clock = new ManualClock(at(1));
      const fired: string[] = [];
      const second = new Node(other, 'task_timers_race');
      second.store = createPostgresEventStore({ client: other, schema: 'task_timers_race' });
      await second.store.start();
      const a = node.runner(clock, { [TARGET]: node.flag((t) => fired.push(t.key)) }, { batchSize: 3 });
      const b = second.runner(clock, { [TARGET]: second.flag((t) => fired.push(t.key)) }, { batchSize: 3 });
      const [ra, rb] = await Promise.all([a.tick(), b.tick()]);
      expect(ra.fired + rb.fired).toBe(ids.length);
      expect(new Set(fired).size).toBe(ids.length);
      expect(fired).toHaveLength(ids.length);
      for (const id of ids) expect(await node.lateCount(id)).toBe(1);
      await second.stop();
    });
  });
});
