import type { SqlClient, SqlExecutor } from '../sql/sql-client';
import type { EventStore } from '../store/event-store';
import { compareLogPositions, LOG_START, parseLogPosition, type LogPosition } from '../store/events';
import {
  commitBatch,
  sleep,
  storeExtras,
  type BacklogEstimator,
  type BatchContext,
  type Cursor,
  type ProjectionHooks,
} from './batch';
import { CheckpointTables, type CheckpointRow } from './checkpoints';
import { physicalTableNames, validateProjection, type Projection } from './projection';

/** Where a blue/green rebuild stands. */
export interface RebuildProgress {
  readonly name: string;
  readonly version: number;
  readonly generation: number;
  /**
   * `starting`: tables created (or a previous rebuild resumed); `building`: applying the log;
   * `switched`: the new tables serve and the old ones are dropped; `aborted`: stopped, resumable.
   */
  readonly phase: 'starting' | 'building' | 'switched' | 'aborted';
  /** Events read since the rebuild began (a resumed rebuild counts what earlier runs did). */
  readonly eventsDone: number;
  /** Of those, events handed to `apply`. */
  readonly eventsApplied: number;
  /** eventsDone + the backlog estimate, when an estimator is available. */
  readonly totalEstimate?: number;
  /** Events per second read by this run. */
  readonly ratePerSecond: number;
  /** Time spent by this run. */
  readonly elapsedMs: number;
  readonly etaMs?: number;
  readonly position: LogPosition;
  /** True when this run continued a rebuild an earlier (crashed or stopped) run had begun. */
  readonly resumed: boolean;
  /** The physical tables being built. */
  readonly tables: Readonly<Record<string, string>>;
}

export interface RebuildOptions {
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
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: RebuildProgress) => void;
  /** Minimum time between two `building` progress reports (default 1000 ms). */
  readonly progressIntervalMs?: number;
  /** For the total estimate. Default: the store's `backlog` when it has one (the SQL adapters); false: none. */
  readonly estimateBacklog?: BacklogEstimator | false;
  readonly hooks?: ProjectionHooks;
  /** Discard a rebuild of this version in progress and start again (default: resume it). */
  readonly restart?: boolean;
}

export interface RebuildResult {
  /** False when stopped by the signal: the rebuild is kept and the next one resumes it. */
  readonly switched: boolean;
  readonly progress: RebuildProgress;
  /** The physical tables dropped after the switch. */
  readonly dropped: readonly string[];
}

/** A newer version of the projection already serves: this code must not touch its tables. */
export class ProjectionSupersededError extends Error {
  override readonly name = 'ProjectionSupersededError';
  constructor(
    readonly projection: string,
    readonly codeVersion: number,
    readonly storedVersion: number,
  ) {
    super(
      `Projection "${projection}" is at version ${storedVersion} in the database, newer than this code's version ${codeVersion}`,
    );
  }
}

function sameTables(a: Record<string, string>, p: Projection): boolean {
  const keys = Object.keys(a).sort();
  const want = [...p.tables].sort();
  return keys.length === want.length && keys.every((k, i) => k === want[i]);
}

/**
 * Rebuilds a projection from the start of the log into new physical tables while the current ones keep
 * serving, then switches atomically and drops the old tables.
 *
 * The switch is one transaction: the logical VIEWs are recreated over the new tables, the checkpoint row
 * takes the new version, generation, position and `active_tables`, and the rebuild row goes. It happens
 * only once the rebuild is at or past the serving checkpoint, so what readers see never goes back in the
 * log (read-your-writes through `waitFor` survives a switch).
 *
 * Crash-safe and resumable: each batch commits with the rebuild's own checkpoint; a crash or an abort
 * leaves the rebuild row, and the next call (or a runner of the same version) resumes it.
 */
export async function rebuildProjection(options: RebuildOptions): Promise<RebuildResult> {
  validateProjection(options.projection);
  const tables = new CheckpointTables(options.schema ?? storeExtras(options.store).schema);
  await tables.ensure(options.client);
  return runRebuild(options, tables);
}

