import { ContractRegistry, TRANSFER_CONTRACTS } from '@lianfang/contracts';
import { WorkingDayCalendar } from '@lianfang/domain-kernel';
import { fold, type Actor, type PendingEvent } from '@lianfang/eventsourcing';
import {
  manifestDecider,
  manifestStream,
  type DiscrepancyReviewDecision,
  type ManifestEvent,
} from './decider';
import { manifestOutbox } from './manifest.outbox';
import { manifestOpened } from './manifest.fixture';

// The outbox is the manifest's word to other services: what a review publishes, built to the contract.

const N = '20265101000001';
const TOPIC = 'lianfang.transfer.v1';
const bureau: Actor = { kind: 'user', userId: 'cq-eeb.approver', agencyId: 'cq-eeb', jurisdiction: '500000' };
const metadata = {
  commandId: 'review-1',
  now: new Date('2026-10-22T02:00:00Z'),
  actor: bureau,
  correlationId: 'corr-7',
};

const GENERATOR = '91510100MA61RK3T26';
const RECEIVER = '91500115MA5YH9P3C1';
const CARRIER = '91510100MA6CB8W21Q';

const opened = manifestOpened({
  manifestNumber: N,
  authorization: { kind: 'approval', id: 'transfer-2026-0001' },
  generator: { creditCode: GENERATOR, jurisdiction: '510100' },
  receiver: { creditCode: RECEIVER, jurisdiction: '500115', facilityId: 'facility-cq-1' },
  carrierCreditCode: CARRIER,
  fromJurisdiction: '510100',
  toJurisdiction: '500115',
  authorizationRemainingKg: '16000.000',
  openedAt: '2026-10-12T02:00:00.000Z',
});
const state = fold(manifestDecider({ calendar: WorkingDayCalendar.default() }), [opened]);

const note = '重量短少12%且包装不符，移送执法核查 / 12% short and other drums: referred';
const reviewed = (
  decision: DiscrepancyReviewDecision,
  patch: { reportTo?: string } = {},
): PendingEvent<ManifestEvent> => ({
  type: 'ManifestDiscrepanciesReviewed',
  data: {
    manifestNumber: N,
    decision,
    note,
    kinds: ['weight', 'packaging'],
    reportTo: '500000',
    reviewedBy: 'cq-eeb',
    reviewedAt: '2026-10-22T02:00:00.000Z',
    ...patch,
  },
  metadata: {
    eventId: '01936f5e-0000-7000-8000-000000000009',
    streamId: manifestStream(N),
    streamPosition: 6n,
    occurredAt: new Date('2026-10-22T02:00:00Z'),
  },
});

describe('manifestOutbox: a discrepancy review', () => {
  it('publishes a referral to enforcement as ManifestDiscrepancyReferred, to the contract', () => {
    const messages = manifestOutbox(TOPIC, metadata, [reviewed('refer-to-enforcement')], state);
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message).toMatchObject({
      topic: TOPIC,
      key: manifestStream(N),
      type: 'ManifestDiscrepancyReferred',
      schemaVersion: 1,
    });
    expect(message.payload).toMatchObject({
      eventId: '01936f5e-0000-7000-8000-000000000009',
      type: 'ManifestDiscrepancyReferred',
      source: 'transfer',
      streamId: manifestStream(N),
      streamPosition: '6',
      occurredAt: '2026-10-22T02:00:00.000Z',
      correlationId: 'corr-7',
      causationId: null,
      actor: bureau,
    });
    expect((message.payload as { data: unknown }).data).toEqual({
      manifestNumber: N,
      transferId: 'transfer-2026-0001',
      generatorCreditCode: GENERATOR,
      receiverCreditCode: RECEIVER,
      carrierCreditCode: CARRIER,
      kinds: ['weight', 'packaging'],
      note,
      fromJurisdiction: '510100',
      toJurisdiction: '500115',
      reportTo: '500000',
      reviewedBy: 'cq-eeb',
      reviewedAt: '2026-10-22T02:00:00.000Z',
    });
    const checked = new ContractRegistry(TRANSFER_CONTRACTS).validate(
      JSON.parse(JSON.stringify(message.payload)),
    );
    expect(checked).toMatchObject({ ok: true });
  });

  it('names the carrier the manifest was opened with, after a handover to another carrier too', () => {
    const chongqingCarrier = '91500000MA5U7W4K2X';
    const leg = { vehiclePlate: '川A12345', operatingLicence: '川交运管许可危字510100000001号' };
    const handedOver = fold(manifestDecider({ calendar: WorkingDayCalendar.default() }), [
      opened,
      {
        type: 'ManifestPickedUp',
        data: {
          manifestNumber: N,
          carrierCreditCode: CARRIER,
          ...leg,
          driverSubjectId: 'driver-1',
          pickedUpAt: '2026-10-13T02:00:00.000Z',
          maxTransitDays: 3,
          transitDueAt: '2026-10-16T16:00:00.000Z',
        },
      },
      {
        type: 'ManifestHandedOver',
        data: {
          manifestNumber: N,
          fromCarrierCreditCode: CARRIER,
          to: { carrierCreditCode: chongqingCarrier, ...leg, driverSubjectId: 'driver-2' },
          at: '2026-10-14T02:00:00.000Z',
          place: "广安 Guang'an",
        },
      },
    ]);
    expect(handedOver.status !== 'none' && handedOver.currentCarrierCreditCode).toBe(chongqingCarrier);
    const [message] = manifestOutbox(TOPIC, metadata, [reviewed('refer-to-enforcement')], handedOver);
    expect((message.payload as { data: unknown }).data).toMatchObject({
      generatorCreditCode: GENERATOR,
      receiverCreditCode: RECEIVER,
      carrierCreditCode: CARRIER,
    });
  });

  it('publishes nothing for a review that needs no further action', () => {
    expect(manifestOutbox(TOPIC, metadata, [reviewed('no-further-action')], state)).toEqual([]);
  });

  it('refuses to store a referral that breaks the contract, naming the field and rule', () => {
    expect(() =>
      manifestOutbox(TOPIC, metadata, [reviewed('refer-to-enforcement', { reportTo: '500115' })], state),
    ).toThrow(
      'ManifestDiscrepancyReferred does not match its contract: data.reportTo isProvincialJurisdiction',
    );
  });

  it('refuses to store a referral naming a party by a broken credit code, naming the field', () => {
    const broken = fold(manifestDecider({ calendar: WorkingDayCalendar.default() }), [
      { ...opened, data: { ...opened.data, carrierCreditCode: '91510100MA6CB8W21X' } },
    ] as ManifestEvent[]);
    expect(() => manifestOutbox(TOPIC, metadata, [reviewed('refer-to-enforcement')], broken)).toThrow(
      'ManifestDiscrepancyReferred does not match its contract: data.carrierCreditCode isCreditCode',
    );
  });
});
