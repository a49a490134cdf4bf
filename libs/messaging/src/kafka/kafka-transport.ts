import {
  Kafka,
  logLevel,
  Partitioners,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type KafkaMessage,
  type LogEntry,
  type Producer,
  type RetryOptions,
} from 'kafkajs';
import {
  assertTopicName,
  assertTopicSpec,
  type PartitionOffsets,
  type TopicInspector,
} from '../topics/topics';
import {
  DEFAULT_MAX_BATCH_SIZE,
  lagOf,
  type ConsumerLag,
  type IncomingMessage,
  type MessageHeaders,
  type OutgoingMessage,
  type Publisher,
  type SubscribeOptions,
  type Subscription,
  type TopicSpec,
  type Transport,
} from '../transport/transport';
import { isFatalProducerError } from './producer-errors';

/** Where the transport (and kafkajs, at WARN and above) reports what goes wrong. */
export type MessagingLogger = Pick<Console, 'warn' | 'error'>;

export interface KafkaTransportOptions {
  /** `host:port` list, or a comma-separated string (the `KAFKA_BROKERS` format). */
  readonly brokers: readonly string[] | string;
  readonly clientId: string;
  readonly logger?: MessagingLogger;
  /** kafkajs's own log lines routed to `logger` from this level up (default `warn`). */
  readonly kafkaLogLevel?: 'nothing' | 'error' | 'warn' | 'info';
  /** Connection-level retries of the client (admin, metadata, reconnects). */
  readonly retry?: RetryOptions;
  /** How long a rejected message waits before it is delivered again (doubling per failure of the same offset). */
  readonly redelivery?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
  readonly consumer?: {
    /** A consumer that stops heartbeating loses its partitions after this (default 10 000 ms; broker minimum 6 000). */
    readonly sessionTimeoutMs?: number;
    readonly heartbeatIntervalMs?: number;
    /** Longest a fetch waits on the broker when there is nothing to read (default 500 ms). */
    readonly maxWaitTimeMs?: number;
    /** Within a long batch, commit the processed offsets at least this often (default 100 ms; batch ends always commit). */
    readonly commitIntervalMs?: number;
    /** Partitions handled at once per subscription (default: all partitions of its topics, at most 32). */
    readonly partitionsConsumedConcurrently?: number;
  };
  /**
   * Test seam: wraps each kafkajs producer the publisher creates (e.g. to inject a fatal error). Not for
   * production use.
   */
  readonly wrapProducer?: (producer: Producer) => Producer;
}

export interface KafkaTransport extends Transport, TopicInspector {
  readonly kind: 'kafka';
  /** The kafkajs client, for what the port does not cover. */
  readonly kafka: Kafka;
  createPublisher(): Promise<KafkaPublisher>;
  /** Committed offset vs end offset of a group, per partition (metrics). */
  consumerLag(groupId: string, topics: readonly string[]): Promise<ConsumerLag[]>;
  /** Deletes topics (tests, tools). Missing topics are ignored. */
  deleteTopics(topics: readonly string[]): Promise<void>;
}

export interface KafkaPublisher extends Publisher {
  /** How many kafkajs producers this publisher has created (a fatal producer error replaces the producer). */
  readonly producersCreated: number;
}

const DEFAULT_RETRY: RetryOptions = { initialRetryTime: 100, maxRetryTime: 1000, retries: 8 };

