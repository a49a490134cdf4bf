import { CreditCode, WorkingDayCalendar } from '@lianfang/domain-kernel';
import { fold, systemActor } from '@lianfang/eventsourcing';
import { given } from '@lianfang/testing';
import {
  discrepancyReview,
  manifestDecider,
  nextActions,
  REVIEW_NOTE_MAX_LENGTH,
  type CarrierLeg,
  type ManifestCommand,
  type ManifestEvent,
  type ManifestOpenedData,
  type OpenManifestData,
} from './decider';
import { manifestOpened } from './manifest.fixture';

// Dates around National Day 2026 (holidays 10-01..10-07, Saturday 10-10 a working day) so that working
// days really skip holidays. Instants are UTC; Asia/Shanghai is +08:00.
const calendar = WorkingDayCalendar.default();
const decider = manifestDecider({ calendar });

const N = '20265101000001';
const GENERATOR = CreditCode.withCheckCharacter('91510100MA61RK3T2').value;
const RECEIVER = CreditCode.withCheckCharacter('91500112MA5UABCD1').value;
const CARRIER = CreditCode.withCheckCharacter('91510100MA62XY001').value;
const CARRIER_2 = CreditCode.withCheckCharacter('91500000MA60QW002').value;

const at = (iso: string) => ({
  commandId: `cmd-${iso}`,
  now: new Date(iso),
  actor: systemActor('spec'),
  correlationId: 'corr-1',
});
const cmd = <T extends ManifestCommand['type']>(
  type: T,
  data: Extract<ManifestCommand, { type: T }>['data'],
  now: string,
) => ({ type, data, metadata: at(now) }) as Extract<ManifestCommand, { type: T }>;

const openData: OpenManifestData = {
  manifestNumber: N,
  authorization: {
    kind: 'approval',
    id: 'transfer-1',
    remainingKg: '5000',
    validFrom: '2026-09-01',
    validUntil: '2026-12-31',
    wasteClasses: ['hazardous:900-249-08'],
    receiverFacilityId: 'facility-cq-1',
  },
  generator: { creditCode: GENERATOR, jurisdiction: '510100' },
  receiver: { creditCode: RECEIVER, jurisdiction: '500112', facilityId: 'facility-cq-1' },
  carrierCreditCode: CARRIER,
  consignor: 'generator',
  waste: {
    wasteClass: 'hazardous:900-249-08',
    name: '废矿物油',
    declaredKg: '4000',
    hazardCharacteristics: ['T', 'I'],
    packaging: 'IBC 吨桶',
    form: 'liquid',
    emergencyMeasures: '泄漏时用沙土围堵，禁止明火',
  },
};
const OPENED_AT = '2026-09-28T02:00:00Z';
const open = (patch: Partial<OpenManifestData> = {}, now = OPENED_AT) =>
  cmd('OpenManifest', { ...openData, ...patch }, now);

const opened = manifestOpened({
  manifestNumber: N,
  authorization: { kind: 'approval', id: 'transfer-1' },
  generator: { creditCode: GENERATOR, jurisdiction: '510100' },
  receiver: { creditCode: RECEIVER, jurisdiction: '500112', facilityId: 'facility-cq-1' },
  carrierCreditCode: CARRIER,
  fromJurisdiction: '510100',
  toJurisdiction: '500112',
  authorizationRemainingKg: '1000.000',
  openedAt: '2026-09-28T02:00:00.000Z',
});
const openedData = (opened as Extract<ManifestEvent, { type: 'ManifestOpened' }>).data;
const withWaste = (patch: Partial<OpenManifestData['waste']>) => ({ waste: { ...openData.waste, ...patch } });
const withAuth = (patch: Partial<OpenManifestData['authorization']>) => ({
  authorization: { ...openData.authorization, ...patch },
});

const leg: CarrierLeg = {
  carrierCreditCode: CARRIER,
  vehiclePlate: '川A12345',
  operatingLicence: '川交运管许可成字510100001234号',
  driverSubjectId: 'subject-driver-7f3a',
};
const leg2: CarrierLeg = {
  carrierCreditCode: CARRIER_2,
  vehiclePlate: '渝BD12345',
  operatingLicence: '渝交运管许可字500000009876号',
  driverSubjectId: 'subject-driver-91c2',
};
// Picked up Tuesday 2026-09-29 10:00 in Shanghai: 3 days in transit end at 24:00 on 10-02.
const PICKED_UP_AT = '2026-09-29T02:00:00Z';
const TRANSIT_DUE = '2026-10-02T16:00:00.000Z';
const pickup = (patch: Partial<CarrierLeg> & { maxTransitDays?: number } = {}, now = PICKED_UP_AT) =>
  cmd('ConfirmPickup', { manifestNumber: N, ...leg, ...patch }, now);
const pickedUp: ManifestEvent = {
  type: 'ManifestPickedUp',
  data: {
    manifestNumber: N,
    ...leg,
    pickedUpAt: '2026-09-29T02:00:00.000Z',
    maxTransitDays: 3,
    transitDueAt: TRANSIT_DUE,
  },
};
// Delivered Tuesday 2026-09-29 18:00 in Shanghai. Working days after it: 09-30, 10-08, 10-09, 10-10
// (调休 Saturday), 10-12 → the receipt is due by 24:00 on Monday 10-12.
const DELIVERED_AT = '2026-09-29T10:00:00Z';
const RECEIPT_DUE = '2026-10-12T16:00:00.000Z';
const deliver = (now = DELIVERED_AT, carrierCreditCode = CARRIER) =>
  cmd('Deliver', { manifestNumber: N, carrierCreditCode }, now);
const delivered: ManifestEvent = {
  type: 'ManifestDelivered',
  data: {
    manifestNumber: N,
    carrierCreditCode: CARRIER,
    facilityId: 'facility-cq-1',
    deliveredAt: '2026-09-29T10:00:00.000Z',
    receiptDueAt: RECEIPT_DUE,
    receiptDueProvisional: false,
  },
};
const ACCEPTED_AT = '2026-10-08T03:00:00Z';
const accept = (
  acceptedKg: string,
  extra: Partial<Extract<ManifestCommand, { type: 'AcceptReceipt' }>['data']> = {},
  now = ACCEPTED_AT,
) => cmd('AcceptReceipt', { manifestNumber: N, acceptedKg, method: 'R9 废油再提炼', ...extra }, now);
const received = (acceptedKg: string, patch: Partial<Record<string, unknown>> = {}): ManifestEvent =>
  ({
    type: 'ManifestReceived',
    data: {
      manifestNumber: N,
      acceptance: 'full',
      declaredKg: '4000.000',
      acceptedKg,
      method: 'R9 废油再提炼',
      wasteClass: 'hazardous:900-249-08',
      wasteCode: '900-249-08',
      fromJurisdiction: '510100',
      toJurisdiction: '500112',
      facilityId: 'facility-cq-1',
      authorizationId: 'transfer-1',
      receiptDate: '2026-10-08',
      receivedAt: '2026-10-08T03:00:00.000Z',
      onTime: true,
      ...patch,
    },
  }) as ManifestEvent;
const weightDiscrepancy = (
  acceptedKg: string,
  differenceKg: string,
  percentBasisPoints = 500,
  kg = '100.000',
) =>
  ({
    type: 'ManifestDiscrepancyFound',
    data: {
      manifestNumber: N,
      kind: 'weight',
      declaredKg: '4000.000',
      acceptedKg,
      differenceKg,
      tolerance: { percentBasisPoints, kg },
      reportTo: '500000',
    },
  }) as ManifestEvent;
