import {
  deadLetterTopicFor,
  type ContractRegistry,
  type IntegrationEventEnvelope,
} from '@lianfang/contracts';
import { assertSqlIdentifier, type SqlClient } from '@lianfang/eventsourcing';
import {
  executeRequest,
  pendingRequests,
  requestRedrive,
  requestSkip,
  waitForRequest,
  type RedriveExecutor,
  type RedriveOutcome,
} from '../dlq/dead-letters';
import {
  HEADERS,
  type IncomingMessage,
  type MessageHeaders,
  type Publisher,
  type Subscription,
  type Transport,
} from '../transport/transport';
import { traceOfMessage } from '../transport/message-trace';
import { runWithTrace } from '../transport/trace-context';
import { backoffDelay, DEFAULT_BACKOFF, sleep, StoppedError, type BackoffPolicy } from './backoff';
import {
  applyOnce,
  decodeMessage,
  describeError,
  HandlerFailure,
  insertInboxRows,
  isStreamParked,
  parkBehind,
  parkedStreamsAmong,
  PermanentMessageError,
  recordDeadLetter,
  streamOf,
  type ConsumerScope,
  type MessageHandler,
} from './processing';
import { resolveTopicSettings } from '../topics/topics';
import { deadLetterChannel, ensureConsumerTables } from './tables';

/** Nest's Logger fits. */
export interface ConsumerLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface InboxRetentionOptions {
  /**
   * How long an inbox row is kept (default 14 days). It must outlast any redelivery window: the longest
   * a message can come back after it was processed, i.e. the topic's retention (Kafka's default 7 days,
   * for a group reset to earliest or a consumer offset lost) plus the longest consumer downtime, plus how
   * long the relay can resend an event after a crash (minutes). Past it, a redelivery would be applied again.
   */
  readonly retentionMs?: number;
  /** How often to prune (default hourly, and once at start). */
  readonly intervalMs?: number;
  /** Rows deleted per statement (default 1,000): short transactions, no long locks. */
  readonly batchSize?: number;
  /** Statements per run at most (default 100); the rest waits for the next run. */
  readonly maxBatches?: number;
}

export interface ConsumerOptions {
  readonly transport: Transport;
  readonly client: SqlClient;
  /** The consuming service's own schema: inbox, dead letters and the effect's tables commit together. */
  readonly schema: string;
  /** One consumer group per service and topic, e.g. `compensation.transfer-events`. */
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly contracts: ContractRegistry;
  /** The effect, in the transaction that also writes the inbox row. Throw to fail (retried). */
  readonly handle: MessageHandler;
  /** Attempts of the handler per message before it is dead-lettered (default 5). */
  readonly maxAttempts?: number;
  /** Delays between attempts (default 200 ms doubling up to 10 s, with jitter). */
  readonly backoff?: BackoffPolicy;
  /**
   * How long one delivery may retry in place (default 5 s). A Kafka consumer heartbeats only between
   * messages: holding a partition past the session timeout (10 s) would cost it. Beyond this budget the
   * message goes back to the transport, which delivers it again after its own backoff while heartbeating
   * (the partition still waits: nothing after it is delivered first); the attempts carry over.
   */
  readonly retryInPlaceMs?: number;
  readonly logger?: ConsumerLogger;
  /** Time of inbox rows, dead letters and retention (tests move it). Retry delays use real time. */
  readonly clock?: () => Date;
  /** Where a new group starts (default: the beginning). */
  readonly fromBeginning?: boolean;
  readonly inboxRetention?: InboxRetentionOptions | false;
  /** How often to look for operator requests besides LISTEN (default 5 s; false: only on LISTEN/explicitly). */
  readonly requestPollMs?: number | false;
  /** `<topic>.dlq` topics ensured at start (default: `resolveTopicSettings()`, i.e. env or 6 / 1); false: not. */
  readonly deadLetterTopics?: { readonly partitions: number; readonly replicationFactor: number } | false;
}

