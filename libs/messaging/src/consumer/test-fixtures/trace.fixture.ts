import { randomUUID } from 'node:crypto';
import { createPostgresEventStore, systemActor, type SqlClient } from '@lianfang/eventsourcing';
import { startOutboxRelay } from '../../relay/outbox-relay';
import { currentTrace, type TraceContext } from '../../transport/trace-context';
import type { MessageHeaders, Transport } from '../../transport/transport';
import { startConsumer } from '../consumer';
import { counterEnvelope, testContracts } from './counter.fixture';

/** What the effect saw while handling one message. */
export interface SeenByHandler {
  readonly eventId: string;
  readonly headers: MessageHeaders;
  readonly trace: TraceContext | undefined;
  /** The context after an await and a timer inside the effect (it must survive both). */
  readonly later: TraceContext | undefined;
}

/**
 * End to end through the real pieces: an append with a correlation id (and an outbox message) → the
 * outbox relay → the transport → the consumer → the effect, which records the trace context it runs in.
 */
export async function traceScenario(options: {
  readonly client: SqlClient;
  readonly transport: Transport;
  readonly topic: string;
  readonly schemaPrefix: string;
}) {
  const { client, transport, topic } = options;
  const source = `${options.schemaPrefix}_src`;
  const target = `${options.schemaPrefix}_dst`;
  const store = createPostgresEventStore({ client, schema: source });
  await store.start();
  await transport.ensureTopics([{ name: topic, partitions: 3, replicationFactor: 1 }]);
  const seen: SeenByHandler[] = [];
  const consumer = await startConsumer({
    transport,
    client,
    schema: target,
    groupId: `${topic}.trace`,
    topics: [topic],
    contracts: testContracts(),
    deadLetterTopics: { partitions: 3, replicationFactor: 1 },
    handle: async (envelope, _tx, message) => {
      const trace = currentTrace();
      await new Promise((r) => setTimeout(r, 1));
      seen.push({
        eventId: envelope.eventId,
        headers: message.headers,
        trace,
        later: currentTrace(),
      });
    },
  });
  const relay = await startOutboxRelay({
    client,
    schema: source,
    transport,
    idlePollMs: 50,
    logger: { warn: () => undefined, error: (...a: unknown[]) => console.error(...a) },
  });

  /** Appends one event with its integration event; `headers` go with the outbox message. */
  async function append(correlationId: string, headers: Record<string, string> = {}): Promise<string> {
    const streamId = `trace-${randomUUID()}`;
    const envelope = { ...counterEnvelope(streamId, 1), correlationId };
    await store.append({
      streams: [
        {
          streamId,
          expectedVersion: 'no-stream',
          events: [{ type: 'Counted', data: { n: 1 }, eventId: envelope.eventId }],
        },
      ],
      outbox: [
        {
          topic,
          key: streamId,
          type: envelope.type,
          schemaVersion: 1,
          payload: envelope,
          headers,
        },
      ],
      context: { actor: systemActor('trace-spec'), occurredAt: new Date(), correlationId },
    });
    relay.wake();
    return envelope.eventId;
  }

  async function stop(): Promise<void> {
    await relay.stop();
    await consumer.stop();
    await store.close();
  }

  return { append, seen, stop };
}

async function until(check: () => boolean, what: string, timeoutMs = 40_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The checks both transports pass: a correlation id that is not a trace id gets its derived trace id;
 * a traceparent given with the outbox message is carried as it is; the effect runs in the context.
 */
export async function expectTracePropagation(
  scenario: Awaited<ReturnType<typeof traceScenario>>,
  deriveTraceId: (correlationId: string) => string,
): Promise<void> {
  const plainId = `order-${randomUUID()}`;
  const plain = await scenario.append(plainId);
  const upstreamTrace = randomUUID().replace(/-/g, '');
  const upstream = `00-${upstreamTrace}-${randomUUID().replace(/-/g, '').slice(0, 16)}-01`;
  const givenId = randomUUID();
  const given = await scenario.append(givenId, { traceparent: upstream });
  await until(() => scenario.seen.length >= 2, 'both events handled');

  const first = scenario.seen.find((s) => s.eventId === plain);
  const traceId = deriveTraceId(plainId);
  expect(first?.headers['x-correlation-id']).toBe(plainId);
  expect(first?.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  expect(first?.trace).toMatchObject({ correlationId: plainId, traceId });
  // The consumer's span is a child of the relay's: its parent is the span in the header.
  expect(first?.trace?.parentSpanId).toBe(first?.headers.traceparent.split('-')[2]);
  expect(first?.later).toEqual(first?.trace);

  const second = scenario.seen.find((s) => s.eventId === given);
  expect(second?.headers.traceparent).toBe(upstream);
  expect(second?.headers['x-correlation-id']).toBe(givenId);
  expect(second?.trace).toMatchObject({ correlationId: givenId, traceId: upstreamTrace });
  expect(second?.later).toEqual(second?.trace);
}
