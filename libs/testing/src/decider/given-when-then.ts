/**
 * Readable decider specs: "given these events, when this command, then these events (or this error)".
 *
 *   given(transferDecider, submitted).when(approve).then(approved);
 *   given(transferDecider).when(approve).thenThrows('transfer.not-pending');
 *   given(ledger, opened, reserved).when(reserveAgain).thenNothing();
 *
 * Pure and synchronous: it folds the given events with `evolve`, calls `decide`, and checks with
 * plain jest `expect`. The produced events are also folded, so an `evolve` that cannot take them
 * fails the spec too.
 */
import { DomainError, fold, type AnyCommand, type Decider, type DomainEvent } from '@lianfang/eventsourcing';

/** What a refusal must look like. Every field given must match; `code` may be a RegExp. */
export interface DomainErrorMatcher {
  readonly code?: string | RegExp;
  readonly field?: string;
  readonly message?: { readonly zh?: string | RegExp; readonly en?: string | RegExp };
  /** Matched with `toMatchObject`: name only the details you care about. */
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface Then<E extends DomainEvent, S> {
  /** decide produced exactly these events, in this order (deep equality, as `toEqual`). */
  then(...expected: E[]): void;
  /** decide refused with a DomainError: its code, or a matcher. */
  thenThrows(expected: string | RegExp | DomainErrorMatcher): void;
  /** decide accepted the command and had nothing to record. */
  thenNothing(): void;
  /** The state after the given events and the produced ones: equal to `expected`, or checked by it. */
  thenState(expected: S | ((state: S) => void)): void;
}

export interface When<C extends AnyCommand, E extends DomainEvent, S> {
  when(command: C): Then<E, S>;
}

type Outcome<E> =
  { readonly ok: true; readonly events: E[] } | { readonly ok: false; readonly error: unknown };

function describeOutcome<E extends DomainEvent>(outcome: Outcome<E>): string {
  if (outcome.ok) {
    return outcome.events.length === 0
      ? 'no events'
      : `events [${outcome.events.map((e) => e.type).join(', ')}]`;
  }
  const e = outcome.error;
  if (e instanceof DomainError) return `DomainError "${e.code}" (${e.message})`;
  return `an exception: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
}

function fail(message: string, cause?: unknown): never {
  throw new Error(message, cause === undefined ? undefined : { cause });
}

function matchText(actual: string | undefined, expected: string | RegExp): void {
  if (typeof expected === 'string') expect(actual).toBe(expected);
  else expect(actual).toMatch(expected);
}

export function given<C extends AnyCommand, E extends DomainEvent, S>(
  decider: Decider<C, E, S>,
  ...history: E[]
): When<C, E, S> {
  return {
    when(command: C): Then<E, S> {
      const before = fold(decider, history);
      let outcome: Outcome<E>;
      try {
        outcome = { ok: true, events: decider.decide(command, before) };
      } catch (error) {
        outcome = { ok: false, error };
      }
      const produced = (expectation: string): E[] => {
        if (!outcome.ok) {
          fail(
            `given ${history.length} event(s), when ${command.type}: expected ${expectation}, got ${describeOutcome(outcome)}`,
            outcome.error,
          );
        }
        return outcome.events;
      };
      return {
        then(...expected: E[]): void {
          const events = produced(`events [${expected.map((e) => e.type).join(', ')}]`);
          expect(events).toEqual(expected);
          fold(decider, events, before);
        },
        thenNothing(): void {
          expect(produced('no events')).toEqual([]);
        },
        thenThrows(expected: string | RegExp | DomainErrorMatcher): void {
          if (outcome.ok) {
            fail(
              `given ${history.length} event(s), when ${command.type}: expected a DomainError, got ${describeOutcome(outcome)}`,
            );
          }
          const error = outcome.error;
          if (!(error instanceof DomainError)) {
            fail(`when ${command.type}: expected a DomainError, got ${describeOutcome(outcome)}`, error);
          }
          const matcher: DomainErrorMatcher =
            typeof expected === 'string' || expected instanceof RegExp ? { code: expected } : expected;
          if (matcher.code !== undefined) matchText(error.code, matcher.code);
          if (matcher.field !== undefined) expect(error.field).toBe(matcher.field);
          if (matcher.message?.en !== undefined) matchText(error.messages.en, matcher.message.en);
          if (matcher.message?.zh !== undefined) matchText(error.messages.zh, matcher.message.zh);
          if (matcher.details !== undefined) expect(error.details).toMatchObject(matcher.details);
        },
        thenState(expected: S | ((state: S) => void)): void {
          const after = fold(decider, produced('events'), before);
          if (typeof expected === 'function') (expected as (state: S) => void)(after);
          else expect(after).toEqual(expected);
        },
      };
    },
  };
}
