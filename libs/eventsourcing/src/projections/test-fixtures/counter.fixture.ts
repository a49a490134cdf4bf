/**
 * A toy projection for the runner's specs, deliberately NOT idempotent: every `Counted` event adds 1 to
 * its stream's `count` and `n` to its `total`, so a batch applied twice (or lost) shows in the rows.
 * Not exported from the library.
 */
import type { SqlExecutor } from '../../sql/sql-client';
import { systemActor } from '../../store/actor';
import type { AppendResult, EventStore } from '../../store/event-store';
import { LOG_START, type LogPosition, type RecordedEvent } from '../../store/events';
import { defineProjection, type Projection, type TableNames } from '../projection';

export const COUNTED = 'Counted';
export const IGNORED = 'Ignored';

export interface CounterOptions {
  readonly name?: string;
  readonly version?: number;
  /** v2+ of the toy adds a `doubled` column: lets specs tell the generations apart. */
  readonly doubled?: boolean;
  /** Called after each event is written, inside the batch transaction (fault injection, pacing). */
  readonly afterEvent?: (index: number, events: readonly RecordedEvent[]) => void | Promise<void>;
  /** Called once per batch before it is applied. */
  readonly beforeBatch?: (events: readonly RecordedEvent[]) => void | Promise<void>;
}

export function counterProjection(options: CounterOptions = {}): Projection {
  const doubled = options.doubled ?? false;
  return defineProjection({
    name: options.name ?? 'counter',
    version: options.version ?? 1,
    tables: ['counters'],
    handles: [COUNTED],
    async setup(tx: SqlExecutor, names: TableNames) {
      await tx.query(`CREATE TABLE ${names.counters} (
        stream_id text PRIMARY KEY,
        count integer NOT NULL,
        total bigint NOT NULL${doubled ? ',\n        doubled bigint NOT NULL' : ''}
      )`);
    },
    async apply(tx: SqlExecutor, events: RecordedEvent[], names: TableNames) {
      await options.beforeBatch?.(events);
      for (let i = 0; i < events.length; i++) {
        const e = events[i];
        const n = (e.data as { n: number }).n;
        const t = names.counters;
        await tx.query(
          doubled
            ? `INSERT INTO ${t} (stream_id, count, total, doubled) VALUES ($1, 1, $2::bigint, $2::bigint * 2)
               ON CONFLICT (stream_id) DO UPDATE SET count = ${t}.count + 1, total = ${t}.total + $2::bigint,
                 doubled = ${t}.doubled + $2::bigint * 2`
            : `INSERT INTO ${t} (stream_id, count, total) VALUES ($1, 1, $2::bigint)
               ON CONFLICT (stream_id) DO UPDATE SET count = ${t}.count + 1, total = ${t}.total + $2::bigint`,
          [e.streamId, n],
        );
        await options.afterEvent?.(i, events);
      }
    },
  });
}

export interface CounterRow {
  readonly stream_id: string;
  readonly count: number;
  readonly total: number;
}

/** What the read model must hold after these events: the fold the projection does, in memory. */
export function expectedCounters(events: readonly RecordedEvent[]): CounterRow[] {
  const rows = new Map<string, { count: number; total: number }>();
  for (const e of events) {
    if (e.type !== COUNTED) continue;
    const r = rows.get(e.streamId) ?? { count: 0, total: 0 };
    r.count += 1;
    r.total += (e.data as { n: number }).n;
    rows.set(e.streamId, r);
  }
  return [...rows.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([stream_id, r]) => ({ stream_id, count: r.count, total: r.total }));
}

/** Reads the read model through its logical name (the view), as queries do. */
export async function readCounters(db: SqlExecutor, table = 'counters'): Promise<CounterRow[]> {
  const { rows } = await db.query<{ stream_id: string; count: unknown; total: unknown }>(
    `SELECT stream_id, count, total FROM ${table} ORDER BY stream_id COLLATE "C"`,
  );
  return rows.map((r) => ({ stream_id: r.stream_id, count: Number(r.count), total: Number(r.total) }));
}

export async function appendCounted(
  store: EventStore,
  streamId: string,
  events: ReadonlyArray<{ type: string; n: number }>,
): Promise<AppendResult> {
  return store.append({
    streams: [
      { streamId, expectedVersion: 'any', events: events.map((e) => ({ type: e.type, data: { n: e.n } })) },
    ],
    context: { actor: systemActor('spec'), occurredAt: new Date(), correlationId: 'spec' },
  });
}

/** `count` events, five per append over seven streams; every third one a type the projection ignores. */
export async function appendMany(store: EventStore, count: number, offset = 0): Promise<LogPosition> {
  let last: LogPosition = LOG_START;
  for (let i = 0; i < count; i += 5) {
    const events = Array.from({ length: Math.min(5, count - i) }, (_, k) => {
      const n = offset + i + k + 1;
      return { type: n % 3 === 0 ? IGNORED : COUNTED, n };
    });
    last = (await appendCounted(store, `s-${(offset + i) % 7}`, events)).lastLogPosition;
  }
  return last;
}

/** The whole log, in order. */
export async function allEvents(store: EventStore): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  let after = LOG_START;
  for (;;) {
    const batch = await store.readAll({ after, maxCount: 1000 });
    if (batch.events.length === 0) return out;
    out.push(...batch.events);
    after = batch.next;
  }
}
