/**
 * Timers scheduled FROM EVENTS: a projection whose `apply` writes the persisted timers of
 * `@lianfang/messaging` (`<schema>.timers`), so a timer is stored exactly once with the event that opened
 * it: the timer rows and the projection's checkpoint commit in one transaction.
 *
 * A plan names LOGICAL timers (`transfer-42:reply`). Scheduling one again MOVES it: the pending
 * generation is cancelled and a new one is stored under a key derived from the logical id and the
 * event that scheduled it, so each generation has its own id and command id, and a replay of the log
 * (a rebuild) finds every key it writes already there and changes nothing.
 */
import {
  assertSqlIdentifier,
  defineProjection,
  DomainError,
  type Projection,
  type RecordedEvent,
  type SqlExecutor,
} from '@lianfang/eventsourcing';
import {
  cancelTimer,
  readTimer,
  scheduleTimer,
  timerCommandId,
  timerId as timerIdOfKey,
  type FireContext,
  type Timer,
} from './timers';

/** One timer to (re)schedule: `timerId` is logical; `target` names the handler that fires it. */
export interface TimerToSchedule {
  readonly timerId: string;
  /** ISO instant (or Date). */
  readonly dueAt: string | Date;
  /** The handler, and the system actor of the command it issues (e.g. `transfer.deadline-timer`). */
  readonly target: string;
  /** JSON-safe. */
  readonly payload?: unknown;
}

export type TimerPlan = { readonly schedule: TimerToSchedule } | { readonly cancel: string };

export interface TimerScheduleDefinition<E extends RecordedEvent> {
  /** Projection name (its checkpoint); its slots table is named after it. */
  readonly name: string;
  /** Bump when `plan` changes: a rebuild replays the log (harmless: see the file comment). */
  readonly version?: number;
  /** The store's schema, where `<schema>.timers` lives (migrate it with `migrateTimers` first). */
  readonly schema: string;
  readonly handles: readonly string[];
  /** Pure: what an event does to the timers. */
  plan(event: E): readonly TimerPlan[];
}

/** A logical timer as its schedule last left it. */
export interface TimerSlot {
  readonly timerId: string;
  /** The `<schema>.timers` key of the current generation. */
  readonly timerKey: string;
  readonly target: string;
  readonly dueAt: Date;
  readonly payload: unknown;
  /** The event that scheduled the current generation. */
  readonly cause: string;
  /** Cancelled by a later event (the step closed). */
  readonly cancelled: boolean;
}

export interface TimerSchedule<E extends RecordedEvent> {
  readonly projection: Projection<E>;
  /** The slots table (logical name, schema-qualified): current generation per logical timer. */
  readonly slotsTable: string;
  /** A logical timer's slot and the persisted timer of its current generation. */
  read(on: SqlExecutor, timerId: string): Promise<{ slot: TimerSlot; timer: Timer | undefined } | undefined>;
  /** Slots not cancelled, oldest due first (optionally of one target). */
  open(on: SqlExecutor, target?: string): Promise<TimerSlot[]>;
}

interface SlotRow {
  timer_id: string;
  timer_key: string;
  target: string;
  due_at: Date | string;
  payload: unknown;
  cause_event_id: string;
  cancelled: boolean;
}

const toSlot = (r: SlotRow): TimerSlot => ({
  timerId: r.timer_id,
  timerKey: r.timer_key,
  target: r.target,
  dueAt: new Date(r.due_at),
  payload: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload,
  cause: r.cause_event_id,
  cancelled: r.cancelled,
});

const SLOT_COLUMNS =
  'timer_id, timer_key, target, due_at, payload::text AS payload, cause_event_id, cancelled';

/** The key of a generation: the logical timer and the event that scheduled it. */
export const generationKey = (timerId: string, causeEventId: string) => `${timerId}@${causeEventId}`;

function dueDate(t: TimerToSchedule): Date {
  const due = new Date(t.dueAt);
  if (Number.isNaN(due.getTime()))
    throw new RangeError(`timer ${t.timerId}: dueAt ${String(t.dueAt)} is not an instant`);
  return due;
}

