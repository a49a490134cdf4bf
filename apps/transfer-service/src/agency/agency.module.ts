import {
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { AgencyDirectory, DirectoryAgency } from '@lianfang/auth';
import { startProjection, type ProjectionRunner } from '@lianfang/eventsourcing';
import { AGENCY_DIRECTORY, PLATFORM, ServiceMetrics, type Platform } from '@lianfang/runtime';
import { agencyProjection } from './agency.projection';
import { AgencyQueries } from './agency.queries';
import { AgencyResolver } from './agency.resolver';
import type { AgencyProfile } from './decider';
import { syncAgencyDirectory, type DirectoryEntry } from './directory-sync';

export const profileOf = (a: DirectoryAgency): AgencyProfile => ({
  kind: a.kind,
  name: { zh: a.name.zh, en: a.name.en },
  jurisdiction: a.jurisdiction,
  level: a.level,
  roles: [...a.roles],
  ...(a.creditCode ? { creditCode: a.creditCode } : {}),
});

/**
 * Keeps the register's read model and brings the register in line with DIRECTORY_FILE at start (the
 * platform has validated it already: a broken directory stops the service with every problem listed).
 */
@Injectable()
export class AgencyRegister implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('agency-register');
  private runner?: ProjectionRunner;

  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(AGENCY_DIRECTORY) private readonly directory: AgencyDirectory,
    @Inject(AgencyQueries) private readonly queries: AgencyQueries,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const directory = this.directory;
    const { sql, store } = this.platform;
    this.runner = await startProjection({ client: sql, store, projection: agencyProjection });
    const runner = this.runner;
    this.metrics.addCollectors({ projections: () => [runner.status()] });
    await this.caughtUp(runner);
    const entries: DirectoryEntry[] = directory.agencies.map((a) => ({
      agencyId: a.id,
      profile: profileOf(a),
    }));
    const result = await syncAgencyDirectory({
      store,
      entries,
      activeAgencyIds: await this.queries.activeIds(),
      now: new Date(),
      correlationId: `directory-sync:${directory.source}`,
      onProgress: (done, total) => {
        if (done === total || done % 50 === 0) this.log.log(`directory sync ${done}/${total} / 机构名录同步`);
      },
    });
    this.log.log(
      `agency directory ${directory.source}: ${result.registered} registered, ${result.revised} revised, ` +
        `${result.retired} retired, ${result.unchanged} unchanged / 机构名录已同步`,
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.runner?.stop();
  }

  /** Until the read model has seen the log's end, so that retirement compares with the whole register. */
  private async caughtUp(runner: ProjectionRunner, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!runner.status().caughtUp) {
      if (Date.now() > deadline)
        throw new Error(
          'the agency register did not catch up within 60 s / 机构名录读模型未能在 60 秒内追上',
        );
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

@Module({
  providers: [
    {
      provide: AgencyQueries,
      inject: [PLATFORM],
      useFactory: (p: Platform) => new AgencyQueries(p.sql, p.schema),
    },
    AgencyRegister,
    AgencyResolver,
  ],
})
export class AgencyModule {}
