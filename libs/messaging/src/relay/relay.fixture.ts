import { randomUUID } from 'node:crypto';
import { systemActor, type EventStore } from '@lianfang/eventsourcing';
import type { IncomingMessage, Publisher, Transport } from '../transport/transport';

/**
 * Shared by the relay specs (not exported from the library): appending events with outbox messages
 * through the real event store, and checking what arrived.
 */

/** Polls until `check` holds (the deadline only bounds a hang: no timed assertions). */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 40_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface AppendedEvent {
  readonly eventId: string;
  readonly streamId: string;
  readonly n: number;
  readonly correlationId: string;
  readonly traceparent: string;
}

/** Appends event n of a stream with one outbox message (an integration event envelope) for `topic`. */
export async function appendCounted(
  store: EventStore,
  topic: string,
  streamId: string,
  n: number,
): Promise<AppendedEvent> {
  const eventId = randomUUID();
  const correlationId = `corr-${streamId}-${n}`;
  const traceparent = `00-${randomUUID().replace(/-/g, '')}-${randomUUID().replace(/-/g, '').slice(0, 16)}-01`;
  const occurredAt = new Date();
  await store.append({
    streams: [
      {
        streamId,
        expectedVersion: n === 0 ? 'no-stream' : BigInt(n - 1),
        events: [{ type: 'Counted', data: { n }, eventId }],
      },
    ],
    outbox: [
      {
        topic,
        key: streamId,
        type: 'Counted',
        schemaVersion: 1,
        payload: {
          eventId,
          type: 'Counted',
          schemaVersion: 1,
          source: 'transfer',
          streamId,
          streamPosition: String(n),
          occurredAt: occurredAt.toISOString(),
          correlationId,
          causationId: null,
          actor: { kind: 'system', name: 'relay-spec' },
          data: { n },
        },
        headers: { traceparent },
      },
    ],
    context: { actor: systemActor('relay-spec'), occurredAt, correlationId },
  });
  return { eventId, streamId, n, correlationId, traceparent };
}

/** Appends `perStream` events to each of `streams` streams: streams in parallel, each stream in order. */
export async function appendMany(
  store: EventStore,
  topic: string,
  streamPrefix: string,
  streams: number,
  perStream: number,
): Promise<AppendedEvent[]> {
  const all = await Promise.all(
    Array.from({ length: streams }, async (_, s) => {
      const out: AppendedEvent[] = [];
      for (let n = 0; n < perStream; n++)
        out.push(await appendCounted(store, topic, `${streamPrefix}-${s}`, n));
      return out;
    }),
  );
  return all.flat();
}

/**
 * The first delivery of each event, per stream, in arrival order: what an inbox-deduplicating consumer
 * applies. Per-stream order holds when, for every stream, these are 0, 1, 2, …
 */
export function firstDeliveriesByStream(received: readonly IncomingMessage[]): Map<string, number[]> {
  const seen = new Set<string>();
  const byStream = new Map<string, number[]>();
  for (const m of received) {
    const envelope = JSON.parse(m.value) as { eventId: string; streamId: string; data: { n: number } };
    if (seen.has(envelope.eventId)) continue;
    seen.add(envelope.eventId);
    const list = byStream.get(envelope.streamId) ?? [];
    list.push(envelope.data.n);
    byStream.set(envelope.streamId, list);
  }
  return byStream;
}

/** Asserts: every appended event arrived, and per stream the first deliveries are in append order. */
export function expectAllInStreamOrder(
  received: readonly IncomingMessage[],
  appended: readonly AppendedEvent[],
): void {
  const byStream = firstDeliveriesByStream(received);
  const expected = new Map<string, number[]>();
  for (const e of appended) expected.set(e.streamId, [...(expected.get(e.streamId) ?? []), e.n]);
  for (const list of expected.values()) list.sort((a, b) => a - b);
  expect(Object.fromEntries([...byStream].sort(([a], [b]) => a.localeCompare(b)))).toEqual(
    Object.fromEntries([...expected].sort(([a], [b]) => a.localeCompare(b))),
  );
}

export function distinctEventIds(received: readonly IncomingMessage[]): Set<string> {
  return new Set(received.map((m) => (JSON.parse(m.value) as { eventId: string }).eventId));
}

/**
 * A transport whose publishers can be made to fail like a Kafka producer hit by a fatal sequence error:
 * the first `fatalFailures` sends of more than one message deliver the first half of the batch, then throw
 * what kafkajs throws (KafkaJSNonRetriableError caused by an OUT_OF_ORDER_SEQUENCE_NUMBER protocol error).
 */
export function withFatalProducerErrors(
  inner: Transport,
  fatalFailures: number,
  makeError: () => Error,
): Transport & { publishersCreated: number; publishersClosed: number; injected: number } {
  let left = fatalFailures;
  const wrapper = {
    kind: inner.kind,
    publishersCreated: 0,
    publishersClosed: 0,
    injected: 0,
    ensureTopics: (topics: Parameters<Transport['ensureTopics']>[0]) => inner.ensureTopics(topics),
    subscribe: (options: Parameters<Transport['subscribe']>[0]) => inner.subscribe(options),
    close: () => inner.close(),
    async createPublisher(): Promise<Publisher> {
      const publisher = await inner.createPublisher();
      wrapper.publishersCreated++;
      return {
        async send(messages) {
          if (left > 0 && messages.length > 1) {
            left--;
            wrapper.injected++;
            await publisher.send(messages.slice(0, Math.ceil(messages.length / 2)));
            throw makeError();
          }
          await publisher.send(messages);
        },
        async close() {
          wrapper.publishersClosed++;
          await publisher.close();
        },
      };
    },
  };
  return wrapper;
}
