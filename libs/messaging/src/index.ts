export * from './transport/transport';
export * from './transport/trace-context';
export * from './transport/message-trace';
export * from './system/system-commands';
export * from './timers/timers';
export * from './timers/schedule';
export {
  startConsumer,
  type Consumer,
  type ConsumerLogger,
  type ConsumerMetrics,
  type ConsumerOptions,
  type ConsumerStatus,
  type InboxRetentionOptions,
} from './consumer/consumer';
export { PermanentMessageError, type MessageHandler } from './consumer/processing';
export { type BackoffPolicy as ConsumerBackoffPolicy } from './consumer/backoff';
export {
  DEAD_LETTER_STATUSES,
  deadLetterChannel,
  countOpenDeadLetters,
  ensureConsumerTables,
  hasConsumerTables,
  type DeadLetterStatus,
  type OpenDeadLetterCount,
} from './consumer/tables';
export * from './dlq/dead-letters';
export { runDlqCli, type DlqCliIo } from './dlq/cli';
export { formatTable as formatOperatorTable, type OperatorCliIo } from './operator-cli/operator-cli';
export { runTimersCli, type TimersCliIo } from './timers/cli';
export * from './topics/topics';
export * from './kafka/producer-errors';
export * from './kafka/kafka-transport';
export * from './memory/memory-transport';
export * from './relay/outbox-relay';
export { createRelayLease, relayApplicationName, relayLockName, type RelayLease } from './relay/relay-lease';
export * from './outbox/integration-event';
