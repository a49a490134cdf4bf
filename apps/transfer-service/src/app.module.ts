import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, type ServiceConfig, type SharedResources } from '@lianfang/runtime';

/** transfer-service: consultation, resource sharing, transfers and manifests. */
@Module({})
export class AppModule {
  static register(config: ServiceConfig, shared: SharedResources): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forService('transfer-service', config, shared)],
    };
  }
}
