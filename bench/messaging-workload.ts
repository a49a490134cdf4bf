// The workload of `npm run bench -- messaging`, shared by the bench and its worker processes: one
// integration event per append (a small "ping" with its sequence number), published by the outbox relay
// and consumed by a consumer with its inbox, whose effect is one row in a table.
import { performance } from 'node:perf_hooks';
import { IsInt, Min } from 'class-validator';
import { ContractRegistry, defineContract } from '@lianfang/contracts';
import type { AppendRequest, OutboxMessage } from '@lianfang/eventsourcing';

export const EVENT_TYPE = 'BenchPinged';

export class BenchPingedV1 {
  @IsInt()
  @Min(0)
  seq!: number;
}

export const benchContracts = (): ContractRegistry =>
  new ContractRegistry([
    defineContract({
      type: EVENT_TYPE,
      version: 1,
      source: 'transfer',
      schema: BenchPingedV1,
      description: 'Benchmark: one ping per append.',
    }),
  ]);

/** Wall-clock time in ms with sub-ms resolution, comparable across the processes of one machine. */
export const hrNow = (): number => performance.timeOrigin + performance.now();

export const streamOf = (seq: number, streams: number): string => `bench-${seq % streams}`;

export function pingOutbox(
  topic: string,
  streamId: string,
  seq: number,
  eventId: string,
  at: Date,
): OutboxMessage {
  return {
    topic,
    key: streamId,
    type: EVENT_TYPE,
    schemaVersion: 1,
    payload: {
      eventId,
      type: EVENT_TYPE,
      schemaVersion: 1,
      source: 'transfer',
      streamId,
      streamPosition: '0',
      occurredAt: at.toISOString(),
      correlationId: `bench-${seq}`,
      causationId: null,
      actor: { kind: 'system', name: 'bench.messaging' },
      data: { seq },
    },
  };
}

/** One event and its outbox message, appended without a version check (streams are shared round-robin). */
export function pingAppend(topic: string, streamId: string, seq: number, eventId: string): AppendRequest {
  const at = new Date();
  return {
    streams: [{ streamId, expectedVersion: 'any', events: [{ type: EVENT_TYPE, data: { seq }, eventId }] }],
    outbox: [pingOutbox(topic, streamId, seq, eventId, at)],
    context: {
      actor: { kind: 'system', name: 'bench.messaging' },
      occurredAt: at,
      correlationId: `bench-${seq}`,
    },
  };
}

// ─── worker protocol (IPC) ──────────────────────────────────────────────────────────────────

export interface WorkerConfig {
  readonly role: 'relay-throughput' | 'relay' | 'consumer';
  readonly databaseUrl: string;
  readonly schema: string;
  readonly brokers: string;
  readonly topic: string;
  readonly groupId: string;
  readonly relayBatchSize: number;
  /** relay-throughput: stop once this many messages are acknowledged. */
  readonly expected?: number;
}

export type WorkerMessage =
  | { readonly kind: 'ready' }
  /** relay: event ids acknowledged by Kafka, and when (hrNow, right after the ack). */
  | { readonly kind: 'published'; readonly ids: string[]; readonly at: number[] }
  /** consumer: handed to the consumer (consumedAt) and its effect committed (effectAt). */
  | {
      readonly kind: 'consumed';
      readonly ids: string[];
      readonly consumedAt: number[];
      readonly effectAt: number[];
    }
  | {
      readonly kind: 'throughput';
      readonly messages: number;
      readonly batches: number;
      /** From the start of the first send to the last acknowledgement (ms). */
      readonly ms: number;
    }
  | { readonly kind: 'stats'; readonly stats: Record<string, number> }
  | { readonly kind: 'error'; readonly error: string };

// ─── statistics ─────────────────────────────────────────────────────────────────────────────

/** The q-quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}