const overdue = (
  reason: 'transit' | 'receipt',
  dueAt: string,
  detectedAt: string,
  responsible: string,
): ManifestEvent => ({
  type: 'ManifestOverdue',
  data: { manifestNumber: N, reason, dueAt, responsibleCreditCode: responsible, detectedAt },
});
const inTransit = [opened, pickedUp];
const atReceiver = [opened, pickedUp, delivered];

describe('manifest: opening (Arts 10–15)', () => {
  it('opens under a valid approval; the declared weight counts against what is left', () => {
    given(decider).when(open()).then(opened);
    given(decider)
      .when(open())
      .thenState((s) => expect(s).toMatchObject({ status: 'open', currentCarrierCreditCode: CARRIER }));
  });

  it('opens exactly up to the remaining quantity, refuses a gram more', () => {
    given(decider)
      .when(open(withAuth({ remainingKg: '4000.000' })))
      .thenState((s) => expect(s).toMatchObject({ opened: { authorizationRemainingKg: '0.000' } }));
    given(decider)
      .when(open(withAuth({ remainingKg: '3999.999' })))
      .thenThrows({
        code: 'manifest.exceeds-authorized-quantity',
        field: 'waste.declaredKg',
        details: { declaredKg: '4000.000', remainingKg: '3999.999' },
      });
  });

  it('refuses a manifest opened twice', () => {
    given(decider, opened)
      .when(open())
      .thenThrows({ code: 'manifest.already-opened', field: 'manifestNumber' });
  });

  it('refuses outside the validity of the approval, both ends included', () => {
    given(decider)
      .when(open(withAuth({ validFrom: '2026-09-28' })))
      .then(opened);
    given(decider)
      .when(open(withAuth({ validUntil: '2026-09-28' })))
      .then(opened);
    given(decider)
      .when(open(withAuth({ validUntil: '2026-09-27' })))
      .thenThrows({ code: 'manifest.authorization-not-valid', field: 'authorization.validUntil' });
    given(decider)
      .when(open(withAuth({ validFrom: '2026-09-29' })))
      .thenThrows('manifest.authorization-not-valid');
  });

  it('refuses waste the approval does not cover, and another receiver (Art 28)', () => {
    given(decider)
      .when(open(withAuth({ wasteClasses: ['hazardous:900-214-08'] })))
      .thenThrows({ code: 'manifest.waste-not-authorized', field: 'waste.wasteClass' });
    given(decider)
      .when(open(withAuth({ receiverFacilityId: 'facility-cq-2' })))
      .thenThrows({ code: 'manifest.receiver-not-authorized', field: 'receiver.facilityId' });
  });

  it('hazardous waste under an approval, other classes under a filing', () => {
    given(decider)
      .when(open(withAuth({ kind: 'filing' })))
      .thenThrows({ code: 'manifest.authorization-kind', field: 'authorization.kind' });
    const construction = {
      ...withAuth({ kind: 'filing', wasteClasses: ['construction'] }),
      ...withWaste({ wasteClass: 'construction', name: '建筑垃圾', hazardCharacteristics: [] }),
    };
    given(decider)
      .when(open(construction))
      .thenState((s) =>
        expect(s).toMatchObject({
          opened: {
            authorization: { kind: 'filing' },
            waste: { wasteClass: 'construction', wasteCode: null },
          },
        }),
      );
    given(decider)
      .when(open({ ...construction, ...withAuth({ kind: 'approval', wasteClasses: ['construction'] }) }))
      .thenThrows('manifest.authorization-kind');
  });

  it('numbers per Art 15: the year of opening and the generator’s city', () => {
    given(decider)
      .when(open({ manifestNumber: '20255101000001' }))
      .thenThrows({ code: 'manifest.number-year', field: 'manifestNumber' });
    given(decider)
      .when(open({ manifestNumber: '20265001000001' }))
      .thenThrows({ code: 'manifest.number-jurisdiction', field: 'manifestNumber' });
    given(decider)
      .when(open({ manifestNumber: '2026510100001' }))
      .thenThrows({
        code: 'manifest.invalid-value',
        field: 'manifestNumber',
        details: { rule: 'manifestNumber.format' },
      });
  });

  it('records the declared weight exactly and refuses zero, floats beyond grams and bad codes', () => {
    given(decider)
      .when(open(withWaste({ declaredKg: '0' })))
      .thenThrows({ code: 'manifest.declared-weight-zero', field: 'waste.declaredKg' });
    given(decider)
      .when(open(withWaste({ declaredKg: '12.3456' })))
      .thenThrows({ field: 'waste.declaredKg', details: { rule: 'quantity.precision' } });
    given(decider)
      .when(open(withWaste({ wasteClass: 'hazardous:900-249-42' })))
      .thenThrows({ field: 'waste.wasteClass', details: { rule: 'wasteCode.category' } });
    given(decider)
      .when(open({ generator: { creditCode: '91510100MA61RK3T20', jurisdiction: '510100' } }))
      .thenThrows({ code: 'manifest.invalid-value', field: 'generator.creditCode' });
  });

  it('needs hazard characteristics for hazardous waste, each known and listed once', () => {
    given(decider)
      .when(open(withWaste({ hazardCharacteristics: [] })))
      .thenThrows({ code: 'manifest.hazard-characteristics-required', field: 'waste.hazardCharacteristics' });
    given(decider)
      .when(open(withWaste({ hazardCharacteristics: ['T', 'X'] })))
      .thenThrows({
        field: 'waste.hazardCharacteristics[1]',
        details: { rule: 'hazardCharacteristic.unknown' },
      });
    given(decider)
      .when(open(withWaste({ hazardCharacteristics: ['T', 'T'] })))
      .thenThrows('manifest.hazard-characteristics-duplicate');
  });

  it('needs the emergency measures, packaging, form and name', () => {
    for (const field of ['emergencyMeasures', 'packaging', 'form', 'name'] as const) {
      given(decider)
        .when(open(withWaste({ [field]: ' ' })))
        .thenThrows({ code: 'manifest.required', field: `waste.${field}`, message: { zh: /不能为空/ } });
    }
  });

  it('the consignor is the generator or the receiver, nobody else', () => {
    given(decider)
      .when(open({ consignor: 'receiver' }))
      .thenState((s) => expect(s).toMatchObject({ opened: { consignor: 'receiver' } }));
    given(decider)
      .when(open({ consignor: 'carrier' as 'generator' }))
      .thenThrows({ code: 'manifest.consignor', field: 'consignor' });
  });
});

