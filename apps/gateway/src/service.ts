import type { ServiceDefinition } from '@lianfang/runtime';
import { AppModule } from './app.module';
import { gatewayConfigSchema, type GatewayConfig } from './config';

export const service: ServiceDefinition<GatewayConfig> = {
  name: 'gateway',
  defaultPort: 4000,
  config: gatewayConfigSchema,
  module: (config) => AppModule.register(config),
  // http-edge.ts: its own limit (MAX_REQUEST_BYTES) and GraphQL-shaped 413.
  parsesOwnBody: true,
};
