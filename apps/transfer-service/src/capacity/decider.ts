/**
 * The capacity ledger of one facility, one HW category, one calendar year (资源优化共享): what the
 * licence allows, what approvals hold (reserved), what receipts used (consumed). One stream per
 * (facility, category, year) keeps each ledger short and lets an approval reserve atomically, with
 * the expected version of every ledger it touches, in the same append as the transfer: two bureaus
 * approving at once cannot both take the last tonnes ("never overbooked").
 *
 * Invariant: committed = Σ per reservation (consumed + still reserved) never exceeds capacity, except
 * after an adjustment flagged as a revocation, which records the shortfall explicitly.
 */
import { Quantity, WasteCategory, type Result } from '@lianfang/domain-kernel';
import {
  assertNever,
  DomainError,
  type Command,
  type DomainEvent,
  type SnapshotPolicy,
} from '@lianfang/eventsourcing';
import { required } from '../facility/validation';

export type ReleaseReason = 'expiry' | 'withdrawal' | 'revocation';
export const RELEASE_REASONS: readonly ReleaseReason[] = ['expiry', 'withdrawal', 'revocation'];

export type CapacityCommand =
  | Command<'OpenLedger', { facilityId: string; category: string; year: number; capacityKg: string }>
  /** reservationId is the transfer id: one reservation per approval and year. */
  | Command<'Reserve', { reservationId: string; quantityKg: string }>
  /**
   * receiptId identifies the receipt (the manifest), so a receipt is never counted twice. A receipt in a
   * year where its approval reserved nothing (all planned in the first year, shipped in the second)
   * takes free capacity, recorded as over-consumption.
   */
  | Command<'Consume', { reservationId: string; receiptId: string; quantityKg: string }>
  /** A receipt corrected after the fact (ManifestReceiptCorrected): the ledger records the difference. */
  | Command<'CorrectReceipt', { receiptId: string; quantityKg: string }>
  | Command<'Release', { reservationId: string; reason: ReleaseReason }>
  | Command<'AdjustCapacity', { capacityKg: string; revocation?: boolean; reason?: string }>;

export type CapacityEvent =
  | DomainEvent<
      'CapacityLedgerOpened',
      { facilityId: string; category: string; year: number; capacityKg: string }
    >
  | DomainEvent<'CapacityReserved', { reservationId: string; quantityKg: string }>
  | DomainEvent<
      'CapacityConsumed',
      {
        reservationId: string;
        receiptId: string;
        quantityKg: string;
        /** The part taken from what the reservation still held. */
        fromReservationKg: string;
        /** The part beyond the reservation, taken from free capacity. */
        overConsumedKg: string;
      }
    >
  | DomainEvent<'CapacityReleased', { reservationId: string; reason: ReleaseReason; releasedKg: string }>
  | DomainEvent<
      'CapacityReceiptCorrected',
      {
        reservationId: string;
        receiptId: string;
        fromKg: string;
        toKg: string;
        /** On an increase: the part taken from what the reservation still held. */
        fromReservationKg: string;
        /** On an increase: the part beyond the reservation, taken from free capacity. */
        overConsumedKg: string;
      }
    >
  | DomainEvent<
      'CapacityAdjusted',
      {
        fromKg: string;
        toKg: string;
        revocation: boolean;
        /** Only on a revocation below what is committed: how far the ledger is overcommitted. */
        shortfallKg?: string;
        reason?: string;
      }
    >;

export interface ReservationState {
  /** As reserved by the approval. */
  readonly reserved: Quantity;
  /** Everything its receipts consumed, over-consumption included. */
  readonly consumed: Quantity;
  readonly overConsumed: Quantity;
  /** Released (expiry, withdrawal, revocation): it holds nothing any more; later receipts use free capacity. */
  readonly released: ReleaseReason | null;
}

export type CapacityLedgerState =
  | { readonly status: 'unopened' }
  | {
      readonly status: 'open';
      readonly facilityId: string;
      readonly category: string;
      readonly year: number;
      readonly capacity: Quantity;
      readonly reservations: Readonly<Record<string, ReservationState>>;
      /** receiptId → what it consumed, and from which reservation. */
      readonly receipts: Readonly<
        Record<string, { readonly reservationId: string; readonly quantity: Quantity }>
      >;
    };

