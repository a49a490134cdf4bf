/**
 * The write side's one loop (architecture.md, "Write side"):
 *
 *   load (snapshot + tail) → fold with evolve → decide → append with the expected version(s)
 *
 * - Expected version: the exact version that was folded, or 'no-stream' for a new stream. Another
 *   writer in between → `WrongExpectedVersionError` → the WHOLE load–decide–append runs again, at
 *   most `maxRetries` more times, after a short backoff with jitter from `crypto`. After that the
 *   error goes to the caller.
 * - A `DomainError` thrown by decide goes straight to the caller: a rule that says no says no again.
 * - Idempotency: every append carries `commandId` and `commandHash` (hash of type + data). The store
 *   keeps the first result per commandId; the same command again stores nothing and returns the
 *   first result with `replayed: true`. The same commandId with another payload is an
 *   `IdempotencyConflictError`. A repeat that now decides differently (refused, or nothing to do,
 *   because the first run already changed the state) is answered with the first result too (see
 *   `probeReplay`).
 * - Event metadata: occurredAt = command.metadata.now; actor, correlationId, causationId and
 *   commandId from the command's metadata; the store stamps the rest.
 *
 * - Snapshots (opt-in: a decider with a `snapshot` policy, and a `snapshots` store): load the
 *   snapshot of the policy's version, read the stream after it, fold the tail. After the append, a
 *   new snapshot once `every` events have passed since the last, outside the append's transaction
 *   (a cache: any snapshot trouble falls back to the full fold and never fails the command).
 *
 * `handleCommand` is one stream, one decider. `handleCommandAcross` is a decision over several
 * streams (an approval and the capacity it reserves), appended atomically with each stream's
 * expected version; each stream brings its own decider (for evolve, initialState, snapshots) and
 * one `decide` composes the aggregates' own deciders over all the states.
 */
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { v7 as uuidv7 } from 'uuid';
import {
  DomainError,
  type Command,
  type Decider,
  type DomainEvent,
  type EventMetadata,
  type SnapshotPolicy,
} from '../decider/decider';
import type { Snapshot, SnapshotStore } from '../snapshots/snapshot-store';
import { IdempotencyConflictError, WrongExpectedVersionError } from '../store/errors';
import type {
  AppendContext,
  AppendResult,
  EventStore,
  ExpectedVersion,
  OutboxMessage,
} from '../store/event-store';
import {
  LOG_START,
  compareLogPositions,
  type LogPosition,
  type NewEvent,
  type RecordedEvent,
} from '../store/events';
import { commandHash } from './command-hash';

/** The version of a stream without events in results: there is no event at any position. */
export const NO_STREAM_VERSION = -1n;

/** What a stream needs to be loaded and folded: a decider fits; `decide` is not needed here. */
export interface StreamModel<E extends DomainEvent, S> {
  evolve(state: S, event: E): S;
  initialState(): S;
  readonly snapshot?: SnapshotPolicy<S>;
}

/** A decided event on its way to the store, with the metadata it will carry (ids assigned here). */
export type PendingEvent<E extends DomainEvent> = E & {
  readonly metadata: EventMetadata & {
    readonly eventId: string;
    readonly streamId: string;
    /** The position it will take in its stream. */
    readonly streamPosition: bigint;
    readonly occurredAt: Date;
  };
};

/** How decided events become stored events; default: type, data, schemaVersion, eventId. */
export type ToEvents<E extends DomainEvent, S> = (events: readonly PendingEvent<E>[], state: S) => NewEvent[];

/** How stored events become the decider's events; default: type, data and all metadata. */
export type FromRecorded<E extends DomainEvent> = (event: RecordedEvent) => E;

export interface RetryOptions {
  /** Extra attempts after a version conflict (default 5): at most 1 + maxRetries attempts. */
  readonly maxRetries?: number;
  /** First backoff in ms (default 5), doubled per retry, capped at `maxDelayMs` (default 200), jittered. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Called before each retry (metrics, logs). */
  readonly onRetry?: (info: {
    readonly attempt: number;
    readonly delayMs: number;
    readonly error: Error;
  }) => void;
}

