import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { LocalDate, type WorkingDayCalendar } from '@lianfang/domain-kernel';
import {
  defineProjection,
  type LogPosition,
  type RecordedEvent,
  type SqlExecutor,
  type TableNames,
} from '@lianfang/eventsourcing';
import { clearWorkItems, createWorkItemsTable, replaceWorkItems } from '@lianfang/graph';
import { PLATFORM, ServiceMetrics, type Platform, ServiceProjection } from '@lianfang/runtime';
import { agreementDecider, agreementStream, type AgreementEvent } from '../agreement/decider';
import { WORKING_DAY_CALENDAR } from '../common/time';
import { facilityDecider, facilityStream, type FacilityEvent, type FacilityState } from '../facility/decider';
import { manifestDecider, manifestStream, type ManifestEvent } from '../manifest/decider';
import { transferDecider, transferStream, type TransferEvent } from '../transfer/decider';
import {
  agreementItems,
  manifestItems,
  suspensionItems,
  transferItems,
  type ApprovedTransfer,
} from './work-items';

type RecordKind = 'transfer' | 'manifest' | 'agreement' | 'facility';

// Every event type of the four aggregates (a Record, so a new event type is a compile error here).
const TRANSFER_EVENTS: Record<TransferEvent['type'], true> = {
  TransferSubmitted: true,
  TransferFiled: true,
  TransferReturned: true,
  TransferAccepted: true,
  TransferRefused: true,
  ConsultationLetterSent: true,
  ConsultationReplied: true,
  TransferApproved: true,
  TransferWithdrawn: true,
  TransferDeadlineMissed: true,
  TransferDeadlinesRecomputed: true,
};
const MANIFEST_EVENTS: Record<ManifestEvent['type'], true> = {
  ManifestOpened: true,
  ManifestPickedUp: true,
  ManifestHandedOver: true,
  ManifestDelivered: true,
  ManifestReceived: true,
  ManifestPartiallyAccepted: true,
  ManifestRejected: true,
  ManifestDisposed: true,
  ManifestReceiptCorrected: true,
  ManifestDiscrepancyFound: true,
  ManifestOverdue: true,
  PaperManifestBackfilled: true,
};
const AGREEMENT_EVENTS: Record<AgreementEvent['type'], true> = {
  AgreementProposed: true,
  AgreementSigned: true,
  AgreementRejected: true,
  AgreementAdopted: true,
  AmendmentProposed: true,
  AmendmentSigned: true,
  AmendmentRejected: true,
  AgreementAmended: true,
  AgreementExpired: true,
};
const FACILITY_EVENTS: Record<FacilityEvent['type'], true> = {
  FacilityRegistered: true,
  FacilityUpdated: true,
  FacilitySuspended: true,
  FacilityReinstated: true,
  FacilityRevoked: true,
};

const KINDS: ReadonlyMap<string, RecordKind> = new Map([
  ...Object.keys(TRANSFER_EVENTS).map((t) => [t, 'transfer'] as const),
  ...Object.keys(MANIFEST_EVENTS).map((t) => [t, 'manifest'] as const),
  ...Object.keys(AGREEMENT_EVENTS).map((t) => [t, 'agreement'] as const),
  ...Object.keys(FACILITY_EVENTS).map((t) => [t, 'facility'] as const),
]);

/** The streams each kind lives in: an event of that type in another stream is not this record's. */
const STREAM_PREFIX: Readonly<Record<RecordKind, string>> = {
  transfer: transferStream(''),
  manifest: manifestStream(''),
  agreement: agreementStream(''),
  facility: facilityStream(''),
};

/** Where a facility's suspension items are kept: not the record's own, they outlive its events. */
export const suspensionSource = (facilityId: string) => `suspension:${facilityId}`;

/**
 * The worklist read model: per record its folded state (the deciders' own `evolve`; every state is plain
 * JSON, stored as jsonb), its open items replaced on each event, and the approvals per facility so a
 * suspension can list them.
 */
