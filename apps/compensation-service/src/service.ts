import type { ServiceDefinition } from '@lianfang/runtime';
import { AppModule } from './app.module';

export const service: ServiceDefinition = {
  name: 'compensation-service',
  module: AppModule,
  defaultPort: 4002,
};