export interface SnapshotOptions {
  /** Where snapshots live; without it, snapshot policies are ignored. */
  readonly snapshots?: SnapshotStore;
  /**
   * A snapshot that cannot be loaded, read or saved does not fail the command (a snapshot is a cache:
   * the stream is folded from the start instead). Default: a process warning.
   */
  readonly onSnapshotError?: (error: unknown, streamId: string) => void;
}

// ─── observation (metrics) ─────────────────────────────────────────────────────────────────

/**
 * How a handled command ended:
 * - accepted: events appended; unchanged: nothing to do (no events); replayed: handled before, first
 *   result returned;
 * - rejected: a DomainError (a rule said no) or an IdempotencyConflictError (key reused for another payload);
 * - conflict: still a version conflict after the retries; failed: anything else (store down, a bug).
 */
export type CommandOutcome = 'accepted' | 'unchanged' | 'replayed' | 'rejected' | 'conflict' | 'failed';

export interface CommandObservation {
  /** The command's `type`. */
  readonly command: string;
  readonly outcome: CommandOutcome;
  /** Load–decide–append, retries included. */
  readonly durationSeconds: number;
  /** Version conflicts retried. */
  readonly retries: number;
  /** Events stored now (0 on a replay or a failure). */
  readonly events: number;
  readonly correlationId: string;
  /** What was thrown, for the outcomes that throw. */
  readonly error?: unknown;
}

/** Told about every command handled (metrics, logs). Must be cheap; what it throws is ignored. */
export interface CommandObserver {
  observe(observation: CommandObservation): void;
}

export interface ObserverOptions {
  readonly observer?: CommandObserver;
}

export function commandOutcomeOf(error: unknown): CommandOutcome {
  if (error instanceof DomainError || error instanceof IdempotencyConflictError) return 'rejected';
  if (error instanceof WrongExpectedVersionError) return 'conflict';
  return 'failed';
}

async function observed<T extends { readonly replayed: boolean; readonly events: readonly unknown[] }>(
  observer: CommandObserver | undefined,
  command: Command,
  retry: RetryOptions,
  run: (retry: RetryOptions) => Promise<T>,
): Promise<T> {
  if (!observer) return run(retry);
  const started = process.hrtime.bigint();
  let retries = 0;
  const tell = (outcome: CommandOutcome, events: number, error?: unknown) => {
    try {
      observer.observe({
        command: command.type,
        outcome,
        durationSeconds: Number(process.hrtime.bigint() - started) / 1e9,
        retries,
        events,
        correlationId: command.metadata?.correlationId ?? '',
        ...(error !== undefined ? { error } : {}),
      });
    } catch {
      // an observer must never change what the command does
    }
  };
  const counting: RetryOptions = {
    ...retry,
    onRetry: (info) => {
      retries = info.attempt;
      retry.onRetry?.(info);
    },
  };
  let result: T;
  try {
    result = await run(counting);
  } catch (error) {
    tell(commandOutcomeOf(error), 0, error);
    throw error;
  }
  const outcome = result.replayed ? 'replayed' : result.events.length === 0 ? 'unchanged' : 'accepted';
  tell(outcome, result.replayed ? 0 : result.events.length);
  return result;
}

// ─── single stream ─────────────────────────────────────────────────────────────────────────

export interface HandleCommandOptions<C extends Command, E extends DomainEvent, S>
  extends RetryOptions, SnapshotOptions, ObserverOptions {
  readonly store: EventStore;
  readonly decider: Decider<C, E, S>;
  readonly streamId: string;
  readonly command: C;
  readonly toEvents?: ToEvents<E, S>;
  readonly fromRecorded?: FromRecorded<E>;
  /**
   * Integration events for other services, stored in the same transaction (transactional outbox).
   * Gets the pending events (with their eventIds and positions) and the state after them.
   */
  readonly outbox?: (events: readonly PendingEvent<E>[], state: S) => readonly OutboxMessage[];
}

export interface HandleCommandResult<S> {
  readonly streamId: string;
  /** The events stored by this command (on a replay: those stored the first time). */
  readonly events: readonly RecordedEvent[];
  /** The stream's version after the command: `NO_STREAM_VERSION` (-1n) when it has no events. */
  readonly version: bigint;
  /** Read-your-writes: a client waits until projections pass this position. */
  readonly lastLogPosition: LogPosition;
  /** True when the command had been handled before: nothing was stored now, this is the first result. */
  readonly replayed: boolean;
  /** The state after the command (on a replay: the stream's current state). */
  readonly state: S;
  /** How many version conflicts were retried. */
  readonly retries: number;
}

