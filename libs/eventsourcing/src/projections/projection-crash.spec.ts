import { join } from 'node:path';
import { describeWithPostgres, spawnTypeScript, useTestDatabase } from '@lianfang/testing';
import { createPostgresEventStore, type SqlEventStore } from '../postgres/postgres-event-store';
import { createPostgresClient } from '../sql/postgres-client';
import type { SqlClient } from '../sql/sql-client';
import { compareLogPositions, formatLogPosition, parseLogPosition, type LogPosition } from '../store/events';
import { rebuildProjection } from './rebuild';
import {
  allEvents,
  appendMany,
  counterProjection,
  expectedCounters,
  readCounters,
  type CounterRow,
} from './test-fixtures/counter.fixture';

const fixtures = join(__dirname, 'test-fixtures');

interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

/** Runs the projection in a child process that a fault can SIGKILL (see test-fixtures/crash-child.ts). */
function runChild(env: Record<string, string>): Promise<ChildExit> {
  return new Promise((resolve, reject) => {
    const child = spawnTypeScript(join(fixtures, 'crash-child.ts'), { env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), 45_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

describeWithPostgres('projection crash safety (a child process SIGKILLed mid-batch)', () => {
  const db = useTestDatabase('projection-crash');
  let client: SqlClient;
  /** Each test has a store (and read models) in a schema of its own. */
  let store: SqlEventStore;
  let schema: string;
  let n = 0;

  beforeAll(() => {
    client = createPostgresClient({ connectionString: db().url, max: 4 });
  });
  beforeEach(async () => {
    schema = `crash_${++n}`;
    store = createPostgresEventStore({ client, schema });
    await store.start();
  });
  afterEach(async () => {
    await store.close();
  });
  afterAll(async () => {
    await client?.close();
  });

  async function checkpoint(): Promise<{ position: LogPosition; version: number } | undefined> {
    const { rows } = await client.query<{ position: string; version: number }>(
      `SELECT position, version FROM ${schema}.projection_checkpoints WHERE name = 'counter'`,
    );
    return rows[0] && { position: parseLogPosition(rows[0].position), version: Number(rows[0].version) };
  }

  /** The read model must be exactly the fold of the events up to its checkpoint: no double, no loss. */
  async function expectConsistent(): Promise<LogPosition> {
    const at = (await checkpoint())!.position;
    const upTo = (await allEvents(store)).filter((e) => compareLogPositions(e.logPosition, at) <= 0);
    expect(await readCounters(client, `${schema}.counters`)).toEqual(expectedCounters(upTo));
    return at;
  }

  function child(until: LogPosition, env: Record<string, string> = {}): Promise<ChildExit> {
    return runChild({
      DATABASE_URL: db().url,
      STORE_SCHEMA: schema,
      BATCH_SIZE: '10',
      UNTIL: formatLogPosition(until),
      ...env,
    });
  }

  async function crash(until: LogPosition, env: Record<string, string>): Promise<string> {
    const exit = await child(until, env);
    if (exit.signal !== 'SIGKILL')
      throw new Error(`the child was not killed (exit ${exit.code}):\n${exit.output}`);
    return exit.output;
  }

  async function complete(until: LogPosition, env: Record<string, string> = {}): Promise<void> {
    const exit = await child(until, env);
    if (exit.code !== 0)
      throw new Error(`the child failed (exit ${exit.code ?? exit.signal}):\n${exit.output}`);
    expect(exit.output).toMatch(/^reached/);
  }

  it('never doubles nor loses an effect, and ends equal to a rebuild from 0', async () => {
    const head = await appendMany(store, 100);
    const events = await allEvents(store);
    const batchEnd = (k: number) => events[k * 10 - 1].logPosition;

    // 1. Killed inside the transaction of its 3rd batch, half of it written: batches 1-2 stay.
    expect(await crash(head, { FAULT: 'mid-apply', FAULT_AT: '3' })).toMatch(
      /SIGKILL mid-apply after 4\/\d+ events/,
    );
    expect(await expectConsistent()).toEqual(batchEnd(2));

    // 2. Killed after the commit of its 2nd batch: batches 3-4 stay, nothing re-applied on restart.
    expect(await crash(head, { FAULT: 'after-commit', FAULT_AT: '2' })).toMatch(/SIGKILL after commit/);
    expect(await expectConsistent()).toEqual(batchEnd(4));

    // 3. Killed with read model AND checkpoint written but COMMIT not sent: neither stays.
    expect(await crash(head, { FAULT: 'before-commit', FAULT_AT: '1' })).toMatch(/SIGKILL before commit/);
    expect(await expectConsistent()).toEqual(batchEnd(4));

    // 4. More events arrive; a clean run catches up with everything and exits.
    const last = await appendMany(store, 37, 100);
    await complete(last);
    expect(await expectConsistent()).toEqual(last);

    // 5. The read model equals a rebuild from position 0 (into new tables, by the same code).
    const survived: CounterRow[] = await readCounters(client, `${schema}.counters`);
    const rebuilt = await rebuildProjection({
      client,
      store,
      projection: counterProjection(),
      batchSize: 25,
    });
    expect(rebuilt.switched).toBe(true);
    expect(await readCounters(client, `${schema}.counters`)).toEqual(survived);
    expect(survived).toEqual(expectedCounters(await allEvents(store)));
  });

  it('a blue/green rebuild killed midway resumes and switches with exactly-once effects', async () => {
    const head = await appendMany(store, 60);
    await complete(head);
    const before = await readCounters(client, `${schema}.counters`);
    expect(before).toEqual(expectedCounters(await allEvents(store)));

    // v2 rebuilds into new tables; killed after its 2nd committed batch, then in the middle of one.
    expect(await crash(head, { VERSION: '2', FAULT: 'after-commit', FAULT_AT: '2' })).toMatch(
      /after commit \(rebuild\)/,
    );
    expect(await crash(head, { VERSION: '2', FAULT: 'mid-apply', FAULT_AT: '2' })).toMatch(/mid-apply/);
    // Meanwhile the old version still serves, untouched.
    expect(await checkpoint()).toEqual({ version: 1, position: head });
    expect(await readCounters(client, `${schema}.counters`)).toEqual(before);
    const { rows } = await client.query<{ events_done: unknown }>(
      `SELECT events_done FROM ${schema}.projection_rebuilds WHERE name = 'counter'`,
    );
    expect(Number(rows[0].events_done)).toBe(30);

    await complete(head, { VERSION: '2' });
    expect(await checkpoint()).toEqual({ version: 2, position: head });
    expect(await readCounters(client, `${schema}.counters`)).toEqual(before);
    const doubled = await client.query<{ total: unknown; doubled: unknown }>(
      `SELECT total, doubled FROM ${schema}.counters`,
    );
    for (const r of doubled.rows) expect(Number(r.doubled)).toBe(2 * Number(r.total));
    expect((await client.query(`SELECT to_regclass('${schema}.counters__v1_1') AS t`)).rows).toEqual([
      { t: null },
    ]);
  });
});
