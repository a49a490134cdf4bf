import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { deadLetterTopicFor } from '@lianfang/contracts';
import type { CommandObservation, CommandObserver } from '@lianfang/eventsourcing';
import type { ConsumerLag, OpenDeadLetterCount } from '@lianfang/messaging';

/** What a projection reports (`ProjectionRunner.status()` fits). */
export interface ProjectionLagReport {
  readonly name: string;
  /** Events behind: undefined when unknown (not caught up and no estimate yet). */
  readonly lagEvents?: number;
  /** Time behind in ms, when known. */
  readonly lagMs?: number | undefined;
}

type Maybe<T> = T | Promise<T>;

/**
 * Plain functions the service's wiring registers (each kind may be registered several times: several
 * projections, consumers…). They run when `/metrics` is scraped, each bounded by the collect timeout; one
 * that fails or times out leaves its metric empty for that scrape and counts in
 * `lianfang_metrics_collect_errors_total{collector}` (the scrape itself still answers).
 */
export interface MetricsCollectors {
  /** Unsent outbox rows (`countUnsentOutbox(client, schema)` or `relay.backlog()`). */
  readonly outboxBacklog?: () => Maybe<number>;
  /** The projections' status (`() => runners.map((r) => r.status())`). */
  readonly projections?: () => Maybe<Iterable<ProjectionLagReport>>;
  /** `transport.consumerLag(groupId, topics)` for each consumer (see `consumerLagCollector`). */
  readonly consumerLag?: () => Promise<readonly ConsumerLag[]>;
  /** `countOpenDeadLetters(client, schema)`. */
  readonly deadLetters?: () => Promise<readonly OpenDeadLetterCount[]>;
}

export interface ServiceMetricsOptions {
  /** Added as the `service` label to every series of this registry. */
  readonly service: string;
  /** process_* and nodejs_* metrics (default true). */
  readonly defaultMetrics?: boolean;
  /** Longest a collector may take per scrape (default 5 000 ms). */
  readonly collectTimeoutMs?: number;
  readonly collectors?: MetricsCollectors;
}

/** Seconds: commands take milliseconds normally, seconds under contention or a slow store. */
export const COMMAND_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Kind = keyof MetricsCollectors;

/**
 * The metrics of one app, in a registry of its own (never prom-client's global one: in the embedded
 * mode several apps share a process and each answers its own `/metrics`). It is also the app's
 * `CommandObserver` (ObservabilityModule provides it as `COMMAND_OBSERVER`).
 */
