import { serviceConfigSchema, type ServiceConfig, type ServiceDefinition } from '@lianfang/runtime';
import { AppModule } from './app.module';

const name = 'transfer-service';
const defaultPort = 4001;

export const service: ServiceDefinition<ServiceConfig> = {
  name,
  defaultPort,
  config: serviceConfigSchema({ name, defaultPort, schema: 'transfer' }),
  module: (config, shared) => AppModule.register(config, shared),
};
