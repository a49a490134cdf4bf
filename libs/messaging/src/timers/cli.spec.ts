import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { promisify } from 'node:util';
import {
  createPostgresClient,
  createPostgresEventStore,
  type PostgresSqlClient,
  type SqlEventStore,
} from '@lianfang/eventsourcing';
import { describeWithPostgres, useTestDatabase } from '@lianfang/testing';
import { runTimersCli } from './cli';
import { fireOverdue, flagsOf, submitWithDeadline, timerKeyOf } from './test-fixtures/deadline.fixture';
import {
  listFailingTimers,
  ManualClock,
  migrateTimers,
  readTimer,
  retryTimer,
  showTimer,
  TimerOperationError,
  TimerRunner,
  timerId,
  type Timer,
} from './timers';

const root = path.resolve(__dirname, '../../../..');
const T0 = new Date('2025-03-03T08:00:00.000Z');
const HOUR = 3_600_000;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describeWithPostgres("npm run timers (real PostgreSQL, the service's timer runner)", () => {
  const db = useTestDatabase('timers_cli');
  const schema = 'cli_timers';
  let client: PostgresSqlClient;
  let store: SqlEventStore;
  // The service's clock: the CLI's retry takes "now" from it, so the runner finds the timer due.
  const clock = new ManualClock(T0);
  let broken = true;
  const fired: string[] = [];
  let runner: TimerRunner;

  // The service's runner: its handler throws while `broken`, then issues the idempotent command.
  const newRunner = () =>
    new TimerRunner({
      client,
      schema,
      clock,
      pollMs: 50,
      retryBaseMs: 1000,
      maxAttempts: 3,
      fire: async (timer: Timer) => {
        if (broken) throw new Error('receiver licence not found: 510100-HW08');
        fired.push(timer.key);
        await fireOverdue(store)(timer);
      },
    });

  const failing = randomUUID(); // fails once, still retried by the runner
  const givenUp = randomUUID(); // fails maxAttempts times
  const pending = randomUUID(); // due tomorrow: never attempted
  const lateRetry = randomUUID(); // retried while the runner is stopped

  async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runTimersCli(argv, {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      env: { USER: 'cli-user' },
      client,
      clock,
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  const read = async (transferId: string) => (await readTimer(client, schema, timerKeyOf(transferId)))!;
  const idOf = (transferId: string) => timerId(timerKeyOf(transferId));

  beforeAll(async () => {
    client = createPostgresClient({ pool: db().pool({ max: 4 }) });
    store = createPostgresEventStore({ client, schema: 'cli_store' });
    await store.start();
    await migrateTimers(client, schema);
    for (const id of [givenUp, lateRetry])
      await submitWithDeadline(store, schema, { transferId: id, now: T0, dueAt: T0 });
    runner = newRunner();
    // Three failed rounds give up the two timers due at T0 (maxAttempts 3).
    for (let round = 1; round <= 3; round++) {
      expect(await runner.tick()).toEqual({ fired: 0, failed: 2 });
      clock.advance(HOUR);
    }
    await submitWithDeadline(store, schema, { transferId: failing, now: clock.now(), dueAt: clock.now() });
    await submitWithDeadline(store, schema, {
      transferId: pending,
      now: clock.now(),
      dueAt: new Date(clock.now().getTime() + 24 * HOUR),
    });
    expect(await runner.tick()).toEqual({ fired: 0, failed: 1 });
  });
  afterAll(async () => {
    await runner?.stop();
    await store?.close();
    await client?.close();
  });

  it('lists given-up timers, then failing ones with their error and next attempt', async () => {
    const r = await cli('list', '--service', schema);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`失败的定时器 / Failing and given-up timers in "${schema}": 3`);
    const lines = r.out.split('\n');
    expect(lines[1]).toMatch(
      /^ID\s+状态 State\s+规则 Rule\s+键 Key\s+到期 Due\s+次数 Att\.\s+下次 Next attempt\s+错误 Error$/,
    );
    const rows = lines.slice(3, 6);
    const given = rows.filter((l) => l.includes('已放弃 given-up'));
    expect(given.map((l) => l.split(/\s+/)[0]).sort()).toEqual([idOf(givenUp), idOf(lateRetry)].sort());
    for (const l of given) {
      expect(l).toMatch(
        /已放弃 given-up\s+transfer\.receipt-deadline\s+transfer-.*\s+3\s+— \(never by itself/,
      );
      expect(l).toContain('Error: receiver licence not found: 510100-HW08');
    }
    const next = (await read(failing)).nextAttemptAt;
    expect(rows[2]).toMatch(new RegExp(`^${idOf(failing)}\\s+重试中 failing\\s+transfer\\.receipt-deadline`));
    expect(rows[2]).toMatch(
      new RegExp(
        `\\s1\\s+${next
          .toISOString()
          .replace('T', ' ')
          .replace(/\.\d+Z$/, 'Z')}\\s`,
      ),
    );
    expect(rows[2]).toContain('Error: receiver licence not found: 510100-HW08');
    expect(r.out).not.toContain(idOf(pending));
    expect(r.out).toContain(`npm run -s timers -- retry <id> --reason "…" --service ${schema}`);

    const only = await cli('list', '--failed-only', '--service', schema);
    expect(only.out).toContain(`已放弃的定时器 / Given-up timers in "${schema}": 2`);
    expect(only.out).not.toContain(idOf(failing));
    expect((await listFailingTimers(client, schema, { givenUpOnly: true })).map((t) => t.state)).toEqual([
      'given-up',
      'given-up',
    ]);
  });

  it('shows one timer by id or key: state, attempts, last error, what to do', async () => {
    const r = await cli('show', idOf(givenUp), '--service', schema);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`定时器 / Timer ${idOf(givenUp)}`);
    expect(r.out).toContain('状态 / State:         已放弃 given-up');
    expect(r.out).toContain('尝试 / Attempts:      3');
    expect(r.out).toMatch(/放弃 \/ Given up at: {3}2025-03-03 10:00:00Z \(never fired again/);
    expect(r.out).toMatch(/错误 \/ Last error:\n {2}Error: receiver licence not found: 510100-HW08/);
    expect(r.out).toContain(`"transferId": "${givenUp}"`);
    expect(r.out).toContain(`retry ${idOf(givenUp)} --reason "…" --service ${schema}`);

    const byKey = await cli('show', timerKeyOf(failing), '--service', schema);
    expect(byKey.out).toContain('状态 / State:         重试中 failing');
    expect(byKey.out).toContain('the service retries it by itself');
  });

  it('refuses to retry what is not given up, and tells the user what to do', async () => {
    let r = await cli('retry', idOf(pending), '--reason', 'impatient', '--service', schema);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `timer ${idOf(pending)} is not given up: it is pending, due at 2025-03-04T11:00:00.000Z`,
    );
    expect(r.err).toContain('the service fires it when it is due');

    r = await cli('retry', idOf(failing), '--reason', 'impatient', '--service', schema);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      'is not given up: it is failing (1 attempts, last error: Error: receiver licence',
    );
    expect(r.err).toContain(`\`npm run -s timers -- show ${idOf(failing)} --service ${schema}\``);
    // Nothing changed.
    expect(await read(pending)).toMatchObject({
      attempts: 0,
      failedAt: null,
      dueAt: new Date(T0.getTime() + 27 * HOUR),
    });
    expect((await showTimer(client, schema, idOf(failing)))?.retriedAt).toBeNull();
    await expect(
      retryTimer(client, schema, idOf(pending), { by: 'x', reason: 'y', at: clock.now() }),
    ).rejects.toMatchObject({ code: 'not-given-up' });
    await expect(
      retryTimer(client, schema, idOf(givenUp), { by: 'x', reason: ' ', at: clock.now() }),
    ).rejects.toBeInstanceOf(TimerOperationError);

    r = await cli('retry', idOf(givenUp), '--service', schema);
    expect(r.code).toBe(1);
    expect(r.err).toContain('retry needs --reason');

    r = await cli('show', randomUUID(), '--service', schema);
    expect(r.code).toBe(1);
    expect(r.err).toContain('no timer');
    expect(r.err).toContain(`run \`npm run -s timers -- list --service ${schema}\``);

    r = await cli('list');
    expect(r.code).toBe(1);
    expect(r.err).toContain('add --service <schema>');

    r = await cli('list', '--service', 'nope');
    expect(r.code).toBe(1);
    expect(r.err).toContain('schema "nope" has no timers table');
    expect(r.err).toContain(`schemas with timers / 有定时器的 schema: ${schema}; pass one as --service`);

    r = await cli('fire', '--service', schema);
    expect(r.code).toBe(1);
    expect(r.err).toContain('unknown command "fire"');
    expect(r.err).toContain('用法 / Usage');

    const offline = await runTimersCli(['list', '--service', schema], {
      out: () => undefined,
      err: (l) => (r.err = l),
      env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' },
    });
    expect(offline).toBe(1);
    expect(r.err).toContain('is PostgreSQL running?');
  });

  it('retry: the running service fires the given-up timer again with its own handler', async () => {
    broken = false;
    await runner.start();
    const r = await cli(
      'retry',
      idOf(givenUp),
      '--service',
      schema,
      '--by',
      'operator-zhao',
      '--reason',
      'licence data fixed',
      '--wait',
      '30',
    );
    expect(r.out).toContain(
      `已请求重试 / Retry requested: timer ${idOf(givenUp)} (transfer.receipt-deadline)`,
    );
    expect(r.out).toContain('结果 / Result: 已触发 / fired at');
    expect(r.code).toBe(0);
    expect(fired).toContain(timerKeyOf(givenUp));
    expect(await flagsOf(store, givenUp)).toBe(1);
    const shown = await cli('show', idOf(givenUp), '--service', schema);
    expect(shown.out).toContain('状态 / State:         已触发 fired');
    expect(shown.out).toMatch(
      /人工重试 \/ Retried: {3}at 2025-03-03 \d\d:\d\d:\d\dZ by operator-zhao \(licence data fixed\)/,
    );
    // The failing one was due again meanwhile? Not by this clock: it stays failing, the other given up.
    const list = await cli('list', '--failed-only', '--service', schema);
    expect(list.out).toContain('Given-up timers in "cli_timers": 1');
    expect(list.out).toContain(idOf(lateRetry));
  });

  it('says so when the service does not fire it in time (exit 2); the runner fires it when it runs', async () => {
    await runner.stop();
    let r = await cli(
      'retry',
      idOf(lateRetry),
      '--reason',
      'retry after the fix',
      '--service',
      schema,
      '--wait',
      '0',
    );
    expect(r.code).toBe(2);
    expect(r.out).toContain('尚未触发 / not fired yet: is the service (its timer runner) running?');
    // Due now by the service's clock (its backoff had pushed it later), failed_at cleared, attempts kept.
    expect(await read(lateRetry)).toMatchObject({ nextAttemptAt: clock.now(), failedAt: null, attempts: 3 });
    r = await cli('show', idOf(lateRetry), '--service', schema);
    expect(r.out).toContain('状态 / State:         重试中 failing');
    expect(r.out).toContain('by cli-user (retry after the fix)');

    runner = newRunner();
    await runner.start();
    await until('the retried timer fired', async () => (await read(lateRetry)).firedAt !== null);
    expect(await flagsOf(store, lateRetry)).toBe(1);
  });

  it('gives up again at once when the retried attempt fails (exit 1, with the error)', async () => {
    await runner.stop();
    broken = true;
    const again = randomUUID();
    await submitWithDeadline(store, schema, { transferId: again, now: clock.now(), dueAt: clock.now() });
    // `failing` is due in these rounds too: its attempts 2 and 3 fail, and it gives up as well.
    for (let round = 1; round <= 3; round++) {
      expect((await runner.tick()).fired).toBe(0);
      clock.advance(HOUR);
    }
    expect((await read(failing)).failedAt).not.toBeNull();
    expect((await read(again)).failedAt).not.toBeNull();
    await runner.start();
    const r = await cli(
      'retry',
      timerKeyOf(again),
      '--reason',
      'try once more',
      '--service',
      schema,
      '--wait',
      '30',
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      '再次失败，已放弃 / failed again and given up: Error: receiver licence not found',
    );
    expect(await read(again)).toMatchObject({ attempts: 4 });
    expect((await read(again)).failedAt).not.toBeNull();
  });

  it('runs as `npm run timers` (tools/timers.ts) with DATABASE_URL', async () => {
    const run = promisify(execFile);
    const tool = (...args: string[]) =>
      run(
        process.execPath,
        ['-r', path.join(root, 'tools/register-ts.cjs'), path.join(root, 'tools/timers.ts'), ...args],
        {
          cwd: root,
          env: { ...process.env, DATABASE_URL: db().url },
          timeout: 60_000,
        },
      );
    const { stdout } = await tool('list', '--service', schema);
    expect(stdout).toContain(`Failing and given-up timers in "${schema}": 2`);
    expect(stdout).toContain(idOf(failing));
    const failed = await tool('retry', idOf(pending), '--reason', 'x', '--service', schema).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('is not given up: it is pending'),
    });
  });
});
