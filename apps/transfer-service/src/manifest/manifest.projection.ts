import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { AgencyDirectory } from '@lianfang/auth';
import {
  defineProjection,
  type LogPosition,
  type RecordedEvent,
  type SqlExecutor,
  type TableNames,
} from '@lianfang/eventsourcing';
import {
  AGENCY_DIRECTORY,
  PLATFORM,
  ServiceMetrics,
  type Platform,
  ServiceProjection,
} from '@lianfang/runtime';
import type { ManifestEvent, ManifestState } from './decider';
import type { ManifestDriverEvent } from './drivers';
import { manifestVisibility } from './manifest.access';
import { carriersOf, evolveView, type ManifestView } from './manifest.view';
import { ManifestCommands } from './manifest.commands';

type Recorded = RecordedEvent<string, unknown>;

const MANIFEST_EVENTS: readonly ManifestEvent['type'][] = [
  'ManifestOpened',
  'PaperManifestBackfilled',
  'ManifestPickedUp',
  'ManifestHandedOver',
  'ManifestDelivered',
  'ManifestReceiptDeadlineRecomputed',
  'ManifestReceived',
  'ManifestPartiallyAccepted',
  'ManifestRejected',
  'ManifestDisposed',
  'ManifestReceiptCorrected',
  'ManifestDiscrepancyFound',
  'ManifestDiscrepanciesReviewed',
  'ManifestOverdue',
];

const parseJson = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;

async function applyManifestEvent(
  tx: SqlExecutor,
  names: TableNames,
  directory: AgencyDirectory,
  evolve: (state: ManifestState, event: ManifestEvent) => ManifestState,
  recorded: Recorded,
): Promise<void> {
  const event = { type: recorded.type, data: recorded.data } as ManifestEvent;
  const number =
    event.type === 'PaperManifestBackfilled' ? event.data.opened.manifestNumber : event.data.manifestNumber;
  const { rows } = await tx.query<{ manifest_view: unknown }>(
    `SELECT manifest_view FROM ${names.manifests} WHERE manifest_number = $1`,
    [number],
  );
  const before = rows[0] ? parseJson<ManifestView>(rows[0].manifest_view) : null;
  const view = evolveView(before, event, evolve, recorded.metadata.occurredAt);
  if (!view) return;
  const { state } = view;
  const { opened } = state;
  const visibility = manifestVisibility(directory, {
    creditCodes: [opened.generator.creditCode, opened.receiver.creditCode, ...carriersOf(view)],
    fromJurisdiction: opened.fromJurisdiction,
    toJurisdiction: opened.toJurisdiction,
  });
  await tx.query(
    `INSERT INTO ${names.manifests} (manifest_number, status, authorization_kind, transfer_id, facility_id,
       generator_credit_code, receiver_credit_code, carrier_credit_code, from_jurisdiction, to_jurisdiction,
       waste_class, declared_kg, accepted_kg, overdue, discrepancy, opened_at, updated_at, manifest_view,
       visible_agencies, visible_jurisdictions)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18::jsonb, $19, $20)
     ON CONFLICT (manifest_number) DO UPDATE SET status = EXCLUDED.status,
       carrier_credit_code = EXCLUDED.carrier_credit_code, accepted_kg = EXCLUDED.accepted_kg,
       overdue = EXCLUDED.overdue, discrepancy = EXCLUDED.discrepancy, updated_at = EXCLUDED.updated_at,
       manifest_view = EXCLUDED.manifest_view, visible_agencies = EXCLUDED.visible_agencies,
       visible_jurisdictions = EXCLUDED.visible_jurisdictions`,
    [
      opened.manifestNumber,
      state.status,
      opened.authorization.kind,
      opened.authorization.id,
      opened.receiver.facilityId,
      opened.generator.creditCode,
      opened.receiver.creditCode,
      state.currentCarrierCreditCode,
      opened.fromJurisdiction,
      opened.toJurisdiction,
      opened.waste.wasteClass,
      opened.waste.declaredKg,
      state.acceptedKg,
      state.overdue.length > 0,
      view.discrepancies.length > 0,
      view.openedAt,
      view.updatedAt,
      JSON.stringify(view),
      [...visibility.agencies],
      [...visibility.jurisdictions],
    ],
  );
}

