import { Injectable } from '@nestjs/common';
import {
  defineProjection,
  type RecordedEvent,
  type SqlExecutor,
  type TableNames,
} from '@lianfang/eventsourcing';
import { ReadModelOf } from '@lianfang/runtime';
import type { CapacityEvent } from './decider';

type Recorded = RecordedEvent<CapacityEvent['type'], CapacityEvent['data']>;

/**
 * Totals as the ledger's decider counts them (`ledgerTotals`): reserved is what reservations still
 * hold (nothing once released, never below zero), consumed is every receipt, available is capacity
 * minus both, never below zero. numeric(20,3): exact kilograms, never a float.
 */
async function recompute(tx: SqlExecutor, names: TableNames, streamId: string, at: string): Promise<void> {
  await tx.query(
    `UPDATE ${names.capacity_ledgers} l
        SET reserved_kg = t.reserved, consumed_kg = t.consumed,
            available_kg = GREATEST(l.capacity_kg - t.reserved - t.consumed, 0), updated_at = $2
       FROM (SELECT COALESCE(SUM(CASE WHEN released IS NULL THEN GREATEST(reserved_kg - consumed_kg, 0) ELSE 0 END), 0)
                      AS reserved,
                    COALESCE(SUM(consumed_kg), 0) AS consumed
               FROM ${names.capacity_reservations} WHERE stream_id = $1) t
      WHERE l.stream_id = $1`,
    [streamId, at],
  );
}

/** The capacity ledgers as a table (one row per facility, category and year): reference data. */
export const capacityProjection = defineProjection<Recorded>({
  name: 'capacity-ledgers',
  version: 1,
  tables: ['capacity_ledgers', 'capacity_reservations'],
  handles: [
    'CapacityLedgerOpened',
    'CapacityReserved',
    'CapacityConsumed',
    'CapacityReceiptCorrected',
    'CapacityReleased',
    'CapacityAdjusted',
  ],
  async setup(tx, names) {
    await tx.query(`CREATE TABLE ${names.capacity_ledgers} (
      stream_id text PRIMARY KEY,
      facility_id text NOT NULL,
      category text NOT NULL,
      year integer NOT NULL,
      capacity_kg numeric(20, 3) NOT NULL,
      reserved_kg numeric(20, 3) NOT NULL DEFAULT 0,
      consumed_kg numeric(20, 3) NOT NULL DEFAULT 0,
      available_kg numeric(20, 3) NOT NULL,
      updated_at timestamptz NOT NULL
    )`);
    await tx.query(`CREATE UNIQUE INDEX ON ${names.capacity_ledgers} (facility_id, category, year)`);
    await tx.query(`CREATE TABLE ${names.capacity_reservations} (
      stream_id text NOT NULL,
      reservation_id text NOT NULL,
      reserved_kg numeric(20, 3) NOT NULL DEFAULT 0,
      consumed_kg numeric(20, 3) NOT NULL DEFAULT 0,
      released text,
      PRIMARY KEY (stream_id, reservation_id)
    )`);
  },
  async apply(tx, events, names) {
    const reservations = names.capacity_reservations;
    for (const e of events) {
      const at = e.metadata.occurredAt.toISOString();
      const event = { type: e.type, data: e.data } as CapacityEvent;
      const streamId = e.streamId;
      switch (event.type) {
        case 'CapacityLedgerOpened': {
          const { facilityId, category, year, capacityKg } = event.data;
          await tx.query(
            `INSERT INTO ${names.capacity_ledgers} (stream_id, facility_id, category, year, capacity_kg, available_kg, updated_at)
             VALUES ($1, $2, $3, $4, $5::numeric, $5::numeric, $6) ON CONFLICT (stream_id) DO NOTHING`,
            [streamId, facilityId, category, year, capacityKg, at],
          );
          break;
        }
        case 'CapacityReserved':
          await tx.query(
            `INSERT INTO ${reservations} (stream_id, reservation_id, reserved_kg) VALUES ($1, $2, $3::numeric)`,
            [streamId, event.data.reservationId, event.data.quantityKg],
          );
          break;
        case 'CapacityConsumed':
          // A receipt without a reservation in this ledger opens an entry that reserved nothing.
          await tx.query(
            `INSERT INTO ${reservations} (stream_id, reservation_id, consumed_kg) VALUES ($1, $2, $3::numeric)
             ON CONFLICT (stream_id, reservation_id) DO UPDATE SET consumed_kg = ${reservations}.consumed_kg + EXCLUDED.consumed_kg`,
            [streamId, event.data.reservationId, event.data.quantityKg],
          );
          break;
        case 'CapacityReceiptCorrected':
          await tx.query(
            `UPDATE ${reservations} SET consumed_kg = consumed_kg - $3::numeric + $4::numeric
              WHERE stream_id = $1 AND reservation_id = $2`,
            [streamId, event.data.reservationId, event.data.fromKg, event.data.toKg],
          );
          break;
        case 'CapacityReleased':
          await tx.query(
            `UPDATE ${reservations} SET released = $3 WHERE stream_id = $1 AND reservation_id = $2`,
            [streamId, event.data.reservationId, event.data.reason],
          );
          break;
        case 'CapacityAdjusted':
          await tx.query(
            `UPDATE ${names.capacity_ledgers} SET capacity_kg = $2::numeric WHERE stream_id = $1`,
            [streamId, event.data.toKg],
          );
          break;
      }
      await recompute(tx, names, streamId, at);
    }
  },
});

/** Runs the capacity ledgers read model for the service's lifetime. */
@Injectable()
export class CapacityReadModel extends ReadModelOf(capacityProjection) {}
