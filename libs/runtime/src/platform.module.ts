import { type DynamicModule, Module } from '@nestjs/common';
import { HealthModule } from './health';
import type { SharedResources } from './service';
import type { ServiceConfig } from './service-config';

/**
 * The infrastructure a domain service runs on, chosen by its configuration: the event store
 * (EVENT_STORE), the bus (BUS) with the outbox relay, logging, metrics, health. A service's AppModule
 * imports this once and holds only its domain, wiring and API.
 */
@Module({})
export class PlatformModule {
  static forService(service: string, _config: ServiceConfig, _shared: SharedResources): DynamicModule {
    return { module: PlatformModule, imports: [HealthModule.forService(service)], exports: [HealthModule] };
  }
}
