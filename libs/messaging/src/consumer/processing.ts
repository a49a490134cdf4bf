import type { ContractRegistry, ContractViolation, IntegrationEventEnvelope } from '@lianfang/contracts';
import { toBigInt, type SqlExecutor } from '@lianfang/eventsourcing';
import { HEADERS, type IncomingMessage } from '../transport/transport';

/**
 * The transaction steps shared by the consumer and the redrive of dead letters, so that a message applied
 * live and a message applied by a redrive go through the very same inbox + effect path.
 */

/** The effect of one message, in the service's own transaction (`tx`), next to its inbox row. */
export type MessageHandler = (
  envelope: IntegrationEventEnvelope,
  tx: SqlExecutor,
  message: IncomingMessage,
) => Promise<void>;

/** Thrown by a handler for a message that can never succeed: dead-lettered at once, without retries. */
export class PermanentMessageError extends Error {
  override readonly name = 'PermanentMessageError';
}

/** Wraps what the handler threw: only the handler's own failures count as attempts. */
export class HandlerFailure extends Error {
  override readonly name = 'HandlerFailure';
  constructor(readonly failure: unknown) {
    super(describeError(failure));
  }
}

export type Decoded =
  | { readonly ok: true; readonly envelope: IntegrationEventEnvelope }
  | { readonly ok: false; readonly error: string; readonly violations: readonly ContractViolation[] };

/** Parses and validates a message value against its contract. */
export function decodeMessage(contracts: ContractRegistry, value: string): Decoded {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (error) {
    const violations = [{ field: '', rule: 'json', message: `not JSON: ${describeError(error)}` }];
    return { ok: false, error: invalidMessageError(violations), violations };
  }
  const result = contracts.validate(json);
  if (result.ok) return { ok: true, envelope: result.envelope as IntegrationEventEnvelope };
  return { ok: false, error: invalidMessageError(result.violations), violations: result.violations };
}

/** `invalid message (contract): data.kg [matches] kg must match ...; type [knownContract] ...`. */
export function invalidMessageError(violations: readonly ContractViolation[]): string {
  const parts = violations.map((v) => `${v.field || '(message)'} [${v.rule}] ${v.message}`);
  return `invalid message (contract): ${parts.join('; ')}`;
}

