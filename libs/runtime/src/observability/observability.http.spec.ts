import { Controller, Get, Inject, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Logger } from 'pino';
import { currentTrace, traceIdFromCorrelationId } from '@lianfang/messaging';
import { ObservabilityModule, PINO_LOGGER } from './observability.module';

@Controller()
class EchoController {
  constructor(@Inject(PINO_LOGGER) private readonly logger: Logger) {}

  /** Logs after an await, and answers the context it ran in. */
  @Get('echo')
  async echo() {
    await new Promise((r) => setTimeout(r, 1));
    this.logger.info({ step: 'inside' }, 'handling echo');
    return currentTrace() ?? null;
  }
}

describe('ObservabilityModule over HTTP', () => {
  let app: INestApplication;
  let base = '';
  const lines: string[] = [];
  const entries = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ObservabilityModule.forService('test-service', {
          logLevel: 'debug',
          defaultMetrics: false,
          destination: { write: (l: string) => void lines.push(l) },
        }),
      ],
      controllers: [EchoController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await app.close();
  });

  beforeEach(() => {
    lines.length = 0;
  });

  async function get(path: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${base}${path}`, { headers });
    const text = await res.text();
    // The completion line is written on 'finish': give it a turn.
    await new Promise((r) => setImmediate(r));
    const json = res.headers.get('content-type')?.startsWith('application/json') && text;
    return { res, body: json ? (JSON.parse(text) as Record<string, unknown>) : null };
  }

  it('makes a correlation id when none is given, answers it, and logs with it', async () => {
    const { res, body } = await get('/echo');
    const correlationId = res.headers.get('x-correlation-id');
    expect(correlationId).toMatch(/^[0-9a-f]{32}$/);
    expect(body).toMatchObject({ correlationId, traceId: correlationId });
    const handling = entries().find((e) => e.msg === 'handling echo');
    expect(handling).toMatchObject({
      service: 'test-service',
      correlationId,
      traceId: correlationId,
      step: 'inside',
    });
    const completed = entries().find((e) => e.msg === 'request completed');
    expect(completed).toMatchObject({ level: 'info', correlationId, res: { statusCode: 200 } });
    expect((completed?.req as { id?: string }).id).toBe(correlationId);
  });

  it('keeps a given x-correlation-id and derives the trace from it', async () => {
    const { res, body } = await get('/echo', { 'x-correlation-id': 'order-42' });
    expect(res.headers.get('x-correlation-id')).toBe('order-42');
    expect(body).toMatchObject({ correlationId: 'order-42', traceId: traceIdFromCorrelationId('order-42') });
    expect(entries().find((e) => e.msg === 'handling echo')?.correlationId).toBe('order-42');
  });

  it("continues a caller's traceparent", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const { res, body } = await get('/echo', { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    expect(res.headers.get('x-correlation-id')).toBe(traceId);
    expect(body).toMatchObject({ traceId, parentSpanId: '00f067aa0ba902b7', correlationId: traceId });
    expect(body?.spanId).not.toBe('00f067aa0ba902b7');
  });

  it('replaces a malformed correlation id instead of carrying it', async () => {
    const { res, body } = await get('/echo', { 'x-correlation-id': 'bad id\twith tab' });
    const correlationId = res.headers.get('x-correlation-id');
    expect(correlationId).toMatch(/^[0-9a-f]{32}$/);
    expect(body?.correlationId).toBe(correlationId);
    expect(entries().every((e) => e.correlationId === correlationId)).toBe(true);
  });

  it('never logs the bearer token or the forwarded identity', async () => {
    await get('/echo', { authorization: 'Bearer secret-token', 'x-lianfang-identity': 'signed-identity' });
    const completed = entries().find((e) => e.msg === 'request completed');
    expect((completed?.req as { headers: Record<string, string> }).headers).toMatchObject({
      authorization: '[redacted]',
      'x-lianfang-identity': '[redacted]',
    });
    expect(lines.join('')).not.toMatch(/secret-token|signed-identity/);
  });

  it('logs failures at warn and error, probes and scrapes at debug', async () => {
    await get('/missing');
    const { res } = await get('/metrics');
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const levels = entries()
      .filter((e) => e.msg === 'request completed' || e.msg === 'request errored')
      .map((e) => [(e.req as { url: string }).url, e.level]);
    expect(levels).toEqual([
      ['/missing', 'warn'],
      ['/metrics', 'debug'],
    ]);
  });
});
