import { assertTopicName, resolveTopicSettings, serviceTopics, topicSettingsFromEnv } from './topics';

describe('serviceTopics', () => {
  it('names the events topic and its dead-letter topic, 6 partitions and replication 1 by default', () => {
    expect(serviceTopics('transfer', { env: {} })).toEqual([
      { name: 'lianfang.transfer.v1', partitions: 6, replicationFactor: 1 },
      { name: 'lianfang.transfer.v1.dlq', partitions: 6, replicationFactor: 1 },
    ]);
  });

  it('takes partitions and replication factor from the environment, options winning over it', () => {
    const env = { KAFKA_TOPIC_PARTITIONS: '12', KAFKA_REPLICATION_FACTOR: '3' };
    expect(serviceTopics('enforcement', { env })[0]).toEqual({
      name: 'lianfang.enforcement.v1',
      partitions: 12,
      replicationFactor: 3,
    });
    expect(serviceTopics('enforcement', { env, partitions: 2 })[1]).toEqual({
      name: 'lianfang.enforcement.v1.dlq',
      partitions: 2,
      replicationFactor: 3,
    });
    expect(resolveTopicSettings({ env: { KAFKA_TOPIC_PARTITIONS: ' ' } })).toEqual({
      partitions: 6,
      replicationFactor: 1,
    });
  });

  it.each([
    ['KAFKA_TOPIC_PARTITIONS', 'six'],
    ['KAFKA_TOPIC_PARTITIONS', '0'],
    ['KAFKA_TOPIC_PARTITIONS', '-3'],
    ['KAFKA_TOPIC_PARTITIONS', '1.5'],
    ['KAFKA_REPLICATION_FACTOR', '0'],
    ['KAFKA_REPLICATION_FACTOR', '99'],
  ])('rejects %s=%s with an error naming the variable', (variable, value) => {
    expect(() => topicSettingsFromEnv({ [variable]: value })).toThrow(
      new RegExp(`^${variable} must be an integer from 1 to \\d+, got "${value.replace('.', '\\.')}"$`),
    );
    expect(() => serviceTopics('transfer', { env: { [variable]: value } })).toThrow(variable);
  });

  it('rejects bad context names, option values and topic names', () => {
    expect(() => serviceTopics('Transfer', { env: {} })).toThrow(/Invalid context name/);
    expect(() => serviceTopics('transfer', { env: {}, partitions: 0 })).toThrow(
      /partitions must be a positive integer/,
    );
    expect(() => serviceTopics('transfer', { env: {}, replicationFactor: 1.5 })).toThrow(
      /replicationFactor must be a positive integer/,
    );
    expect(() => assertTopicName('a topic')).toThrow(/Invalid topic name/);
    expect(() => assertTopicName('x'.repeat(250))).toThrow(/Invalid topic name/);
    expect(assertTopicName('lf-test.relay.0a1b.events')).toBe('lf-test.relay.0a1b.events');
  });
});
