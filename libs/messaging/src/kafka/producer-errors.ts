/**
 * Which publish failures leave a Kafka idempotent producer unusable.
 *
 * An idempotent producer numbers its batches per partition (producer id, epoch, sequence). When the broker
 * and the producer disagree about that state, every later send of that producer fails the same way: only a
 * new producer (a new producer id, sequences from 0) gets going again. The relay then closes the publisher,
 * creates a new one and resends whatever the outbox still has unsent; the consumers' inbox absorbs the
 * duplicates that a resend can produce.
 *
 * Pure classification (no kafkajs import), so that the relay and tests can use it with any transport: it
 * walks the error and its `cause` chain (kafkajs's retrier wraps the protocol error in a
 * KafkaJSNonRetriableError whose cause is the original) and looks at the Kafka error `type` / `code`.
 */

/** Kafka protocol errors after which the producer must be replaced (name → error code). */
export const FATAL_PRODUCER_ERRORS: Readonly<Record<string, number>> = {
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  INVALID_PRODUCER_ID_MAPPING: 49,
  UNKNOWN_PRODUCER_ID: 59,
  // Unknown to kafkajs 2.2.4 (it reports type UNKNOWN with this code).
  PRODUCER_FENCED: 90,
};

const FATAL_TYPES = new Set(Object.keys(FATAL_PRODUCER_ERRORS));
const FATAL_CODES = new Set(Object.values(FATAL_PRODUCER_ERRORS));

/** An error a publisher throws to say "I am broken: replace me" (any transport may use it). */
export class FatalProducerError extends Error {
  readonly fatalProducer = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FatalProducerError';
  }
}

/**
 * True when the producer that threw this can no longer be trusted and must be recreated: a Kafka
 * sequence / producer-id / epoch error anywhere in the cause chain, or an error flagged
 * `fatalProducer: true` (FatalProducerError). Broker outages, timeouts and "retries exceeded" are NOT
 * fatal: the same producer resumes (with the same sequence numbers, so the broker drops duplicates).
 */
export function isFatalProducerError(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as { fatalProducer?: unknown; type?: unknown; code?: unknown; cause?: unknown };
    if (e.fatalProducer === true) return true;
    if (typeof e.type === 'string' && FATAL_TYPES.has(e.type)) return true;
    // Kafka error codes are numbers; Node's system errors use string codes (ECONNREFUSED): never confused.
    if (typeof e.code === 'number' && FATAL_CODES.has(e.code) && typeof e.type === 'string') return true;
    current = e.cause;
  }
  return false;
}

/** The Kafka error type (e.g. MESSAGE_TOO_LARGE) in the cause chain, if any. */
export function kafkaErrorType(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as { type?: unknown; cause?: unknown };
    if (typeof e.type === 'string') return e.type;
    current = e.cause;
  }
  return undefined;
}
