/**
 * What the manifests under one approval (or filing) hold of its quantity: one stream per transfer,
 * appended in the same atomic append as the manifest it concerns, so two generators' clerks opening
 * manifests at once can never together exceed what was approved ("the sum of manifest weights never
 * exceeds the approved quantity"). Per waste class, because an approval names a quantity per code.
 *
 * A manifest holds its DECLARED weight from opening; on receipt the ACCEPTED (weighed) weight replaces
 * it, a correction replaces it again, and a rejection gives it back. Pure: no I/O, no clock.
 */
import {
  assertNever,
  DomainError,
  type Command,
  type DomainEvent,
  type Decider,
} from '@lianfang/eventsourcing';
import { Quantity } from '@lianfang/domain-kernel';

export const approvalUsageStream = (transferId: string) => `approval-usage-${transferId}`;

export type ApprovalUsageCommand =
  | Command<
      'CommitDeclared',
      {
        readonly transferId: string;
        readonly manifestNumber: string;
        /** 'hazardous:900-249-08', 'construction'… as the manifest records it. */
        readonly wasteClass: string;
        readonly declaredKg: string;
        /** What the approval (filing) grants for this class, kg. */
        readonly authorizedKg: string;
      }
    >
  | Command<'SettleAccepted', { readonly manifestNumber: string; readonly acceptedKg: string }>
  | Command<'ReleaseRejected', { readonly manifestNumber: string }>;

export type ApprovalUsageEvent =
  | DomainEvent<
      'ApprovalQuantityCommitted',
      {
        readonly transferId: string;
        readonly manifestNumber: string;
        readonly wasteClass: string;
        readonly kg: string;
        /** What is left of the class after this manifest. */
        readonly remainingKg: string;
      }
    >
  | DomainEvent<
      'ApprovalQuantitySettled',
      {
        readonly manifestNumber: string;
        readonly wasteClass: string;
        readonly previousKg: string;
        readonly kg: string;
      }
    >
  | DomainEvent<
      'ApprovalQuantityReleased',
      { readonly manifestNumber: string; readonly wasteClass: string; readonly releasedKg: string }
    >;

export interface ManifestHolding {
  readonly wasteClass: string;
  /** What the manifest counts for now, kg (3 decimals). */
  readonly kg: string;
  readonly basis: 'declared' | 'accepted' | 'released';
}

export interface ApprovalUsageState {
  readonly transferId: string | null;
  readonly manifests: Readonly<Record<string, ManifestHolding>>;
}

const refuse = (code: string, zh: string, en: string, field: string, details?: Record<string, unknown>) =>
  new DomainError({
    code: `manifest.${code}`,
    message: { zh, en },
    field,
    ...(details ? { details } : {}),
  });

/** Everything the manifests of one class hold now (declared until received, then accepted). */
export function committedKg(state: ApprovalUsageState, wasteClass: string): Quantity {
  return Quantity.sum(
    Object.values(state.manifests)
      .filter((m) => m.wasteClass === wasteClass)
      .map((m) => Quantity.ofKg(m.kg)),
  );
}

/** What is left of `authorizedKg` for the class; never below zero (a receipt may weigh more). */
export function remainingKg(state: ApprovalUsageState, wasteClass: string, authorizedKg: string): Quantity {
  const authorized = Quantity.ofKg(authorizedKg);
  const committed = committedKg(state, wasteClass);
  return committed.isGreaterThan(authorized)
    ? Quantity.ZERO
    : Quantity.fromGrams(authorized.grams - committed.grams);
}

function holdingOf(state: ApprovalUsageState, manifestNumber: string): ManifestHolding {
  const holding = state.manifests[manifestNumber];
  if (!holding)
    throw refuse(
      'usage-unknown-manifest',
      `联单 ${manifestNumber} 未计入该批准的用量`,
      `manifest ${manifestNumber} holds nothing of this approval`,
      'manifestNumber',
    );
  return holding;
}

export const approvalUsageDecider: Decider<ApprovalUsageCommand, ApprovalUsageEvent, ApprovalUsageState> = {
  initialState: () => ({ transferId: null, manifests: {} }),

  decide(command, state) {
    switch (command.type) {
      case 'CommitDeclared': {
        const d = command.data;
        if (state.manifests[d.manifestNumber]) return []; // counted once, whatever retries
        const declared = Quantity.parseOrThrow(d.declaredKg, 'waste.declaredKg');
        const left = remainingKg(state, d.wasteClass, d.authorizedKg);
        if (declared.isGreaterThan(left))
          throw refuse(
            'exceeds-authorized-quantity',
            `申报重量 ${declared.toKgString()} 千克超过批准剩余量 ${left.toKgString()} 千克`,
            `the declared ${declared.toKgString()} kg exceeds the ${left.toKgString()} kg left on the approval`,
            'waste.declaredKg',
            { declaredKg: declared.toKgString(), remainingKg: left.toKgString() },
          );
        return [
          {
            type: 'ApprovalQuantityCommitted',
            data: {
              transferId: d.transferId,
              manifestNumber: d.manifestNumber,
              wasteClass: d.wasteClass,
              kg: declared.toKgString(),
              remainingKg: Quantity.fromGrams(left.grams - declared.grams).toKgString(),
            },
          },
        ];
      }
      case 'SettleAccepted': {
        const holding = holdingOf(state, command.data.manifestNumber);
        const accepted = Quantity.parseOrThrow(command.data.acceptedKg, 'acceptedKg').toKgString();
        if (holding.basis === 'accepted' && holding.kg === accepted) return [];
        return [
          {
            type: 'ApprovalQuantitySettled',
            data: {
              manifestNumber: command.data.manifestNumber,
              wasteClass: holding.wasteClass,
              previousKg: holding.kg,
              kg: accepted,
            },
          },
        ];
      }
      case 'ReleaseRejected': {
        const holding = holdingOf(state, command.data.manifestNumber);
        if (holding.basis === 'released') return [];
        return [
          {
            type: 'ApprovalQuantityReleased',
            data: {
              manifestNumber: command.data.manifestNumber,
              wasteClass: holding.wasteClass,
              releasedKg: holding.kg,
            },
          },
        ];
      }
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ApprovalQuantityCommitted':
        return {
          transferId: event.data.transferId,
          manifests: {
            ...state.manifests,
            [event.data.manifestNumber]: {
              wasteClass: event.data.wasteClass,
              kg: event.data.kg,
              basis: 'declared',
            },
          },
        };
      case 'ApprovalQuantitySettled':
        return {
          ...state,
          manifests: {
            ...state.manifests,
            [event.data.manifestNumber]: {
              wasteClass: event.data.wasteClass,
              kg: event.data.kg,
              basis: 'accepted',
            },
          },
        };
      case 'ApprovalQuantityReleased':
        return {
          ...state,
          manifests: {
            ...state.manifests,
            [event.data.manifestNumber]: {
              wasteClass: event.data.wasteClass,
              kg: '0.000',
              basis: 'released',
            },
          },
        };
      default:
        return assertNever(event);
    }
  },
};
