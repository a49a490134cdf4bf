import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, type ServiceConfig, type SharedResources } from '@lianfang/runtime';

/** enforcement-service: joint enforcement cases and emergency incidents. */
@Module({})
export class AppModule {
  static register(config: ServiceConfig, shared: SharedResources): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forService('enforcement-service', config, shared)],
    };
  }
}
