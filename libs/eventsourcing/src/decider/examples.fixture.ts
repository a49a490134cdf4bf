/**
 * Toy deciders that prove the toolkit in this library's specs. Not exported from the library:
 * real aggregates live in the services. A facility's capacity ledger (long stream, snapshots) and
 * a transfer that is approved together with a capacity reservation (multi-stream decision).
 */
import {
  assertNever,
  DomainError,
  type Command,
  type CommandMetadata,
  type Decider,
  type DomainEvent,
  type SnapshotPolicy,
} from './decider';

// ── Facility capacity ledger ────────────────────────────────────────────────────────────────

export type LedgerCommand =
  | Command<'OpenLedger', { facilityId: string; capacityKg: number }>
  | Command<'ReserveCapacity', { reservationId: string; quantityKg: number }>
  | Command<'ReleaseCapacity', { reservationId: string }>;

export type LedgerEvent =
  | DomainEvent<'LedgerOpened', { facilityId: string; capacityKg: number; openedAt: string }>
  | DomainEvent<'CapacityReserved', { reservationId: string; quantityKg: number }>
  | DomainEvent<'CapacityReleased', { reservationId: string; quantityKg: number }>;

export type LedgerState =
  | { readonly status: 'none' }
  | {
      readonly status: 'open';
      readonly facilityId: string;
      readonly capacityKg: number;
      readonly reservedKg: number;
      /** reservationId → kg */
      readonly reservations: ReadonlyMap<string, number>;
      /** How many events were folded: lets specs compare a snapshot load with a full fold. */
      readonly eventsFolded: number;
    };

const notOpen = (): DomainError =>
  new DomainError({
    code: 'capacity.ledger-not-open',
    message: { en: 'The facility has no capacity ledger', zh: '该设施尚未建立处置能力台账' },
  });

export function decideLedger(command: LedgerCommand, state: LedgerState): LedgerEvent[] {
  switch (command.type) {
    case 'OpenLedger': {
      if (state.status !== 'none') {
        throw new DomainError({
          code: 'capacity.ledger-already-open',
          message: { en: 'The ledger is already open', zh: '处置能力台账已建立' },
        });
      }
      if (!(command.data.capacityKg > 0)) {
        throw new DomainError({
          code: 'capacity.invalid-capacity',
          field: 'capacityKg',
          message: { en: 'Capacity must be positive', zh: '处置能力必须为正数' },
          details: { capacityKg: command.data.capacityKg },
        });
      }
      return [
        {
          type: 'LedgerOpened',
          data: { ...command.data, openedAt: command.metadata.now.toISOString() },
        },
      ];
    }
    case 'ReserveCapacity': {
      if (state.status !== 'open') throw notOpen();
      const { reservationId, quantityKg } = command.data;
      const existing = state.reservations.get(reservationId);
      if (existing === quantityKg) return []; // already done: nothing to do
      if (existing !== undefined) {
        throw new DomainError({
          code: 'capacity.reservation-exists',
          field: 'reservationId',
          message: { en: 'This reservation exists with another quantity', zh: '该预留已存在且数量不同' },
        });
      }
      const availableKg = state.capacityKg - state.reservedKg;
      if (quantityKg > availableKg) {
        throw new DomainError({
          code: 'capacity.insufficient',
          field: 'quantityKg',
          message: { en: 'Not enough capacity left', zh: '剩余处置能力不足' },
          details: { availableKg, requestedKg: quantityKg },
        });
      }
      return [{ type: 'CapacityReserved', data: { reservationId, quantityKg } }];
    }
    case 'ReleaseCapacity': {
      if (state.status !== 'open') throw notOpen();
      const quantityKg = state.reservations.get(command.data.reservationId);
      if (quantityKg === undefined) {
        throw new DomainError({
          code: 'capacity.unknown-reservation',
          field: 'reservationId',
          message: { en: 'No such reservation', zh: '无此预留' },
        });
      }
      return [{ type: 'CapacityReleased', data: { reservationId: command.data.reservationId, quantityKg } }];
    }
    default:
      return assertNever(command);
  }
}

export function evolveLedger(state: LedgerState, event: LedgerEvent): LedgerState {
  switch (event.type) {
    case 'LedgerOpened':
      return {
        status: 'open',
        facilityId: event.data.facilityId,
        capacityKg: event.data.capacityKg,
        reservedKg: 0,
        reservations: new Map(),
        eventsFolded: 1,
      };
    case 'CapacityReserved': {
      if (state.status !== 'open') return state;
      const reservations = new Map(state.reservations);
      reservations.set(event.data.reservationId, event.data.quantityKg);
      return {
        ...state,
        reservedKg: state.reservedKg + event.data.quantityKg,
        reservations,
        eventsFolded: state.eventsFolded + 1,
      };
    }
    case 'CapacityReleased': {
      if (state.status !== 'open') return state;
      const reservations = new Map(state.reservations);
      reservations.delete(event.data.reservationId);
      return {
        ...state,
        reservedKg: state.reservedKg - event.data.quantityKg,
        reservations,
        eventsFolded: state.eventsFolded + 1,
      };
    }
    default:
      return assertNever(event);
  }
}

