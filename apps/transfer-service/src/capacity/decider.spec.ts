import { Quantity } from '@lianfang/domain-kernel';
import { DomainError, fold, systemActor } from '@lianfang/eventsourcing';
import { given } from '@lianfang/testing';
import fc from 'fast-check';
import {
  available,
  capacityDecider,
  capacitySnapshotPolicy,
  capacityStream,
  ledgerTotals,
  type CapacityCommand,
  type CapacityEvent,
  type CapacityLedgerState,
  type ReleaseReason,
} from './decider';

const metadata = {
  commandId: 'cmd-1',
  now: new Date('2026-04-01T02:00:00Z'),
  actor: systemActor('capacity'),
  correlationId: 'corr-1',
};

const open = (capacityKg = '1000.000'): CapacityCommand => ({
  type: 'OpenLedger',
  data: { facilityId: 'cq-1', category: 'hw08', year: 2026, capacityKg },
  metadata,
});
const openWith = (data: Extract<CapacityCommand, { type: 'OpenLedger' }>['data']): CapacityCommand => ({
  type: 'OpenLedger',
  data,
  metadata,
});
const reserve = (reservationId: string, quantityKg: string): CapacityCommand => ({
  type: 'Reserve',
  data: { reservationId, quantityKg },
  metadata,
});
const consume = (reservationId: string, receiptId: string, quantityKg: string): CapacityCommand => ({
  type: 'Consume',
  data: { reservationId, receiptId, quantityKg },
  metadata,
});
const release = (reservationId: string, reason: ReleaseReason = 'expiry'): CapacityCommand => ({
  type: 'Release',
  data: { reservationId, reason },
  metadata,
});
const adjust = (capacityKg: string, revocation?: boolean): CapacityCommand => ({
  type: 'AdjustCapacity',
  data: { capacityKg, ...(revocation !== undefined ? { revocation } : {}) },
  metadata,
});

const opened: CapacityEvent = {
  type: 'CapacityLedgerOpened',
  data: { facilityId: 'cq-1', category: 'HW08', year: 2026, capacityKg: '1000.000' },
};
const reserved = (reservationId: string, quantityKg: string): CapacityEvent => ({
  type: 'CapacityReserved',
  data: { reservationId, quantityKg },
});
const consumed = (
  reservationId: string,
  receiptId: string,
  quantityKg: string,
  fromReservationKg = quantityKg,
  overConsumedKg = '0.000',
): CapacityEvent => ({
  type: 'CapacityConsumed',
  data: { reservationId, receiptId, quantityKg, fromReservationKg, overConsumedKg },
});
const released = (
  reservationId: string,
  releasedKg: string,
  reason: ReleaseReason = 'expiry',
): CapacityEvent => ({
  type: 'CapacityReleased',
  data: { reservationId, reason, releasedKg },
});

const availableAfter = (...events: CapacityEvent[]) => available(fold(capacityDecider, events)).toKgString();

describe('capacity ledger stream', () => {
  it('is one stream per facility, category and calendar year', () => {
    expect(capacityStream('cq-1', 'hw08', 2026)).toBe('capacity-cq-1-HW08-2026');
    expect(capacityStream('cq-1', 'HW08', 2027)).not.toBe(capacityStream('cq-1', 'HW08', 2026));
    expect(() => capacityStream('cq-1', 'HW42', 2026)).toThrow(/wasteCategory.unknown/);
    expect(() => capacityStream('cq-1', 'HW08', 26)).toThrow(DomainError);
  });
});

describe('OpenLedger', () => {
  it('opens with the licensed capacity of the year', () => {
    given(capacityDecider).when(open()).then(opened);
    given(capacityDecider)
      .when(open('1000'))
      .thenState((s) => expect(ledgerTotals(s).available.toKgString()).toBe('1000.000'));
  });

  it('records nothing when opened again with the same figures, refuses other figures', () => {
    given(capacityDecider, opened).when(open('1000')).thenNothing();
    given(capacityDecider, opened)
      .when(open('2000'))
      .thenThrows({
        code: 'capacity.ledger-already-open',
        field: 'capacityKg',
        details: { capacityKg: '1000.000' },
      });
  });

  it('refuses a bad year, category or capacity', () => {
    given(capacityDecider)
      .when(openWith({ facilityId: 'cq-1', category: 'HW08', year: 2026.5, capacityKg: '1' }))
      .thenThrows({ code: 'capacity.year', field: 'year' });
    given(capacityDecider)
      .when(openWith({ facilityId: 'cq-1', category: 'HW99', year: 2026, capacityKg: '1' }))
      .thenThrows({ code: 'capacity.waste-category-unknown', field: 'category' });
    given(capacityDecider)
      .when(openWith({ facilityId: '', category: 'HW08', year: 2026, capacityKg: '1' }))
      .thenThrows({ code: 'capacity.id-required', field: 'facilityId' });
    given(capacityDecider)
      .when(open('0'))
      .thenThrows({ code: 'capacity.quantity-not-positive', field: 'capacityKg' });
    given(capacityDecider)
      .when(open('1.0001'))
      .thenThrows({ code: 'capacity.quantity-precision', field: 'capacityKg' });
  });

  it('refuses every other command before the ledger is open', () => {
    for (const command of [reserve('t-1', '1'), consume('t-1', 'm-1', '1'), release('t-1'), adjust('5')])
      given(capacityDecider).when(command).thenThrows('capacity.ledger-not-open');
  });
});

