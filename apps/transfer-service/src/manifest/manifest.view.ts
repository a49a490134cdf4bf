/**
 * A manifest as people read it: the decider's state plus what it does not keep (the legs of the trip,
 * the receipt, corrections, disposal, discrepancies). One fold, used by the read model (`manifests`) and
 * by `manifestAsOf` (the same fold over the events recorded up to an instant). Pure.
 */
import { LocalDate } from '@lianfang/domain-kernel';
import type {
  DiscrepancyKind,
  DiscrepancyReviewDecision,
  ManifestEvent,
  ManifestRecord,
  ManifestState,
} from './decider';

export interface ManifestLegView {
  readonly kind: 'pickup' | 'hand-over';
  readonly carrierCreditCode: string;
  readonly vehiclePlate: string;
  readonly operatingLicence: string;
  /** The driver's personal-data subject; name and phone are revealed from the driver stream. */
  readonly driverSubjectId: string;
  readonly at: string;
  readonly place: string | null;
}

export interface ManifestReceiptView {
  readonly acceptance: 'full' | 'partial' | 'rejected';
  readonly acceptedKg: string;
  readonly rejectedKg: string | null;
  readonly method: string | null;
  readonly receiptDate: string;
  readonly at: string;
  readonly onTime: boolean;
  readonly reasons: readonly string[];
  readonly disposition: string | null;
  readonly otherFacilityId: string | null;
}

export interface ManifestCorrectionView {
  readonly previousAcceptedKg: string;
  readonly acceptedKg: string;
  readonly reason: string;
  readonly at: string;
}

export interface ManifestDiscrepancyView {
  readonly kind: string;
  readonly declared: string;
  readonly found: string;
  readonly differenceKg: string | null;
  readonly reportTo: string;
}

/** The receiving-side bureau's decision on the discrepancies open at the time. */
export interface ManifestDiscrepancyReviewView {
  readonly decision: DiscrepancyReviewDecision;
  readonly note: string;
  readonly kinds: readonly DiscrepancyKind[];
  readonly reviewedBy: string;
  readonly at: string;
}

export interface ManifestView {
  readonly state: ManifestRecord;
  readonly legs: readonly ManifestLegView[];
  readonly receipt: ManifestReceiptView | null;
  readonly corrections: readonly ManifestCorrectionView[];
  readonly disposal: { readonly method: string; readonly at: string } | null;
  readonly discrepancies: readonly ManifestDiscrepancyView[];
  readonly discrepancyReviews: readonly ManifestDiscrepancyReviewView[];
  readonly openedAt: string;
  readonly updatedAt: string;
}

const shanghaiDay = (iso: string) => LocalDate.ofInstant(new Date(iso)).toString();

