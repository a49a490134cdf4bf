import { Logger } from '@nestjs/common';
import {
  createPgliteClient,
  createPostgresClient,
  createPostgresEventStore,
  type SqlClient,
  type SqlEventStore,
} from '@lianfang/eventsourcing';
import {
  createKafkaTransport,
  createMemoryTransport,
  serviceTopics,
  startOutboxRelay,
  type OutboxRelay,
  type OutboxRelayOptions,
  type Transport,
} from '@lianfang/messaging';
import type { ReadinessCheck } from '../health';
import type { SharedResources } from '../service';
import type { ServiceConfig } from '../service-config';
import { describeError, PlatformStartError, redactUrl } from './errors';
import { preparePgliteDataDir, type PgliteDataDir } from './pglite-data-dir';
import { busReadinessCheck, sqlReadinessCheck, type BusReadinessCheck } from './readiness';

/** `PLATFORM`: the service's `Platform` (what PlatformModule opened), for what the tokens do not cover. */
export const PLATFORM = 'lianfang.PLATFORM';

export interface PlatformOptions {
  /**
   * The bounded context, which names the service's topic `lianfang.<context>.v1` (and its `.dlq`).
   * Default: the service name without `-service` (`transfer-service` → `transfer`), which is also the
   * service's default DATABASE_SCHEMA. The topic is the published language: it does not follow a
   * DATABASE_SCHEMA override.
   */
  readonly context?: string;
  /** Outbox relay settings beyond the defaults (tests shorten the idle poll). */
  readonly relay?: Partial<
    Pick<OutboxRelayOptions, 'idlePollMs' | 'batchSize' | 'retention' | 'backoff' | 'stopTimeoutMs'>
  >;
  /** Where topic settings are read (KAFKA_TOPIC_PARTITIONS, KAFKA_REPLICATION_FACTOR); default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** What a service runs on, opened from its configuration. PlatformModule owns its life cycle. */
export interface Platform {
  readonly service: string;
  readonly context: string;
  /** `lianfang.<context>.v1`: where the relay publishes this service's outbox (integration events). */
  readonly topic: string;
  /** DATABASE_SCHEMA: the schema of the event store, its outbox and the service's tables. */
  readonly schema: string;
  readonly config: ServiceConfig;
  /** The service's one SqlClient (PGlite instance or pg pool): events, outbox, read models, inbox. */
  readonly sql: SqlClient;
  /** The event store, in DATABASE_SCHEMA, migrated. */
  readonly store: SqlEventStore;
  readonly transport: Transport;
  /** True when the transport came from `shared.transport`: its owner (the embedded platform) closes it. */
  readonly sharedTransport: boolean;
  /** PGlite: the cluster directory, and whether it held data from an earlier run. */
  readonly pglite?: { readonly dir: string; readonly existed: boolean };
  /** The checks `/ready` runs: the store, then the bus. */
  readonly readinessChecks: readonly ReadinessCheck[];
  /** The outbox relay, while the app runs. */
  relay(): OutboxRelay | undefined;
}

/** The default context of a service: `transfer-service` → `transfer`. */
export function contextOfService(service: string): string {
  return service.replace(/-service$/, '');
}

/**
 * Opens everything a service's configuration names, in order: SqlClient, event store (migrated), bus
 * (topics ensured). On failure, closes what it had opened and throws a `PlatformStartError` that says
 * which dependency failed and what to do. The relay starts with `start()`.
 */
export async function openPlatform(
  service: string,
  config: ServiceConfig,
  shared: SharedResources = {},
  options: PlatformOptions = {},
): Promise<PlatformLifecycle> {
  const log = new Logger(service);
  const context = options.context ?? contextOfService(service);
  const [eventsTopic, deadLetterTopic] = serviceTopics(context, {
    env: options.env,
    ...(config.KAFKA_TOPIC_PARTITIONS !== undefined ? { partitions: config.KAFKA_TOPIC_PARTITIONS } : {}),
    ...(config.KAFKA_REPLICATION_FACTOR !== undefined
      ? { replicationFactor: config.KAFKA_REPLICATION_FACTOR }
      : {}),
  });
  // The schema gives defaults to every one of these; the fallbacks only satisfy the type.
  const eventStore = config.EVENT_STORE ?? 'pglite';
  const schema = config.DATABASE_SCHEMA ?? context.replace(/-/g, '_');
  const dataDir = config.DATA_DIR ?? './data';
  const undo: Array<() => Promise<void>> = [];
  const rollback = async () => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
  };
  try {
    // 1. The SqlClient.
    let sql: SqlClient;
    let pglite: Platform['pglite'];
    let releaseDataDir = async (): Promise<void> => undefined;
    if (eventStore === 'postgres') {
      sql = await openPostgres(service, config.DATABASE_URL);
    } else {
      const opened = await openPgliteDir(service, dataDir);
      undo.push(opened.dir.release);
      releaseDataDir = opened.dir.release;
      sql = opened.sql;
      pglite = { dir: opened.dir.pgdata, existed: opened.dir.existed };
    }
    undo.push(() => sql.close());

    // 2. The event store, migrated (it shares the client, which outlives it).
    const store = createPostgresEventStore({ client: sql, schema });
    try {
      await store.start();
    } catch (e) {
      await store.close().catch(() => undefined);
      throw new PlatformStartError(
        service,
        eventStore,
        'DATABASE_SCHEMA',
        `${service}: could not prepare the event store in schema "${schema}" / 无法初始化事件存储: ${describeError(e)}`,
        { cause: e },
      );
    }
    undo.push(() => store.close());

    // 3. The bus, with this context's topics declared.
    const sharedTransport = config.BUS !== 'kafka' && shared.transport !== undefined;
    const transport = openTransport(service, config, shared, log);
    if (!sharedTransport) undo.push(() => transport.close());
    try {
      await transport.ensureTopics([eventsTopic, deadLetterTopic]);
    } catch (e) {
      throw new PlatformStartError(
        service,
        transport.kind === 'kafka' ? 'kafka' : 'memory-bus',
        transport.kind === 'kafka' ? 'KAFKA_BROKERS' : undefined,
        transport.kind === 'kafka'
          ? `${service}: cannot reach Kafka at ${(config.KAFKA_BROKERS ?? []).join(',')} (KAFKA_BROKERS) / 无法连接 Kafka: ${describeError(e)}. Start the broker (npm run kafka) or fix KAFKA_BROKERS / 请启动 Kafka 或修正 KAFKA_BROKERS`
          : `${service}: could not declare topics ${eventsTopic.name} / 无法声明主题: ${describeError(e)}`,
        { cause: e },
      );
    }
    log.log(
      `event store: ${eventStore}` +
        (pglite ? ` at ${pglite.dir} (${pglite.existed ? 'existing data / 已有数据' : 'new / 新建'})` : '') +
        `, schema ${schema}; bus: ${transport.kind}${sharedTransport ? ' (shared)' : ''}, topic ${eventsTopic.name}`,
    );
    return new PlatformLifecycle(
      service,
      context,
      eventsTopic.name,
      schema,
      config,
      sql,
      store,
      transport,
      sharedTransport,
      pglite,
      releaseDataDir,
      options,
      log,
    );
  } catch (e) {
    await rollback();
    throw e;
  }
}

