/**
 * The child process of `timers-restart.spec.ts`: a service with a timer runner against the real
 * PostgreSQL, whose clock is fixed by the test (CLOCK_NOW), so the test moves time across restarts.
 *
 * Environment:
 * - DATABASE_URL, STORE_SCHEMA, TIMERS_SCHEMA, CLOCK_NOW (ISO), TRANSFER_ID, LEASE_MS.
 * - MODE=schedule: submits the transfer with its deadline (DUE_AT) in one transaction, runs the runner
 *   (nothing is due yet), prints `ready` and waits to be SIGKILLed.
 * - MODE=run: runs the runner until the transfer's timer is marked fired, prints `fired`, exits 0.
 *   FAULT=after-fire-before-mark: SIGKILLs itself after the command, before the timer is marked fired.
 */
import { createPostgresClient, createPostgresEventStore } from '@lianfang/eventsourcing';
import { ManualClock, readTimer, TimerRunner } from '../timers';
import { fireOverdue, flagsOf, submitWithDeadline, timerKeyOf } from './deadline.fixture';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

async function main(): Promise<void> {
  const client = createPostgresClient({ connectionString: env('DATABASE_URL'), max: 3 });
  const store = createPostgresEventStore({ client, schema: env('STORE_SCHEMA') });
  await store.start();
  const timersSchema = env('TIMERS_SCHEMA');
  const transferId = env('TRANSFER_ID');
  const clock = new ManualClock(env('CLOCK_NOW'));
  const runner = new TimerRunner({
    client,
    schema: timersSchema,
    clock,
    pollMs: 50,
    leaseMs: Number(env('LEASE_MS')),
    fire: fireOverdue(store),
    onError: (error) => process.stderr.write(`timer error: ${String(error)}\n`),
    hooks: {
      afterFireBeforeMark: async () => {
        if (process.env.FAULT === 'after-fire-before-mark') {
          process.stdout.write(`SIGKILL after fire (flags ${await flagsOf(store, transferId)})\n`);
          process.kill(process.pid, 'SIGKILL');
          await new Promise(() => undefined);
        }
      },
    },
  });
  await runner.start();

  if (process.env.MODE === 'schedule') {
    await submitWithDeadline(store, timersSchema, {
      transferId,
      now: clock.now(),
      dueAt: new Date(env('DUE_AT')),
    });
    // The runner looked (its own loop, and this round): nothing is due yet by this process's clock.
    const { fired } = await runner.tick();
    process.stdout.write(`ready (fired ${fired})\n`);
    await new Promise(() => undefined); // until SIGKILL
  }

  const deadline = Date.now() + 40_000;
  for (;;) {
    const timer = await readTimer(client, timersSchema, timerKeyOf(transferId));
    if (timer?.firedAt) break;
    if (Date.now() > deadline) throw new Error(`timer not fired in time: ${JSON.stringify(timer)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  await runner.stop();
  process.stdout.write(`fired (flags ${await flagsOf(store, transferId)})\n`);
  await store.close();
  await client.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
