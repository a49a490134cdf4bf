import { type DynamicModule, Module } from '@nestjs/common';
import { SubgraphModule } from '@lianfang/graph';
import { PlatformModule, type ServiceConfig, type SharedResources } from '@lianfang/runtime';
import { EnforcementServiceInfoResolver } from './service-info/service-info.resolver';

/** enforcement-service: joint enforcement cases and emergency incidents. */
@Module({})
export class AppModule {
  static register(config: ServiceConfig, shared: SharedResources): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forService('enforcement-service', config, shared),
        SubgraphModule.forService({
          service: 'enforcement-service',
          config,
          resolvers: [EnforcementServiceInfoResolver],
        }),
      ],
    };
  }
}