describe('manifest: carriage', () => {
  it('the engaged carrier picks up; the event names the driver only by subject reference', () => {
    given(decider, opened).when(pickup()).then(pickedUp);
    given(decider, opened)
      .when(pickup())
      .thenState((s) =>
        expect(nextActions(s)).toEqual([
          { action: 'Deliver', party: 'carrier', creditCode: CARRIER, dueAt: TRANSIT_DUE, overdue: false },
          { action: 'HandOver', party: 'carrier', creditCode: CARRIER, dueAt: TRANSIT_DUE, overdue: false },
        ]),
      );
  });

  it('takes the maximum transit time of the adopted agreement from the command', () => {
    given(decider, opened)
      .when(pickup({ maxTransitDays: 5 }))
      .thenState((s) =>
        expect(s).toMatchObject({ maxTransitDays: 5, transitDueAt: '2026-10-04T16:00:00.000Z' }),
      );
    given(decider, opened)
      .when(pickup({ maxTransitDays: 0 }))
      .thenThrows({ code: 'manifest.max-transit-days', field: 'maxTransitDays' });
    const twoDays = manifestDecider({ calendar, defaultMaxTransitDays: 2 });
    given(twoDays, opened)
      .when(pickup())
      .thenState((s) => expect(s).toMatchObject({ transitDueAt: '2026-10-01T16:00:00.000Z' }));
  });

  it('refuses another carrier, a bad plate, a missing licence or driver, and a manifest not open', () => {
    given(decider, opened)
      .when(pickup({ carrierCreditCode: CARRIER_2 }))
      .thenThrows({ code: 'manifest.not-current-carrier', field: 'carrierCreditCode' });
    given(decider, opened)
      .when(pickup({ vehiclePlate: 'AB-1234' }))
      .thenThrows({ code: 'manifest.vehicle-plate-format', field: 'vehiclePlate' });
    given(decider, opened)
      .when(pickup({ operatingLicence: '' }))
      .thenThrows({ code: 'manifest.required', field: 'operatingLicence' });
    given(decider, opened)
      .when(pickup({ driverSubjectId: '' }))
      .thenThrows({ code: 'manifest.required', field: 'driverSubjectId' });
    given(decider).when(pickup()).thenThrows({ code: 'manifest.not-found', field: 'manifestNumber' });
    given(decider, ...inTransit)
      .when(pickup())
      .thenThrows({ code: 'manifest.wrong-status', details: { status: 'in-transit' } });
  });

  it('hands over between carriers with time and place; then only the new carrier acts', () => {
    const handOver = (patch: Record<string, unknown> = {}) =>
      cmd(
        'HandOver',
        {
          manifestNumber: N,
          fromCarrierCreditCode: CARRIER,
          to: leg2,
          at: '2026-09-29T06:00:00Z',
          place: '重庆市永川区 G85 服务区',
          ...patch,
        },
        '2026-09-29T06:30:00Z',
      );
    const handedOver: ManifestEvent = {
      type: 'ManifestHandedOver',
      data: {
        manifestNumber: N,
        fromCarrierCreditCode: CARRIER,
        to: leg2,
        at: '2026-09-29T06:00:00.000Z',
        place: '重庆市永川区 G85 服务区',
      },
    };
    given(decider, ...inTransit)
      .when(handOver())
      .then(handedOver);
    given(decider, ...inTransit, handedOver)
      .when(deliver(DELIVERED_AT, CARRIER))
      .thenThrows({ code: 'manifest.not-current-carrier', field: 'carrierCreditCode' });
    given(decider, ...inTransit, handedOver)
      .when(deliver(DELIVERED_AT, CARRIER_2))
      .then({
        type: 'ManifestDelivered',
        data: { ...(delivered.data as object), carrierCreditCode: CARRIER_2 },
      } as ManifestEvent);
    given(decider, ...inTransit)
      .when(handOver({ fromCarrierCreditCode: CARRIER_2 }))
      .thenThrows({ code: 'manifest.not-current-carrier', field: 'fromCarrierCreditCode' });
    given(decider, ...inTransit)
      .when(handOver({ place: '' }))
      .thenThrows({ code: 'manifest.required', field: 'place' });
    given(decider, ...inTransit)
      .when(handOver({ at: '2026-09-29T01:59:59Z' }))
      .thenThrows({ code: 'manifest.handover-before-pickup', field: 'at' });
    given(decider, ...inTransit)
      .when(handOver({ at: '2026-09-29T07:00:00Z' }))
      .thenThrows({ code: 'manifest.in-the-future', field: 'at' });
    given(decider, ...inTransit)
      .when(handOver({ at: 'yesterday' }))
      .thenThrows({ code: 'manifest.invalid-instant', field: 'at' });
    given(decider, ...inTransit)
      .when(handOver({ to: { ...leg2, vehiclePlate: '' } }))
      .thenThrows({ field: 'to.vehiclePlate' });
    given(decider, opened).when(handOver()).thenThrows('manifest.wrong-status');
  });

  it('delivers at the receiver, with the receipt due in 5 working days (holidays skipped)', () => {
    given(decider, ...inTransit)
      .when(deliver())
      .then(delivered);
    given(decider, opened).when(deliver()).thenThrows('manifest.wrong-status');
  });
});

describe('manifest: transit timer', () => {
  it('one instant before the end of the transit time: nothing', () => {
    given(decider, ...inTransit)
      .when(cmd('TransitTimerFired', { manifestNumber: N }, '2026-10-02T15:59:59.999Z'))
      .thenNothing();
  });

  it('at the end of the transit time: overdue on the carrier, once', () => {
    const late = overdue('transit', TRANSIT_DUE, '2026-10-02T16:00:00.000Z', CARRIER);
    given(decider, ...inTransit)
      .when(cmd('TransitTimerFired', { manifestNumber: N }, '2026-10-02T16:00:00Z'))
      .then(late);
    given(decider, ...inTransit, late)
      .when(cmd('TransitTimerFired', { manifestNumber: N }, '2026-10-03T16:00:00Z'))
      .thenNothing();
    given(decider, ...inTransit, late)
      .when(cmd('TransitTimerFired', { manifestNumber: N }, '2026-10-03T16:00:00Z'))
      .thenState((s) => expect(nextActions(s)[0]).toMatchObject({ action: 'Deliver', overdue: true }));
  });

  it('uses the transit time the command brings from the agreement', () => {
    given(decider, ...inTransit)
      .when(cmd('TransitTimerFired', { manifestNumber: N, maxTransitDays: 5 }, '2026-10-02T16:00:00Z'))
      .thenNothing();
    given(decider, ...inTransit)
      .when(cmd('TransitTimerFired', { manifestNumber: N, maxTransitDays: 1 }, '2026-09-30T16:00:00Z'))
      .then(overdue('transit', '2026-09-30T16:00:00.000Z', '2026-09-30T16:00:00.000Z', CARRIER));
  });

  it('a stale timer after delivery records nothing', () => {
    given(decider, ...atReceiver)
      .when(cmd('TransitTimerFired', { manifestNumber: N }, '2026-10-05T00:00:00Z'))
      .thenNothing();
    given(decider)
      .when(cmd('TransitTimerFired', { manifestNumber: N }, '2026-10-05T00:00:00Z'))
      .thenNothing();
  });

  it('a late delivery whose timer was lost records the overdue first', () => {
    given(decider, ...inTransit)
      .when(deliver('2026-10-03T02:00:00Z'))
      .then(overdue('transit', TRANSIT_DUE, '2026-10-03T02:00:00.000Z', CARRIER), {
        type: 'ManifestDelivered',
        data: {
          manifestNumber: N,
          carrierCreditCode: CARRIER,
          facilityId: 'facility-cq-1',
          deliveredAt: '2026-10-03T02:00:00.000Z',
          // Delivered on a holiday: 10-08, 10-09, 10-10, 10-12, 10-13 → 24:00 on 10-13.
          receiptDueAt: '2026-10-13T16:00:00.000Z',
          receiptDueProvisional: false,
        },
      });
  });
});

