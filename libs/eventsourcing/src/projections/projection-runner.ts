import type { SqlClient } from '../sql/sql-client';
import type { EventStore } from '../store/event-store';
import {
  compareLogPositions,
  formatLogPosition,
  LOG_START,
  parseLogPosition,
  type LogPosition,
} from '../store/events';
import {
  commitBatch,
  sleep,
  storeExtras,
  Waker,
  type BacklogEstimator,
  type BatchContext,
  type Cursor,
  type ProjectionHooks,
} from './batch';
import { CheckpointTables, type CheckpointRow } from './checkpoints';
import { physicalTableNames, validateProjection, type Projection, type TableNames } from './projection';
import { createTables, ProjectionSupersededError, runRebuild, type RebuildProgress } from './rebuild';

export interface ProjectionRunnerOptions {
  /** The database of the service's event store: read models and checkpoints live beside it. */
  readonly client: SqlClient;
  readonly store: EventStore;
  readonly projection: Projection;
  /**
   * Schema of the read models and checkpoint tables. Default: the store's schema when it has one (the
   * SQL adapters), else the connection's search_path.
   */
  readonly schema?: string;
  /** Events per read and per transaction (default 500). */
  readonly batchSize?: number;
  /** Poll interval once caught up, when no notification arrives (default 1000 ms). */
  readonly idleWaitMs?: number;
  /**
   * A channel the event store NOTIFYs on append: the runner then reads at once instead of at the next
   * poll. Default: the store's `eventsChannel` when it has one (the SQL adapters); false: poll only.
   */
  readonly notifyChannel?: string | false;
  /** Stops the runner (it finishes the batch in flight). */
  readonly signal?: AbortSignal;
  /**
   * For `lagEvents` and rebuild totals. Default: the store's `backlog` when it has one (the SQL adapters).
   * Without one (or false) `lagEvents` is known only when caught up (0).
   */
  readonly estimateBacklog?: BacklogEstimator | false;
  readonly onRebuildProgress?: (progress: RebuildProgress) => void;
  readonly hooks?: ProjectionHooks;
  /** Backoff after a failed batch: doubles from `initialMs` up to `maxMs` (defaults 100 ms, 30 s). */
  readonly retry?: { readonly initialMs?: number; readonly maxMs?: number };
  readonly logger?: Pick<Console, 'warn' | 'error'>;
}

export type ProjectionState =
  | 'starting'
  /** Building new tables from the start of the log; the previous tables keep serving, unchanged. */
  | 'rebuilding'
  | 'catching-up'
  | 'live'
  | 'stopped'
  /** A newer version serves: this (older) code stays away from its tables. */
  | 'superseded';

export interface ProjectionStatus {
  readonly name: string;
  /** The code's version. */
  readonly version: number;
  readonly state: ProjectionState;
  /** The version of the tables serving now: lower than `version` while a rebuild runs. */
  readonly servingVersion: number | undefined;
  /** Where the SERVING tables are in the log (during a rebuild: those of the previous version). */
  readonly checkpoint: LogPosition | undefined;
  /** Physical tables serving now, logical → physical. */
  readonly tables: TableNames | undefined;
  /** Events of the log after the checkpoint: 0 when caught up, else the estimate (when there is one). */
  readonly lagEvents?: number;
  /** Time behind: 0 when caught up, else now − recordedAt of the last event applied (or first pending). */
  readonly lagMs: number | undefined;
  /** The last read found nothing more (as of `checkedAt`). */
  readonly caughtUp: boolean;
  /** When this runner last committed a batch that changed the read model. */
  readonly lastAppliedAt: Date | null;
  /** recordedAt of the last event behind the checkpoint. */
  readonly lastEventRecordedAt: Date | null;
  /** Events this runner has applied since it started. */
  readonly eventsApplied: number;
  readonly rebuild?: RebuildProgress;
  /** The last failure; cleared by the next successful batch. */
  readonly lastError?: string;
}

/** `waitFor` gave up: the projection had not reached the position in time. */
export class ProjectionWaitTimeoutError extends Error {
  override readonly name = 'ProjectionWaitTimeoutError';
  constructor(
    readonly projection: string,
    readonly position: LogPosition,
    readonly checkpoint: LogPosition | undefined,
    readonly timeoutMs: number,
  ) {
    super(
      `Projection "${projection}" did not reach ${formatLogPosition(position)} within ${timeoutMs} ms ` +
        `(at ${checkpoint ? formatLogPosition(checkpoint) : 'nothing yet'})`,
    );
  }
}