export async function handleCommand<C extends Command, E extends DomainEvent, S>(
  options: HandleCommandOptions<C, E, S>,
): Promise<HandleCommandResult<S>> {
  const { decider, streamId, toEvents, fromRecorded, outbox, ...rest } = options;
  const binding: StreamBinding<E, S> = {
    streamId,
    decider,
    ...(toEvents ? { toEvents } : {}),
    ...(fromRecorded ? { fromRecorded } : {}),
  };
  const result = await handleCommandAcross({
    ...rest,
    streams: { stream: binding },
    decide: (cmd, states) => ({ stream: decider.decide(cmd, states.stream) }),
    ...(outbox ? { outbox: (events, states) => outbox(events.stream, states.stream) } : {}),
  });
  return {
    streamId,
    events: result.events,
    version: result.streams.stream.version,
    lastLogPosition: result.lastLogPosition,
    replayed: result.replayed,
    state: result.states.stream,
    retries: result.retries,
  };
}

// ─── several streams, one atomic append ────────────────────────────────────────────────────

/** One stream taking part in a decision. */
export interface StreamBinding<E extends DomainEvent = DomainEvent, S = unknown> {
  readonly streamId: string;
  /** evolve + initialState (+ snapshot policy) of the stream's aggregate: its decider. */
  readonly decider: StreamModel<E, S>;
  readonly toEvents?: ToEvents<E, S>;
  readonly fromRecorded?: FromRecorded<E>;
}

// `any` here only to let each binding keep its own event and state types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StreamBindings = Record<string, StreamBinding<any, any>>;

export type StatesOf<B extends StreamBindings> = {
  readonly [K in keyof B]: B[K]['decider'] extends { initialState(): infer S } ? S : never;
};
export type EventsOf<B extends StreamBindings> = {
  readonly [K in keyof B]: B[K]['decider'] extends {
    evolve(state: never, event: infer E extends DomainEvent): unknown;
  }
    ? E
    : never;
};

export interface HandleCommandAcrossOptions<C extends Command, B extends StreamBindings>
  extends RetryOptions, SnapshotOptions, ObserverOptions {
  readonly store: EventStore;
  readonly command: C;
  /** The streams, by a name of your choice: `{ transfer: {...}, facility: {...} }`. */
  readonly streams: B;
  /**
   * The decision over all streams' states: events per stream (omit or [] for none). Compose the
   * aggregates' own deciders here, e.g.
   * `({ transfer, facility }) => ({ transfer: transferDecider.decide(cmd, transfer),
   *                                 facility: ledgerDecider.decide(reserve(cmd), facility) })`.
   * Throw a DomainError to refuse.
   */
  readonly decide: (
    command: C,
    states: StatesOf<B>,
  ) => { readonly [K in keyof B]?: readonly EventsOf<B>[K][] };
  readonly outbox?: (
    events: { readonly [K in keyof B]: readonly PendingEvent<EventsOf<B>[K]>[] },
    states: StatesOf<B>,
  ) => readonly OutboxMessage[];
  /**
   * Streams with no new events are still appended with zero events and their expected version, so
   * the decision fails (and retries) if one of them moved meanwhile (default true). Set false
   * when a stream was read only for information that may be stale.
   */
  readonly guardUnchangedStreams?: boolean;
}

export interface HandleCommandAcrossResult<B extends StreamBindings> {
  readonly events: readonly RecordedEvent[];
  readonly streams: { readonly [K in keyof B]: { readonly streamId: string; readonly version: bigint } };
  readonly lastLogPosition: LogPosition;
  readonly replayed: boolean;
  readonly states: StatesOf<B>;
  readonly retries: number;
}

interface LoadedStream {
  readonly state: unknown;
  /** Version folded; undefined: no stream. */
  readonly version: bigint | undefined;
  /** Events read after the snapshot (all of them without one). */
  readonly tail: readonly RecordedEvent[];
  readonly snapshot: Snapshot | undefined;
}

function defaultFromRecorded(e: RecordedEvent): DomainEvent {
  return {
    type: e.type,
    data: e.data,
    metadata: {
      ...e.metadata,
      schemaVersion: e.schemaVersion,
      eventId: e.eventId,
      streamId: e.streamId,
      streamPosition: e.streamPosition,
    },
  };
}

