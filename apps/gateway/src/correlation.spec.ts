import { createTrace, runWithTrace } from '@lianfang/messaging';
import { correlationIdFrom, traceOfRequest } from './correlation';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('correlation id', () => {
  it('keeps the caller’s id when it is a plain token', () => {
    expect(correlationIdFrom('client-req-42')).toBe('client-req-42');
    expect(correlationIdFrom(['a1.b2:c3', 'other'])).toBe('a1.b2:c3');
  });

  it('replaces a missing, overlong or unsafe id with a new UUIDv7', () => {
    for (const given of [undefined, '', 'x'.repeat(129), 'evil\r\nset-cookie: a=b', 'with space', '-leading'])
      expect(correlationIdFrom(given)).toMatch(UUID_V7);
  });
});

describe('trace of a request', () => {
  it('continues the caller’s trace with the gateway’s own span as the subgraphs’ parent', () => {
    const trace = traceOfRequest('client-req-42', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00');
    expect(trace).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentSpanId: '00f067aa0ba902b7',
      sampled: false,
      correlationId: 'client-req-42',
    });
    expect(trace.traceparent).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${trace.spanId}-00`);
    expect(trace.spanId).not.toBe('00f067aa0ba902b7');
  });

  it('starts a trace named after a UUID correlation id when the caller sent none', () => {
    expect(traceOfRequest('0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', undefined).traceId).toBe(
      '0190a1b2c3d47e5f8a9b0c1d2e3f4a5b',
    );
  });

  it('uses the trace the observability middleware started for this request', () => {
    const active = createTrace({ correlationId: 'client-req-42' });
    expect(runWithTrace(active, () => traceOfRequest('client-req-42', undefined))).toBe(active);
    // Another request's trace is not borrowed.
    expect(runWithTrace(active, () => traceOfRequest('other-request', undefined))).not.toBe(active);
  });
});
