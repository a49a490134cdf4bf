import type { Actor } from './actor';
import type { LogPosition, NewEvent, RecordedEvent } from './events';

/**
 * What the writer believes about the stream. A bigint is the exact version (position of the last event);
 * `no-stream`: it must not exist; `exists`: it must have at least one event; `any`: no check.
 */
export type ExpectedVersion = bigint | 'no-stream' | 'exists' | 'any';

/** Who and why, once per append: copied into every event's metadata. */
export interface AppendContext {
  readonly actor: Actor;
  /** Business time, from the command. */
  readonly occurredAt: Date;
  readonly correlationId: string;
  readonly causationId?: string | null;
  /**
   * Makes the append idempotent: a commandId already stored stores nothing and returns the first result;
   * the same commandId with a different `commandHash` is an IdempotencyConflictError.
   */
  readonly commandId?: string | null;
  /** A stable hash of the command's payload (see `hashCommand`); required with `commandId`. */
  readonly commandHash?: string | null;
}

export interface StreamAppend {
  readonly streamId: string;
  readonly expectedVersion: ExpectedVersion;
  readonly events: readonly NewEvent[];
}

/** A message for other services, stored in the same transaction as the events (transactional outbox). */
export interface OutboxMessage {
  /** Kafka topic, e.g. `lianfang.transfer.v1`. */
  readonly topic: string;
  /** Partition key: the stream id, so per-stream order holds. */
  readonly key: string;
  readonly type: string;
  readonly schemaVersion: number;
  /** The integration event envelope (JSON-safe: bigints as strings). */
  readonly payload: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface AppendRequest {
  /** One or more streams, all or nothing: an approval and the capacity it reserves are one fact. */
  readonly streams: readonly StreamAppend[];
  readonly outbox?: readonly OutboxMessage[];
  readonly context: AppendContext;
}

export interface AppendResult {
  /** The version of each stream after the append (the position of its last event). */
  readonly streams: ReadonlyArray<{ readonly streamId: string; readonly version: bigint }>;
  readonly events: readonly RecordedEvent[];
  /** The log position of the last event appended: a client waits for projections to pass it. */
  readonly lastLogPosition: LogPosition;
  /** True when `commandId` had been stored already: nothing was written, this is the first result. */
  readonly replayed: boolean;
}

export interface ReadStreamOptions {
  /** forwards (default) from position 0, or backwards from the end. */
  readonly direction?: 'forwards' | 'backwards';
  /** Inclusive start position in the stream; for backwards, the highest position to return. */
  readonly from?: bigint;
  readonly maxCount?: number;
}

export interface ReadStreamResult {
  readonly events: readonly RecordedEvent[];
  /** The stream's current version, or undefined when the stream has no events. */
  readonly version: bigint | undefined;
}

export interface ReadAllOptions {
  /** Exclusive: read what comes after this position. Defaults to LOG_START. */
  readonly after?: LogPosition;
  /** Batch size (default 1000). */
  readonly maxCount?: number;
}

export interface ReadAllResult {
  readonly events: readonly RecordedEvent[];
  /** Resume from here; equal to `after` when nothing was read. */
  readonly next: LogPosition;
}

export interface TailAllOptions extends ReadAllOptions {
  /** Stops the tail; the iterator then ends. */
  readonly signal?: AbortSignal;
  /** How long to wait between polls when caught up and no notification arrives (ms). */
  readonly idleWaitMs?: number;
}

/**
 * The event store port. Adapters: PostgreSQL (`pg`), PGlite (in-process), later EventStoreDB/KurrentDB.
 * Every adapter passes the contract suite in `event-store.contract.ts`.
 */
export interface EventStore {
  append(request: AppendRequest): Promise<AppendResult>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<ReadStreamResult>;
  /** One batch of the all-stream in log order, only events no earlier transaction can still precede. */
  readAll(options?: ReadAllOptions): Promise<ReadAllResult>;
  /** Catch up from `after`, then follow live. Every committed event exactly once, in log order. */
  tailAll(options?: TailAllOptions): AsyncIterable<RecordedEvent>;
  close(): Promise<void>;
}