describe('Reserve (never overbooked)', () => {
  it('reserves within what is available, up to the last gram', () => {
    given(capacityDecider, opened).when(reserve('t-1', '600')).then(reserved('t-1', '600.000'));
    given(capacityDecider, opened, reserved('t-1', '600.000'))
      .when(reserve('t-2', '400.000'))
      .then(reserved('t-2', '400.000'));
  });

  it('refuses more than is available, with the figures', () => {
    given(capacityDecider, opened, reserved('t-1', '600.000'))
      .when(reserve('t-2', '400.001'))
      .thenThrows({
        code: 'capacity.insufficient',
        field: 'quantityKg',
        message: { zh: /剩余经营规模不足/, en: /not enough licensed capacity/ },
        details: { available: '400.000', requested: '400.001' },
      });
  });

  it('counts consumption beyond a reservation as taken', () => {
    // t-1 reserved 600 and received 700 (100 over): 300 are left, not 400.
    given(
      capacityDecider,
      opened,
      reserved('t-1', '600.000'),
      consumed('t-1', 'm-1', '700.000', '600.000', '100.000'),
    )
      .when(reserve('t-2', '300.001'))
      .thenThrows({ code: 'capacity.insufficient', details: { available: '300.000', requested: '300.001' } });
  });

  it('is idempotent by reservation id: same quantity records nothing, another is refused', () => {
    given(capacityDecider, opened, reserved('t-1', '600.000')).when(reserve('t-1', '600')).thenNothing();
    given(capacityDecider, opened, reserved('t-1', '600.000'))
      .when(reserve('t-1', '500'))
      .thenThrows({
        code: 'capacity.reservation-conflict',
        field: 'quantityKg',
        details: { reservationId: 't-1', reservedKg: '600.000', requestedKg: '500.000' },
      });
    // A full ledger still answers a retry of a reservation it already holds with nothing.
    given(capacityDecider, opened, reserved('t-1', '1000.000')).when(reserve('t-1', '1000')).thenNothing();
  });

  it('refuses to reserve again under a released reservation', () => {
    given(capacityDecider, opened, reserved('t-1', '600.000'), released('t-1', '600.000'))
      .when(reserve('t-1', '600'))
      .thenThrows({ code: 'capacity.reservation-released', details: { reason: 'expiry' } });
  });

  it('refuses a zero, negative or over-precise quantity', () => {
    given(capacityDecider, opened).when(reserve('t-1', '0.000')).thenThrows('capacity.quantity-not-positive');
    given(capacityDecider, opened)
      .when(reserve('t-1', '-1'))
      .thenThrows({ code: 'capacity.quantity-negative', field: 'quantityKg' });
    given(capacityDecider, opened).when(reserve('t-1', '0.0001')).thenThrows('capacity.quantity-precision');
    given(capacityDecider, opened)
      .when(reserve('', '1'))
      .thenThrows({ code: 'capacity.id-required', field: 'reservationId' });
  });
});