describe('manifest: receipt and weight discrepancy', () => {
  it('accepts with the weighed weight, which replaces the declared one (both carried)', () => {
    given(decider, ...atReceiver)
      .when(accept('3990'))
      .then(received('3990.000'));
    given(decider, ...atReceiver)
      .when(accept('3990'))
      .thenState((s) => {
        expect(s).toMatchObject({ status: 'received', acceptedKg: '3990.000' });
        expect(nextActions(s)).toEqual([
          { action: 'ConfirmDisposal', party: 'receiver', creditCode: RECEIVER, dueAt: null, overdue: false },
        ]);
      });
  });

  it('exactly 5% (and more than 100 kg) is NOT a discrepancy; a gram more is', () => {
    given(decider, ...atReceiver)
      .when(accept('4200'))
      .then(received('4200.000'));
    given(decider, ...atReceiver)
      .when(accept('3800'))
      .then(received('3800.000'));
    given(decider, ...atReceiver)
      .when(accept('4200.001'))
      .then(received('4200.001'), weightDiscrepancy('4200.001', '200.001'));
    given(decider, ...atReceiver)
      .when(accept('3799.999'))
      .then(received('3799.999'), weightDiscrepancy('3799.999', '200.001'));
  });

  it('exactly 100 kg (and more than 5%) is NOT a discrepancy; a gram more is', () => {
    const small = [
      {
        ...opened,
        data: { ...openedData, waste: { ...openedData.waste, declaredKg: '1000.000' } },
      } as ManifestEvent,
      pickedUp,
      delivered,
    ];
    const smallReceived = (kg: string) => received(kg, { declaredKg: '1000.000' });
    given(decider, ...small)
      .when(accept('1100'))
      .then(smallReceived('1100.000'));
    given(decider, ...small)
      .when(accept('900'))
      .then(smallReceived('900.000'));
    given(decider, ...small)
      .when(accept('1100.001'))
      .then(smallReceived('1100.001'), {
        type: 'ManifestDiscrepancyFound',
        data: { ...(weightDiscrepancy('1100.001', '100.001').data as object), declaredKg: '1000.000' },
      } as ManifestEvent);
  });

  it('only one of the two tolerances exceeded is not a discrepancy', () => {
    // 4000 → 3850: 150 kg (> 100 kg) but 3.75% (< 5%).
    given(decider, ...atReceiver)
      .when(accept('3850'))
      .then(received('3850.000'));
    const small = [
      {
        ...opened,
        data: { ...openedData, waste: { ...openedData.waste, declaredKg: '1000.000' } },
      } as ManifestEvent,
      pickedUp,
      delivered,
    ];
    // 1000 → 1060: 6% (> 5%) but 60 kg (< 100 kg).
    given(decider, ...small)
      .when(accept('1060'))
      .then(received('1060.000', { declaredKg: '1000.000' }));
  });

  it('uses the tolerance of the adopted agreement that comes with the command', () => {
    const tolerance = { percentBasisPoints: 250, kg: '50' };
    given(decider, ...atReceiver)
      .when(accept('4100.001', { tolerance }))
      .then(received('4100.001'), weightDiscrepancy('4100.001', '100.001', 250, '50.000'));
    given(decider, ...atReceiver)
      .when(accept('4100', { tolerance }))
      .then(received('4100.000'));
    given(decider, ...atReceiver)
      .when(accept('4100', { tolerance: { percentBasisPoints: 10_001, kg: '50' } }))
      .thenThrows({ code: 'manifest.tolerance-percent', field: 'tolerance.percentBasisPoints' });
    given(decider, ...atReceiver)
      .when(accept('4100', { tolerance: { percentBasisPoints: 500, kg: '-1' } }))
      .thenThrows({ code: 'manifest.invalid-value', field: 'tolerance.kg' });
    const strict = manifestDecider({ calendar, defaultTolerance: { percentBasisPoints: 100, kg: '10' } });
    given(strict, ...atReceiver)
      .when(accept('4040.001'))
      .then(received('4040.001'), weightDiscrepancy('4040.001', '40.001', 100, '10.000'));
  });

  it('any other difference the receiver reports is a discrepancy of that kind, reported to its bureau', () => {
    given(decider, ...atReceiver)
      .when(
        accept('4000', {
          differences: [
            { kind: 'packaging', declared: 'IBC 吨桶', found: '200 L 铁桶' },
            { kind: 'characteristics', declared: 'T, I', found: 'T, I, C' },
          ],
        }),
      )
      .then(
        received('4000.000'),
        {
          type: 'ManifestDiscrepancyFound',
          data: {
            manifestNumber: N,
            kind: 'packaging',
            declared: 'IBC 吨桶',
            found: '200 L 铁桶',
            reportTo: '500000',
          },
        },
        {
          type: 'ManifestDiscrepancyFound',
          data: {
            manifestNumber: N,
            kind: 'characteristics',
            declared: 'T, I',
            found: 'T, I, C',
            reportTo: '500000',
          },
        },
      );
    given(decider, ...atReceiver)
      .when(accept('4000', { differences: [{ kind: 'weight' as 'name', declared: '1', found: '2' }] }))
      .thenThrows({ code: 'manifest.difference-kind', field: 'differences[0].kind' });
    given(decider, ...atReceiver)
      .when(accept('4000', { differences: [{ kind: 'name', declared: '废矿物油', found: '' }] }))
      .thenThrows({ code: 'manifest.required', field: 'differences[0].found' });
  });

  it('refuses a zero accepted weight, a missing method, and a receipt before delivery', () => {
    given(decider, ...atReceiver)
      .when(accept('0'))
      .thenThrows({ code: 'manifest.accepted-weight-zero', field: 'acceptedKg' });
    given(decider, ...atReceiver)
      .when(accept('4000', { method: '' }))
      .thenThrows({ code: 'manifest.required', field: 'method' });
    given(decider, ...inTransit)
      .when(accept('4000'))
      .thenThrows('manifest.wrong-status');
    given(decider, ...atReceiver, received('4000.000'))
      .when(accept('4000'))
      .thenThrows('manifest.wrong-status');
  });

  it('accepts part of the load: the weighed total is compared, the accepted part counts', () => {
    const partially = (acceptedKg: string, rejectedKg: string, extra: Record<string, unknown> = {}) =>
      cmd(
        'PartiallyAccept',
        {
          manifestNumber: N,
          acceptedKg,
          rejectedKg,
          method: 'R9 废油再提炼',
          reasons: ['两桶含水率超标'],
          disposition: 'return-to-generator',
          ...extra,
        },
        ACCEPTED_AT,
      );
    const partial: ManifestEvent = {
      type: 'ManifestPartiallyAccepted',
      data: {
        manifestNumber: N,
        declaredKg: '4000.000',
        acceptedKg: '3600.000',
        rejectedKg: '400.000',
        reasons: ['两桶含水率超标'],
        disposition: 'return-to-generator',
        otherFacilityId: null,
      },
    };
    given(decider, ...atReceiver)
      .when(partially('3600', '400'))
      .then(partial, received('3600.000', { acceptance: 'partial' }));
    given(decider, ...atReceiver)
      .when(partially('3600', '400'))
      .thenState((s) => expect(s).toMatchObject({ status: 'partially-accepted', acceptedKg: '3600.000' }));
    given(decider, ...atReceiver)
      .when(partially('3600', '300'))
      .then(
        // 3900 weighed against 4000 declared: 100 kg exactly, within tolerance.
        partialWith('3600.000', '300.000'),
        received('3600.000', { acceptance: 'partial' }),
      );
    given(decider, ...atReceiver)
      .when(partially('3600', '799.999'))
      .then(
        partialWith('3600.000', '799.999'),
        received('3600.000', { acceptance: 'partial' }),
        weightDiscrepancy('4399.999', '399.999'),
      );
    given(decider, ...atReceiver)
      .when(partially('3600', '0'))
      .thenThrows({ code: 'manifest.rejected-weight-zero', field: 'rejectedKg' });
    given(decider, ...atReceiver)
      .when(partially('0', '4000'))
      .thenThrows({ code: 'manifest.accepted-weight-zero', field: 'acceptedKg' });
    given(decider, ...atReceiver)
      .when(partially('3600', '400', { reasons: [' '] }))
      .thenThrows({ code: 'manifest.reasons-required', field: 'reasons' });
    given(decider, ...atReceiver)
      .when(partially('3600', '400', { disposition: 'other-facility' }))
      .thenThrows({ code: 'manifest.required', field: 'otherFacilityId' });

    function partialWith(acceptedKg: string, rejectedKg: string): ManifestEvent {
      return { ...partial, data: { ...(partial.data as object), acceptedKg, rejectedKg } } as ManifestEvent;
    }
  });

  it('rejects with reasons: nothing accepted, the declared weight goes back to the approval', () => {
    const reject = (extra: Record<string, unknown> = {}) =>
      cmd(
        'RejectReceipt',
        {
          manifestNumber: N,
          reasons: ['废物名称与联单不符'],
          disposition: 'other-facility',
          otherFacilityId: 'facility-cq-2',
          ...extra,
        },
        ACCEPTED_AT,
      );
    const rejected: ManifestEvent = {
      type: 'ManifestRejected',
      data: {
        manifestNumber: N,
        declaredKg: '4000.000',
        acceptedKg: '0.000',
        authorizationId: 'transfer-1',
        reasons: ['废物名称与联单不符'],
        disposition: 'other-facility',
        otherFacilityId: 'facility-cq-2',
        rejectedAt: '2026-10-08T03:00:00.000Z',
        onTime: true,
      },
    };
    given(decider, ...atReceiver)
      .when(reject())
      .then(rejected);
    given(decider, ...atReceiver)
      .when(reject({ differences: [{ kind: 'name', declared: '废矿物油', found: '废乳化液' }] }))
      .then(rejected, {
        type: 'ManifestDiscrepancyFound',
        data: {
          manifestNumber: N,
          kind: 'name',
          declared: '废矿物油',
          found: '废乳化液',
          reportTo: '500000',
        },
      });
    given(decider, ...atReceiver)
      .when(reject())
      .thenState((s) => {
        expect(s).toMatchObject({ status: 'rejected', acceptedKg: '0.000' });
        expect(nextActions(s)).toEqual([]);
      });
    given(decider, ...atReceiver)
      .when(reject({ reasons: [] }))
      .thenThrows({ code: 'manifest.reasons-required', field: 'reasons' });
    given(decider, ...atReceiver)
      .when(reject({ disposition: 'landfill' }))
      .thenThrows({ code: 'manifest.disposition', field: 'disposition' });
    given(decider, ...atReceiver, rejected)
      .when(cmd('ConfirmDisposal', { manifestNumber: N, method: 'D10' }, ACCEPTED_AT))
      .thenThrows('manifest.wrong-status');
  });
});