/** The view after one more event of the manifest's stream (`occurredAt`: the event's business time). */
export function evolveView(
  view: ManifestView | null,
  event: ManifestEvent,
  evolve: (state: ManifestState, event: ManifestEvent) => ManifestState,
  occurredAt: Date,
): ManifestView | null {
  const state = evolve(view?.state ?? { status: 'none' }, event);
  if (state.status === 'none') return view;
  const base: ManifestView = view ?? {
    state,
    legs: [],
    receipt: null,
    corrections: [],
    disposal: null,
    discrepancies: [],
    discrepancyReviews: [],
    openedAt: occurredAt.toISOString(),
    updatedAt: occurredAt.toISOString(),
  };
  const next: ManifestView = { ...base, state, updatedAt: occurredAt.toISOString() };
  switch (event.type) {
    case 'ManifestOpened':
      return { ...next, openedAt: event.data.openedAt };
    case 'PaperManifestBackfilled': {
      const { pickup } = event.data;
      return {
        ...next,
        openedAt: event.data.opened.openedAt,
        legs: pickup
          ? [
              {
                kind: 'pickup',
                carrierCreditCode: pickup.carrierCreditCode,
                vehiclePlate: pickup.vehiclePlate,
                operatingLicence: pickup.operatingLicence,
                driverSubjectId: pickup.driverSubjectId,
                at: pickup.pickedUpAt,
                place: null,
              },
            ]
          : [],
      };
    }
    case 'ManifestPickedUp':
      return {
        ...next,
        legs: [
          ...next.legs,
          {
            kind: 'pickup',
            carrierCreditCode: event.data.carrierCreditCode,
            vehiclePlate: event.data.vehiclePlate,
            operatingLicence: event.data.operatingLicence,
            driverSubjectId: event.data.driverSubjectId,
            at: event.data.pickedUpAt,
            place: null,
          },
        ],
      };
    case 'ManifestHandedOver':
      return {
        ...next,
        legs: [
          ...next.legs,
          {
            kind: 'hand-over',
            carrierCreditCode: event.data.to.carrierCreditCode,
            vehiclePlate: event.data.to.vehiclePlate,
            operatingLicence: event.data.to.operatingLicence,
            driverSubjectId: event.data.to.driverSubjectId,
            at: event.data.at,
            place: event.data.place,
          },
        ],
      };
    case 'ManifestReceived':
      return {
        ...next,
        receipt: {
          acceptance: event.data.acceptance,
          acceptedKg: event.data.acceptedKg,
          rejectedKg: next.receipt?.rejectedKg ?? null,
          method: event.data.method,
          receiptDate: event.data.receiptDate,
          at: event.data.receivedAt,
          onTime: event.data.onTime,
          reasons: next.receipt?.reasons ?? [],
          disposition: next.receipt?.disposition ?? null,
          otherFacilityId: next.receipt?.otherFacilityId ?? null,
        },
      };
    case 'ManifestPartiallyAccepted':
      // Recorded just before its ManifestReceived, which completes the receipt.
      return {
        ...next,
        receipt: {
          acceptance: 'partial',
          acceptedKg: event.data.acceptedKg,
          rejectedKg: event.data.rejectedKg,
          method: null,
          receiptDate: shanghaiDay(occurredAt.toISOString()),
          at: occurredAt.toISOString(),
          onTime: true,
          reasons: event.data.reasons,
          disposition: event.data.disposition,
          otherFacilityId: event.data.otherFacilityId,
        },
      };
    case 'ManifestRejected':
      return {
        ...next,
        receipt: {
          acceptance: 'rejected',
          acceptedKg: '0.000',
          rejectedKg: event.data.declaredKg,
          method: null,
          receiptDate: shanghaiDay(event.data.rejectedAt),
          at: event.data.rejectedAt,
          onTime: event.data.onTime,
          reasons: event.data.reasons,
          disposition: event.data.disposition,
          otherFacilityId: event.data.otherFacilityId,
        },
      };
    case 'ManifestReceiptCorrected':
      return {
        ...next,
        receipt: next.receipt && { ...next.receipt, acceptedKg: event.data.acceptedKg },
        corrections: [
          ...next.corrections,
          {
            previousAcceptedKg: event.data.previousAcceptedKg,
            acceptedKg: event.data.acceptedKg,
            reason: event.data.reason,
            at: event.data.correctedAt,
          },
        ],
      };
    case 'ManifestDisposed':
      return { ...next, disposal: { method: event.data.method, at: event.data.disposedAt } };
    case 'ManifestDiscrepancyFound': {
      const d = event.data;
      return {
        ...next,
        discrepancies: [
          ...next.discrepancies,
          d.kind === 'weight'
            ? {
                kind: 'weight',
                declared: d.declaredKg,
                found: d.acceptedKg,
                differenceKg: d.differenceKg,
                reportTo: d.reportTo,
              }
            : {
                kind: d.kind,
                declared: d.declared,
                found: d.found,
                differenceKg: null,
                reportTo: d.reportTo,
              },
        ],
      };
    }
    case 'ManifestDiscrepanciesReviewed':
      return {
        ...next,
        discrepancyReviews: [
          ...next.discrepancyReviews,
          {
            decision: event.data.decision,
            note: event.data.note,
            kinds: event.data.kinds,
            reviewedBy: event.data.reviewedBy,
            at: event.data.reviewedAt,
          },
        ],
      };
    case 'ManifestDelivered':
    case 'ManifestReceiptDeadlineRecomputed': // the new receipt due date is in the state
    case 'ManifestOverdue':
      return next;
    default:
      return next;
  }
}

/** Every carrier of the trip: the one engaged at opening and those of every leg. */
export function carriersOf(view: ManifestView): string[] {
  return [...new Set([view.state.opened.carrierCreditCode, ...view.legs.map((l) => l.carrierCreditCode)])];
}