interface Waiter {
  readonly position: LogPosition;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/**
 * Runs one projection: catches up from its checkpoint with `readAll` batches, then follows the log
 * (re-reading on a notification, a `waitFor`, or every `idleWaitMs`). Each batch's read-model changes
 * and its checkpoint commit in one transaction, so a crash never doubles or loses an effect.
 *
 * On start: no checkpoint → creates the tables (and the logical views) and builds from the start of the
 * log while serving; a stored version lower than the code's → blue/green rebuild, then serves the new
 * tables; a higher one → `superseded`, touches nothing.
 */
export class ProjectionRunner {
  private readonly projection: Projection;
  private readonly tables: CheckpointTables;
  private readonly batchSize: number;
  private readonly idleWaitMs: number;
  private readonly controller = new AbortController();
  private readonly waker = new Waker();
  private readonly waiters = new Set<Waiter>();
  private readonly logger: Pick<Console, 'warn' | 'error'>;
  private readonly ctx: BatchContext;
  private readonly notifyChannel: string | undefined;
  private readonly estimateBacklog: BacklogEstimator | undefined;

  private state: ProjectionState = 'starting';
  private cursor: Cursor | undefined;
  private needsRebuild = false;
  private caughtUp = false;
  private lagEvents: number | undefined;
  private lastEstimateAt = 0;
  private lastAppliedAt: Date | null = null;
  private lastEventRecordedAt: Date | null = null;
  private pendingSince: Date | null = null;
  private eventsApplied = 0;
  private rebuildProgress: RebuildProgress | undefined;
  private lastError: string | undefined;
  private heldBackWaitMs = 0;
  private running: Promise<void> | undefined;

  constructor(private readonly options: ProjectionRunnerOptions) {
    validateProjection(options.projection);
    this.projection = options.projection;
    const extras = storeExtras(options.store);
    this.tables = new CheckpointTables(options.schema ?? extras.schema);
    this.notifyChannel =
      options.notifyChannel === false ? undefined : (options.notifyChannel ?? extras.eventsChannel);
    this.estimateBacklog =
      options.estimateBacklog === false ? undefined : (options.estimateBacklog ?? extras.backlog);
    this.batchSize = options.batchSize ?? 500;
    this.idleWaitMs = options.idleWaitMs ?? 1000;
    this.logger = options.logger ?? console;
    this.ctx = {
      client: options.client,
      tables: this.tables,
      projection: this.projection,
      handles: new Set(this.projection.handles),
      hooks: options.hooks,
    };
    if (options.signal) {
      if (options.signal.aborted) this.controller.abort();
      else options.signal.addEventListener('abort', () => this.controller.abort(), { once: true });
    }
    this.controller.signal.addEventListener('abort', () => this.waker.kick(), { once: true });
  }

  /**
   * Creates the bookkeeping (and, the first time, the tables) and starts the loop in the background.
   * Resolves once the runner knows what serves; a rebuild it has to do continues in the background.
   */
  async start(): Promise<void> {
    if (this.running) throw new Error(`Projection "${this.projection.name}" is already started`);
    let ready!: () => void;
    let failed!: (e: unknown) => void;
    const started = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    this.running = this.run(ready, failed);
    await started;
  }

  /** Resolves when the loop has ended (after `stop()`, the signal, or when superseded). */
  get done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** Stops after the batch in flight and waits for the loop to end. */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.done;
  }