describe('manifest: receipt timer (5 working days)', () => {
  it('waits on the receiver with the due date', () => {
    given(decider, ...inTransit)
      .when(deliver())
      .thenState((s) =>
        expect(nextActions(s).map((a) => [a.action, a.party, a.dueAt, a.overdue])).toEqual([
          ['AcceptReceipt', 'receiver', RECEIPT_DUE, false],
          ['PartiallyAccept', 'receiver', RECEIPT_DUE, false],
          ['RejectReceipt', 'receiver', RECEIPT_DUE, false],
        ]),
      );
  });

  it('one instant before 24:00 of the 5th working day: nothing', () => {
    given(decider, ...atReceiver)
      .when(cmd('ReceiptTimerFired', { manifestNumber: N }, '2026-10-12T15:59:59.999Z'))
      .thenNothing();
  });

  it('at the deadline: overdue on the receiver, once; a receipt after it is recorded as late', () => {
    const late = overdue('receipt', RECEIPT_DUE, '2026-10-12T16:00:00.000Z', RECEIVER);
    given(decider, ...atReceiver)
      .when(cmd('ReceiptTimerFired', { manifestNumber: N }, '2026-10-12T16:00:00Z'))
      .then(late);
    given(decider, ...atReceiver, late)
      .when(cmd('ReceiptTimerFired', { manifestNumber: N }, '2026-10-13T16:00:00Z'))
      .thenNothing();
    given(decider, ...atReceiver, late)
      .when(accept('4000', {}, '2026-10-13T03:00:00Z'))
      .then(
        received('4000.000', {
          receiptDate: '2026-10-13',
          receivedAt: '2026-10-13T03:00:00.000Z',
          onTime: false,
        }),
      );
  });

  it('a late receipt whose timer was lost records the overdue after the receipt', () => {
    given(decider, ...atReceiver)
      .when(accept('4000', {}, '2026-10-13T03:00:00Z'))
      .then(
        received('4000.000', {
          receiptDate: '2026-10-13',
          receivedAt: '2026-10-13T03:00:00.000Z',
          onTime: false,
        }),
        overdue('receipt', RECEIPT_DUE, '2026-10-13T03:00:00.000Z', RECEIVER),
      );
  });

  it('one late receipt with a discrepancy: the receipt, then the discrepancy, then the lateness', () => {
    const at = '2026-10-13T03:00:00Z';
    const late = overdue('receipt', RECEIPT_DUE, '2026-10-13T03:00:00.000Z', RECEIVER);
    given(decider, ...atReceiver)
      .when(accept('3700', {}, at))
      .then(
        received('3700.000', {
          receiptDate: '2026-10-13',
          receivedAt: '2026-10-13T03:00:00.000Z',
          onTime: false,
        }),
        weightDiscrepancy('3700.000', '300.000'),
        late,
      );
    given(decider, ...atReceiver)
      .when(
        cmd(
          'RejectReceipt',
          {
            manifestNumber: N,
            reasons: ['废物名称与联单不符'],
            disposition: 'return-to-generator',
            differences: [{ kind: 'name', declared: '废矿物油', found: '废乳化液' }],
          },
          at,
        ),
      )
      .then(
        {
          type: 'ManifestRejected',
          data: {
            manifestNumber: N,
            declaredKg: '4000.000',
            acceptedKg: '0.000',
            authorizationId: 'transfer-1',
            reasons: ['废物名称与联单不符'],
            disposition: 'return-to-generator',
            otherFacilityId: null,
            rejectedAt: '2026-10-13T03:00:00.000Z',
            onTime: false,
          },
        },
        {
          type: 'ManifestDiscrepancyFound',
          data: {
            manifestNumber: N,
            kind: 'name',
            declared: '废矿物油',
            found: '废乳化液',
            reportTo: '500000',
          },
        },
        late,
      );
  });

  it('a stale timer after the receipt records nothing', () => {
    given(decider, ...atReceiver, received('4000.000'))
      .when(cmd('ReceiptTimerFired', { manifestNumber: N }, '2026-10-20T00:00:00Z'))
      .thenNothing();
  });
});