export class ServiceMetrics implements CommandObserver {
  readonly registry = new Registry();
  readonly service: string;
  private readonly timeoutMs: number;
  private readonly collectors: { [K in Kind]: Array<NonNullable<MetricsCollectors[K]>> } = {
    outboxBacklog: [],
    projections: [],
    consumerLag: [],
    deadLetters: [],
  };
  private readonly commands: Counter<'command' | 'outcome'>;
  private readonly commandDuration: Histogram<'command' | 'outcome'>;
  private readonly commandRetries: Counter<'command'>;
  private readonly collectErrors: Counter<'collector'>;
  /** Collector runs of the scrape in progress. */
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(options: ServiceMetricsOptions) {
    this.service = options.service;
    this.timeoutMs = options.collectTimeoutMs ?? 5_000;
    this.registry.setDefaultLabels({ service: options.service });
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    this.commands = new Counter({
      name: 'lianfang_commands_total',
      help: 'Commands handled, by type and outcome (accepted, unchanged, replayed, rejected, conflict, failed)',
      labelNames: ['command', 'outcome'],
      registers,
    });
    this.commandDuration = new Histogram({
      name: 'lianfang_command_duration_seconds',
      help: 'Load–decide–append time of a command, retries included',
      labelNames: ['command', 'outcome'],
      buckets: COMMAND_DURATION_BUCKETS,
      registers,
    });
    this.commandRetries = new Counter({
      name: 'lianfang_command_retries_total',
      help: 'Version conflicts retried by the load–decide–append loop (another writer got there first), by command type',
      labelNames: ['command'],
      registers,
    });
    // The gauges' collect() runs with the gauge as `this`: they reach this object through these.
    const run = <K extends Kind, T>(
      kind: K,
      call: (f: NonNullable<MetricsCollectors[K]>) => Promise<T> | T,
    ) => this.run(kind, call);
    const inflight = this.inflight;
    new Gauge({
      name: 'lianfang_outbox_backlog',
      help: 'Outbox rows not yet published to the bus',
      registers,
      async collect() {
        this.reset();
        const counts = await run('outboxBacklog', (f) => f());
        if (counts.length > 0) this.set(counts.reduce((a, b) => a + b, 0));
      },
    });
    new Gauge({
      name: 'lianfang_projection_lag_events',
      help: 'Events of the log not yet applied by the projection (absent while unknown)',
      labelNames: ['projection'],
      registers,
      async collect() {
        this.reset();
        for (const reports of await run('projections', async (f) => [...(await f())])) {
          for (const r of reports) {
            if (r.lagEvents !== undefined) this.set({ projection: r.name }, r.lagEvents);
          }
        }
      },
    });
    new Gauge({
      name: 'lianfang_projection_lag_seconds',
      help: 'How far behind the log the projection is in time (absent while unknown)',
      labelNames: ['projection'],
      registers,
      async collect() {
        this.reset();
        for (const reports of await run('projections', async (f) => [...(await f())])) {
          for (const r of reports) {
            if (r.lagMs !== undefined) this.set({ projection: r.name }, r.lagMs / 1000);
          }
        }
      },
    });
    new Gauge({
      name: 'lianfang_consumer_lag_messages',
      help: 'Messages on the bus not yet processed by the consumer group (end offset − committed offset)',
      labelNames: ['group', 'topic', 'partition'],
      registers,
      async collect() {
        this.reset();
        for (const lags of await run('consumerLag', (f) => f())) {
          for (const l of lags) {
            this.set({ group: l.groupId, topic: l.topic, partition: String(l.partition) }, l.lag);
          }
        }
      },
    });
    new Gauge({
      name: 'lianfang_dlq_messages',
      help: 'Dead letters waiting for an operator (parked heads and the messages parked behind them), by DLQ topic',
      labelNames: ['group', 'topic'],
      registers,
      async collect() {
        this.reset();
        for (const counts of await run('deadLetters', (f) => f())) {
          for (const c of counts) {
            this.inc({ group: c.groupId, topic: deadLetterTopicFor(c.topic) }, c.count);
          }
        }
      },
    });
    // Registered after the gauges: a scrape collects in registration order, so by the time this one is
    // read the gauges' collectors of the same scrape are running, and it waits for them.
    this.collectErrors = new Counter({
      name: 'lianfang_metrics_collect_errors_total',
      help: 'Collectors that failed or timed out during a scrape (their metric was left empty)',
      labelNames: ['collector'],
      registers,
      async collect() {
        await Promise.allSettled([...inflight]);
      },
    });
    if (options.collectors) this.addCollectors(options.collectors);
  }

  /** Registers more collectors (e.g. when a relay, a projection or a consumer has started). */
  addCollectors(collectors: MetricsCollectors): void {
    for (const kind of Object.keys(this.collectors) as Kind[]) {
      const f = collectors[kind];
      // Each list holds the functions of its own kind.
      if (f) (this.collectors[kind] as unknown[]).push(f);
    }
  }

  /** CommandObserver: counts the command and its duration. */
  observe(o: CommandObservation): void {
    const labels = { command: o.command, outcome: o.outcome };
    this.commands.inc(labels);
    this.commandDuration.observe(labels, o.durationSeconds);
    if (o.retries > 0) this.commandRetries.inc({ command: o.command }, o.retries);
  }

  /** The Prometheus text exposition. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Runs every collector of a kind, each bounded by the timeout; the failures are counted and dropped. */
  private async run<K extends Kind, T>(
    kind: K,
    call: (f: NonNullable<MetricsCollectors[K]>) => Promise<T> | T,
  ): Promise<T[]> {
    const fns = this.collectors[kind] as Array<NonNullable<MetricsCollectors[K]>>;
    const all = Promise.all(
      fns.map(async (f) => {
        try {
          return { ok: true as const, value: await withTimeout(Promise.resolve(call(f)), this.timeoutMs) };
        } catch {
          this.collectErrors.inc({ collector: kind });
          return { ok: false as const };
        }
      }),
    );
    this.inflight.add(all);
    const results = await all.finally(() => this.inflight.delete(all));
    return results.flatMap((r) => (r.ok ? [r.value] : []));
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`collector took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
