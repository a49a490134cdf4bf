import { Injectable } from '@nestjs/common';
import { CommandBus, CommandHandler, CqrsModule, type ICommandHandler } from '@nestjs/cqrs';
import { Test, type TestingModule } from '@nestjs/testing';
import { DomainError, type Command } from '../decider/decider';
import {
  ledgerDecider,
  meta,
  snapshottingLedgerDecider,
  transferDecider,
  type LedgerCommand,
  type LedgerEvent,
  type LedgerState,
  type TransferCommand,
  type TransferEvent,
  type TransferState,
} from '../decider/examples.fixture';
import { createPgliteEventStore } from '../pglite/pglite-event-store';
import type { SqlEventStore } from '../postgres/postgres-event-store';
import { createSqlSnapshotStore, type SnapshotStore } from '../snapshots/snapshot-store';
import type { EventStore } from '../store/event-store';
import { compareLogPositions } from '../store/events';
import {
  Aggregates,
  DeciderCommand,
  DeciderCommandHandler,
  EVENT_STORE,
  EventSourcingModule,
  SNAPSHOT_STORE,
} from './event-sourcing.module';

// ── What a service writes ───────────────────────────────────────────────────────────────────

type SubmitTransferCommand = Extract<TransferCommand, { type: 'SubmitTransfer' }>;
type ApproveTransferCommand = Extract<TransferCommand, { type: 'ApproveTransfer' }>;

class SubmitTransfer extends DeciderCommand<SubmitTransferCommand, TransferState> {}
class ApproveTransfer extends DeciderCommand<ApproveTransferCommand, TransferState> {}
class ReserveCapacity extends DeciderCommand<
  Extract<LedgerCommand, { type: 'ReserveCapacity' }>,
  LedgerState
> {
  constructor(
    readonly facilityId: string,
    command: Extract<LedgerCommand, { type: 'ReserveCapacity' }>,
  ) {
    super(command);
  }
}
class OpenLedger extends DeciderCommand<Extract<LedgerCommand, { type: 'OpenLedger' }>, LedgerState> {}

const transferStream = (id: string) => `transfer-${id}`;

// 1. The helper, explicitly.
@CommandHandler(SubmitTransfer)
class SubmitTransferHandler implements ICommandHandler<SubmitTransfer> {
  constructor(private readonly aggregates: Aggregates) {}
  execute({ command }: SubmitTransfer) {
    return this.aggregates.handle({
      decider: transferDecider,
      streamId: transferStream(command.data.transferId),
      command,
    });
  }
}

// 2. The base class: name the decider and the stream.
@CommandHandler(ApproveTransfer)
class ApproveTransferHandler extends DeciderCommandHandler<
  ApproveTransfer,
  TransferCommand,
  TransferEvent,
  TransferState
> {
  protected readonly decider = transferDecider;
  protected streamId(command: ApproveTransferCommand) {
    return transferStream(command.data.transferId);
  }
}

// 3. Snapshots come from the module (the decider opts in).
const facilityDecider = snapshottingLedgerDecider(1, 3);
@CommandHandler(OpenLedger)
class OpenLedgerHandler extends DeciderCommandHandler<OpenLedger, LedgerCommand, LedgerEvent, LedgerState> {
  protected readonly decider = facilityDecider;
  protected streamId(command: Command<'OpenLedger', { facilityId: string }>) {
    return `facility-${command.data.facilityId}`;
  }
}
@CommandHandler(ReserveCapacity)
@Injectable()
class ReserveCapacityHandler implements ICommandHandler<ReserveCapacity> {
  constructor(private readonly aggregates: Aggregates) {}
  execute({ facilityId, command }: ReserveCapacity) {
    return this.aggregates.handle({ decider: facilityDecider, streamId: `facility-${facilityId}`, command });
  }
}

// ── The spec ────────────────────────────────────────────────────────────────────────────────

