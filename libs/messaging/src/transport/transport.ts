/**
 * How services exchange integration events: Kafka in servers (`BUS=kafka`), an in-process transport in
 * the embedded mode (`BUS=memory`). Relay, consumers and dead-letter handling are written against this
 * port only, so both transports run the same code paths.
 */

/** Message headers: type, schema version, correlation, W3C trace context, error details on dead letters. */
export type MessageHeaders = Readonly<Record<string, string>>;

/** Standard header names. */
export const HEADERS = {
  type: 'lf-type',
  schemaVersion: 'lf-schema-version',
  eventId: 'lf-event-id',
  streamId: 'lf-stream-id',
  correlationId: 'lf-correlation-id',
  /** The correlation id under the name HTTP uses too (set by the relay; see trace-context.ts). */
  xCorrelationId: 'x-correlation-id',
  causationId: 'lf-causation-id',
  traceparent: 'traceparent',
  /** On dead letters: why, where it came from, how often it failed. */
  error: 'lf-error',
  originalTopic: 'lf-original-topic',
  originalPartition: 'lf-original-partition',
  originalOffset: 'lf-original-offset',
  attempts: 'lf-attempts',
} as const;

export interface OutgoingMessage {
  readonly topic: string;
  /** The stream id: per-stream order holds because one key lands on one partition. */
  readonly key: string;
  /** JSON text of the integration event envelope. */
  readonly value: string;
  readonly headers: MessageHeaders;
}

export interface IncomingMessage {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offsets are int64: kept as decimal strings, never JS numbers. */
  readonly offset: string;
  readonly key: string;
  readonly value: string;
  readonly headers: MessageHeaders;
  readonly timestamp: Date;
}

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
}

export interface Publisher {
  /** Resolves once every message is acknowledged by all in-sync replicas (acks = -1). */
  send(messages: readonly OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface SubscribeOptions {
  /** One consumer group per service and topic. */
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Where a new group starts (default: earliest). */
  readonly fromBeginning?: boolean;
  /**
   * Called for one message at a time per partition, in partition order. The offset is committed only
   * after it resolves; if it rejects, the message is delivered again (the consumer decides when to give up).
   */
  readonly handle: (message: IncomingMessage) => Promise<void>;
  /**
   * Optional: called with a run of consecutive messages of ONE partition (in order, at most `maxBatchSize`)
   * when more than one is available, so that the consumer can apply them in one transaction. The offsets
   * are committed only after it resolves. If it rejects, the transport falls back to `handle`, one message
   * at a time, for that run (so failures, retries and redelivery are exactly those of `handle`).
   */
  readonly handleBatch?: (messages: IncomingMessage[]) => Promise<void>;
  /** Longest run handed to `handleBatch` (default 100). */
  readonly maxBatchSize?: number;
}

export const DEFAULT_MAX_BATCH_SIZE = 100;

export interface Subscription {
  stop(): Promise<void>;
}

/** How far a consumer group is behind on one partition. */
export interface ConsumerLag {
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;
  /** The group's committed offset (next to read), undefined when it committed nothing yet. */
  readonly committed: string | undefined;
  /** The partition's end (next offset to be written). */
  readonly high: string;
  /** high − committed; with nothing committed, high − the first offset kept (a new group starts at the beginning). */
  readonly lag: number;
}

export interface Transport {
  readonly kind: 'kafka' | 'memory';
  ensureTopics(topics: readonly TopicSpec[]): Promise<void>;
  createPublisher(): Promise<Publisher>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /**
   * Optional (metrics): the lag of a group on every partition of the topics. Topics that do not exist
   * are left out. Both transports of this library implement it.
   */
  consumerLag?(groupId: string, topics: readonly string[]): Promise<ConsumerLag[]>;
  close(): Promise<void>;
}

/** high − committed (or − low when nothing is committed), never below 0. */
export function lagOf(low: string, high: string, committed: string | undefined): number {
  const from = committed === undefined ? BigInt(low) : BigInt(committed);
  const lag = BigInt(high) - from;
  return lag > 0n ? Number(lag) : 0;
}
