import { randomUUID } from 'node:crypto';
import {
  assertSqlIdentifier,
  outboxChannel,
  toBigInt,
  type SqlClient,
  type SqlExecutor,
} from '@lianfang/eventsourcing';
import { isFatalProducerError, kafkaErrorType } from '../kafka/producer-errors';
import { withTraceHeaders } from '../transport/message-trace';
import { HEADERS, type OutgoingMessage, type Publisher, type Transport } from '../transport/transport';
import { createRelayLease, type RelayLease } from './relay-lease';

export const DEFAULT_OUTBOX_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export interface OutboxRetentionOptions {
  /** Sent rows older than this (by sent_at) are deleted (default 7 days). */
  readonly maxAgeMs?: number;
  /** How often the leader deletes (default 60 s). */
  readonly intervalMs?: number;
  /** Rows per DELETE statement (default 1000): short transactions, bounded work each. */
  readonly batchSize?: number;
  /** DELETE statements per run before publishing resumes (default 20); the rest waits a second. */
  readonly maxBatchesPerRun?: number;
}

/** One batch handed to the transport: the outbox ids and the messages, in id order. */
export interface OutboxBatch {
  readonly ids: readonly bigint[];
  readonly messages: readonly OutgoingMessage[];
}

export interface OutboxRelayFaultHooks {
  /** Before a batch goes to the publisher; throwing counts as a failed send. */
  beforeSend?(batch: OutboxBatch): void | Promise<void>;
  /**
   * After the transport acknowledged a batch, before its rows are marked sent: a fault test SIGKILLs the
   * process here to prove the resent messages are deduplicated downstream.
   */
  afterSendBeforeMark?(batch: OutboxBatch): void | Promise<void>;
}

export interface PublishedBatchInfo {
  readonly instanceId: string;
  readonly ids: readonly bigint[];
  /** `lf-event-id` of each message (envelope eventId), '' where there is none. */
  readonly eventIds: readonly string[];
  /** created_at of each row, ms since the epoch (database clock). */
  readonly createdAtMs: readonly number[];
  /** When the transport acknowledged the batch (Date.now()). */
  readonly ackedAtMs: number;
  /** How long the send took. */
  readonly sendMs: number;
}

export interface OutboxRelayMetrics {
  /** After every acknowledged batch (before it is marked sent). Must not throw; keep it cheap. */
  onPublished?(info: PublishedBatchInfo): void;
  /** The unsent row count, whenever the relay learns it (at most about once a second when busy). */
  onBacklog?(unsent: number): void;
  onLeadership?(leader: boolean): void;
}

export interface OutboxRelayOptions {
  readonly client: SqlClient;
  /** The event store schema whose `outbox` table this relay publishes. */
  readonly schema: string;
  readonly transport: Transport;
  /** Names this relay in logs, status and its lease connection (default: a random id). */
  readonly instanceId?: string;
  /** Rows read and published per round (default 500). */
  readonly batchSize?: number;
  /** Transport request size bound: a batch is sent in chunks of at most this many bytes (default 512 KiB). */
  readonly maxSendBytes?: number;
  /** Retention of sent rows: a duration in ms, or the details (default 7 days, checked every minute). */
  readonly retention?: number | OutboxRetentionOptions;
  /** Bounded fallback poll when no notification arrives (default 1000 ms). */
  readonly idlePollMs?: number;
  /** How often a standby tries to take the lease (default 1000 ms). */
  readonly leaseRetryMs?: number;
  /**
   * After losing its lease, how long a relay leaves it to the others before trying again itself
   * (default 5 × leaseRetryMs, at least 5000 ms).
   */
  readonly leaseCooldownMs?: number;
  /** How often the leader checks its lease connection (default 1000 ms). */
  readonly leaseCheckMs?: number;
  /** Backoff after a failed send (default 100 ms doubling to 2000 ms). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** How long stop() waits for a send in progress before it closes the publisher anyway (default 15 000 ms). */
  readonly stopTimeoutMs?: number;
  readonly logger?: Pick<Console, 'warn' | 'error'>;
  readonly faultHooks?: OutboxRelayFaultHooks;
  readonly metrics?: OutboxRelayMetrics;
  /** Stops the relay when aborted (same as stop()). */
  readonly signal?: AbortSignal;
}

