import { type DynamicModule, Module } from '@nestjs/common';
import { SubgraphModule } from '@lianfang/graph';
import { PlatformModule, type ServiceConfig, type SharedResources } from '@lianfang/runtime';
import { AccessLogModule } from './access-log/record-reads.resolver';
import { AgencyModule } from './agency/agency.module';
import { FacilityModule } from './facility/facility.module';
import { TransferServiceInfoResolver } from './service-info/service-info.resolver';

/** transfer-service: consultation, resource sharing, transfers and manifests. */
@Module({})
export class AppModule {
  static register(config: ServiceConfig, shared: SharedResources): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forService('transfer-service', config, shared),
        SubgraphModule.forService({
          service: 'transfer-service',
          config,
          resolvers: [TransferServiceInfoResolver],
        }),
        AccessLogModule,
        AgencyModule,
        FacilityModule,
      ],
    };
  }
}
