import { serviceConfigSchema, type ServiceConfig, type ServiceDefinition } from '@lianfang/runtime';
import { AppModule } from './app.module';

const name = 'enforcement-service';
const defaultPort = 4003;

export const service: ServiceDefinition<ServiceConfig> = {
  name,
  defaultPort,
  config: serviceConfigSchema({ name, defaultPort, schema: 'enforcement' }),
  module: (config, shared) => AppModule.register(config, shared),
};
