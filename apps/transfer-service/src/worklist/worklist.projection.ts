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
import {
  capacityDecider,
  capacitySnapshotPolicy,
  type CapacityEvent,
  type CapacityLedgerState,
} from '../capacity/decider';
import { ledgerOfStream } from '../capacity/ledger';
import { WORKING_DAY_CALENDAR } from '../common/time';
import { facilityDecider, facilityStream, type FacilityEvent, type FacilityState } from '../facility/decider';
import { manifestDecider, manifestStream, type ManifestEvent } from '../manifest/decider';
import {
  approvalUsageDecider,
  approvalUsageStream,
  type ApprovalUsageEvent,
  type ApprovalUsageState,
} from '../manifest/usage';
import { transferDecider, transferStream, type TransferEvent, type TransferState } from '../transfer/decider';
import {
  agreementItems,
  discrepancyItems,
  evolveDiscrepancies,
  isDiscrepancyEvent,
  ledgerShortfall,
  manifestItems,
  openManifestItems,
  shortfallItems,
  suspensionItems,
  transferItems,
  type ApprovedTransfer,
  type DiscrepancyRecord,
} from './work-items';

type RecordKind = 'transfer' | 'manifest' | 'agreement' | 'facility' | 'usage' | 'capacity';

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
  ManifestReceiptDeadlineRecomputed: true,
  ManifestReceived: true,
  ManifestPartiallyAccepted: true,
  ManifestRejected: true,
  ManifestDisposed: true,
  ManifestReceiptCorrected: true,
  ManifestDiscrepancyFound: true,
  ManifestOverdue: true,
  PaperManifestBackfilled: true,
  ManifestDiscrepanciesReviewed: true,
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

const USAGE_EVENTS: Record<ApprovalUsageEvent['type'], true> = {
  ApprovalQuantityCommitted: true,
  ApprovalQuantitySettled: true,
  ApprovalQuantityReleased: true,
};
const CAPACITY_EVENTS: Record<CapacityEvent['type'], true> = {
  CapacityLedgerOpened: true,
  CapacityReserved: true,
  CapacityConsumed: true,
  CapacityReleased: true,
  CapacityReceiptCorrected: true,
  CapacityAdjusted: true,
};

const KINDS: ReadonlyMap<string, RecordKind> = new Map([
  ...Object.keys(TRANSFER_EVENTS).map((t) => [t, 'transfer'] as const),
  ...Object.keys(MANIFEST_EVENTS).map((t) => [t, 'manifest'] as const),
  ...Object.keys(AGREEMENT_EVENTS).map((t) => [t, 'agreement'] as const),
  ...Object.keys(FACILITY_EVENTS).map((t) => [t, 'facility'] as const),
  ...Object.keys(USAGE_EVENTS).map((t) => [t, 'usage'] as const),
  ...Object.keys(CAPACITY_EVENTS).map((t) => [t, 'capacity'] as const),
]);

/** The streams each kind lives in: an event of that type in another stream is not this record's. */
const STREAM_PREFIX: Readonly<Record<RecordKind, string>> = {
  transfer: transferStream(''),
  manifest: manifestStream(''),
  agreement: agreementStream(''),
  facility: facilityStream(''),
  usage: approvalUsageStream(''),
  // capacityStream validates its parts: the prefix alone, checked again by ledgerOfStream.
  capacity: 'capacity-',
};

/** Where a facility's suspension items are kept: not the record's own, they outlive its events. */
export const suspensionSource = (facilityId: string) => `suspension:${facilityId}`;
/** The generator's "open a manifest" item of an approval: it follows usage, capacity and facility events. */
export const approvalSource = (transferId: string) => `approval:${transferId}`;
/** A manifest's discrepancies: kept beside the manifest's own items, which each event replaces. */
export const discrepancySource = (manifestNumber: string) => `discrepancy:${manifestNumber}`;
/** A facility's capacity shortfall, over all its ledgers. */
export const shortfallSource = (facilityId: string) => `shortfall:${facilityId}`;

/** Events of one command share it: a discrepancy that a correction re-judges is recognised by it. */
const commandKey = (e: RecordedEvent) =>
  `${e.metadata.commandId ?? ''}@${e.metadata.occurredAt.toISOString()}`;

const parseJson = (stored: unknown) => (typeof stored === 'string' ? JSON.parse(stored) : stored);

/**
 * The worklist read model: per record its folded state (the deciders' own `evolve`, stored as jsonb: plain
 * JSON, a capacity ledger as its snapshot policy writes it; a manifest's discrepancies under their own
 * key), its open items replaced on each event, the approvals per facility (so a suspension can list them,
 * and a release ends one), and the ledgers over their licence per facility.
 */
