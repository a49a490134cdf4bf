import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import { FatalProducerError, isFatalProducerError, kafkaErrorType } from './producer-errors';

/** What kafkajs's retrier throws when the broker answers a produce request with a non-retriable error. */
function asKafkajsThrowsIt(type: string, code: number): Error {
  const protocol = new KafkaJSProtocolError({
    type,
    code,
    retriable: false,
    message: `${type} from the broker`,
  } as never);
  return Object.assign(new KafkaJSNonRetriableError(protocol), { cause: protocol });
}

describe('isFatalProducerError', () => {
  it.each([
    ['OUT_OF_ORDER_SEQUENCE_NUMBER', 45],
    ['INVALID_PRODUCER_EPOCH', 47],
    ['UNKNOWN_PRODUCER_ID', 59],
    ['INVALID_PRODUCER_ID_MAPPING', 49],
  ])('says a producer that got %s must be replaced', (type, code) => {
    const error = asKafkajsThrowsIt(type, code);
    expect(isFatalProducerError(error)).toBe(true);
    expect(kafkaErrorType(error)).toBe(type);
  });

  it('recognises PRODUCER_FENCED by its code (kafkajs 2.2.4 does not know the name)', () => {
    expect(isFatalProducerError(asKafkajsThrowsIt('UNKNOWN', 90))).toBe(true);
  });

  it('recognises an explicit FatalProducerError from any transport', () => {
    expect(isFatalProducerError(new FatalProducerError('broken'))).toBe(true);
  });

  it('does not replace a producer for outages, retries exceeded, or other broker errors', () => {
    const outage = new KafkaJSNumberOfRetriesExceeded(
      new KafkaJSConnectionError('Connection error: ECONNREFUSED'),
      {
        retryCount: 5,
        retryTime: 1000,
      } as never,
    );
    expect(isFatalProducerError(outage)).toBe(false);
    expect(isFatalProducerError(asKafkajsThrowsIt('MESSAGE_TOO_LARGE', 10))).toBe(false);
    expect(isFatalProducerError(Object.assign(new Error('socket'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isFatalProducerError(new Error('plain'))).toBe(false);
    expect(isFatalProducerError(undefined)).toBe(false);
    const loop: { cause?: unknown } = {};
    loop.cause = loop;
    expect(isFatalProducerError(loop)).toBe(false);
  });
});
