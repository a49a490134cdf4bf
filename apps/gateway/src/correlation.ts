import { createTrace, currentTrace, isValidCorrelationId, type TraceContext } from '@lianfang/messaging';
import { v7 as uuidv7 } from 'uuid';

/**
 * A caller may pass its own correlation id (a client that retries keeps one id across attempts) when it
 * passes the platform's rule (`isValidCorrelationId`: 1–128 safe characters); anything else, or nothing,
 * gets a new UUIDv7.
 */
export function correlationIdFrom(header: string | string[] | undefined): string {
  const given = (Array.isArray(header) ? header[0] : header)?.trim();
  return given && isValidCorrelationId(given) ? given : uuidv7();
}

/**
 * The trace of a request: the one the observability middleware started for it (so the gateway's log
 * lines and the subgraphs' `traceparent` share a span), else one made the same way from the caller's
 * `traceparent` and the correlation id. Its `traceparent` names the gateway's span as the subgraphs' parent.
 */
export function traceOfRequest(
  correlationId: string,
  traceparent: string | string[] | undefined,
): TraceContext {
  const active = currentTrace();
  if (active?.correlationId === correlationId) return active;
  const given = Array.isArray(traceparent) ? traceparent[0] : traceparent;
  return createTrace({ correlationId, ...(given ? { traceparent: given } : {}) });
}
