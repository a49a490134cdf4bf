import { Injectable } from '@nestjs/common';
import { WorkingDayCalendar } from '@lianfang/domain-kernel';
import { defineProjection, type RecordedEvent } from '@lianfang/eventsourcing';
import { ReadModelOf } from '@lianfang/runtime';
import { transferDecider, type TransferEvent, type TransferState } from './decider';
import { visibilityOf } from './transfer.rules';

type Recorded = RecordedEvent<TransferEvent['type'], TransferEvent['data']>;

// Only `evolve` is used here, which never counts days: any calendar folds the same.
const model = transferDecider({ calendar: WorkingDayCalendar.default() });

const HANDLED: readonly TransferEvent['type'][] = [
  'TransferSubmitted',
  'TransferFiled',
  'TransferReturned',
  'TransferAccepted',
  'TransferRefused',
  'ConsultationLetterSent',
  'ConsultationReplied',
  'TransferApproved',
  'TransferWithdrawn',
  'TransferDeadlineMissed',
  'TransferDeadlinesRecomputed',
];

/** The filter columns of a transfer, all derived from its folded state. */
function columnsOf(state: TransferState) {
  const app = state.application;
  const filing = state.filing;
  const visibility = visibilityOf(state);
  return {
    status: state.status,
    path: filing ? 'filing' : app ? (state.whitelist ? 'whitelist' : 'letter') : null,
    route: state.route ?? null,
    generatorAgencyId: (app ?? filing)?.generator.agencyId ?? null,
    exporting: app?.exportingJurisdiction ?? filing?.exportingJurisdiction ?? null,
    receiving: app?.receivingJurisdiction ?? null,
    receivingCity: filing?.receivingCity ?? null,
    facilityId: (app ?? filing)?.receiver.facilityId ?? null,
    wasteCodes: app ? app.lines.map((l) => l.wasteCode) : [],
    wasteClasses: filing ? filing.lines.map((l) => l.wasteClass) : [],
    approvedOn: state.approval?.approvedOn ?? null,
    overdue: [...state.overdue],
    dueDates: JSON.stringify(state.dueDates),
    agencies: [...visibility.agencies],
    jurisdictions: [...visibility.jurisdictions],
    notified: [...visibility.notified],
  };
}

/** Transfers as a table: what `transfer(id)` and `transfers(…)` read, filtered by visibility in SQL. */
export const transferProjection = defineProjection<Recorded>({
  name: 'transfers',
  version: 1,
  tables: ['transfers'],
  handles: HANDLED,
  async setup(tx, names) {
    await tx.query(`CREATE TABLE ${names.transfers} (
      transfer_id text PRIMARY KEY,
      status text NOT NULL,
      path text,
      route text,
      generator_agency_id text,
      exporting_jurisdiction text,
      receiving_jurisdiction text,
      receiving_city text,
      facility_id text,
      waste_codes text[] NOT NULL,
      waste_classes text[] NOT NULL,
      submitted_at timestamptz NOT NULL,
      approved_on date,
      overdue_steps text[] NOT NULL,
      due_dates jsonb NOT NULL,
      visible_agencies text[] NOT NULL,
      visible_jurisdictions text[] NOT NULL,
      notified_jurisdictions text[] NOT NULL,
      state jsonb NOT NULL,
      version bigint NOT NULL,
      updated_at timestamptz NOT NULL
    )`);
    await tx.query(`CREATE INDEX ON ${names.transfers} (submitted_at DESC, transfer_id DESC)`);
    await tx.query(`CREATE INDEX ON ${names.transfers} USING gin (visible_agencies)`);
    await tx.query(`CREATE INDEX ON ${names.transfers} USING gin (waste_codes)`);
    await tx.query(`CREATE INDEX ON ${names.transfers} (facility_id)`);
  },
  async apply(tx, events, names) {
    for (const e of events) {
      const transferId = (e.data as { transferId: string }).transferId;
      const { rows } = await tx.query<{ state: TransferState | string }>(
        `SELECT state FROM ${names.transfers} WHERE transfer_id = $1`,
        [transferId],
      );
      const stored = rows[0]?.state;
      // Drivers differ: jsonb may arrive parsed or as text.
      const before: TransferState = stored
        ? typeof stored === 'string'
          ? (JSON.parse(stored) as TransferState)
          : stored
        : model.initialState();
      const state = model.evolve(before, { type: e.type, data: e.data } as TransferEvent);
      const c = columnsOf(state);
      const at = e.metadata.occurredAt.toISOString();
      await tx.query(
        `INSERT INTO ${names.transfers} (transfer_id, status, path, route, generator_agency_id,
           exporting_jurisdiction, receiving_jurisdiction, receiving_city, facility_id, waste_codes,
           waste_classes, submitted_at, approved_on, overdue_steps, due_dates, visible_agencies,
           visible_jurisdictions, notified_jurisdictions, state, version, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16, $17, $18,
           $19::jsonb, $20, $12)
         ON CONFLICT (transfer_id) DO UPDATE SET status = $2, path = $3, route = $4,
           generator_agency_id = $5, exporting_jurisdiction = $6, receiving_jurisdiction = $7,
           receiving_city = $8, facility_id = $9, waste_codes = $10, waste_classes = $11,
           approved_on = $13, overdue_steps = $14, due_dates = $15::jsonb, visible_agencies = $16,
           visible_jurisdictions = $17, notified_jurisdictions = $18, state = $19::jsonb, version = $20,
           updated_at = $21`,
        [
          transferId,
          c.status,
          c.path,
          c.route,
          c.generatorAgencyId,
          c.exporting,
          c.receiving,
          c.receivingCity,
          c.facilityId,
          c.wasteCodes,
          c.wasteClasses,
          at,
          c.approvedOn,
          c.overdue,
          c.dueDates,
          c.agencies,
          c.jurisdictions,
          c.notified,
          JSON.stringify(state),
          e.streamPosition.toString(),
          at,
        ],
      );
    }
  },
});

/** Runs the transfers projection for the service's lifetime; mutations wait on it to read their own write. */
@Injectable()
export class TransferReadModel extends ReadModelOf(transferProjection) {}
