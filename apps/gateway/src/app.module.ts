import { type DynamicModule, Module } from '@nestjs/common';
import { HealthModule } from '@lianfang/runtime';
import type { GatewayConfig } from './config';

/** gateway: the one GraphQL endpoint for every agency. */
@Module({})
export class AppModule {
  static register(_config: GatewayConfig): DynamicModule {
    return { module: AppModule, imports: [HealthModule.forService('gateway')] };
  }
}
