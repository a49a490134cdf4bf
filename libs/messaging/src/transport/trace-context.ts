import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomBytes } from 'node:crypto';

/**
 * The correlation id and W3C trace context (https://www.w3.org/TR/trace-context/) of the work in hand,
 * kept in an AsyncLocalStorage so that every log line, every command and every Kafka message issued while
 * handling one request or one message carries them without being passed around.
 *
 * - An HTTP request takes its correlation id from `x-correlation-id`, else the trace id of `traceparent`,
 *   else a new one (runtime's observability middleware).
 * - The outbox relay puts `traceparent` and `x-correlation-id` on each Kafka message from the event's
 *   stored correlation id; the consumer restores the context around the handler.
 *
 * The trace id of a correlation id (`traceIdFromCorrelationId`): the id itself when it is already a trace id
 * (32 lower-case hex), its hex digits when it is a UUID (128 bits either way), else the first 128 bits of
 * SHA-256 of it. Stable: the same correlation id gives the same trace id in every process, so a hop that
 * only kept the correlation id (an event's metadata) still lands in the same trace.
 */
export interface TraceContext {
  /** 32 lower-case hex, not all zeros. */
  readonly traceId: string;
  /** This hop's span: 16 lower-case hex, not all zeros. */
  readonly spanId: string;
  /** The caller's span, when the context came from a `traceparent`. */
  readonly parentSpanId?: string;
  readonly sampled: boolean;
  /** What commands issued here carry as `metadata.correlationId`. */
  readonly correlationId: string;
  /** `00-<traceId>-<spanId>-<flags>`: what to send downstream. */
  readonly traceparent: string;
}

export interface ParsedTraceparent {
  readonly traceId: string;
  readonly parentSpanId: string;
  readonly sampled: boolean;
}

const storage = new AsyncLocalStorage<TraceContext>();

/** The context of the request or message being handled; undefined outside one. */
export function currentTrace(): TraceContext | undefined {
  return storage.getStore();
}

/** Runs `fn` (and everything it starts asynchronously) inside `context`. */
export function runWithTrace<T>(context: TraceContext, fn: () => T): T {
  return storage.run(context, fn);
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
/** What an incoming `x-correlation-id` may look like (else a new one is made): no spaces, no control characters. */
const CORRELATION_ID = /^[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,127}$/;

const allZero = (hex: string) => /^0+$/.test(hex);

export function isTraceId(value: string): boolean {
  return TRACE_ID.test(value) && !allZero(value);
}

export function isSpanId(value: string): boolean {
  return SPAN_ID.test(value) && !allZero(value);
}

/** Whether an incoming correlation id is acceptable (1–128 of A–Z a–z 0–9 . _ : / + = @ -). */
export function isValidCorrelationId(value: string): boolean {
  return CORRELATION_ID.test(value);
}

/** Parses a `traceparent` header; undefined when missing or malformed (version ff, zero ids…). */
export function parseTraceparent(value: string | undefined): ParsedTraceparent | undefined {
  if (!value) return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, parentSpanId, flags, rest] = m;
  // Version 00 has exactly four fields; a later version may append more (forward compatible).
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (allZero(traceId) || allZero(parentSpanId)) return undefined;
  return { traceId, parentSpanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

export function formatTraceparent(traceId: string, spanId: string, sampled = true): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

function nonZeroHex(bytes: number): string {
  for (;;) {
    const hex = randomBytes(bytes).toString('hex');
    if (!allZero(hex)) return hex;
  }
}

export const newTraceId = (): string => nonZeroHex(16);
export const newSpanId = (): string => nonZeroHex(8);

function digest(text: string, hexChars: number): string {
  const hex = createHash('sha256').update(text, 'utf8').digest('hex').slice(0, hexChars);
  // 2^-128 (2^-64): still, an all-zero id is invalid, so never return one.
  return allZero(hex) ? `${hex.slice(0, -1)}1` : hex;
}

/** The stable trace id of a correlation id (see the module comment). */
export function traceIdFromCorrelationId(correlationId: string): string {
  if (isTraceId(correlationId)) return correlationId;
  if (UUID.test(correlationId)) {
    const hex = correlationId.replace(/-/g, '').toLowerCase();
    if (!allZero(hex)) return hex;
  }
  return digest(correlationId, 32);
}

/** A stable span id for something that may be sent again (an outbox message: the same id on a resend). */
export function spanIdFrom(seed: string): string {
  return digest(seed, 16);
}

export interface TraceInit {
  readonly correlationId?: string;
  /** A `traceparent` received from upstream (parsed or text). */
  readonly traceparent?: string | ParsedTraceparent;
  /** This hop's span id (default: a random one). */
  readonly spanId?: string;
}

/**
 * The context of a new hop: the trace of the received `traceparent` (else the one of the correlation id,
 * else a new one), a span of its own, and the correlation id (else the trace id).
 */
export function createTrace(init: TraceInit = {}): TraceContext {
  const parent = typeof init.traceparent === 'string' ? parseTraceparent(init.traceparent) : init.traceparent;
  const correlationId = init.correlationId || parent?.traceId || newTraceId();
  const traceId = parent?.traceId ?? traceIdFromCorrelationId(correlationId);
  const spanId = init.spanId && isSpanId(init.spanId) ? init.spanId : newSpanId();
  const sampled = parent?.sampled ?? true;
  return {
    traceId,
    spanId,
    ...(parent ? { parentSpanId: parent.parentSpanId } : {}),
    sampled,
    correlationId,
    traceparent: formatTraceparent(traceId, spanId, sampled),
  };
}

/** Headers that carry a context to the next hop (an outbox message, an HTTP call to another service). */
export function traceHeaders(
  context: TraceContext | undefined = currentTrace(),
): Record<'traceparent' | 'x-correlation-id', string> | Record<string, never> {
  if (!context) return {};
  return { traceparent: context.traceparent, 'x-correlation-id': context.correlationId };
}
