/**
 * Persisted timers for deadlines ("flag the transfer if no receipt within 5 working days").
 *
 * - Scheduled in the same transaction as the event that sets them: `scheduleTimer(tx, …)` next to
 *   `store.appendIn(tx, …)` inside one `client.transaction`. A rolled-back append leaves no timer, a
 *   committed one always has its timer.
 * - Idempotent on `key` (deterministic, e.g. `<stream>:<deadline>:<version>`): scheduling the same key
 *   again (a retried command, a redelivered trigger) keeps the first timer.
 * - Fired at most once IN EFFECT: a runner claims due timers (FOR UPDATE SKIP LOCKED + a lease, in a
 *   short transaction), calls `fire`, then marks them fired. A crash between the command and the mark,
 *   or a lease that expires under a slow fire, fires again: the fire handler issues its command with a
 *   commandId derived from the timer id (`timerCommandMetadata`), so the event store stores the
 *   resulting event once. The runner alone cannot give exactly-once: the idempotent command does.
 * - Survives restarts: all state is in `<schema>.timers`; a restarted runner fires what is due.
 * - Time comes from an injected clock (`SystemClock` in production, `ManualClock` in tests): "due" is
 *   `next_attempt_at <= clock.now()`, never the database's now().
 *
 * Why the fire does not run inside the claiming transaction: the command appends through the event
 * store in a transaction of its own (handleCommand). Holding the claim transaction open around it
 * would hold a second connection per fire on PostgreSQL, and deadlock PGlite (one connection). The
 * lease + idempotent command gives the same effect without that.
 *
 * Working-day deadlines are computed by the caller with the domain kernel's calendar:
 * `dueAt: WorkingDayCalendar.default().addWorkingDays(now, 5).deadline`.
 */
import { randomInt, randomUUID } from 'node:crypto';
import {
  assertSqlIdentifier,
  systemActor,
  type CommandMetadata,
  type SqlClient,
  type SqlExecutor,
} from '@lianfang/eventsourcing';
import { deterministicUuid } from '../system/system-commands';

// ─── clocks ────────────────────────────────────────────────────────────────────────────────

export interface Clock {
  now(): Date;
  /** Optional: called whenever the clock moves other than by real time (a test clock); returns unsubscribe. */
  onAdvance?(listener: () => void): () => void;
}

export const SystemClock: Clock = { now: () => new Date() };

/** A clock that moves only when told to (tests): a runner using it wakes on every move. */
export class ManualClock implements Clock {
  private current: number;
  private readonly listeners = new Set<() => void>();

