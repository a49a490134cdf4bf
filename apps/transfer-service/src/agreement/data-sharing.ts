/**
 * What an adopted agreement's data-sharing clause opens to the members' agencies (domain.md,
 * "Information sharing"; Art 5: the environment, transport and public-security departments share
 * manifests, vehicle tracks and case data).
 *
 * Semantics (for each scope that honours it: 'transfers' in transfer/, 'manifests' in manifest/):
 * - Only an agreement that is ADOPTED (not proposed, rejected or expired) and in force today
 *   (effectiveFrom ≤ today ≤ validUntil, an Asia/Shanghai day), under the clause version in force today
 *   (`clausesInForce`, so an amendment's rules apply from its own effectiveFrom).
 * - An agency of kind K whose jurisdiction lies within member M (GB/T 2260 containment: 500112 within
 *   500000) holds a grant when a rule { member: M or null (every member), agencyKind: K, scope } exists.
 * - The grant is the agreement's member set: the agency then reads the records BETWEEN two different
 *   members (exporting and receiving province both members); never those within one province, never
 *   those touching a non-member.
 * - Reading only: a grant adds no write right, no worklist item and no next action.
 *
 * `sharedBetween` and `sharedFilter` below are the one test of "between two different members", in memory
 * and in SQL, for every scope's records.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Identity, SqlFragment } from '@lianfang/auth';
import { JurisdictionCode, LocalDate } from '@lianfang/domain-kernel';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import { CLOCK, type Clock } from '../common/time';
import type { AgreementRecord } from './agreement.record';
import type { DataSharingScope } from './clauses';
import type { AgreementState } from './decider';
import { clausesInForce } from './queries';

/** Records between two different provinces of `members` are open to the grantee. */
export interface SharingGrant {
  readonly agreementId: string;
  /** Province codes, as the agreement lists them. */
  readonly members: readonly string[];
}

/** Who asks: the kind and seat of the agency (an identity, or a directory entry). */
export interface SharingAgency {
  readonly agencyKind: Identity['agencyKind'];
  readonly jurisdiction: string;
}

/**
 * The grant `agency` holds for `scope` under this agreement on `onDate`; undefined when the agreement is
 * not adopted, not in force that day, or no rule of the clauses then in force names the agency.
 */
export function sharingGrantOf(
  state: AgreementState,
  agency: SharingAgency,
  scope: DataSharingScope,
  onDate: LocalDate,
): SharingGrant | undefined {
  // An expired agreement still answers for its term elsewhere (rates): it opens nothing any more.
  if (state.status !== 'adopted') return undefined;
  const version = clausesInForce(state, onDate);
  if (!version) return undefined;
  const seat = JurisdictionCode.parse(agency.jurisdiction);
  if (!seat.ok) return undefined;
  const own = state.members.filter((m) => {
    const member = JurisdictionCode.parse(m);
    return member.ok && member.value.contains(seat.value);
  });
  if (own.length === 0) return undefined;
  const granted = version.clauses.dataSharing.some(
    (rule) =>
      rule.scope === scope &&
      rule.agencyKind === agency.agencyKind &&
      (rule.member === null || own.includes(rule.member)),
  );
  return granted ? { agreementId: state.agreementId, members: [...state.members] } : undefined;
}

const json = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;

/** The caller's data-sharing grants today, from the agreements read model. */
@Injectable()
export class AgreementDataSharing {
  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Every grant `agency` holds for `scope` today (the service clock's Asia/Shanghai day). */
  async grantsFor(agency: SharingAgency, scope: DataSharingScope): Promise<SharingGrant[]> {
    const seat = JurisdictionCode.parse(agency.jurisdiction);
    if (!seat.ok) return [];
    const today = LocalDate.ofInstant(this.clock());
    // The SQL narrows to adopted agreements of the agency's province in force today; the record decides.
    const { rows } = await this.platform.sql.query<{ record: unknown }>(
      `SELECT record FROM ${this.platform.schema}.agreements
       WHERE status = 'adopted' AND members @> ARRAY[$1::text]
         AND effective_from <= $2::date AND (valid_until IS NULL OR valid_until >= $2::date)
       ORDER BY agreement_id`,
      [seat.value.provinceCode.value, today.toString()],
    );
    return rows.flatMap((row) => {
      const grant = sharingGrantOf(json<AgreementRecord>(row.record).state, agency, scope, today);
      return grant ? [grant] : [];
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// Records between two members

/** The province of a code (a city or county lies in its province); undefined for what is not a code. */
export const provinceOf = (code: string | undefined): string | undefined => {
  if (!code) return undefined;
  const parsed = JurisdictionCode.parse(code);
  return parsed.ok ? parsed.value.provinceCode.value : undefined;
};

/** Each ordered pair of different members of a grant, as `from>to` province codes. */
function sharedPairs(grants: readonly SharingGrant[]): string[] {
  const pairs = new Set<string>();
  for (const grant of grants) {
    const members = [...new Set(grant.members.map(provinceOf).filter((m): m is string => m !== undefined))];
    for (const from of members) for (const to of members) if (from !== to) pairs.add(`${from}>${to}`);
  }
  return [...pairs].sort();
}

/**
 * Whether one of `grants` opens a record going from `from` to `to` (jurisdiction codes of any level:
 * their provinces decide). A record without both places is opened by no grant.
 */
export function sharedBetween(
  grants: readonly SharingGrant[],
  from: string | undefined,
  to: string | undefined,
): boolean {
  const exporting = provinceOf(from);
  const receiving = provinceOf(to);
  if (!exporting || !receiving) return false;
  return sharedPairs(grants).includes(`${exporting}>${receiving}`);
}

/** The SQL expressions (trusted column names or expressions, never input) of a record's two places. */
export interface SharedPlaces {
  readonly from: string;
  readonly to: string;
}

/**
 * `sharedBetween` in SQL over a read model, to OR with the visibility filter before ORDER BY, LIMIT and
 * count. The province is a code's first two digits (GB/T 2260). No grant: `FALSE`.
 */
export function sharedFilter(
  grants: readonly SharingGrant[],
  firstParamIndex: number,
  places: SharedPlaces,
): SqlFragment {
  const pairs = sharedPairs(grants);
  if (pairs.length === 0) return { sql: 'FALSE', params: [] };
  return {
    sql: `((left(${places.from}, 2) || '0000>' || left(${places.to}, 2) || '0000') = ANY($${firstParamIndex}::text[]))`,
    params: [pairs],
  };
}

/**
 * Who reads which rows: the visibility filter `visible` (its parameters from `firstParamIndex`), or a
 * grant. With no grant the filter stays as it was.
 */
export function visibleOrShared(
  visible: SqlFragment,
  firstParamIndex: number,
  grants: readonly SharingGrant[],
  places: SharedPlaces,
): SqlFragment {
  const shared = sharedFilter(grants, firstParamIndex + visible.params.length, places);
  if (shared.sql === 'FALSE') return visible;
  return { sql: `(${visible.sql} OR ${shared.sql})`, params: [...visible.params, ...shared.params] };
}
