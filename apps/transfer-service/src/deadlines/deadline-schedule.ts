/**
 * Which timers the transfer and manifest events open, move and close. Pure: the event alone says it
 * (every deadline travels in the event that opens it, computed by the decider with the calendar).
 *
 * - transfer: a step's Deadline (completeness, review, reply, decision) from TransferSubmitted,
 *   TransferAccepted, ConsultationLetterSent, ConsultationReplied; the next step's event closes it, an end
 *   (returned, refused, withdrawn, approved) closes them all; TransferDeadlinesRecomputed moves them.
 *   A missed step stays scheduled until its step closes: the miss is recorded by the timer's own command.
 * - approval expiry: TransferApproved → at the end of validUntil (24:00 Asia/Shanghai) the capacity the
 *   approval still holds is released.
 * - manifest: ManifestPickedUp → transit due (pickup + max transit days); ManifestDelivered → receipt due
 *   (5 working days); a receipt, partial acceptance or rejection closes them;
 *   ManifestReceiptDeadlineRecomputed moves the receipt timer.
 */
import { LocalDate } from '@lianfang/domain-kernel';
import type { RecordedEvent } from '@lianfang/eventsourcing';
import { RECEIPT_WORKING_DAYS, type ManifestDeliveredData, type ManifestEvent } from '../manifest/decider';
import type { Deadline, TransferEvent, TransferStep } from '../transfer/decider';
import { defineTimerSchedule, type TimerPlan } from '@lianfang/messaging';

/** The handlers, and the system actors of the commands they issue. */
export const DEADLINE_TARGETS = Object.freeze({
  completeness: 'transfer.completeness-timer',
  step: 'transfer.deadline-timer',
  approvalExpiry: 'transfer.approval-expiry-timer',
  transit: 'manifest.transit-timer',
  receipt: 'manifest.receipt-timer',
} as const);

const STEPS: readonly TransferStep[] = ['completeness', 'review', 'reply', 'decision'];

export const transferStepTimer = (transferId: string, step: TransferStep) => `transfer-${transferId}:${step}`;
export const approvalExpiryTimer = (transferId: string) => `transfer-${transferId}:approval-expiry`;
export const manifestTimer = (manifestNumber: string, reason: 'transit' | 'receipt') =>
  `manifest-${manifestNumber}:${reason}`;

export interface TransferStepPayload {
  readonly transferId: string;
  readonly deadline: Deadline;
}
export interface ApprovalExpiryPayload {
  readonly transferId: string;
  readonly facilityId: string;
  readonly validUntil: string;
}
/** A receipt deadline as counted: the start-up recomputation finds the provisional ones by it. */
export interface ReceiptDeadline {
  /** The delivery (its day is not counted). */
  readonly deliveredAt: string;
  readonly workingDays: number;
  readonly provisional: boolean;
}
export interface ManifestTimerPayload {
  readonly manifestNumber: string;
  /** Receipt timers only. */
  readonly receipt?: ReceiptDeadline;
}

/** 24:00 Asia/Shanghai at the end of a day: the first instant of the next day there. */
export const endOfDay = (day: string) => LocalDate.parseOrThrow(day).plusDays(1).startInstant();

const stepTimer = (transferId: string, deadline: Deadline): TimerPlan => ({
  schedule: {
    timerId: transferStepTimer(transferId, deadline.step),
    dueAt: deadline.dueAt,
    target: deadline.step === 'completeness' ? DEADLINE_TARGETS.completeness : DEADLINE_TARGETS.step,
    payload: { transferId, deadline } satisfies TransferStepPayload,
  },
});

const closeSteps = (transferId: string, except?: TransferStep): TimerPlan[] =>
  STEPS.filter((s) => s !== except).map((s) => ({ cancel: transferStepTimer(transferId, s) }));

/** One step opens: the others (the one it follows) close. */
const openStep = (transferId: string, deadline: Deadline): TimerPlan[] => [
  ...closeSteps(transferId, deadline.step),
  stepTimer(transferId, deadline),
];

export function planTransferTimers(event: TransferEvent): TimerPlan[] {
  switch (event.type) {
    case 'TransferSubmitted':
    case 'TransferAccepted':
    case 'ConsultationLetterSent':
    case 'ConsultationReplied':
      return openStep(event.data.transferId, event.data.deadline);
    case 'TransferDeadlinesRecomputed':
      return event.data.changes.map((c) => stepTimer(event.data.transferId, c.deadline));
    case 'TransferReturned':
    case 'TransferRefused':
    case 'TransferWithdrawn':
      return closeSteps(event.data.transferId);
    case 'TransferApproved': {
      const { transferId, approval, receiver } = event.data;
      return [
        ...closeSteps(transferId),
        {
          schedule: {
            timerId: approvalExpiryTimer(transferId),
            dueAt: endOfDay(approval.validUntil).toISOString(),
            target: DEADLINE_TARGETS.approvalExpiry,
            payload: {
              transferId,
              facilityId: receiver.facilityId,
              validUntil: approval.validUntil,
            } satisfies ApprovalExpiryPayload,
          },
        },
      ];
    }
    case 'TransferFiled':
    case 'TransferDeadlineMissed':
      return [];
  }
}