async function openPostgres(service: string, url: string | undefined): Promise<SqlClient> {
  if (!url) {
    throw new PlatformStartError(
      service,
      'postgres',
      'DATABASE_URL',
      `${service}: EVENT_STORE=postgres needs DATABASE_URL / EVENT_STORE=postgres 需要设置 DATABASE_URL`,
    );
  }
  const sql = createPostgresClient({
    connectionString: url,
    applicationName: `lianfang:${service}`,
    // A server that does not answer (firewall, wrong host) must fail the start, not hang it.
    poolConfig: { connectionTimeoutMillis: 10_000 },
  });
  try {
    await sql.query('SELECT 1');
  } catch (e) {
    await sql.close().catch(() => undefined);
    throw new PlatformStartError(
      service,
      'postgres',
      'DATABASE_URL',
      `${service}: cannot reach PostgreSQL at ${redactUrl(url)} (DATABASE_URL) / 无法连接 PostgreSQL: ${describeError(e)}. ` +
        'Start PostgreSQL or fix DATABASE_URL / 请启动 PostgreSQL 或修正 DATABASE_URL',
      { cause: e },
    );
  }
  return sql;
}

async function openPgliteDir(
  service: string,
  dataDir: string,
): Promise<{ sql: SqlClient; dir: PgliteDataDir }> {
  let dir: PgliteDataDir;
  try {
    dir = await preparePgliteDataDir(dataDir, service);
  } catch (e) {
    throw new PlatformStartError(
      service,
      'pglite',
      'DATA_DIR',
      `${service}: cannot use the data directory under ${dataDir} (DATA_DIR) / 无法使用数据目录: ${describeError(e)}`,
      { cause: e },
    );
  }
  try {
    return { sql: await createPgliteClient({ dataDir: dir.pgdata }), dir };
  } catch (e) {
    await dir.release();
    throw new PlatformStartError(
      service,
      'pglite',
      'DATA_DIR',
      `${service}: cannot open the embedded database at ${dir.pgdata} / 无法打开嵌入式数据库: ${describeError(e)}. ` +
        'If it is damaged, start afresh with `npm start -- --reset` (deletes the local data) / 若已损坏，可用 `npm start -- --reset` 重新开始（会删除本地数据）',
      { cause: e },
    );
  }
}

