import { Body, Controller, Module, Post } from '@nestjs/common';
import { serviceConfigSchema } from './service-config';
import { startService, type RunningService, type ServiceDefinition } from './service';
import type { ServiceConfig } from './service-config';

@Controller()
class EchoController {
  @Post('echo')
  echo(@Body() body: { text?: string }) {
    return { length: body.text?.length ?? null };
  }
}

@Module({ controllers: [EchoController] })
class EchoModule {}

const echoService: ServiceDefinition<ServiceConfig> = {
  name: 'echo-service',
  defaultPort: 0,
  config: serviceConfigSchema({ name: 'echo-service', defaultPort: 0, schema: 'echo' }),
  module: () => ({ module: EchoModule }),
};

async function post(service: RunningService, bytes: number) {
  const response = await fetch(`${service.url}/echo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'x'.repeat(bytes) }),
  });
  return { status: response.status, body: response.status === 201 ? await response.json() : null };
}

describe('a service reads JSON bodies up to MAX_REQUEST_BYTES', () => {
  it('accepts a 1 MB body by default (Nest alone stops at 100 kb: an attachment would not fit)', async () => {
    const service = await startService(echoService, { env: {}, port: 0, logLevels: ['error'] });
    try {
      expect(await post(service, 1024 * 1024)).toEqual({ status: 201, body: { length: 1024 * 1024 } });
    } finally {
      await service.app.close();
    }
  });

  it('refuses with 413 a body above the configured limit, and takes one below it', async () => {
    const service = await startService(echoService, {
      env: { MAX_REQUEST_BYTES: '4096' },
      port: 0,
      logLevels: ['error'],
    });
    try {
      expect((await post(service, 5000)).status).toBe(413);
      expect(await post(service, 3000)).toEqual({ status: 201, body: { length: 3000 } });
    } finally {
      await service.app.close();
    }
  });
});
