import { type DynamicModule, Module } from '@nestjs/common';
import { SubgraphModule } from '@lianfang/graph';
import { PlatformModule, type ServiceConfig, type SharedResources } from '@lianfang/runtime';
import { AccessLogModule } from './access-log/record-reads.resolver';
import { AgencyModule } from './agency/agency.module';
import { AgreementModule } from './agreement/agreement.module';
import { CapacityModule } from './capacity/capacity.module';
import { TransferCommonModule } from './common/common.module';
import { DeadlinesModule } from './deadlines/deadlines.module';
import { FacilityModule } from './facility/facility.module';
import { ManifestModule } from './manifest/manifest.module';
import { TransferServiceInfoResolver } from './service-info/service-info.resolver';
import { TransferModule } from './transfer/transfer.module';
import { WhitelistReportModule } from './whitelist-report/whitelist-report.module';
import { WorklistModule } from './worklist/worklist.module';

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
        TransferCommonModule,
        AccessLogModule,
        AgencyModule,
        FacilityModule,
        AgreementModule,
        CapacityModule,
        TransferModule,
        ManifestModule,
        DeadlinesModule,
        WorklistModule,
        WhitelistReportModule,
      ],
    };
  }
}