describe('manifest: a provisional receipt deadline (a year whose holiday notice is not loaded yet)', () => {
  // Picked up Sunday 12-27, delivered Monday 2026-12-28 10:00 in Shanghai: the 5th working day falls in
  // 2027, not in the bundled calendar: counted Monday–Friday (12-29, 30, 31, 01-01, 01-04), provisional.
  const pickedUpLate: ManifestEvent = {
    type: 'ManifestPickedUp',
    data: {
      ...(pickedUp as Extract<ManifestEvent, { type: 'ManifestPickedUp' }>).data,
      pickedUpAt: '2026-12-27T02:00:00.000Z',
      transitDueAt: '2026-12-30T16:00:00.000Z',
    },
  };
  const DELIVERED_LATE = '2026-12-28T02:00:00.000Z';
  const PROVISIONAL_DUE = '2027-01-04T16:00:00.000Z';
  // Test data, not the real 2027 notice: New Year 2027-01-01 (Friday) to 01-03 → 12-29, 30, 31, 01-04, 01-05.
  const with2027 = calendar.withYear(2027, {
    source: 'test notice',
    holidays: { '元旦 New Year': ['2027-01-01', '2027-01-02', '2027-01-03'] },
    workdays: [],
  });
  if (!with2027.ok) throw new Error('test calendar');
  const updated = manifestDecider({ calendar: with2027.value });
  const FINAL_DUE = '2027-01-05T16:00:00.000Z';
  const [lateDelivered] = decider.decide(deliver(DELIVERED_LATE), fold(decider, [opened, pickedUpLate]));
  const lateAtReceiver = [opened, pickedUpLate, lateDelivered];
  const recompute = (now = '2026-12-29T01:00:00Z') =>
    cmd('RecomputeProvisionalReceiptDeadline', { manifestNumber: N }, now);
  const recomputed: ManifestEvent = {
    type: 'ManifestReceiptDeadlineRecomputed',
    data: {
      manifestNumber: N,
      deliveredAt: DELIVERED_LATE,
      previous: { dueAt: PROVISIONAL_DUE, lastDay: '2027-01-04', provisional: true },
      receiptDueAt: FINAL_DUE,
      lastDay: '2027-01-05',
      provisional: false,
    },
  };

  it('is counted Monday–Friday and marked provisional', () => {
    expect(lateDelivered).toEqual({
      type: 'ManifestDelivered',
      data: {
        manifestNumber: N,
        carrierCreditCode: CARRIER,
        facilityId: 'facility-cq-1',
        deliveredAt: DELIVERED_LATE,
        receiptDueAt: PROVISIONAL_DUE,
        receiptDueProvisional: true,
      },
    });
    expect(fold(decider, lateAtReceiver)).toMatchObject({
      receiptDueAt: PROVISIONAL_DUE,
      receiptDueProvisional: true,
    });
  });

  it('is recomputed when the year is loaded, with the old and new due dates; the worklist waits to the new one', () => {
    given(updated, ...lateAtReceiver)
      .when(recompute())
      .then(recomputed);
    given(updated, ...lateAtReceiver)
      .when(recompute())
      .thenState((s) => {
        expect(s).toMatchObject({ receiptDueAt: FINAL_DUE, receiptDueProvisional: false });
        expect(nextActions(s).map((a) => [a.action, a.dueAt, a.overdue])).toEqual([
          ['AcceptReceipt', FINAL_DUE, false],
          ['PartiallyAccept', FINAL_DUE, false],
          ['RejectReceipt', FINAL_DUE, false],
        ]);
      });
    // The old due time has no effect any more; the new one records the receipt overdue.
    given(updated, ...lateAtReceiver, recomputed)
      .when(cmd('ReceiptTimerFired', { manifestNumber: N }, PROVISIONAL_DUE))
      .thenNothing();
    given(updated, ...lateAtReceiver, recomputed)
      .when(cmd('ReceiptTimerFired', { manifestNumber: N }, FINAL_DUE))
      .then(overdue('receipt', FINAL_DUE, FINAL_DUE, RECEIVER));
    // A receipt on 01-05, after the provisional day, is on time.
    given(updated, ...lateAtReceiver, recomputed)
      .when(accept('4000', {}, '2027-01-05T03:00:00Z'))
      .then(
        received('4000.000', {
          receiptDate: '2027-01-05',
          receivedAt: '2027-01-05T03:00:00.000Z',
          onTime: true,
        }),
      );
    const events = [...lateAtReceiver, recomputed];
    expect(fold(updated, JSON.parse(JSON.stringify(events)) as ManifestEvent[])).toEqual(
      fold(updated, events),
    );
  });

  it('records nothing (never refused) when there is nothing to recompute', () => {
    // Final already; the calendar still lacks 2027; recomputed before.
    given(updated, ...atReceiver)
      .when(recompute())
      .thenNothing();
    given(decider, ...lateAtReceiver)
      .when(recompute())
      .thenNothing();
    given(updated, ...lateAtReceiver, recomputed)
      .when(recompute())
      .thenNothing();
    // Received since, or no such manifest: nothing waits on the deadline.
    given(updated, ...lateAtReceiver, received('4000.000'))
      .when(recompute())
      .thenNothing();
    given(updated).when(recompute()).thenNothing();
  });

  it('does not rewrite a receipt overdue already recorded', () => {
    const missed = overdue('receipt', PROVISIONAL_DUE, PROVISIONAL_DUE, RECEIVER);
    given(updated, ...lateAtReceiver, missed)
      .when(recompute('2027-01-05T01:00:00Z'))
      .thenNothing();
  });
});

describe('manifest: disposal and corrections', () => {
  const afterReceipt = [...atReceiver, received('4000.000')];

  it('confirms disposal with its method', () => {
    given(decider, ...afterReceipt)
      .when(cmd('ConfirmDisposal', { manifestNumber: N, method: 'R9 废油再提炼' }, '2026-10-20T02:00:00Z'))
      .then({
        type: 'ManifestDisposed',
        data: { manifestNumber: N, method: 'R9 废油再提炼', disposedAt: '2026-10-20T02:00:00.000Z' },
      });
    given(decider, ...afterReceipt)
      .when(cmd('ConfirmDisposal', { manifestNumber: N, method: '' }, '2026-10-20T02:00:00Z'))
      .thenThrows({ code: 'manifest.required', field: 'method' });
    given(decider, ...atReceiver)
      .when(cmd('ConfirmDisposal', { manifestNumber: N, method: 'D10' }, '2026-10-20T02:00:00Z'))
      .thenThrows('manifest.wrong-status');
  });

  const correct = (acceptedKg: string, extra: Record<string, unknown> = {}) =>
    cmd(
      'CorrectReceipt',
      { manifestNumber: N, acceptedKg, reason: '地磅校准后复称', ...extra },
      '2026-10-21T02:00:00Z',
    );
  const corrected = (previousAcceptedKg: string, acceptedKg: string): ManifestEvent => ({
    type: 'ManifestReceiptCorrected',
    data: {
      manifestNumber: N,
      declaredKg: '4000.000',
      previousAcceptedKg,
      acceptedKg,
      reason: '地磅校准后复称',
      wasteClass: 'hazardous:900-249-08',
      wasteCode: '900-249-08',
      fromJurisdiction: '510100',
      toJurisdiction: '500112',
      facilityId: 'facility-cq-1',
      authorizationId: 'transfer-1',
      correctedAt: '2026-10-21T02:00:00.000Z',
    },
  });

  it('corrects a receipt with a new event, never an edit; even after disposal', () => {
    given(decider, ...afterReceipt)
      .when(correct('3950'))
      .then(corrected('4000.000', '3950.000'));
    const disposed: ManifestEvent = {
      type: 'ManifestDisposed',
      data: { manifestNumber: N, method: 'R9', disposedAt: '2026-10-20T02:00:00.000Z' },
    };
    given(decider, ...afterReceipt, disposed, corrected('4000.000', '3950.000'))
      .when(correct('3960'))
      .then(corrected('3950.000', '3960.000'));
    given(decider, ...afterReceipt, corrected('4000.000', '3950.000'))
      .when(correct('3950'))
      .thenThrows({ code: 'manifest.correction-changes-nothing', field: 'acceptedKg' });
  });

  it('a correction that takes the weight out of tolerance raises the discrepancy', () => {
    given(decider, ...afterReceipt)
      .when(correct('3700'))
      .then(corrected('4000.000', '3700.000'), weightDiscrepancy('3700.000', '300.000'));
  });

  it('refuses a correction before the receipt, of a rejection, without a reason, or to zero', () => {
    given(decider, ...atReceiver)
      .when(correct('3950'))
      .thenThrows('manifest.wrong-status');
    const rejected: ManifestEvent = {
      type: 'ManifestRejected',
      data: {
        manifestNumber: N,
        declaredKg: '4000.000',
        acceptedKg: '0.000',
        authorizationId: 'transfer-1',
        reasons: ['废物名称与联单不符'],
        disposition: 'return-to-generator',
        otherFacilityId: null,
        rejectedAt: '2026-10-08T03:00:00.000Z',
        onTime: true,
      },
    };
    given(decider, ...atReceiver, rejected)
      .when(correct('3950'))
      .thenThrows({ code: 'manifest.wrong-status', details: { status: 'rejected' } });
    given(decider, ...afterReceipt)
      .when(correct('3950', { reason: '' }))
      .thenThrows({ code: 'manifest.required', field: 'reason' });
    given(decider, ...afterReceipt)
      .when(correct('0'))
      .thenThrows({ code: 'manifest.accepted-weight-zero', field: 'acceptedKg' });
  });
});