  status(): ProjectionStatus {
    const now = Date.now();
    const since = this.lastEventRecordedAt ?? this.pendingSince;
    return {
      name: this.projection.name,
      version: this.projection.version,
      state: this.state,
      servingVersion: this.cursor?.version,
      checkpoint: this.cursor?.position,
      tables: this.cursor?.names,
      lagEvents: this.caughtUp ? 0 : this.lagEvents,
      lagMs: this.caughtUp ? 0 : since ? Math.max(0, now - since.getTime()) : undefined,
      caughtUp: this.caughtUp,
      lastAppliedAt: this.lastAppliedAt,
      lastEventRecordedAt: this.lastEventRecordedAt,
      eventsApplied: this.eventsApplied,
      ...(this.rebuildProgress ? { rebuild: this.rebuildProgress } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /**
   * Resolves once the serving tables reflect the log up to `position` (e.g. a command's
   * `lastLogPosition`): read-your-writes. Rejects with ProjectionWaitTimeoutError after `timeoutMs`.
   * During a rebuild the serving tables are the previous version's: a position they already reflect
   * resolves at once, a later one waits for the switch.
   */
  waitFor(position: LogPosition, timeoutMs = 5000): Promise<void> {
    if (this.reached(position)) return Promise.resolve();
    if (this.state === 'stopped' || this.state === 'superseded') {
      return Promise.reject(new Error(`Projection "${this.projection.name}" is ${this.state}`));
    }
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new ProjectionWaitTimeoutError(this.projection.name, position, this.cursor?.position, timeoutMs),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        position,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.add(waiter);
      this.waker.kick();
    });
  }

  private reached(position: LogPosition): boolean {
    // The serving tables: during a rebuild, those of the previous version (what queries read meanwhile).
    return this.cursor !== undefined && compareLogPositions(this.cursor.position, position) >= 0;
  }

  private settleWaiters(): void {
    for (const w of this.waiters) {
      if (this.reached(w.position)) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  private async run(ready: () => void, failed: (e: unknown) => void): Promise<void> {
    const signal = this.controller.signal;
    let unlisten: (() => Promise<void>) | undefined;
    try {
      try {
        await this.tables.ensure(this.options.client);
        try {
          await this.init();
        } catch (e) {
          if (!(e instanceof ProjectionSupersededError)) throw e;
          this.supersede(e);
          ready();
          return;
        }
        if (this.notifyChannel) {
          try {
            unlisten = await this.options.client.listen(this.notifyChannel, () => this.waker.kick());
          } catch (e) {
            this.logger.warn(`Projection "${this.projection.name}": no LISTEN (${String(e)}), polling only`);
          }
        }
      } catch (e) {
        failed(e);
        return;
      }
      ready();
      await this.dropRetired();
      await this.loop(signal);
    } finally {
      if (this.state !== 'superseded') this.state = 'stopped';
      const reason = new Error(`Projection "${this.projection.name}" ${this.state}`);
      for (const w of this.waiters) w.reject(reason);
      this.waiters.clear();
      await unlisten?.().catch(() => undefined);
    }
  }

  private async loop(signal: AbortSignal): Promise<void> {
    const initialBackoff = this.options.retry?.initialMs ?? 100;
    const maxBackoff = this.options.retry?.maxMs ?? 30_000;
    let backoff = initialBackoff;
    while (!signal.aborted && this.state !== 'superseded') {
      try {
        if (this.needsRebuild) {
          await this.rebuild(signal);
        } else {
          await this.step(signal);
        }
        backoff = initialBackoff;
      } catch (e) {
        if (e instanceof ProjectionSupersededError) {
          this.supersede(e);
          return;
        }
        this.lastError = e instanceof Error ? e.message : String(e);
        this.logger.error(
          `Projection "${this.projection.name}" failed, retrying in ${backoff} ms: ${this.lastError}`,
        );
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, maxBackoff);
        await this.reload().catch(() => undefined);
      }
    }
  }

  /** One read and, when it found events, one transaction. */
  private async step(signal: AbortSignal): Promise<void> {
    const cursor = this.cursor!;
    const batch = await this.options.store.readAll({ after: cursor.position, maxCount: this.batchSize });
    if (batch.events.length === 0) {
      this.caughtUp = true;
      this.state = 'live';
      this.lastError = undefined;
      this.settleWaiters();
      // Someone waits for a position we cannot read yet: it is committed but held back behind an older
      // transaction still running (see readAll), and its notification has come and gone. Poll soon.
      this.heldBackWaitMs =
        this.waiters.size === 0
          ? 0
          : Math.min(this.idleWaitMs, this.heldBackWaitMs === 0 ? 5 : this.heldBackWaitMs * 2);
      await this.waker.wait(this.heldBackWaitMs || this.idleWaitMs, signal);
      return;
    }
    this.heldBackWaitMs = 0;
    if (!this.lastEventRecordedAt) this.pendingSince = batch.events[0].metadata.recordedAt;
    const outcome = await commitBatch(this.ctx, cursor, batch);
    if (!outcome.committed) {
      await this.reload();
      return;
    }
    this.cursor = { ...cursor, position: batch.next };
    this.lastEventRecordedAt = outcome.last.metadata.recordedAt;
    if (outcome.info.applied > 0) this.lastAppliedAt = new Date();
    this.eventsApplied += outcome.info.applied;
    this.caughtUp = batch.events.length < this.batchSize;
    this.state = this.caughtUp ? 'live' : 'catching-up';
    this.lastError = undefined;
    this.settleWaiters();
    if (!this.caughtUp) await this.estimateLag();
  }

  private async estimateLag(): Promise<void> {
    const estimate = this.estimateBacklog;
    if (!estimate || Date.now() - this.lastEstimateAt < 1000) return;
    this.lastEstimateAt = Date.now();
    try {
      this.lagEvents = await estimate(this.cursor!.position);
    } catch {
      this.lagEvents = undefined;
    }
  }

  private async rebuild(signal: AbortSignal): Promise<void> {
    this.state = 'rebuilding';
    this.caughtUp = false;
    const result = await runRebuild(
      {
        client: this.options.client,
        store: this.options.store,
        projection: this.projection,
        schema: this.options.schema,
        batchSize: this.batchSize,
        signal,
        estimateBacklog: this.estimateBacklog ?? false,
        hooks: this.options.hooks,
        onProgress: (p) => {
          this.rebuildProgress = p;
          this.options.onRebuildProgress?.(p);
        },
      },
      this.tables,
    );
    if (!result.switched) return;
    this.rebuildProgress = result.progress;
    await this.reload();
  }

  private supersede(e: ProjectionSupersededError): void {
    this.state = 'superseded';
    this.lastError = e.message;
    this.logger.warn(e.message);
  }

  /** First start: make sure something serves (new tables + views), or decide to rebuild. */
  private async init(): Promise<void> {
    const { client } = this.options;
    const p = this.projection;
    const row = await client.transaction(async (tx) => {
      await this.tables.lockProjection(tx, p.name);
      const active = await this.tables.load(tx, 'active', p.name, true);
      if (active) return active;
      const rebuilding = await this.tables.load(tx, 'rebuild', p.name);
      if (rebuilding?.version === p.version) return undefined; // a first build in progress: resume it
      const generation = Math.max(0, rebuilding?.generation ?? 0) + 1;
      const physical = physicalTableNames(p, generation);
      await createTables(tx, this.tables, p, physical);
      await this.tables.pointViews(tx, physical);
      await this.tables.insert(tx, 'active', {
        name: p.name,
        version: p.version,
        generation,
        position: LOG_START,
        tables: physical,
      });
      return this.tables.load(tx, 'active', p.name);
    });
    if (row) this.adopt(row);
    else this.needsRebuild = true;
  }

  /** Re-reads the serving row (after a lost race, a switch elsewhere, or an error). */
  private async reload(): Promise<void> {
    const row = await this.tables.load(this.options.client, 'active', this.projection.name);
    if (row) this.adopt(row);
  }

  private adopt(row: CheckpointRow): void {
    const p = this.projection;
    if (row.version > p.version) throw new ProjectionSupersededError(p.name, p.version, row.version);
    const keys = Object.keys(row.tables).sort().join(',');
    if (row.version === p.version && keys !== [...p.tables].sort().join(',')) {
      throw new Error(
        `Projection "${p.name}" v${p.version}: the code owns tables [${[...p.tables].join(', ')}] but the database ` +
          `has [${keys}] for the same version: bump the version to rebuild`,
      );
    }
    this.cursor = {
      slot: 'active',
      version: row.version,
      generation: row.generation,
      position: parseLogPosition(row.position),
      names: this.tables.qualifiedNames(row.tables),
    };
    this.lastEventRecordedAt = row.lastRecordedAt;
    this.needsRebuild = row.version < p.version;
    this.settleWaiters();
  }

  private async dropRetired(): Promise<void> {
    try {
      await this.tables.dropRetired(this.options.client, this.projection.name);
    } catch (e) {
      this.logger.warn(`Projection "${this.projection.name}": could not drop retired tables: ${String(e)}`);
    }
  }
}

/** Starts a runner; `await runner.stop()` (or abort the signal) to end it. */
export async function startProjection(options: ProjectionRunnerOptions): Promise<ProjectionRunner> {
  const runner = new ProjectionRunner(options);
  await runner.start();
  return runner;
}