describe('Consume (receipts)', () => {
  const history = [opened, reserved('t-1', '600.000'), reserved('t-2', '300.000')];

  it('consumes from the reservation, receipt by receipt', () => {
    given(capacityDecider, ...history)
      .when(consume('t-1', 'm-1', '250.5'))
      .then(consumed('t-1', 'm-1', '250.500'));
    given(capacityDecider, ...history, consumed('t-1', 'm-1', '250.500'))
      .when(consume('t-1', 'm-2', '349.5'))
      .thenState((s) => {
        const totals = ledgerTotals(s);
        expect(totals.consumed.toKgString()).toBe('600.000');
        expect(totals.reserved.toKgString()).toBe('300.000');
        expect(totals.available.toKgString()).toBe('100.000');
      });
  });

  it('records over-consumption explicitly when a receipt exceeds its reservation within free capacity', () => {
    given(capacityDecider, ...history, consumed('t-1', 'm-1', '550.000'))
      .when(consume('t-1', 'm-2', '150'))
      .then(consumed('t-1', 'm-2', '150.000', '50.000', '100.000'));
    expect(
      availableAfter(
        ...history,
        consumed('t-1', 'm-1', '550.000'),
        consumed('t-1', 'm-2', '150.000', '50.000', '100.000'),
      ),
    ).toBe('0.000');
  });

  it('refuses a receipt beyond its reservation and the free capacity, saying what it could take', () => {
    given(capacityDecider, ...history, consumed('t-1', 'm-1', '550.000'))
      .when(consume('t-1', 'm-2', '150.001'))
      .thenThrows({
        code: 'capacity.insufficient',
        field: 'quantityKg',
        details: { available: '150.000', requested: '150.001' },
      });
  });

  it('counts a receipt once: the same receipt again records nothing, another weight is refused', () => {
    const after = [...history, consumed('t-1', 'm-1', '100.000')];
    given(capacityDecider, ...after)
      .when(consume('t-1', 'm-1', '100'))
      .thenNothing();
    given(capacityDecider, ...after)
      .when(consume('t-1', 'm-1', '90'))
      .thenThrows({
        code: 'capacity.receipt-conflict',
        field: 'receiptId',
        details: { consumedKg: '100.000' },
      });
    given(capacityDecider, ...after)
      .when(consume('t-2', 'm-1', '100'))
      .thenThrows('capacity.receipt-conflict');
  });

  it('after a release, a late receipt uses free capacity only, as over-consumption', () => {
    const after = [...history, consumed('t-1', 'm-1', '100.000'), released('t-1', '500.000')];
    given(capacityDecider, ...after)
      .when(consume('t-1', 'm-2', '80'))
      .then(consumed('t-1', 'm-2', '80.000', '0.000', '80.000'));
    given(capacityDecider, ...after)
      .when(consume('t-1', 'm-2', '600.001'))
      .thenThrows({ code: 'capacity.insufficient', details: { available: '600.000' } });
  });

  it('takes a receipt whose approval reserved nothing in this year from free capacity, as over-consumption', () => {
    // 600 + 300 reserved of 1000: 100 free for a transfer that reserved in another year's ledger.
    given(capacityDecider, ...history)
      .when(consume('t-9', 'm-1', '100'))
      .then(consumed('t-9', 'm-1', '100.000', '0.000', '100.000'));
    given(capacityDecider, ...history, consumed('t-9', 'm-1', '100.000', '0.000', '100.000'))
      .when(consume('t-9', 'm-2', '0.001'))
      .thenThrows({ code: 'capacity.insufficient', details: { available: '0.000', requested: '0.001' } });
    expect(availableAfter(...history, consumed('t-9', 'm-1', '40.000', '0.000', '40.000'))).toBe('60.000');
    given(capacityDecider, ...history)
      .when(consume('t-9', 'm-1', '100.001'))
      .thenThrows('capacity.insufficient');
  });

  it('refuses a receipt without a receipt id or a quantity', () => {
    given(capacityDecider, ...history)
      .when(consume('t-1', ' ', '1'))
      .thenThrows({ field: 'receiptId' });
    given(capacityDecider, ...history)
      .when(consume('t-1', 'm-1', '0'))
      .thenThrows('capacity.quantity-not-positive');
  });
});