describe("manifest: the receiving-side bureau's review of discrepancies (Art 17)", () => {
  const REVIEWED_AT = '2026-10-22T02:00:00Z';
  // The Chongqing bureau (the facility is in 500112): the province the discrepancies are reported to.
  const bureau = (jurisdiction = '500000', agencyId = 'cq-eeb') => ({
    commandId: `review-${REVIEWED_AT}`,
    now: new Date(REVIEWED_AT),
    actor: { kind: 'user' as const, userId: `${agencyId}.staff`, agencyId, jurisdiction },
    correlationId: 'corr-review',
  });
  const review = (
    decision: string,
    note = '  复核地磅记录，差异系计量误差 / weighbridge records checked  ',
    metadata = bureau(),
  ): ManifestCommand => ({
    type: 'ReviewManifestDiscrepancies',
    data: { manifestNumber: N, decision: decision as 'no-further-action', note },
    metadata,
  });
  const packaging: ManifestEvent = {
    type: 'ManifestDiscrepancyFound',
    data: {
      manifestNumber: N,
      kind: 'packaging',
      declared: 'IBC 吨桶',
      found: '200 L 铁桶',
      reportTo: '500000',
    },
  };
  const reviewed = (
    decision: 'no-further-action' | 'refer-to-enforcement',
    kinds: ('weight' | 'packaging')[],
  ): ManifestEvent => ({
    type: 'ManifestDiscrepanciesReviewed',
    data: {
      manifestNumber: N,
      decision,
      note: '复核地磅记录，差异系计量误差 / weighbridge records checked',
      kinds,
      reportTo: '500000',
      reviewedBy: 'cq-eeb',
      reviewedAt: '2026-10-22T02:00:00.000Z',
    },
  });
  const corrected = (previousAcceptedKg: string, acceptedKg: string): ManifestEvent => ({
    type: 'ManifestReceiptCorrected',
    data: {
      manifestNumber: N,
      declaredKg: '4000.000',
      previousAcceptedKg,
      acceptedKg,
      reason: '地磅校准后复称',
      wasteClass: 'hazardous:900-249-08',
      wasteCode: '900-249-08',
      fromJurisdiction: '510100',
      toJurisdiction: '500112',
      facilityId: 'facility-cq-1',
      authorizationId: 'transfer-1',
      correctedAt: '2026-10-21T02:00:00.000Z',
    },
  });
  // 300 kg (7.5%) short and other drums than declared: two discrepancies open.
  const withDiscrepancies = [
    ...atReceiver,
    received('3700.000'),
    weightDiscrepancy('3700.000', '300.000'),
    packaging,
  ];

  it('keeps the discrepancies found open, in the order found, until the bureau reviews them', () => {
    const open = fold(decider, withDiscrepancies);
    expect(open).toMatchObject({ openDiscrepancies: ['weight', 'packaging'] });
    expect(discrepancyReview(open)).toEqual({ reportTo: '500000', kinds: ['weight', 'packaging'] });
    // Not the parties' work: nextActions names the receiver's disposal only.
    expect(nextActions(open).map((a) => a.action)).toEqual(['ConfirmDisposal']);
    const none = fold(decider, [...atReceiver, received('3990.000')]);
    expect(none).toMatchObject({ openDiscrepancies: [] });
    expect(discrepancyReview(none)).toBeNull();
  });

  it('closes every open discrepancy with the decision, the note (trimmed), the kinds and the reviewing agency', () => {
    given(decider, ...withDiscrepancies)
      .when(review('no-further-action'))
      .then(reviewed('no-further-action', ['weight', 'packaging']));
    given(decider, ...withDiscrepancies)
      .when(review('refer-to-enforcement'))
      .then(reviewed('refer-to-enforcement', ['weight', 'packaging']));
    const closed = fold(decider, [
      ...withDiscrepancies,
      reviewed('refer-to-enforcement', ['weight', 'packaging']),
    ]);
    expect(closed).toMatchObject({ status: 'received', openDiscrepancies: [] });
    expect(discrepancyReview(closed)).toBeNull();
  });

  it('reviews after a rejection and after disposal too: the discrepancy outlives the receiver’s work', () => {
    const disposed: ManifestEvent = {
      type: 'ManifestDisposed',
      data: { manifestNumber: N, method: 'R9', disposedAt: '2026-10-20T02:00:00.000Z' },
    };
    given(decider, ...withDiscrepancies, disposed)
      .when(review('no-further-action'))
      .then(reviewed('no-further-action', ['weight', 'packaging']));
    const rejected: ManifestEvent = {
      type: 'ManifestRejected',
      data: {
        manifestNumber: N,
        declaredKg: '4000.000',
        acceptedKg: '0.000',
        authorizationId: 'transfer-1',
        reasons: ['包装与联单不符'],
        disposition: 'return-to-generator',
        otherFacilityId: null,
        rejectedAt: '2026-10-08T03:00:00.000Z',
        onTime: true,
      },
    };
    given(decider, ...atReceiver, rejected, packaging)
      .when(review('refer-to-enforcement'))
      .then(reviewed('refer-to-enforcement', ['packaging']));
  });

  it('refuses a review with nothing open: none found, or all reviewed already', () => {
    given(decider, ...atReceiver, received('3990.000'))
      .when(review('no-further-action'))
      .thenThrows({ code: 'manifest.no-open-discrepancies', field: 'manifestNumber' });
    given(decider, ...withDiscrepancies, reviewed('no-further-action', ['weight', 'packaging']))
      .when(review('refer-to-enforcement'))
      .thenThrows({ code: 'manifest.no-open-discrepancies', field: 'manifestNumber' });
    given(decider).when(review('no-further-action')).thenThrows('manifest.not-found');
  });

  it('refuses another decision, a blank note and a note beyond the limit, naming the field', () => {
    given(decider, ...withDiscrepancies)
      .when(review('close'))
      .thenThrows({ code: 'manifest.review-decision', field: 'decision', details: { value: 'close' } });
    given(decider, ...withDiscrepancies)
      .when(review('no-further-action', '   '))
      .thenThrows({ code: 'manifest.required', field: 'note' });
    // Counted in characters, not bytes or UTF-16 units: 2000 Chinese characters pass, one more does not.
    given(decider, ...withDiscrepancies)
      .when(review('no-further-action', '差'.repeat(REVIEW_NOTE_MAX_LENGTH)))
      .thenState((s) => expect(s).toMatchObject({ openDiscrepancies: [] }));
    given(decider, ...withDiscrepancies)
      .when(review('no-further-action', '𠀀'.repeat(REVIEW_NOTE_MAX_LENGTH)))
      .thenState((s) => expect(s).toMatchObject({ openDiscrepancies: [] }));
    given(decider, ...withDiscrepancies)
      .when(review('no-further-action', '差'.repeat(REVIEW_NOTE_MAX_LENGTH + 1)))
      .thenThrows({
        code: 'manifest.note-too-long',
        field: 'note',
        details: { maxLength: REVIEW_NOTE_MAX_LENGTH, length: REVIEW_NOTE_MAX_LENGTH + 1 },
      });
  });

  it("refuses a person of another province: the exporting province's bureau does not review", () => {
    given(decider, ...withDiscrepancies)
      .when(review('no-further-action', 'x', bureau('510000', 'sc-eeb')))
      .thenThrows({
        code: 'manifest.not-receiving-bureau',
        field: 'manifestNumber',
        details: { reportTo: '500000', actor: '510000' },
      });
  });

  it('opens the weight again when a later correction finds it still beyond tolerance; a new review closes it', () => {
    const afterReview = [...withDiscrepancies, reviewed('no-further-action', ['weight', 'packaging'])];
    const correct = (acceptedKg: string) =>
      cmd(
        'CorrectReceipt',
        { manifestNumber: N, acceptedKg, reason: '地磅校准后复称' },
        '2026-10-21T02:00:00Z',
      );
    given(decider, ...afterReview)
      .when(correct('3750'))
      .then(corrected('3700.000', '3750.000'), weightDiscrepancy('3750.000', '250.000'));
    const reopened = [
      ...afterReview,
      corrected('3700.000', '3750.000'),
      weightDiscrepancy('3750.000', '250.000'),
    ];
    expect(discrepancyReview(fold(decider, reopened))).toEqual({ reportTo: '500000', kinds: ['weight'] });
    given(decider, ...reopened)
      .when(review('refer-to-enforcement'))
      .then(reviewed('refer-to-enforcement', ['weight']));
    // Corrected within tolerance: nothing to review again.
    given(decider, ...afterReview, corrected('3700.000', '3950.000'))
      .when(review('no-further-action'))
      .thenThrows('manifest.no-open-discrepancies');
  });

  it('a correction within tolerance before any review leaves only the other kinds to review', () => {
    given(decider, ...withDiscrepancies, corrected('3700.000', '3950.000'))
      .when(review('no-further-action'))
      .then(reviewed('no-further-action', ['packaging']));
  });
});

