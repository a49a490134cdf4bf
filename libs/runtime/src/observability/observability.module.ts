import {
  Controller,
  Get,
  Global,
  Inject,
  Injectable,
  Module,
  Res,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestMiddleware,
  type NestModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DestinationStream, Logger } from 'pino';
import { COMMAND_OBSERVER } from '@lianfang/eventsourcing';
import { createServiceLogger, ServiceLogger, type LogLevelName } from './logger';
import { ServiceMetrics, type MetricsCollectors } from './metrics';
import { requestContextMiddleware } from './request-context';

export interface ObservabilityOptions {
  /** LOG_LEVEL (default info). */
  readonly logLevel?: LogLevelName | 'silent';
  /** NODE_ENV: production writes JSON lines only. */
  readonly nodeEnv?: string;
  /** Readable lines instead of JSON (default: outside production on a terminal). */
  readonly pretty?: boolean;
  /** Where log lines go (default stdout). */
  readonly destination?: DestinationStream;
  /** Successful requests to these paths are logged at debug (default /health, /ready, /metrics). */
  readonly quietPaths?: readonly string[];
  /** process_* and nodejs_* metrics (default true). */
  readonly defaultMetrics?: boolean;
  /** Longest a collector may take per scrape (default 5 000 ms). */
  readonly collectTimeoutMs?: number;
  /** Collectors known up front; more can be added later with `ServiceMetrics.addCollectors`. */
  readonly collectors?: MetricsCollectors;
}

/** The app's root pino logger (inject it for structured logging: `logger.info({ transferId }, '...')`). */
export const PINO_LOGGER = 'lianfang.PINO_LOGGER';
const OBSERVABILITY = 'lianfang.OBSERVABILITY';

interface Resolved {
  readonly service: string;
  readonly options: ObservabilityOptions;
}

@Controller()
export class MetricsController {
  constructor(@Inject(ServiceMetrics) private readonly metrics: ServiceMetrics) {}

  /** Prometheus text format, this app's registry only. */
  @Get('metrics')
  async scrape(@Res() res: ServerResponse): Promise<void> {
    const body = await this.metrics.metrics();
    res.statusCode = 200;
    res.setHeader('Content-Type', this.metrics.contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.end(body);
  }
}

@Injectable()
export class RequestContextMiddleware implements NestMiddleware {
  private readonly handler: ReturnType<typeof requestContextMiddleware>;

  constructor(@Inject(PINO_LOGGER) logger: Logger, @Inject(OBSERVABILITY) resolved: Resolved) {
    this.handler = requestContextMiddleware(logger, {
      ...(resolved.options.quietPaths ? { quietPaths: resolved.options.quietPaths } : {}),
    });
  }

  use(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void {
    this.handler(req, res, next);
  }
}

@Injectable()
class ObservabilityShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
    @Inject(PINO_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationShutdown(): void {
    this.metrics.registry.clear();
    this.logger.flush();
  }
}

/**
 * Logging, trace context and metrics of one app (gateway or service):
 *
 * - `ServiceLogger` (Nest LoggerService over pino) and `PINO_LOGGER`: JSON lines with `service`, and the
 *   `correlationId` / `traceId` of the request or message in hand;
 * - every HTTP request: correlation id from `x-correlation-id` / `traceparent` or new, answered in
 *   `x-correlation-id`, kept in the trace context (`currentTrace()`), logged on completion;
 * - `GET /metrics`: this app's Prometheus registry (`ServiceMetrics`), which is also the
 *   `COMMAND_OBSERVER` that `Aggregates` reports every command to.
 *
 * Global: the app's modules inject `ServiceMetrics`, `ServiceLogger`, `PINO_LOGGER`.
 */
@Global()
@Module({})
export class ObservabilityModule implements NestModule {
  static forService(service: string, options: ObservabilityOptions = {}): DynamicModule {
    const resolved: Resolved = { service, options };
    return {
      module: ObservabilityModule,
      global: true,
      controllers: [MetricsController],
      providers: [
        { provide: OBSERVABILITY, useValue: resolved },
        {
          provide: PINO_LOGGER,
          useFactory: () =>
            createServiceLogger({
              service,
              ...(options.logLevel ? { level: options.logLevel } : {}),
              ...(options.nodeEnv ? { nodeEnv: options.nodeEnv } : {}),
              ...(options.pretty !== undefined ? { pretty: options.pretty } : {}),
              ...(options.destination ? { destination: options.destination } : {}),
            }),
        },
        {
          provide: ServiceLogger,
          useFactory: (logger: Logger) => new ServiceLogger(logger),
          inject: [PINO_LOGGER],
        },
        {
          provide: ServiceMetrics,
          useFactory: () =>
            new ServiceMetrics({
              service,
              ...(options.defaultMetrics !== undefined ? { defaultMetrics: options.defaultMetrics } : {}),
              ...(options.collectTimeoutMs !== undefined
                ? { collectTimeoutMs: options.collectTimeoutMs }
                : {}),
              ...(options.collectors ? { collectors: options.collectors } : {}),
            }),
        },
        { provide: COMMAND_OBSERVER, useExisting: ServiceMetrics },
        RequestContextMiddleware,
        ObservabilityShutdown,
      ],
      exports: [PINO_LOGGER, ServiceLogger, ServiceMetrics, COMMAND_OBSERVER],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestContextMiddleware).forRoutes('*');
  }
}