export interface ConsumerMetrics {
  /** Messages whose effect was applied (live, not redrive). */
  readonly processed: number;
  /** Messages already in the inbox: acknowledged without effect. */
  readonly duplicates: number;
  /** Handler attempts that failed and were retried. */
  readonly retries: number;
  /** Messages that became the head of a parked stream (failed or invalid), published to `<topic>.dlq`. */
  readonly deadLettered: number;
  /** Messages parked behind a head. */
  readonly parked: number;
  /** Operator requests executed. */
  readonly requestsExecuted: number;
  readonly inboxPruned: number;
}

export interface ConsumerStatus extends ConsumerMetrics {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly transport: 'kafka' | 'memory';
  readonly running: boolean;
  /** From the database: streams of this group parked now, their open messages, pending requests. */
  readonly parkedStreams: number;
  readonly openDeadLetters: number;
  readonly pendingRequests: number;
  /**
   * Not computed here (a broker round trip per call): `transport.consumerLag(groupId, topics)` gives it per
   * partition, and the metrics (`lianfang_consumer_lag_messages`) report it.
   */
  readonly lag: undefined;
}

export interface Consumer {
  readonly groupId: string;
  metrics(): ConsumerMetrics;
  status(): Promise<ConsumerStatus>;
  /** Requests a redrive (dead-letter id or stream id), applies it here and returns what it did. */
  redrive(
    target: bigint | string,
    options: { by: string; reason?: string; timeoutMs?: number },
  ): Promise<RedriveOutcome>;
  /** Requests skipping the head `id`, applies it here (and the redrive of the rest) and returns what it did. */
  skip(id: bigint, options: { by: string; reason: string; timeoutMs?: number }): Promise<RedriveOutcome>;
  /** Executes pending operator requests now (they are also picked up by LISTEN and the poll). */
  processRequests(): Promise<void>;
  /** Deletes inbox rows older than the retention, in bounded batches; returns how many. */
  pruneInbox(): Promise<number>;
  stop(): Promise<void>;
}

/** Where a message stands between deliveries (see `pending` in startConsumer). */
interface DeliveryState {
  attempts: number;
  deadLetter?: { error: string; attempts: number };
  /** Set when an attempt failed inside a batch: the next attempt is not due before (its backoff). */
  retryAt?: number;
}

const DAY = 24 * 60 * 60 * 1000;
const MAX_HEADER_ERROR = 2_000;

