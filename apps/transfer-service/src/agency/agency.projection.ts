import { defineProjection, type RecordedEvent } from '@lianfang/eventsourcing';
import type { AgencyEvent } from './decider';

type Recorded = RecordedEvent<AgencyEvent['type'], AgencyEvent['data']>;

/** The register as a table: what `agency(id)`, `agencies(…)` and the directory sync read. */
export const agencyProjection = defineProjection<Recorded>({
  name: 'agencies',
  version: 1,
  tables: ['agencies'],
  handles: ['AgencyRegistered', 'AgencyRevised', 'AgencyRetired'],
  async setup(tx, names) {
    await tx.query(`CREATE TABLE ${names.agencies} (
      agency_id text PRIMARY KEY,
      kind text NOT NULL,
      name_zh text NOT NULL,
      name_en text NOT NULL,
      jurisdiction text NOT NULL,
      level text NOT NULL,
      roles text[] NOT NULL,
      credit_code text,
      status text NOT NULL,
      registered_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    )`);
    await tx.query(`CREATE INDEX ON ${names.agencies} (kind, jurisdiction)`);
  },
  async apply(tx, events, names) {
    for (const e of events) {
      const at = e.metadata.occurredAt.toISOString();
      const event = { type: e.type, data: e.data } as AgencyEvent;
      switch (event.type) {
        case 'AgencyRegistered':
        case 'AgencyRevised': {
          const { agencyId, profile } = event.data;
          await tx.query(
            `INSERT INTO ${names.agencies} AS a
               (agency_id, kind, name_zh, name_en, jurisdiction, level, roles, credit_code, status, registered_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $9)
             ON CONFLICT (agency_id) DO UPDATE SET kind = $2, name_zh = $3, name_en = $4, jurisdiction = $5,
               level = $6, roles = $7, credit_code = $8, status = 'active', updated_at = $9`,
            [
              agencyId,
              profile.kind,
              profile.name.zh,
              profile.name.en,
              profile.jurisdiction,
              profile.level,
              [...profile.roles],
              profile.creditCode ?? null,
              at,
            ],
          );
          break;
        }
        case 'AgencyRetired':
          await tx.query(
            `UPDATE ${names.agencies} SET status = 'retired', updated_at = $2 WHERE agency_id = $1`,
            [event.data.agencyId, at],
          );
          break;
      }
    }
  },
});
