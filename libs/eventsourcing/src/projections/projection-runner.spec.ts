import { describeWithPostgres, useTestDatabase } from '@lianfang/testing';
import { createPostgresEventStore, type SqlEventStore } from '../postgres/postgres-event-store';
import { createPgliteClient } from '../sql/pglite-client';
import { createPostgresClient } from '../sql/postgres-client';
import type { SqlClient } from '../sql/sql-client';
import { compareLogPositions, LOG_START, type RecordedEvent } from '../store/events';
import type { BatchInfo } from './batch';
import { ProjectionRunner, ProjectionWaitTimeoutError, startProjection } from './projection-runner';
import { rebuildProjection, type RebuildProgress } from './rebuild';
import { rebuildProjectionCli } from './rebuild-cli';
import {
  allEvents,
  appendCounted,
  appendMany,
  COUNTED,
  counterProjection,
  expectedCounters,
  readCounters,
  type CounterOptions,
} from './test-fixtures/counter.fixture';

interface Env {
  readonly client: SqlClient;
  /** A fresh store in a schema of its own: each test has its own log and read models. */
  store(): Promise<SqlEventStore>;
}

let schemas = 0;

function gate() {
  let open!: () => void;
  let arrive!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const arrived = new Promise<void>((r) => (arrive = r));
  return { open, opened, arrive, arrived };
}

async function tableExists(client: SqlClient, name: string): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [name]);
  return rows[0].ok;
}

