import { Partitioners, type PartitionMetadata } from 'kafkajs';
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

export interface MemoryTransportOptions {
  /** Partitions of a topic that is used before `ensureTopics` declared it (default 3). */
  readonly partitions?: number;
  /** How long a rejected message waits before it is delivered again, doubling per failure (default 10 ms, at most 1 s). */
  readonly redelivery?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
  /**
   * Messages kept per partition (default 100 000): older ones are dropped like Kafka's retention drops old
   * segments; a group whose committed offset fell behind resumes at the oldest one kept.
   */
  readonly retainPerPartition?: number;
  /**
   * Test knob: every n-th successfully handled message is delivered once more before the partition moves
   * on, as Kafka does after a consumer crashed between effect and commit (exercises inbox deduplication).
   * Default: never.
   */
  readonly duplicateEvery?: number;
  readonly logger?: Pick<Console, 'warn' | 'error'>;
}

export interface MemoryTransport extends Transport, TopicInspector {
  readonly kind: 'memory';
  /** Committed offset vs end offset of a group, per partition (metrics). */
  consumerLag(groupId: string, topics: readonly string[]): Promise<ConsumerLag[]>;
  /** Every stored message of a topic, partition by partition, in offset order (tests, tools). */
  messages(topic: string): IncomingMessage[];
  /** The committed offset (next to read) of a group on a partition, or undefined when it committed nothing. */
  committedOffset(groupId: string, topic: string, partition: number): string | undefined;
  /** Which partitions of a topic each member of a group has now (member ids are per subscription). */
  assignments(
    groupId: string,
  ): Array<{ readonly member: number; readonly topic: string; readonly partitions: number[] }>;
}

interface StoredMessage {
  readonly offset: bigint;
  readonly key: string;
  readonly value: string;
  readonly headers: MessageHeaders;
  readonly timestamp: Date;
}

interface Partition {
  /** Offset of messages[0]. */
  start: bigint;
  readonly messages: StoredMessage[];
  /** Resolved (and replaced) whenever a message is appended. */
  appended: Deferred;
}

interface Topic {
  readonly name: string;
  readonly partitions: Partition[];
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * kafkajs's DefaultPartitioner (murmur2 of the key, as the Java client), so that a key lands on the same
 * partition number here as on Kafka.
 */
function createKeyPartitioner(): (topic: string, key: string, partitions: number) => number {
  const partitioner = Partitioners.DefaultPartitioner();
  const metadataCache = new Map<number, PartitionMetadata[]>();
  return (topic, key, partitions) => {
    let metadata = metadataCache.get(partitions);
    if (!metadata) {
      metadata = Array.from({ length: partitions }, (_, partitionId) => ({
        partitionErrorCode: 0,
        partitionId,
        leader: 0,
        replicas: [0],
        isr: [0],
        offlineReplicas: [],
      }));
      metadataCache.set(partitions, metadata);
    }
    return partitioner({ topic, partitionMetadata: metadata, message: { key, value: null } });
  };
}

/**
 * The Transport port in process, for the embedded mode (`BUS=memory`) and tests that need no broker.
 * It behaves like Kafka where the relay and consumers can tell:
 *
 * - topics have partitions; a key always lands on the same partition (Kafka's murmur2), so per-key order
 *   holds; offsets are per partition, from 0, as decimal strings;
 * - consumer groups: the partitions of a topic are shared among the group's subscriptions (round robin
 *   after every join and leave); each group commits its own offset per partition, only after `handle`
 *   resolved; a new owner of a partition starts at the committed offset, so messages handled but not yet
 *   committed when a member left are delivered again (at least once, like Kafka);
 * - a rejected message is delivered again (after a short backoff) and nothing after it in its partition is
 *   delivered before it succeeds; other partitions keep flowing;
 * - delivery is asynchronous: `send` stores and returns; handlers run later, one message at a time per
 *   partition and group (or, with `handleBatch`, the messages already stored as one run, one at a time
 *   again if it rejects).
 *
 * Unlike Kafka, nothing survives the process: the embedded mode's outbox (in PGlite) is the durable part,
 * and the relay republishes what it had not marked sent.
 */
export function createMemoryTransport(options: MemoryTransportOptions = {}): MemoryTransport {
  return new MemoryTransportImpl(options);
}

class MemoryTransportImpl implements MemoryTransport {
  readonly kind = 'memory' as const;
  private readonly topics = new Map<string, Topic>();
  private readonly groups = new Map<string, Group>();
  private readonly publishers = new Set<MemoryPublisher>();
  private readonly defaultPartitions: number;
  readonly retain: number;
  readonly initialDelay: number;
  readonly maxDelay: number;
  readonly duplicateEvery: number | undefined;
  private handled = 0;
  readonly logger: Pick<Console, 'warn' | 'error'>;
  private readonly partitionOf = createKeyPartitioner();
  private closed = false;
  private nextMemberId = 1;