function openTransport(
  service: string,
  config: ServiceConfig,
  shared: SharedResources,
  log: Logger,
): Transport {
  const logger = {
    warn: (...args: unknown[]) => log.warn(args.map(String).join(' ')),
    error: (...args: unknown[]) => log.error(args.map(String).join(' ')),
  };
  if (config.BUS === 'kafka') {
    return createKafkaTransport({ brokers: config.KAFKA_BROKERS ?? [], clientId: service, logger });
  }
  return shared.transport ?? createMemoryTransport({ logger });
}

/**
 * A Platform and its life cycle: `start()` starts the relay; then, on shutdown, each stage waits for the
 * one before it, whoever calls it and however often (Nest's signal hooks and `app.close()` may both run):
 * relay → bus → event store → SqlClient → data directory lock.
 */
export class PlatformLifecycle implements Platform {
  readonly readinessChecks: readonly ReadinessCheck[];
  private readonly busCheck: BusReadinessCheck;
  private outboxRelay: OutboxRelay | undefined;
  private starting: Promise<void> | undefined;
  private relayStopped: Promise<void> | undefined;
  private transportClosed: Promise<void> | undefined;
  private storeClosed: Promise<void> | undefined;

  constructor(
    readonly service: string,
    readonly context: string,
    readonly topic: string,
    readonly schema: string,
    readonly config: ServiceConfig,
    readonly sql: SqlClient,
    readonly store: SqlEventStore,
    readonly transport: Transport,
    readonly sharedTransport: boolean,
    readonly pglite: Platform['pglite'],
    private readonly releaseDataDir: () => Promise<void>,
    private readonly options: PlatformOptions,
    private readonly log: Logger,
  ) {
    this.busCheck = busReadinessCheck(transport);
    this.readinessChecks = [sqlReadinessCheck(sql), this.busCheck];
  }

  relay(): OutboxRelay | undefined {
    return this.outboxRelay;
  }

  /** Starts the outbox relay of DATABASE_SCHEMA's outbox onto the bus. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      try {
        this.outboxRelay = await startOutboxRelay({
          client: this.sql,
          schema: this.schema,
          transport: this.transport,
          instanceId: `${this.service}:${process.pid}`,
          logger: {
            warn: (...args: unknown[]) => this.log.warn(args.map(String).join(' ')),
            error: (...args: unknown[]) => this.log.error(args.map(String).join(' ')),
          },
          ...this.options.relay,
        });
      } catch (e) {
        throw new PlatformStartError(
          this.service,
          'outbox-relay',
          undefined,
          `${this.service}: could not start the outbox relay / 无法启动发件箱中继: ${describeError(e)}`,
          { cause: e },
        );
      }
    })();
    return this.starting;
  }

  stopRelay(): Promise<void> {
    this.relayStopped ??= (async () => {
      await this.starting?.catch(() => undefined);
      await this.outboxRelay?.stop().catch((e) => this.log.error(`outbox relay stop: ${describeError(e)}`));
    })();
    return this.relayStopped;
  }

  closeTransport(): Promise<void> {
    this.transportClosed ??= (async () => {
      await this.stopRelay();
      await this.busCheck.close();
      // A shared bus belongs to the embedded platform, which closes it after every app.
      if (!this.sharedTransport) {
        await this.transport.close().catch((e) => this.log.error(`bus close: ${describeError(e)}`));
      }
    })();
    return this.transportClosed;
  }

  closeStore(): Promise<void> {
    this.storeClosed ??= (async () => {
      await this.closeTransport();
      await this.store.close().catch((e) => this.log.error(`event store close: ${describeError(e)}`));
      await this.sql.close().catch((e) => this.log.error(`database close: ${describeError(e)}`));
      await this.releaseDataDir();
    })();
    return this.storeClosed;
  }
}
