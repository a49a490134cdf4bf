import { systemActor } from '@lianfang/eventsourcing';
import { given } from '@lianfang/testing';
import { ledgerTotals, type CapacityEvent } from './decider';
import { licenceFollowingDecider, type FollowLicence } from './licence-adjustment';

const metadata = {
  commandId: 'cmd-1',
  now: new Date('2026-06-01T02:00:00Z'),
  actor: systemActor('capacity.licence-adjustments'),
  correlationId: 'corr-1',
};

const follow = (capacityKg: string, reason?: string): FollowLicence => ({
  type: 'FollowLicence',
  data: {
    facilityId: 'cq-1',
    category: 'HW08',
    capacityKg,
    licensedFromKg: '10000.000',
    ...(reason ? { reason } : {}),
  },
  metadata,
});

const opened: CapacityEvent = {
  type: 'CapacityLedgerOpened',
  data: { facilityId: 'cq-1', category: 'HW08', year: 2026, capacityKg: '10000.000' },
};
const reserved = (reservationId: string, quantityKg: string): CapacityEvent => ({
  type: 'CapacityReserved',
  data: { reservationId, quantityKg },
});
const consumed: CapacityEvent = {
  type: 'CapacityConsumed',
  data: {
    reservationId: 't-1',
    receiptId: 'm-1',
    quantityKg: '1000.000',
    fromReservationKg: '1000.000',
    overConsumedKg: '0.000',
  },
};
/** 9 t committed: 5 t still reserved and 1 t consumed by t-1, 3 t reserved by t-2. */
const history = [opened, reserved('t-1', '6000.000'), consumed, reserved('t-2', '3000.000')];

describe('a capacity ledger following its licence', () => {
  it('takes a raised licence as a plain adjustment, naming the change and its reason', () => {
    given(licenceFollowingDecider, ...history)
      .when(follow('12000', '换证扩能 / renewed with more capacity'))
      .then({
        type: 'CapacityAdjusted',
        data: {
          fromKg: '10000.000',
          toKg: '12000.000',
          revocation: false,
          reason:
            '许可证变更 / licence amended, HW08 10000.000 kg → 12000.000 kg: 换证扩能 / renewed with more capacity',
        },
      });
  });

  it('takes a reduction that still covers what is committed as a plain adjustment', () => {
    given(licenceFollowingDecider, ...history)
      .when(follow('9000'))
      .then({
        type: 'CapacityAdjusted',
        data: {
          fromKg: '10000.000',
          toKg: '9000.000',
          revocation: false,
          reason: '许可证变更 / licence amended, HW08 10000.000 kg → 9000.000 kg',
        },
      });
  });

  it('takes a reduction below what is committed as a partial revocation with the shortfall recorded', () => {
    const then = given(licenceFollowingDecider, ...history).when(follow('8000.000'));
    then.then({
      type: 'CapacityAdjusted',
      data: {
        fromKg: '10000.000',
        toKg: '8000.000',
        revocation: true,
        shortfallKg: '1000.000',
        reason:
          '许可证核减至已占用量以下（部分吊销）/ licence reduced below what approvals hold (partial revocation), HW08 10000.000 kg → 8000.000 kg, 9000.000 kg committed',
      },
    });
    // Nothing is free any more: no new reservation until approvals release the shortfall.
    then.thenState((state) => {
      const totals = ledgerTotals(state);
      expect(totals.capacity.toKgString()).toBe('8000.000');
      expect(totals.committed.toKgString()).toBe('9000.000');
      expect(totals.available.toKgString()).toBe('0.000');
    });
  });

  it('takes a dropped category (0 kg) the same way', () => {
    given(licenceFollowingDecider, opened)
      .when(follow('0'))
      .then({
        type: 'CapacityAdjusted',
        data: {
          fromKg: '10000.000',
          toKg: '0.000',
          revocation: false,
          reason: '许可证变更 / licence amended, HW08 10000.000 kg → 0.000 kg',
        },
      });
  });

  it('records nothing when the ledger already has the licensed figure, or is not open', () => {
    given(licenceFollowingDecider, ...history)
      .when(follow('10000'))
      .thenNothing();
    given(licenceFollowingDecider).when(follow('12000')).thenNothing();
  });
});
