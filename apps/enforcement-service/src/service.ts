import type { ServiceDefinition } from '@lianfang/runtime';
import { AppModule } from './app.module';

export const service: ServiceDefinition = {
  name: 'enforcement-service',
  module: AppModule,
  defaultPort: 4003,
};
