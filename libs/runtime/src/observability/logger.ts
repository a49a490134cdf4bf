import type { LoggerService, LogLevel as NestLogLevel } from '@nestjs/common';
import { hostname } from 'node:os';
import pino, { type DestinationStream, type Level, type Logger } from 'pino';
import { IDENTITY_HEADER } from '@lianfang/auth';
import { currentTrace } from '@lianfang/messaging';
import { prettyDestination } from './pretty';

/** LOG_LEVEL's values (pino's levels). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export interface ServiceLoggerOptions {
  /** The `service` field of every line, e.g. `transfer-service`. */
  readonly service: string;
  /** LOG_LEVEL (default info); `silent` logs nothing. */
  readonly level?: LogLevelName | 'silent';
  /** NODE_ENV: production always writes JSON lines. */
  readonly nodeEnv?: string;
  /**
   * One readable line per entry instead of JSON (default: outside production, when stdout is a terminal).
   * Never in production.
   */
  readonly pretty?: boolean;
  /** Where lines go (default stdout); tests pass a collecting stream. */
  readonly destination?: DestinationStream;
}

/** Credentials never reach a log: the bearer token, cookies and the gateway-signed identity. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  `req.headers["${IDENTITY_HEADER}"]`,
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  `headers["${IDENTITY_HEADER}"]`,
];

/**
 * The service's root pino logger: JSON lines (`level` as a label, `time` ISO-8601, `service`, `pid`,
 * `hostname`), and on every line written inside a request or a message, its `correlationId`, `traceId`
 * and `spanId` (from the trace context, see `currentTrace`).
 */
export function createServiceLogger(options: ServiceLoggerOptions): Logger {
  const production = options.nodeEnv === 'production';
  const pretty =
    !production && (options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true));
  const destination = pretty
    ? prettyDestination(options.destination ?? process.stdout)
    : (options.destination ?? pino.destination(1));
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service, pid: process.pid, hostname: hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      messageKey: 'msg',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      mixin() {
        const trace = currentTrace();
        return trace
          ? { correlationId: trace.correlationId, traceId: trace.traceId, spanId: trace.spanId }
          : {};
      },
    },
    destination,
  );
}

const NEST_TO_PINO: Record<NestLogLevel, Level> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/** Nest's ConsoleLogger tells a stack from a context this way too. */
const STACK = /^(.)+\n\s+at .+:\d+:\d+/;

/**
 * Nest's LoggerService over a pino logger: `app.useLogger(app.get(ServiceLogger))` sends Nest's own lines
 * (and every `new Logger(context)`) through it. `context` becomes a field; an Error becomes `err` (with its
 * stack); an object message is merged into the line.
 */
export class ServiceLogger implements LoggerService {
  constructor(readonly pino: Logger) {}

  log(message: unknown, ...optional: unknown[]): void {
    this.write('info', message, optional);
  }
  error(message: unknown, ...optional: unknown[]): void {
    this.write('error', message, optional);
  }
  warn(message: unknown, ...optional: unknown[]): void {
    this.write('warn', message, optional);
  }
  debug(message: unknown, ...optional: unknown[]): void {
    this.write('debug', message, optional);
  }
  verbose(message: unknown, ...optional: unknown[]): void {
    this.write('trace', message, optional);
  }
  fatal(message: unknown, ...optional: unknown[]): void {
    this.write('fatal', message, optional);
  }

  /** Nest's log levels: the most detailed one enabled becomes pino's level. */
  setLogLevels(levels: NestLogLevel[]): void {
    const order: Level[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
    const wanted = levels.map((l) => NEST_TO_PINO[l]).sort((a, b) => order.indexOf(a) - order.indexOf(b));
    this.pino.level = wanted[0] ?? 'silent';
  }

  /** A child for one component: `{ context }` on each of its lines. */
  forContext(context: string): Logger {
    return this.pino.child({ context });
  }

  private write(level: Level, message: unknown, optional: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const rest = [...optional];
    const fields: Record<string, unknown> = {};
    // Nest passes the context last (a string), and for errors a stack before it.
    if (rest.length > 0 && typeof rest[rest.length - 1] === 'string') {
      const last = rest[rest.length - 1] as string;
      if (!(level === 'error' && rest.length === 1 && STACK.test(last))) {
        fields.context = last;
        rest.pop();
      }
    }
    if (level === 'error' || level === 'fatal') {
      const stack = rest.find((r): r is string => typeof r === 'string' && STACK.test(r));
      if (stack) fields.stack = stack;
    }
    const errors = rest.filter((r): r is Error => r instanceof Error);
    if (message instanceof Error) {
      this.pino[level]({ ...fields, err: message }, message.message);
      return;
    }
    if (errors[0]) fields.err = errors[0];
    if (message !== null && typeof message === 'object') {
      const { msg, message: text, ...others } = message as Record<string, unknown>;
      const line = typeof msg === 'string' ? msg : typeof text === 'string' ? text : undefined;
      this.pino[level]({ ...others, ...fields }, line);
      return;
    }
    this.pino[level](fields, String(message));
  }
}
