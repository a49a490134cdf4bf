/**
 * The manifest's part of the published language (libs/contracts/src/transfer/manifest.ts): which domain
 * events other services hear of, with data built exactly to the contracts (checked before storing).
 */
import type { Actor, CommandMetadata, OutboxMessage, PendingEvent } from '@lianfang/eventsourcing';
import { LocalDate } from '@lianfang/domain-kernel';
import { integrationEvent } from '@lianfang/messaging';
import { PUBLISHED } from '../common/published';
import type { ManifestEvent, ManifestState } from './decider';

export function manifestOutbox(
  topic: string,
  metadata: CommandMetadata,
  events: readonly PendingEvent<ManifestEvent>[],
  state: ManifestState,
): OutboxMessage[] {
  if (state.status === 'none') return [];
  const { fromJurisdiction, toJurisdiction } = state.opened;
  const publish = (
    type: string,
    from: PendingEvent<ManifestEvent>,
    data: Record<string, unknown>,
    actor: Actor = metadata.actor,
  ) =>
    integrationEvent({
      topic,
      source: 'transfer',
      type,
      from,
      actor,
      correlationId: metadata.correlationId,
      causationId: metadata.causationId ?? null,
      contracts: PUBLISHED,
      data,
    });
  return events.flatMap((event): OutboxMessage[] => {
    switch (event.type) {
      case 'ManifestReceived':
        return [
          publish('ManifestReceived', event, {
            manifestNumber: event.data.manifestNumber,
            acceptedKg: event.data.acceptedKg,
            wasteClass: event.data.wasteClass,
            fromJurisdiction: event.data.fromJurisdiction,
            toJurisdiction: event.data.toJurisdiction,
            facilityId: event.data.facilityId,
            receiptDate: event.data.receiptDate,
            transferId: event.data.authorizationId,
          }),
        ];
      case 'ManifestReceiptCorrected':
        return [
          publish('ManifestReceiptCorrected', event, {
            manifestNumber: event.data.manifestNumber,
            previousAcceptedKg: event.data.previousAcceptedKg,
            correctedAcceptedKg: event.data.acceptedKg,
            reason: event.data.reason,
            correctionDate: LocalDate.ofInstant(new Date(event.data.correctedAt)).toString(),
          }),
        ];
      case 'ManifestDiscrepancyFound': {
        const d = event.data;
        return [
          publish('ManifestDiscrepancyFound', event, {
            manifestNumber: d.manifestNumber,
            kind: d.kind,
            declared: d.kind === 'weight' ? d.declaredKg : d.declared,
            accepted: d.kind === 'weight' ? d.acceptedKg : d.found,
            fromJurisdiction,
            toJurisdiction,
          }),
        ];
      }
      case 'ManifestDiscrepanciesReviewed': {
        // Only a referral concerns another context: joint enforcement opens a case from it.
        const d = event.data;
        if (d.decision !== 'refer-to-enforcement') return [];
        return [
          publish('ManifestDiscrepancyReferred', event, {
            manifestNumber: d.manifestNumber,
            transferId: state.opened.authorization.id,
            // As opened: the carrier the generator engaged, even if a handover passed the waste on.
            generatorCreditCode: state.opened.generator.creditCode,
            receiverCreditCode: state.opened.receiver.creditCode,
            carrierCreditCode: state.opened.carrierCreditCode,
            kinds: [...d.kinds],
            note: d.note,
            fromJurisdiction,
            toJurisdiction,
            reportTo: d.reportTo,
            reviewedBy: d.reviewedBy,
            reviewedAt: d.reviewedAt,
          }),
        ];
      }
      case 'ManifestOverdue':
        return [
          publish('ManifestOverdue', event, {
            manifestNumber: event.data.manifestNumber,
            reason: event.data.reason,
            dueAt: event.data.dueAt,
            fromJurisdiction,
            toJurisdiction,
          }),
        ];
      default:
        return [];
    }
  });
}
