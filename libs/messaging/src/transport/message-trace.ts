import {
  createTrace,
  formatTraceparent,
  parseTraceparent,
  spanIdFrom,
  traceIdFromCorrelationId,
  type TraceContext,
} from './trace-context';
import { HEADERS, type IncomingMessage, type MessageHeaders } from './transport';

/**
 * Trace context on Kafka messages: the relay writes it (`withTraceHeaders`), the consumer reads it back
 * (`traceOfMessage`). Both stable for a message, so a resend or a redelivery lands in the same trace and span.
 */

/**
 * Completes the headers of an outgoing message: `x-correlation-id` (from `lf-correlation-id` when missing)
 * and `traceparent` (from the correlation id's trace id and a span id derived from `spanSeed`, e.g. the
 * event id, when missing or malformed). A `traceparent` given with the outbox message is kept as it is.
 */
export function withTraceHeaders(headers: Record<string, string>, spanSeed: string): Record<string, string> {
  const given = parseTraceparent(headers[HEADERS.traceparent]);
  const correlationId =
    headers[HEADERS.xCorrelationId] || headers[HEADERS.correlationId] || given?.traceId || undefined;
  if (!correlationId) return headers;
  headers[HEADERS.xCorrelationId] ??= correlationId;
  headers[HEADERS.correlationId] ??= correlationId;
  if (!given) {
    headers[HEADERS.traceparent] = formatTraceparent(
      traceIdFromCorrelationId(correlationId),
      spanIdFrom(`outbox:${spanSeed}`),
    );
  }
  return headers;
}

/**
 * The context a consumer restores around the handling of a message: the correlation id of its headers
 * (`x-correlation-id`, `lf-correlation-id`), else `fallbackCorrelationId` (the envelope's), else the trace
 * id; the trace of its `traceparent` (else the correlation id's); a span of its own, stable per consumer
 * group and message.
 */
export function traceOfMessage(
  message: Pick<IncomingMessage, 'topic' | 'partition' | 'offset' | 'headers'>,
  options: { readonly fallbackCorrelationId?: string; readonly consumer?: string } = {},
): TraceContext {
  const headers: MessageHeaders = message.headers;
  const candidates = [
    headers[HEADERS.xCorrelationId],
    headers[HEADERS.correlationId],
    options.fallbackCorrelationId,
  ];
  const correlationId = candidates.find((c): c is string => !!c && c.length <= 256);
  const traceparent = headers[HEADERS.traceparent];
  return createTrace({
    ...(correlationId ? { correlationId } : {}),
    ...(traceparent ? { traceparent } : {}),
    spanId: spanIdFrom(
      `consume:${options.consumer ?? ''}:${message.topic}:${message.partition}:${message.offset}`,
    ),
  });
}
