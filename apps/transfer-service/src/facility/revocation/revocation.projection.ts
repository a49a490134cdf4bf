import { defineProjection, type RecordedEvent } from '@lianfang/eventsourcing';
import type { CapacityEvent } from '../../capacity/decider';
import type { FacilityEvent } from '../decider';

type Recorded = RecordedEvent<
  FacilityEvent['type'] | CapacityEvent['type'],
  FacilityEvent['data'] | CapacityEvent['data']
>;

/** `capacity-<facility>-<HWnn>-<year>` (capacityStream): the facility a ledger belongs to. */
const LEDGER_STREAM = /^capacity-(.+)-HW\d{2}-\d{4}$/;

export function facilityOfLedger(streamId: string): string | undefined {
  return LEDGER_STREAM.exec(streamId)?.[1];
}

/**
 * The revocation policy's memory, built from the log so a crash loses nothing: which facilities are
 * revoked (and by which event, for the releases' deterministic commandIds) and what each approval
 * (reservation = transfer id) still holds in each ledger of each facility. A hold of a revoked facility
 * that is not released yet is work to do; the CapacityReleased event that the release stores takes it
 * off the list.
 */
export const revocationHoldsProjection = defineProjection<Recorded>({
  name: 'facility-revocation-holds',
  version: 1,
  tables: ['revoked_facilities', 'facility_holds'],
  handles: [
    'FacilityRevoked',
    'CapacityReserved',
    'CapacityConsumed',
    'CapacityReceiptCorrected',
    'CapacityReleased',
  ],
  async setup(tx, names) {
    await tx.query(`CREATE TABLE ${names.revoked_facilities} (
      facility_id text PRIMARY KEY,
      event_id text NOT NULL,
      correlation_id text NOT NULL,
      occurred_at timestamptz NOT NULL
    )`);
    // Exact decimals (kg, 3 places): never a float.
    await tx.query(`CREATE TABLE ${names.facility_holds} (
      ledger_stream text NOT NULL,
      reservation_id text NOT NULL,
      facility_id text NOT NULL,
      reserved_kg numeric(20, 3) NOT NULL,
      consumed_kg numeric(20, 3) NOT NULL DEFAULT 0,
      released boolean NOT NULL DEFAULT false,
      PRIMARY KEY (ledger_stream, reservation_id)
    )`);
    await tx.query(`CREATE INDEX ON ${names.facility_holds} (facility_id) WHERE NOT released`);
  },
  async apply(tx, events, names) {
    for (const e of events) {
      if (e.type === 'FacilityRevoked') {
        const data = e.data as Extract<FacilityEvent, { type: 'FacilityRevoked' }>['data'];
        await tx.query(
          `INSERT INTO ${names.revoked_facilities} (facility_id, event_id, correlation_id, occurred_at)
           VALUES ($1, $2, $3, $4) ON CONFLICT (facility_id) DO NOTHING`,
          [data.facilityId, e.eventId, e.metadata.correlationId, e.metadata.occurredAt.toISOString()],
        );
        continue;
      }
      const facilityId = facilityOfLedger(e.streamId);
      if (facilityId === undefined) continue;
      const event = { type: e.type, data: e.data } as CapacityEvent;
      switch (event.type) {
        case 'CapacityReserved':
          await tx.query(
            `INSERT INTO ${names.facility_holds} (ledger_stream, reservation_id, facility_id, reserved_kg)
             VALUES ($1, $2, $3, $4::numeric) ON CONFLICT (ledger_stream, reservation_id) DO NOTHING`,
            [e.streamId, event.data.reservationId, facilityId, event.data.quantityKg],
          );
          break;
        // What its receipts consumed, over-consumption included: the ledger's `outstanding` is
        // reserved − consumed, so a reservation its receipts used up holds nothing to release.
        case 'CapacityConsumed':
          await tx.query(
            `UPDATE ${names.facility_holds} SET consumed_kg = consumed_kg + $3::numeric
             WHERE ledger_stream = $1 AND reservation_id = $2`,
            [e.streamId, event.data.reservationId, event.data.quantityKg],
          );
          break;
        case 'CapacityReceiptCorrected':
          await tx.query(
            `UPDATE ${names.facility_holds} SET consumed_kg = consumed_kg + $3::numeric - $4::numeric
             WHERE ledger_stream = $1 AND reservation_id = $2`,
            [e.streamId, event.data.reservationId, event.data.toKg, event.data.fromKg],
          );
          break;
        case 'CapacityReleased':
          await tx.query(
            `UPDATE ${names.facility_holds} SET released = true WHERE ledger_stream = $1 AND reservation_id = $2`,
            [e.streamId, event.data.reservationId],
          );
          break;
        default:
          break;
      }
    }
  },
});