describe('EventSourcingModule on @nestjs/cqrs (PGlite)', () => {
  let moduleRef: TestingModule;
  let bus: CommandBus;
  let store: SqlEventStore;
  const onRetry = jest.fn();

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [
        CqrsModule.forRoot(),
        EventSourcingModule.forRoot({
          store: () => createPgliteEventStore({ schema: 'transfer' }),
          snapshots: (s: EventStore) => {
            const sql = s as SqlEventStore;
            return createSqlSnapshotStore({ sql: sql.client, schema: sql.schema });
          },
          retry: { maxRetries: 3, onRetry },
        }),
      ],
      providers: [SubmitTransferHandler, ApproveTransferHandler, OpenLedgerHandler, ReserveCapacityHandler],
    }).compile();
    await moduleRef.init();
    bus = moduleRef.get(CommandBus);
    store = moduleRef.get<SqlEventStore>(EVENT_STORE);
  });

  afterAll(() => moduleRef?.close());

  it('provides the EVENT_STORE, SNAPSHOT_STORE and Aggregates', () => {
    expect(store.schema).toBe('transfer');
    expect(moduleRef.get<SnapshotStore>(SNAPSHOT_STORE)).toBeDefined();
    expect(moduleRef.get(Aggregates).store).toBe(store);
  });

  it('executes commands through the CommandBus: new version and log position, read-your-writes', async () => {
    const submit: SubmitTransferCommand = {
      type: 'SubmitTransfer',
      data: { transferId: 't-1', facilityId: 'f-1', quantityKg: 12 },
      metadata: meta(),
    };
    const submitted = await bus.execute(new SubmitTransfer(submit));
    expect(submitted).toMatchObject({ version: 0n, replayed: false, state: { status: 'pending' } });

    const approved = await bus.execute(
      new ApproveTransfer({ type: 'ApproveTransfer', data: { transferId: 't-1' }, metadata: meta() }),
    );
    expect(approved.version).toBe(1n);
    expect(approved.state.status).toBe('approved');
    expect(compareLogPositions(approved.lastLogPosition, submitted.lastLogPosition)).toBeGreaterThan(0);

    // read-your-writes: the log holds the approval at the returned position, the stream at the version
    const read = await store.readStream(transferStream('t-1'));
    expect(read.version).toBe(approved.version);
    const all = await store.readAll();
    expect(all.events.find((e) => e.type === 'TransferApproved')?.logPosition).toEqual(
      approved.lastLogPosition,
    );
  });

  it('returns the domain error to the caller of the bus', async () => {
    const attempt = bus.execute(
      new ApproveTransfer({ type: 'ApproveTransfer', data: { transferId: 'nope' }, metadata: meta() }),
    );
    await expect(attempt).rejects.toBeInstanceOf(DomainError);
    await expect(attempt).rejects.toMatchObject({ code: 'transfer.not-pending' });
  });

  it('is idempotent through the bus', async () => {
    const submit = new SubmitTransfer({
      type: 'SubmitTransfer',
      data: { transferId: 't-2', facilityId: 'f-1', quantityKg: 1 },
      metadata: meta(),
    });
    const first = await bus.execute(submit);
    const second = await bus.execute(submit);
    expect(second).toMatchObject({
      replayed: true,
      version: first.version,
      lastLogPosition: first.lastLogPosition,
    });
  });

  it('uses the snapshot store for deciders that opt in', async () => {
    await bus.execute(
      new OpenLedger({ type: 'OpenLedger', data: { facilityId: 'f-9', capacityKg: 100 }, metadata: meta() }),
    );
    for (let i = 0; i < 4; i++) {
      await bus.execute(
        new ReserveCapacity('f-9', {
          type: 'ReserveCapacity',
          data: { reservationId: `r-${i}`, quantityKg: 1 },
          metadata: meta(),
        }),
      );
    }
    const snapshot = await moduleRef.get<SnapshotStore>(SNAPSHOT_STORE).load('facility-f-9');
    // every 3 events: the first snapshot at version 2 (3 events), the next due at version 5
    expect(snapshot).toMatchObject({ snapshotVersion: 1, streamVersion: 2n });
  });

  it('keeps the plain decider usable without snapshots', () => {
    expect(ledgerDecider.snapshot).toBeUndefined();
    expect(onRetry).not.toHaveBeenCalled();
  });
});
