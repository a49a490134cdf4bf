import { LocalDate } from '@lianfang/domain-kernel';
import { defineProjection, type RecordedEvent } from '@lianfang/eventsourcing';
import type { FacilityEvent } from '../facility/decider';
import type { CapacityEvent } from './decider';

type Recorded = RecordedEvent<
  FacilityEvent['type'] | CapacityEvent['type'],
  FacilityEvent['data'] | CapacityEvent['data']
>;
type Updated = Extract<FacilityEvent, { type: 'FacilityUpdated' }>['data'];

/**
 * The licence-adjustment policy's memory, built from the log so a crash loses nothing: every change of
 * a category's licensed capacity (from the year of the change on) and every ledger with the capacity it
 * records. A ledger whose capacity differs from the latest change that applies to its year is work to
 * do; the CapacityAdjusted the policy stores takes it off the list. A ledger opened after the change
 * with the old figure (an approval that read the licence just before the update) is caught the same way.
 * Ledgers of years before the change are history and keep their figure.
 */
export const licenceChangesProjection = defineProjection<Recorded>({
  name: 'capacity-licence-changes',
  version: 1,
  tables: ['licence_changes', 'licence_ledgers'],
  handles: ['FacilityUpdated', 'CapacityLedgerOpened', 'CapacityAdjusted'],
  async setup(tx, names) {
    // seq: the log's order, so "the latest change" is well defined. Exact decimals (kg), never floats.
    await tx.query(`CREATE TABLE ${names.licence_changes} (
      seq bigserial PRIMARY KEY,
      facility_id text NOT NULL,
      category text NOT NULL,
      effective_year integer NOT NULL,
      from_kg numeric(20, 3) NOT NULL,
      to_kg numeric(20, 3) NOT NULL,
      reason text,
      event_id text NOT NULL,
      correlation_id text NOT NULL,
      occurred_at timestamptz NOT NULL,
      UNIQUE (event_id, category)
    )`);
    await tx.query(`CREATE INDEX ON ${names.licence_changes} (facility_id, category, seq)`);
    await tx.query(`CREATE TABLE ${names.licence_ledgers} (
      stream_id text PRIMARY KEY,
      facility_id text NOT NULL,
      category text NOT NULL,
      year integer NOT NULL,
      capacity_kg numeric(20, 3) NOT NULL
    )`);
    await tx.query(`CREATE INDEX ON ${names.licence_ledgers} (facility_id, category)`);
  },
  async apply(tx, events, names) {
    for (const e of events) {
      if (e.type === 'FacilityUpdated') {
        const data = e.data as Updated;
        // The year the new licence takes effect: the business day of the update, Asia/Shanghai.
        const year = LocalDate.ofInstant(e.metadata.occurredAt).year;
        for (const change of data.capacityChanges ?? [])
          await tx.query(
            `INSERT INTO ${names.licence_changes}
               (facility_id, category, effective_year, from_kg, to_kg, reason, event_id, correlation_id, occurred_at)
             VALUES ($1, $2, $3, $4::numeric, $5::numeric, $6, $7, $8, $9)
             ON CONFLICT (event_id, category) DO NOTHING`,
            [
              data.facilityId,
              change.category,
              year,
              change.fromKg,
              change.toKg,
              data.reason ?? null,
              e.eventId,
              e.metadata.correlationId,
              e.metadata.occurredAt.toISOString(),
            ],
          );
        continue;
      }
      const event = { type: e.type, data: e.data } as CapacityEvent;
      if (event.type === 'CapacityLedgerOpened') {
        const { facilityId, category, year, capacityKg } = event.data;
        await tx.query(
          `INSERT INTO ${names.licence_ledgers} (stream_id, facility_id, category, year, capacity_kg)
           VALUES ($1, $2, $3, $4, $5::numeric) ON CONFLICT (stream_id) DO NOTHING`,
          [e.streamId, facilityId, category, year, capacityKg],
        );
      } else if (event.type === 'CapacityAdjusted') {
        await tx.query(`UPDATE ${names.licence_ledgers} SET capacity_kg = $2::numeric WHERE stream_id = $1`, [
          e.streamId,
          event.data.toKg,
        ]);
      }
    }
  },
});
