import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, type ServiceConfig, type SharedResources } from '@lianfang/runtime';

/** compensation-service: compensation agreements, accruals and settlements. */
@Module({})
export class AppModule {
  static register(config: ServiceConfig, shared: SharedResources): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forService('compensation-service', config, shared)],
    };
  }
}