export function defineTimerSchedule<E extends RecordedEvent>(
  definition: TimerScheduleDefinition<E>,
): TimerSchedule<E> {
  const schema = assertSqlIdentifier(definition.schema, 'schema name');
  const table = `${definition.name.replace(/-/g, '_')}_slots`;
  const slotsTable = `${schema}.${table}`;

  const currentOf = async (tx: SqlExecutor, slots: string, timerId: string) =>
    (
      await tx.query<{ timer_key: string; cancelled: boolean }>(
        `SELECT timer_key, cancelled FROM ${slots} WHERE timer_id = $1`,
        [timerId],
      )
    ).rows[0];

  /**
   * Cancels the pending generation, unless the event closing it is the command that generation fired
   * (its own firing): that timer is being marked fired, not cancelled.
   */
  const cancelGeneration = async (tx: SqlExecutor, key: string, event: E) => {
    if (event.metadata.commandId === timerCommandId({ id: timerIdOfKey(key) })) return;
    await cancelTimer(tx, schema, key, event.metadata.recordedAt);
  };

  const projection = defineProjection<E>({
    name: definition.name,
    version: definition.version ?? 1,
    tables: [table],
    handles: definition.handles,
    async setup(tx, names) {
      await tx.query(`CREATE TABLE ${names[table]} (
        timer_id text PRIMARY KEY,
        timer_key text NOT NULL,
        target text NOT NULL,
        due_at timestamptz NOT NULL,
        payload jsonb NOT NULL,
        cause_event_id uuid NOT NULL,
        cancelled boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL
      )`);
      await tx.query(`CREATE INDEX ON ${names[table]} (target, due_at) WHERE NOT cancelled`);
    },
    async apply(tx, events, names) {
      const slots = names[table];
      for (const event of events) {
        for (const step of definition.plan(event)) {
          if ('schedule' in step) {
            const t = step.schedule;
            if (!t.timerId || !t.target)
              throw new Error(`${definition.name}: a timer needs an id and a target`);
            const dueAt = dueDate(t);
            const key = generationKey(t.timerId, event.eventId);
            const current = await currentOf(tx, slots, t.timerId);
            if (current && !current.cancelled && current.timer_key !== key)
              await cancelGeneration(tx, current.timer_key, event);
            await scheduleTimer(tx, schema, {
              key,
              name: t.target,
              dueAt,
              payload: t.payload ?? {},
              correlationId: event.metadata.correlationId,
              causationId: event.eventId,
            });
            await tx.query(
              `INSERT INTO ${slots} (timer_id, timer_key, target, due_at, payload, cause_event_id, cancelled, updated_at)
               VALUES ($1, $2, $3, $4::timestamptz, $5::jsonb, $6, false, $7::timestamptz)
               ON CONFLICT (timer_id) DO UPDATE SET timer_key = EXCLUDED.timer_key, target = EXCLUDED.target,
                 due_at = EXCLUDED.due_at, payload = EXCLUDED.payload, cause_event_id = EXCLUDED.cause_event_id,
                 cancelled = false, updated_at = EXCLUDED.updated_at`,
              [
                t.timerId,
                key,
                t.target,
                dueAt.toISOString(),
                JSON.stringify(t.payload ?? {}),
                event.eventId,
                event.metadata.recordedAt.toISOString(),
              ],
            );
          } else {
            const current = await currentOf(tx, slots, step.cancel);
            if (!current || current.cancelled) continue;
            await cancelGeneration(tx, current.timer_key, event);
            await tx.query(
              `UPDATE ${slots} SET cancelled = true, updated_at = $2::timestamptz WHERE timer_id = $1`,
              [step.cancel, event.metadata.recordedAt.toISOString()],
            );
          }
        }
      }
    },
  });

  return {
    projection,
    slotsTable,
    async read(on, id) {
      const { rows } = await on.query<SlotRow>(
        `SELECT ${SLOT_COLUMNS} FROM ${slotsTable} WHERE timer_id = $1`,
        [id],
      );
      if (!rows[0]) return undefined;
      const slot = toSlot(rows[0]);
      return { slot, timer: await readTimer(on, schema, slot.timerKey) };
    },
    async open(on, target) {
      const { rows } = await on.query<SlotRow>(
        `SELECT ${SLOT_COLUMNS} FROM ${slotsTable}
          WHERE NOT cancelled AND ($1::text IS NULL OR target = $1) ORDER BY due_at, timer_id`,
        [target ?? null],
      );
      return rows.map(toSlot);
    },
  };
}

// ─── firing ──────────────────────────────────────────────────────────────────────────────────

export type TimerHandler = (timer: Timer, context: FireContext) => Promise<void>;

export interface TimerHandlersOptions {
  /**
   * A refusal that settles the timer (default: a DomainError: the rule decided the deadline is moot,
   * e.g. the step closed meanwhile). Anything else rejects, and the runner retries with backoff.
   */
  readonly settles?: (error: unknown) => boolean;
  readonly onSettledByRefusal?: (timer: Timer, error: unknown) => void;
}

/**
 * The runner's `fire`: dispatches on the timer's target. A target with no handler fails (retried and
 * recorded in last_error, never dropped), so a timer scheduled by a newer version waits for its handler.
 */
export function timerHandlers(
  handlers: Readonly<Record<string, TimerHandler>>,
  options: TimerHandlersOptions = {},
): TimerHandler {
  const settles = options.settles ?? ((e: unknown) => e instanceof DomainError);
  return async (timer, context) => {
    const handler = handlers[timer.name];
    if (!handler) throw new Error(`no handler for timer target "${timer.name}" (timer ${timer.key})`);
    try {
      await handler(timer, context);
    } catch (e) {
      if (!settles(e)) throw e;
      options.onSettledByRefusal?.(timer, e);
    }
  };
}