/**
 * The Transport port over Kafka with kafkajs 2.2.4.
 *
 * Publishing: an idempotent producer (`idempotent: true`, `acks: -1`, one request in flight so batches of a
 * partition can never be reordered by a retry), kafkajs's DefaultPartitioner (murmur2 of the key, like the
 * Java client: one key → one partition), unlimited retries of retriable errors inside kafkajs with short
 * backoff (a send during a broker outage fails once kafkajs gives up reconnecting; the caller retries, the
 * same producer resends with the same sequence numbers so the broker drops what it already has).
 * Fatal producer errors (sequence / producer id / epoch: see `isFatalProducerError`): the publisher
 * rethrows the error AND drops its kafkajs producer, so the next `send` of the same publisher runs on a
 * fresh producer (new producer id). The outbox relay additionally closes and recreates the whole publisher;
 * either way the caller must resend what was not acknowledged.
 *
 * Consuming: one kafkajs consumer per `subscribe` (group = `groupId`), `autoCommit: false`. Messages of a
 * partition are handled one at a time in offset order (or, with `handleBatch`, as runs of consecutive
 * messages of the fetched batch, one at a time again for a run it rejects); an offset is committed
 * (offset + 1) only after `handle` resolved for it and every earlier message of the partition: at the end of each fetched batch and
 * at least every `commitIntervalMs` within one. When `handle` rejects, the processed offsets before it are
 * committed, the partition waits (backoff, heartbeating) and seeks back to the rejected message, which is
 * then fetched and handled again: no exception reaches kafkajs, so the consumer neither crashes nor
 * restarts, and the other partitions keep flowing. A consumer that crashes anyway (broker gone for longer
 * than kafkajs's retries) is restarted by kafkajs, or by this transport when kafkajs would not.
 * Delivery is at least once: after a crash or a rebalance, processed but uncommitted messages come again.
 */
export function createKafkaTransport(options: KafkaTransportOptions): KafkaTransport {
  const brokers = (typeof options.brokers === 'string' ? options.brokers.split(',') : [...options.brokers])
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  if (brokers.length === 0) throw new Error('createKafkaTransport: no brokers given');
  const logger = options.logger ?? console;
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    logLevel: toKafkaLogLevel(options.kafkaLogLevel ?? 'warn'),
    logCreator: () => {
      const limiter = new RepeatLimiter();
      return (entry: LogEntry) => routeLog(logger, entry, limiter);
    },
  });
  return new KafkaTransportImpl(kafka, options, logger);
}

function toKafkaLogLevel(level: NonNullable<KafkaTransportOptions['kafkaLogLevel']>): logLevel {
  switch (level) {
    case 'nothing':
      return logLevel.NOTHING;
    case 'error':
      return logLevel.ERROR;
    case 'info':
      return logLevel.INFO;
    default:
      return logLevel.WARN;
  }
}

/**
 * kafkajs logs every failed connection attempt at ERROR: during a broker outage that is several lines a
 * second per client. The same line (namespace + message) is logged once per `windowMs`, then with a count
 * of the ones left out.
 */
class RepeatLimiter {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(private readonly windowMs = 10_000) {}

  /** undefined: drop this line; otherwise how many like it were dropped since the last one logged. */
  admit(key: string, now = Date.now()): number | undefined {
    const seen = this.last.get(key);
    if (seen && now - seen.at < this.windowMs) {
      seen.suppressed++;
      return undefined;
    }
    if (this.last.size > 500) this.last.clear();
    this.last.set(key, { at: now, suppressed: 0 });
    return seen?.suppressed ?? 0;
  }
}

