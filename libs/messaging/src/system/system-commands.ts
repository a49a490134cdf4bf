/**
 * Commands issued by the system: policies ("when X happened, do Y"), process managers and timers.
 *
 * They carry the system actor, named after the rule that acted (history says WHICH rule did it), and a
 * commandId derived deterministically from what triggered them. A trigger is delivered at least once
 * (a Kafka redelivery, a relay resend, a timer fired twice): the second delivery issues the very same
 * command with the very same commandId, and the event store's idempotency (`commands` table, first result
 * kept per commandId) turns it into a no-op that answers the first result (`replayed: true`).
 *
 * Authorization still applies: the system actor is an actor like any other. The authorization rules
 * (a later issue's auth lib) grant a system actor by its rule name, e.g. `transfer.completeness-timer`
 * may issue `FlagIncompleteTransfer` and nothing else. Until that lib lands, a command bus can plug a
 * `SystemCommandAuthorizer` in front of `handleCommand` (see `authorizeSystemCommand`); nothing here
 * bypasses authorization, it only names the actor.
 */
import { createHash } from 'node:crypto';
import { systemActor, type Actor, type AnyCommand, type CommandMetadata } from '@lianfang/eventsourcing';

/** The event (or timer) that made a rule act. */
export interface SystemTrigger {
  /** Id of the triggering event: the idempotency of the issued command hangs on it. */
  readonly eventId: string;
  /** Carried over: a policy's command belongs to the same business transaction as its trigger. */
  readonly correlationId: string;
}

export interface SystemCommandMetadataInput {
  /** The rule that acts, e.g. `transfer.capacity-policy`: the system actor's name. */
  readonly policy: string;
  readonly trigger: SystemTrigger;
  /** Business time of the command (usually the trigger's occurredAt, or the clock's now for timers). */
  readonly now: Date;
  /**
   * When one rule issues several commands for one trigger, a stable name per command (e.g. the target
   * stream), so they get distinct commandIds. Omit for one command per trigger.
   */
  readonly step?: string;
}

/** The system actor of a rule. */
export type SystemActor = Extract<Actor, { kind: 'system' }>;

/**
 * A UUID (version 8, "custom": RFC 9562 §5.8) made from the SHA-256 of the parts: the same parts always
 * give the same id, different parts practically never do. Parts are length-prefixed so that
 * ("a:b", "c") and ("a", "b:c") differ.
 */
export function deterministicUuid(...parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${Buffer.byteLength(part)}:`).update(part);
  const bytes = hash.digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The commandId a rule issues for a trigger: same rule, same trigger (, same step) → same id. */
export function systemCommandId(policy: string, triggerEventId: string, step?: string): string {
  if (!policy) throw new Error('systemCommandId: a policy name is required');
  if (!triggerEventId) throw new Error('systemCommandId: a trigger event id is required');
  return deterministicUuid('lianfang.system-command.v1', policy, triggerEventId, step ?? '');
}

/**
 * Metadata of a command issued by a rule: system actor named after it, deterministic commandId,
 * causationId = the trigger, correlationId carried over.
 */
export function systemCommandMetadata(input: SystemCommandMetadataInput): CommandMetadata {
  return {
    commandId: systemCommandId(input.policy, input.trigger.eventId, input.step),
    now: input.now,
    actor: systemActor(input.policy),
    correlationId: input.trigger.correlationId,
    causationId: input.trigger.eventId,
  };
}

/** The trigger of a stored event (a process manager reacting to its own store's events). */
export function triggerOfRecorded(event: {
  readonly eventId: string;
  readonly metadata: { readonly correlationId: string };
}): SystemTrigger {
  return { eventId: event.eventId, correlationId: event.metadata.correlationId };
}

/** The trigger of an integration event received from another service (its envelope). */
export function triggerOfEnvelope(envelope: {
  readonly eventId: string;
  readonly correlationId: string;
}): SystemTrigger {
  return { eventId: envelope.eventId, correlationId: envelope.correlationId };
}

// ─── authorization hook point ───────────────────────────────────────────────────────────────

/**
 * Decides whether a system actor may issue a command. The auth lib (a later issue) provides the real
 * one, driven by the same rules as for users: the system actor is authorised by its rule name.
 */
export type SystemCommandAuthorizer = (actor: SystemActor, command: AnyCommand) => boolean | Promise<boolean>;

export class SystemCommandNotAuthorizedError extends Error {
  override readonly name = 'SystemCommandNotAuthorizedError';
  constructor(
    readonly actorName: string,
    readonly commandType: string,
  ) {
    super(`System actor "${actorName}" may not issue ${commandType} / 系统规则“${actorName}”无权发出该命令`);
  }
}

/**
 * Throws unless `authorize` lets the command's system actor issue it. Call before `handleCommand`.
 * A command whose actor is not a system actor is refused too: this gate is for rules only.
 */
export async function authorizeSystemCommand(
  authorize: SystemCommandAuthorizer,
  command: AnyCommand & { readonly metadata: CommandMetadata },
): Promise<void> {
  const actor = command.metadata.actor;
  if (actor.kind !== 'system')
    throw new SystemCommandNotAuthorizedError(`user:${actor.userId}`, command.type);
  if (!(await authorize(actor, command))) throw new SystemCommandNotAuthorizedError(actor.name, command.type);
}

/** The simplest authorizer: rule name → the command types it may issue. */
export function allowSystemRules(
  grants: Readonly<Record<string, readonly string[]>>,
): SystemCommandAuthorizer {
  return (actor, command) => grants[actor.name]?.includes(command.type) ?? false;
}
