import {
  Controller,
  Get,
  HttpException,
  HttpStatus,
  Inject,
  Module,
  Optional,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
} from '@nestjs/common';

/** A dependency the service needs to do its work (database, broker). `/ready` fails while one is down. */
export interface ReadinessCheck {
  /** Names the dependency in the `/ready` report: `postgres`, `pglite`, `kafka`, `memory-bus`. */
  readonly name: string;
  /** Resolves when the dependency answers; rejects with a message a person can act on. */
  check(): Promise<void>;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
export const SERVICE_NAME = Symbol('SERVICE_NAME');

/** A check that has not answered by then counts as failed: a hung dependency must not hang `/ready`. */
export const READINESS_TIMEOUT_MS = 3000;

export interface HealthReport {
  readonly status: 'ok' | 'unavailable';
  readonly service: string;
  readonly uptimeSeconds: number;
  readonly checks?: Readonly<Record<string, 'ok' | string>>;
}

async function withTimeout(check: ReadinessCheck, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms / ${ms} 毫秒内无响应`)), ms);
  });
  try {
    await Promise.race([check.check(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

@Controller()
export class HealthController {
  private readonly startedAt = process.hrtime.bigint();

  constructor(
    @Inject(SERVICE_NAME) private readonly service: string,
    @Optional() @Inject(READINESS_CHECKS) private readonly checks: readonly ReadinessCheck[] = [],
  ) {}

  /** Liveness: the process answers. It never looks at dependencies (a restart would not bring them back). */
  @Get('health')
  health(): HealthReport {
    return { status: 'ok', service: this.service, uptimeSeconds: this.uptime() };
  }

  /** Readiness: every dependency answers; 503 with the failing ones named otherwise. */
  @Get('ready')
  async ready(): Promise<HealthReport> {
    const results = await Promise.all(
      (this.checks ?? []).map(async (c) => {
        try {
          await withTimeout(c, READINESS_TIMEOUT_MS);
          return [c.name, 'ok'] as const;
        } catch (e) {
          return [c.name, (e as Error).message || String(e)] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    const ok = results.every(([, r]) => r === 'ok');
    const report: HealthReport = {
      status: ok ? 'ok' : 'unavailable',
      service: this.service,
      uptimeSeconds: this.uptime(),
      checks,
    };
    if (!ok) throw new HttpException(report, HttpStatus.SERVICE_UNAVAILABLE);
    return report;
  }

  private uptime(): number {
    return Number((process.hrtime.bigint() - this.startedAt) / 1_000_000_000n);
  }
}

export interface HealthModuleOptions {
  /** Modules whose exported providers the readiness factory injects. */
  readonly imports?: ModuleMetadata['imports'];
  /** Builds the readiness checks (READINESS_CHECKS) from the injected providers. */
  readonly readiness?: {
    readonly inject?: InjectionToken[];
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Nest factory: the injected providers
    useFactory(...deps: any[]): readonly ReadinessCheck[] | Promise<readonly ReadinessCheck[]>;
  };
}

@Module({})
export class HealthModule {
  /** `/health` (liveness) and `/ready` (readiness: the checks given, none by default). */
  static forService(service: string, options: HealthModuleOptions = {}): DynamicModule {
    return {
      module: HealthModule,
      imports: options.imports ?? [],
      controllers: [HealthController],
      providers: [
        { provide: SERVICE_NAME, useValue: service },
        ...(options.readiness
          ? [
              {
                provide: READINESS_CHECKS,
                useFactory: options.readiness.useFactory,
                inject: options.readiness.inject ?? [],
              },
            ]
          : []),
      ],
    };
  }
}
