import {
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { AgencyDirectory, DirectoryAgency } from '@lianfang/auth';
import {
  AGENCY_DIRECTORY,
  PLATFORM,
  ServiceMetrics,
  type Platform,
  ServiceProjection,
} from '@lianfang/runtime';
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
  private readonly readModel = new ServiceProjection(agencyProjection);

  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(AGENCY_DIRECTORY) private readonly directory: AgencyDirectory,
    @Inject(AgencyQueries) private readonly queries: AgencyQueries,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const directory = this.directory;
    const { store } = this.platform;
    await this.readModel.start(this.platform, this.metrics);
    // Retirement compares the directory with the whole register: read it only once it is complete.
    await this.readModel.caughtUp();
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
    await this.readModel.stop();
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
