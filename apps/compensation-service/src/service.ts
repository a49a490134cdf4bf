import { serviceConfigSchema, type ServiceConfig, type ServiceDefinition } from '@lianfang/runtime';
import { AppModule } from './app.module';

const name = 'compensation-service';
const defaultPort = 4002;

export const service: ServiceDefinition<ServiceConfig> = {
  name,
  defaultPort,
  config: serviceConfigSchema({ name, defaultPort, schema: 'compensation' }),
  module: (config, shared) => AppModule.register(config, shared),
};