describe('CorrectReceipt (receipt corrections)', () => {
  const correct = (receiptId: string, quantityKg: string): CapacityCommand => ({
    type: 'CorrectReceipt',
    data: { receiptId, quantityKg },
    metadata,
  });
  const corrected = (
    receiptId: string,
    fromKg: string,
    toKg: string,
    fromReservationKg = '0.000',
    overConsumedKg = '0.000',
    reservationId = 't-1',
  ): CapacityEvent => ({
    type: 'CapacityReceiptCorrected',
    data: { reservationId, receiptId, fromKg, toKg, fromReservationKg, overConsumedKg },
  });
  const history = [
    opened,
    reserved('t-1', '600.000'),
    reserved('t-2', '300.000'),
    consumed('t-1', 'm-1', '500.000'),
  ];

  it('records a higher weight as the difference, from the reservation first, then from free capacity', () => {
    given(capacityDecider, ...history)
      .when(correct('m-1', '650'))
      .then(corrected('m-1', '500.000', '650.000', '100.000', '50.000'));
    given(capacityDecider, ...history, corrected('m-1', '500.000', '650.000', '100.000', '50.000'))
      .when(correct('m-1', '650'))
      .thenNothing();
    expect(availableAfter(...history, corrected('m-1', '500.000', '650.000', '100.000', '50.000'))).toBe(
      '50.000',
    );
    // 100 left in t-1 and 100 free: 200.001 more is too much, and nothing is recorded.
    given(capacityDecider, ...history)
      .when(correct('m-1', '700.001'))
      .thenThrows({ code: 'capacity.insufficient', details: { available: '200.000', requested: '200.001' } });
  });

  it('gives a lower weight back to the reservation (or, once released, to free capacity)', () => {
    given(capacityDecider, ...history)
      .when(correct('m-1', '420.5'))
      .then(corrected('m-1', '500.000', '420.500'));
    const totals = ledgerTotals(fold(capacityDecider, [...history, corrected('m-1', '500.000', '420.500')]));
    expect(totals.consumed.toKgString()).toBe('420.500');
    expect(totals.reserved.toKgString()).toBe('479.500');
    expect(totals.available.toKgString()).toBe('100.000');
    const afterRelease = [...history, released('t-1', '100.000'), corrected('m-1', '500.000', '0.000')];
    expect(availableAfter(...afterRelease)).toBe('700.000');
    // An over-consumed part is given back first.
    const back = fold(capacityDecider, [
      ...history,
      corrected('m-1', '500.000', '650.000', '100.000', '50.000'),
      corrected('m-1', '650.000', '610.000'),
    ]);
    if (back.status !== 'open') throw new Error('the ledger is open');
    expect(back.reservations['t-1']?.overConsumed.toKgString()).toBe('10.000');
    expect(back.reservations['t-1']?.consumed.toKgString()).toBe('610.000');
  });

  it('refuses a correction of a receipt this ledger never counted', () => {
    given(capacityDecider, ...history)
      .when(correct('m-9', '10'))
      .thenThrows({ code: 'capacity.unknown-receipt', field: 'receiptId' });
    given(capacityDecider, ...history)
      .when(correct('m-1', '-1'))
      .thenThrows({ field: 'quantityKg' });
  });
});

describe('Release', () => {
  const history = [opened, reserved('t-1', '600.000')];

  it.each<ReleaseReason>(['expiry', 'withdrawal', 'revocation'])(
    'releases what is reserved and not consumed (%s)',
    (reason) => {
      given(capacityDecider, ...history, consumed('t-1', 'm-1', '200.000'))
        .when(release('t-1', reason))
        .then(released('t-1', '400.000', reason));
      expect(
        availableAfter(...history, consumed('t-1', 'm-1', '200.000'), released('t-1', '400.000', reason)),
      ).toBe('800.000');
    },
  );

  it('releases nothing from a reservation its receipts used up (it is still closed)', () => {
    given(capacityDecider, ...history, consumed('t-1', 'm-1', '700.000', '600.000', '100.000'))
      .when(release('t-1', 'expiry'))
      .then(released('t-1', '0.000'));
  });

  it('releases once', () => {
    given(capacityDecider, ...history, released('t-1', '600.000'))
      .when(release('t-1', 'withdrawal'))
      .thenNothing();
  });

  it('refuses an unknown reservation or reason', () => {
    given(capacityDecider, ...history)
      .when(release('t-2'))
      .thenThrows('capacity.unknown-reservation');
    given(capacityDecider, ...history)
      .when({ type: 'Release', data: { reservationId: 't-1', reason: 'whim' as ReleaseReason }, metadata })
      .thenThrows({ code: 'capacity.release-reason', field: 'reason' });
  });
});

describe('AdjustCapacity (licence change)', () => {
  const history = [opened, reserved('t-1', '600.000'), consumed('t-1', 'm-1', '100.000')];

  it('raises or lowers capacity down to what is committed', () => {
    given(capacityDecider, ...history)
      .when(adjust('1500'))
      .then({ type: 'CapacityAdjusted', data: { fromKg: '1000.000', toKg: '1500.000', revocation: false } });
    given(capacityDecider, ...history)
      .when({ type: 'AdjustCapacity', data: { capacityKg: '600', reason: ' 许可变更 ' }, metadata })
      .then({
        type: 'CapacityAdjusted',
        data: { fromKg: '1000.000', toKg: '600.000', revocation: false, reason: '许可变更' },
      });
    given(capacityDecider, ...history)
      .when(adjust('1000.000'))
      .thenNothing();
  });

  it('refuses to go below reserved + consumed', () => {
    given(capacityDecider, ...history)
      .when(adjust('599.999'))
      .thenThrows({
        code: 'capacity.below-committed',
        field: 'capacityKg',
        details: { committed: '600.000', requested: '599.999' },
      });
  });

  it('goes below when flagged as a revocation, recording the shortfall; nothing more can be reserved', () => {
    const adjusted: CapacityEvent = {
      type: 'CapacityAdjusted',
      data: { fromKg: '1000.000', toKg: '0.000', revocation: true, shortfallKg: '600.000' },
    };
    given(capacityDecider, ...history)
      .when(adjust('0', true))
      .then(adjusted);
    given(capacityDecider, ...history, adjusted)
      .when(reserve('t-2', '0.001'))
      .thenThrows({ code: 'capacity.insufficient', details: { available: '0.000' } });
    expect(availableAfter(...history, adjusted)).toBe('0.000');
  });
});

