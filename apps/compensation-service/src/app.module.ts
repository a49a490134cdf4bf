import { type DynamicModule, Module } from '@nestjs/common';
import { SubgraphModule } from '@lianfang/graph';
import { PlatformModule, type ServiceConfig, type SharedResources } from '@lianfang/runtime';
import { CompensationServiceInfoResolver } from './service-info/service-info.resolver';

/** compensation-service: compensation agreements, accruals and settlements. */
@Module({})
export class AppModule {
  static register(config: ServiceConfig, shared: SharedResources): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forService('compensation-service', config, shared),
        SubgraphModule.forService({
          service: 'compensation-service',
          config,
          resolvers: [CompensationServiceInfoResolver],
        }),
      ],
    };
  }
}
