import { Injectable } from '@nestjs/common';
import { LocalDate, Quantity } from '@lianfang/domain-kernel';
import { defineProjection, type RecordedEvent } from '@lianfang/eventsourcing';
import { ReadModelOf } from '@lianfang/runtime';
import type { AgreementEvent } from '../agreement/decider';
import type { ManifestEvent } from '../manifest/decider';
import type { TransferEvent } from '../transfer/decider';

type ReportEvent = AgreementEvent | TransferEvent | ManifestEvent;
type Recorded = RecordedEvent<ReportEvent['type'], ReportEvent['data']>;

const kg = (value: string) => Quantity.parseOrThrow(value).toKgString();

/**
 * The January whitelist report's own read model (domain.md, "Whitelist"): the entries the members agreed,
 * the transfers approved directly under each, and the manifests of those transfers with what was
 * accepted and when it was disposed of. Built from the events alone, like any other service could.
 */
export const whitelistReportProjection = defineProjection<Recorded>({
  name: 'whitelist-report',
  version: 1,
  tables: ['wl_report_agreements', 'wl_report_entries', 'wl_report_approvals', 'wl_report_manifests'],
  handles: [
    'AgreementProposed',
    'AgreementAdopted',
    'AgreementAmended',
    'TransferApproved',
    'ManifestReceived',
    'ManifestPartiallyAccepted',
    'ManifestReceiptCorrected',
    'ManifestDisposed',
  ],
  async setup(tx, names) {
    await tx.query(`CREATE TABLE ${names.wl_report_agreements} (
      agreement_id text PRIMARY KEY,
      secretariat_id text NOT NULL,
      members text[] NOT NULL,
      title_zh text NOT NULL,
      title_en text NOT NULL
    )`);
    // Every entry ever agreed, as last agreed: one an amendment dropped may still have transfers under it.
    await tx.query(`CREATE TABLE ${names.wl_report_entries} (
      agreement_id text NOT NULL,
      entry_id text NOT NULL,
      year integer NOT NULL,
      ordinal integer NOT NULL,
      exporting_member text NOT NULL,
      receiving_facility_id text NOT NULL,
      waste_codes text[] NOT NULL,
      quantity_kg numeric(20, 3) NOT NULL,
      PRIMARY KEY (agreement_id, entry_id)
    )`);
    await tx.query(`CREATE TABLE ${names.wl_report_approvals} (
      transfer_id text PRIMARY KEY,
      entry_id text NOT NULL,
      facility_id text NOT NULL,
      approved_kg numeric(20, 3) NOT NULL,
      approved_on date NOT NULL
    )`);
    await tx.query(`CREATE INDEX ON ${names.wl_report_approvals} (entry_id)`);
    await tx.query(`CREATE TABLE ${names.wl_report_manifests} (
      manifest_number text PRIMARY KEY,
      transfer_id text NOT NULL,
      accepted_kg numeric(20, 3) NOT NULL,
      receipt_date date NOT NULL,
      disposed_on date
    )`);
    await tx.query(`CREATE INDEX ON ${names.wl_report_manifests} (transfer_id)`);
  },
  async apply(tx, events, names) {
    for (const e of events) {
      const event = { type: e.type, data: e.data } as ReportEvent;
      switch (event.type) {
        case 'AgreementProposed':
          await tx.query(
            `INSERT INTO ${names.wl_report_agreements} (agreement_id, secretariat_id, members, title_zh, title_en)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (agreement_id) DO NOTHING`,
            [
              event.data.agreementId,
              event.data.secretariatId,
              [...event.data.members],
              event.data.title.zh,
              event.data.title.en,
            ],
          );
          break;
        case 'AgreementAdopted':
        case 'AgreementAmended': {
          let ordinal = 0;
          for (const entry of event.data.clauses.whitelist)
            await tx.query(
              `INSERT INTO ${names.wl_report_entries} (agreement_id, entry_id, year, ordinal, exporting_member,
                 receiving_facility_id, waste_codes, quantity_kg)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               ON CONFLICT (agreement_id, entry_id) DO UPDATE SET year = $3, ordinal = $4, exporting_member = $5,
                 receiving_facility_id = $6, waste_codes = $7, quantity_kg = $8`,
              [
                event.data.agreementId,
                entry.entryId,
                entry.year,
                ordinal++,
                entry.exportingMember,
                entry.receivingFacilityId,
                [...entry.wasteCodes],
                kg(entry.quantityKg),
              ],
            );
          break;
        }
        case 'TransferApproved': {
          // Only a transfer approved directly under the entry is a whitelisted transfer; one beyond the
          // entry's remaining quantity went by consultation letter.
          const { whitelist, approval, receiver, transferId } = event.data;
          if (!whitelist?.withinEntry) break;
          await tx.query(
            `INSERT INTO ${names.wl_report_approvals} (transfer_id, entry_id, facility_id, approved_kg, approved_on)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (transfer_id) DO NOTHING`,
            [transferId, whitelist.entryId, receiver.facilityId, kg(approval.totalKg), approval.approvedOn],
          );
          break;
        }
        case 'ManifestReceived':
          await tx.query(
            `INSERT INTO ${names.wl_report_manifests} (manifest_number, transfer_id, accepted_kg, receipt_date)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (manifest_number) DO UPDATE SET accepted_kg = $3, receipt_date = $4`,
            [
              event.data.manifestNumber,
              event.data.authorizationId,
              kg(event.data.acceptedKg),
              event.data.receiptDate,
            ],
          );
          break;
        case 'ManifestPartiallyAccepted':
        case 'ManifestReceiptCorrected':
          // The accepted weight replaces the earlier one; a correction is a new fact, never an edit.
          await tx.query(
            `UPDATE ${names.wl_report_manifests} SET accepted_kg = $2 WHERE manifest_number = $1`,
            [event.data.manifestNumber, kg(event.data.acceptedKg)],
          );
          break;
        case 'ManifestDisposed':
          await tx.query(
            `UPDATE ${names.wl_report_manifests} SET disposed_on = $2 WHERE manifest_number = $1`,
            [event.data.manifestNumber, LocalDate.ofInstant(new Date(event.data.disposedAt)).toString()],
          );
          break;
        default:
          break;
      }
    }
  },
});

/** Runs the report's read model for the service's lifetime. */
@Injectable()
export class WhitelistReportReadModel extends ReadModelOf(whitelistReportProjection) {}
