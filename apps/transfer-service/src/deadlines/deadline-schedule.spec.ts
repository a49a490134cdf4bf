import { WorkingDayCalendar } from '@lianfang/domain-kernel';
import { systemActor } from '@lianfang/eventsourcing';
import {
  manifestDecider,
  type ManifestCommand,
  type ManifestEvent,
  type ManifestState,
} from '../manifest/decider';
import {
  transferDecider,
  type TransferCommand,
  type TransferEvent,
  type TransferState,
} from '../transfer/decider';
import {
  approvalExpiryTimer,
  DEADLINE_TARGETS,
  manifestTimer,
  planManifestTimers,
  planTransferTimers,
  transferStepTimer,
} from './deadline-schedule';
import { actors, application, endOf, LEG, meta, morning, openManifestData } from './deadlines.fixture';

const calendar = WorkingDayCalendar.default();
const transfers = transferDecider({ calendar });
const manifests = manifestDecider({ calendar });

/** Runs commands through the real decider and returns each command's events. */
function transferStory() {
  let state: TransferState = transfers.initialState();
  return (command: TransferCommand): TransferEvent[] => {
    const events = transfers.decide(command, state);
    state = events.reduce(transfers.evolve, state);
    return events;
  };
}
function manifestStory() {
  let state: ManifestState = manifests.initialState();
  return (command: ManifestCommand): ManifestEvent[] => {
    const events = manifests.decide(command, state);
    state = events.reduce(manifests.evolve, state);
    return events;
  };
}

const T = 't-deadline-1';
const others = (...open: string[]) =>
  (['completeness', 'review', 'reply', 'decision'] as const)
    .filter((s) => !open.includes(s))
    .map((s) => ({ cancel: transferStepTimer(T, s) }));