/**
 * Manifests as a table (`manifests`): the view of each, the columns lists filter on, and who sees it
 * (visible_agencies: the parties' agencies; visible_jurisdictions: the generator's and the facility's
 * places). Drivers' details (`manifest_drivers`) are kept as stored: encrypted, revealed on reading, so
 * an erasure needs no rebuild. Agencies come from AGENCY_DIRECTORY by credit code: a directory change
 * reaches existing rows on a rebuild (bump `version`).
 */
export function manifestProjection(
  directory: AgencyDirectory,
  evolve: (state: ManifestState, event: ManifestEvent) => ManifestState,
) {
  return defineProjection<Recorded>({
    name: 'manifests',
    // 2: the state keeps unreviewed discrepancies and the view the bureau's reviews (a rebuild).
    version: 2,
    tables: ['manifests', 'manifest_drivers'],
    handles: [...MANIFEST_EVENTS, 'ManifestDriverRecorded'],
    async setup(tx, names) {
      // Weights stay text: exact decimals, never floats.
      await tx.query(`CREATE TABLE ${names.manifests} (
        manifest_number text PRIMARY KEY,
        status text NOT NULL,
        authorization_kind text NOT NULL,
        transfer_id text NOT NULL,
        facility_id text NOT NULL,
        generator_credit_code text NOT NULL,
        receiver_credit_code text NOT NULL,
        carrier_credit_code text NOT NULL,
        from_jurisdiction text NOT NULL,
        to_jurisdiction text NOT NULL,
        waste_class text NOT NULL,
        declared_kg text NOT NULL,
        accepted_kg text,
        overdue boolean NOT NULL,
        discrepancy boolean NOT NULL,
        opened_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        manifest_view jsonb NOT NULL,
        visible_agencies text[] NOT NULL,
        visible_jurisdictions text[] NOT NULL
      )`);
      await tx.query(`CREATE INDEX ON ${names.manifests} (transfer_id)`);
      await tx.query(`CREATE INDEX ON ${names.manifests} (facility_id)`);
      await tx.query(`CREATE INDEX ON ${names.manifests} (opened_at, manifest_number)`);
      await tx.query(`CREATE INDEX ON ${names.manifests} USING gin (visible_agencies)`);
      await tx.query(`CREATE TABLE ${names.manifest_drivers} (
        subject_id text PRIMARY KEY,
        manifest_number text NOT NULL,
        details jsonb NOT NULL
      )`);
    },
    async apply(tx, events, names) {
      for (const e of events) {
        if (e.type === 'ManifestDriverRecorded') {
          const d = e.data as ManifestDriverEvent['data'];
          await tx.query(
            `INSERT INTO ${names.manifest_drivers} (subject_id, manifest_number, details) VALUES ($1, $2, $3::jsonb)
             ON CONFLICT (subject_id) DO NOTHING`,
            [d.subjectId, d.manifestNumber, JSON.stringify({ name: d.name, phone: d.phone })],
          );
        } else {
          await applyManifestEvent(tx, names, directory, evolve, e);
        }
      }
    },
  });
}

/** Runs the manifests projection for the service's lifetime; mutations wait on it to read their own write. */
@Injectable()
export class ManifestReadModel implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly readModel: ServiceProjection<Recorded>;

  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
    @Inject(AGENCY_DIRECTORY) directory: AgencyDirectory,
    @Inject(ManifestCommands) commands: ManifestCommands,
  ) {
    this.readModel = new ServiceProjection(manifestProjection(directory, commands.decider.evolve));
  }

  onApplicationBootstrap(): Promise<void> {
    return this.readModel.start(this.platform, this.metrics);
  }

  onModuleDestroy(): Promise<void> {
    return this.readModel.stop();
  }

  /** Until the read model has applied the log up to `position`. */
  waitFor(position: LogPosition): Promise<void> {
    return this.readModel.waitFor(position);
  }
}
