/**
 * One of the two service processes of the capacity race (approvals.spec.ts): its own pool and event
 * store on the shared database, approving one transfer through `CapacityApprovals`.
 *
 * So that the race is certain rather than likely, the process pauses once, right after its first load
 * of the contested ledger, prints `loaded <version>` and waits for `go` on stdin: the test releases
 * both processes when both have loaded the same version. From there nothing coordinates them but the
 * database: both decide on the same ledger state and append; the store takes one, the other's version
 * check fails, it loads again and decides again.
 *
 * Environment: DATABASE_URL, STORE_SCHEMA, TRANSFER_ID, LEDGER_STREAM.
 * Prints `result <json>`: { outcome: 'approved' | 'refused', retries, code?, details?, reservations? }.
 */
import { createInterface } from 'node:readline';
import {
  createPostgresClient,
  createPostgresEventStore,
  DomainError,
  type CommandObservation,
  type EventStore,
} from '@lianfang/eventsourcing';
import { CapacityApprovals } from '../approvals';
import { aggregatesOn, approvalRequest, approveCommand } from './approvals.fixture';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const go = new Promise<void>((resolve) => {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === 'go') {
      lines.close();
      resolve();
    }
  });
});

/** The store, pausing once after the first read of `ledger` until the test says go. */
function pausingOnce(store: EventStore, ledger: string): EventStore {
  let paused = false;
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'readStream')
        return async (...args: Parameters<EventStore['readStream']>) => {
          const read = await target.readStream(...args);
          if (!paused && args[0] === ledger) {
            paused = true;
            process.stdout.write(`loaded ${String(read.version ?? 'none')}\n`);
            await go;
          }
          return read;
        };
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function main(): Promise<void> {
  const client = createPostgresClient({ connectionString: env('DATABASE_URL'), max: 4 });
  const store = createPostgresEventStore({ client, schema: env('STORE_SCHEMA') });
  await store.start();
  const transferId = env('TRANSFER_ID');
  const observations: CommandObservation[] = [];
  const aggregates = aggregatesOn(pausingOnce(store, env('LEDGER_STREAM')), {
    observe: (o) => observations.push(o),
  });
  const approvals = new CapacityApprovals(aggregates);
  const retries = () => observations.reduce((n, o) => n + o.retries, 0);
  try {
    const outcome = await approvals.approve(approvalRequest(approveCommand(transferId)));
    process.stdout.write(
      `result ${JSON.stringify({ outcome: 'approved', retries: retries(), reservations: outcome.reservations })}\n`,
    );
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    process.stdout.write(
      `result ${JSON.stringify({ outcome: 'refused', retries: retries(), code: error.code, details: error.details })}\n`,
    );
  } finally {
    await store.close();
    await client.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