describe('the transfer schedule', () => {
  it('follows the letter path: each step opens its timer and closes the one before; approval sets expiry', () => {
    const run = transferStory();
    // Tuesday 09-29: five working days skip National Day: 09-30, 10-08, 10-09, Saturday 10-10, 10-12.
    const [submitted] = run({
      type: 'SubmitApplication',
      data: application(T),
      metadata: meta(actors.generator, morning('2026-09-29')),
    });
    expect(planTransferTimers(submitted)).toEqual([
      ...others('completeness'),
      {
        schedule: {
          timerId: transferStepTimer(T, 'completeness'),
          dueAt: endOf('2026-10-12').toISOString(),
          target: DEADLINE_TARGETS.completeness,
          payload: {
            transferId: T,
            deadline: expect.objectContaining({ step: 'completeness', lastDay: '2026-10-12' }),
          },
        },
      },
    ]);

    // Silence: the completeness timer accepts on the last day, opening the review (5 more working days).
    const [accepted] = run({
      type: 'CompletenessTimerFired',
      data: { transferId: T },
      metadata: meta(systemActor(DEADLINE_TARGETS.completeness), endOf('2026-10-12')),
    });
    expect(accepted).toMatchObject({ type: 'TransferAccepted', data: { acceptedBy: 'silence' } });
    expect(planTransferTimers(accepted)).toEqual([
      ...others('review'),
      {
        schedule: expect.objectContaining({
          timerId: transferStepTimer(T, 'review'),
          dueAt: endOf('2026-10-19').toISOString(),
          target: DEADLINE_TARGETS.step,
        }),
      },
    ]);

    const [letter] = run({
      type: 'SendConsultationLetter',
      data: { transferId: T, letterId: 'L-1' },
      metadata: meta(actors.sichuan, morning('2026-10-14')),
    });
    expect(planTransferTimers(letter)).toEqual([
      ...others('reply'),
      {
        schedule: expect.objectContaining({
          timerId: transferStepTimer(T, 'reply'),
          target: DEADLINE_TARGETS.step,
        }),
      },
    ]);

    const [replied] = run({
      type: 'ReplyToLetter',
      data: { transferId: T, decision: 'consent' },
      metadata: meta(actors.chongqing, morning('2026-10-20')),
    });
    expect(planTransferTimers(replied)).toEqual([
      ...others('decision'),
      { schedule: expect.objectContaining({ timerId: transferStepTimer(T, 'decision') }) },
    ]);

    const [approved] = run({
      type: 'ApproveTransfer',
      data: { transferId: T },
      metadata: meta(actors.sichuan, morning('2026-10-21')),
    });
    // Valid from the window's start (11-01) for 12 months: until 2027-10-31, released at its 24:00.
    expect(planTransferTimers(approved)).toEqual([
      ...others(),
      {
        schedule: {
          timerId: approvalExpiryTimer(T),
          dueAt: endOf('2027-10-31').toISOString(),
          target: DEADLINE_TARGETS.approvalExpiry,
          payload: { transferId: T, facilityId: 'cq-yuhuan-1', validUntil: '2027-10-31' },
        },
      },
    ]);
  });

  it('a miss schedules nothing (the step stays open); withdrawal, return and refusal close every step', () => {
    const run = transferStory();
    run({
      type: 'SubmitApplication',
      data: application(T),
      metadata: meta(actors.generator, morning('2026-09-29')),
    });
    run({
      type: 'AcceptApplication',
      data: { transferId: T },
      metadata: meta(actors.sichuan, morning('2026-09-30')),
    });
    const missed = run({
      type: 'DeadlineTimerFired',
      data: { transferId: T, step: 'review' },
      metadata: meta(systemActor(DEADLINE_TARGETS.step), endOf('2026-10-13')),
    });
    expect(missed.map((e) => e.type)).toEqual(['TransferDeadlineMissed']);
    expect(planTransferTimers(missed[0])).toEqual([]);

    const [withdrawn] = run({
      type: 'WithdrawApplication',
      data: { transferId: T },
      metadata: meta(actors.generator, morning('2026-10-14')),
    });
    expect(planTransferTimers(withdrawn)).toEqual(others());

    const returned = transferStory();
    returned({
      type: 'SubmitApplication',
      data: application(T),
      metadata: meta(actors.generator, morning('2026-09-29')),
    });
    const [back] = returned({
      type: 'ReturnIncomplete',
      data: { transferId: T, missing: ['营业执照'] },
      metadata: meta(actors.sichuan, morning('2026-09-30')),
    });
    expect(planTransferTimers(back)).toEqual(others());
  });

  it('a late step close records the miss and moves on: the plan follows the closing event', () => {
    const run = transferStory();
    run({
      type: 'SubmitApplication',
      data: application(T),
      metadata: meta(actors.generator, morning('2026-09-29')),
    });
    run({
      type: 'AcceptApplication',
      data: { transferId: T },
      metadata: meta(actors.sichuan, morning('2026-09-30')),
    });
    const events = run({
      type: 'SendConsultationLetter',
      data: { transferId: T, letterId: 'L-late' },
      metadata: meta(actors.sichuan, morning('2026-10-20')),
    });
    expect(events.map((e) => e.type)).toEqual(['TransferDeadlineMissed', 'ConsultationLetterSent']);
    expect(events.flatMap(planTransferTimers)).toEqual([
      ...others('reply'),
      { schedule: expect.objectContaining({ timerId: transferStepTimer(T, 'reply') }) },
    ]);
  });

  it('a recomputation moves every changed step to its new deadline (same logical timer)', () => {
    const run = transferStory();
    // Submitted 2026-12-28: the 5 working days reach into 2027, whose notice is not bundled: provisional.
    const [submitted] = run({
      type: 'SubmitApplication',
      data: application(T, { window: { from: '2027-01-01', to: '2027-12-31' } }),
      metadata: meta(actors.generator, morning('2026-12-28')),
    });
    const deadline = (submitted as Extract<TransferEvent, { type: 'TransferSubmitted' }>).data.deadline;
    expect(deadline.provisional).toBe(true);
    const moved = {
      ...deadline,
      lastDay: '2027-01-05',
      dueAt: endOf('2027-01-05').toISOString(),
      provisional: false,
    };
    expect(
      planTransferTimers({
        type: 'TransferDeadlinesRecomputed',
        data: {
          transferId: T,
          changes: [{ step: 'completeness', previous: { ...deadline }, deadline: moved }],
        },
      }),
    ).toEqual([
      {
        schedule: {
          timerId: transferStepTimer(T, 'completeness'),
          dueAt: moved.dueAt,
          target: DEADLINE_TARGETS.completeness,
          payload: { transferId: T, deadline: moved },
        },
      },
    ]);
  });
});

