import type { SqlClient } from '../sql/sql-client';
import type { EventStore, ReadAllResult } from '../store/event-store';
import { formatLogPosition, type LogPosition, type RecordedEvent } from '../store/events';
import type { CheckpointTables, Slot } from './checkpoints';
import type { Projection, TableNames } from './projection';

/** What one committed (or about to commit) batch did. */
export interface BatchInfo {
  readonly projection: string;
  readonly version: number;
  /** `active`: the serving tables; `rebuild`: the tables of a blue/green rebuild. */
  readonly slot: Slot;
  readonly from: LogPosition;
  readonly to: LogPosition;
  /** Events read (all types). */
  readonly events: number;
  /** Events handed to `apply`. */
  readonly applied: number;
}

/**
 * Observation points, for metrics and for fault injection in crash tests.
 * A hook that throws fails the batch (and, before commit, rolls it back).
 */
export interface ProjectionHooks {
  /** Inside the batch transaction: after `apply` and the checkpoint update, before COMMIT. */
  beforeCommit?(info: BatchInfo): void | Promise<void>;
  /** After the batch transaction committed, before the next batch is read. */
  afterCommit?(info: BatchInfo): void | Promise<void>;
}

/**
 * Estimates how many events of the log come after a position (for lag and rebuild totals).
 * Adapter-specific; `undefined` when it cannot tell.
 */
export type BacklogEstimator = (after: LogPosition) => Promise<number | undefined>;

/** Where a loop stands: which slot row it owns and what it believes that row says. */
export interface Cursor {
  readonly slot: Slot;
  readonly version: number;
  readonly generation: number;
  readonly position: LogPosition;
  readonly names: TableNames;
}

export interface BatchContext {
  readonly client: SqlClient;
  readonly tables: CheckpointTables;
  readonly projection: Projection;
  readonly handles: ReadonlySet<string>;
  readonly hooks?: ProjectionHooks;
}

export type BatchOutcome =
  | { readonly committed: true; readonly info: BatchInfo; readonly last: RecordedEvent }
  /** The row is not where the cursor thought (another runner moved it, or a switch happened): reload. */
  | { readonly committed: false };

/**
 * Applies one batch and moves the checkpoint in ONE transaction. The checkpoint row is locked first and
 * compared with the cursor (optimistic concurrency), so two runners on the same projection can never
 * both apply a batch: the second finds the row moved, writes nothing, and reloads.
 */
export async function commitBatch(
  ctx: BatchContext,
  cursor: Cursor,
  batch: ReadAllResult,
): Promise<BatchOutcome> {
  const { client, tables, projection, handles, hooks } = ctx;
  const last = batch.events[batch.events.length - 1];
  const handled = batch.events.filter((e) => handles.has(e.type));
  const info: BatchInfo = {
    projection: projection.name,
    version: cursor.version,
    slot: cursor.slot,
    from: cursor.position,
    to: batch.next,
    events: batch.events.length,
    applied: handled.length,
  };
  const committed = await client.transaction(async (tx) => {
    const row = await tables.load(tx, cursor.slot, projection.name, true);
    if (
      !row ||
      row.version !== cursor.version ||
      row.generation !== cursor.generation ||
      row.position !== formatLogPosition(cursor.position)
    ) {
      return false;
    }
    if (handled.length > 0) await projection.apply(tx, handled, cursor.names);
    await tables.advance(
      tx,
      cursor.slot,
      projection.name,
      batch.next,
      batch.events.length,
      handled.length,
      last?.metadata.recordedAt,
    );
    await hooks?.beforeCommit?.(info);
    return true;
  });
  if (!committed) return { committed: false };
  await hooks?.afterCommit?.(info);
  return { committed: true, info, last };
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** An idle wait that a notification, a `waitFor` or a stop can cut short. */
export class Waker {
  private kicked = false;
  private wake: (() => void) | undefined;

  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  async wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (!this.kicked && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          this.wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal?.addEventListener('abort', done, { once: true });
        this.wake = done;
      });
    }
    this.kicked = false;
  }
}

/** What the SQL adapters (`SqlEventStore`) offer beyond the port; used as defaults when present. */
export interface StoreExtras {
  /** The store's schema: read models live beside the events. */
  readonly schema?: string;
  /** Its NOTIFY channel for appends. */
  readonly eventsChannel?: string;
  readonly backlog?: BacklogEstimator;
}

export function storeExtras(store: EventStore): StoreExtras {
  const s = store as EventStore &
    Partial<{ schema: unknown; eventsChannel: unknown; backlog: (after: LogPosition) => Promise<number> }>;
  return {
    schema: typeof s.schema === 'string' ? s.schema : undefined,
    eventsChannel: typeof s.eventsChannel === 'string' ? s.eventsChannel : undefined,
    backlog: typeof s.backlog === 'function' ? (after) => s.backlog!(after) : undefined,
  };
}
