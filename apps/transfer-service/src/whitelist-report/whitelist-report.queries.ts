import { toBigInt, type SqlExecutor } from '@lianfang/eventsourcing';
import type { WhitelistReportType } from './whitelist-report.types';

interface AgreementRow extends Record<string, unknown> {
  agreement_id: string;
  secretariat_id: string;
  members: string[];
  title_zh: string;
  title_en: string;
}

interface ReportRow extends Record<string, unknown> {
  entry_id: string;
  exporting_member: string;
  receiving_facility_id: string;
  waste_codes: string[];
  whitelisted_kg: string;
  approved_kg: string;
  transfers: unknown;
  received_kg: string;
  disposed_kg: string;
  manifests: unknown;
}

export interface ReportAgreement {
  readonly agreementId: string;
  readonly secretariatId: string;
  readonly members: readonly string[];
  readonly title: { readonly zh: string; readonly en: string };
}

/** Reads of the whitelist report's read model; sums in SQL numeric, exact to the gram. */
export class WhitelistReportQueries {
  constructor(
    private readonly sql: SqlExecutor,
    private readonly schema: string,
  ) {}

  private table(name: string) {
    return `${this.schema}.${name}`;
  }

  async agreement(agreementId: string): Promise<ReportAgreement | null> {
    const { rows } = await this.sql.query<AgreementRow>(
      `SELECT * FROM ${this.table('wl_report_agreements')} WHERE agreement_id = $1`,
      [agreementId],
    );
    const row = rows[0];
    return row
      ? {
          agreementId: row.agreement_id,
          secretariatId: row.secretariat_id,
          members: [...row.members],
          title: { zh: row.title_zh, en: row.title_en },
        }
      : null;
  }

  /**
   * Per entry of the year: what approvals under it hold (all of them: an entry covers one year), and of
   * those transfers' manifests what was accepted at receipt, and disposed of, within the calendar year.
   */
  async report(agreement: ReportAgreement, year: number): Promise<WhitelistReportType> {
    const approvals = this.table('wl_report_approvals');
    const manifests = this.table('wl_report_manifests');
    const { rows } = await this.sql.query<ReportRow>(
      `SELECT e.entry_id, e.exporting_member, e.receiving_facility_id, e.waste_codes,
         e.quantity_kg::numeric(20, 3)::text AS whitelisted_kg,
         COALESCE(a.approved_kg, 0)::numeric(20, 3)::text AS approved_kg,
         COALESCE(a.transfers, 0) AS transfers,
         COALESCE(r.received_kg, 0)::numeric(20, 3)::text AS received_kg,
         COALESCE(r.manifests, 0) AS manifests,
         COALESCE(d.disposed_kg, 0)::numeric(20, 3)::text AS disposed_kg
       FROM ${this.table('wl_report_entries')} e
       LEFT JOIN (SELECT entry_id, sum(approved_kg) AS approved_kg, count(*) AS transfers
                  FROM ${approvals} GROUP BY entry_id) a ON a.entry_id = e.entry_id
       LEFT JOIN (SELECT ap.entry_id, sum(m.accepted_kg) AS received_kg, count(*) AS manifests
                  FROM ${manifests} m JOIN ${approvals} ap ON ap.transfer_id = m.transfer_id
                  WHERE m.receipt_date BETWEEN $3::date AND $4::date GROUP BY ap.entry_id) r
         ON r.entry_id = e.entry_id
       LEFT JOIN (SELECT ap.entry_id, sum(m.accepted_kg) AS disposed_kg
                  FROM ${manifests} m JOIN ${approvals} ap ON ap.transfer_id = m.transfer_id
                  WHERE m.disposed_on BETWEEN $3::date AND $4::date GROUP BY ap.entry_id) d
         ON d.entry_id = e.entry_id
       WHERE e.agreement_id = $1 AND e.year = $2
       ORDER BY e.ordinal, e.entry_id`,
      [agreement.agreementId, year, `${year}-01-01`, `${year}-12-31`],
    );
    return {
      agreementId: agreement.agreementId,
      title: { ...agreement.title },
      year,
      rows: rows.map((r) => ({
        entryId: r.entry_id,
        exportingMember: r.exporting_member,
        receivingFacilityId: r.receiving_facility_id,
        wasteCodes: [...r.waste_codes],
        whitelistedKg: r.whitelisted_kg,
        approvedKg: r.approved_kg,
        transfers: Number(toBigInt(r.transfers)),
        receivedKg: r.received_kg,
        disposedKg: r.disposed_kg,
        manifests: Number(toBigInt(r.manifests)),
      })),
    };
  }
}
