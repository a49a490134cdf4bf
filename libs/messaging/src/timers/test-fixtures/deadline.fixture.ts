/**
 * A transfer with a receipt deadline, for the timer tests and their child process.
 *
 * Submitting appends `TransferSubmitted` and schedules the deadline timer in ONE transaction
 * (`store.appendIn` + `scheduleTimer`). Firing issues `FlagOverdue` with the timer's deterministic
 * commandId. The decider is deliberately NOT idempotent: every `FlagOverdue` appends one more
 * `TransferFlaggedOverdue`, so only the commandId can keep a double firing to one event.
 */
import {
  handleCommand,
  systemActor,
  type Command,
  type Decider,
  type DomainEvent,
  type SqlEventStore,
} from '@lianfang/eventsourcing';
import { scheduleTimer, timerCommandMetadata, type Timer } from '../timers';

export const DEADLINE = 'transfer.receipt-deadline';

type FlagOverdue = Command<'FlagOverdue', { readonly transferId: string }>;
type Flagged = DomainEvent<'TransferFlaggedOverdue', { readonly transferId: string; readonly n: number }>;

export const overdueDecider: Decider<FlagOverdue, Flagged | DomainEvent, number> = {
  initialState: () => 0,
  evolve: (n, e) => (e.type === 'TransferFlaggedOverdue' ? n + 1 : n),
  decide: (cmd, n) => [
    { type: 'TransferFlaggedOverdue', data: { transferId: cmd.data.transferId, n: n + 1 } },
  ],
};

export const streamOf = (transferId: string) => `transfer-${transferId}`;
export const timerKeyOf = (transferId: string, version = 0n) =>
  `${streamOf(transferId)}:${DEADLINE}:${version.toString()}`;

export interface DeadlinePayload {
  readonly transferId: string;
}

/** Appends `TransferSubmitted` and schedules its deadline in one transaction; `fail` aborts it after both. */
export async function submitWithDeadline(
  store: SqlEventStore,
  timersSchema: string,
  input: { readonly transferId: string; readonly now: Date; readonly dueAt: Date; readonly fail?: boolean },
): Promise<{ readonly timerId: string; readonly eventId: string }> {
  return store.client.transaction(async (tx) => {
    const appended = await store.appendIn(tx, {
      streams: [
        {
          streamId: streamOf(input.transferId),
          expectedVersion: 'no-stream',
          events: [{ type: 'TransferSubmitted', data: { transferId: input.transferId } }],
        },
      ],
      context: {
        actor: { kind: 'user', userId: 'u1', agencyId: 'a1', jurisdiction: '310000' },
        occurredAt: input.now,
        correlationId: `corr-${input.transferId}`,
      },
    });
    const event = appended.events[0];
    const { id } = await scheduleTimer(tx, timersSchema, {
      key: timerKeyOf(input.transferId, event.streamPosition),
      name: DEADLINE,
      dueAt: input.dueAt,
      payload: { transferId: input.transferId } satisfies DeadlinePayload,
      correlationId: event.metadata.correlationId,
      causationId: event.eventId,
    });
    if (input.fail) throw new Error('the command failed after appending: roll back');
    return { timerId: id, eventId: event.eventId };
  });
}

/** The fire handler: one idempotent system command per timer. */
export function fireOverdue(store: SqlEventStore, onFire?: (timer: Timer) => void) {
  return async (timer: Timer): Promise<void> => {
    onFire?.(timer);
    const { transferId } = timer.payload as DeadlinePayload;
    await handleCommand({
      store,
      decider: overdueDecider,
      streamId: streamOf(transferId),
      command: { type: 'FlagOverdue', data: { transferId }, metadata: timerCommandMetadata(timer) },
    });
  };
}

/** How many overdue flags the stream holds (1 after any number of firings of one timer). */
export async function flagsOf(store: SqlEventStore, transferId: string): Promise<number> {
  const { events } = await store.readStream(streamOf(transferId));
  return events.filter((e) => e.type === 'TransferFlaggedOverdue').length;
}

export const deadlineActor = systemActor(DEADLINE);