const silent: ConsumerLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Starts consuming: one message at a time per partition (the transport's promise), each in ONE
 * transaction with its inbox row; the offset is committed by the transport after that commits. When the
 * transport has several consecutive messages of a partition at hand, they are applied in one transaction
 * (`onBatch`), falling back to one at a time for a run that fails.
 *
 * - A message that does not parse or validate against its contract is dead-lettered at once.
 * - A handler failure is retried in place with exponential backoff and jitter (the partition waits:
 *   order matters) for up to `retryInPlaceMs`, then through the transport's redelivery (still in order),
 *   the attempts carrying over; after `maxAttempts` the message is dead-lettered. Database or broker
 *   trouble outside the handler is retried without counting (a dead letter must not come from an outage).
 * - A message of a parked stream is not processed: it is recorded behind the stream's head (same
 *   transaction as the parked check, under the stream's lock) and acknowledged.
 * - Dead-lettered = published to `<topic>.dlq` with error headers AND recorded as the head of its parked
 *   stream in `dead_letters`, in one transaction (the publish before the commit: a crash between them can
 *   only repeat the publish, never lose the row). Later messages of the stream are then recorded as
 *   parked behind it and acknowledged; other streams flow. Operators redrive or skip (dead-letters.ts).
 */
export async function startConsumer(options: ConsumerOptions): Promise<Consumer> {
  const schema = assertSqlIdentifier(options.schema, 'schema name');
  const { transport, client, contracts, groupId } = options;
  // The effect runs in the message's trace context (correlation id, traceparent): its logs and the
  // commands it issues carry them. Live, batched and redriven alike.
  const handle: MessageHandler = (envelope, tx, message) =>
    runWithTrace(traceOf(message, envelope.correlationId), () => options.handle(envelope, tx, message));
  const traceOf = (message: IncomingMessage, fallbackCorrelationId?: string) =>
    traceOfMessage(message, {
      consumer: groupId,
      ...(fallbackCorrelationId ? { fallbackCorrelationId } : {}),
    });
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const logger = options.logger ?? silent;
  const clock = options.clock ?? (() => new Date());
  const scope: ConsumerScope = { schema, groupId, now: () => clock().toISOString() };
  const retention = options.inboxRetention === false ? undefined : (options.inboxRetention ?? {});
  const abort = new AbortController();
  const counters = {
    processed: 0,
    duplicates: 0,
    retries: 0,
    deadLettered: 0,
    parked: 0,
    requestsExecuted: 0,
    inboxPruned: 0,
  };
  let stopping = false;

  await ensureConsumerTables(client, schema);
  const dlqTopics = options.deadLetterTopics ?? resolveTopicSettings();
  if (dlqTopics) {
    await transport.ensureTopics(options.topics.map((t) => ({ name: deadLetterTopicFor(t), ...dlqTopics })));
  }
  const publisher: Publisher = await transport.createPublisher();

  const where = (m: IncomingMessage) => `${m.topic}[${m.partition}]@${m.offset} (stream ${streamOf(m)})`;

  /**
   * Where a message stands between deliveries: when retrying in place would hold the partition longer
   * than `retryInPlaceMs`, the message goes back to the transport (which redelivers it after its own
   * backoff, heartbeating meanwhile) and its attempts are remembered here, by its coordinates. In memory:
   * after a restart a message gets its attempts anew, which errs on the side of retrying.
   */
  const pending = new Map<string, DeliveryState>();
  const retryInPlaceMs = options.retryInPlaceMs ?? 5_000;
  const pendingKey = (m: IncomingMessage) => `${m.topic}\u0000${m.partition}\u0000${m.offset}`;

  /** Runs a transaction; what is not the handler's fault (database, broker) is retried, uncounted. */
  async function persist<T>(
    what: string,
    overBudget: (delayMs: number) => boolean,
    fn: () => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (stopping) throw new StoppedError();
      try {
        return await fn();
      } catch (error) {
        if (error instanceof StoppedError || error instanceof HandlerFailure) throw error;
        const delay = backoffDelay(backoff, attempt);
        logger.warn(`${groupId}: ${what} failed (attempt ${attempt}): ${describeError(error)}`);
        if (overBudget(delay)) throw error; // the transport delivers it again
        await sleep(delay, abort.signal);
      }
    }
  }

  /** The dead-letter transaction: record the head (or park behind), publish to `<topic>.dlq`, commit. */
  async function deadLetter(
    message: IncomingMessage,
    failure: { error: string; attempts: number },
    envelope: IntegrationEventEnvelope | undefined,
    overBudget: (delayMs: number) => boolean,
  ) {
    const { error, attempts } = failure;
    const recorded = await persist(`dead-lettering ${where(message)}`, overBudget, () =>
      client.transaction(async (tx) => {
        const r = await recordDeadLetter(tx, scope, message, { error, attempts, envelope });
        if (r?.status === 'parked-head') {
          await publisher.send([
            {
              topic: deadLetterTopicFor(message.topic),
              key: message.key,
              value: message.value,
              headers: errorHeaders(message, error, attempts),
            },
          ]);
        }
        return r;
      }),
    );
    if (recorded?.status === 'parked-head') {
      counters.deadLettered++;
      logger.error(
        `${groupId}: dead-lettered ${where(message)} as #${recorded.id} after ${attempts} attempt(s); its stream is parked: ${error}`,
      );
    } else if (recorded?.status === 'parked') {
      counters.parked++;
    }
  }

  /** Counts a failed handler attempt: the delay before the next one, or undefined once it is to be dead-lettered. */
  function failedAttempt(message: IncomingMessage, state: DeliveryState, error: HandlerFailure) {
    state.attempts++;
    if (error.failure instanceof PermanentMessageError || state.attempts >= maxAttempts) {
      state.deadLetter = { error: error.message, attempts: state.attempts };
      return undefined;
    }
    counters.retries++;
    const delay = backoffDelay(backoff, state.attempts);
    logger.warn(
      `${groupId}: ${where(message)} failed (attempt ${state.attempts}/${maxAttempts}), retrying: ${error.message}`,
    );
    return delay;
  }

  async function onMessage(message: IncomingMessage): Promise<void> {
    if (stopping) throw new StoppedError();
    const key = pendingKey(message);
    const state = pending.get(key) ?? { attempts: 0 };
    const started = Date.now();
    const overBudget = (delayMs: number) => Date.now() - started + delayMs > retryInPlaceMs;
    const handBack = (error: unknown): never => {
      if (!(error instanceof StoppedError)) {
        if (pending.size >= 10_000) pending.clear();
        pending.set(key, state);
      }
      throw error;
    };
    const decoded = decodeMessage(contracts, message.value);
    const envelope = decoded.ok ? decoded.envelope : undefined;
    if (state.retryAt !== undefined) {
      // The previous attempt failed in a batch: keep its backoff.
      const wait = state.retryAt - Date.now();
      state.retryAt = undefined;
      if (wait > 0) {
        if (overBudget(wait)) return handBack(new Error(`${where(message)}: backoff beyond the budget`));
        await sleep(wait, abort.signal).catch(handBack);
      }
    }
    for (;;) {
      if (state.deadLetter) {
        await deadLetter(message, state.deadLetter, envelope, overBudget).catch(handBack);
        pending.delete(key);
        return;
      }
      let outcome: 'applied' | 'duplicate' | 'parked' | 'invalid';
      try {
        outcome = await persist(`processing ${where(message)}`, overBudget, () =>
          client.transaction(async (tx) => {
            if (await isStreamParked(tx, scope, streamOf(message))) {
              const id = await parkBehind(tx, scope, message, envelope);
              return id === undefined ? 'duplicate' : 'parked';
            }
            if (!decoded.ok) return 'invalid';
            return applyOnce(tx, scope, message, decoded.envelope, handle);
          }),
        );
      } catch (error) {
        if (!(error instanceof HandlerFailure)) return handBack(error);
        const delay = failedAttempt(message, state, error);
        if (delay === undefined) continue; // dead-lettered next
        if (overBudget(delay)) return handBack(error);
        await sleep(delay, abort.signal);
        continue;
      }
      if (outcome === 'invalid' && !decoded.ok) {
        // Not retried: the same bytes will never validate. Dead-lettered with the violations.
        state.deadLetter = { error: decoded.error, attempts: 1 };
        continue;
      }
      pending.delete(key);
      if (outcome === 'applied') counters.processed++;
      else if (outcome === 'duplicate') counters.duplicates++;
      else if (outcome === 'parked') counters.parked++;
      return;
    }
  }

  /**
   * A run of consecutive messages of one partition in ONE transaction (one commit instead of one per
   * message): messages of parked streams are parked behind their heads, the others' inbox rows inserted
   * in one statement and the effects of the new ones applied in order. Anything unusual (a message being
   * retried or dead-lettered, an invalid one) or any failure (rolled back as a whole) rejects the run, and
   * the transport hands it to `onMessage` one message at a time: retries, dead letters and parking are
   * then exactly those of the per-message path (a handler failure in the batch counts as that message's
   * first attempt), and nothing of the rejected run was applied.
   */
  async function onBatch(messages: IncomingMessage[]): Promise<void> {
    if (stopping) throw new StoppedError();
    const entries: Array<{ message: IncomingMessage; envelope: IntegrationEventEnvelope }> = [];
    for (const message of messages) {
      if (pending.has(pendingKey(message))) throw new Error(`${where(message)} is being retried`);
      const decoded = decodeMessage(contracts, message.value);
      if (!decoded.ok) throw new Error(`${where(message)} is invalid`);
      entries.push({ message, envelope: decoded.envelope });
    }
    let failed: { message: IncomingMessage; failure: HandlerFailure } | undefined;
    const outcome = await client
      .transaction(async (tx) => {
        const counts = { applied: 0, duplicates: 0, parked: 0 };
        const parked = await parkedStreamsAmong(tx, scope, [...new Set(messages.map(streamOf))]);
        const flowing = [];
        for (const entry of entries) {
          if (!parked.has(streamOf(entry.message))) flowing.push(entry);
          else if ((await parkBehind(tx, scope, entry.message, entry.envelope)) === undefined)
            counts.duplicates++;
          else counts.parked++;
        }
        const fresh = await insertInboxRows(tx, scope, flowing);
        for (const { message, envelope } of flowing) {
          // `delete`: an event twice in the run is applied once, at its first occurrence.
          if (!fresh.delete(envelope.eventId)) {
            counts.duplicates++;
            continue;
          }
          try {
            await handle(envelope, tx, message);
          } catch (error) {
            failed = { message, failure: new HandlerFailure(error) };
            throw error;
          }
          counts.applied++;
        }
        return counts;
      })
      .catch((error: unknown) => {
        // The handler's failure counts as the message's attempt (with its backoff), exactly as if it had
        // been handled alone: the per-message path then picks it up with the attempts so far.
        if (failed) {
          const state: DeliveryState = { attempts: 0 };
          const delay = failedAttempt(failed.message, state, failed.failure);
          if (delay !== undefined) state.retryAt = Date.now() + delay;
          if (pending.size >= 10_000) pending.clear();
          pending.set(pendingKey(failed.message), state);
        }
        throw error;
      });
    counters.processed += outcome.applied;
    counters.duplicates += outcome.duplicates;
    counters.parked += outcome.parked;
  }

  // Operator requests (redrive / skip): one loop at a time; a wake during a run makes it run again.
  const executor: RedriveExecutor = {
    client,
    scope,
    contracts,
    handle,
    maxAttempts,
    backoff,
    signal: abort.signal,
  };
  let wake = false;
  let requestLoop: Promise<void> | undefined;
  async function runRequests(): Promise<void> {
    while (wake && !stopping) {
      wake = false;
      let streams: string[];
      try {
        streams = await pendingRequests(client, schema, groupId);
      } catch (error) {
        logger.warn(`${groupId}: reading dead-letter requests failed: ${describeError(error)}`);
        return;
      }
      for (const streamId of streams) {
        if (stopping) return;
        try {
          await executeRequest(executor, streamId);
          counters.requestsExecuted++;
        } catch (error) {
          if (error instanceof StoppedError) return;
          logger.error(
            `${groupId}: dead-letter request for stream ${streamId} failed: ${describeError(error)}`,
          );
        }
      }
    }
  }
  function kick(): Promise<void> {
    wake = true;
    if (!requestLoop) {
      requestLoop = runRequests().finally(() => {
        requestLoop = undefined;
        if (wake && !stopping) void kick();
      });
    }
    return requestLoop;
  }

  async function pruneInbox(): Promise<number> {
    const cutoff = new Date(clock().getTime() - (retention?.retentionMs ?? 14 * DAY)).toISOString();
    const batch = retention?.batchSize ?? 1_000;
    let total = 0;
    for (let i = 0; i < (retention?.maxBatches ?? 100) && !stopping; i++) {
      const r = await client.query(
        `DELETE FROM ${schema}.inbox
          WHERE consumer_group = $1
            AND event_id IN (SELECT event_id FROM ${schema}.inbox
                              WHERE consumer_group = $1 AND processed_at < $2::timestamptz LIMIT $3::bigint)`,
        [groupId, cutoff, batch],
      );
      total += r.rowCount;
      if (r.rowCount < batch) break;
    }
    counters.inboxPruned += total;
    if (total > 0) logger.log(`${groupId}: pruned ${total} inbox row(s) processed before ${cutoff}`);
    return total;
  }
  let pruning: Promise<unknown> | undefined;
  const prune = () => {
    if (pruning || stopping) return;
    pruning = pruneInbox()
      .catch((error) => logger.warn(`${groupId}: inbox pruning failed: ${describeError(error)}`))
      .finally(() => {
        pruning = undefined;
      });
  };

  const unlisten = await client.listen(deadLetterChannel(schema), (payload) => {
    if (payload === '' || payload === groupId) void kick();
  });
  const timers: NodeJS.Timeout[] = [];
  const pollMs = options.requestPollMs ?? 5_000;
  if (pollMs !== false) timers.push(setInterval(() => void kick(), pollMs));
  if (retention) timers.push(setInterval(prune, retention.intervalMs ?? 60 * 60 * 1000));
  for (const t of timers) t.unref();

  let subscription: Subscription;
  try {
    subscription = await transport.subscribe({
      groupId,
      topics: options.topics,
      fromBeginning: options.fromBeginning ?? true,
      // The consumer's own log lines about a message (retries, dead letters) carry its context too.
      handle: (message) =>
        runWithTrace(traceOf(message, correlationIdOfValue(message)), () => onMessage(message)),
      handleBatch: onBatch,
    });
  } catch (error) {
    for (const t of timers) clearInterval(t);
    await unlisten();
    await publisher.close();
    throw error;
  }
  if (retention) prune();
  void kick(); // requests made while we were down

  let stopped: Promise<void> | undefined;
  const consumer: Consumer = {
    groupId,
    metrics: () => ({ ...counters }),
    async status() {
      const r = await client.query<{ streams: unknown; open: unknown; pending: unknown }>(
        `SELECT (SELECT count(*) FROM ${schema}.parked_streams WHERE consumer_group = $1) AS streams,
                (SELECT count(*) FROM ${schema}.parked_streams WHERE consumer_group = $1
                    AND requested_action IS NOT NULL) AS pending,
                (SELECT count(*) FROM ${schema}.dead_letters WHERE consumer_group = $1
                    AND status IN ('parked-head', 'parked')) AS open`,
        [groupId],
      );
      const row = r.rows[0];
      return {
        ...counters,
        groupId,
        topics: options.topics,
        transport: transport.kind,
        running: !stopping,
        parkedStreams: Number(row.streams),
        openDeadLetters: Number(row.open),
        pendingRequests: Number(row.pending),
        lag: undefined,
      };
    },
    async redrive(target, o) {
      const request = await requestRedrive(client, schema, target, {
        by: o.by,
        reason: o.reason,
        groupId,
        clock,
      });
      await kick();
      return waitForRequest(client, schema, request, {
        timeoutMs: o.timeoutMs ?? 300_000,
        signal: abort.signal,
      });
    },
    async skip(id, o) {
      const request = await requestSkip(client, schema, id, { by: o.by, reason: o.reason, clock });
      await kick();
      return waitForRequest(client, schema, request, {
        timeoutMs: o.timeoutMs ?? 300_000,
        signal: abort.signal,
      });
    },
    processRequests: () => kick(),
    pruneInbox,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        for (const t of timers) clearInterval(t);
        // Stop fetching first; then cut short any backoff so an in-flight message gives up (uncommitted:
        // it is delivered again to whoever takes the partition over).
        const unsubscribed = subscription.stop();
        abort.abort();
        await unsubscribed;
        await unlisten().catch(() => undefined);
        await requestLoop?.catch(() => undefined);
        await pruning;
        await publisher.close();
      })();
      return stopped;
    },
  };
  return consumer;
}

/** The envelope's correlation id, read only when the headers carry none (a message not from the relay). */
function correlationIdOfValue(message: IncomingMessage): string | undefined {
  if (message.headers[HEADERS.correlationId] || message.headers[HEADERS.xCorrelationId]) return undefined;
  try {
    const value = JSON.parse(message.value) as { correlationId?: unknown };
    return typeof value?.correlationId === 'string' ? value.correlationId : undefined;
  } catch {
    return undefined;
  }
}

/** The original headers plus where it came from, how often it failed and why. */
function errorHeaders(message: IncomingMessage, error: string, attempts: number): MessageHeaders {
  return {
    ...message.headers,
    [HEADERS.error]: error.length > MAX_HEADER_ERROR ? `${error.slice(0, MAX_HEADER_ERROR)}…` : error,
    [HEADERS.originalTopic]: message.topic,
    [HEADERS.originalPartition]: String(message.partition),
    [HEADERS.originalOffset]: message.offset,
    [HEADERS.attempts]: String(attempts),
  };
}