/** The rebuild loop, for callers that have already ensured the checkpoint tables (the runner). */
export async function runRebuild(options: RebuildOptions, tables: CheckpointTables): Promise<RebuildResult> {
  const { client, store, projection, signal, onProgress } = options;
  const batchSize = options.batchSize ?? 500;
  const interval = options.progressIntervalMs ?? 1000;
  const estimator =
    options.estimateBacklog === false ? undefined : (options.estimateBacklog ?? storeExtras(store).backlog);
  const ctx: BatchContext = {
    client,
    tables,
    projection,
    handles: new Set(projection.handles),
    hooks: options.hooks,
  };

  const begun = await beginRebuild(client, tables, projection, options.restart ?? false);
  let cursor = begun.cursor;
  let eventsDone = begun.eventsDone;
  let eventsApplied = begun.eventsApplied;
  const startedAt = Date.now();
  let readThisRun = 0;
  let lastReport = 0;
  let backlog: number | undefined;
  let backlogAt = -Infinity;

  const estimate = async (): Promise<void> => {
    if (!estimator) return;
    try {
      backlog = await estimator(cursor.position);
      backlogAt = eventsDone;
    } catch {
      backlog = undefined;
    }
  };
  const progress = (phase: RebuildProgress['phase']): RebuildProgress => {
    const elapsedMs = Date.now() - startedAt;
    const ratePerSecond = elapsedMs > 0 ? (readThisRun * 1000) / elapsedMs : 0;
    const totalEstimate = backlog === undefined ? undefined : Math.max(eventsDone, backlogAt + backlog);
    const remaining = totalEstimate === undefined ? undefined : totalEstimate - eventsDone;
    return {
      name: projection.name,
      version: projection.version,
      generation: cursor.generation,
      phase,
      eventsDone,
      eventsApplied,
      totalEstimate,
      ratePerSecond,
      elapsedMs,
      etaMs:
        phase === 'switched'
          ? 0
          : remaining !== undefined && ratePerSecond > 0
            ? Math.round((remaining * 1000) / ratePerSecond)
            : undefined,
      position: cursor.position,
      resumed: begun.resumed,
      tables: cursor.names,
    };
  };
  const report = (phase: RebuildProgress['phase']): RebuildProgress => {
    const p = progress(phase);
    lastReport = Date.now();
    onProgress?.(p);
    return p;
  };

  await estimate();
  report('starting');

  for (;;) {
    if (signal?.aborted) return { switched: false, progress: report('aborted'), dropped: [] };

    const batch = await store.readAll({ after: cursor.position, maxCount: batchSize });
    if (batch.events.length > 0) {
      const outcome = await commitBatch(ctx, cursor, batch);
      if (!outcome.committed) {
        const next = await reloadRebuild(client, tables, projection, cursor);
        if (next === 'switched') return finish(false);
        cursor = next.cursor;
        eventsDone = next.eventsDone;
        eventsApplied = next.eventsApplied;
        continue;
      }
      cursor = { ...cursor, position: batch.next };
      eventsDone += outcome.info.events;
      eventsApplied += outcome.info.applied;
      readThisRun += outcome.info.events;
      if (backlog !== undefined && eventsDone > backlogAt + backlog) await estimate();
      if (Date.now() - lastReport >= interval) report('building');
      if (batch.events.length >= batchSize) continue;
    }

    // Caught up with the log as of this read: switch in, unless the serving tables are further along.
    const outcome = await switchIn(client, tables, projection, cursor);
    if (outcome === 'switched') return finish(true);
    if (outcome === 'behind') {
      if (batch.events.length === 0) await sleep(50, signal);
      continue;
    }
    const next = await reloadRebuild(client, tables, projection, cursor);
    if (next === 'switched') return finish(false);
    cursor = next.cursor;
    eventsDone = next.eventsDone;
    eventsApplied = next.eventsApplied;
  }

  async function finish(byUs: boolean): Promise<RebuildResult> {
    const dropped = byUs ? await tables.dropRetired(client, projection.name) : [];
    return { switched: true, progress: report('switched'), dropped };
  }
}

interface Begun {
  readonly cursor: Cursor;
  readonly eventsDone: number;
  readonly eventsApplied: number;
  readonly resumed: boolean;
}

function cursorOf(tables: CheckpointTables, row: CheckpointRow, slot: Cursor['slot']): Cursor {
  return {
    slot,
    version: row.version,
    generation: row.generation,
    position: parseLogPosition(row.position),
    names: tables.qualifiedNames(row.tables),
  };
}

/** Creates the rebuild row and the new tables, or resumes the rebuild of this version in progress. */
async function beginRebuild(
  client: SqlClient,
  tables: CheckpointTables,
  projection: Projection,
  restart: boolean,
): Promise<Begun> {
  return client.transaction(async (tx) => {
    await tables.lockProjection(tx, projection.name);
    const active = await tables.load(tx, 'active', projection.name, true);
    if (active && active.version > projection.version) {
      throw new ProjectionSupersededError(projection.name, projection.version, active.version);
    }
    const current = await tables.load(tx, 'rebuild', projection.name, true);
    if (
      current &&
      current.version === projection.version &&
      !restart &&
      sameTables(current.tables, projection)
    ) {
      return {
        cursor: cursorOf(tables, current, 'rebuild'),
        eventsDone: Number(current.eventsDone),
        eventsApplied: Number(current.eventsApplied),
        resumed: true,
      };
    }
    if (current) {
      await tables.dropTables(tx, Object.values(current.tables));
      await tables.delete(tx, 'rebuild', projection.name);
    }
    const generation = Math.max(active?.generation ?? 0, current?.generation ?? 0) + 1;
    const physical = physicalTableNames(projection, generation);
    await createTables(tx, tables, projection, physical);
    await tables.insert(tx, 'rebuild', {
      name: projection.name,
      version: projection.version,
      generation,
      position: LOG_START,
      tables: physical,
    });
    return {
      cursor: {
        slot: 'rebuild',
        version: projection.version,
        generation,
        position: LOG_START,
        names: tables.qualifiedNames(physical),
      },
      eventsDone: 0,
      eventsApplied: 0,
      resumed: false,
    };
  });
}

