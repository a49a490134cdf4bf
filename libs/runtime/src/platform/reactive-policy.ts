import { Logger } from '@nestjs/common';
import type { LogPosition, Projection, RecordedEvent } from '@lianfang/eventsourcing';
import type { ServiceMetrics } from '../observability/metrics';
import type { Platform } from './platform';
import { ServiceProjection } from './service-projection';

/** After a failure, the wait doubles from the poll interval up to this. */
const MAX_BACKOFF_MS = 60_000;
/** After an item was done, it is not tried again before this (its projection drops it meanwhile). */
const SETTLE_MS = 30_000;

export interface ReactivePolicyOptions<W, E extends RecordedEvent = RecordedEvent> {
  /** The logger's context, e.g. the provider's class name. */
  readonly name: string;
  /** The policy's own read model: the facts the work is derived from, checkpointed. */
  readonly projection: Projection<E>;
  /** The work left, read from that read model (a bounded batch: the next pass reads the rest). */
  readonly pending: (platform: Pick<Platform, 'sql' | 'schema'>) => Promise<W[]>;
  /** One item's identity from pass to pass (its backoff is kept under it). */
  readonly keyOf: (work: W) => string;
  /** Does one item: a command with a deterministic commandId, so doing it twice stores nothing twice. */
  readonly perform: (work: W) => Promise<void>;
  /** One item in a log line, e.g. "release of t-1 at facility f-1". */
  readonly describe: (work: W) => string;
  /** How often the work is looked for besides the nudges, ms. */
  readonly pollMs: number;
}

/**
 * Work derived from the log, done by commands with deterministic ids, re-checked until none is left.
 *
 * A policy over persisted facts, not a command's aftermath: its read model records the facts, `pending`
 * derives the work from them, and a pass performs each item. A crash between the trigger and the work
 * (or in the middle of it) loses nothing: the next pass — at start once the read model has caught up,
 * every `pollMs`, or nudged after a command — finds what is left, and the commands' deterministic ids
 * make a second pass (another instance, a retry) store nothing twice. An item that fails waits longer
 * each time (doubling, at most a minute); one just done waits SETTLE_MS, should it still be listed.
 *
 * Owned by a Nest provider: `start` in onApplicationBootstrap, `stop` in onModuleDestroy.
 */
export class ReactivePolicy<W, E extends RecordedEvent = RecordedEvent> {
  private readonly readModel: ServiceProjection<E>;
  private readonly logger: Logger;
  private platform?: Pick<Platform, 'sql' | 'schema'>;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private startPass?: Promise<void>;
  private again = false;
  private stopped = false;
  /** Per item that failed or was just done: not before this time (ms), and how many failures. */
  private readonly backoff = new Map<string, { until: number; failures: number }>();

  constructor(private readonly options: ReactivePolicyOptions<W, E>) {
    this.readModel = new ServiceProjection(options.projection);
    this.logger = new Logger(options.name);
  }

  /**
   * Starts the read model, the poll, and a pass over what the log held at start. With `passes: false`
   * only the read model runs (the facts are kept; the work waits, e.g. for a port not wired yet).
   */
  async start(
    platform: Pick<Platform, 'sql' | 'store' | 'schema'>,
    metrics: ServiceMetrics,
    { passes = true }: { passes?: boolean } = {},
  ): Promise<void> {
    this.platform = platform;
    await this.readModel.start(platform, metrics);
    if (!passes) return;
    this.timer = setInterval(() => void this.drain(), this.options.pollMs);
    this.timer.unref();
    // At start, what a crash left undone: once the read model has read the log to its end.
    this.startPass = this.readModel.caughtUp().then(
      () => this.drain(),
      (error: unknown) => this.logger.warn(`pass at start: ${String(error)}`),
    );
  }

  /** Until the pass at start (over what the log held then) is done. */
  async started(): Promise<void> {
    await this.startPass;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.readModel.stop();
  }

  /** After a command that makes work: a pass as soon as the read model has seen it (no wait for the poll). */
  nudgeAfter(position: LogPosition): void {
    this.readModel.waitFor(position).then(
      () => this.drain(),
      (error: unknown) => this.logger.warn(`nudge: ${String(error)}`),
    );
  }

  /** Until the read model has applied the log up to `position` (tests, read-your-writes). */
  waitFor(position: LogPosition): Promise<void> {
    return this.readModel.waitFor(position);
  }

  /** The work left now. */
  pending(): Promise<W[]> {
    if (!this.platform) throw new Error(`${this.options.name} has not started`);
    return this.options.pending(this.platform);
  }

  /** One pass at a time; a nudge during a pass runs one more. */
  drain(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.pass();
        } while (this.again && !this.stopped);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async pass(): Promise<void> {
    if (this.stopped || !this.platform) return;
    let pending: W[];
    try {
      pending = await this.pending();
    } catch (error) {
      this.logger.warn(`cannot read the pending work: ${String(error)}`);
      return;
    }
    const { keyOf, perform, describe, pollMs } = this.options;
    const keys = new Set(pending.map(keyOf));
    for (const key of this.backoff.keys()) if (!keys.has(key)) this.backoff.delete(key);
    for (const work of pending) {
      if (this.stopped) return;
      const key = keyOf(work);
      const wait = this.backoff.get(key);
      if (wait && wait.until > Date.now()) continue;
      try {
        await perform(work);
        // Done: the read model drops it shortly. Should it stay, look again later, not every poll.
        this.backoff.set(key, { failures: 0, until: Date.now() + SETTLE_MS });
      } catch (error) {
        const failures = (wait?.failures ?? 0) + 1;
        this.backoff.set(key, {
          failures,
          until: Date.now() + Math.min(MAX_BACKOFF_MS, pollMs * 2 ** failures),
        });
        this.logger.warn(`${describe(work)} failed (${failures}): ${String(error)}`);
      }
    }
  }
}