interface LedgerSnapshotV1 {
  status: 'none' | 'open';
  facilityId?: string;
  capacityKg?: number;
  reservedKg?: number;
  reservations?: Array<[string, number]>;
  eventsFolded?: number;
}

export function ledgerSnapshotPolicy(version = 1, every = 10): SnapshotPolicy<LedgerState> {
  return {
    version,
    every,
    serialize(state): LedgerSnapshotV1 {
      if (state.status === 'none') return { status: 'none' };
      return { ...state, reservations: [...state.reservations] };
    },
    deserialize(json): LedgerState {
      const s = json as LedgerSnapshotV1;
      if (s.status === 'none') return { status: 'none' };
      return {
        status: 'open',
        facilityId: s.facilityId ?? '',
        capacityKg: s.capacityKg ?? 0,
        reservedKg: s.reservedKg ?? 0,
        reservations: new Map(s.reservations ?? []),
        eventsFolded: s.eventsFolded ?? 0,
      };
    },
  };
}

export const ledgerDecider: Decider<LedgerCommand, LedgerEvent, LedgerState> = {
  decide: decideLedger,
  evolve: evolveLedger,
  initialState: () => ({ status: 'none' }),
};

/** The same ledger with snapshots every `every` events. */
export function snapshottingLedgerDecider(
  version = 1,
  every = 10,
): Decider<LedgerCommand, LedgerEvent, LedgerState> {
  return { ...ledgerDecider, snapshot: ledgerSnapshotPolicy(version, every) };
}

// ── Transfer (approval reserves capacity at the receiving facility) ─────────────────────────

export type TransferCommand =
  | Command<'SubmitTransfer', { transferId: string; facilityId: string; quantityKg: number }>
  | Command<'ApproveTransfer', { transferId: string }>;

export type TransferEvent =
  | DomainEvent<'TransferSubmitted', { transferId: string; facilityId: string; quantityKg: number }>
  | DomainEvent<'TransferApproved', { transferId: string; approvedAt: string }>;

export type TransferState =
  | { readonly status: 'none' }
  | {
      readonly status: 'pending' | 'approved';
      readonly transferId: string;
      readonly facilityId: string;
      readonly quantityKg: number;
    };

export const transferDecider: Decider<TransferCommand, TransferEvent, TransferState> = {
  initialState: () => ({ status: 'none' }),
  decide(command, state) {
    switch (command.type) {
      case 'SubmitTransfer':
        if (state.status !== 'none') {
          throw new DomainError({
            code: 'transfer.already-submitted',
            message: { en: 'The transfer was already submitted', zh: '该转移申请已提交' },
          });
        }
        return [{ type: 'TransferSubmitted', data: command.data }];
      case 'ApproveTransfer':
        if (state.status !== 'pending') {
          throw new DomainError({
            code: 'transfer.not-pending',
            message: { en: 'Only a pending transfer can be approved', zh: '只有待审批的转移申请可以批准' },
            details: { status: state.status },
          });
        }
        return [
          {
            type: 'TransferApproved',
            data: { transferId: command.data.transferId, approvedAt: command.metadata.now.toISOString() },
          },
        ];
      default:
        return assertNever(command);
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'TransferSubmitted':
        return { status: 'pending', ...event.data };
      case 'TransferApproved':
        return state.status === 'none' ? state : { ...state, status: 'approved' };
      default:
        return assertNever(event);
    }
  },
};

// ── Command builders for specs ──────────────────────────────────────────────────────────────

let sequence = 0;

/** Fresh command metadata: a new commandId each call unless given. */
export function meta(overrides: Partial<CommandMetadata> = {}): CommandMetadata {
  sequence += 1;
  return {
    commandId: `cmd-${process.pid}-${sequence}`,
    now: new Date('2025-03-01T08:00:00Z'),
    actor: { kind: 'user', userId: 'u-1', agencyId: 'sh-eeb', jurisdiction: '310000' },
    correlationId: `corr-${sequence}`,
    ...overrides,
  };
}

export const openLedger = (facilityId: string, capacityKg: number, m = meta()): LedgerCommand => ({
  type: 'OpenLedger',
  data: { facilityId, capacityKg },
  metadata: m,
});

export const reserveCapacity = (reservationId: string, quantityKg: number, m = meta()): LedgerCommand => ({
  type: 'ReserveCapacity',
  data: { reservationId, quantityKg },
  metadata: m,
});
