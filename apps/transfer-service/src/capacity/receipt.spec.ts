import { DomainError, fold, systemActor } from '@lianfang/eventsourcing';
import { capacityDecider, ledgerTotals, type CapacityEvent } from './decider';
import type { Receipt } from './ports';
import { receiptConsumption } from './receipt';

const metadata = {
  commandId: 'receive-m-1',
  now: new Date('2026-05-06T02:00:00Z'),
  actor: systemActor('manifest.receipt'),
  correlationId: 'corr-m-1',
};

const receipt = (over: Partial<Receipt> = {}): Receipt => ({
  facilityId: 'f-1',
  wasteCode: '900-249-08',
  receivedOn: '2026-05-06',
  transferId: 't-1',
  receiptId: 'm-1',
  acceptedKg: '480.5',
  ...over,
});

const opened = (year = 2026): CapacityEvent => ({
  type: 'CapacityLedgerOpened',
  data: { facilityId: 'f-1', category: 'HW08', year, capacityKg: '10000.000' },
});
const reserved: CapacityEvent = {
  type: 'CapacityReserved',
  data: { reservationId: 't-1', quantityKg: '1000.000' },
};
const stateOf = (...events: CapacityEvent[]) => fold(capacityDecider, events);

describe('receiptConsumption (pure: which ledger a receipt consumes from, and how)', () => {
  it('picks the ledger of the facility, the code’s HW category and the receipt’s calendar year', () => {
    const c = receiptConsumption(receipt({ receivedOn: '2027-01-05' }));
    expect(c.streamId).toBe('capacity-f-1-HW08-2027');
    expect(c.binding).toEqual({ streamId: 'capacity-f-1-HW08-2027', decider: capacityDecider });
    expect(receiptConsumption(receipt({ wasteCode: '90004149' })).streamId).toBe('capacity-f-1-HW49-2026');
  });

  it('consumes the accepted kilograms from the approval’s reservation, once', () => {
    const c = receiptConsumption(receipt());
    const events = c.decide(stateOf(opened(), reserved), metadata);
    expect(events).toEqual([
      {
        type: 'CapacityConsumed',
        data: {
          reservationId: 't-1',
          receiptId: 'm-1',
          quantityKg: '480.500',
          fromReservationKg: '480.500',
          overConsumedKg: '0.000',
        },
      },
    ]);
    const after = stateOf(opened(), reserved, ...events);
    expect(ledgerTotals(after).consumed.toKgString()).toBe('480.500');
    // The manifest's command retried: nothing more.
    expect(c.decide(after, metadata)).toEqual([]);
  });

  it('records a corrected weight as the difference, never as a second consumption', () => {
    const first = stateOf(
      opened(),
      reserved,
      ...receiptConsumption(receipt()).decide(stateOf(opened(), reserved), metadata),
    );
    const corrected = receiptConsumption(receipt({ acceptedKg: '450' })).decide(first, metadata);
    expect(corrected).toEqual([
      {
        type: 'CapacityReceiptCorrected',
        data: {
          reservationId: 't-1',
          receiptId: 'm-1',
          fromKg: '480.500',
          toKg: '450.000',
          fromReservationKg: '0.000',
          overConsumedKg: '0.000',
        },
      },
    ]);
    const totals = ledgerTotals(fold(capacityDecider, corrected, first));
    expect([totals.consumed.toKgString(), totals.reserved.toKgString()]).toEqual(['450.000', '550.000']);
  });

  it('takes a receipt in a year where the approval reserved nothing from free capacity', () => {
    const events = receiptConsumption(receipt({ receivedOn: '2027-01-05' })).decide(
      stateOf(opened(2027)),
      metadata,
    );
    expect(events).toEqual([
      {
        type: 'CapacityConsumed',
        data: expect.objectContaining({ fromReservationKg: '0.000', overConsumedKg: '480.500' }),
      },
    ]);
  });

  it('opens a ledger nobody opened with the licensed capacity given, and is refused without it', () => {
    const unopened = capacityDecider.initialState();
    expect(() => receiptConsumption(receipt()).decide(unopened, metadata)).toThrow(
      expect.objectContaining({ code: 'capacity.ledger-not-open' }),
    );
    const events = receiptConsumption(receipt({ licensedCapacityKg: '5000' })).decide(unopened, metadata);
    expect(events.map((e) => e.type)).toEqual(['CapacityLedgerOpened', 'CapacityConsumed']);
    expect(ledgerTotals(fold(capacityDecider, events)).available.toKgString()).toBe('4519.500');
  });

  it('consumes nothing for nothing accepted, and refuses bad input naming the field', () => {
    expect(
      receiptConsumption(receipt({ acceptedKg: '0' })).decide(stateOf(opened(), reserved), metadata),
    ).toEqual([]);
    for (const [over, field] of [
      [{ wasteCode: 'HW08' }, 'wasteCode'],
      [{ receivedOn: '2026-02-30' }, 'receivedOn'],
      [{ acceptedKg: '1.0001' }, 'acceptedKg'],
    ] as const) {
      let thrown: unknown;
      try {
        receiptConsumption(receipt(over));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(DomainError);
      expect(thrown).toMatchObject({ field });
    }
  });
});
