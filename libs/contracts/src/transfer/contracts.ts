import { defineContract, type Contract } from '../registry';
import { AgreementAdoptedV1, AgreementAmendedV1 } from './agreement';
import {
  ManifestDiscrepancyFoundV1,
  ManifestDiscrepancyReferredV1,
  ManifestOverdueV1,
  ManifestReceiptCorrectedV1,
  ManifestReceivedV1,
} from './manifest';
import { DeadlineMissedV1, FacilitySuspendedV1 } from './oversight';
import { TransferApprovedV1 } from './transfer-approved';

// The transfer service's published language, version 1, on topicFor('transfer').

export const agreementAdoptedContract = defineContract({
  type: 'AgreementAdopted',
  version: 1,
  source: 'transfer',
  schema: AgreementAdoptedV1,
  description: 'A regional agreement signed by every member: whitelist, rates, tolerance, transit time.',
});

export const agreementAmendedContract = defineContract({
  type: 'AgreementAmended',
  version: 1,
  source: 'transfer',
  schema: AgreementAmendedV1,
  description: 'An adopted agreement amended by all members: its whole new text and from when.',
});

export const transferApprovedContract = defineContract({
  type: 'TransferApproved',
  version: 1,
  source: 'transfer',
  schema: TransferApprovedV1,
  description: 'The exporting bureau approved a transfer (by letter or whitelist); capacity is reserved.',
});

export const manifestReceivedContract = defineContract({
  type: 'ManifestReceived',
  version: 1,
  source: 'transfer',
  schema: ManifestReceivedV1,
  description: 'The receiver confirmed receipt of a manifest with the accepted (weighed) weight.',
});

export const manifestReceiptCorrectedContract = defineContract({
  type: 'ManifestReceiptCorrected',
  version: 1,
  source: 'transfer',
  schema: ManifestReceiptCorrectedV1,
  description: 'The accepted weight of a received manifest was corrected (a new fact, not an edit).',
});

export const manifestDiscrepancyFoundContract = defineContract({
  type: 'ManifestDiscrepancyFound',
  version: 1,
  source: 'transfer',
  schema: ManifestDiscrepancyFoundV1,
  description: 'Received waste differs from the declaration in weight, name, form, packaging or hazard.',
});

export const manifestDiscrepancyReferredContract = defineContract({
  type: 'ManifestDiscrepancyReferred',
  version: 1,
  source: 'transfer',
  schema: ManifestDiscrepancyReferredV1,
  description: "The receiving province's bureau referred a manifest's discrepancies to enforcement.",
});

export const manifestOverdueContract = defineContract({
  type: 'ManifestOverdue',
  version: 1,
  source: 'transfer',
  schema: ManifestOverdueV1,
  description: 'A manifest stayed in transit too long, or delivery was not confirmed in time.',
});

export const deadlineMissedContract = defineContract({
  type: 'DeadlineMissed',
  version: 1,
  source: 'transfer',
  schema: DeadlineMissedV1,
  description: 'A statutory deadline passed undone: an overdue worklist item, never consent.',
});

export const facilitySuspendedContract = defineContract({
  type: 'FacilitySuspended',
  version: 1,
  source: 'transfer',
  schema: FacilitySuspendedV1,
  description: 'A licensed facility was suspended: no new manifests to it from the date given.',
});

/** Every transfer contract; `new ContractRegistry(TRANSFER_CONTRACTS)` lets a consumer validate them. */
export const TRANSFER_CONTRACTS: readonly Contract[] = Object.freeze([
  agreementAdoptedContract,
  agreementAmendedContract,
  transferApprovedContract,
  manifestReceivedContract,
  manifestReceiptCorrectedContract,
  manifestDiscrepancyFoundContract,
  manifestDiscrepancyReferredContract,
  manifestOverdueContract,
  deadlineMissedContract,
  facilitySuspendedContract,
]);

/** The data class of each transfer event type, version 1. */
export interface TransferEventData {
  AgreementAdopted: AgreementAdoptedV1;
  AgreementAmended: AgreementAmendedV1;
  TransferApproved: TransferApprovedV1;
  ManifestReceived: ManifestReceivedV1;
  ManifestReceiptCorrected: ManifestReceiptCorrectedV1;
  ManifestDiscrepancyFound: ManifestDiscrepancyFoundV1;
  ManifestDiscrepancyReferred: ManifestDiscrepancyReferredV1;
  ManifestOverdue: ManifestOverdueV1;
  DeadlineMissed: DeadlineMissedV1;
  FacilitySuspended: FacilitySuspendedV1;
}

export type TransferEventType = keyof TransferEventData;
