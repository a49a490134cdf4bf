/**
 * What the capacity mechanism offers the other mechanisms of the service (the transfer's approval,
 * the manifest's receipt, the facility's revocation). Implemented in this folder; the callers code
 * against these shapes only.
 */
import type {
  CommandMetadata,
  Decider,
  OutboxMessage,
  PendingEvent,
  StreamBinding,
} from '@lianfang/eventsourcing';
import type { LogPosition } from '@lianfang/eventsourcing';
import type { TransferCommand, TransferEvent, TransferState } from '../transfer/decider';
import type { CapacityEvent, CapacityLedgerState, ReleaseReason } from './decider';
import type { PlannedReservation } from './plan';

export type ApproveTransferCommand = Extract<TransferCommand, { type: 'ApproveTransfer' }>;

export interface ApprovalRequest {
  /** The ApproveTransfer command as the transfer slice built it (metadata included). */
  readonly command: ApproveTransferCommand;
  /** The transfer decider with the caller's authorization checked inside `decide` (scoped). */
  readonly transferDecider: Decider<TransferCommand, TransferEvent, TransferState>;
  /** The integration events of the transfer's new events, stored in the same append (outbox). */
  readonly transferOutbox: (
    events: readonly PendingEvent<TransferEvent>[],
    state: TransferState,
  ) => readonly OutboxMessage[];
  /** kg per calendar year of the validity ('2027' → '1200.000'); default: all in the first year. */
  readonly plannedByYear?: Readonly<Record<string, string>>;
}

export interface ApprovalOutcome {
  readonly transferState: TransferState;
  readonly transferVersion: bigint;
  readonly lastLogPosition: LogPosition;
  readonly replayed: boolean;
  /** One per ledger touched: facility, category, year, kg reserved. */
  readonly reservations: readonly (PlannedReservation & {
    readonly facilityId: string;
    readonly category: string;
  })[];
}

/**
 * The approval and the receiving facility's capacity reservation as ONE atomic append over the
 * transfer stream and every ledger it reserves in (a ledger opened from the licence if it has no events
 * yet). A full ledger refuses the approval with a typed error naming the category and year; nothing is
 * stored. Two approvals racing for the last tonnes: one wins, the other retries and is refused.
 */
export interface TransferApprovals {
  approve(request: ApprovalRequest): Promise<ApprovalOutcome>;
}
export const TRANSFER_APPROVALS = 'transfer-service.TRANSFER_APPROVALS';

/** A receipt as the capacity ledger counts it (the accepted, weighed kilograms). */
export interface Receipt {
  readonly facilityId: string;
  /** A national list code (900-249-08); its HW category picks the ledger. */
  readonly wasteCode: string;
  /** The receipt day, YYYY-MM-DD Asia/Shanghai: its calendar year picks the ledger. */
  readonly receivedOn: string;
  /** The approval the waste travels under (the reservation id). */
  readonly transferId: string;
  /** The manifest number: a receipt is never consumed twice. */
  readonly receiptId: string;
  readonly acceptedKg: string;
  /**
   * Optional: the facility's licensed annual capacity for the category (kg). Approvals open the ledger
   * of every year they cover; a receipt in a year no approval opened (delivered after the validity)
   * opens it with this figure, and is refused `capacity.ledger-not-open` without it.
   */
  readonly licensedCapacityKg?: string;
}

/**
 * One more stream for the manifest's own atomic append: the ledger the receipt consumes from. The
 * manifest slice adds `binding` to its `handleAcross` streams and calls `decide` with the ledger's state
 * when its decision received the waste; a correction passes the new accepted kg (the ledger records the
 * difference).
 */
export interface ReceiptConsumption {
  readonly streamId: string;
  readonly binding: StreamBinding<CapacityEvent, CapacityLedgerState>;
  decide(state: CapacityLedgerState, metadata: CommandMetadata): CapacityEvent[];
}

/** Pure: which ledger a receipt consumes from and how (see `ReceiptConsumption`). */
export type ReceiptConsumptionOf = (receipt: Receipt) => ReceiptConsumption;

/** Releases what an approval still holds (expiry, withdrawal after approval, facility revocation). */
export interface CapacityReleases {
  release(input: {
    readonly transferId: string;
    readonly facilityId: string;
    readonly reason: ReleaseReason;
    readonly metadata: CommandMetadata;
  }): Promise<void>;
}
export const CAPACITY_RELEASES = 'transfer-service.CAPACITY_RELEASES';
