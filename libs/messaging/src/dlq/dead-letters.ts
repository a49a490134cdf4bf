import type { ContractRegistry } from '@lianfang/contracts';
import { assertSqlIdentifier, toBigInt, type SqlClient, type SqlExecutor } from '@lianfang/eventsourcing';
import { backoffDelay, sleep, StoppedError, type BackoffPolicy } from '../consumer/backoff';
import {
  applyOnce,
  decodeMessage,
  describeError,
  HandlerFailure,
  logAction,
  PermanentMessageError,
  type ConsumerScope,
  type MessageHandler,
} from '../consumer/processing';
import { deadLetterChannel, DEAD_LETTER_STATUSES, type DeadLetterStatus } from '../consumer/tables';
import type { IncomingMessage } from '../transport/transport';

/**
 * Operator functions over `<schema>.dead_letters` (see consumer/tables.ts), and the redrive that applies
 * parked messages again.
 *
 * DESIGN: redrive is REQUESTED, and the RUNNING CONSUMER applies it. The effect code lives in the service
 * (its handler, its tables, its version of the contracts), so the operator's tool never runs it:
 * `requestRedrive` / `requestSkip` mark the stream's `parked_streams` row (who, when, why; recorded in
 * `dead_letter_actions`) and NOTIFY; the consumer of that group picks the request up (LISTEN, and a
 * bounded poll in case a notification is lost), applies it with its own handler, and records each step
 * against the request; `waitForRequest` lets the CLI wait and print the result. A request made while the
 * service is down is applied when it starts again.
 *
 * The redrive applies the head, then the parked messages, IN ORDER (arrival order, `id`), ONE TRANSACTION
 * EACH through the same inbox + effect path as live messages (`applyOnce`): a message already applied (a
 * duplicate parked behind its original, or a crash after a step committed) is not applied again. It stops
 * at the first message that fails again: that one stays (or becomes) the head, with its new error. A step
 * holds the `parked_streams` row FOR UPDATE; a new message of the stream arriving meanwhile takes it FOR
 * SHARE, so it waits, then parks behind (and is redriven in its turn), or — once the step that emptied
 * the stream deleted the row — flows normally, after all of them. Invariant at every commit: a parked
 * stream's first open row is its `parked-head`.
 */

export interface DeadLetter {
  readonly id: bigint;
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly streamId: string;
  readonly eventId: string | null;
  readonly type: string | null;
  /** The message value as received (JSON text, or whatever arrived). */
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly producedAt: Date | null;
  readonly error: string | null;
  readonly attempts: number;
  readonly status: DeadLetterStatus;
  readonly parkedAt: Date;
  readonly resolvedAt: Date | null;
  readonly resolvedBy: string | null;
}

export interface DeadLetterAction {
  readonly id: bigint;
  readonly deadLetterId: bigint | null;
  readonly groupId: string;
  readonly streamId: string;
  /** dead-lettered, redrive-requested, skip-requested, redriven, skipped, redrive-failed, request-refused, unparked */
  readonly action: string;
  readonly actor: string;
  readonly reason: string | null;
  readonly requestId: bigint | null;
  readonly at: Date;
}

export interface PendingRequest {
  readonly requestId: bigint;
  readonly action: 'redrive' | 'skip';
  readonly by: string;
  readonly at: Date;
  readonly reason: string | null;
}

export interface DeadLetterDetail {
  readonly letter: DeadLetter;
  /** Whether its stream is parked for its group now. */
  readonly streamParked: boolean;
  /** The stream's current head, when parked. */
  readonly head: DeadLetter | undefined;
  /** Open messages of the same stream and group queued behind this one, in order. */
  readonly behind: readonly DeadLetter[];
  readonly pendingRequest: PendingRequest | undefined;
  /** The history of its stream's dead letters (who did what, when, why), oldest first. */
  readonly actions: readonly DeadLetterAction[];
}

