import { withTraceHeaders, traceOfMessage } from './message-trace';
import {
  createTrace,
  currentTrace,
  formatTraceparent,
  isValidCorrelationId,
  parseTraceparent,
  runWithTrace,
  spanIdFrom,
  traceHeaders,
  traceIdFromCorrelationId,
} from './trace-context';
import { HEADERS } from './transport';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('W3C trace context', () => {
  it('parses a valid traceparent and refuses malformed ones', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({
      traceId: TRACE,
      parentSpanId: SPAN,
      sampled: true,
    });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.sampled).toBe(false);
    for (const bad of [
      undefined,
      '',
      `00-${'0'.repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `ff-${TRACE}-${SPAN}-01`,
      `00-${TRACE.toUpperCase()}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-01-extra`,
      `00-${TRACE}-${SPAN}`,
    ]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
    // A later version may carry more fields.
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-more`)?.traceId).toBe(TRACE);
  });

  it('derives a stable trace id from any correlation id', () => {
    expect(traceIdFromCorrelationId(TRACE)).toBe(TRACE);
    expect(traceIdFromCorrelationId('0190a5b2-7c3e-7d4f-8a1b-2c3d4e5f6a7b')).toBe(
      '0190a5b27c3e7d4f8a1b2c3d4e5f6a7b',
    );
    const derived = traceIdFromCorrelationId('order-42');
    expect(derived).toMatch(/^[0-9a-f]{32}$/);
    expect(traceIdFromCorrelationId('order-42')).toBe(derived);
    expect(traceIdFromCorrelationId('order-43')).not.toBe(derived);
    expect(spanIdFrom('evt-1')).toMatch(/^[0-9a-f]{16}$/);
    expect(spanIdFrom('evt-1')).toBe(spanIdFrom('evt-1'));
  });

  it('creates a hop: the upstream trace, a span of its own, the correlation id', () => {
    const fromParent = createTrace({ traceparent: `00-${TRACE}-${SPAN}-01` });
    expect(fromParent).toMatchObject({ traceId: TRACE, parentSpanId: SPAN, correlationId: TRACE });
    expect(fromParent.spanId).not.toBe(SPAN);
    expect(fromParent.traceparent).toBe(formatTraceparent(TRACE, fromParent.spanId));

    const fromCorrelation = createTrace({ correlationId: 'order-42' });
    expect(fromCorrelation.traceId).toBe(traceIdFromCorrelationId('order-42'));
    expect(fromCorrelation.parentSpanId).toBeUndefined();

    const fresh = createTrace();
    expect(fresh.correlationId).toBe(fresh.traceId);
    expect(fresh.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('keeps the context across awaits and timers, and only inside', async () => {
    const trace = createTrace({ correlationId: 'corr-1' });
    expect(currentTrace()).toBeUndefined();
    const seen = await runWithTrace(trace, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return currentTrace();
    });
    expect(seen).toBe(trace);
    expect(currentTrace()).toBeUndefined();
    expect(traceHeaders(trace)).toEqual({ traceparent: trace.traceparent, 'x-correlation-id': 'corr-1' });
    expect(traceHeaders()).toEqual({});
  });

  it('accepts sensible correlation ids only', () => {
    expect(isValidCorrelationId('0190a5b2-7c3e-7d4f-8a1b-2c3d4e5f6a7b')).toBe(true);
    expect(isValidCorrelationId('req:42/a')).toBe(true);
    expect(isValidCorrelationId('')).toBe(false);
    expect(isValidCorrelationId('has space')).toBe(false);
    expect(isValidCorrelationId('line\nbreak')).toBe(false);
    expect(isValidCorrelationId('x'.repeat(129))).toBe(false);
  });
});

describe('trace context on messages', () => {
  it('completes outgoing headers from the correlation id, keeping a given traceparent', () => {
    const derived = withTraceHeaders({ [HEADERS.correlationId]: 'order-42' }, 'evt-1');
    expect(derived[HEADERS.xCorrelationId]).toBe('order-42');
    expect(parseTraceparent(derived[HEADERS.traceparent])).toEqual({
      traceId: traceIdFromCorrelationId('order-42'),
      parentSpanId: spanIdFrom('outbox:evt-1'),
      sampled: true,
    });
    // The same message again (a resend) gets the same header.
    expect(withTraceHeaders({ [HEADERS.correlationId]: 'order-42' }, 'evt-1')).toEqual(derived);

    const given = `00-${TRACE}-${SPAN}-01`;
    const kept = withTraceHeaders({ [HEADERS.correlationId]: 'order-42', traceparent: given }, 'evt-1');
    expect(kept.traceparent).toBe(given);

    expect(withTraceHeaders({}, 'evt-1')).toEqual({});
  });

  it('restores the context of a received message', () => {
    const message = {
      topic: 't',
      partition: 2,
      offset: '7',
      headers: { [HEADERS.xCorrelationId]: 'order-42', traceparent: `00-${TRACE}-${SPAN}-01` },
    };
    const trace = traceOfMessage(message, { consumer: 'g' });
    expect(trace).toMatchObject({ correlationId: 'order-42', traceId: TRACE, parentSpanId: SPAN });
    expect(traceOfMessage(message, { consumer: 'g' }).spanId).toBe(trace.spanId);
    expect(traceOfMessage(message, { consumer: 'other' }).spanId).not.toBe(trace.spanId);

    const bare = traceOfMessage({ ...message, headers: {} }, { fallbackCorrelationId: 'from-envelope' });
    expect(bare).toMatchObject({
      correlationId: 'from-envelope',
      traceId: traceIdFromCorrelationId('from-envelope'),
    });
  });
});
