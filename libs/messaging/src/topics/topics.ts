import { deadLetterTopicFor, topicFor } from '@lianfang/contracts';
import type { TopicSpec } from '../transport/transport';

/**
 * The topics of a bounded context: `lianfang.<context>.v1` for its integration events and
 * `lianfang.<context>.v1.dlq` for the dead letters of its consumers, created at start
 * (`transport.ensureTopics(serviceTopics('transfer'))`).
 *
 * Partitions and replication factor: explicit options first, then the environment
 * (KAFKA_TOPIC_PARTITIONS, KAFKA_REPLICATION_FACTOR), then the defaults (6 partitions, replication 1).
 * The dead-letter topic gets the same partition count: dead letters are keyed by stream too.
 */
export const DEFAULT_TOPIC_PARTITIONS = 6;
export const DEFAULT_REPLICATION_FACTOR = 1;

export interface TopicSettings {
  readonly partitions: number;
  readonly replicationFactor: number;
}

export interface ServiceTopicsOptions {
  readonly partitions?: number;
  readonly replicationFactor?: number;
  /** Where to read KAFKA_TOPIC_PARTITIONS / KAFKA_REPLICATION_FACTOR (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Kafka's rule for topic names (at most 249 characters of [a-zA-Z0-9._-]). */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const CONTEXT_NAME = /^[a-z][a-z0-9-]{0,63}$/;

/** Throws unless `name` is a legal Kafka topic name. */
export function assertTopicName(name: string): string {
  if (!TOPIC_NAME.test(name) || name === '.' || name === '..') {
    throw new Error(
      `Invalid topic name "${name}": use 1 to 249 characters of a-z, A-Z, 0-9, ".", "_" and "-"`,
    );
  }
  return name;
}

/** Throws unless the spec is something a broker could create. */
export function assertTopicSpec(spec: TopicSpec): TopicSpec {
  assertTopicName(spec.name);
  if (!Number.isSafeInteger(spec.partitions) || spec.partitions < 1) {
    throw new Error(
      `Topic "${spec.name}": partitions must be a positive integer, got ${String(spec.partitions)}`,
    );
  }
  if (!Number.isSafeInteger(spec.replicationFactor) || spec.replicationFactor < 1) {
    throw new Error(
      `Topic "${spec.name}": replicationFactor must be a positive integer, got ${String(spec.replicationFactor)}`,
    );
  }
  return spec;
}

function positiveIntegerFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  variable: string,
  max: number,
): number | undefined {
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') return undefined;
  const text = raw.trim();
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new Error(`${variable} must be an integer from 1 to ${max}, got "${raw}"`);
  }
  return Number(text);
}

/** Partitions and replication factor from KAFKA_TOPIC_PARTITIONS / KAFKA_REPLICATION_FACTOR, validated. */
export function topicSettingsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Partial<TopicSettings> {
  const partitions = positiveIntegerFromEnv(env, 'KAFKA_TOPIC_PARTITIONS', 10_000);
  const replicationFactor = positiveIntegerFromEnv(env, 'KAFKA_REPLICATION_FACTOR', 32);
  return {
    ...(partitions !== undefined ? { partitions } : {}),
    ...(replicationFactor !== undefined ? { replicationFactor } : {}),
  };
}

/** The settings for a context's topics: options, else environment, else defaults. */
export function resolveTopicSettings(options: ServiceTopicsOptions = {}): TopicSettings {
  const fromEnv = topicSettingsFromEnv(options.env ?? process.env);
  return {
    partitions: options.partitions ?? fromEnv.partitions ?? DEFAULT_TOPIC_PARTITIONS,
    replicationFactor: options.replicationFactor ?? fromEnv.replicationFactor ?? DEFAULT_REPLICATION_FACTOR,
  };
}

/** [events topic, dead-letter topic] of a bounded context, e.g. `serviceTopics('transfer')`. */
export function serviceTopics(context: string, options: ServiceTopicsOptions = {}): [TopicSpec, TopicSpec] {
  if (!CONTEXT_NAME.test(context)) {
    throw new Error(
      `Invalid context name "${context}": lower-case letters, digits and "-", starting with a letter`,
    );
  }
  const { partitions, replicationFactor } = resolveTopicSettings(options);
  const events = assertTopicSpec({ name: topicFor(context), partitions, replicationFactor });
  const deadLetters = assertTopicSpec({
    name: deadLetterTopicFor(events.name),
    partitions,
    replicationFactor,
  });
  return [events, deadLetters];
}

/** The offsets of one partition: `low` is the first offset still stored, `high` the next to be written. */
export interface PartitionOffsets {
  readonly partition: number;
  readonly low: string;
  readonly high: string;
}

/**
 * What both transports can tell about a topic beyond the Transport port (operators' tools, e.g. listing
 * the dead letters up to the current end of a topic).
 */
export interface TopicInspector {
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
}