function defaultToEvents(events: readonly PendingEvent<DomainEvent>[]): NewEvent[] {
  return events.map((e) => ({
    type: e.type,
    data: e.data,
    eventId: e.metadata.eventId,
    ...(e.metadata.schemaVersion !== undefined ? { schemaVersion: e.metadata.schemaVersion } : {}),
  }));
}

async function loadStream(
  store: EventStore,
  binding: StreamBinding,
  options: SnapshotOptions,
): Promise<LoadedStream> {
  const { snapshots } = options;
  const model = binding.decider;
  const fromRecorded = binding.fromRecorded ?? defaultFromRecorded;
  const policy = model.snapshot;
  const reportError = options.onSnapshotError ?? defaultSnapshotError;
  if (policy && snapshots) {
    // A snapshot is a cache: when it cannot be used, fold the whole stream.
    const found = await snapshots.load(binding.streamId).catch((error: unknown) => {
      reportError(error, binding.streamId);
      return undefined;
    });
    // Another snapshot version: taken by code with another state shape or evolve. Ignore it.
    if (found && found.snapshotVersion === policy.version) {
      const read = await store.readStream(binding.streamId, { from: found.streamVersion + 1n });
      // Snapshots are saved after their events commit, and read before the stream: one ahead of its
      // stream was never a state of it. Forget it (else the save guard would keep it forever).
      if (read.version === undefined || read.version < found.streamVersion) {
        await snapshots
          .delete(binding.streamId)
          .catch((error: unknown) => reportError(error, binding.streamId));
      } else {
        let state: unknown;
        try {
          state = policy.deserialize(found.state);
        } catch (error) {
          reportError(error, binding.streamId);
          return loadWhole(store, binding);
        }
        for (const e of read.events) state = model.evolve(state, fromRecorded(e));
        return { state, version: read.version, tail: read.events, snapshot: found };
      }
    }
  }
  return loadWhole(store, binding);
}

async function loadWhole(store: EventStore, binding: StreamBinding): Promise<LoadedStream> {
  const model = binding.decider;
  const fromRecorded = binding.fromRecorded ?? defaultFromRecorded;
  const read = await store.readStream(binding.streamId);
  let state = model.initialState();
  for (const e of read.events) state = model.evolve(state, fromRecorded(e));
  return { state, version: read.version, tail: read.events, snapshot: undefined };
}

function backoffMs(retry: number, options: RetryOptions): number {
  const base = options.baseDelayMs ?? 5;
  const cap = options.maxDelayMs ?? 200;
  const ceiling = Math.min(cap, base * 2 ** (retry - 1));
  // "Equal jitter": half fixed, half random, so retries neither stampede nor starve.
  const half = Math.max(1, Math.floor(ceiling / 2));
  return half + randomInt(0, half + 1);
}

function contextOf(command: Command): AppendContext {
  const m = command.metadata;
  return {
    actor: m.actor,
    occurredAt: m.now,
    correlationId: m.correlationId,
    causationId: m.causationId ?? null,
    commandId: m.commandId,
    commandHash: commandHash(command),
  };
}

export function handleCommandAcross<C extends Command, B extends StreamBindings>(
  options: HandleCommandAcrossOptions<C, B>,
): Promise<HandleCommandAcrossResult<B>> {
  return observed(options.observer, options.command, options, (retry) =>
    runCommandAcross({ ...options, onRetry: retry.onRetry }),
  );
}

