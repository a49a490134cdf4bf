import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DomainError } from '../decider/decider';
import { ledgerDecider, meta, openLedger, reserveCapacity } from '../decider/examples.fixture';
import { createPgliteEventStore } from '../pglite/pglite-event-store';
import type { SqlEventStore } from '../postgres/postgres-event-store';
import { WrongExpectedVersionError } from '../store/errors';
import type { EventStore } from '../store/event-store';
import {
  commandOutcomeOf,
  handleCommand,
  type CommandObservation,
  type CommandObserver,
} from './command-handling';
import { Aggregates, COMMAND_OBSERVER, EventSourcingModule } from './event-sourcing.module';

let store: SqlEventStore;
let n = 0;
const facility = () => `observed-${++n}`;

beforeAll(async () => {
  store = await createPgliteEventStore({ schema: 'observed' });
});
afterAll(() => store.close());

function recorder(): CommandObserver & { seen: CommandObservation[] } {
  const seen: CommandObservation[] = [];
  return { seen, observe: (o) => void seen.push(o) };
}

describe('command observer', () => {
  it('reports each outcome once, with the command type, events, correlation id and a duration', async () => {
    const observer = recorder();
    const streamId = facility();
    const m = meta({ correlationId: 'corr-observed' });
    await handleCommand({
      store,
      decider: ledgerDecider,
      streamId,
      command: openLedger('f', 10, m),
      observer,
    });
    // The same command again: replayed.
    await handleCommand({
      store,
      decider: ledgerDecider,
      streamId,
      command: openLedger('f', 10, m),
      observer,
    });
    await handleCommand({
      store,
      decider: ledgerDecider,
      streamId,
      command: reserveCapacity('r', 4),
      observer,
    });
    // Already reserved with that quantity: nothing to do.
    await handleCommand({
      store,
      decider: ledgerDecider,
      streamId,
      command: reserveCapacity('r', 4),
      observer,
    });
    const refused = handleCommand({
      store,
      decider: ledgerDecider,
      streamId,
      command: reserveCapacity('r-2', 999),
      observer,
    });
    await expect(refused).rejects.toBeInstanceOf(DomainError);

    expect(observer.seen.map((o) => [o.command, o.outcome, o.events])).toEqual([
      ['OpenLedger', 'accepted', 1],
      ['OpenLedger', 'replayed', 0],
      ['ReserveCapacity', 'accepted', 1],
      ['ReserveCapacity', 'unchanged', 0],
      ['ReserveCapacity', 'rejected', 0],
    ]);
    expect(observer.seen[0].correlationId).toBe('corr-observed');
    expect(observer.seen[4].error).toBeInstanceOf(DomainError);
    for (const o of observer.seen) {
      expect(o.durationSeconds).toBeGreaterThanOrEqual(0);
      expect(o.retries).toBe(0);
    }
  });

  it('counts retries and reports a conflict that outlasts them', async () => {
    const observer = recorder();
    const streamId = facility();
    await handleCommand({ store, decider: ledgerDecider, streamId, command: openLedger('f', 100) });
    const onRetry = jest.fn();
    // Every append conflicts: two retries, then the conflict goes to the caller.
    const conflicting: EventStore = {
      readStream: store.readStream.bind(store),
      readAll: store.readAll.bind(store),
      tailAll: store.tailAll.bind(store),
      close: async () => undefined,
      append: async () => {
        throw new WrongExpectedVersionError(streamId, 0n, 1n);
      },
    };
    await expect(
      handleCommand({
        store: conflicting,
        decider: ledgerDecider,
        streamId,
        command: reserveCapacity('r', 1),
        observer,
        maxRetries: 2,
        baseDelayMs: 1,
        onRetry,
      }),
    ).rejects.toBeInstanceOf(WrongExpectedVersionError);
    expect(onRetry).toHaveBeenCalledTimes(2); // the caller's own onRetry still runs
    expect(observer.seen).toHaveLength(1);
    expect(observer.seen[0]).toMatchObject({ command: 'ReserveCapacity', outcome: 'conflict', retries: 2 });
  });

  it('never lets a throwing observer change the result', async () => {
    const result = await handleCommand({
      store,
      decider: ledgerDecider,
      streamId: facility(),
      command: openLedger('f', 5),
      observer: {
        observe: () => {
          throw new Error('metrics broke');
        },
      },
    });
    expect(result.events).toHaveLength(1);
  });

  it('classifies errors', () => {
    expect(commandOutcomeOf(new WrongExpectedVersionError('s', 0n, 1n))).toBe('conflict');
    expect(commandOutcomeOf(new Error('store down'))).toBe('failed');
  });

  it('Aggregates reports to the COMMAND_OBSERVER provider', async () => {
    const observer = recorder();
    @Module({ providers: [{ provide: COMMAND_OBSERVER, useValue: observer }], exports: [COMMAND_OBSERVER] })
    class ObserverModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        EventSourcingModule.forRoot({
          store: () => store,
          closeOnShutdown: false,
          imports: [ObserverModule],
        }),
      ],
    }).compile();
    const aggregates = moduleRef.get(Aggregates);
    await aggregates.handle({ decider: ledgerDecider, streamId: facility(), command: openLedger('f', 7) });
    expect(observer.seen.map((o) => o.outcome)).toEqual(['accepted']);
    await moduleRef.close();
  });
});
