import {
  Controller,
  Get,
  HttpException,
  HttpStatus,
  Inject,
  Module,
  Optional,
  type DynamicModule,
} from '@nestjs/common';

/** A dependency the service needs to do its work (database, broker). `/ready` fails while one is down. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
export const SERVICE_NAME = Symbol('SERVICE_NAME');

export interface HealthReport {
  readonly status: 'ok' | 'unavailable';
  readonly service: string;
  readonly uptimeSeconds: number;
  readonly checks?: Readonly<Record<string, 'ok' | string>>;
}

@Controller()
export class HealthController {
  private readonly startedAt = process.hrtime.bigint();

  constructor(
    @Inject(SERVICE_NAME) private readonly service: string,
    @Optional() @Inject(READINESS_CHECKS) private readonly checks: readonly ReadinessCheck[] = [],
  ) {}

  /** Liveness: the process answers. */
  @Get('health')
  health(): HealthReport {
    return { status: 'ok', service: this.service, uptimeSeconds: this.uptime() };
  }

  /** Readiness: every dependency answers; 503 with the failing ones named otherwise. */
  @Get('ready')
  async ready(): Promise<HealthReport> {
    const results = await Promise.all(
      this.checks.map(async (c) => {
        try {
          await c.check();
          return [c.name, 'ok'] as const;
        } catch (e) {
          return [c.name, (e as Error).message] as const;
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

@Module({})
export class HealthModule {
  static forService(service: string): DynamicModule {
    return {
      module: HealthModule,
      controllers: [HealthController],
      providers: [{ provide: SERVICE_NAME, useValue: service }],
    };
  }
}