async function runCommandAcross<C extends Command, B extends StreamBindings>(
  options: HandleCommandAcrossOptions<C, B>,
): Promise<HandleCommandAcrossResult<B>> {
  const { store, command, streams } = options;
  const maxRetries = options.maxRetries ?? 5;
  const names = Object.keys(streams) as Array<keyof B & string>;
  if (names.length === 0) throw new Error('handleCommandAcross: no streams');
  const ids = new Set(names.map((n) => streams[n].streamId));
  if (ids.size !== names.length) throw new Error('handleCommandAcross: the same stream is bound twice');
  const context = contextOf(command);

  for (let retries = 0; ; retries++) {
    // ── load and fold
    const loaded = {} as Record<keyof B, LoadedStream>;
    await Promise.all(
      names.map(async (n) => {
        loaded[n] = await loadStream(store, streams[n], options);
      }),
    );
    const states = Object.fromEntries(names.map((n) => [n, loaded[n].state])) as StatesOf<B>;

    // ── decide
    let decided: { readonly [K in keyof B]?: readonly DomainEvent[] };
    try {
      decided = options.decide(command, states);
    } catch (error) {
      // A repeat of a command that already went through may now be refused: answer the first result.
      const replay = await probeReplay(store, context, streams, loaded, states, retries);
      if (replay) return replay;
      throw error;
    }
    const total = names.reduce((n, k) => n + (decided[k]?.length ?? 0), 0);
    if (total === 0) {
      const replay = await probeReplay(store, context, streams, loaded, states, retries);
      if (replay) return replay;
      return nothingToDo(store, streams, loaded, states, retries);
    }

    // ── assign ids and positions, evolve, build the append
    const pending = {} as Record<keyof B, PendingEvent<DomainEvent>[]>;
    const after = {} as Record<keyof B, unknown>;
    for (const n of names) {
      const base = loaded[n].version ?? NO_STREAM_VERSION;
      pending[n] = (decided[n] ?? []).map((e, i) => ({
        ...e,
        metadata: {
          ...e.metadata,
          eventId: e.metadata?.eventId ?? uuidv7(),
          streamId: streams[n].streamId,
          streamPosition: base + 1n + BigInt(i),
          occurredAt: context.occurredAt,
          actor: context.actor,
          correlationId: context.correlationId,
          causationId: context.causationId ?? null,
          commandId: context.commandId ?? null,
        },
      }));
      after[n] = pending[n].reduce((s, e) => streams[n].decider.evolve(s, e), loaded[n].state);
    }
    const statesAfter = after as StatesOf<B>;
    const guard = options.guardUnchangedStreams ?? true;
    const appends = names
      .filter((n) => pending[n].length > 0 || guard)
      .map((n) => {
        const binding = streams[n];
        const expectedVersion: ExpectedVersion = loaded[n].version ?? 'no-stream';
        const toEvents = (binding.toEvents ?? defaultToEvents) as ToEvents<DomainEvent, unknown>;
        return { streamId: binding.streamId, expectedVersion, events: toEvents(pending[n], after[n]) };
      });
    const outbox = options.outbox?.(
      pending as unknown as { readonly [K in keyof B]: readonly PendingEvent<EventsOf<B>[K]>[] },
      statesAfter,
    );

    // ── append, atomically
    let appended: AppendResult;
    try {
      appended = await store.append({
        streams: appends,
        ...(outbox && outbox.length > 0 ? { outbox } : {}),
        context,
      });
    } catch (error) {
      if (error instanceof WrongExpectedVersionError && retries < maxRetries) {
        const delayMs = backoffMs(retries + 1, options);
        options.onRetry?.({ attempt: retries + 1, delayMs, error });
        await sleep(delayMs);
        continue;
      }
      throw error;
    }

    if (appended.replayed) {
      // Stored before: nothing was written now; the states are the current ones, as loaded.
      return resultOf(appended, streams, loaded, states, retries);
    }
    await takeSnapshots(options, streams, loaded, after, appended);
    return resultOf(appended, streams, loaded, statesAfter, retries);
  }
}

function versionsOf<B extends StreamBindings>(
  streams: B,
  loaded: Record<keyof B, LoadedStream>,
  appended?: AppendResult,
): HandleCommandAcrossResult<B>['streams'] {
  const out: Record<string, { streamId: string; version: bigint }> = {};
  for (const n of Object.keys(streams)) {
    const streamId = streams[n].streamId;
    const fromAppend = appended?.streams.find((s) => s.streamId === streamId)?.version;
    out[n] = { streamId, version: fromAppend ?? loaded[n].version ?? NO_STREAM_VERSION };
  }
  return out as HandleCommandAcrossResult<B>['streams'];
}

function resultOf<B extends StreamBindings>(
  appended: AppendResult,
  streams: B,
  loaded: Record<keyof B, LoadedStream>,
  states: StatesOf<B>,
  retries: number,
): HandleCommandAcrossResult<B> {
  return {
    events: appended.events,
    streams: versionsOf(streams, loaded, appended),
    lastLogPosition: appended.lastLogPosition,
    replayed: appended.replayed,
    states,
    retries,
  };
}

