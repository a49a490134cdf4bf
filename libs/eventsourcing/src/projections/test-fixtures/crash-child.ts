/**
 * The child process of `projection-crash.spec.ts`: runs the counter projection against the real
 * PostgreSQL until it reaches `UNTIL`, unless a fault kills it first (SIGKILL: no cleanup, no rollback
 * by us, the server sees the connection die). Run through `spawnTypeScript` (@lianfang/testing).
 *
 * Environment:
 * - DATABASE_URL, STORE_SCHEMA: the store.
 * - VERSION (default 1): the counter projection's version (2+ adds a column: a blue/green rebuild).
 * - BATCH_SIZE (default 10).
 * - FAULT: `mid-apply` (inside the batch transaction, half of the batch written), `before-commit`
 *   (read model and checkpoint written, COMMIT not sent), `after-commit` (committed, next batch not read).
 * - FAULT_AT (default 1): on which batch of this process (1-based) the fault strikes.
 * - UNTIL: the log position (`commit:position`) to reach before exiting 0.
 */
import { createPostgresEventStore } from '../../postgres/postgres-event-store';
import { createPostgresClient } from '../../sql/postgres-client';
import { compareLogPositions, parseLogPosition } from '../../store/events';
import type { BatchInfo } from '../batch';
import { startProjection } from '../projection-runner';
import { counterProjection } from './counter.fixture';

const fault = process.env.FAULT ?? 'none';
const faultAt = Number(process.env.FAULT_AT ?? '1');
const version = Number(process.env.VERSION ?? '1');
let batch = 0;

function die(where: string): Promise<never> {
  process.stdout.write(`SIGKILL ${where} (batch ${batch})\n`);
  process.kill(process.pid, 'SIGKILL');
  return new Promise<never>(() => undefined);
}

async function main(): Promise<void> {
  const client = createPostgresClient({ connectionString: process.env.DATABASE_URL!, max: 3 });
  const store = createPostgresEventStore({ client, schema: process.env.STORE_SCHEMA! });
  await store.start();
  const until = parseLogPosition(process.env.UNTIL!);
  const projection = counterProjection({
    version,
    doubled: version >= 2,
    beforeBatch: () => void batch++,
    afterEvent: async (index, events) => {
      if (fault === 'mid-apply' && batch === faultAt && index === Math.floor(events.length / 2)) {
        await die(`mid-apply after ${index + 1}/${events.length} events`);
      }
    },
  });
  const runner = await startProjection({
    client,
    store,
    projection,
    batchSize: Number(process.env.BATCH_SIZE ?? '10'),
    idleWaitMs: 50,
    hooks: {
      beforeCommit: async (info: BatchInfo) => {
        if (fault === 'before-commit' && batch === faultAt) await die(`before commit (${info.slot})`);
      },
      afterCommit: async (info: BatchInfo) => {
        if (fault === 'after-commit' && batch === faultAt) await die(`after commit (${info.slot})`);
      },
    },
  });
  // waitFor alone is satisfied by the previous version's tables during a rebuild: wait for ours.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = runner.status();
    if (
      status.servingVersion === version &&
      status.checkpoint &&
      compareLogPositions(status.checkpoint, until) >= 0
    )
      break;
    if (Date.now() > deadline)
      throw new Error(`not at ${process.env.UNTIL} in time: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  process.stdout.write(
    `reached ${process.env.UNTIL} after ${batch} batches, ${JSON.stringify(runner.status().tables)}\n`,
  );
  await runner.stop();
  await store.close();
  await client.close();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`crash-child failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
