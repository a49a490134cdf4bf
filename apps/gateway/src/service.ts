import type { ServiceDefinition } from '@lianfang/runtime';
import { AppModule } from './app.module';

export const service: ServiceDefinition = { name: 'gateway', module: AppModule, defaultPort: 4000 };