/** An operator's mistake, with what to do about it (the CLI prints both). */
export class DeadLetterError extends Error {
  override readonly name = 'DeadLetterError';
  constructor(
    readonly code:
      'unknown-id' | 'unknown-stream' | 'not-parked' | 'not-head' | 'ambiguous' | 'pending' | 'reason',
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

interface Row {
  id: unknown;
  consumer_group: string;
  topic: string;
  partition: number;
  offset: string;
  stream_id: string;
  event_id: string | null;
  type: string | null;
  value: string;
  headers: string;
  produced_at: unknown;
  error: string | null;
  attempts: number;
  status: DeadLetterStatus;
  parked_at: unknown;
  resolved_at: unknown;
  resolved_by: string | null;
}

const COLUMNS = `id, consumer_group, topic, partition, "offset"::text AS "offset", stream_id, event_id, type, value,
  headers::text AS headers, produced_at, error, attempts, status, parked_at, resolved_at, resolved_by`;

const date = (v: unknown): Date => new Date(v as string);
const dateOrNull = (v: unknown): Date | null => (v == null ? null : date(v));

function toDeadLetter(r: Row): DeadLetter {
  return {
    id: toBigInt(r.id),
    groupId: r.consumer_group,
    topic: r.topic,
    partition: Number(r.partition),
    offset: r.offset,
    streamId: r.stream_id,
    eventId: r.event_id,
    type: r.type,
    value: r.value,
    headers: JSON.parse(r.headers) as Record<string, string>,
    producedAt: dateOrNull(r.produced_at),
    error: r.error,
    attempts: Number(r.attempts),
    status: r.status,
    parkedAt: date(r.parked_at),
    resolvedAt: dateOrNull(r.resolved_at),
    resolvedBy: r.resolved_by,
  };
}

interface ActionRow {
  id: unknown;
  dead_letter_id: unknown;
  consumer_group: string;
  stream_id: string;
  action: string;
  actor: string;
  reason: string | null;
  request_id: unknown;
  at: unknown;
}

function toAction(r: ActionRow): DeadLetterAction {
  return {
    id: toBigInt(r.id),
    deadLetterId: r.dead_letter_id == null ? null : toBigInt(r.dead_letter_id),
    groupId: r.consumer_group,
    streamId: r.stream_id,
    action: r.action,
    actor: r.actor,
    reason: r.reason,
    requestId: r.request_id == null ? null : toBigInt(r.request_id),
    at: date(r.at),
  };
}

export interface ListDeadLettersOptions {
  /** One status or several; default: all. */
  readonly status?: DeadLetterStatus | readonly DeadLetterStatus[];
  readonly stream?: string;
  readonly groupId?: string;
  /** Default 500. */
  readonly limit?: number;
}

/** Dead letters in arrival order (`id`). */
export async function listDeadLetters(
  on: SqlExecutor,
  schema: string,
  options: ListDeadLettersOptions = {},
): Promise<DeadLetter[]> {
  const s = assertSqlIdentifier(schema, 'schema name');
  const statuses = options.status === undefined ? null : [options.status].flat();
  for (const st of statuses ?? []) {
    if (!DEAD_LETTER_STATUSES.includes(st)) throw new Error(`Unknown dead-letter status "${st}"`);
  }
  const r = await on.query<Row>(
    `SELECT ${COLUMNS} FROM ${s}.dead_letters
      WHERE ($1::text IS NULL OR status = ANY (string_to_array($1::text, ',')))
        AND ($2::text IS NULL OR stream_id = $2::text)
        AND ($3::text IS NULL OR consumer_group = $3::text)
      ORDER BY id
      LIMIT $4::bigint`,
    [statuses?.join(',') ?? null, options.stream ?? null, options.groupId ?? null, options.limit ?? 500],
  );
  return r.rows.map(toDeadLetter);
}

async function letterById(
  on: SqlExecutor,
  s: string,
  id: bigint,
  lock = false,
): Promise<DeadLetter | undefined> {
  const r = await on.query<Row>(
    `SELECT ${COLUMNS} FROM ${s}.dead_letters WHERE id = $1::bigint${lock ? ' FOR UPDATE' : ''}`,
    [id.toString()],
  );
  return r.rows[0] ? toDeadLetter(r.rows[0]) : undefined;
}

/** The open (parked-head / parked) rows of a stream, in order. */
async function openRows(
  on: SqlExecutor,
  s: string,
  groupId: string,
  streamId: string,
): Promise<DeadLetter[]> {
  const r = await on.query<Row>(
    `SELECT ${COLUMNS} FROM ${s}.dead_letters
      WHERE consumer_group = $1 AND stream_id = $2 AND status IN ('parked-head', 'parked')
      ORDER BY id`,
    [groupId, streamId],
  );
  return r.rows.map(toDeadLetter);
}

interface ParkedRow {
  requested_action: 'redrive' | 'skip' | null;
  requested_id: unknown;
  requested_by: string | null;
  requested_at: unknown;
  request_reason: string | null;
  request_action_id: unknown;
}

async function parkedStream(
  on: SqlExecutor,
  s: string,
  groupId: string,
  streamId: string,
  lock: '' | ' FOR UPDATE' = '',
): Promise<ParkedRow | undefined> {
  const r = await on.query<ParkedRow>(
    `SELECT requested_action, requested_id, requested_by, requested_at, request_reason, request_action_id
       FROM ${s}.parked_streams WHERE consumer_group = $1 AND stream_id = $2${lock}`,
    [groupId, streamId],
  );
  return r.rows[0];
}

function pendingOf(p: ParkedRow | undefined): PendingRequest | undefined {
  if (!p || !p.requested_action) return undefined;
  return {
    requestId: toBigInt(p.request_action_id),
    action: p.requested_action,
    by: p.requested_by ?? '',
    at: date(p.requested_at),
    reason: p.request_reason,
  };
}

/** One dead letter with its stream's situation and history; undefined when there is no such id. */
export async function showDeadLetter(
  on: SqlExecutor,
  schema: string,
  id: bigint,
): Promise<DeadLetterDetail | undefined> {
  const s = assertSqlIdentifier(schema, 'schema name');
  const letter = await letterById(on, s, id);
  if (!letter) return undefined;
  const open = await openRows(on, s, letter.groupId, letter.streamId);
  const parked = await parkedStream(on, s, letter.groupId, letter.streamId);
  const actions = await on.query<ActionRow>(
    `SELECT * FROM (
       SELECT id, dead_letter_id, consumer_group, stream_id, action, actor, reason, request_id, at
         FROM ${s}.dead_letter_actions
        WHERE consumer_group = $1 AND stream_id = $2
        ORDER BY id DESC LIMIT 200) a
      ORDER BY id`,
    [letter.groupId, letter.streamId],
  );
  return {
    letter,
    streamParked: parked !== undefined,
    head: open.find((l) => l.status === 'parked-head'),
    behind: open.filter((l) => l.id > letter.id),
    pendingRequest: pendingOf(parked),
    actions: actions.rows.map(toAction),
  };
}

/** A redrive or skip that an operator requested; the running consumer of `groupId` applies it. */
export interface RedriveRequest {
  /** The `dead_letter_actions` row of the request: every step of it points back to it. */
  readonly requestId: bigint;
  readonly action: 'redrive' | 'skip';
  readonly groupId: string;
  readonly streamId: string;
  /** The dead letter named (for a skip: the head it skips). */
  readonly deadLetterId: bigint | null;
}

export interface RequestOptions {
  /** Who asks (recorded). */
  readonly by: string;
  /** Why (recorded; required for a skip). */
  readonly reason?: string;
  /** Only needed when a stream id is parked in several consumer groups of the schema. */
  readonly groupId?: string;
  readonly clock?: () => Date;
}

const LIST_HINT = 'run `npm run dlq -- list` to see the dead letters';

/** Resolves an id or a stream id to the parked (group, stream), under the stream's lock. */
async function resolveTarget(
  tx: SqlExecutor,
  s: string,
  target: bigint | string,
  groupId: string | undefined,
): Promise<{ groupId: string; streamId: string; letter: DeadLetter | undefined; parked: ParkedRow }> {
  if (typeof target === 'bigint') {
    const letter = await letterById(tx, s, target);
    if (!letter) throw new DeadLetterError('unknown-id', `no dead letter ${target}`, LIST_HINT);
    const parked = await parkedStream(tx, s, letter.groupId, letter.streamId, ' FOR UPDATE');
    if (!parked || (letter.status !== 'parked-head' && letter.status !== 'parked')) {
      const when = letter.resolvedAt ? ` at ${letter.resolvedAt.toISOString()}` : '';
      throw new DeadLetterError(
        'not-parked',
        `dead letter ${target} is already ${letter.status} (by ${letter.resolvedBy ?? '?'}${when}): nothing to do`,
        `run \`npm run dlq -- show ${target}\` for its history`,
      );
    }
    return { groupId: letter.groupId, streamId: letter.streamId, letter, parked };
  }
  const groups = await tx.query<{ consumer_group: string }>(
    `SELECT consumer_group FROM ${s}.parked_streams WHERE stream_id = $1 AND ($2::text IS NULL OR consumer_group = $2::text)
      ORDER BY consumer_group`,
    [target, groupId ?? null],
  );
  if (groups.rows.length === 0) {
    throw new DeadLetterError(
      'unknown-stream',
      `stream "${target}" is not parked${groupId ? ` in group ${groupId}` : ''}`,
      LIST_HINT,
    );
  }
  if (groups.rows.length > 1) {
    throw new DeadLetterError(
      'ambiguous',
      `stream "${target}" is parked in several consumer groups: ${groups.rows.map((g) => g.consumer_group).join(', ')}`,
      'add `--group <group>`, or name the dead letter by its id',
    );
  }
  const group = groups.rows[0].consumer_group;
  const parked = await parkedStream(tx, s, group, target, ' FOR UPDATE');
  if (!parked) throw new DeadLetterError('unknown-stream', `stream "${target}" is not parked`, LIST_HINT);
  return { groupId: group, streamId: target, letter: undefined, parked };
}

async function placeRequest(
  client: SqlClient,
  schema: string,
  action: 'redrive' | 'skip',
  target: bigint | string,
  options: RequestOptions,
): Promise<RedriveRequest> {
  const s = assertSqlIdentifier(schema, 'schema name');
  const now = () => (options.clock ?? (() => new Date()))().toISOString();
  if (!options.by.trim())
    throw new DeadLetterError('reason', 'who is asking? (by) is empty', 'pass --by <name>');
  return client.transaction(async (tx) => {
    const t = await resolveTarget(tx, s, target, options.groupId);
    const open = await openRows(tx, s, t.groupId, t.streamId);
    const head = open[0];
    if (action === 'skip' && t.letter && head && t.letter.id !== head.id) {
      throw new DeadLetterError(
        'not-head',
        `dead letter ${t.letter.id} is not the head of stream "${t.streamId}": it waits behind dead letter ${head.id}`,
        `only the head can be skipped: skip ${head.id}, or redrive the stream`,
      );
    }
    const pending = pendingOf(t.parked);
    if (pending) {
      if (pending.action === action && action === 'redrive') {
        return {
          requestId: pending.requestId,
          action,
          groupId: t.groupId,
          streamId: t.streamId,
          deadLetterId: head?.id ?? null,
        };
      }
      throw new DeadLetterError(
        'pending',
        `a ${pending.action} of stream "${t.streamId}" is already pending (requested by ${pending.by} at ${pending.at.toISOString()})`,
        'wait until the consumer has applied it (`npm run dlq -- show <id>`), then try again',
      );
    }
    const scope: ConsumerScope = { schema: s, groupId: t.groupId, now };
    const deadLetterId = t.letter?.id ?? head?.id ?? null;
    const requestId = await logAction(tx, scope, {
      deadLetterId,
      streamId: t.streamId,
      action: `${action}-requested`,
      actor: options.by,
      reason: options.reason ?? null,
    });
    await tx.query(
      `UPDATE ${s}.parked_streams
          SET requested_action = $3, requested_id = $4::bigint, requested_by = $5, requested_at = $6::timestamptz,
              request_reason = $7, request_action_id = $8::bigint
        WHERE consumer_group = $1 AND stream_id = $2`,
      [
        t.groupId,
        t.streamId,
        action,
        deadLetterId?.toString() ?? null,
        options.by,
        now(),
        options.reason ?? null,
        requestId.toString(),
      ],
    );
    await tx.query(`SELECT pg_notify($1, $2)`, [deadLetterChannel(s), t.groupId]);
    return { requestId, action, groupId: t.groupId, streamId: t.streamId, deadLetterId };
  });
}

/**
 * Asks the consumer of the dead letter's group to redrive its stream: the head, then everything parked
 * behind it, in order. `target`: a dead-letter id (any open one of the stream) or a stream id.
 * Repeating a pending redrive returns the same request.
 */
export function requestRedrive(
  client: SqlClient,
  schema: string,
  target: bigint | string,
  options: RequestOptions,
): Promise<RedriveRequest> {
  return placeRequest(client, schema, 'redrive', target, options);
}

/** Asks the consumer to mark the head `id` skipped (never applied), then redrive the rest of its stream. */
export function requestSkip(
  client: SqlClient,
  schema: string,
  id: bigint,
  options: RequestOptions & { readonly reason: string },
): Promise<RedriveRequest> {
  if (!options.reason?.trim()) {
    return Promise.reject(
      new DeadLetterError(
        'reason',
        'a skip needs a reason (it is recorded)',
        `add --reason "why ${id} is never applied"`,
      ),
    );
  }
  return placeRequest(client, schema, 'skip', id, options);
}

export interface RedriveOutcome {
  readonly request: RedriveRequest;
  /** False when waiting timed out (is the consumer of the group running?). */
  readonly finished: boolean;
  /** Applied again in order; `duplicate`: it had been applied already (inbox), so nothing was done. */
  readonly redriven: readonly { readonly id: bigint; readonly duplicate: boolean }[];
  readonly skipped: readonly bigint[];
  /** The message that failed again: it is the head now, with this error. */
  readonly failed: { readonly id: bigint; readonly error: string } | undefined;
  /** The request was not applied (e.g. the head changed before a skip). */
  readonly refused: string | undefined;
  /** The stream is no longer parked: new messages flow. */
  readonly unparked: boolean;
}

/** What a request has done so far, from its recorded steps. */
export async function requestOutcome(
  on: SqlExecutor,
  schema: string,
  request: RedriveRequest,
  finished: boolean,
): Promise<RedriveOutcome> {
  const s = assertSqlIdentifier(schema, 'schema name');
  const rows = (
    await on.query<ActionRow>(
      `SELECT id, dead_letter_id, consumer_group, stream_id, action, actor, reason, request_id, at
         FROM ${s}.dead_letter_actions WHERE request_id = $1::bigint ORDER BY id`,
      [request.requestId.toString()],
    )
  ).rows.map(toAction);
  const failed = rows.find((a) => a.action === 'redrive-failed');
  return {
    request,
    finished,
    redriven: rows
      .filter((a) => a.action === 'redriven' && a.deadLetterId !== null)
      .map((a) => ({ id: a.deadLetterId as bigint, duplicate: a.reason === ALREADY_APPLIED })),
    skipped: rows
      .filter((a) => a.action === 'skipped' && a.deadLetterId !== null)
      .map((a) => a.deadLetterId as bigint),
    failed:
      failed && failed.deadLetterId !== null
        ? { id: failed.deadLetterId, error: failed.reason ?? '' }
        : undefined,
    refused: rows.find((a) => a.action === 'request-refused')?.reason ?? undefined,
    unparked: rows.some((a) => a.action === 'unparked'),
  };
}

/**
 * Waits until the consumer has applied a request (its stream unparked, or the request cleared after a
 * failure or refusal), polling; then its outcome. After `timeoutMs` the outcome so far, `finished: false`.
 */
export async function waitForRequest(
  client: SqlClient,
  schema: string,
  request: RedriveRequest,
  options: { readonly timeoutMs?: number; readonly pollMs?: number; readonly signal?: AbortSignal } = {},
): Promise<RedriveOutcome> {
  const s = assertSqlIdentifier(schema, 'schema name');
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const parked = await parkedStream(client, s, request.groupId, request.streamId);
    const current = parked?.request_action_id == null ? undefined : toBigInt(parked.request_action_id);
    if (current !== request.requestId) return requestOutcome(client, s, request, true);
    if (Date.now() >= deadline) return requestOutcome(client, s, request, false);
    await sleep(options.pollMs ?? 200, options.signal);
  }
}

/** Parked streams with a pending request, for one group, oldest request first. */
export async function pendingRequests(on: SqlExecutor, schema: string, groupId: string): Promise<string[]> {
  const s = assertSqlIdentifier(schema, 'schema name');
  const r = await on.query<{ stream_id: string }>(
    `SELECT stream_id FROM ${s}.parked_streams
      WHERE consumer_group = $1 AND requested_action IS NOT NULL ORDER BY requested_at, stream_id`,
    [groupId],
  );
  return r.rows.map((x) => x.stream_id);
}

/** What the consumer hands the redrive: its own handler, contracts and retry policy. */
export interface RedriveExecutor {
  readonly client: SqlClient;
  readonly scope: ConsumerScope;
  readonly contracts: ContractRegistry;
  readonly handle: MessageHandler;
  /** Attempts per message before the redrive stops at it (the consumer's maxAttempts). */
  readonly maxAttempts: number;
  readonly backoff: BackoffPolicy;
  readonly signal?: AbortSignal;
}

const ALREADY_APPLIED = 'already applied (inbox): not applied again';

class InvalidOnRedrive extends Error {}

function messageOf(letter: DeadLetter): IncomingMessage {
  return {
    topic: letter.topic,
    partition: letter.partition,
    offset: letter.offset,
    key: letter.streamId,
    value: letter.value,
    headers: letter.headers,
    timestamp: letter.producedAt ?? letter.parkedAt,
  };
}

type Step =
  | { readonly kind: 'continue' }
  | { readonly kind: 'done' }
  | { readonly kind: 'failing'; readonly id: bigint };

/**
 * Applies the pending request of one parked stream (run by the consumer of its group): skip the head if
 * asked, then redrive message by message until the stream is empty (unparked) or one fails again.
 */
export async function executeRequest(x: RedriveExecutor, streamId: string): Promise<void> {
  const s = x.scope.schema;
  const group = x.scope.groupId;
  const first = await parkedStream(x.client, s, group, streamId);
  if (!first?.requested_action || first.request_action_id == null) return;
  const requestId = toBigInt(first.request_action_id);

  for (;;) {
    let attempt = 0;
    let step: Step | undefined;
    let lastError = '';
    while (!step) {
      attempt++;
      let failingId: bigint | undefined;
      try {
        step = await x.client.transaction(async (tx) => {
          const parked = await parkedStream(tx, s, group, streamId, ' FOR UPDATE');
          // Unparked meanwhile, or the request was finished or replaced (by another instance).
          if (!parked?.requested_action || parked.request_action_id == null) return { kind: 'done' } as const;
          if (toBigInt(parked.request_action_id) !== requestId) return { kind: 'done' } as const;
          const by = parked.requested_by ?? group;
          const [head] = await openRows(tx, s, group, streamId);
          if (!head) {
            await unpark(tx, x.scope, streamId, requestId, by);
            return { kind: 'done' } as const;
          }
          if (parked.requested_action === 'skip') {
            const wanted = parked.requested_id == null ? undefined : toBigInt(parked.requested_id);
            if (wanted !== head.id) {
              await clearRequest(tx, x.scope, streamId);
              await logAction(tx, x.scope, {
                deadLetterId: wanted ?? null,
                streamId,
                action: 'request-refused',
                actor: group,
                reason: `dead letter ${wanted} is no longer the head of its stream (the head is ${head.id})`,
                requestId,
              });
              return { kind: 'done' } as const;
            }
            await resolve(tx, x.scope, head, 'skipped', by);
            // Recorded in the inbox as handled without effect: a redelivery of the event stays skipped.
            if (head.eventId) {
              await tx.query(
                `INSERT INTO ${s}.inbox (consumer_group, event_id, stream_id, topic, partition, "offset", processed_at, applied)
                 VALUES ($1, $2, $3, $4, $5, $6::bigint, $7::timestamptz, false)
                 ON CONFLICT ON CONSTRAINT inbox_pkey DO NOTHING`,
                [group, head.eventId, head.streamId, head.topic, head.partition, head.offset, x.scope.now()],
              );
            }
            await logAction(tx, x.scope, {
              deadLetterId: head.id,
              streamId,
              action: 'skipped',
              actor: by,
              reason: parked.request_reason,
              requestId,
            });
            await tx.query(
              `UPDATE ${s}.parked_streams SET requested_action = 'redrive' WHERE consumer_group = $1 AND stream_id = $2`,
              [group, streamId],
            );
            return (await promoteNext(tx, x.scope, streamId, requestId, by))
              ? { kind: 'continue' }
              : { kind: 'done' };
          }
          failingId = head.id;
          const decoded = decodeMessage(x.contracts, head.value);
          if (!decoded.ok) throw new InvalidOnRedrive(decoded.error);
          const outcome = await applyOnce(tx, x.scope, messageOf(head), decoded.envelope, x.handle);
          await resolve(tx, x.scope, head, 'redriven', by);
          await logAction(tx, x.scope, {
            deadLetterId: head.id,
            streamId,
            action: 'redriven',
            actor: by,
            reason: outcome === 'duplicate' ? ALREADY_APPLIED : 'applied',
            requestId,
          });
          return (await promoteNext(tx, x.scope, streamId, requestId, by))
            ? { kind: 'continue' }
            : { kind: 'done' };
        });
      } catch (error) {
        if (error instanceof StoppedError) throw error;
        lastError = describeError(error);
        const permanent =
          error instanceof InvalidOnRedrive ||
          (error instanceof HandlerFailure && error.failure instanceof PermanentMessageError);
        if (failingId !== undefined && (permanent || attempt >= x.maxAttempts)) {
          step = { kind: 'failing', id: failingId };
        } else if (attempt >= x.maxAttempts) {
          // Not even the message could be read (database trouble): the request stays pending and the
          // consumer tries again at its next poll.
          throw error;
        } else {
          await sleep(backoffDelay(x.backoff, attempt), x.signal);
        }
      }
    }
    if (step.kind === 'continue') continue;
    if (step.kind === 'failing') await recordFailure(x, streamId, requestId, step.id, lastError, attempt);
    return;
  }
}

async function resolve(
  tx: SqlExecutor,
  scope: ConsumerScope,
  letter: DeadLetter,
  status: 'redriven' | 'skipped',
  by: string,
): Promise<void> {
  await tx.query(
    `UPDATE ${scope.schema}.dead_letters SET status = $2, resolved_at = $3::timestamptz, resolved_by = $4
      WHERE id = $1::bigint`,
    [letter.id.toString(), status, scope.now(), by],
  );
}

/** Makes the next parked message the head; when there is none, unparks the stream. True if one is left. */
async function promoteNext(
  tx: SqlExecutor,
  scope: ConsumerScope,
  streamId: string,
  requestId: bigint,
  by: string,
): Promise<boolean> {
  const r = await tx.query(
    `UPDATE ${scope.schema}.dead_letters SET status = 'parked-head'
      WHERE id = (SELECT id FROM ${scope.schema}.dead_letters
                   WHERE consumer_group = $1 AND stream_id = $2 AND status = 'parked' ORDER BY id LIMIT 1)`,
    [scope.groupId, streamId],
  );
  if (r.rowCount > 0) return true;
  await unpark(tx, scope, streamId, requestId, by);
  return false;
}

async function unpark(
  tx: SqlExecutor,
  scope: ConsumerScope,
  streamId: string,
  requestId: bigint,
  by: string,
) {
  await tx.query(`DELETE FROM ${scope.schema}.parked_streams WHERE consumer_group = $1 AND stream_id = $2`, [
    scope.groupId,
    streamId,
  ]);
  await logAction(tx, scope, {
    deadLetterId: null,
    streamId,
    action: 'unparked',
    actor: by,
    reason: 'nothing left parked: new messages flow',
    requestId,
  });
}

async function clearRequest(tx: SqlExecutor, scope: ConsumerScope, streamId: string): Promise<void> {
  await tx.query(
    `UPDATE ${scope.schema}.parked_streams
        SET requested_action = NULL, requested_id = NULL, requested_by = NULL, requested_at = NULL,
            request_reason = NULL, request_action_id = NULL
      WHERE consumer_group = $1 AND stream_id = $2`,
    [scope.groupId, streamId],
  );
}

/** The message failed again: it stays (is) the head, with the new error; the request is over. */
async function recordFailure(
  x: RedriveExecutor,
  streamId: string,
  requestId: bigint,
  id: bigint,
  error: string,
  attempts: number,
): Promise<void> {
  await x.client.transaction(async (tx) => {
    const parked = await parkedStream(tx, x.scope.schema, x.scope.groupId, streamId, ' FOR UPDATE');
    if (parked?.request_action_id == null || toBigInt(parked.request_action_id) !== requestId) return;
    await tx.query(
      `UPDATE ${x.scope.schema}.dead_letters SET error = $2, attempts = attempts + $3
        WHERE id = $1::bigint AND status = 'parked-head'`,
      [id.toString(), error, attempts],
    );
    await clearRequest(tx, x.scope, streamId);
    await logAction(tx, x.scope, {
      deadLetterId: id,
      streamId,
      action: 'redrive-failed',
      actor: x.scope.groupId,
      reason: error,
      requestId,
    });
  });
}