describe('the manifest schedule', () => {
  const N = '20265101000001';

  it('pickup opens the transit timer; delivery swaps it for the receipt timer; a receipt closes both', () => {
    const run = manifestStory();
    const at = (iso: string) => meta(actors.spec, new Date(iso));
    run({ type: 'OpenManifest', data: openManifestData(N, T), metadata: at('2026-09-28T02:00:00Z') });
    const [picked] = run({
      type: 'ConfirmPickup',
      data: { manifestNumber: N, ...LEG, maxTransitDays: 3 },
      metadata: at('2026-09-29T02:00:00Z'),
    });
    expect(planManifestTimers(picked)).toEqual([
      {
        schedule: {
          timerId: manifestTimer(N, 'transit'),
          // Picked up 09-29: three days in transit end at 24:00 Shanghai on 10-02.
          dueAt: endOf('2026-10-02').toISOString(),
          target: DEADLINE_TARGETS.transit,
          payload: { manifestNumber: N },
        },
      },
    ]);

    const [delivered] = run({
      type: 'Deliver',
      data: { manifestNumber: N, carrierCreditCode: LEG.carrierCreditCode },
      metadata: at('2026-09-30T02:00:00Z'),
    });
    // Five working days from 09-30: 10-08, 10-09, 10-10 (Saturday, working), 10-12, 10-13.
    expect(planManifestTimers(delivered)).toEqual([
      { cancel: manifestTimer(N, 'transit') },
      {
        schedule: {
          timerId: manifestTimer(N, 'receipt'),
          dueAt: endOf('2026-10-13').toISOString(),
          target: DEADLINE_TARGETS.receipt,
          payload: {
            manifestNumber: N,
            receipt: { deliveredAt: '2026-09-30T02:00:00.000Z', workingDays: 5, provisional: false },
          },
        },
      },
    ]);

    const received = run({
      type: 'AcceptReceipt',
      data: { manifestNumber: N, acceptedKg: '4000', method: 'R9' },
      metadata: at('2026-10-08T02:00:00Z'),
    });
    expect(received.flatMap(planManifestTimers)).toEqual([
      { cancel: manifestTimer(N, 'transit') },
      { cancel: manifestTimer(N, 'receipt') },
    ]);
  });

  it('a recomputed receipt deadline moves the receipt timer (same logical timer), with what it counts', () => {
    const run = manifestStory();
    const at = (iso: string) => meta(actors.spec, new Date(iso));
    run({ type: 'OpenManifest', data: openManifestData(N, T), metadata: at('2026-12-24T02:00:00Z') });
    run({
      type: 'ConfirmPickup',
      data: { manifestNumber: N, ...LEG, maxTransitDays: 3 },
      metadata: at('2026-12-27T02:00:00Z'),
    });
    // Delivered Monday 12-28: the 5 working days reach into 2027, whose notice is not bundled.
    const [delivered] = run({
      type: 'Deliver',
      data: { manifestNumber: N, carrierCreditCode: LEG.carrierCreditCode },
      metadata: at('2026-12-28T02:00:00Z'),
    });
    const receiptTimer = (dueAt: string, provisional: boolean) => ({
      schedule: {
        timerId: manifestTimer(N, 'receipt'),
        dueAt,
        target: DEADLINE_TARGETS.receipt,
        payload: {
          manifestNumber: N,
          receipt: { deliveredAt: '2026-12-28T02:00:00.000Z', workingDays: 5, provisional },
        },
      },
    });
    expect(planManifestTimers(delivered)).toEqual([
      { cancel: manifestTimer(N, 'transit') },
      receiptTimer(endOf('2027-01-04').toISOString(), true),
    ]);
    expect(
      planManifestTimers({
        type: 'ManifestReceiptDeadlineRecomputed',
        data: {
          manifestNumber: N,
          deliveredAt: '2026-12-28T02:00:00.000Z',
          previous: { dueAt: endOf('2027-01-04').toISOString(), lastDay: '2027-01-04', provisional: true },
          receiptDueAt: endOf('2027-01-05').toISOString(),
          lastDay: '2027-01-05',
          provisional: false,
        },
      }),
    ).toEqual([receiptTimer(endOf('2027-01-05').toISOString(), false)]);
  });
});
