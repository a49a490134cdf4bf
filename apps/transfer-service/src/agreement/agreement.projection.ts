import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Quantity } from '@lianfang/domain-kernel';
import {
  defineProjection,
  type LogPosition,
  type RecordedEvent,
  type SqlExecutor,
} from '@lianfang/eventsourcing';
import { PLATFORM, ServiceMetrics, type Platform, ServiceProjection } from '@lianfang/runtime';
import type { TransferEvent } from '../transfer/decider';
import { visibilityOfAgreement } from './agreement.access';
import { emptyAgreementRecord, foldAgreementFact, type AgreementRecord } from './agreement.record';
import type { AgreementEvent } from './decider';

type RecordedAgreementEvent = RecordedEvent<AgreementEvent['type'], AgreementEvent['data']>;

const AGREEMENT_EVENTS: readonly AgreementEvent['type'][] = [
  'AgreementProposed',
  'AgreementSigned',
  'AgreementRejected',
  'AgreementAdopted',
  'AmendmentProposed',
  'AmendmentSigned',
  'AmendmentRejected',
  'AgreementAmended',
  'AgreementExpired',
];

// jsonb may arrive parsed or as text, depending on the driver.
const json = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;

async function loadRecord(tx: SqlExecutor, table: string, agreementId: string): Promise<AgreementRecord> {
  const { rows } = await tx.query<{ record: unknown }>(
    `SELECT record FROM ${table} WHERE agreement_id = $1`,
    [agreementId],
  );
  return rows[0] ? json<AgreementRecord>(rows[0].record) : emptyAgreementRecord();
}

/**
 * Regional agreements as rows: the folded record (state, signature times) for `agreement(id)` and lists,
 * with the visibility columns lists filter on; and the whitelist entries of adopted agreements, by id, for
 * AgreementTerms.whitelistEntry.
 */
export const agreementProjection = defineProjection<RecordedAgreementEvent>({
  name: 'agreements',
  version: 1,
  tables: ['agreements', 'agreement_whitelist'],
  handles: AGREEMENT_EVENTS,
  async setup(tx, names) {
    await tx.query(`CREATE TABLE ${names.agreements} (
      agreement_id text PRIMARY KEY,
      status text NOT NULL,
      secretariat_id text NOT NULL,
      members text[] NOT NULL,
      effective_from date NOT NULL,
      valid_until date,
      record jsonb NOT NULL,
      visible_agencies text[] NOT NULL,
      visible_jurisdictions text[] NOT NULL,
      updated_at timestamptz NOT NULL
    )`);
    await tx.query(`CREATE INDEX ON ${names.agreements} USING gin (members)`);
    await tx.query(`CREATE INDEX ON ${names.agreements} USING gin (visible_agencies)`);
    // The latest agreed definition of each entry; a transfer names the entry id alone.
    await tx.query(`CREATE TABLE ${names.agreement_whitelist} (
      entry_id text NOT NULL,
      agreement_id text NOT NULL,
      year integer NOT NULL,
      entry jsonb NOT NULL,
      PRIMARY KEY (agreement_id, entry_id)
    )`);
    await tx.query(`CREATE INDEX ON ${names.agreement_whitelist} (entry_id)`);
  },
  async apply(tx, events, names) {
    for (const e of events) {
      const fact = { type: e.type, data: e.data, metadata: e.metadata } as AgreementEvent & {
        metadata: { occurredAt: Date };
      };
      const { agreementId } = fact.data;
      const record = foldAgreementFact(await loadRecord(tx, names.agreements, agreementId), fact);
      const state = record.state;
      if (state.status === 'none') continue;
      const visibility = visibilityOfAgreement(state);
      await tx.query(
        `INSERT INTO ${names.agreements} (agreement_id, status, secretariat_id, members, effective_from, valid_until,
           record, visible_agencies, visible_jurisdictions, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)
         ON CONFLICT (agreement_id) DO UPDATE SET status = $2, valid_until = $6, record = $7::jsonb,
           visible_agencies = $8, visible_jurisdictions = $9, updated_at = $10`,
        [
          agreementId,
          state.status,
          state.secretariatId,
          [...state.members],
          state.effectiveFrom,
          state.validUntil,
          JSON.stringify(record),
          [...visibility.agencies],
          [...visibility.jurisdictions],
          e.metadata.occurredAt.toISOString(),
        ],
      );
      if (fact.type === 'AgreementAdopted' || fact.type === 'AgreementAmended') {
        // An entry keeps its id across amendments: the last agreed definition replaces the earlier one.
        for (const entry of fact.data.clauses.whitelist)
          await tx.query(
            `INSERT INTO ${names.agreement_whitelist} (entry_id, agreement_id, year, entry)
             VALUES ($1, $2, $3, $4::jsonb)
             ON CONFLICT (agreement_id, entry_id) DO UPDATE SET year = $3, entry = $4::jsonb`,
            [entry.entryId, agreementId, entry.year, JSON.stringify(entry)],
          );
      }
    }
  },
});

type RecordedTransferEvent = RecordedEvent<TransferEvent['type'], TransferEvent['data']>;

/**
 * What approvals hold of each whitelist entry: one row per transfer approved directly under an entry
 * (route `whitelist`, within its remaining quantity). An approval that went by letter because it was
 * beyond the entry does not use the entry. Withdrawal is possible only before a decision, so nothing
 * approved is ever given back here.
 */
export const whitelistUseProjection = defineProjection<RecordedTransferEvent>({
  name: 'agreement-whitelist-use',
  version: 1,
  tables: ['agreement_whitelist_use'],
  handles: ['TransferApproved'],
  async setup(tx, names) {
    await tx.query(`CREATE TABLE ${names.agreement_whitelist_use} (
      transfer_id text PRIMARY KEY,
      entry_id text NOT NULL,
      year integer NOT NULL,
      quantity_kg numeric(20, 3) NOT NULL,
      approved_on date NOT NULL
    )`);
    await tx.query(`CREATE INDEX ON ${names.agreement_whitelist_use} (entry_id)`);
  },
  async apply(tx, events, names) {
    for (const e of events) {
      const event = { type: e.type, data: e.data } as TransferEvent;
      if (event.type !== 'TransferApproved') continue;
      const { whitelist, approval, transferId } = event.data;
      if (!whitelist?.withinEntry) continue;
      await tx.query(
        `INSERT INTO ${names.agreement_whitelist_use} (transfer_id, entry_id, year, quantity_kg, approved_on)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (transfer_id) DO NOTHING`,
        [
          transferId,
          whitelist.entryId,
          Number(approval.approvedOn.slice(0, 4)),
          Quantity.parseOrThrow(approval.totalKg).toKgString(),
          approval.approvedOn,
        ],
      );
    }
  },
});

/** Runs both agreement read models for the service's lifetime; mutations wait on them. */
@Injectable()
export class AgreementReadModel implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly agreements = new ServiceProjection(agreementProjection);
  private readonly whitelistUse = new ServiceProjection(whitelistUseProjection);

  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.agreements.start(this.platform, this.metrics);
    await this.whitelistUse.start(this.platform, this.metrics);
  }

  async onModuleDestroy(): Promise<void> {
    await this.agreements.stop();
    await this.whitelistUse.stop();
  }

  /** Until the agreements read model has applied the log up to `position`. */
  waitFor(position: LogPosition): Promise<void> {
    return this.agreements.waitFor(position);
  }

  /** Until both read models (agreements and whitelist use) have applied the log up to `position`. */
  async waitForAll(position: LogPosition): Promise<void> {
    await Promise.all([this.agreements.waitFor(position), this.whitelistUse.waitFor(position)]);
  }
}