describe('snapshots', () => {
  it('round-trips a ledger through JSON exactly', () => {
    const state = fold(capacityDecider, [
      opened,
      reserved('t-1', '600.125'),
      consumed('t-1', 'm-1', '700.000', '600.125', '99.875'),
      reserved('t-2', '0.001'),
      released('t-2', '0.001', 'withdrawal'),
    ]);
    const json = JSON.parse(JSON.stringify(capacitySnapshotPolicy.serialize(state))) as unknown;
    expect(capacitySnapshotPolicy.deserialize(json)).toEqual(state);
    expect(capacitySnapshotPolicy.deserialize({ status: 'unopened' })).toEqual(
      capacityDecider.initialState(),
    );
  });
});

// Property: whatever commands arrive, in whatever order, committed (reserved + consumed) never exceeds
// capacity. Adjustments are included except the explicit revocation flag, which may knowingly go below.
describe('property: never overbooked', () => {
  const ids = ['t-1', 't-2', 't-3', 't-4'];
  // Whole kilograms nudged by a gram either way: sums land on the capacity exactly, or one gram off it,
  // where an off-by-one in a check would show.
  const kg = (maxKg: number) =>
    fc
      .tuple(fc.integer({ min: 0, max: maxKg }), fc.constantFrom(-1, 0, 1))
      .map(([whole, nudge]) => Quantity.fromGrams(BigInt(Math.max(0, whole * 1000 + nudge))).toKgString());
  const command: fc.Arbitrary<CapacityCommand> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.tuple(fc.constantFrom(...ids), kg(12)).map(([id, kg]) => reserve(id, kg)),
    },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom(...ids), fc.integer({ min: 1, max: 12 }), kg(8))
        .map(([id, m, kg]) => consume(id, `m-${m}`, kg)),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...ids), fc.constantFrom<ReleaseReason>('expiry', 'withdrawal', 'revocation'))
        .map(([id, reason]) => release(id, reason)),
    },
    { weight: 1, arbitrary: kg(30).map((q) => adjust(q)) },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.integer({ min: 1, max: 12 }), kg(10)).map(([m, kg]): CapacityCommand => ({
        type: 'CorrectReceipt',
        data: { receiptId: `m-${m}`, quantityKg: kg },
        metadata,
      })),
    },
  );

  it('holds for any sequence of Reserve, Consume, CorrectReceipt, Release and AdjustCapacity', () => {
    fc.assert(
      fc.property(kg(20), fc.array(command, { maxLength: 40 }), (capacityKg, commands) => {
        let state: CapacityLedgerState = capacityDecider.initialState();
        const apply = (c: CapacityCommand) => {
          try {
            for (const e of capacityDecider.decide(c, state)) state = capacityDecider.evolve(state, e);
          } catch (error) {
            // A refusal is allowed; anything else is a bug.
            if (!(error instanceof DomainError)) throw error;
          }
        };
        apply(open(capacityKg));
        for (const c of commands) {
          apply(c);
          const totals = ledgerTotals(state);
          expect(totals.committed.compare(totals.capacity)).toBeLessThanOrEqual(0);
          expect(totals.available.add(totals.committed).equals(totals.capacity)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('a retried command records nothing the second time', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 20 }), command, (prefix, retried) => {
        let state = fold(
          capacityDecider,
          capacityDecider.decide(open('1000'), capacityDecider.initialState()),
        );
        for (const c of prefix) {
          try {
            state = fold(capacityDecider, capacityDecider.decide(c, state), state);
          } catch (error) {
            if (!(error instanceof DomainError)) throw error;
          }
        }
        let first: CapacityEvent[];
        try {
          first = capacityDecider.decide(retried, state);
        } catch {
          return; // refused the first time: nothing to retry
        }
        const after = fold(capacityDecider, first, state);
        // Adjustments are not keyed by an id; the same figure again is still a no-op.
        expect(capacityDecider.decide(retried, after)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
