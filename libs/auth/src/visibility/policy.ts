import { JurisdictionCode, type BilingualText } from '@lianfang/domain-kernel';
import { AGENCY_KINDS, type AgencyKind, type Identity } from '../identity';
import type { Scope } from '../rules/rule';

/**
 * Who sees which rows of a read model. Each row keeps `visible_agencies text[]` (its parties' agency
 * ids) and `visible_jurisdictions text[]` (the GB/T 2260 codes it touches). An agency kind may see by
 * several grounds; a kind listed under none sees nothing.
 */
export interface VisibilityPolicy {
  /** Kinds that see the rows listing their agency id (parties: generator, carrier, bureaus on it…). */
  readonly party: readonly AgencyKind[];
  /**
   * Kinds that see rows touching a jurisdiction within their own: a provincial bureau (510000) every
   * code 51xxxx, a municipal bureau (510100) every code 5101xx, a county only itself.
   */
  readonly jurisdiction: readonly AgencyKind[];
  /** Kinds that see rows touching the region (the secretariat), by the same containment. */
  readonly region: readonly AgencyKind[];
  /** The region's jurisdictions (usually its member provinces) for `region`. */
  readonly regionJurisdictions: readonly string[];
  /** Column names when a read model uses others (plain or `alias.column` identifiers). */
  readonly columns?: { readonly agencies?: string; readonly jurisdictions?: string };
}

/** A policy written wrongly (caught at start-up). */
export class VisibilityPolicyError extends Error {
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`Visibility policy: ${field} ${detail}`);
    this.name = 'VisibilityPolicyError';
  }
}

const COLUMN = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;
const KNOWN_KINDS = new Set<string>(AGENCY_KINDS);

/** Checks and freezes a policy: known kinds, valid region codes, safe column names. */
export function defineVisibilityPolicy(policy: VisibilityPolicy): VisibilityPolicy {
  for (const field of ['party', 'jurisdiction', 'region'] as const) {
    const unknown = policy[field].find((k) => !KNOWN_KINDS.has(k));
    if (unknown !== undefined)
      throw new VisibilityPolicyError(field, `has an unknown agency kind "${unknown}"`);
  }
  for (const code of policy.regionJurisdictions) {
    const parsed = JurisdictionCode.parse(code, 'regionJurisdictions');
    if (!parsed.ok)
      throw new VisibilityPolicyError('regionJurisdictions', `has "${code}": ${parsed.error.message.en}`);
  }
  if (policy.region.length > 0 && policy.regionJurisdictions.length === 0) {
    throw new VisibilityPolicyError('regionJurisdictions', 'must name the region when a kind sees by region');
  }
  const agencies = policy.columns?.agencies ?? 'visible_agencies';
  const jurisdictions = policy.columns?.jurisdictions ?? 'visible_jurisdictions';
  for (const [field, column] of [
    ['columns.agencies', agencies],
    ['columns.jurisdictions', jurisdictions],
  ] as const) {
    if (!COLUMN.test(column))
      throw new VisibilityPolicyError(field, `"${column}" is not a plain column name`);
  }
  return Object.freeze({
    party: Object.freeze([...policy.party]),
    jurisdiction: Object.freeze([...policy.jurisdiction]),
    region: Object.freeze([...policy.region]),
    regionJurisdictions: Object.freeze([...policy.regionJurisdictions]),
    columns: Object.freeze({ agencies, jurisdictions }),
  });
}

/** What a record says about who may see it: the same two lists a read-model row keeps. */
export interface RecordVisibility {
  readonly agencies: readonly string[];
  readonly jurisdictions: readonly string[];
}

/** The jurisdictions an identity reaches under a policy (its own, and the region's where granted). */
export function reachedJurisdictions(identity: Identity, policy: VisibilityPolicy): JurisdictionCode[] {
  const reached: JurisdictionCode[] = [];
  if (policy.jurisdiction.includes(identity.agencyKind)) {
    const own = JurisdictionCode.parse(identity.jurisdiction);
    if (own.ok) reached.push(own.value);
  }
  if (policy.region.includes(identity.agencyKind)) {
    for (const code of policy.regionJurisdictions) reached.push(JurisdictionCode.parseOrThrow(code));
  }
  return reached;
}

/**
 * The SQL `LIKE` pattern of the codes a jurisdiction contains, as `JurisdictionCode.contains` decides:
 * 510000 → `51%`, 510100 → `5101%` (never 510000 itself), 510104 → `510104`. Valid codes are digits
 * only, so no wildcard comes from the identity; rows are expected to hold valid codes.
 */
export function containmentPattern(code: JurisdictionCode): string {
  switch (code.level) {
    case 'provincial':
      return `${code.value.slice(0, 2)}%`;
    case 'municipal':
      return `${code.value.slice(0, 4)}%`;
    case 'county':
      return code.value;
  }
}

/**
 * The same decision as the SQL filter, in memory: for a record loaded from its stream (`history`,
 * `asOf`, `_entities` built from events) rather than from a read-model row.
 */
export function isVisible(identity: Identity, policy: VisibilityPolicy, record: RecordVisibility): boolean {
  if (policy.party.includes(identity.agencyKind) && record.agencies.includes(identity.agencyId)) return true;
  const reached = reachedJurisdictions(identity, policy);
  if (reached.length === 0) return false;
  return record.jurisdictions.some((code) => {
    const parsed = JurisdictionCode.parse(code);
    return parsed.ok && reached.some((r) => r.contains(parsed.value));
  });
}

const HIDDEN: BilingualText = Object.freeze({
  zh: '按信息共享规则，您的机构不能查看该记录',
  en: 'under the data-sharing rules your agency cannot see this record',
});

/** The policy as a rule scope, so `authorize` refuses a record the lists would never show. */
export function visibleUnder<R>(
  policy: VisibilityPolicy,
  record: (resource: R) => RecordVisibility,
): Scope<R> {
  return (identity, resource) =>
    isVisible(identity, policy, record(resource)) ? true : { allowed: false, reason: HIDDEN };
}