function runnerSuite(env: () => Env): void {
  let store: SqlEventStore;
  let s: string;
  const runners: ProjectionRunner[] = [];
  const run = async (
    options: CounterOptions = {},
    extra: Partial<ConstructorParameters<typeof ProjectionRunner>[0]> = {},
  ) => {
    const runner = await startProjection({
      client: env().client,
      store,
      projection: counterProjection(options),
      idleWaitMs: 50,
      logger: process.env.DEBUG_PROJ ? console : { warn: () => undefined, error: () => undefined },
      ...extra,
    });
    runners.push(runner);
    return runner;
  };

  beforeEach(async () => {
    store = await env().store();
    s = store.schema;
  });
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop()));
    await store.close();
  });

  it('applies only the event types it handles, and moves its checkpoint past the others', async () => {
    const last = await appendMany(store, 40);
    const seen: string[] = [];
    const runner = await run({ beforeBatch: (events) => void seen.push(...events.map((e) => e.type)) });
    await runner.waitFor(last, 10_000);

    expect(new Set(seen)).toEqual(new Set([COUNTED]));
    const events = await allEvents(store);
    expect(seen).toHaveLength(events.filter((e) => e.type === COUNTED).length);
    expect(await readCounters(env().client, `${s}.counters`)).toEqual(expectedCounters(events));
    const status = runner.status();
    expect(status.checkpoint).toEqual(last);
    expect(status.eventsApplied).toBe(seen.length);
    const { rows } = await env().client.query<{ position: string; version: number; active_tables: unknown }>(
      `SELECT position, version, active_tables FROM ${s}.projection_checkpoints WHERE name = 'counter'`,
    );
    expect(rows).toEqual([
      {
        position: `${last.commit}:${last.position}`,
        version: 1,
        active_tables: { counters: 'counters__v1_1' },
      },
    ]);
  });

  it('resumes from its checkpoint after a restart: nothing applied twice, nothing lost', async () => {
    const first = await appendMany(store, 30);
    const controller = new AbortController();
    const r1 = await run({}, { signal: controller.signal });
    await r1.waitFor(first, 10_000);
    controller.abort();
    await r1.done;
    expect(r1.status().state).toBe('stopped');

    const last = await appendMany(store, 25, 30);
    const seen: RecordedEvent[] = [];
    const r2 = await run({ beforeBatch: (events) => void seen.push(...events) });
    expect(r2.status().checkpoint).toEqual(first);
    await r2.waitFor(last, 10_000);

    expect(seen.every((e) => compareLogPositions(e.logPosition, first) > 0)).toBe(true);
    expect(await readCounters(env().client, `${s}.counters`)).toEqual(
      expectedCounters(await allEvents(store)),
    );
  });

  it('follows live appends; waitFor gives read-your-writes and times out when the position never comes', async () => {
    // A long idle poll and no LISTEN: only waitFor can wake it up in time.
    const runner = await run({}, { idleWaitMs: 60_000, notifyChannel: false });
    await runner.waitFor(LOG_START, 1000);
    for (let i = 1; i <= 3; i++) {
      const result = await appendCounted(store, 'live', [{ type: COUNTED, n: i }]);
      await runner.waitFor(result.lastLogPosition, 5000);
      expect(await readCounters(env().client, `${s}.counters`)).toEqual([
        { stream_id: 'live', count: i, total: (i * (i + 1)) / 2 },
      ]);
    }
    const far = { commit: 1n << 60n, position: 1n };
    await expect(runner.waitFor(far, 200)).rejects.toBeInstanceOf(ProjectionWaitTimeoutError);
  });

  it('wakes up on the store notification when live', async () => {
    const runner = await run({}, { idleWaitMs: 60_000 });
    await runner.waitFor(LOG_START, 1000);
    const result = await appendCounted(store, 'n', [{ type: COUNTED, n: 5 }]);
    const deadline = Date.now() + 5000;
    while (
      compareLogPositions(runner.status().checkpoint!, result.lastLogPosition) < 0 &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(runner.status().checkpoint).toEqual(result.lastLogPosition);
  });

  it('reports lag in events and time while catching up, and none once caught up', async () => {
    const last = await appendMany(store, 50);
    await new Promise((r) => setTimeout(r, 60));
    const g = gate();
    let batches = 0;
    const runner = await run(
      {},
      {
        batchSize: 10,
        hooks: {
          afterCommit: async () => {
            if (++batches !== 2) return;
            g.arrive();
            await g.opened;
          },
        },
      },
    );
    await g.arrived;
    const behind = runner.status();
    expect(behind.caughtUp).toBe(false);
    expect(behind.state).toBe('catching-up');
    expect(behind.lagEvents).toBe(40); // estimated after the first batch
    expect(behind.lagMs).toBeGreaterThanOrEqual(50);
    expect(behind.lastAppliedAt).toBeInstanceOf(Date);
    g.open();
    await runner.waitFor(last, 10_000);
    await new Promise((r) => setTimeout(r, 100));
    const live = runner.status();
    expect(live).toMatchObject({ caughtUp: true, state: 'live', lagEvents: 0, lagMs: 0, checkpoint: last });
  });

  it('rebuilds blue/green on a version bump: the old table serves until the switch, then is dropped', async () => {
    const first = await appendMany(store, 30);
    const v1 = await run({ version: 1 });
    await v1.waitFor(first, 10_000);
    await v1.stop();
    const servedByV1 = await readCounters(env().client, `${s}.counters`);
    const last = await appendMany(store, 30, 30);

    const g = gate();
    const progress: RebuildProgress[] = [];
    const v2 = await run(
      { version: 2, doubled: true },
      {
        batchSize: 10,
        onRebuildProgress: (p) => progress.push(p),
        hooks: {
          afterCommit: async (info: BatchInfo) => {
            if (info.slot !== 'rebuild' || info.from !== LOG_START) return;
            g.arrive();
            await g.opened;
          },
        },
      },
    );
    await g.arrived;
    // Mid-rebuild: the new table exists and fills; queries still read v1 through the view.
    expect(v2.status()).toMatchObject({ state: 'rebuilding', checkpoint: first, caughtUp: false });
    expect(await tableExists(env().client, `${s}.counters__v2_2`)).toBe(true);
    expect(await readCounters(env().client, `${s}.counters`)).toEqual(servedByV1);
    const during = await env().client.query(`SELECT * FROM ${s}.counters LIMIT 1`);
    expect(Object.keys(during.rows[0])).not.toContain('doubled');
    await expect(v2.waitFor(last, 100)).rejects.toBeInstanceOf(ProjectionWaitTimeoutError);

    g.open();
    await v2.waitFor(last, 10_000);
    const events = await allEvents(store);
    expect(await readCounters(env().client, `${s}.counters`)).toEqual(expectedCounters(events));
    const after = await env().client.query<{ stream_id: string; total: unknown; doubled: unknown }>(
      `SELECT stream_id, total, doubled FROM ${s}.counters`,
    );
    for (const r of after.rows) expect(Number(r.doubled)).toBe(2 * Number(r.total));
    expect(await tableExists(env().client, `${s}.counters__v1_1`)).toBe(false);
    const { rows } = await env().client.query<Record<string, unknown>>(
      `SELECT version, generation, active_tables, retired_tables FROM ${s}.projection_checkpoints WHERE name = 'counter'`,
    );
    expect(rows).toEqual([
      { version: 2, generation: 2, active_tables: { counters: 'counters__v2_2' }, retired_tables: [] },
    ]);
    expect((await env().client.query(`SELECT * FROM ${s}.projection_rebuilds`)).rows).toEqual([]);
    expect(progress[0]).toMatchObject({ phase: 'starting', eventsDone: 0, totalEstimate: 60 });
    expect(progress[progress.length - 1]).toMatchObject({ phase: 'switched', eventsDone: 60 });
    expect(v2.status()).toMatchObject({
      state: 'live',
      version: 2,
      tables: { counters: `${s}.counters__v2_2` },
    });

    // The old code, started again, finds a newer version and stays away from its tables.
    const stale = await run({ version: 1 });
    expect(stale.status().state).toBe('superseded');
    await stale.done;
  });

  it('a rebuild of the same version switches under a running runner, which follows the new tables', async () => {
    const first = await appendMany(store, 20);
    const runner = await run();
    await runner.waitFor(first, 10_000);
    const lines: string[] = [];
    const result = await rebuildProjectionCli({
      client: env().client,
      store,
      projection: counterProjection(),
      batchSize: 7,
      progressIntervalMs: 0,
      handleSignals: false,
      out: { write: (t: string) => lines.push(t) },
    });
    expect(result.switched).toBe(true);
    expect(result.dropped).toEqual(['counters__v1_1']);
    expect(lines[0]).toMatch(/^\[rebuild counter v1#2\] starting from the beginning of the log, ~20 events/);
    expect(lines.some((l) => /building \d+\/~20 events/.test(l))).toBe(true);
    expect(lines).toContainEqual(expect.stringMatching(/switched: 20 events, 14 applied/));
    expect(lines[lines.length - 1]).toBe('[rebuild counter] dropped counters__v1_1\n');

    const last = await appendMany(store, 20, 20);
    await runner.waitFor(last, 10_000);
    expect(runner.status().tables).toEqual({ counters: `${s}.counters__v1_2` });
    expect(await readCounters(env().client, `${s}.counters`)).toEqual(
      expectedCounters(await allEvents(store)),
    );
  });

  it('an interrupted rebuild resumes where it stopped', async () => {
    await appendMany(store, 40);
    const runner = await run();
    await runner.waitFor((await allEvents(store)).at(-1)!.logPosition, 10_000);
    await runner.stop();

    const controller = new AbortController();
    const stopped = await rebuildProjection({
      client: env().client,
      store,
      projection: counterProjection(),
      batchSize: 10,
      signal: controller.signal,
      hooks: { afterCommit: (info) => void (info.to && controller.abort()) },
    });
    expect(stopped).toMatchObject({ switched: false, progress: { phase: 'aborted', eventsDone: 10 } });
    const { rows } = await env().client.query(`SELECT generation, events_done FROM ${s}.projection_rebuilds`);
    expect(rows.map((r) => ({ generation: Number(r.generation), done: Number(r.events_done) }))).toEqual([
      { generation: 2, done: 10 },
    ]);

    const resumed = await rebuildProjection({
      client: env().client,
      store,
      projection: counterProjection(),
      batchSize: 10,
    });
    expect(resumed).toMatchObject({
      switched: true,
      progress: { resumed: true, eventsDone: 40, generation: 2 },
    });
    expect(await readCounters(env().client, `${s}.counters`)).toEqual(
      expectedCounters(await allEvents(store)),
    );
  });

  it('retries a failing batch, shows the error meanwhile, and applies the batch once when it passes', async () => {
    const last = await appendMany(store, 20);
    let failing = true;
    const runner = await run(
      {
        beforeBatch: () => {
          if (failing) throw new Error('read model unavailable');
        },
      },
      { retry: { initialMs: 5, maxMs: 20 } },
    );
    const deadline = Date.now() + 5000;
    while (runner.status().lastError === undefined && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    expect(runner.status()).toMatchObject({
      lastError: 'read model unavailable',
      caughtUp: false,
      checkpoint: LOG_START,
    });
    failing = false;
    await runner.waitFor(last, 10_000);
    expect(runner.status().lastError).toBeUndefined();
    expect(await readCounters(env().client, `${s}.counters`)).toEqual(
      expectedCounters(await allEvents(store)),
    );
  });

  it('two runners on one projection never both apply a batch', async () => {
    const last = await appendMany(store, 120);
    const a = await run({}, { batchSize: 7 });
    const b = await run({}, { batchSize: 5 });
    await Promise.all([a.waitFor(last, 20_000), b.waitFor(last, 20_000)]);
    expect(await readCounters(env().client, `${s}.counters`)).toEqual(
      expectedCounters(await allEvents(store)),
    );
    expect(a.status().eventsApplied + b.status().eventsApplied).toBe(80);
  });
}

describeWithPostgres('ProjectionRunner on PostgreSQL', () => {
  const db = useTestDatabase('projections');
  let client: SqlClient;
  beforeAll(() => {
    client = createPostgresClient({ connectionString: db().url, max: 6 });
  });
  afterAll(async () => {
    await client.close();
  });
  runnerSuite(() => ({
    client,
    async store() {
      const store = createPostgresEventStore({ client, schema: `p${++schemas}` });
      await store.start();
      return store;
    },
  }));
});

describe('ProjectionRunner on PGlite', () => {
  let client: SqlClient;
  beforeAll(async () => {
    client = await createPgliteClient({ memory: true });
  });
  afterAll(async () => {
    await client.close();
  });
  runnerSuite(() => ({
    client,
    async store() {
      const store = createPostgresEventStore({ client, schema: `g${++schemas}` });
      await store.start();
      return store;
    },
  }));
});
