import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { createTrace, isValidCorrelationId, runWithTrace, type TraceContext } from '@lianfang/messaging';

export const CORRELATION_HEADER = 'x-correlation-id';
export const TRACEPARENT_HEADER = 'traceparent';

export interface RequestLoggingOptions {
  /** Paths whose successful requests are logged at debug, not info (probes and scrapes). */
  readonly quietPaths?: readonly string[];
}

export const DEFAULT_QUIET_PATHS = ['/health', '/ready', '/metrics'] as const;

type Next = (error?: unknown) => void;
interface TracedRequest extends IncomingMessage {
  trace?: TraceContext;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The trace context of an incoming request: its `x-correlation-id` when well-formed (else ignored), else
 * the trace id of its `traceparent`, else a new id; the trace of its `traceparent` when valid, else the
 * correlation id's (`traceIdFromCorrelationId`).
 */
export function traceOfRequest(req: IncomingMessage): TraceContext {
  const given = header(req, CORRELATION_HEADER)?.trim();
  const traceparent = header(req, TRACEPARENT_HEADER);
  return createTrace({
    ...(given && isValidCorrelationId(given) ? { correlationId: given } : {}),
    ...(traceparent ? { traceparent } : {}),
  });
}

/**
 * Express middleware: takes or makes the request's trace context, answers its correlation id in
 * `x-correlation-id`, runs the rest of the request inside it (so every log line and command carries it)
 * and logs the request once it completes (pino-http: method, url, status, time; 5xx at error, 4xx at warn).
 */
export function requestContextMiddleware(
  logger: Logger,
  options: RequestLoggingOptions = {},
): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  const quiet = new Set(options.quietPaths ?? DEFAULT_QUIET_PATHS);
  const pathOf = (req: IncomingMessage) => (req.url ?? '/').split('?')[0];
  const traced = (req: IncomingMessage) => (req as TracedRequest).trace;
  const http = pinoHttp({
    logger,
    genReqId: (req) => traced(req)?.correlationId ?? '',
    customLogLevel: (req, res, error) => {
      if (error || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      return quiet.has(pathOf(req)) ? 'debug' : 'info';
    },
    // The completion line is written when the response finishes, maybe outside the request's async
    // context: it names the correlation itself (the mixin merges, never duplicates, these keys).
    customSuccessObject: (req, _res, value: object) => ({ ...value, ...ids(traced(req)) }),
    customErrorObject: (req, _res, _error, value: object) => ({ ...value, ...ids(traced(req)) }),
  });
  return (req, res, next) => {
    const trace = traceOfRequest(req);
    (req as TracedRequest).trace = trace;
    req.id = trace.correlationId;
    res.setHeader(CORRELATION_HEADER, trace.correlationId);
    runWithTrace(trace, () => http(req, res, next));
  };
}

function ids(trace: TraceContext | undefined): Record<string, string> {
  return trace ? { correlationId: trace.correlationId, traceId: trace.traceId, spanId: trace.spanId } : {};
}