type OpenLedger = Extract<CapacityLedgerState, { status: 'open' }>;

const MIN_YEAR = 2000;
const MAX_YEAR = 9999;

function checkYear(year: unknown, field = 'year'): number {
  if (typeof year !== 'number' || !Number.isInteger(year) || year < MIN_YEAR || year > MAX_YEAR)
    throw refuse(
      'year',
      field,
      `the year is a whole number from ${MIN_YEAR} to ${MAX_YEAR}`,
      `年份须为 ${MIN_YEAR} 至 ${MAX_YEAR} 之间的整数`,
      {
        value: year,
      },
    );
  return year;
}

/** `capacity-<facility>-<HWnn>-<year>`: the category is normalised so 'hw08' and 'HW08' are one stream. */
export function capacityStream(facilityId: string, category: string, year: number): string {
  const code = WasteCategory.parseOrThrow(category, 'category').code;
  return `capacity-${facilityId}-${code}-${checkYear(year)}`;
}

function refuse(
  code: string,
  field: string | undefined,
  en: string,
  zh: string,
  details?: object,
): DomainError {
  return new DomainError({
    code: `capacity.${code}`,
    message: { en, zh },
    ...(field ? { field } : {}),
    ...(details ? { details: { ...details } } : {}),
  });
}

const kernel = <T>(result: Result<T>): T => required('capacity', result);

function positiveKg(input: string, field: string): Quantity {
  const quantity = kernel(Quantity.parse(input, field));
  if (quantity.isZero())
    throw refuse('quantity-not-positive', field, 'the quantity must be more than zero', '数量须大于零', {
      value: input,
    });
  return quantity;
}

function requireId(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw refuse('id-required', field, `${field} is required`, `${field} 不能为空`);
  return value;
}

const ZERO = Quantity.ZERO;
const minus = (a: Quantity, b: Quantity): Quantity =>
  a.isGreaterThan(b) ? Quantity.fromGrams(a.grams - b.grams) : ZERO;

/** What a reservation still holds: nothing once released, else what its receipts have not used. */
export function outstanding(reservation: ReservationState): Quantity {
  return reservation.released ? ZERO : minus(reservation.reserved, reservation.consumed);
}

export interface LedgerTotals {
  readonly capacity: Quantity;
  /** Reserved and not (yet) consumed. */
  readonly reserved: Quantity;
  readonly consumed: Quantity;
  /** reserved + consumed */
  readonly committed: Quantity;
  /** capacity − committed, never below zero (a revoked licence can leave the ledger overcommitted). */
  readonly available: Quantity;
}

export function ledgerTotals(state: CapacityLedgerState): LedgerTotals {
  if (state.status !== 'open')
    return { capacity: ZERO, reserved: ZERO, consumed: ZERO, committed: ZERO, available: ZERO };
  const all = Object.values(state.reservations);
  const reserved = Quantity.sum(all.map(outstanding));
  const consumed = Quantity.sum(all.map((r) => r.consumed));
  const committed = reserved.add(consumed);
  return {
    capacity: state.capacity,
    reserved,
    consumed,
    committed,
    available: minus(state.capacity, committed),
  };
}

/** Free capacity, exact: what a new reservation could take now. */
export function available(state: CapacityLedgerState): Quantity {
  return ledgerTotals(state).available;
}

function openLedger(state: CapacityLedgerState): OpenLedger {
  if (state.status !== 'open')
    throw refuse('ledger-not-open', undefined, 'the capacity ledger is not open', '处置能力台账尚未开立');
  return state;
}

function reservationOf(state: OpenLedger, reservationId: string): ReservationState {
  const reservation = state.reservations[reservationId];
  if (!Object.prototype.hasOwnProperty.call(state.reservations, reservationId) || reservation === undefined)
    throw refuse(
      'unknown-reservation',
      'reservationId',
      `there is no reservation ${reservationId} in this ledger`,
      `本台账中没有预留 ${reservationId}`,
      { reservationId },
    );
  return reservation;
}

function insufficient(free: Quantity, requested: Quantity, state: OpenLedger): DomainError {
  return refuse(
    'insufficient',
    'quantityKg',
    `not enough licensed capacity left for ${state.category} in ${state.year}: ${free.toKgString()} kg available, ${requested.toKgString()} kg requested`,
    `${state.year} 年 ${state.category} 剩余经营规模不足：可用 ${free.toKgString()} 千克，申请 ${requested.toKgString()} 千克`,
    { available: free.toKgString(), requested: requested.toKgString() },
  );
}

