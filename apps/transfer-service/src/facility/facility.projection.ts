import { Injectable } from '@nestjs/common';
import { defineProjection, type RecordedEvent } from '@lianfang/eventsourcing';
import { ReadModelOf } from '@lianfang/runtime';
import type { FacilityEvent, FacilityProfile } from './decider';

type Recorded = RecordedEvent<FacilityEvent['type'], FacilityEvent['data']>;

const profileColumns = (p: FacilityProfile) => [
  p.name?.zh ?? null,
  p.name?.en ?? null,
  p.licenceNumber,
  p.operatorCreditCode,
  p.jurisdiction,
  p.coordinates.lat,
  p.coordinates.lon,
  p.licensed.map((l) => l.category),
  p.validFrom,
  p.validTo,
  JSON.stringify(p.licensed),
];

/** Licensed facilities as a table: what `facility(id)` and `facilities(…)` read. */
export const facilityProjection = defineProjection<Recorded>({
  name: 'facilities',
  version: 1,
  tables: ['facilities'],
  handles: [
    'FacilityRegistered',
    'FacilityUpdated',
    'FacilitySuspended',
    'FacilityReinstated',
    'FacilityRevoked',
  ],
  async setup(tx, names) {
    // Coordinates stay text: the exact decimals entered, never a float.
    await tx.query(`CREATE TABLE ${names.facilities} (
      facility_id text PRIMARY KEY,
      name_zh text,
      name_en text,
      licence_number text NOT NULL,
      operator_credit_code text NOT NULL,
      jurisdiction text NOT NULL,
      lat text NOT NULL,
      lon text NOT NULL,
      licensed_categories text[] NOT NULL,
      status text NOT NULL,
      status_reason text,
      valid_from date NOT NULL,
      valid_to date NOT NULL,
      capacity jsonb NOT NULL,
      updated_at timestamptz NOT NULL
    )`);
    await tx.query(`CREATE INDEX ON ${names.facilities} (jurisdiction)`);
    await tx.query(`CREATE INDEX ON ${names.facilities} USING gin (licensed_categories)`);
  },
  async apply(tx, events, names) {
    for (const e of events) {
      const at = e.metadata.occurredAt.toISOString();
      const event = { type: e.type, data: e.data } as FacilityEvent;
      switch (event.type) {
        case 'FacilityRegistered':
          await tx.query(
            `INSERT INTO ${names.facilities} (facility_id, name_zh, name_en, licence_number, operator_credit_code,
               jurisdiction, lat, lon, licensed_categories, valid_from, valid_to, capacity, status, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, 'active', $13)
             ON CONFLICT (facility_id) DO NOTHING`,
            [event.data.facilityId, ...profileColumns(event.data.profile), at],
          );
          break;
        case 'FacilityUpdated':
          await tx.query(
            `UPDATE ${names.facilities} SET name_zh = $2, name_en = $3, licence_number = $4,
               operator_credit_code = $5, jurisdiction = $6, lat = $7, lon = $8, licensed_categories = $9,
               valid_from = $10, valid_to = $11, capacity = $12::jsonb, updated_at = $13
             WHERE facility_id = $1`,
            [event.data.facilityId, ...profileColumns(event.data.profile), at],
          );
          break;
        case 'FacilitySuspended':
        case 'FacilityRevoked':
          await tx.query(
            `UPDATE ${names.facilities} SET status = $2, status_reason = $3, updated_at = $4 WHERE facility_id = $1`,
            [
              event.data.facilityId,
              event.type === 'FacilitySuspended' ? 'suspended' : 'revoked',
              event.data.reason,
              at,
            ],
          );
          break;
        case 'FacilityReinstated':
          await tx.query(
            `UPDATE ${names.facilities} SET status = 'active', status_reason = NULL, updated_at = $2
             WHERE facility_id = $1`,
            [event.data.facilityId, at],
          );
          break;
      }
    }
  },
});

/** Runs the facilities projection for the service's lifetime; mutations wait on it to read their own write. */
@Injectable()
export class FacilityReadModel extends ReadModelOf(facilityProjection) {}