  constructor(options: MemoryTransportOptions) {
    this.defaultPartitions = options.partitions ?? 3;
    if (!Number.isSafeInteger(this.defaultPartitions) || this.defaultPartitions < 1) {
      throw new Error(
        `createMemoryTransport: partitions must be a positive integer, got ${options.partitions}`,
      );
    }
    this.retain = options.retainPerPartition ?? 100_000;
    this.initialDelay = options.redelivery?.initialDelayMs ?? 10;
    this.maxDelay = options.redelivery?.maxDelayMs ?? 1000;
    this.logger = options.logger ?? console;
    this.duplicateEvery = options.duplicateEvery;
    if (
      this.duplicateEvery !== undefined &&
      (!Number.isSafeInteger(this.duplicateEvery) || this.duplicateEvery < 1)
    ) {
      throw new Error(
        `createMemoryTransport: duplicateEvery must be a positive integer, got ${this.duplicateEvery}`,
      );
    }
  }

  /** True when this delivery should be repeated (the duplicateEvery knob). */
  deliverAgain(): boolean {
    if (this.duplicateEvery === undefined) return false;
    this.handled++;
    return this.handled % this.duplicateEvery === 0;
  }

  checkOpen(): void {
    if (this.closed) throw new Error('The memory transport is closed');
  }

  topic(name: string, partitions = this.defaultPartitions): Topic {
    let topic = this.topics.get(name);
    if (!topic) {
      assertTopicName(name);
      topic = {
        name,
        partitions: Array.from({ length: partitions }, () => ({
          start: 0n,
          messages: [],
          appended: deferred(),
        })),
      };
      this.topics.set(name, topic);
    }
    return topic;
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    this.checkOpen();
    for (const spec of topics) assertTopicSpec(spec);
    for (const spec of topics) {
      const existing = this.topics.get(spec.name);
      if (existing && existing.partitions.length !== spec.partitions) {
        this.logger.warn(
          `Topic "${spec.name}" has ${existing.partitions.length} partitions, configured ${spec.partitions}: left as is`,
        );
      }
      this.topic(spec.name, spec.partitions);
    }
    await Promise.resolve();
  }

  /** Stores messages (all of them, in order) and wakes the consumers; never runs a handler itself. */
  append(messages: readonly OutgoingMessage[]): void {
    this.checkOpen();
    const touched = new Set<Partition>();
    const now = new Date();
    for (const m of messages) {
      const topic = this.topic(m.topic);
      const partition = topic.partitions[this.partitionOf(m.topic, m.key, topic.partitions.length)];
      partition.messages.push({
        offset: partition.start + BigInt(partition.messages.length),
        key: m.key,
        value: m.value,
        headers: { ...m.headers },
        timestamp: now,
      });
      // Trim in chunks (a tenth over the bound), not one message per append.
      if (partition.messages.length > this.retain + Math.ceil(this.retain / 10)) {
        const drop = partition.messages.length - this.retain;
        partition.messages.splice(0, drop);
        partition.start += BigInt(drop);
      }
      touched.add(partition);
    }
    for (const p of touched) {
      const woken = p.appended;
      p.appended = deferred();
      woken.resolve();
    }
  }

  async createPublisher(): Promise<Publisher> {
    this.checkOpen();
    const publisher = new MemoryPublisher(this, () => this.publishers.delete(publisher));
    this.publishers.add(publisher);
    return publisher;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.checkOpen();
    if (options.topics.length === 0) throw new Error('subscribe: no topics given');
    for (const t of options.topics) this.topic(t);
    let group = this.groups.get(options.groupId);
    if (!group) {
      group = new Group(options.groupId, this);
      this.groups.set(options.groupId, group);
    }
    const member = new Member(this.nextMemberId++, group, options);
    group.join(member);
    return member;
  }

