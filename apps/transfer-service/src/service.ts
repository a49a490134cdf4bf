import {
  serviceConfigSchema,
  type EmbeddedSeed,
  type ServiceConfig,
  type ServiceDefinition,
} from '@lianfang/runtime';
import { AppModule } from './app.module';
import { seedDemo } from './demo/demo-seed';

const name = 'transfer-service';
const defaultPort = 4001;

export const service: ServiceDefinition<ServiceConfig> = {
  name,
  defaultPort,
  config: serviceConfigSchema({ name, defaultPort, schema: 'transfer' }),
  module: (config, shared) => AppModule.register(config, shared),
};

/**
 * `npm start` seeds the demo region through the commands (demo/demo-plan.ts): three facilities, the adopted
 * Sichuan–Chongqing agreement, transfers in every state and manifests, dated relative to today.
 */
export const seed: EmbeddedSeed = async (app, context) => {
  await seedDemo(app, context);
};