/** Runs the projection's setup on fresh physical tables (dropping leftovers of the same name first). */
export async function createTables(
  tx: SqlExecutor,
  tables: CheckpointTables,
  projection: Projection,
  physical: Record<string, string>,
): Promise<void> {
  await tables.dropTables(tx, Object.values(physical));
  await projection.setup(tx, tables.qualifiedNames(physical));
  for (const t of Object.values(physical)) {
    const { rows } = await tx.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [
      tables.qualify(t),
    ]);
    if (!rows[0]?.ok) {
      throw new Error(`Projection "${projection.name}": setup() did not create table ${tables.qualify(t)}`);
    }
  }
}

/** After a lost race: follow the rebuild row, or learn that someone else switched it in. */
async function reloadRebuild(
  client: SqlClient,
  tables: CheckpointTables,
  projection: Projection,
  cursor: Cursor,
): Promise<Begun | 'switched'> {
  const row = await tables.load(client, 'rebuild', projection.name);
  if (row && row.version === projection.version && sameTables(row.tables, projection)) {
    return {
      cursor: cursorOf(tables, row, 'rebuild'),
      eventsDone: Number(row.eventsDone),
      eventsApplied: Number(row.eventsApplied),
      resumed: true,
    };
  }
  const active = await tables.load(client, 'active', projection.name);
  if (active && active.version > projection.version) {
    throw new ProjectionSupersededError(projection.name, projection.version, active.version);
  }
  if (active && active.version === projection.version && active.generation >= cursor.generation)
    return 'switched';
  throw new Error(
    `Projection "${projection.name}": the rebuild in progress was discarded by another process`,
  );
}

/**
 * The blue/green switch, in one transaction. `behind`: the serving tables are further along the log than
 * the rebuild (another runner keeps them live): catch up more first. `moved`: the rebuild row is not
 * where the cursor thought.
 */
async function switchIn(
  client: SqlClient,
  tables: CheckpointTables,
  projection: Projection,
  cursor: Cursor,
): Promise<'switched' | 'behind' | 'moved'> {
  return client.transaction(async (tx) => {
    await tables.lockProjection(tx, projection.name);
    const active = await tables.load(tx, 'active', projection.name, true);
    const rebuild = await tables.load(tx, 'rebuild', projection.name, true);
    if (!rebuild || rebuild.version !== cursor.version || rebuild.generation !== cursor.generation)
      return 'moved';
    if (compareLogPositions(parseLogPosition(rebuild.position), cursor.position) !== 0) return 'moved';
    if (active && active.version > rebuild.version) {
      throw new ProjectionSupersededError(projection.name, projection.version, active.version);
    }
    if (active && compareLogPositions(parseLogPosition(active.position), cursor.position) > 0)
      return 'behind';

    await tables.pointViews(tx, rebuild.tables, active?.tables);
    if (!active) {
      await tables.insert(tx, 'active', {
        name: projection.name,
        version: rebuild.version,
        generation: rebuild.generation,
        position: cursor.position,
        tables: rebuild.tables,
      });
    }
    const retired = active ? [...active.retiredTables, ...Object.values(active.tables)] : [];
    await tx.query(
      `UPDATE ${tables.checkpoints}
          SET version = $2, generation = $3, position = $4, active_tables = $5::jsonb, retired_tables = $6::jsonb,
              events_done = $7, events_applied = $8, last_recorded_at = $9::timestamptz,
              last_applied_at = $10::timestamptz, updated_at = now()
        WHERE name = $1`,
      [
        projection.name,
        rebuild.version,
        rebuild.generation,
        rebuild.position,
        JSON.stringify(rebuild.tables),
        JSON.stringify(retired),
        rebuild.eventsDone.toString(),
        rebuild.eventsApplied.toString(),
        rebuild.lastRecordedAt?.toISOString() ?? null,
        rebuild.lastAppliedAt?.toISOString() ?? null,
      ],
    );
    await tables.delete(tx, 'rebuild', projection.name);
    return 'switched';
  });
}
