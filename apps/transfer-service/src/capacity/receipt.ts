/**
 * What a receipt does to the capacity ledger: the accepted (weighed) kilograms are consumed in the
 * ledger of the facility, the waste code's HW category and the receipt's calendar year, in the
 * manifest's own atomic append. Pure: the manifest slice binds the stream and calls `decide` with
 * the ledger's state inside its load–decide–append loop.
 */
import { LocalDate, Quantity, WasteCode } from '@lianfang/domain-kernel';
import type { CommandMetadata } from '@lianfang/eventsourcing';
import { required } from '../facility/validation';
import {
  capacityDecider,
  capacityStream,
  type CapacityCommand,
  type CapacityEvent,
  type CapacityLedgerState,
} from './decider';
import { decideInLedger } from './ledger';
import type { Receipt, ReceiptConsumption, ReceiptConsumptionOf } from './ports';

export const receiptConsumption: ReceiptConsumptionOf = (receipt: Receipt): ReceiptConsumption => {
  const code = required('capacity', WasteCode.parse(receipt.wasteCode, 'wasteCode'));
  const day = required('capacity', LocalDate.parse(receipt.receivedOn, 'receivedOn'));
  const accepted = required('capacity', Quantity.parse(receipt.acceptedKg, 'acceptedKg'));
  const category = code.category.code;
  const streamId = capacityStream(receipt.facilityId, category, day.year);
  return {
    streamId,
    binding: { streamId, decider: capacityDecider },
    decide(state: CapacityLedgerState, metadata: CommandMetadata): CapacityEvent[] {
      const commands: CapacityCommand[] = [];
      if (state.status !== 'open' && receipt.licensedCapacityKg !== undefined)
        commands.push({
          type: 'OpenLedger',
          data: {
            facilityId: receipt.facilityId,
            category,
            year: day.year,
            capacityKg: receipt.licensedCapacityKg,
          },
          metadata,
        });
      const counted =
        state.status === 'open' && Object.prototype.hasOwnProperty.call(state.receipts, receipt.receiptId)
          ? state.receipts[receipt.receiptId]
          : undefined;
      if (counted !== undefined) {
        // Counted already with another weight: a correction (the difference), never a second consumption.
        if (!counted.quantity.equals(accepted))
          commands.push({
            type: 'CorrectReceipt',
            data: { receiptId: receipt.receiptId, quantityKg: accepted.toKgString() },
            metadata,
          });
      } else if (!accepted.isZero()) {
        // Nothing accepted (all rejected) consumes nothing.
        commands.push({
          type: 'Consume',
          data: {
            reservationId: receipt.transferId,
            receiptId: receipt.receiptId,
            quantityKg: accepted.toKgString(),
          },
          metadata,
        });
      }
      return decideInLedger(commands, state);
    },
  };
};
