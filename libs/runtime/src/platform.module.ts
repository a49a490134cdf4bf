import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { loadDirectory } from '@lianfang/auth';
import { EventSourcingModule, type RetryOptions } from '@lianfang/eventsourcing';
import { HealthModule } from './health';
import { deadLetterCollector, outboxBacklogCollector } from './observability/collectors';
import { ServiceMetrics } from './observability/metrics';
import { ObservabilityModule } from './observability/observability.module';
import { openPlatform, PLATFORM, type PlatformLifecycle, type PlatformOptions } from './platform/platform';
import type { SharedResources } from './service';
import type { ServiceConfig } from './service-config';
import { AGENCY_DIRECTORY, SERVICE_CONFIG, SQL_CLIENT, TRANSPORT } from './tokens';

export interface PlatformModuleOptions extends PlatformOptions {
  /** Defaults for every command handled through `Aggregates` (maxRetries, backoff). */
  readonly retry?: RetryOptions;
}

/** Opens the platform (in one provider, so that a failure closes what was opened) and exports the tokens. */
@Module({})
class PlatformResourcesModule {}

/**
 * Starts the relay once every module is initialised, and closes in order on shutdown. Nest calls every
 * module's onModuleDestroy, then every beforeApplicationShutdown, then every onApplicationShutdown:
 * - onModuleDestroy: the relay stops (a service stops its own consumers and projections here too);
 * - beforeApplicationShutdown: the bus closes (consumers are gone);
 * - onApplicationShutdown: the event store, then the SqlClient, then the PGlite lock.
 */
@Injectable()
class PlatformHooks
  implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown, OnApplicationShutdown
{
  constructor(
    @Inject(PLATFORM) private readonly platform: PlatformLifecycle,
    private readonly metrics: ServiceMetrics,
  ) {}

  onApplicationBootstrap(): Promise<void> {
    this.metrics.addCollectors({
      outboxBacklog: outboxBacklogCollector(this.platform.sql, this.platform.schema),
      deadLetters: deadLetterCollector(this.platform.sql, this.platform.schema),
    });
    return this.platform.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.platform.stopRelay();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.platform.closeTransport();
  }

  onApplicationShutdown(): Promise<void> {
    return this.platform.closeStore();
  }
}

/**
 * The infrastructure a domain service runs on, chosen by its configuration: the event store
 * (EVENT_STORE: PGlite under DATA_DIR/<service>, or PostgreSQL at DATABASE_URL, in DATABASE_SCHEMA), the
 * bus (BUS: `shared.transport` or a private in-process one, or Kafka at KAFKA_BROKERS) with the outbox
 * relay onto `lianfang.<context>.v1`, health (`/health`, `/ready` on the store and the bus), JSON logs with
 * the correlation id, and `/metrics` (commands, outbox backlog, dead letters; services add their own).
 *
 * Global: every module of the service can inject SERVICE_CONFIG, SQL_CLIENT, TRANSPORT, PLATFORM,
 * EVENT_STORE and `Aggregates`. A service's AppModule imports this once and holds only its domain,
 * wiring and API.
 */
@Module({})
export class PlatformModule {
  static forService(
    service: string,
    config: ServiceConfig,
    shared: SharedResources = {},
    options: PlatformModuleOptions = {},
  ): DynamicModule {
    // One object imported three times: Nest identifies dynamic modules by reference, so one instance.
    const resources: DynamicModule = {
      module: PlatformResourcesModule,
      providers: [
        { provide: SERVICE_CONFIG, useValue: config },
        // Validated before anything opens: a broken directory stops the service with every problem listed.
        { provide: AGENCY_DIRECTORY, useValue: loadDirectory(config.DIRECTORY_FILE) },
        { provide: PLATFORM, useFactory: () => openPlatform(service, config, shared, options) },
        { provide: SQL_CLIENT, useFactory: (p: PlatformLifecycle) => p.sql, inject: [PLATFORM] },
        { provide: TRANSPORT, useFactory: (p: PlatformLifecycle) => p.transport, inject: [PLATFORM] },
      ],
      exports: [SERVICE_CONFIG, AGENCY_DIRECTORY, PLATFORM, SQL_CLIENT, TRANSPORT],
    };
    return {
      module: PlatformModule,
      global: true,
      imports: [
        resources,
        ObservabilityModule.forService(service, { logLevel: config.LOG_LEVEL, nodeEnv: config.NODE_ENV }),
        EventSourcingModule.forRoot({
          imports: [resources],
          inject: [PLATFORM],
          store: (p: PlatformLifecycle) => p.store,
          // The platform closes the store itself, after the relay and the bus and before the client.
          closeOnShutdown: false,
          retry: options.retry,
        }),
        HealthModule.forService(service, {
          imports: [resources],
          readiness: { inject: [PLATFORM], useFactory: (p: PlatformLifecycle) => p.readinessChecks },
        }),
      ],
      providers: [PlatformHooks],
      exports: [resources],
    };
  }
}