describe('manifest: paper backfill (10 working days)', () => {
  // Trip on Tuesday 2026-09-29: the 10th working day after it is Monday 10-19 (holidays, 调休 10-10).
  const BACKFILL_DUE = '2026-10-19T16:00:00.000Z';
  const backfill = (now: string, extra: Record<string, unknown> = {}) =>
    cmd(
      'BackfillPaperManifest',
      {
        ...openData,
        paper: { reference: 'SC-PAPER-0042', tripDate: '2026-09-29' },
        pickup: { ...leg, at: '2026-09-29T02:00:00Z' },
        delivery: { at: '2026-09-29T10:00:00Z' },
        ...extra,
      },
      now,
    );

  it('backfills the paper record up to 24:00 of the 10th working day; the receipt then runs electronically', () => {
    given(decider)
      .when(backfill('2026-10-19T15:59:59Z'))
      .then({
        type: 'PaperManifestBackfilled',
        data: {
          opened: { ...openedData, openedAt: '2026-10-19T15:59:59.000Z' } as ManifestOpenedData,
          paper: { reference: 'SC-PAPER-0042', tripDate: '2026-09-29', backfillDueAt: BACKFILL_DUE },
          pickup: pickedUp.data as never,
          delivery: delivered.data as never,
          backfilledAt: '2026-10-19T15:59:59.000Z',
        },
      });
    given(decider)
      .when(backfill('2026-10-19T15:59:59Z'))
      .thenState((s) =>
        expect(s).toMatchObject({
          status: 'delivered',
          paperReference: 'SC-PAPER-0042',
          receiptDueAt: RECEIPT_DUE,
        }),
      );
  });

  it('refuses a backfill at or after the deadline', () => {
    given(decider)
      .when(backfill('2026-10-19T16:00:00Z'))
      .thenThrows({
        code: 'manifest.backfill-too-late',
        field: 'paper.tripDate',
        details: { backfillDueAt: BACKFILL_DUE },
      });
  });

  it('checks the approval as of the trip day, and the record like an opening', () => {
    given(decider)
      .when(backfill('2026-10-08T02:00:00Z', withAuth({ validUntil: '2026-09-30' })))
      .thenState((s) => expect(s).toMatchObject({ status: 'delivered' }));
    given(decider)
      .when(backfill('2026-10-08T02:00:00Z', withAuth({ validUntil: '2026-09-28' })))
      .thenThrows('manifest.authorization-not-valid');
    given(decider)
      .when(backfill('2026-10-08T02:00:00Z', withAuth({ remainingKg: '1' })))
      .thenThrows('manifest.exceeds-authorized-quantity');
  });

  it('refuses a future trip day, a delivery without pickup, a twice-opened number', () => {
    given(decider)
      .when(backfill('2026-09-28T02:00:00Z'))
      .thenThrows({ code: 'manifest.in-the-future', field: 'paper.tripDate' });
    given(decider)
      .when(backfill('2026-10-08T02:00:00Z', { pickup: undefined }))
      .thenThrows({ code: 'manifest.delivery-without-pickup', field: 'pickup' });
    given(decider)
      .when(backfill('2026-10-08T02:00:00Z', { delivery: { at: '2026-09-29T01:00:00Z' } }))
      .thenThrows({ code: 'manifest.delivery-before-pickup', field: 'delivery.at' });
    given(decider, opened).when(backfill('2026-10-08T02:00:00Z')).thenThrows('manifest.already-opened');
  });

  it('a paper trip still on the road is in transit', () => {
    given(decider)
      .when(backfill('2026-09-30T02:00:00Z', { delivery: undefined }))
      .thenState((s) => expect(s).toMatchObject({ status: 'in-transit', transitDueAt: TRANSIT_DUE }));
  });
});

describe('manifest: events are JSON-safe and fold back', () => {
  it('round-trips through JSON', () => {
    const events: ManifestEvent[] = [
      ...atReceiver,
      received('3700.000'),
      weightDiscrepancy('3700.000', '300.000'),
      {
        type: 'ManifestDiscrepanciesReviewed',
        data: {
          manifestNumber: N,
          decision: 'refer-to-enforcement',
          note: '移送执法 / referred',
          kinds: ['weight'],
          reportTo: '500000',
          reviewedBy: 'cq-eeb',
          reviewedAt: '2026-10-22T02:00:00.000Z',
        },
      },
    ];
    const copy = JSON.parse(JSON.stringify(events)) as ManifestEvent[];
    expect(fold(decider, copy)).toEqual(fold(decider, events));
    expect(nextActions(fold(decider, []))).toEqual([]);
  });
});