const transitSchedule = (manifestNumber: string, dueAt: string): TimerPlan => ({
  schedule: {
    timerId: manifestTimer(manifestNumber, 'transit'),
    dueAt,
    target: DEADLINE_TARGETS.transit,
    payload: { manifestNumber } satisfies ManifestTimerPayload,
  },
});

const receiptSchedule = (
  manifestNumber: string,
  dueAt: string,
  deliveredAt: string,
  provisional: boolean,
): TimerPlan => ({
  schedule: {
    timerId: manifestTimer(manifestNumber, 'receipt'),
    dueAt,
    target: DEADLINE_TARGETS.receipt,
    payload: {
      manifestNumber,
      receipt: { deliveredAt, workingDays: RECEIPT_WORKING_DAYS, provisional },
    } satisfies ManifestTimerPayload,
  },
});

const deliveredSchedule = (d: ManifestDeliveredData): TimerPlan =>
  receiptSchedule(d.manifestNumber, d.receiptDueAt, d.deliveredAt, d.receiptDueProvisional === true);

export function planManifestTimers(event: ManifestEvent): TimerPlan[] {
  switch (event.type) {
    case 'ManifestPickedUp':
      return [transitSchedule(event.data.manifestNumber, event.data.transitDueAt)];
    case 'ManifestDelivered':
      return [{ cancel: manifestTimer(event.data.manifestNumber, 'transit') }, deliveredSchedule(event.data)];
    case 'ManifestReceiptDeadlineRecomputed': {
      // The same logical timer scheduled again: its pending generation is cancelled, the new one waits.
      const { manifestNumber, receiptDueAt, deliveredAt, provisional } = event.data;
      return [receiptSchedule(manifestNumber, receiptDueAt, deliveredAt, provisional)];
    }
    case 'ManifestReceived':
    case 'ManifestPartiallyAccepted':
    case 'ManifestRejected':
      return [
        { cancel: manifestTimer(event.data.manifestNumber, 'transit') },
        { cancel: manifestTimer(event.data.manifestNumber, 'receipt') },
      ];
    case 'PaperManifestBackfilled': {
      // Entered after an outage: its trip's clocks run from the facts it records.
      const { opened, pickup, delivery } = event.data;
      if (delivery) return [deliveredSchedule(delivery)];
      if (pickup) return [transitSchedule(opened.manifestNumber, pickup.transitDueAt)];
      return [];
    }
    case 'ManifestOpened':
    case 'ManifestHandedOver':
    case 'ManifestDisposed':
    case 'ManifestReceiptCorrected':
    case 'ManifestDiscrepancyFound':
    case 'ManifestOverdue':
    case 'ManifestDiscrepanciesReviewed':
      return [];
  }
}

const TRANSFER_EVENTS: readonly TransferEvent['type'][] = [
  'TransferSubmitted',
  'TransferAccepted',
  'ConsultationLetterSent',
  'ConsultationReplied',
  'TransferDeadlinesRecomputed',
  'TransferReturned',
  'TransferRefused',
  'TransferWithdrawn',
  'TransferApproved',
];
const MANIFEST_EVENTS: readonly ManifestEvent['type'][] = [
  'ManifestPickedUp',
  'ManifestDelivered',
  'ManifestReceiptDeadlineRecomputed',
  'ManifestReceived',
  'ManifestPartiallyAccepted',
  'ManifestRejected',
  'PaperManifestBackfilled',
];
const isTransferEvent = (type: string) => (TRANSFER_EVENTS as readonly string[]).includes(type);

type Recorded = RecordedEvent<
  TransferEvent['type'] | ManifestEvent['type'],
  TransferEvent['data'] | ManifestEvent['data']
>;

/** The service's deadline timers, scheduled from its own events (in the store's schema). */
export const deadlineSchedule = (schema: string) =>
  defineTimerSchedule<Recorded>({
    name: 'deadline-timers',
    // 2: receipt timers carry their deadline (the start-up recomputation finds provisional ones): a
    // rebuild replays the log, every timer key is already there, only the slots' payloads are refreshed.
    version: 2,
    schema,
    handles: [...TRANSFER_EVENTS, ...MANIFEST_EVENTS],
    plan: (e) =>
      isTransferEvent(e.type)
        ? planTransferTimers({ type: e.type, data: e.data } as TransferEvent)
        : planManifestTimers({ type: e.type, data: e.data } as ManifestEvent),
  });