/**
 * A repeat of a command that went through may now decide differently (refused, or nothing to do,
 * because the first run already changed the state). The store knows the first result; ask it when
 * an earlier run can have stored events here:
 * - the loaded events carry the commandId, or
 * - a snapshot hid the events before it (the fold did not see them all).
 * With the full streams loaded and no event carrying the commandId, no earlier run stored anything.
 *
 * The question is an append of zero events that expects an existing stream NOT to exist: the store
 * answers a known commandId with its first result (`replayed`), or else the expectation fails and
 * nothing is stored (streams are never deleted).
 */
async function probeReplay<B extends StreamBindings>(
  store: EventStore,
  context: AppendContext,
  streams: B,
  loaded: Record<keyof B, LoadedStream>,
  states: StatesOf<B>,
  retries: number,
): Promise<HandleCommandAcrossResult<B> | undefined> {
  const names = Object.keys(streams);
  const seen = names.some((n) => loaded[n].tail.some((e) => e.metadata.commandId === context.commandId));
  const hidden = names.some((n) => loaded[n].snapshot !== undefined);
  if (!seen && !hidden) return undefined;
  const existing = names.filter((n) => loaded[n].version !== undefined);
  if (existing.length === 0) return undefined;
  let appended: AppendResult;
  try {
    appended = await store.append({
      streams: existing.map((n) => ({
        streamId: streams[n].streamId,
        expectedVersion: 'no-stream',
        events: [],
      })),
      context,
    });
  } catch (error) {
    if (error instanceof WrongExpectedVersionError) return undefined; // not handled before
    throw error; // IdempotencyConflictError: the commandId was used for another payload
  }
  if (!appended.replayed) {
    throw new Error(
      `Event store accepted a 'no-stream' check on an existing stream (command ${context.commandId})`,
    );
  }
  return resultOf(appended, streams, loaded, states, retries);
}

async function nothingToDo<B extends StreamBindings>(
  store: EventStore,
  streams: B,
  loaded: Record<keyof B, LoadedStream>,
  states: StatesOf<B>,
  retries: number,
): Promise<HandleCommandAcrossResult<B>> {
  // Read-your-writes still holds for what the decision saw: the latest of the streams' last events.
  let last: LogPosition = LOG_START;
  for (const n of Object.keys(streams)) {
    const l = loaded[n];
    let position = l.tail.at(-1)?.logPosition;
    if (!position && l.version !== undefined) {
      const read = await store.readStream(streams[n].streamId, { direction: 'backwards', maxCount: 1 });
      position = read.events[0]?.logPosition;
    }
    if (position && compareLogPositions(position, last) > 0) last = position;
  }
  return {
    events: [],
    streams: versionsOf(streams, loaded),
    lastLogPosition: last,
    replayed: false,
    states,
    retries,
  };
}

async function takeSnapshots<B extends StreamBindings>(
  options: SnapshotOptions,
  streams: B,
  loaded: Record<keyof B, LoadedStream>,
  after: Record<keyof B, unknown>,
  appended: AppendResult,
): Promise<void> {
  const store = options.snapshots;
  if (!store) return;
  await Promise.all(
    Object.keys(streams).map(async (n) => {
      const { streamId, decider } = streams[n];
      const policy = decider.snapshot as SnapshotPolicy<unknown> | undefined;
      const version = appended.streams.find((s) => s.streamId === streamId)?.version;
      if (!policy || version === undefined) return;
      const since = loaded[n].snapshot?.streamVersion ?? NO_STREAM_VERSION;
      if (version - since < BigInt(policy.every)) return;
      try {
        await store.save({
          streamId,
          snapshotVersion: policy.version,
          streamVersion: version,
          state: policy.serialize(after[n]),
          takenAt: new Date(),
        });
      } catch (error) {
        (options.onSnapshotError ?? defaultSnapshotError)(error, streamId);
      }
    }),
  );
}

function defaultSnapshotError(error: unknown, streamId: string): void {
  process.emitWarning(
    `Snapshot of "${streamId}" not used: ${error instanceof Error ? error.message : String(error)}`,
    'SnapshotWarning',
  );
}