export type OutboxRelayRole = 'starting' | 'standby' | 'leader' | 'stopped';

export interface OutboxRelayStatus {
  readonly instanceId: string;
  readonly schema: string;
  readonly role: OutboxRelayRole;
  /** Server pid of the lease connection while leading on PostgreSQL. */
  readonly leaseBackendPid: number | undefined;
  /** Messages this instance got acknowledged, and in how many batches. */
  readonly published: number;
  readonly batches: number;
  /** Unsent rows, as last counted (undefined before the first count). */
  readonly backlog: number | undefined;
  /** created_at → acknowledged, of the oldest row of the last batch (ms). */
  readonly lastPublishLatencyMs: number | undefined;
  /** Duration of the last send (ms). */
  readonly lastSendMs: number | undefined;
  readonly lastPublishedAt: Date | undefined;
  readonly lastError: string | undefined;
  readonly consecutiveFailures: number;
  /** Publishers closed and recreated after a fatal producer error. */
  readonly publisherRecreations: number;
  readonly retentionDeleted: number;
  readonly lastRetentionAt: Date | undefined;
}

/** The unsent rows of a store's outbox (an exact count, from the partial index): for metrics without a relay. */
export async function countUnsentOutbox(client: SqlExecutor, schema: string): Promise<number> {
  const s = assertSqlIdentifier(schema, 'schema name');
  const r = await client.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${s}.outbox WHERE sent_at IS NULL`);
  return Number(toBigInt(r.rows[0]?.n ?? 0));
}

export interface OutboxRelay {
  readonly instanceId: string;
  status(): OutboxRelayStatus;
  /** Look for unsent rows now (e.g. right after an append in this process). */
  wake(): void;
  /** Counts the unsent rows (an exact count, from the partial index). */
  backlog(): Promise<number>;
  /** Deletes sent rows past retention now, whatever the role; returns how many. */
  runRetention(): Promise<number>;
  /** Stops publishing, gives up the lease, closes the publisher. Idempotent. */
  stop(): Promise<void>;
}

interface RowData {
  readonly id: unknown;
  readonly topic: string;
  readonly key: string;
  readonly type: string;
  readonly schema_version: number;
  readonly payload: string;
  readonly headers: string;
  readonly created_ms: number | string;
  readonly event_id: string | null;
  readonly stream_id: string | null;
  readonly correlation_id: string | null;
  readonly causation_id: string | null;
  readonly traceparent: string | null;
}

interface PendingRow {
  readonly id: bigint;
  readonly message: OutgoingMessage;
  readonly createdAtMs: number;
  readonly bytes: number;
}

/**
 * Publishes a store's outbox to the transport, in id order, and marks the rows sent.
 *
 * - Leadership: one relay per store schema publishes (see RelayLease); the others wait as standbys and
 *   take over when the leader's lease connection goes away.
 * - Wake-ups: LISTEN on the store's outbox channel, plus an idle poll every `idlePollMs`: no busy polling,
 *   and a lost notification costs at most one poll interval.
 * - Each round reads up to `batchSize` unsent rows in id order, sends them (chunked by size), waits for the
 *   acknowledgement (acks = all in-sync replicas), then marks exactly those rows sent in one UPDATE.
 *   A crash between send and mark publishes them again: consumers deduplicate by event id.
 * - Per-stream order: the rows of one stream get increasing ids in commit order (appends to a stream
 *   serialise on its version row), one round is sent in id order through a producer with one request in
 *   flight, and a round starts only after the previous one is acknowledged. Rows of other streams that
 *   commit late with lower ids are simply picked up by a later round (every round reads `sent_at IS NULL`,
 *   never "after the last id").
 * - Failures: a fatal producer error closes the publisher and creates a new one; any failure backs off
 *   (doubling up to `backoff.maxMs`) and resends from the outbox; nothing is ever skipped or dropped. A
 *   request too large for the broker halves the batch, down to one row.
 * - Retention: the leader deletes sent rows older than the retention, in bounded batches.
 */
export async function startOutboxRelay(options: OutboxRelayOptions): Promise<OutboxRelay> {
  const relay = new OutboxRelayImpl(options);
  await relay.start();
  return relay;
}

class OutboxRelayImpl implements OutboxRelay {
  readonly instanceId: string;
  private readonly schema: string;
  private readonly lease: RelayLease;
  private readonly logger: Pick<Console, 'warn' | 'error'>;
  private readonly batchSize: number;
  private readonly maxSendBytes: number;
  private readonly idlePollMs: number;
  private readonly leaseRetryMs: number;
  private readonly leaseCooldownMs: number;
  private readonly backoffInitial: number;
  private readonly backoffMax: number;
  private readonly retention: Required<OutboxRetentionOptions>;
  private readonly sql: {
    read: string;
    mark: string;
    markFailed: string;
    count: string;
    retention: string;
  };

  private role: OutboxRelayRole = 'starting';
  private publisher: Publisher | undefined;
  private loop: Promise<void> | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private readonly stopping = new AbortController();
  private stopped: Promise<void> | undefined;
  private wakePending = true;
  private wakeResolve: (() => void) | undefined;
  /** Current batch limit: shrinks when the broker refuses a request as too large. */
  private limit: number;
  private nextRetentionAt = 0;
  private lastBacklogCount = 0;

  private published = 0;
  private batches = 0;
  private backlogValue: number | undefined;
  private lastPublishLatencyMs: number | undefined;
  private lastSendMs: number | undefined;
  private lastPublishedAt: Date | undefined;
  private lastError: string | undefined;
  private consecutiveFailures = 0;
  private publisherRecreations = 0;
  private retentionDeleted = 0;
  private lastRetentionAt: Date | undefined;

  constructor(private readonly options: OutboxRelayOptions) {
    this.schema = assertSqlIdentifier(options.schema, 'schema name');
    this.instanceId = options.instanceId ?? randomUUID();
    this.logger = options.logger ?? console;
    this.batchSize = positive(options.batchSize ?? 500, 'batchSize');
    this.limit = this.batchSize;
    this.maxSendBytes = positive(options.maxSendBytes ?? 512 * 1024, 'maxSendBytes');
    this.idlePollMs = positive(options.idlePollMs ?? 1000, 'idlePollMs');
    this.leaseRetryMs = positive(options.leaseRetryMs ?? 1000, 'leaseRetryMs');
    this.leaseCooldownMs = Math.max(0, options.leaseCooldownMs ?? Math.max(5000, 5 * this.leaseRetryMs));
    this.backoffInitial = positive(options.backoff?.initialMs ?? 100, 'backoff.initialMs');
    this.backoffMax = Math.max(this.backoffInitial, options.backoff?.maxMs ?? 2000);
    const r =
      typeof options.retention === 'number' ? { maxAgeMs: options.retention } : (options.retention ?? {});
    this.retention = {
      maxAgeMs: positive(r.maxAgeMs ?? DEFAULT_OUTBOX_RETENTION_MS, 'retention'),
      intervalMs: positive(r.intervalMs ?? 60_000, 'retention.intervalMs'),
      batchSize: positive(r.batchSize ?? 1000, 'retention.batchSize'),
      maxBatchesPerRun: positive(r.maxBatchesPerRun ?? 20, 'retention.maxBatchesPerRun'),
    };
    this.lease = createRelayLease({
      client: options.client,
      schema: this.schema,
      instanceId: this.instanceId,
      checkIntervalMs: options.leaseCheckMs,
      onLost: (reason) => {
        this.logger.warn(`Outbox relay ${this.instanceId} (${this.schema}) lost its lease: ${reason}`);
        this.wake();
      },
    });
    const s = this.schema;
    this.sql = {
      read: `SELECT id, topic, key, type, schema_version, payload::text AS payload, headers::text AS headers,
                    (extract(epoch FROM created_at) * 1000)::float8 AS created_ms,
                    payload->>'eventId' AS event_id, payload->>'streamId' AS stream_id,
                    payload->>'correlationId' AS correlation_id, payload->>'causationId' AS causation_id,
                    payload->>'traceparent' AS traceparent
               FROM ${s}.outbox
              WHERE sent_at IS NULL
              ORDER BY id
              LIMIT $1`,
      mark: `UPDATE ${s}.outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL
              WHERE id = ANY($1::text::bigint[]) AND sent_at IS NULL`,
      markFailed: `UPDATE ${s}.outbox SET attempts = attempts + 1, last_error = left($2, 2000)
                    WHERE id = ANY($1::text::bigint[]) AND sent_at IS NULL`,
      count: `SELECT count(*) AS n FROM ${s}.outbox WHERE sent_at IS NULL`,
      // The oldest rows by id, at most $1 of them (bounded work even on a big table); of those, the ones
      // sent before the cutoff go. Rows are sent roughly in id order, so old sent rows sit at the head.
      retention: `WITH head AS (SELECT id, sent_at FROM ${s}.outbox ORDER BY id LIMIT $1)
                  DELETE FROM ${s}.outbox o USING head
                   WHERE o.id = head.id AND head.sent_at < now() - make_interval(secs => $2::float8)`,
    };
  }

  async start(): Promise<void> {
    try {
      this.unlisten = await this.options.client.listen(outboxChannel(this.schema), () => this.wake());
    } catch (error) {
      this.logger.warn(
        `Outbox relay ${this.instanceId}: no LISTEN on ${outboxChannel(this.schema)} (${String(error)}), polling every ${this.idlePollMs} ms`,
      );
    }
    const signal = this.options.signal;
    if (signal) {
      if (signal.aborted) {
        await this.stop();
        return;
      }
      signal.addEventListener('abort', () => void this.stop(), { once: true });
    }
    this.loop = this.run().catch((error: unknown) => {
      // run() handles its own errors; reaching here is a bug worth shouting about.
      this.logger.error(`Outbox relay ${this.instanceId} stopped unexpectedly: ${String(error)}`);
    });
  }

  wake(): void {
    this.wakePending = true;
    const resolve = this.wakeResolve;
    this.wakeResolve = undefined;
    resolve?.();
  }

  /** Waits for a wake-up, the timeout or stop, whichever first. */
  private async waitForWake(ms: number): Promise<void> {
    if (this.wakePending || this.stopping.signal.aborted) {
      this.wakePending = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stopping.signal.removeEventListener('abort', done);
        if (this.wakeResolve === done) this.wakeResolve = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeResolve = done;
      this.stopping.signal.addEventListener('abort', done, { once: true });
    });
    this.wakePending = false;
  }

  /** Sleeps, interrupted only by stop (not by notifications: a failing broker is not hammered). */
  private async sleep(ms: number): Promise<void> {
    if (this.stopping.signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stopping.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.stopping.signal.addEventListener('abort', done, { once: true });
    });
  }

  private setRole(role: OutboxRelayRole): void {
    if (this.role === role) return;
    const wasLeader = this.role === 'leader';
    this.role = role;
    if (role === 'leader') this.options.metrics?.onLeadership?.(true);
    else if (wasLeader) this.options.metrics?.onLeadership?.(false);
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    let lostAt = Number.NEGATIVE_INFINITY;
    while (!signal.aborted) {
      if (!(await this.lease.verify())) {
        if (this.role === 'leader') {
          // Lost it: stop publishing, and give the standbys the first chance to take over (the instance
          // whose connection died is the likelier one to be unhealthy; no flapping back and forth).
          lostAt = Date.now();
          await this.closePublisher();
          this.setRole('standby');
        }
        const coolingDown = Date.now() - lostAt < this.leaseCooldownMs;
        if (coolingDown || !(await this.lease.tryAcquire())) {
          this.setRole('standby');
          await this.sleep(this.leaseRetryMs);
          continue;
        }
      }
      if (signal.aborted) break;
      this.setRole('leader');
      try {
        const more = await this.round();
        this.consecutiveFailures = 0;
        if (!more) await this.waitForWake(this.idlePollMs);
      } catch (error) {
        if (signal.aborted) break;
        await this.failed(error);
      }
    }
  }

  /** One round: retention when due, then one batch. True when there may be more to send right away. */
  private async round(): Promise<boolean> {
    if (Date.now() >= this.nextRetentionAt) {
      const { more } = await this.retentionPass(this.retention.maxBatchesPerRun, true);
      this.nextRetentionAt = Date.now() + (more ? 1000 : this.retention.intervalMs);
    }
    const limit = this.limit;
    const rows = await this.readBatch(limit);
    this.noteBacklog(rows.length, limit);
    if (rows.length === 0) return false;
    if (!this.publisher) {
      this.publisher = await this.options.transport.createPublisher();
    }
    let start = 0;
    while (start < rows.length) {
      let end = start;
      let bytes = 0;
      // At least one row per chunk, however big (the broker then decides).
      while (end < rows.length && (end === start || bytes + rows[end].bytes <= this.maxSendBytes)) {
        bytes += rows[end].bytes;
        end++;
      }
      await this.publish(rows.slice(start, end));
      start = end;
    }
    if (this.limit < this.batchSize) this.limit = Math.min(this.batchSize, this.limit * 2);
    return rows.length >= limit;
  }

  private async readBatch(limit: number): Promise<PendingRow[]> {
    const result = await this.options.client.query<RowData>(this.sql.read, [limit]);
    return result.rows.map((r) => toPendingRow(r));
  }

  private noteBacklog(read: number, limit: number): void {
    if (read < limit) {
      this.reportBacklog(read);
      return;
    }
    // A full batch: there may be more. Count at most once a second.
    if (Date.now() - this.lastBacklogCount >= 1000) {
      this.lastBacklogCount = Date.now();
      this.backlog().then(
        (n) => this.reportBacklog(n),
        () => undefined,
      );
    }
  }

  private reportBacklog(n: number): void {
    this.backlogValue = n;
    try {
      this.options.metrics?.onBacklog?.(n);
    } catch {
      // metrics must never stop the relay
    }
  }

  private async publish(rows: readonly PendingRow[]): Promise<void> {
    // A leader that lost its lease must not start a new send (the new leader resends these rows).
    if (!(await this.lease.verify())) throw new LeaseLostError();
    const publisher = this.publisher;
    if (!publisher) throw new Error('no publisher');
    const batch: OutboxBatch = { ids: rows.map((r) => r.id), messages: rows.map((r) => r.message) };
    await this.options.faultHooks?.beforeSend?.(batch);
    const started = Date.now();
    try {
      await publisher.send(batch.messages);
    } catch (error) {
      await this.options.client
        .query(this.sql.markFailed, [idArray(batch.ids), describe(error)])
        .catch(() => undefined);
      throw error;
    }
    const acked = Date.now();
    this.published += rows.length;
    this.batches++;
    this.lastSendMs = acked - started;
    this.lastPublishLatencyMs = acked - Math.min(...rows.map((r) => r.createdAtMs));
    this.lastPublishedAt = new Date(acked);
    try {
      this.options.metrics?.onPublished?.({
        instanceId: this.instanceId,
        ids: batch.ids,
        eventIds: rows.map((r) => r.message.headers[HEADERS.eventId] ?? ''),
        createdAtMs: rows.map((r) => r.createdAtMs),
        ackedAtMs: acked,
        sendMs: acked - started,
      });
    } catch {
      // metrics must never stop the relay
    }
    await this.options.faultHooks?.afterSendBeforeMark?.(batch);
    await this.options.client.query(this.sql.mark, [idArray(batch.ids)]);
  }

  private async failed(error: unknown): Promise<void> {
    if (error instanceof LeaseLostError) return;
    this.consecutiveFailures++;
    this.lastError = describe(error);
    const type = kafkaErrorType(error);
    if (type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') {
      this.limit = Math.max(1, Math.floor(this.limit / 2));
    }
    if (isFatalProducerError(error)) {
      this.publisherRecreations++;
      this.logger.warn(
        `Outbox relay ${this.instanceId} (${this.schema}): fatal producer error, recreating the publisher and resending from the outbox: ${this.lastError}`,
      );
      await this.closePublisher();
    } else if (this.consecutiveFailures === 1 || this.consecutiveFailures % 10 === 0) {
      this.logger.warn(
        `Outbox relay ${this.instanceId} (${this.schema}): publishing failed (${this.consecutiveFailures}x), retrying: ${this.lastError}`,
      );
    }
    const delay = Math.min(
      this.backoffMax,
      this.backoffInitial * 2 ** Math.min(this.consecutiveFailures - 1, 20),
    );
    await this.sleep(delay);
  }

  private async closePublisher(): Promise<void> {
    const publisher = this.publisher;
    this.publisher = undefined;
    if (publisher) await publisher.close().catch(() => undefined);
  }

  private async retentionPass(
    maxBatches: number,
    interruptible: boolean,
  ): Promise<{ deleted: number; more: boolean }> {
    let deleted = 0;
    let more = false;
    for (let i = 0; i < maxBatches; i++) {
      const r = await this.options.client.query(this.sql.retention, [
        this.retention.batchSize,
        this.retention.maxAgeMs / 1000,
      ]);
      deleted += r.rowCount;
      if (r.rowCount === 0) break;
      more = i === maxBatches - 1;
      if (interruptible && this.stopping.signal.aborted) break;
    }
    this.retentionDeleted += deleted;
    this.lastRetentionAt = new Date();
    return { deleted, more };
  }

  async runRetention(): Promise<number> {
    let total = 0;
    for (;;) {
      const { deleted, more } = await this.retentionPass(this.retention.maxBatchesPerRun, false);
      total += deleted;
      if (!more) return total;
    }
  }

  async backlog(): Promise<number> {
    const r = await this.options.client.query<{ n: unknown }>(this.sql.count);
    return Number(toBigInt(r.rows[0]?.n ?? 0));
  }

  status(): OutboxRelayStatus {
    return {
      instanceId: this.instanceId,
      schema: this.schema,
      role: this.role,
      leaseBackendPid: this.role === 'leader' ? this.lease.backendPid : undefined,
      published: this.published,
      batches: this.batches,
      backlog: this.backlogValue,
      lastPublishLatencyMs: this.lastPublishLatencyMs,
      lastSendMs: this.lastSendMs,
      lastPublishedAt: this.lastPublishedAt,
      lastError: this.lastError,
      consecutiveFailures: this.consecutiveFailures,
      publisherRecreations: this.publisherRecreations,
      retentionDeleted: this.retentionDeleted,
      lastRetentionAt: this.lastRetentionAt,
    };
  }

  stop(): Promise<void> {
    if (!this.stopped) this.stopped = this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<void> {
    this.stopping.abort();
    this.wake();
    if (this.loop) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.options.stopTimeoutMs ?? 15_000);
      });
      const outcome = await Promise.race([this.loop.then(() => 'done' as const), timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        this.logger.warn(
          `Outbox relay ${this.instanceId}: a send was still in progress at stop; its rows stay unsent and will be published again`,
        );
      }
    }
    await this.closePublisher();
    await this.unlisten?.().catch(() => undefined);
    await this.lease.release();
    this.setRole('stopped');
  }
}

class LeaseLostError extends Error {
  constructor() {
    super('The relay lease was lost');
    this.name = 'LeaseLostError';
  }
}

function positive(n: number, what: string): number {
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`Outbox relay: ${what} must be a positive number, got ${n}`);
  return n;
}

function idArray(ids: readonly bigint[]): string {
  return `{${ids.join(',')}}`;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const type = kafkaErrorType(error);
    return `${error.name}: ${error.message}${type ? ` [${type}]` : ''}`;
  }
  return String(error);
}

function toPendingRow(r: RowData): PendingRow {
  const stored = parseHeaders(r.headers);
  const headers: Record<string, string> = {};
  if (r.event_id) headers[HEADERS.eventId] = r.event_id;
  headers[HEADERS.streamId] = r.stream_id ?? r.key;
  if (r.correlation_id) headers[HEADERS.correlationId] = r.correlation_id;
  if (r.causation_id) headers[HEADERS.causationId] = r.causation_id;
  if (r.traceparent) headers[HEADERS.traceparent] = r.traceparent;
  // Headers given with the outbox message (e.g. traceparent from the request) win over the envelope's…
  Object.assign(headers, stored);
  // …except type and version, which are the row's own columns.
  headers[HEADERS.type] = r.type;
  headers[HEADERS.schemaVersion] = String(r.schema_version);
  // traceparent + x-correlation-id from the event's correlation id, when not given: the consumer restores them.
  withTraceHeaders(headers, r.event_id ?? `${r.topic}:${String(r.id)}`);
  const message: OutgoingMessage = { topic: r.topic, key: r.key, value: r.payload, headers };
  let bytes = r.payload.length + r.key.length + 64;
  for (const [k, v] of Object.entries(headers)) bytes += k.length + v.length + 8;
  return { id: toBigInt(r.id), message, createdAtMs: Number(r.created_ms), bytes };
}

function parseHeaders(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return out;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return out;
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}
