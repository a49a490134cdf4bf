/**
 * What the other mechanisms ask of the adopted agreements (interfaces.md): the terms between two member
 * provinces on a day (tolerance, transit time), and a whitelist entry with what is left of it. Read
 * from this slice's read models; `waitFor` gives read-your-writes to a caller that just wrote.
 */
import { Inject, Injectable } from '@nestjs/common';
import { JurisdictionCode, LocalDate, Quantity } from '@lianfang/domain-kernel';
import type { LogPosition } from '@lianfang/eventsourcing';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import type { WeightTolerance } from '../manifest/decider';
import { AgreementReadModel } from './agreement.projection';
import type { AgreementRecord } from './agreement.record';
import type { WhitelistEntry } from './clauses';
import { clausesInForce } from './queries';

export interface AgreementTermsBetween {
  readonly agreementId: string;
  readonly tolerance: WeightTolerance;
  readonly maxTransitDays: number;
}

export interface WhitelistEntryTerms {
  readonly entry: WhitelistEntry;
  readonly agreementId: string;
  /** Exact tonnes (6 decimals), never below zero. */
  readonly remainingTonnes: string;
}

const json = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;

/** A province, or the province a city or county lies in; undefined for what is not a code. */
const provinceOf = (code: string) => {
  const parsed = JurisdictionCode.parse(code);
  return parsed.ok ? parsed.value.provinceCode.value : undefined;
};

@Injectable()
export class AgreementTerms {
  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(AgreementReadModel) private readonly readModel: AgreementReadModel,
  ) {}

  private table(name: string) {
    return `${this.platform.schema}.${name}`;
  }

  /**
   * The adopted agreement both provinces are members of whose clauses govern `onDate` (an agreement
   * since expired still answers for the days of its term). Several: the one whose term began last.
   * null: no agreement covers the pair that day, and the callers apply the defaults of domain.md.
   */
  async between(
    exportingProvince: string,
    receivingProvince: string,
    onDate: string,
  ): Promise<AgreementTermsBetween | null> {
    const from = provinceOf(exportingProvince);
    const to = provinceOf(receivingProvince);
    const day = LocalDate.parse(onDate, 'onDate');
    if (from === undefined || to === undefined || !day.ok) return null;
    const { rows } = await this.platform.sql.query<{ agreement_id: string; record: unknown }>(
      `SELECT agreement_id, record FROM ${this.table('agreements')}
       WHERE members @> ARRAY[$1::text, $2::text] AND status IN ('adopted', 'expired')
         AND effective_from <= $3::date AND (valid_until IS NULL OR valid_until >= $3::date)
       ORDER BY effective_from DESC, agreement_id`,
      [from, to, day.value.toString()],
    );
    for (const row of rows) {
      const version = clausesInForce(json<AgreementRecord>(row.record).state, day.value);
      if (version)
        return {
          agreementId: row.agreement_id,
          tolerance: {
            percentBasisPoints: version.clauses.tolerance.percentBasisPoints,
            kg: version.clauses.tolerance.kg,
          },
          maxTransitDays: version.clauses.maxTransitDays,
        };
    }
    return null;
  }

  /**
   * A whitelist entry of an agreement in force (adopted, not expired) for `year`, as last agreed, and
   * what is left of it: its quantity less what approvals under it hold. null: no such entry that year.
   */
  async whitelistEntry(entryId: string, year: number): Promise<WhitelistEntryTerms | null> {
    const { rows } = await this.platform.sql.query<{ agreement_id: string; entry: unknown; used_kg: string }>(
      `SELECT w.agreement_id, w.entry,
         (SELECT COALESCE(sum(u.quantity_kg), 0)::numeric(20, 3)::text FROM ${this.table('agreement_whitelist_use')} u
           WHERE u.entry_id = w.entry_id) AS used_kg
       FROM ${this.table('agreement_whitelist')} w
       JOIN ${this.table('agreements')} a ON a.agreement_id = w.agreement_id
       WHERE w.entry_id = $1 AND w.year = $2 AND a.status = 'adopted'
       ORDER BY w.agreement_id`,
      [entryId, year],
    );
    const row = rows[0];
    if (!row) return null;
    const entry = json<WhitelistEntry>(row.entry);
    const left = Quantity.parseOrThrow(entry.quantityKg).subtract(Quantity.parseOrThrow(row.used_kg));
    return {
      entry,
      agreementId: row.agreement_id,
      remainingTonnes: (left.ok ? left.value : Quantity.ZERO).toTonnesString(),
    };
  }

  /** Until the agreements and whitelist-use read models have applied the log up to `position`. */
  waitFor(position: LogPosition): Promise<void> {
    return this.readModel.waitForAll(position);
  }
}