export function worklistProjection(calendar: WorkingDayCalendar) {
  // Only `evolve` and `initialState` are used: the calendar matters to `decide` alone.
  const evolvers = {
    transfer: transferDecider({ calendar }),
    manifest: manifestDecider({ calendar }),
    agreement: agreementDecider,
    facility: facilityDecider,
  } as const;

  const loadState = async (tx: SqlExecutor, names: TableNames, streamId: string) => {
    const { rows } = await tx.query<{ state: unknown }>(
      `SELECT state FROM ${names.worklist_records} WHERE stream_id = $1`,
      [streamId],
    );
    const stored = rows[0]?.state;
    // Drivers differ: jsonb may arrive parsed or as text.
    return stored === undefined ? undefined : typeof stored === 'string' ? JSON.parse(stored) : stored;
  };

  const evolve = (kind: RecordKind, state: unknown, event: { type: string; data: unknown }): unknown => {
    const decider = evolvers[kind] as unknown as {
      initialState(): unknown;
      evolve(s: unknown, e: { type: string; data: unknown }): unknown;
    };
    return decider.evolve(state ?? decider.initialState(), event);
  };

  /** The items a suspended facility puts on worklists, or none once it is active (or revoked) again. */
  const refreshSuspension = async (tx: SqlExecutor, names: TableNames, facilityId: string, at: Date) => {
    const facility = (await loadState(tx, names, facilityStream(facilityId))) as FacilityState | undefined;
    const source = suspensionSource(facilityId);
    if (facility?.status !== 'suspended') return clearWorkItems(tx, names.worklist_items, source);
    // Open: still valid on the day (an expired approval has nothing left to review).
    const { rows } = await tx.query<{
      transfer_id: string;
      generator_agency_id: string;
      exporting_jurisdiction: string;
      receiving_jurisdiction: string;
      valid_until_text: string;
    }>(
      `SELECT transfer_id, generator_agency_id, exporting_jurisdiction, receiving_jurisdiction,
              valid_until::text AS valid_until_text
         FROM ${names.worklist_approvals} WHERE facility_id = $1 AND valid_until >= $2::date`,
      [facilityId, LocalDate.ofInstant(at).toString()],
    );
    const approvals: ApprovedTransfer[] = rows.map((r) => ({
      transferId: r.transfer_id,
      facilityId,
      generatorAgencyId: r.generator_agency_id,
      exportingJurisdiction: r.exporting_jurisdiction,
      receivingJurisdiction: r.receiving_jurisdiction,
      validUntil: r.valid_until_text,
    }));
    return replaceWorkItems(tx, names.worklist_items, source, suspensionItems(approvals, at.toISOString()));
  };

  return defineProjection<RecordedEvent>({
    name: 'transfer-worklist',
    version: 1,
    tables: ['worklist_records', 'worklist_items', 'worklist_approvals'],
    handles: [...KINDS.keys()],
    async setup(tx, names) {
      await tx.query(`CREATE TABLE ${names.worklist_records} (
        stream_id text PRIMARY KEY,
        kind text NOT NULL,
        state jsonb NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
      await createWorkItemsTable(tx, names.worklist_items);
      await tx.query(`CREATE TABLE ${names.worklist_approvals} (
        transfer_id text PRIMARY KEY,
        facility_id text NOT NULL,
        generator_agency_id text NOT NULL,
        exporting_jurisdiction text NOT NULL,
        receiving_jurisdiction text NOT NULL,
        valid_until date NOT NULL,
        approved_at timestamptz NOT NULL
      )`);
      await tx.query(`CREATE INDEX ON ${names.worklist_approvals} (facility_id, valid_until)`);
    },
    async apply(tx, events, names) {
      for (const e of events) {
        const kind = KINDS.get(e.type);
        if (!kind || !e.streamId.startsWith(STREAM_PREFIX[kind])) continue;
        const at = e.metadata.occurredAt;
        const state = evolve(kind, await loadState(tx, names, e.streamId), { type: e.type, data: e.data });
        await tx.query(
          `INSERT INTO ${names.worklist_records} (stream_id, kind, state, updated_at)
           VALUES ($1, $2, $3::jsonb, $4)
           ON CONFLICT (stream_id) DO UPDATE SET state = $3::jsonb, updated_at = $4`,
          [e.streamId, kind, JSON.stringify(state), at.toISOString()],
        );
        const since = at.toISOString();
        switch (kind) {
          case 'transfer': {
            await replaceWorkItems(
              tx,
              names.worklist_items,
              e.streamId,
              transferItems(state as Parameters<typeof transferItems>[0], since),
            );
            const event = { type: e.type, data: e.data } as TransferEvent;
            if (event.type === 'TransferApproved') {
              const d = event.data;
              await tx.query(
                `INSERT INTO ${names.worklist_approvals} (transfer_id, facility_id, generator_agency_id,
                   exporting_jurisdiction, receiving_jurisdiction, valid_until, approved_at)
                 VALUES ($1, $2, $3, $4, $5, $6::date, $7)
                 ON CONFLICT (transfer_id) DO NOTHING`,
                [
                  d.transferId,
                  d.receiver.facilityId,
                  d.generator.agencyId,
                  d.exportingJurisdiction,
                  d.receivingJurisdiction,
                  d.approval.validUntil,
                  since,
                ],
              );
              // Approved while its receiver is suspended: on the worklists at once.
              await refreshSuspension(tx, names, d.receiver.facilityId, at);
            }
            break;
          }
          case 'manifest':
            await replaceWorkItems(
              tx,
              names.worklist_items,
              e.streamId,
              manifestItems(state as Parameters<typeof manifestItems>[0], since),
            );
            break;
          case 'agreement':
            await replaceWorkItems(
              tx,
              names.worklist_items,
              e.streamId,
              agreementItems(state as Parameters<typeof agreementItems>[0], since),
            );
            break;
          case 'facility': {
            const event = { type: e.type, data: e.data } as FacilityEvent;
            if (
              event.type === 'FacilitySuspended' ||
              event.type === 'FacilityReinstated' ||
              event.type === 'FacilityRevoked'
            )
              await refreshSuspension(tx, names, event.data.facilityId, at);
            break;
          }
        }
      }
    },
  });
}

/** Runs the worklist projection for the service's lifetime. */
@Injectable()
export class WorklistReadModel implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly readModel: ServiceProjection;

  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
    @Inject(WORKING_DAY_CALENDAR) calendar: WorkingDayCalendar,
  ) {
    this.readModel = new ServiceProjection(worklistProjection(calendar));
  }

  onApplicationBootstrap(): Promise<void> {
    return this.readModel.start(this.platform, this.metrics);
  }

  onModuleDestroy(): Promise<void> {
    return this.readModel.stop();
  }

  /** Until the worklist has applied the log up to `position`. */
  waitFor(position: LogPosition): Promise<void> {
    return this.readModel.waitFor(position);
  }
}