function decide(command: CapacityCommand, state: CapacityLedgerState): CapacityEvent[] {
  switch (command.type) {
    case 'OpenLedger': {
      const facilityId = requireId(command.data.facilityId, 'facilityId');
      const category = kernel(WasteCategory.parse(command.data.category, 'category')).code;
      const year = checkYear(command.data.year);
      const capacity = positiveKg(command.data.capacityKg, 'capacityKg');
      if (state.status === 'open') {
        // Opening again with the same figures is a retry; different figures need AdjustCapacity.
        if (
          state.facilityId === facilityId &&
          state.category === category &&
          state.year === year &&
          state.capacity.equals(capacity)
        )
          return [];
        throw refuse(
          'ledger-already-open',
          'capacityKg',
          'this capacity ledger is already open; change its capacity with an adjustment',
          '该处置能力台账已开立；如需变更经营规模，请做调整',
          { capacityKg: state.capacity.toKgString() },
        );
      }
      return [
        {
          type: 'CapacityLedgerOpened',
          data: { facilityId, category, year, capacityKg: capacity.toKgString() },
        },
      ];
    }
    case 'Reserve': {
      const ledger = openLedger(state);
      const reservationId = requireId(command.data.reservationId, 'reservationId');
      const quantity = positiveKg(command.data.quantityKg, 'quantityKg');
      const existing = ledger.reservations[reservationId];
      if (
        existing !== undefined &&
        Object.prototype.hasOwnProperty.call(ledger.reservations, reservationId)
      ) {
        if (existing.released)
          throw refuse(
            'reservation-released',
            'reservationId',
            `reservation ${reservationId} was released (${existing.released}); an approval reserves once`,
            `预留 ${reservationId} 已释放；一次批准只预留一次`,
            { reservationId, reason: existing.released },
          );
        // A retried approval: the same transfer, the same quantity, already held.
        if (existing.reserved.equals(quantity)) return [];
        throw refuse(
          'reservation-conflict',
          'quantityKg',
          `reservation ${reservationId} already holds ${existing.reserved.toKgString()} kg, not ${quantity.toKgString()} kg`,
          `预留 ${reservationId} 已预留 ${existing.reserved.toKgString()} 千克，而非 ${quantity.toKgString()} 千克`,
          { reservationId, reservedKg: existing.reserved.toKgString(), requestedKg: quantity.toKgString() },
        );
      }
      const free = available(ledger);
      if (quantity.isGreaterThan(free)) throw insufficient(free, quantity, ledger);
      return [{ type: 'CapacityReserved', data: { reservationId, quantityKg: quantity.toKgString() } }];
    }
    case 'Consume': {
      const ledger = openLedger(state);
      const reservationId = requireId(command.data.reservationId, 'reservationId');
      const receiptId = requireId(command.data.receiptId, 'receiptId');
      const quantity = positiveKg(command.data.quantityKg, 'quantityKg');
      // No reservation in this year's ledger: the receipt takes free capacity only.
      const reservation = Object.prototype.hasOwnProperty.call(ledger.reservations, reservationId)
        ? reservationOf(ledger, reservationId)
        : undefined;
      const seen = Object.prototype.hasOwnProperty.call(ledger.receipts, receiptId)
        ? ledger.receipts[receiptId]
        : undefined;
      if (seen !== undefined) {
        if (seen.reservationId === reservationId && seen.quantity.equals(quantity)) return [];
        // A changed weight is a receipt correction, a separate fact, never a second consumption.
        throw refuse(
          'receipt-conflict',
          'receiptId',
          `receipt ${receiptId} already consumed ${seen.quantity.toKgString()} kg under ${seen.reservationId}`,
          `接收记录 ${receiptId} 已在 ${seen.reservationId} 下核减 ${seen.quantity.toKgString()} 千克`,
          { receiptId, reservationId: seen.reservationId, consumedKg: seen.quantity.toKgString() },
        );
      }
      const held = reservation ? outstanding(reservation) : ZERO;
      const fromReservation = quantity.min(held);
      const over = minus(quantity, fromReservation);
      const free = available(ledger);
      // Beyond its reservation a receipt may only use capacity nobody else holds.
      if (over.isGreaterThan(free)) throw insufficient(held.add(free), quantity, ledger);
      return [
        {
          type: 'CapacityConsumed',
          data: {
            reservationId,
            receiptId,
            quantityKg: quantity.toKgString(),
            fromReservationKg: fromReservation.toKgString(),
            overConsumedKg: over.toKgString(),
          },
        },
      ];
    }
    case 'CorrectReceipt': {
      const ledger = openLedger(state);
      const receiptId = requireId(command.data.receiptId, 'receiptId');
      // Zero is a correction too: on second look nothing was accepted.
      const quantity = kernel(Quantity.parse(command.data.quantityKg, 'quantityKg'));
      const seen = Object.prototype.hasOwnProperty.call(ledger.receipts, receiptId)
        ? ledger.receipts[receiptId]
        : undefined;
      if (seen === undefined)
        throw refuse(
          'unknown-receipt',
          'receiptId',
          `receipt ${receiptId} consumed nothing in this ledger: there is nothing to correct`,
          `接收记录 ${receiptId} 未在本台账核减，无可更正`,
          { receiptId },
        );
      if (seen.quantity.equals(quantity)) return [];
      const reservation = reservationOf(ledger, seen.reservationId);
      let fromReservation = ZERO;
      let over = ZERO;
      if (quantity.isGreaterThan(seen.quantity)) {
        const more = minus(quantity, seen.quantity);
        const held = outstanding(reservation);
        fromReservation = more.min(held);
        over = minus(more, fromReservation);
        const free = available(ledger);
        if (over.isGreaterThan(free)) throw insufficient(held.add(free), more, ledger);
      }
      return [
        {
          type: 'CapacityReceiptCorrected',
          data: {
            reservationId: seen.reservationId,
            receiptId,
            fromKg: seen.quantity.toKgString(),
            toKg: quantity.toKgString(),
            fromReservationKg: fromReservation.toKgString(),
            overConsumedKg: over.toKgString(),
          },
        },
      ];
    }
    case 'Release': {
      const ledger = openLedger(state);
      const { reason } = command.data;
      if (!RELEASE_REASONS.includes(reason))
        throw refuse(
          'release-reason',
          'reason',
          'a release is for expiry, withdrawal or revocation',
          '释放理由须为到期、撤回或吊销',
          { value: reason },
        );
      const reservationId = requireId(command.data.reservationId, 'reservationId');
      const reservation = reservationOf(ledger, reservationId);
      if (reservation.released) return [];
      return [
        {
          type: 'CapacityReleased',
          data: { reservationId, reason, releasedKg: outstanding(reservation).toKgString() },
        },
      ];
    }
    case 'AdjustCapacity': {
      const ledger = openLedger(state);
      const capacity = kernel(Quantity.parse(command.data.capacityKg, 'capacityKg'));
      const revocation = command.data.revocation === true;
      if (capacity.equals(ledger.capacity)) return [];
      const { committed } = ledgerTotals(ledger);
      if (committed.isGreaterThan(capacity) && !revocation)
        throw refuse(
          'below-committed',
          'capacityKg',
          `the capacity cannot go below what is already reserved or consumed (${committed.toKgString()} kg)`,
          `经营规模不能低于已预留和已核减的数量（${committed.toKgString()} 千克）`,
          { committed: committed.toKgString(), requested: capacity.toKgString() },
        );
      const shortfall = minus(committed, capacity);
      const reason = command.data.reason?.trim();
      return [
        {
          type: 'CapacityAdjusted',
          data: {
            fromKg: ledger.capacity.toKgString(),
            toKg: capacity.toKgString(),
            revocation,
            ...(shortfall.isZero() ? {} : { shortfallKg: shortfall.toKgString() }),
            ...(reason ? { reason } : {}),
          },
        },
      ];
    }
    default:
      return assertNever(command);
  }
}

