import { createTrace, runWithTrace } from '@lianfang/messaging';
import { createServiceLogger, ServiceLogger } from './logger';
import { formatLine } from './pretty';

/** A destination that keeps the lines pino writes. */
function sink() {
  const lines: string[] = [];
  return {
    lines,
    entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    write: (line: string) => void lines.push(line),
  };
}

describe('service logger (pino)', () => {
  it('writes one JSON line per entry with level, time, service and message', () => {
    const out = sink();
    const logger = createServiceLogger({
      service: 'transfer-service',
      destination: out,
      nodeEnv: 'production',
    });
    logger.info({ transferId: 't-1' }, 'transfer approved');
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0].endsWith('\n')).toBe(true);
    const [entry] = out.entries();
    expect(entry).toMatchObject({
      level: 'info',
      service: 'transfer-service',
      msg: 'transfer approved',
      transferId: 't-1',
      pid: process.pid,
    });
    expect(new Date(entry.time as string).toISOString()).toBe(entry.time);
    expect(entry.correlationId).toBeUndefined();
  });

  it('honours LOG_LEVEL', () => {
    const out = sink();
    const logger = createServiceLogger({ service: 's', level: 'warn', destination: out });
    logger.info('hidden');
    logger.debug('hidden');
    logger.warn('shown');
    logger.error('shown too');
    expect(out.entries().map((e) => e.level)).toEqual(['warn', 'error']);
  });

  it('adds the correlation and trace ids of the context to every line inside it', async () => {
    const out = sink();
    const logger = createServiceLogger({ service: 's', destination: out });
    const trace = createTrace({ correlationId: 'order-42' });
    await runWithTrace(trace, async () => {
      await new Promise((r) => setTimeout(r, 1));
      logger.info('inside');
      logger.child({ context: 'Policy' }).warn('inside, child');
    });
    logger.info('outside');
    const [inside, child, outside] = out.entries();
    for (const e of [inside, child]) {
      expect(e).toMatchObject({ correlationId: 'order-42', traceId: trace.traceId, spanId: trace.spanId });
    }
    expect(child.context).toBe('Policy');
    expect(outside.correlationId).toBeUndefined();
    // No key twice in a line (the mixin merges with what the call passes).
    const line = out.lines[0];
    expect(line.split('"correlationId"')).toHaveLength(2);
  });

  it('redacts credentials and the forwarded identity', () => {
    const out = sink();
    const logger = createServiceLogger({ service: 's', destination: out });
    logger.info(
      {
        req: {
          headers: {
            authorization: 'Bearer secret-token',
            'x-lianfang-identity': 'signed-identity',
            cookie: 'session=1',
            accept: 'application/json',
          },
        },
      },
      'request',
    );
    const text = out.lines[0];
    expect(text).not.toContain('secret-token');
    expect(text).not.toContain('signed-identity');
    expect(text).not.toContain('session=1');
    expect(out.entries()[0].req).toEqual({
      headers: {
        authorization: '[redacted]',
        'x-lianfang-identity': '[redacted]',
        cookie: '[redacted]',
        accept: 'application/json',
      },
    });
  });

  it('is readable on a developer terminal, and never in production', () => {
    const dev: string[] = [];
    const devLogger = createServiceLogger({
      service: 'gateway',
      pretty: true,
      destination: { write: (l: string) => void dev.push(l) },
    });
    runWithTrace(createTrace({ correlationId: 'c-1' }), () => devLogger.info({ count: 3 }, 'started'));
    expect(dev).toHaveLength(1);
    expect(dev[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}gateway started count=3 \(corr c-1\)\n$/);

    const prod = sink();
    createServiceLogger({ service: 'gateway', pretty: true, nodeEnv: 'production', destination: prod }).info(
      'started',
    );
    expect(() => prod.entries()).not.toThrow();
    expect(prod.entries()[0].msg).toBe('started');
  });

  it('formats errors with their stack in development', () => {
    const line = JSON.stringify({
      level: 'error',
      time: '2025-03-01T08:00:00.000Z',
      service: 's',
      msg: 'boom',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x (y.ts:1:1)' },
    });
    expect(formatLine(line)).toBe('08:00:00.000 ERROR s boom\nError: boom\n    at x (y.ts:1:1)');
    expect(formatLine('not json')).toBe('not json');
  });
});

describe('ServiceLogger (Nest LoggerService)', () => {
  function nest() {
    const out = sink();
    const logger = new ServiceLogger(createServiceLogger({ service: 's', level: 'trace', destination: out }));
    return { out, logger };
  }

  it('maps Nest levels and takes the context from the last argument', () => {
    const { out, logger } = nest();
    logger.log('started', 'NestApplication');
    logger.warn('slow', 'Relay');
    logger.debug('detail', 'Relay');
    logger.verbose('more detail', 'Relay');
    logger.fatal('gone', 'Main');
    expect(out.entries().map((e) => [e.level, e.context, e.msg])).toEqual([
      ['info', 'NestApplication', 'started'],
      ['warn', 'Relay', 'slow'],
      ['debug', 'Relay', 'detail'],
      ['trace', 'Relay', 'more detail'],
      ['fatal', 'Main', 'gone'],
    ]);
  });

  it('keeps stacks and errors of error lines', () => {
    const { out, logger } = nest();
    const stack = 'Error: boom\n    at handler (app.ts:10:5)';
    logger.error('handler failed', stack, 'ExceptionsHandler');
    logger.error('no context', stack);
    logger.error(new Error('thrown'));
    logger.error({ msg: 'object', transferId: 't-1' }, 'Ctx');
    const [a, b, c, d] = out.entries();
    expect(a).toMatchObject({ level: 'error', msg: 'handler failed', stack, context: 'ExceptionsHandler' });
    expect(b).toMatchObject({ msg: 'no context', stack });
    expect(b.context).toBeUndefined();
    expect(c).toMatchObject({ msg: 'thrown', err: { message: 'thrown', type: 'Error' } });
    expect(d).toMatchObject({ msg: 'object', transferId: 't-1', context: 'Ctx' });
  });

  it('follows Nest log levels', () => {
    const { out, logger } = nest();
    logger.setLogLevels(['error', 'warn']);
    logger.log('hidden');
    logger.warn('shown');
    expect(out.entries().map((e) => e.msg)).toEqual(['shown']);
  });
});