  constructor(start: Date | string = new Date()) {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  set(to: Date | string): void {
    this.current = new Date(to).getTime();
    for (const l of [...this.listeners]) l();
  }

  advance(ms: number): void {
    this.set(new Date(this.current + ms));
  }

  onAdvance(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
}

// ─── schema ────────────────────────────────────────────────────────────────────────────────

/** Creates `<schema>.timers` if missing (idempotent, safe across processes). */
export async function migrateTimers(client: SqlClient, schema: string): Promise<void> {
  const s = assertSqlIdentifier(schema, 'schema name');
  await client.transaction(async (tx) => {
    // Two processes creating the same table at once collide on the catalog: serialise them.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`lianfang.timers.${s}`]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await tx.query(`
      CREATE TABLE IF NOT EXISTS ${s}.timers (
        id              uuid PRIMARY KEY,
        timer_key       text NOT NULL UNIQUE,
        -- The rule that owns the deadline: the system actor of the command it issues.
        name            text NOT NULL,
        due_at          timestamptz NOT NULL,
        payload         jsonb NOT NULL DEFAULT '{}'::jsonb,
        correlation_id  text,
        causation_id    text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        -- due_at at first, later pushed back by the retry backoff.
        next_attempt_at timestamptz NOT NULL,
        -- A claim: another runner leaves the timer alone until then.
        locked_until    timestamptz,
        locked_by       text,
        fired_at        timestamptz,
        attempts        integer NOT NULL DEFAULT 0,
        last_error      text,
        cancelled_at    timestamptz,
        -- Gave up after maxAttempts: visible to operators, never fired again by itself.
        failed_at       timestamptz
      )`);
    await tx.query(
      `CREATE INDEX IF NOT EXISTS timers_pending_idx ON ${s}.timers (next_attempt_at)
         WHERE fired_at IS NULL AND cancelled_at IS NULL AND failed_at IS NULL`,
    );
    // The last operator retry of a given-up timer (`npm run timers -- retry`): who, when, why.
    // Nullable and read only by the operators' functions, so code that predates them is unaffected.
    // Checked first: ALTER TABLE locks the table even when there is nothing to add.
    const { rows } = await tx.query(
      `SELECT 1 FROM information_schema.columns
        WHERE table_schema = $1 AND table_name = 'timers' AND column_name = 'retry_reason'`,
      [s],
    );
    if (rows.length === 0) {
      await tx.query(
        `ALTER TABLE ${s}.timers
           ADD COLUMN IF NOT EXISTS retried_at timestamptz,
           ADD COLUMN IF NOT EXISTS retried_by text,
           ADD COLUMN IF NOT EXISTS retry_reason text`,
      );
    }
  });
}

// ─── scheduling ────────────────────────────────────────────────────────────────────────────

export interface TimerSpec {
  /** Deterministic and unique: `<stream>:<deadline-name>:<version>`. Scheduling it again keeps the first. */
  readonly key: string;
  /** The rule that owns it, e.g. `transfer.receipt-deadline`: the system actor when it fires. */
  readonly name: string;
  readonly dueAt: Date;
  /** What the fire handler needs (JSON-safe). */
  readonly payload?: unknown;
  /** Of the event that set the timer: carried to the command it issues. */
  readonly correlationId?: string;
  readonly causationId?: string;
}

/** The id of a timer: derived from its key, so the same deadline has the same id everywhere. */
export function timerId(key: string): string {
  return deterministicUuid('lianfang.timer.v1', key);
}

const iso = (d: Date) => {
  if (Number.isNaN(d.getTime())) throw new RangeError('timer: invalid Date');
  return d.toISOString();
};

/**
 * Schedules a timer inside the caller's transaction (the one that appends the event setting it).
 * Returns the timer's id and whether it is new (false: a timer with this key existed, kept as it was).
 */
export async function scheduleTimer(
  tx: SqlExecutor,
  schema: string,
  timer: TimerSpec,
): Promise<{ readonly id: string; readonly created: boolean }> {
  const s = assertSqlIdentifier(schema, 'schema name');
  if (!timer.key) throw new Error('scheduleTimer: a key is required');
  if (!timer.name) throw new Error('scheduleTimer: a name is required');
  const id = timerId(timer.key);
  const { rowCount } = await tx.query(
    `INSERT INTO ${s}.timers (id, timer_key, name, due_at, next_attempt_at, payload, correlation_id, causation_id)
     VALUES ($1, $2, $3, $4::timestamptz, $4::timestamptz, $5::jsonb, $6, $7)
     ON CONFLICT (timer_key) DO NOTHING`,
    [
      id,
      timer.key,
      timer.name,
      iso(timer.dueAt),
      JSON.stringify(timer.payload ?? {}),
      timer.correlationId ?? null,
      timer.causationId ?? null,
    ],
  );
  return { id, created: rowCount === 1 };
}

/**
 * Cancels a pending timer (inside the transaction of the event that makes the deadline moot).
 * True when a pending timer was cancelled. A fire already in flight may still issue its command:
 * the decider decides (a deadline on a completed transfer decides nothing), as it would for any
 * command that raced another.
 */
export async function cancelTimer(
  tx: SqlExecutor,
  schema: string,
  key: string,
  at: Date = new Date(),
): Promise<boolean> {
  const s = assertSqlIdentifier(schema, 'schema name');
  const { rowCount } = await tx.query(
    `UPDATE ${s}.timers SET cancelled_at = $2::timestamptz
      WHERE timer_key = $1 AND fired_at IS NULL AND cancelled_at IS NULL`,
    [key, iso(at)],
  );
  return rowCount === 1;
}

// ─── reading ───────────────────────────────────────────────────────────────────────────────

export interface Timer {
  readonly id: string;
  readonly key: string;
  readonly name: string;
  readonly dueAt: Date;
  readonly payload: unknown;
  readonly correlationId: string | null;
  readonly causationId: string | null;
  readonly createdAt: Date;
  readonly nextAttemptAt: Date;
  readonly firedAt: Date | null;
  readonly cancelledAt: Date | null;
  readonly failedAt: Date | null;
  /** Claims so far, this one included when handed to `fire`. */
  readonly attempts: number;
  readonly lastError: string | null;
}

interface TimerRow {
  id: string;
  timer_key: string;
  name: string;
  due_at: Date | string;
  payload: unknown;
  correlation_id: string | null;
  causation_id: string | null;
  created_at: Date | string;
  next_attempt_at: Date | string;
  fired_at: Date | string | null;
  cancelled_at: Date | string | null;
  failed_at: Date | string | null;
  attempts: number | string;
  last_error: string | null;
}

const timerColumns = (t = '') =>
  `${t}id::text AS id, ${t}timer_key, ${t}name, ${t}due_at, ${t}payload::text AS payload, ${t}correlation_id,
   ${t}causation_id, ${t}created_at, ${t}next_attempt_at, ${t}fired_at, ${t}cancelled_at, ${t}failed_at,
   ${t}attempts, ${t}last_error`;
const TIMER_COLUMNS = timerColumns();

// PGlite under jest returns Dates of another realm: `instanceof` is not to be trusted, new Date() is.
const date = (v: Date | string) => new Date(v);
const dateOrNull = (v: Date | string | null) => (v === null ? null : new Date(v));

function toTimer(r: TimerRow): Timer {
  return {
    id: r.id,
    key: r.timer_key,
    name: r.name,
    dueAt: date(r.due_at),
    payload: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload,
    correlationId: r.correlation_id,
    causationId: r.causation_id,
    createdAt: date(r.created_at),
    nextAttemptAt: date(r.next_attempt_at),
    firedAt: dateOrNull(r.fired_at),
    cancelledAt: dateOrNull(r.cancelled_at),
    failedAt: dateOrNull(r.failed_at),
    attempts: Number(r.attempts),
    lastError: r.last_error,
  };
}

/** One timer by key, or undefined. */
export async function readTimer(on: SqlExecutor, schema: string, key: string): Promise<Timer | undefined> {
  const s = assertSqlIdentifier(schema, 'schema name');
  const { rows } = await on.query<TimerRow>(`SELECT ${TIMER_COLUMNS} FROM ${s}.timers WHERE timer_key = $1`, [
    key,
  ]);
  return rows[0] && toTimer(rows[0]);
}

/** Every timer, in due order (operators, tests). */
export async function listTimers(on: SqlExecutor, schema: string): Promise<Timer[]> {
  const s = assertSqlIdentifier(schema, 'schema name');
  const { rows } = await on.query<TimerRow>(
    `SELECT ${TIMER_COLUMNS} FROM ${s}.timers ORDER BY due_at, timer_key`,
  );
  return rows.map(toTimer);
}

// ─── commands issued by timers ─────────────────────────────────────────────────────────────

/** The commandId a timer's command carries: from the timer id, so a double firing is one command. */
export function timerCommandId(timer: Pick<Timer, 'id'>, step?: string): string {
  return deterministicUuid('lianfang.timer-command.v1', timer.id, step ?? '');
}

/**
 * Metadata of the command a timer issues: the system actor named after the timer's rule, a commandId
 * derived from the timer id, causation = the event that set it (else the timer), correlation carried
 * over. `now` defaults to the timer's due time: the deadline passed then, whenever it is noticed.
 */
export function timerCommandMetadata(
  timer: Pick<Timer, 'id' | 'name' | 'dueAt' | 'correlationId' | 'causationId'>,
  options: { readonly now?: Date; readonly step?: string } = {},
): CommandMetadata {
  return {
    commandId: timerCommandId(timer, options.step),
    now: options.now ?? timer.dueAt,
    actor: systemActor(timer.name),
    correlationId: timer.correlationId ?? `timer:${timer.id}`,
    causationId: timer.causationId ?? `timer:${timer.id}`,
  };
}

// ─── the runner ────────────────────────────────────────────────────────────────────────────

export interface FireContext {
  /** The clock's now when the timer was claimed. */
  readonly now: Date;
  readonly attempt: number;
}

export interface TimerRunnerOptions {
  readonly client: SqlClient;
  readonly schema: string;
  readonly clock?: Clock;
  /**
   * Issues the timer's command, with `timerCommandMetadata(timer)` (idempotent). Resolve when done, or
   * when a rule refused it for good (a moot deadline); reject to retry later with backoff.
   */
  readonly fire: (timer: Timer, context: FireContext) => Promise<void>;
  /** Idle poll in real ms (default 1000): also how often a due timer is noticed without a wake-up. */
  readonly pollMs?: number;
  /** How many timers one claim takes (default 20). */
  readonly batchSize?: number;
  /** How long a claim keeps other runners off a timer, in clock ms (default 60 000). */
  readonly leaseMs?: number;
  /** Backoff after a failed fire, in clock ms: base doubled per attempt, capped (defaults 1 000 / 300 000). */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** After this many failed fires the timer is marked failed and left for an operator (default 20). */
  readonly maxAttempts?: number;
  readonly onError?: (error: unknown, timer: Timer | undefined) => void;
  /** Fault injection for tests: runs after a successful fire, before the timer is marked fired. */
  readonly hooks?: { readonly afterFireBeforeMark?: (timer: Timer) => Promise<void> };
}

export interface TickResult {
  readonly fired: number;
  readonly failed: number;
}

/**
 * Fires due timers: `start()` runs a loop (woken by the poll, by `wake()`, and by a test clock moving);
 * `tick()` runs one round by hand. Several runners (processes) may run against one table.
 */
export class TimerRunner {
  readonly runnerId = randomUUID();
  private readonly s: string;
  private readonly clock: Clock;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly maxAttempts: number;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wakePending = false;
  private wakeUp: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: TimerRunnerOptions) {
    this.s = assertSqlIdentifier(options.schema, 'schema name');
    this.clock = options.clock ?? SystemClock;
    this.pollMs = options.pollMs ?? 1000;
    this.batchSize = options.batchSize ?? 20;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.retryBaseMs = options.retryBaseMs ?? 1000;
    this.retryMaxMs = options.retryMaxMs ?? 300_000;
    this.maxAttempts = options.maxAttempts ?? 20;
  }

  /** Migrates the table and starts the loop. */
  async start(): Promise<this> {
    if (this.loop) return this;
    await migrateTimers(this.options.client, this.s);
    this.stopping = false;
    this.unsubscribe = this.clock.onAdvance?.(() => this.wake());
    this.loop = this.run();
    return this;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.wake();
    await this.loop;
    this.loop = undefined;
  }

  /** Look for due timers now (the clock moved, a timer due now was scheduled). */
  wake(): void {
    this.wakePending = true;
    this.wakeUp?.();
  }

  /** One round: claims and fires everything due now, batch after batch. */
  async tick(): Promise<TickResult> {
    let fired = 0;
    let failed = 0;
    for (;;) {
      const now = this.clock.now();
      const claimed = await this.claim(now);
      for (const timer of claimed) {
        if (await this.fireOne(timer, now)) fired++;
        else failed++;
      }
      if (claimed.length < this.batchSize || this.stopping) return { fired, failed };
    }
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      this.wakePending = false;
      try {
        await this.tick();
      } catch (error) {
        // The database went away for a moment: try again on the next round.
        this.options.onError?.(error, undefined);
      }
      if (this.stopping) break;
      await this.sleep(this.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.wakePending || this.stopping) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  private async claim(now: Date): Promise<Timer[]> {
    const leaseUntil = new Date(now.getTime() + this.leaseMs);
    const { rows } = await this.options.client.transaction((tx) =>
      tx.query<TimerRow>(
        `WITH due AS (
           SELECT id FROM ${this.s}.timers
            WHERE fired_at IS NULL AND cancelled_at IS NULL AND failed_at IS NULL
              AND next_attempt_at <= $1::timestamptz
              AND (locked_until IS NULL OR locked_until <= $1::timestamptz)
            ORDER BY next_attempt_at, id
            LIMIT $2
            FOR UPDATE SKIP LOCKED)
         UPDATE ${this.s}.timers t
            SET locked_until = $3::timestamptz, locked_by = $4, attempts = t.attempts + 1
           FROM due WHERE t.id = due.id
         RETURNING ${timerColumns('t.')}`,
        [now.toISOString(), this.batchSize, leaseUntil.toISOString(), this.runnerId],
      ),
    );
    return rows.map(toTimer).sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime());
  }

  /** True when fired (and marked), false when it failed and was rescheduled. */
  private async fireOne(timer: Timer, now: Date): Promise<boolean> {
    try {
      await this.options.fire(timer, { now, attempt: timer.attempts });
      await this.options.hooks?.afterFireBeforeMark?.(timer);
    } catch (error) {
      this.options.onError?.(error, timer);
      await this.reschedule(timer, error);
      return false;
    }
    // Marked fired whoever holds the claim now: the command went through (idempotently).
    await this.options.client.query(
      `UPDATE ${this.s}.timers
          SET fired_at = $2::timestamptz, locked_until = NULL, locked_by = NULL, last_error = NULL
        WHERE id = $1 AND fired_at IS NULL`,
      [timer.id, this.clock.now().toISOString()],
    );
    return true;
  }

  private async reschedule(timer: Timer, error: unknown): Promise<void> {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const giveUp = timer.attempts >= this.maxAttempts;
    const ceiling = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.min(30, timer.attempts - 1));
    // Equal jitter: half fixed, half random, so a crowd of failing timers does not retry in step.
    const half = Math.max(1, Math.floor(ceiling / 2));
    const retryAt = new Date(this.clock.now().getTime() + half + randomInt(0, half + 1));
    await this.options.client.query(
      `UPDATE ${this.s}.timers
          SET last_error = $2, next_attempt_at = $3::timestamptz, locked_until = NULL, locked_by = NULL,
              failed_at = CASE WHEN $4::boolean THEN $5::timestamptz ELSE NULL END
        WHERE id = $1 AND fired_at IS NULL AND locked_by = $6`,
      [
        timer.id,
        message.slice(0, 2000),
        retryAt.toISOString(),
        giveUp,
        this.clock.now().toISOString(),
        this.runnerId,
      ],
    );
  }
}

/** Creates and starts a runner. */
export function startTimerRunner(options: TimerRunnerOptions): Promise<TimerRunner> {
  return new TimerRunner(options).start();
}

// ─── operators ─────────────────────────────────────────────────────────────────────────────
//
// What `npm run timers` shows and does. A retry never runs a service's fire code: it only makes a
// given-up timer due again, and the service's running TimerRunner fires it with its own handler.

/** Where a timer stands, for an operator. */
export type TimerState = 'pending' | 'failing' | 'given-up' | 'fired' | 'cancelled';

export interface TimerDetail extends Timer {
  readonly state: TimerState;
  /** A runner's claim (a fire in flight) until `lockedUntil`, by that runner's clock. */
  readonly lockedBy: string | null;
  readonly lockedUntil: Date | null;
  /** The last operator retry (null before any, or on a table migrated before retries existed). */
  readonly retriedAt: Date | null;
  readonly retriedBy: string | null;
  readonly retryReason: string | null;
}

/** An operator's request that cannot be done; `hint` says what to do instead. */
export class TimerOperationError extends Error {
  override readonly name = 'TimerOperationError';
  constructor(
    readonly code: 'unknown-timer' | 'not-given-up' | 'reason' | 'by',
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

interface TimerDetailRow extends TimerRow {
  locked_by: string | null;
  locked_until: Date | string | null;
  retried_at: string | null;
  retried_by: string | null;
  retry_reason: string | null;
}

// The retry columns through to_jsonb: they read as null on a table the running service has not
// migrated yet, instead of failing the whole query.
const DETAIL_COLUMNS = `${timerColumns('t.')}, t.locked_by, t.locked_until,
   to_jsonb(t) ->> 'retried_at' AS retried_at, to_jsonb(t) ->> 'retried_by' AS retried_by,
   to_jsonb(t) ->> 'retry_reason' AS retry_reason`;

function stateOf(t: Timer): TimerState {
  if (t.firedAt) return 'fired';
  if (t.cancelledAt) return 'cancelled';
  if (t.failedAt) return 'given-up';
  // A first attempt in flight has attempts = 1 and no error yet: not failing.
  if (t.attempts > 0 && t.lastError !== null) return 'failing';
  return 'pending';
}

function toTimerDetail(r: TimerDetailRow): TimerDetail {
  const timer = toTimer(r);
  return {
    ...timer,
    state: stateOf(timer),
    lockedBy: r.locked_by,
    lockedUntil: dateOrNull(r.locked_until),
    retriedAt: dateOrNull(r.retried_at),
    retriedBy: r.retried_by,
    retryReason: r.retry_reason,
  };
}

/** True when `<schema>.timers` exists. */
export async function hasTimersTable(on: SqlExecutor, schema: string): Promise<boolean> {
  const s = assertSqlIdentifier(schema, 'schema name');
  const { rows } = await on.query<{ t: string | null }>(`SELECT to_regclass($1)::text AS t`, [`${s}.timers`]);
  return rows[0]?.t != null;
}

/** The schemas that have a timers table (to tell an operator which `--service` values exist). */
export async function schemasWithTimers(on: SqlExecutor): Promise<string[]> {
  const { rows } = await on.query<{ schema: string }>(
    `SELECT n.nspname AS schema FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = 'timers' AND c.relkind IN ('r', 'p')
      ORDER BY 1`,
  );
  return rows.map((r) => r.schema);
}

/**
 * Timers that need an operator's eye: given up (first, oldest first), then failing ones the runner
 * still retries by itself (soonest next attempt first). Fired and cancelled timers are never listed.
 */
export async function listFailingTimers(
  on: SqlExecutor,
  schema: string,
  options: { readonly givenUpOnly?: boolean; readonly limit?: number } = {},
): Promise<TimerDetail[]> {
  const s = assertSqlIdentifier(schema, 'schema name');
  const { rows } = await on.query<TimerDetailRow>(
    `SELECT ${DETAIL_COLUMNS} FROM ${s}.timers t
      WHERE t.fired_at IS NULL AND t.cancelled_at IS NULL
        AND (t.failed_at IS NOT NULL
             OR (NOT $1::boolean AND t.attempts > 0 AND t.last_error IS NOT NULL))
      ORDER BY (t.failed_at IS NULL), COALESCE(t.failed_at, t.next_attempt_at), t.timer_key
      LIMIT $2`,
    [options.givenUpOnly ?? false, options.limit ?? 500],
  );
  return rows.map(toTimerDetail);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One timer by id or by key, with its state; undefined when there is none. */
export async function showTimer(
  on: SqlExecutor,
  schema: string,
  idOrKey: string,
): Promise<TimerDetail | undefined> {
  const s = assertSqlIdentifier(schema, 'schema name');
  const byId = UUID.test(idOrKey);
  const { rows } = await on.query<TimerDetailRow>(
    `SELECT ${DETAIL_COLUMNS} FROM ${s}.timers t WHERE ${byId ? 't.id = $1::uuid' : 't.timer_key = $1'}`,
    [byId ? idOrKey.toLowerCase() : idOrKey],
  );
  return rows[0] && toTimerDetail(rows[0]);
}

const when = (d: Date | null) => (d ? d.toISOString() : '?');

function notGivenUp(t: TimerDetail): TimerOperationError {
  const show = `\`npm run timers -- show ${t.id}\``;
  switch (t.state) {
    case 'fired':
      return new TimerOperationError(
        'not-given-up',
        `timer ${t.id} already fired at ${when(t.firedAt)} / 已触发，无需重试`,
        `nothing to retry; see ${show}`,
      );
    case 'cancelled':
      return new TimerOperationError(
        'not-given-up',
        `timer ${t.id} was cancelled at ${when(t.cancelledAt)} (its deadline became moot) / 已取消，无需重试`,
        `nothing to retry; see ${show}`,
      );
    case 'failing':
      return new TimerOperationError(
        'not-given-up',
        `timer ${t.id} is not given up: it is failing (${t.attempts} attempts, last error: ${t.lastError}) ` +
          `and the runner retries it by itself at ${when(t.nextAttemptAt)} / 未放弃，运行中的服务会自动重试`,
        `fix the cause; the service retries it by itself. Follow it with ${show}`,
      );
    default:
      return new TimerOperationError(
        'not-given-up',
        `timer ${t.id} is not given up: it is pending, due at ${when(t.dueAt)} / 未放弃，到期时自动触发`,
        `nothing to retry: the service fires it when it is due; see ${show}`,
      );
  }
}

/**
 * Makes a given-up timer due again: clears `failed_at`, sets `next_attempt_at` to `at` (now) and
 * records who asked and why. The service's running runner then fires it with its own handler.
 * `attempts` is kept: the retry is ONE more attempt; should it fail, the timer is given up again at
 * once (and shows up again) rather than backing off for hours unseen. Anything but a given-up timer
 * is refused with a TimerOperationError saying why.
 */
export async function retryTimer(
  client: SqlClient,
  schema: string,
  idOrKey: string,
  request: { readonly by: string; readonly reason: string; readonly at?: Date },
): Promise<TimerDetail> {
  const s = assertSqlIdentifier(schema, 'schema name');
  if (!request.by.trim()) {
    throw new TimerOperationError(
      'by',
      'who asks for the retry is required (by) / 需要操作人',
      'pass --by <name>',
    );
  }
  if (!request.reason.trim()) {
    throw new TimerOperationError(
      'reason',
      'a retry needs a reason (it is recorded) / 重试需要原因',
      'pass --reason "…", e.g. --reason "receiver licence data fixed"',
    );
  }
  const at = request.at ?? new Date();
  const timer = await showTimer(client, s, idOrKey);
  if (!timer) {
    throw new TimerOperationError(
      'unknown-timer',
      `no timer "${idOrKey}" (id or key) / 没有该定时器`,
      'run `npm run timers -- list` to see the failing and given-up timers',
    );
  }
  if (timer.state !== 'given-up') throw notGivenUp(timer);
  // Adds the retry columns on a table the running service has not migrated yet (nullable only).
  await migrateTimers(client, s);
  const { rowCount } = await client.query(
    `UPDATE ${s}.timers
        SET failed_at = NULL, next_attempt_at = $2::timestamptz, locked_until = NULL, locked_by = NULL,
            retried_at = $2::timestamptz, retried_by = $3, retry_reason = $4
      WHERE id = $1 AND failed_at IS NOT NULL AND fired_at IS NULL AND cancelled_at IS NULL`,
    [timer.id, iso(at), request.by.trim(), request.reason.trim()],
  );
  const now = (await showTimer(client, s, timer.id))!;
  // Changed between the read and the update (cancelled, or another operator retried it first).
  if (rowCount !== 1) throw notGivenUp(now);
  return now;
}

export type TimerRetryOutcome =
  /** The runner fired it: its command went through. */
  | 'fired'
  /** The attempt failed and the runner gave up again. */
  | 'given-up'
  /** The attempt failed; the runner retries it by itself later (a runner with attempts to spare). */
  | 'failing'
  /** Cancelled meanwhile: the deadline became moot. */
  | 'cancelled'
  /** No attempt yet within the wait: is the service (its timer runner) running? */
  | 'pending';

/** Waits until a runner has made the attempt a retry asked for, or the time is up. */
export async function waitForTimerRetry(
  on: SqlExecutor,
  schema: string,
  retried: TimerDetail,
  options: { readonly timeoutMs: number; readonly pollMs?: number },
): Promise<{ readonly outcome: TimerRetryOutcome; readonly timer: TimerDetail }> {
  const until = Date.now() + options.timeoutMs;
  for (;;) {
    const t = (await showTimer(on, schema, retried.id)) ?? retried;
    if (t.firedAt) return { outcome: 'fired', timer: t };
    if (t.cancelledAt) return { outcome: 'cancelled', timer: t };
    // attempts counts claims: more than at the retry, and no claim held, means the attempt is over.
    if (t.attempts > retried.attempts && t.lockedBy === null) {
      return { outcome: t.failedAt ? 'given-up' : 'failing', timer: t };
    }
    if (Date.now() >= until) return { outcome: 'pending', timer: t };
    await new Promise((r) => setTimeout(r, Math.min(options.pollMs ?? 100, Math.max(1, until - Date.now()))));
  }
}
