import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  createPostgresClient,
  createPostgresEventStore,
  type SqlClient,
  type SqlEventStore,
} from '@lianfang/eventsourcing';
import { describeWithPostgres, spawnTypeScript, useTestDatabase } from '@lianfang/testing';
import { readTimer } from './timers';
import { flagsOf, streamOf, timerKeyOf } from './test-fixtures/deadline.fixture';

const child = join(__dirname, 'test-fixtures', 'timer-child.ts');

interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

/**
 * Runs the timer service in a child process. With `killOn`, the TEST kills it with SIGKILL as soon as
 * that line appears (a real crash: no cleanup, connections die with the process).
 */
function runChild(env: Record<string, string>, killOn?: RegExp): Promise<ChildExit> {
  return new Promise((resolve, reject) => {
    const proc = spawnTypeScript(child, { env: { ...process.env, ...env } });
    let output = '';
    const onData = (d: Buffer) => {
      output += d.toString();
      if (killOn?.test(output) && proc.exitCode === null) proc.kill('SIGKILL');
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 50_000);
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

describeWithPostgres('a timer survives a killed process and fires once after the restart', () => {
  const db = useTestDatabase('timers-restart');
  let client: SqlClient;
  let store: SqlEventStore;
  const schema = 'timers_restart';

  beforeAll(async () => {
    client = createPostgresClient({ connectionString: db().url, max: 3 });
    store = createPostgresEventStore({ client, schema });
    await store.start();
  });
  afterAll(async () => {
    await store?.close();
    await client?.close();
  });

  it('scheduled, SIGKILLed, restarted past its due time (and killed again after firing): one event', async () => {
    const transferId = randomUUID();
    const t0 = new Date('2025-03-03T08:00:00.000Z');
    const dueAt = new Date(t0.getTime() + 3_600_000);
    const leaseMs = 60_000;
    const base = {
      DATABASE_URL: db().url,
      STORE_SCHEMA: schema,
      TIMERS_SCHEMA: schema,
      TRANSFER_ID: transferId,
      LEASE_MS: String(leaseMs),
    };

    // 1. The service submits the transfer (timer due in an hour by its clock), then is SIGKILLed.
    const scheduled = await runChild(
      { ...base, MODE: 'schedule', CLOCK_NOW: t0.toISOString(), DUE_AT: dueAt.toISOString() },
      /ready/,
    );
    expect(scheduled.signal).toBe('SIGKILL');
    expect(scheduled.output).toMatch(/ready \(fired 0\)/);
    expect(await readTimer(client, schema, timerKeyOf(transferId))).toMatchObject({
      dueAt,
      firedAt: null,
      attempts: 0,
    });
    expect((await store.readStream(streamOf(transferId))).events.map((e) => e.type)).toEqual([
      'TransferSubmitted',
    ]);

    // 2. Restarted two hours later: it fires, and is SIGKILLed after the command, before marking fired.
    const later = new Date(t0.getTime() + 2 * 3_600_000);
    const crashed = await runChild({
      ...base,
      MODE: 'run',
      CLOCK_NOW: later.toISOString(),
      FAULT: 'after-fire-before-mark',
    });
    expect(crashed.signal).toBe('SIGKILL');
    expect(crashed.output).toMatch(/SIGKILL after fire \(flags 1\)/);
    expect(await readTimer(client, schema, timerKeyOf(transferId))).toMatchObject({
      firedAt: null,
      attempts: 1,
    });

    // 3. Restarted again once the dead runner's claim has expired: it fires again, and the idempotent
    //    command makes that a no-op. Exactly one resulting event.
    const restarted = await runChild({
      ...base,
      MODE: 'run',
      CLOCK_NOW: new Date(later.getTime() + leaseMs + 1).toISOString(),
    });
    expect(restarted.code).toBe(0);
    expect(restarted.output).toMatch(/fired \(flags 1\)/);
    expect(await flagsOf(store, transferId)).toBe(1);
    expect((await store.readStream(streamOf(transferId))).events.map((e) => e.type)).toEqual([
      'TransferSubmitted',
      'TransferFlaggedOverdue',
    ]);
    expect(await readTimer(client, schema, timerKeyOf(transferId))).toMatchObject({
      firedAt: new Date(later.getTime() + leaseMs + 1),
      attempts: 2,
    });
  });
});