export function worklistProjection(calendar: WorkingDayCalendar) {
  // Only `evolve` and `initialState` are used: the calendar matters to `decide` alone.
  const evolvers = {
    transfer: transferDecider({ calendar }),
    manifest: manifestDecider({ calendar }),
    agreement: agreementDecider,
    facility: facilityDecider,
    usage: approvalUsageDecider,
    capacity: capacityDecider,
  } as const;

  const loadState = async (tx: SqlExecutor, names: TableNames, streamId: string) => {
    const { rows } = await tx.query<{ state: unknown }>(
      `SELECT state FROM ${names.worklist_records} WHERE stream_id = $1`,
      [streamId],
    );
    const stored = rows[0]?.state;
    // Drivers differ: jsonb may arrive parsed or as text.
    return stored === undefined ? undefined : parseJson(stored);
  };

  const saveState = (
    tx: SqlExecutor,
    names: TableNames,
    streamId: string,
    kind: string,
    state: unknown,
    at: Date,
  ) =>
    tx.query(
      `INSERT INTO ${names.worklist_records} (stream_id, kind, state, updated_at)
       VALUES ($1, $2, $3::jsonb, $4)
       ON CONFLICT (stream_id) DO UPDATE SET state = $3::jsonb, updated_at = $4`,
      [streamId, kind, JSON.stringify(state), at.toISOString()],
    );

  const evolve = (kind: RecordKind, state: unknown, event: { type: string; data: unknown }): unknown => {
    // A ledger's state holds Quantities: stored as the snapshot policy writes it, read back the same way.
    if (kind === 'capacity') {
      const ledger =
        state === undefined ? capacityDecider.initialState() : capacitySnapshotPolicy.deserialize(state);
      return capacitySnapshotPolicy.serialize(capacityDecider.evolve(ledger, event as CapacityEvent));
    }
    const decider = evolvers[kind] as unknown as {
      initialState(): unknown;
      evolve(s: unknown, e: { type: string; data: unknown }): unknown;
    };
    return decider.evolve(state ?? decider.initialState(), event);
  };

  /** The generator's "open a manifest" item of one approval, from everything known of it now. */
  const refreshApproval = async (tx: SqlExecutor, names: TableNames, transferId: string, at: Date) => {
    const { rows } = await tx.query<{
      facility_id: string;
      generator_agency_id: string;
      exporting_jurisdiction: string;
      receiving_jurisdiction: string;
      valid_until_text: string;
      released: string | null;
    }>(
      `SELECT facility_id, generator_agency_id, exporting_jurisdiction, receiving_jurisdiction,
              valid_until::text AS valid_until_text, released
         FROM ${names.worklist_approvals} WHERE transfer_id = $1`,
      [transferId],
    );
    const row = rows[0];
    if (!row) return;
    const transfer = (await loadState(tx, names, transferStream(transferId))) as TransferState | undefined;
    const usage = (await loadState(tx, names, approvalUsageStream(transferId))) as
      ApprovalUsageState | undefined;
    const facility = (await loadState(tx, names, facilityStream(row.facility_id))) as
      FacilityState | undefined;
    const items = openManifestItems(
      {
        approval: {
          transferId,
          facilityId: row.facility_id,
          generatorAgencyId: row.generator_agency_id,
          exportingJurisdiction: row.exporting_jurisdiction,
          receivingJurisdiction: row.receiving_jurisdiction,
          validUntil: row.valid_until_text,
        },
        lines: transfer?.approval?.lines ?? [],
        approved: transfer?.status === 'approved',
        usage: usage ?? null,
        released: row.released !== null,
        facility,
        today: LocalDate.ofInstant(at).toString(),
      },
      at.toISOString(),
    );
    await replaceWorkItems(tx, names.worklist_items, approvalSource(transferId), items);
  };

  const refreshApprovalsTo = async (tx: SqlExecutor, names: TableNames, facilityId: string, at: Date) => {
    const { rows } = await tx.query<{ transfer_id: string }>(
      `SELECT transfer_id FROM ${names.worklist_approvals} WHERE facility_id = $1 ORDER BY transfer_id`,
      [facilityId],
    );
    for (const r of rows) await refreshApproval(tx, names, r.transfer_id, at);
  };

  /** The facility's shortfall item, from the short ledgers on record and the facility's province. */
  const refreshShortfall = async (tx: SqlExecutor, names: TableNames, facilityId: string, at: Date) => {
    const { rows } = await tx.query<{ category: string; year: number; shortfall_kg: string }>(
      `SELECT category, year, shortfall_kg FROM ${names.worklist_shortfalls} WHERE facility_id = $1`,
      [facilityId],
    );
    const facility = (await loadState(tx, names, facilityStream(facilityId))) as FacilityState | undefined;
    const shortfalls = rows.map((r) => ({
      category: r.category,
      year: Number(r.year),
      shortfallKg: r.shortfall_kg,
    }));
    await replaceWorkItems(
      tx,
      names.worklist_items,
      shortfallSource(facilityId),
      shortfallItems(facilityId, facility, shortfalls, at.toISOString()),
    );
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
    // 2: approval releases, capacity shortfalls, discrepancy and usage records (a blue/green rebuild).
    // 3: a manifest's folded state keeps its unreviewed discrepancies; reviews close their items.
    version: 3,
    tables: ['worklist_records', 'worklist_items', 'worklist_approvals', 'worklist_shortfalls'],
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
        approved_at timestamptz NOT NULL,
        -- Why its capacity was released (expiry, withdrawal, revocation): it is over.
        released text
      )`);
      await tx.query(`CREATE INDEX ON ${names.worklist_approvals} (facility_id, valid_until)`);
      // Only the ledgers over their licence now: a facility's shortfall item is made from these rows.
      await tx.query(`CREATE TABLE ${names.worklist_shortfalls} (
        stream_id text PRIMARY KEY,
        facility_id text NOT NULL,
        category text NOT NULL,
        year integer NOT NULL,
        shortfall_kg text NOT NULL
      )`);
      await tx.query(`CREATE INDEX ON ${names.worklist_shortfalls} (facility_id)`);
    },
    async apply(tx, events, names) {
      for (const e of events) {
        const kind = KINDS.get(e.type);
        if (!kind || !e.streamId.startsWith(STREAM_PREFIX[kind])) continue;
        const ledger = kind === 'capacity' ? ledgerOfStream(e.streamId) : undefined;
        if (kind === 'capacity' && !ledger) continue;
        const at = e.metadata.occurredAt;
        const state = evolve(kind, await loadState(tx, names, e.streamId), { type: e.type, data: e.data });
        await saveState(tx, names, e.streamId, kind, state, at);
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
            const transferId = (state as TransferState).transferId;
            if (transferId) await refreshApproval(tx, names, transferId, at);
            break;
          }
          case 'manifest': {
            await replaceWorkItems(
              tx,
              names.worklist_items,
              e.streamId,
              manifestItems(state as Parameters<typeof manifestItems>[0], since),
            );
            const event = { type: e.type, data: e.data } as ManifestEvent;
            if (isDiscrepancyEvent(event)) {
              const number = event.data.manifestNumber;
              const key = discrepancySource(number);
              const before = (await loadState(tx, names, key)) as DiscrepancyRecord | undefined;
              const after = evolveDiscrepancies(before, event, commandKey(e), since);
              if (after) await saveState(tx, names, key, 'discrepancy', after, at);
              await replaceWorkItems(tx, names.worklist_items, key, discrepancyItems(after));
            }
            break;
          }
          case 'usage':
            await refreshApproval(tx, names, e.streamId.slice(STREAM_PREFIX.usage.length), at);
            break;
          case 'capacity': {
            if (!ledger) break;
            const event = { type: e.type, data: e.data } as CapacityEvent;
            if (event.type === 'CapacityReleased') {
              const { reservationId, reason } = event.data;
              await tx.query(
                `UPDATE ${names.worklist_approvals} SET released = $2 WHERE transfer_id = $1 AND released IS NULL`,
                [reservationId, reason],
              );
              await refreshApproval(tx, names, reservationId, at);
            }
            const short = ledgerShortfall(capacitySnapshotPolicy.deserialize(state) as CapacityLedgerState);
            const { rows: changed } = short
              ? await tx.query(
                  `INSERT INTO ${names.worklist_shortfalls} (stream_id, facility_id, category, year, shortfall_kg)
                   VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (stream_id) DO UPDATE SET shortfall_kg = $5
                   WHERE ${names.worklist_shortfalls}.shortfall_kg IS DISTINCT FROM $5
                   RETURNING stream_id`,
                  [e.streamId, ledger.facilityId, short.category, short.year, short.shortfallKg],
                )
              : await tx.query(
                  `DELETE FROM ${names.worklist_shortfalls} WHERE stream_id = $1 RETURNING stream_id`,
                  [e.streamId],
                );
            // Most ledger events leave a ledger within its licence: the item changes only with the rows.
            if (changed.length > 0) await refreshShortfall(tx, names, ledger.facilityId, at);
            break;
          }
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
            ) {
              await refreshSuspension(tx, names, event.data.facilityId, at);
              // A receiver that takes no new manifests takes the generators' "open a manifest" items off.
              await refreshApprovalsTo(tx, names, event.data.facilityId, at);
            }
            // The shortfall goes to the bureau of the facility's province: registration (or a move) names it.
            if (event.type === 'FacilityRegistered' || event.type === 'FacilityUpdated')
              await refreshShortfall(tx, names, event.data.facilityId, at);
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