  async topicOffsets(topic: string): Promise<PartitionOffsets[]> {
    this.checkOpen();
    const t = this.topics.get(topic);
    if (!t) throw new Error(`Unknown topic "${topic}"`);
    return t.partitions.map((p, partition) => ({
      partition,
      low: p.start.toString(),
      high: (p.start + BigInt(p.messages.length)).toString(),
    }));
  }

  async consumerLag(groupId: string, topics: readonly string[]): Promise<ConsumerLag[]> {
    this.checkOpen();
    const out: ConsumerLag[] = [];
    for (const topic of topics) {
      const t = this.topics.get(topic);
      if (!t) continue;
      t.partitions.forEach((p, partition) => {
        const low = p.start.toString();
        const high = (p.start + BigInt(p.messages.length)).toString();
        const committed = this.committedOffset(groupId, topic, partition);
        out.push({ groupId, topic, partition, committed, high, lag: lagOf(low, high, committed) });
      });
    }
    return out;
  }

  messages(topic: string): IncomingMessage[] {
    const t = this.topics.get(topic);
    if (!t) return [];
    return t.partitions.flatMap((p, partition) => p.messages.map((m) => toIncoming(topic, partition, m)));
  }

  committedOffset(groupId: string, topic: string, partition: number): string | undefined {
    return this.groups.get(groupId)?.committed.get(partitionKey(topic, partition))?.toString();
  }

  assignments(groupId: string) {
    const group = this.groups.get(groupId);
    if (!group) return [];
    return group.members.flatMap((m) =>
      m.options.topics.map((topic) => ({
        member: m.id,
        topic,
        partitions: [...m.workers.values()]
          .filter((w) => w.topic === topic && !w.revoked)
          .map((w) => w.partition)
          .sort((a, b) => a - b),
      })),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.allSettled([...this.groups.values()].flatMap((g) => g.members.map((m) => m.stop())));
    for (const p of this.publishers) await p.close();
    this.closed = true;
  }
}

function toIncoming(topic: string, partition: number, m: StoredMessage): IncomingMessage {
  return {
    topic,
    partition,
    offset: m.offset.toString(),
    key: m.key,
    value: m.value,
    headers: m.headers,
    timestamp: m.timestamp,
  };
}

const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

class MemoryPublisher implements Publisher {
  private closed = false;
  constructor(
    private readonly transport: MemoryTransportImpl,
    private readonly onClose: () => void,
  ) {}

  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.closed) throw new Error('The publisher is closed');
    // Never synchronous: a handler must not run inside the caller's send.
    await Promise.resolve();
    this.transport.append(messages);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }
}

/** A consumer group: its members, its committed offsets, and who owns which partition. */
class Group {
  readonly members: Member[] = [];
  readonly committed = new Map<string, bigint>();
  /** The worker that owns (or last owned) each partition: a new owner waits until the old one is done. */
  readonly owners = new Map<string, Worker>();

  constructor(
    readonly id: string,
    readonly transport: MemoryTransportImpl,
  ) {}

  join(member: Member): void {
    this.members.push(member);
    this.rebalance();
  }

  leave(member: Member): void {
    const i = this.members.indexOf(member);
    if (i >= 0) this.members.splice(i, 1);
    this.rebalance();
  }

  /** Round robin of every subscribed topic's partitions over the members subscribed to it, in join order. */
  private rebalance(): void {
    const wanted = new Map<Member, Set<string>>();
    for (const m of this.members) wanted.set(m, new Set());
    const topics = new Set(this.members.flatMap((m) => m.options.topics));
    for (const name of topics) {
      const subscribers = this.members.filter((m) => m.options.topics.includes(name));
      const topic = this.transport.topic(name);
      topic.partitions.forEach((_, partition) => {
        const owner = subscribers[partition % subscribers.length];
        wanted.get(owner)?.add(partitionKey(name, partition));
      });
    }
    for (const m of this.members) m.assign(wanted.get(m) ?? new Set());
  }
}

/** One subscription: a member of its group, running one worker per assigned partition. */
class Member implements Subscription {
  readonly workers = new Map<string, Worker>();
  private stopped = false;