export function describeError(error: unknown): string {
  if (error instanceof HandlerFailure) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** What the SQL of one consumer needs to know. */
export interface ConsumerScope {
  readonly schema: string;
  readonly groupId: string;
  /** Current time as an ISO string (PGlite under jest wants strings, not Dates). */
  readonly now: () => string;
}

/** The stream a message belongs to for parking: its key (= stream id: one key, one partition, one order). */
export function streamOf(message: IncomingMessage): string {
  return message.key;
}

/**
 * Whether the stream is parked for this group. FOR SHARE: a redrive step holds the row FOR UPDATE while
 * it applies a parked message, so a new message of the stream waits for it, then either parks behind (the
 * row is still there) or, if that step emptied and unparked the stream (row deleted), flows normally —
 * after everything that was parked. Nothing overtakes.
 */
export async function isStreamParked(
  tx: SqlExecutor,
  scope: ConsumerScope,
  streamId: string,
): Promise<boolean> {
  const r = await tx.query(
    `SELECT 1 FROM ${scope.schema}.parked_streams WHERE consumer_group = $1 AND stream_id = $2 FOR SHARE`,
    [scope.groupId, streamId],
    { name: `lfc_parked_${scope.schema}` },
  );
  return r.rowCount > 0;
}

interface DeadLetterInsert {
  readonly status: 'parked-head' | 'parked';
  readonly eventId: string | null;
  readonly type: string | null;
  readonly error: string | null;
  readonly attempts: number;
}

/** Inserts a dead-letter row; undefined when this message (group, topic, partition, offset) is already there. */
async function insertDeadLetter(
  tx: SqlExecutor,
  scope: ConsumerScope,
  message: IncomingMessage,
  row: DeadLetterInsert,
): Promise<bigint | undefined> {
  const r = await tx.query<{ id: unknown }>(
    `INSERT INTO ${scope.schema}.dead_letters
       (consumer_group, topic, partition, "offset", stream_id, event_id, type, value, headers, produced_at, error,
        attempts, status, parked_at)
     VALUES ($1, $2, $3, $4::bigint, $5, $6, $7, $8, $9::jsonb, $10::timestamptz, $11, $12, $13, $14::timestamptz)
     ON CONFLICT (consumer_group, topic, partition, "offset", md5(value)) DO NOTHING
     RETURNING id`,
    [
      scope.groupId,
      message.topic,
      message.partition,
      message.offset,
      streamOf(message),
      row.eventId,
      row.type,
      message.value,
      JSON.stringify(message.headers),
      validIso(message.timestamp),
      row.error,
      row.attempts,
      row.status,
      scope.now(),
    ],
  );
  return r.rows[0] ? toBigInt(r.rows[0].id) : undefined;
}

/** Best-effort identity of a message whose value may not even be JSON (for the dead-letter row). */
export function identify(message: IncomingMessage, envelope?: IntegrationEventEnvelope) {
  let eventId: string | null = envelope?.eventId ?? message.headers[HEADERS.eventId] ?? null;
  let type: string | null = envelope?.type ?? message.headers[HEADERS.type] ?? null;
  if (!envelope && (eventId === null || type === null)) {
    try {
      const json = JSON.parse(message.value) as { eventId?: unknown; type?: unknown };
      if (eventId === null && typeof json?.eventId === 'string') eventId = json.eventId;
      if (type === null && typeof json?.type === 'string') type = json.type;
    } catch {
      // not JSON: the headers were all there was
    }
  }
  return { eventId, type };
}

/** Parks a message behind its stream's head (the stream is known to be parked, under the lock). */
export async function parkBehind(
  tx: SqlExecutor,
  scope: ConsumerScope,
  message: IncomingMessage,
  envelope?: IntegrationEventEnvelope,
): Promise<bigint | undefined> {
  const { eventId, type } = identify(message, envelope);
  return insertDeadLetter(tx, scope, message, { status: 'parked', eventId, type, error: null, attempts: 0 });
}

/**
 * Records a message that failed (or did not validate) and parks its stream behind it. If the stream is
 * parked already (a race the consumer does not produce, but a redrive could) it queues behind as `parked`.
 * Undefined when the message was recorded before (a redelivery after a crash before the offset commit).
 */
export async function recordDeadLetter(
  tx: SqlExecutor,
  scope: ConsumerScope,
  message: IncomingMessage,
  failure: {
    readonly error: string;
    readonly attempts: number;
    readonly envelope?: IntegrationEventEnvelope;
  },
): Promise<{ id: bigint; status: 'parked-head' | 'parked' } | undefined> {
  const streamId = streamOf(message);
  const parked = await tx.query(
    `SELECT 1 FROM ${scope.schema}.parked_streams WHERE consumer_group = $1 AND stream_id = $2 FOR UPDATE`,
    [scope.groupId, streamId],
  );
  const status = parked.rowCount > 0 ? 'parked' : 'parked-head';
  const { eventId, type } = identify(message, failure.envelope);
  const id = await insertDeadLetter(tx, scope, message, {
    status,
    eventId,
    type,
    error: failure.error,
    attempts: failure.attempts,
  });
  if (id === undefined) return undefined;
  if (status === 'parked-head') {
    await tx.query(
      `INSERT INTO ${scope.schema}.parked_streams (consumer_group, stream_id, parked_at)
       VALUES ($1, $2, $3::timestamptz)`,
      [scope.groupId, streamId, scope.now()],
    );
  }
  await logAction(tx, scope, {
    deadLetterId: id,
    streamId,
    action: 'dead-lettered',
    actor: scope.groupId,
    reason: failure.error,
  });
  return { id, status };
}

/**
 * The inbox + effect: inserts the inbox row, and only if it is new runs the handler in the same
 * transaction. An event already in the inbox (redelivery, relay resend, redrive of an applied one) is a
 * duplicate: nothing is written.
 */
export async function applyOnce(
  tx: SqlExecutor,
  scope: ConsumerScope,
  message: IncomingMessage,
  envelope: IntegrationEventEnvelope,
  handle: MessageHandler,
): Promise<'applied' | 'duplicate'> {
  const inserted = await tx.query(
    `INSERT INTO ${scope.schema}.inbox (consumer_group, event_id, stream_id, topic, partition, "offset", processed_at)
     VALUES ($1, $2, $3, $4, $5, $6::bigint, $7::timestamptz)
     ON CONFLICT ON CONSTRAINT inbox_pkey DO NOTHING`,
    [
      scope.groupId,
      envelope.eventId,
      envelope.streamId,
      message.topic,
      message.partition,
      message.offset,
      scope.now(),
    ],
    { name: `lfc_inbox_${scope.schema}` },
  );
  if (inserted.rowCount === 0) return 'duplicate';
  try {
    await handle(envelope, tx, message);
  } catch (error) {
    throw new HandlerFailure(error);
  }
  return 'applied';
}

/** Which of these streams are parked for this group, locked FOR SHARE like `isStreamParked`. */
export async function parkedStreamsAmong(
  tx: SqlExecutor,
  scope: ConsumerScope,
  streamIds: readonly string[],
): Promise<Set<string>> {
  if (streamIds.length === 0) return new Set();
  const list = streamIds.map((_, i) => `$${i + 2}`).join(', ');
  const r = await tx.query<{ stream_id: string }>(
    `SELECT stream_id FROM ${scope.schema}.parked_streams
      WHERE consumer_group = $1 AND stream_id IN (${list}) ORDER BY stream_id FOR SHARE`,
    [scope.groupId, ...streamIds],
  );
  return new Set(r.rows.map((row) => row.stream_id));
}

/**
 * The inbox rows of a run of messages in one statement; returns the event ids that were new (an event
 * already there, or twice in the run, is a duplicate: only its first occurrence is inserted).
 */
export async function insertInboxRows(
  tx: SqlExecutor,
  scope: ConsumerScope,
  entries: ReadonlyArray<{ readonly message: IncomingMessage; readonly envelope: IntegrationEventEnvelope }>,
): Promise<Set<string>> {
  if (entries.length === 0) return new Set();
  const params: unknown[] = [scope.groupId, scope.now()];
  const rows = entries.map(({ message, envelope }) => {
    const n = params.push(
      envelope.eventId,
      envelope.streamId,
      message.topic,
      message.partition,
      message.offset,
    );
    return `($1, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}::integer, $${n}::bigint, $2::timestamptz)`;
  });
  const r = await tx.query<{ event_id: string }>(
    `INSERT INTO ${scope.schema}.inbox (consumer_group, event_id, stream_id, topic, partition, "offset", processed_at)
     VALUES ${rows.join(', ')}
     ON CONFLICT ON CONSTRAINT inbox_pkey DO NOTHING
     RETURNING event_id`,
    params,
  );
  return new Set(r.rows.map((row) => row.event_id));
}

export interface ActionRecord {
  readonly deadLetterId: bigint | null;
  readonly streamId: string;
  readonly action: string;
  readonly actor: string;
  readonly reason?: string | null;
  readonly requestId?: bigint | null;
}

/** Appends to the record of what happened to dead letters (who, when, why). */
export async function logAction(tx: SqlExecutor, scope: ConsumerScope, a: ActionRecord): Promise<bigint> {
  const r = await tx.query<{ id: unknown }>(
    `INSERT INTO ${scope.schema}.dead_letter_actions
       (dead_letter_id, consumer_group, stream_id, action, actor, reason, request_id, at)
     VALUES ($1::bigint, $2, $3, $4, $5, $6, $7::bigint, $8::timestamptz) RETURNING id`,
    [
      a.deadLetterId?.toString() ?? null,
      scope.groupId,
      a.streamId,
      a.action,
      a.actor,
      a.reason ?? null,
      a.requestId?.toString() ?? null,
      scope.now(),
    ],
  );
  return toBigInt(r.rows[0].id);
}

function validIso(date: Date | undefined): string | null {
  const t = date ? new Date(date).getTime() : Number.NaN;
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}