function evolve(state: CapacityLedgerState, event: CapacityEvent): CapacityLedgerState {
  if (event.type === 'CapacityLedgerOpened') {
    const { facilityId, category, year, capacityKg } = event.data;
    return {
      status: 'open',
      facilityId,
      category,
      year,
      capacity: Quantity.ofKg(capacityKg),
      reservations: {},
      receipts: {},
    };
  }
  if (state.status !== 'open') return state;
  switch (event.type) {
    case 'CapacityReserved':
      return {
        ...state,
        reservations: {
          ...state.reservations,
          [event.data.reservationId]: {
            reserved: Quantity.ofKg(event.data.quantityKg),
            consumed: ZERO,
            overConsumed: ZERO,
            released: null,
          },
        },
      };
    case 'CapacityConsumed': {
      const { reservationId, receiptId } = event.data;
      // A receipt without a reservation in this ledger opens an entry that reserved nothing.
      const before = Object.prototype.hasOwnProperty.call(state.reservations, reservationId)
        ? state.reservations[reservationId]
        : { reserved: ZERO, consumed: ZERO, overConsumed: ZERO, released: null };
      const quantity = Quantity.ofKg(event.data.quantityKg);
      return {
        ...state,
        reservations: {
          ...state.reservations,
          [reservationId]: {
            ...before,
            consumed: before.consumed.add(quantity),
            overConsumed: before.overConsumed.add(Quantity.ofKg(event.data.overConsumedKg)),
          },
        },
        receipts: { ...state.receipts, [receiptId]: { reservationId, quantity } },
      };
    }
    case 'CapacityReceiptCorrected': {
      const { reservationId, receiptId } = event.data;
      const before = state.reservations[reservationId];
      if (before === undefined) return state;
      const from = Quantity.ofKg(event.data.fromKg);
      const to = Quantity.ofKg(event.data.toKg);
      // Less accepted gives back the over-consumed part first: it was the last taken from free capacity.
      const overConsumed = to.isGreaterThan(from)
        ? before.overConsumed.add(Quantity.ofKg(event.data.overConsumedKg))
        : minus(before.overConsumed, minus(from, to));
      return {
        ...state,
        reservations: {
          ...state.reservations,
          [reservationId]: {
            ...before,
            consumed: minus(before.consumed.add(to), from),
            overConsumed,
          },
        },
        receipts: { ...state.receipts, [receiptId]: { reservationId, quantity: to } },
      };
    }
    case 'CapacityReleased': {
      const before = state.reservations[event.data.reservationId];
      if (before === undefined) return state;
      return {
        ...state,
        reservations: {
          ...state.reservations,
          [event.data.reservationId]: { ...before, released: event.data.reason },
        },
      };
    }
    case 'CapacityAdjusted':
      return { ...state, capacity: Quantity.ofKg(event.data.toKg) };
    default:
      return assertNever(event);
  }
}