function routeLog(
  logger: MessagingLogger,
  { namespace, level, log }: LogEntry,
  limiter: RepeatLimiter,
): void {
  const {
    message,
    timestamp: _timestamp,
    logger: _logger,
    ...extra
  } = log as typeof log & { logger?: unknown };
  const suppressed = limiter.admit(`${level}:${namespace}:${message}`);
  if (suppressed === undefined) return;
  const details = Object.entries(extra)
    .filter(([k, v]) => v !== undefined && k !== 'stack' && k !== 'retryCount' && k !== 'retryTime')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : safeJson(v)}`)
    .join(' ');
  const line =
    `[kafkajs ${namespace}] ${message}${details ? ` (${details})` : ''}` +
    (suppressed > 0 ? ` [${suppressed} similar lines suppressed]` : '');
  if (level === logLevel.ERROR) logger.error(line);
  else logger.warn(line);
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

class KafkaTransportImpl implements KafkaTransport {
  readonly kind = 'kafka' as const;
  private admin: Promise<Admin> | undefined;
  private readonly publishers = new Set<KafkaPublisherImpl>();
  private readonly subscriptions = new Set<KafkaSubscription>();
  private closed = false;

  constructor(
    readonly kafka: Kafka,
    private readonly options: KafkaTransportOptions,
    private readonly logger: MessagingLogger,
  ) {}

  private checkOpen(): void {
    if (this.closed) throw new Error('The Kafka transport is closed');
  }

  private connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      this.admin = admin.connect().then(
        () => admin,
        (error: unknown) => {
          this.admin = undefined;
          throw error;
        },
      );
    }
    return this.admin;
  }

  private async createMissingTopics(admin: Admin, topics: readonly TopicSpec[]): Promise<void> {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    if (missing.length === 0) return;
    try {
      // Resolves false when (some) topics exist already: another process got there first, which is fine.
      await admin.createTopics({
        topics: missing.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          replicationFactor: t.replicationFactor,
        })),
        waitForLeaders: true,
      });
    } catch (error) {
      const errors = (error as { errors?: Array<{ type?: string; topic?: string; message?: string }> })
        .errors;
      const real = errors?.filter((e) => e.type !== 'TOPIC_ALREADY_EXISTS');
      if (!errors || real === undefined || real.length > 0) {
        const why = real?.map((e) => `${e.topic ?? '?'}: ${e.type ?? e.message}`).join('; ');
        throw new Error(
          `Could not create topics ${missing.map((t) => t.name).join(', ')}: ${why || (error as Error).message}`,
          { cause: error },
        );
      }
    }
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    this.checkOpen();
    if (topics.length === 0) return;
    for (const spec of topics) assertTopicSpec(spec);
    const admin = await this.connectedAdmin();
    // A broker that has just started may answer "does not host this topic-partition" while the new
    // topics' leaders settle (Kafka marks it retriable): try again until a deadline, then report.
    const deadline = Date.now() + ENSURE_TOPICS_TIMEOUT_MS;
    let metadata: Awaited<ReturnType<Admin['fetchTopicMetadata']>>;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.createMissingTopics(admin, topics);
        metadata = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.name) });
        break;
      } catch (error) {
        if (!isRetriableKafkaError(error) || Date.now() + attempt * 250 > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, attempt * 250));
      }
    }
    for (const spec of topics) {
      const found = metadata.topics.find((t) => t.name === spec.name);
      if (!found) throw new Error(`Topic "${spec.name}" is missing after creation`);
      if (found.partitions.length !== spec.partitions) {
        this.logger.warn(
          `Topic "${spec.name}" has ${found.partitions.length} partitions, configured ${spec.partitions}: ` +
            'left as is (adding partitions would move keys to other partitions and break per-stream order)',
        );
      }
      const replicas = found.partitions[0]?.replicas.length ?? 0;
      if (replicas !== spec.replicationFactor) {
        this.logger.warn(
          `Topic "${spec.name}" has replication factor ${replicas}, configured ${spec.replicationFactor}: left as is`,
        );
      }
    }
  }

  async createPublisher(): Promise<KafkaPublisher> {
    this.checkOpen();
    const publisher = new KafkaPublisherImpl(
      this.kafka,
      this.options,
      (topics) => this.assertTopicsExist(topics),
      () => this.publishers.delete(publisher),
    );
    this.publishers.add(publisher);
    await publisher.connect();
    return publisher;
  }

  /**
   * Producers never create topics (a topic created on the fly would get the broker's default partition
   * count), and kafkajs retries a send to a missing topic forever: check first, fail with a clear error.
   */
  private async assertTopicsExist(topics: readonly string[]): Promise<void> {
    const admin = await this.connectedAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      throw new Error(
        `Cannot publish to ${missing.map((t) => `"${t}"`).join(', ')}: no such topic (declare topics with ensureTopics at start)`,
      );
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.checkOpen();
    if (options.topics.length === 0) throw new Error('subscribe: no topics given');
    for (const t of options.topics) assertTopicName(t);
    const admin = await this.connectedAdmin();
    const metadata = await admin.fetchTopicMetadata({ topics: [...options.topics] });
    const partitions = metadata.topics.reduce((n, t) => n + t.partitions.length, 0);
    const subscription = new KafkaSubscription(
      this.kafka,
      options,
      this.options,
      this.logger,
      Math.max(1, Math.min(32, this.options.consumer?.partitionsConsumedConcurrently ?? partitions)),
      () => this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    try {
      await subscription.start();
    } catch (error) {
      await subscription.stop().catch(() => undefined);
      throw error;
    }
    return subscription;
  }

  async topicOffsets(topic: string): Promise<PartitionOffsets[]> {
    this.checkOpen();
    const admin = await this.connectedAdmin();
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets
      .map((o) => ({ partition: o.partition, low: o.low, high: o.high }))
      .sort((a, b) => a.partition - b.partition);
  }

  async consumerLag(groupId: string, topics: readonly string[]): Promise<ConsumerLag[]> {
    this.checkOpen();
    if (topics.length === 0) return [];
    const admin = await this.connectedAdmin();
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length === 0) return [];
    const committed = await admin.fetchOffsets({ groupId, topics: present });
    const out: ConsumerLag[] = [];
    for (const topic of present) {
      const ends = await admin.fetchTopicOffsets(topic);
      const group = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const end of ends.sort((a, b) => a.partition - b.partition)) {
        const offset = group.find((p) => p.partition === end.partition)?.offset;
        // kafkajs answers -1 for a partition the group never committed on.
        const at = offset === undefined || BigInt(offset) < 0n ? undefined : offset;
        out.push({
          groupId,
          topic,
          partition: end.partition,
          committed: at,
          high: end.high,
          lag: lagOf(end.low, end.high, at),
        });
      }
    }
    return out;
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    this.checkOpen();
    const admin = await this.connectedAdmin();
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    // Only existing ones: kafkajs retries deleting a missing topic for ~10 s before failing.
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.subscriptions].map((s) => s.stop()));
    await Promise.allSettled([...this.publishers].map((p) => p.close()));
    const admin = this.admin;
    this.admin = undefined;
    if (admin) await admin.then((a) => a.disconnect()).catch(() => undefined);
  }
}

/** Header values as strings (kafkajs hands out Buffers, possibly arrays of them). */
function toHeaders(headers: IHeaders | undefined): MessageHeaders {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first === undefined) continue;
    out[name] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}

function toIncoming(topic: string, partition: number, message: KafkaMessage): IncomingMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key ? message.key.toString('utf8') : '',
    value: message.value ? message.value.toString('utf8') : '',
    headers: toHeaders(message.headers),
    timestamp: new Date(Number(message.timestamp)),
  };
}

class KafkaPublisherImpl implements KafkaPublisher {
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;
  private closed = false;
  producersCreated = 0;
  /** Topics known to exist (checked once each). */
  private readonly knownTopics = new Set<string>();

  constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaTransportOptions,
    private readonly assertTopicsExist: (topics: readonly string[]) => Promise<void>,
    private readonly onClose: () => void,
  ) {}

  async connect(): Promise<void> {
    await this.connected();
  }

  private connected(): Promise<Producer> {
    if (this.closed) return Promise.reject(new Error('The publisher is closed'));
    if (this.producer) return Promise.resolve(this.producer);
    if (!this.connecting) {
      const created = this.kafka.producer({
        idempotent: true,
        // One request in flight: kafkajs's idempotence keeps one sequence per partition, so a retried
        // request can never overtake the next one.
        maxInFlightRequests: 1,
        // Unlimited retries of retriable errors inside kafkajs, quickly (set explicitly: kafkajs would
        // otherwise merge the client's 5-retry default in and warn that EoS may be lost).
        retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 1000 },
        createPartitioner: Partitioners.DefaultPartitioner,
        // Topics are declared at start with their partition count; never let a send create one.
        allowAutoTopicCreation: false,
      });
      const producer = this.options.wrapProducer ? this.options.wrapProducer(created) : created;
      this.producersCreated++;
      this.connecting = producer
        .connect()
        .then(async () => {
          if (this.closed) {
            await producer.disconnect().catch(() => undefined);
            throw new Error('The publisher is closed');
          }
          this.producer = producer;
          return producer;
        })
        .catch(async (error: unknown) => {
          await producer.disconnect().catch(() => undefined);
          throw error;
        })
        .finally(() => {
          this.connecting = undefined;
        });
    }
    return this.connecting;
  }

  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const byTopic = new Map<string, Array<{ key: string; value: string; headers: Record<string, string> }>>();
    for (const m of messages) {
      let list = byTopic.get(m.topic);
      if (!list) {
        list = [];
        byTopic.set(m.topic, list);
      }
      list.push({ key: m.key, value: m.value, headers: { ...m.headers } });
    }
    const unknown = [...byTopic.keys()].filter((t) => !this.knownTopics.has(t));
    if (unknown.length > 0) {
      await this.assertTopicsExist(unknown);
      for (const t of unknown) this.knownTopics.add(t);
    }
    const producer = await this.connected();
    try {
      await producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })),
      });
    } catch (error) {
      if (isFatalProducerError(error) && this.producer === producer) {
        // Broken for good: the next send starts a new producer (new producer id, sequences from 0).
        this.producer = undefined;
        await producer.disconnect().catch(() => undefined);
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    const pending = this.connecting;
    const producer = this.producer;
    this.producer = undefined;
    if (producer) await producer.disconnect().catch(() => undefined);
    if (pending) await pending.catch(() => undefined);
  }
}

class KafkaSubscription implements Subscription {
  private consumer: Consumer | undefined;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private restarts = 0;
  /** Consecutive failures of the message at `topic:partition:offset` (drives the redelivery backoff). */
  private readonly failures = new Map<string, number>();
  private readonly initialDelay: number;
  private readonly maxDelay: number;
  private readonly commitInterval: number;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: SubscribeOptions,
    private readonly transportOptions: KafkaTransportOptions,
    private readonly logger: MessagingLogger,
    private readonly concurrency: number,
    private readonly onStop: () => void,
  ) {
    this.initialDelay = transportOptions.redelivery?.initialDelayMs ?? 200;
    this.maxDelay = transportOptions.redelivery?.maxDelayMs ?? 5000;
    this.commitInterval = transportOptions.consumer?.commitIntervalMs ?? 100;
  }

  async start(): Promise<void> {
    const c = this.transportOptions.consumer;
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout: c?.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: c?.heartbeatIntervalMs ?? 1000,
      maxWaitTimeInMs: c?.maxWaitTimeMs ?? 500,
      allowAutoTopicCreation: false,
      retry: {
        initialRetryTime: 100,
        maxRetryTime: 1000,
        retries: 10,
        // kafkajs restarts a crashed consumer only for retriable causes; always let it try again.
        restartOnFailure: async () => true,
      },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (event) => {
      const { restart, error } = event.payload as { restart: boolean; error: Error };
      if (!restart && !this.stopped && this.consumer === consumer) {
        this.logger.error(
          `Kafka consumer of group ${this.options.groupId} crashed for good (${error.message}): starting a new one`,
        );
        this.scheduleRestart(consumer);
      }
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: [...this.options.topics],
      fromBeginning: this.options.fromBeginning ?? true,
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.concurrency,
      eachBatch: (payload) => this.eachBatch(consumer, payload),
    });
  }

  private scheduleRestart(broken: Consumer): void {
    if (this.restartTimer || this.stopped) return;
    const delay = Math.min(this.maxDelay, this.initialDelay * 2 ** Math.min(this.restarts, 10));
    this.restarts++;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void (async () => {
        await broken.disconnect().catch(() => undefined);
        if (this.stopped) return;
        try {
          await this.start();
          this.restarts = 0;
        } catch (error) {
          this.logger.error(
            `Restarting the Kafka consumer of group ${this.options.groupId} failed: ${(error as Error).message}`,
          );
          if (this.consumer) this.scheduleRestart(this.consumer);
        }
      })();
    }, delay);
  }

  private async eachBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary } = payload;
    const { topic, partition } = batch;
    let toCommit: string | undefined;
    let lastCommit = Date.now();

    const commit = async () => {
      if (toCommit === undefined) return;
      const offset = toCommit;
      toCommit = undefined;
      lastCommit = Date.now();
      // Straight to the group coordinator, no retry loop: a commit refused because the group is
      // rebalancing is not worth waiting for (the messages are delivered again to the next owner).
      await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset }] }] });
    };
    const beat = async () => {
      try {
        await heartbeat();
      } catch (error) {
        // Rebalancing: save what was processed while the generation still accepts commits, then let
        // kafkajs rejoin (it expects this error from the heartbeat).
        await commit().catch(() => undefined);
        throw error;
      }
    };

    const { handleBatch } = this.options;
    const maxRun = Math.max(1, this.options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE);
    const messages = batch.messages;
    let i = 0;
    while (i < messages.length) {
      if (!isRunning() || isStale() || this.stopped) break;
      const run = messages.slice(i, i + maxRun);
      // A run goes to handleBatch only if its first message has not failed before: a failing message is
      // retried through `handle` alone, as without batching.
      const batchable =
        handleBatch !== undefined &&
        run.length > 1 &&
        !this.failures.has(`${topic}:${partition}:${run[0].offset}`);
      if (batchable) {
        const handled = await handleBatch(run.map((m) => toIncoming(topic, partition, m))).then(
          () => true,
          () => false,
        );
        if (handled) {
          const last = run[run.length - 1].offset;
          resolveOffset(last);
          toCommit = (BigInt(last) + 1n).toString();
          if (Date.now() - lastCommit >= this.commitInterval) await commit();
          await beat();
          i += run.length;
          continue;
        }
      }
      // One at a time: a single message, or the fallback for a run whose batch was rejected.
      const end = batchable ? i + run.length : i + 1;
      for (; i < end; i++) {
        if (!isRunning() || isStale() || this.stopped) break;
        const message = messages[i];
        const key = `${topic}:${partition}:${message.offset}`;
        try {
          await this.options.handle(toIncoming(topic, partition, message));
        } catch {
          // The consumer on top decides when to give up (dead letters); here it is only redelivery.
          const failures = (this.failures.get(key) ?? 0) + 1;
          if (this.failures.size > 10_000) this.failures.clear();
          this.failures.set(key, failures);
          await commit().catch(() => undefined);
          const delay = Math.min(this.maxDelay, this.initialDelay * 2 ** Math.min(failures - 1, 20));
          await this.pause(delay, isRunning, beat);
          // Fetch this message again; kafkajs drops the rest of the batch for this partition.
          if (isRunning() && !this.stopped) consumer.seek({ topic, partition, offset: message.offset });
          return;
        }
        this.failures.delete(key);
        resolveOffset(message.offset);
        toCommit = (BigInt(message.offset) + 1n).toString();
        if (Date.now() - lastCommit >= this.commitInterval) await commit();
        await beat();
      }
    }
    await commit();
  }

  /** Waits `ms`, heartbeating every second so that a long backoff does not cost the partitions. */
  private async pause(ms: number, isRunning: () => boolean, beat: () => Promise<void>): Promise<void> {
    const until = Date.now() + ms;
    while (!this.stopped && isRunning()) {
      const left = until - Date.now();
      if (left <= 0) return;
      await new Promise((r) => setTimeout(r, Math.min(left, 1000)));
      await beat();
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.onStop();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    // Leaves the group after the batches being handled are done (their offsets committed).
    await this.consumer?.disconnect().catch(() => undefined);
  }
}

const ENSURE_TOPICS_TIMEOUT_MS = 30_000;

/** kafkajs marks transient protocol errors `retriable`; a topic creation error wraps them in `errors`/`cause`. */
function isRetriableKafkaError(error: unknown): boolean {
  const seen = new Set<unknown>();
  const visit = (e: unknown): boolean => {
    if (!e || typeof e !== 'object' || seen.has(e)) return false;
    seen.add(e);
    const err = e as {
      retriable?: boolean;
      type?: string;
      cause?: unknown;
      errors?: unknown[];
      originalError?: unknown;
    };
    if (err.retriable === true) return true;
    if (err.type === 'UNKNOWN_TOPIC_OR_PARTITION' || err.type === 'LEADER_NOT_AVAILABLE') return true;
    return [err.cause, err.originalError, ...(err.errors ?? [])].some(visit);
  };
  return visit(error);
}
