import type { EmbeddedSeed, ServiceDefinition } from '@lianfang/runtime';
import { AppModule } from './app.module';
import { transferServiceConfigSchema, type TransferServiceConfig } from './config';
import { seedDemo } from './demo/demo-seed';

export const service: ServiceDefinition<TransferServiceConfig> = {
  name: 'transfer-service',
  defaultPort: 4001,
  config: transferServiceConfigSchema,
  module: (config, shared) => AppModule.register(config, shared),
};

/**
 * `npm start` seeds the demo region through the commands (demo/demo-plan.ts): three facilities, the adopted
 * Sichuan–Chongqing agreement, transfers in every state and manifests, dated relative to today.
 */
export const seed: EmbeddedSeed = async (app, context) => {
  await seedDemo(app, context);
};