interface ReservationJson {
  reserved: string;
  consumed: string;
  overConsumed: string;
  released: ReleaseReason | null;
}
type LedgerJson =
  | { status: 'unopened' }
  | {
      status: 'open';
      facilityId: string;
      category: string;
      year: number;
      capacity: string;
      reservations: Record<string, ReservationJson>;
      receipts: Record<string, { reservationId: string; quantity: string }>;
    };

const mapValues = <A, B>(record: Readonly<Record<string, A>>, f: (a: A) => B): Record<string, B> =>
  Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v)]));

/** A busy facility's ledger collects a receipt per manifest: snapshots keep loading it cheap. */
export const capacitySnapshotPolicy: SnapshotPolicy<CapacityLedgerState> = {
  version: 1,
  every: 200,
  // Quantity.toJSON writes the kilogram string, which Quantity.ofKg reads back exactly.
  serialize: (state) => JSON.parse(JSON.stringify(state)) as unknown,
  deserialize(json) {
    const s = json as LedgerJson;
    if (s.status !== 'open') return { status: 'unopened' };
    return {
      ...s,
      capacity: Quantity.ofKg(s.capacity),
      reservations: mapValues(s.reservations, (r) => ({
        reserved: Quantity.ofKg(r.reserved),
        consumed: Quantity.ofKg(r.consumed),
        overConsumed: Quantity.ofKg(r.overConsumed),
        released: r.released,
      })),
      receipts: mapValues(s.receipts, (r) => ({
        reservationId: r.reservationId,
        quantity: Quantity.ofKg(r.quantity),
      })),
    };
  },
};

export const capacityDecider = {
  initialState: (): CapacityLedgerState => ({ status: 'unopened' }),
  decide,
  evolve,
  snapshot: capacitySnapshotPolicy,
};
