import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { HealthModule, READINESS_TIMEOUT_MS, type ReadinessCheck } from './health';

@Module({})
class ChecksModule {}

async function appWith(checks: ReadinessCheck[]): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(
    {
      module: ChecksModule,
      imports: [HealthModule.forService('checked-service', { readiness: { useFactory: () => checks } })],
    },
    { logger: ['fatal'], abortOnError: false },
  );
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}` };
}

describe('HealthModule', () => {
  it('answers /ready 200 with every check named when all pass', async () => {
    const { app, url } = await appWith([
      { name: 'postgres', check: async () => undefined },
      { name: 'kafka', check: async () => undefined },
    ]);
    try {
      const res = await fetch(`${url}/ready`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        status: 'ok',
        service: 'checked-service',
        checks: { postgres: 'ok', kafka: 'ok' },
      });
    } finally {
      await app.close();
    }
  });

  it('answers 503 naming the dependency that fails, or that does not answer in time; /health stays 200', async () => {
    let release: () => void = () => undefined;
    const { app, url } = await appWith([
      { name: 'postgres', check: async () => undefined },
      {
        name: 'kafka',
        check: () => Promise.reject(new Error('Kafka does not answer / Kafka 无响应: ECONNREFUSED')),
      },
      // A dependency that hangs must not hang /ready.
      { name: 'slow', check: () => new Promise<void>((resolve) => (release = resolve)) },
    ]);
    try {
      const res = await fetch(`${url}/ready`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        status: 'unavailable',
        service: 'checked-service',
        uptimeSeconds: expect.any(Number),
        checks: {
          postgres: 'ok',
          kafka: 'Kafka does not answer / Kafka 无响应: ECONNREFUSED',
          slow: `no answer within ${READINESS_TIMEOUT_MS} ms / ${READINESS_TIMEOUT_MS} 毫秒内无响应`,
        },
      });
      expect((await fetch(`${url}/health`)).status).toBe(200);
    } finally {
      release();
      await app.close();
    }
  });

  it('has no readiness checks unless given (the gateway before it has dependencies)', async () => {
    const app = await NestFactory.create(
      { module: ChecksModule, imports: [HealthModule.forService('bare')] },
      { logger: ['fatal'], abortOnError: false },
    );
    await app.listen(0, '127.0.0.1');
    try {
      const { port } = app.getHttpServer().address() as { port: number };
      const res = await fetch(`http://127.0.0.1:${port}/ready`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok', service: 'bare', checks: {} });
    } finally {
      await app.close();
    }
  });
});
