/**
 * The decider: an aggregate as three pure functions (architecture.md, "Write side").
 *
 *   decide(command, state) → events      (or throws a DomainError: a business rule said no)
 *   evolve(state, event)   → state
 *   initialState()         → state
 *
 * Pure means: no I/O, no clock, no randomness. Everything that varies comes in with the command:
 * business time is `command.metadata.now`, new ids are in `command.data`. The command handler
 * (`handleCommand`) does the loading, folding, appending and retrying around it.
 *
 * Errors: `decide` THROWS a `DomainError` (we chose exceptions over a Result type, consistently).
 * A throw is the one way a decider says no; `handleCommand` lets it through to the caller untouched
 * and never retries it. Anything else thrown from a decider is a bug.
 */
import type { Actor } from '../store/actor';

/** Who, when and why, on every command. */
export interface CommandMetadata {
  /** Idempotency key (GraphQL `idempotencyKey`): the same commandId twice stores its events once. */
  readonly commandId: string;
  /** Business time. Time comes in with the command, never from the clock inside a decider. */
  readonly now: Date;
  readonly actor: Actor;
  readonly correlationId: string;
  /** The event or command that caused this command (policies, process managers, timers). */
  readonly causationId?: string;
}

/** A command: one member of a discriminated union on `type`. */
export interface Command<Type extends string = string, Data = unknown, Metadata = CommandMetadata> {
  readonly type: Type;
  readonly data: Data;
  readonly metadata: Metadata;
}

/**
 * Metadata of an event as a decider sees it. `decide` may set `schemaVersion` (else the store's
 * registered version); everything else is stamped by the store and is present on events loaded
 * from a stream (so `evolve` can read it), absent on events fresh from `decide`.
 */
export interface EventMetadata {
  readonly schemaVersion?: number;
  readonly eventId?: string;
  readonly streamId?: string;
  readonly streamPosition?: bigint;
  readonly occurredAt?: Date;
  readonly recordedAt?: Date;
  readonly actor?: Actor;
  readonly correlationId?: string;
  readonly causationId?: string | null;
  readonly commandId?: string | null;
}

/** A domain event: one member of a discriminated union on `type`, as produced by `decide`. */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
  readonly metadata?: EventMetadata;
}

/**
 * Opt-in snapshots for long streams (e.g. a facility's capacity ledger). Snapshots are a cache:
 * bump `version` whenever the state's shape or `evolve` changes, and older snapshots are ignored.
 * Keep personal data out of `serialize` (or keep it encrypted): a snapshot in clear would survive
 * the erasure of the subject's key. `SnapshotStore.delete` forgets a stream's snapshot.
 */
export interface SnapshotPolicy<S> {
  /** Schema version of the serialized state. A stored snapshot with another version is ignored. */
  readonly version: number;
  /** Take a new snapshot once at least this many events have passed since the last one. */
  readonly every: number;
  /** State → JSON-safe value (no bigint, no Date, no Map: convert them). */
  serialize(state: S): unknown;
  deserialize(json: unknown): S;
}

/** Any command, whatever its metadata (the command handler needs `CommandMetadata`; specs need not). */
export type AnyCommand = Command<string, unknown, unknown>;

export interface Decider<C extends AnyCommand = Command, E extends DomainEvent = DomainEvent, S = unknown> {
  decide(command: C, state: S): E[];
  evolve(state: S, event: E): S;
  initialState(): S;
  /** Opt in to snapshots (see `SnapshotPolicy`). */
  readonly snapshot?: SnapshotPolicy<S>;
}

/** The command, event and state types of a decider. */
export type CommandOf<D> = D extends { decide(command: infer C, state: never): unknown } ? C : never;
export type EventOf<D> = D extends { evolve(state: never, event: infer E): unknown } ? E : never;
export type StateOf<D> = D extends { initialState(): infer S } ? S : never;

/** Folds events into a state, from `initialState()` unless a starting state is given. */
export function fold<E, S>(
  decider: Pick<Decider<AnyCommand, DomainEvent, S>, 'initialState'> & { evolve(state: S, event: E): S },
  events: Iterable<E>,
  state: S = decider.initialState(),
): S {
  let s = state;
  for (const e of events) s = decider.evolve(s, e);
  return s;
}

/** A message in both working languages. */
export interface BilingualMessage {
  readonly zh: string;
  readonly en: string;
}

export interface DomainErrorInit {
  /** Stable, dotted, kebab-case: `<aggregate>.<rule>`, e.g. `transfer.not-pending`. Clients switch on it. */
  readonly code: string;
  readonly message: BilingualMessage;
  /** The input field at fault, when there is one (e.g. `quantity`), for forms. */
  readonly field?: string;
  /** JSON-safe facts that explain the refusal (e.g. `{ available: '12.5', requested: '20' }`). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * A business rule refused the command. Thrown by `decide`, passed through to the caller unchanged
 * (GraphQL maps it to an error with `extensions.code`). Never retried.
 *
 * `Error.message` has to be a string, so the bilingual pair lives in `messages` and `message` is
 * `"<en> / <zh>"` for logs.
 */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  readonly code: string;
  readonly messages: BilingualMessage;
  readonly field?: string;
  readonly details?: Readonly<Record<string, unknown>>;

  constructor(init: DomainErrorInit) {
    super(`${init.message.en} / ${init.message.zh}`);
    this.code = init.code;
    this.messages = init.message;
    if (init.field !== undefined) this.field = init.field;
    if (init.details !== undefined) this.details = init.details;
  }

  /** True when `error` is a DomainError (with this code, if given). */
  static is(error: unknown, code?: string): error is DomainError {
    return error instanceof DomainError && (code === undefined || error.code === code);
  }

  toJSON(): {
    code: string;
    message: BilingualMessage;
    field?: string;
    details?: Readonly<Record<string, unknown>>;
  } {
    return {
      code: this.code,
      message: this.messages,
      ...(this.field !== undefined ? { field: this.field } : {}),
      ...(this.details !== undefined ? { details: this.details } : {}),
    };
  }
}

/** Shorthand for `throw new DomainError(...)` inside expressions. */
export function reject(init: DomainErrorInit): never {
  throw new DomainError(init);
}

/**
 * Exhaustive switches: `default: return assertNever(command)` stops compiling when a union member
 * is not handled. At run time (a value from outside the types) it throws.
 */
export function assertNever(x: never): never {
  const type =
    typeof x === 'object' && x !== null && 'type' in x ? String((x as { type: unknown }).type) : String(x);
  throw new Error(`Unhandled case: ${type}`);
}