  constructor(
    readonly id: number,
    readonly group: Group,
    readonly options: SubscribeOptions,
  ) {}

  assign(partitions: Set<string>): void {
    for (const [key, worker] of this.workers) {
      if (!partitions.has(key)) {
        worker.revoke();
        this.workers.delete(key);
      }
    }
    for (const key of partitions) {
      if (this.workers.has(key)) continue;
      const [topic, partition] = key.split('\u0000');
      const previous = this.group.owners.get(key);
      const worker = new Worker(this, topic, Number(partition), previous);
      this.group.owners.set(key, worker);
      this.workers.set(key, worker);
      worker.start();
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const workers = [...this.workers.values()];
    this.group.leave(this);
    for (const w of workers) w.revoke();
    // Resolves once the messages being handled are done (their offsets committed).
    await Promise.all(workers.map((w) => w.done));
  }
}

/** Delivers one partition to one member, in offset order, until revoked. */
class Worker {
  revoked = false;
  done: Promise<void> = Promise.resolve();
  private wake = deferred();

  constructor(
    private readonly member: Member,
    readonly topic: string,
    readonly partition: number,
    /** The previous owner of this partition in the group: it finishes its current message first. */
    private previous: Worker | undefined,
  ) {}

  start(): void {
    this.done = this.run().catch((error: unknown) => {
      this.member.group.transport.logger.error(
        `Memory transport: worker of ${this.topic}[${this.partition}] failed: ${String(error)}`,
      );
    });
  }

  revoke(): void {
    this.revoked = true;
    this.wake.resolve();
  }

  private async run(): Promise<void> {
    const group = this.member.group;
    const transport = group.transport;
    const key = partitionKey(this.topic, this.partition);
    if (this.previous) await this.previous.done;
    this.previous = undefined;
    // Never synchronous: not even the first delivery runs inside subscribe().
    await new Promise<void>((r) => setImmediate(r));
    const partition = transport.topic(this.topic).partitions[this.partition];
    // Start at the committed offset, else at the beginning (default) or the end of the partition.
    let position =
      group.committed.get(key) ??
      (this.member.options.fromBeginning === false
        ? partition.start + BigInt(partition.messages.length)
        : partition.start);
    let failures = 0;
    let duplicated: bigint | undefined;
    /** After a rejected batch: the messages up to this offset go through `handle` one at a time. */
    let oneByOneUntil = -1n;
    while (!this.revoked) {
      if (position < partition.start) position = partition.start;
      const index = Number(position - partition.start);
      const stored = partition.messages[index];
      if (!stored) {
        this.wake = deferred();
        await Promise.race([partition.appended.promise, this.wake.promise]);
        continue;
      }
      const { handleBatch, maxBatchSize } = this.member.options;
      if (handleBatch && failures === 0 && position > oneByOneUntil) {
        const run = partition.messages.slice(
          index,
          index + Math.max(1, maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE),
        );
        if (run.length > 1) {
          const last = run[run.length - 1].offset;
          try {
            await handleBatch(run.map((m) => toIncoming(this.topic, this.partition, m)));
          } catch {
            // Rejected: the same run again through `handle`, one message at a time.
            oneByOneUntil = last;
            continue;
          }
          // As if the consumer had crashed before committing: the whole run comes again.
          if (duplicated !== last && transport.deliverAgain()) {
            duplicated = last;
            continue;
          }
          position = last + 1n;
          group.committed.set(key, position);
          continue;
        }
      }
      try {
        await this.member.options.handle(toIncoming(this.topic, this.partition, stored));
      } catch {
        failures++;
        if (this.revoked) break;
        const delay = Math.min(transport.maxDelay, transport.initialDelay * 2 ** Math.min(failures - 1, 20));
        this.wake = deferred();
        await Promise.race([sleep(delay), this.wake.promise]);
        continue;
      }
      failures = 0;
      // As if the consumer had crashed before committing: the same message comes again.
      if (duplicated !== stored.offset && transport.deliverAgain()) {
        duplicated = stored.offset;
        continue;
      }
      position = stored.offset + 1n;
      // Committed after the handler resolved; a worker that was revoked meanwhile still commits what it
      // finished (its successor waits for it), like a Kafka consumer committing before it rejoins.
      group.committed.set(key, position);
    }
  }
}
