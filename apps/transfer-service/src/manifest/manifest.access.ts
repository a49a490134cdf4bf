/**
 * Who may do what with a manifest. Parties are named on the manifest by unified social credit code;
 * people act for agencies (directory ids): AGENCY_DIRECTORY maps one to the other.
 *
 * - the generator (its credit code on the transfer) opens and backfills;
 * - the carrier now holding the waste confirms pickup, hands over, delivers;
 * - the receiver (the facility operator's credit code) receives, rejects, corrects, confirms disposal;
 * - the receiving province's bureau (its approvers, who decide for it elsewhere too) reviews the
 *   discrepancies reported to it (Art 17);
 * - reads: the parties (every carrier of every leg), the provincial and municipal bureaus whose
 *   jurisdiction holds the generator's or the facility's place, and the transport departments likewise;
 *   besides, an agency of any kind holding a 'manifests' grant of an adopted regional agreement reads
 *   the manifests between two different members (agreement/data-sharing.ts), and reads only.
 */
import {
  AGENCY_KINDS,
  defineRule,
  defineVisibilityPolicy,
  forAgencyKinds,
  party,
  ROLES,
  visibleUnder,
  withinJurisdiction,
  type AgencyDirectory,
  type Identity,
  type RecordVisibility,
} from '@lianfang/auth';

export const MANIFEST_VISIBILITY = defineVisibilityPolicy({
  party: ['generator', 'carrier', 'receiver'],
  jurisdiction: ['provincial-bureau', 'municipal-bureau', 'transport-department'],
  region: [],
  regionJurisdictions: [],
});

/** A manifest as the rules see it: the agencies acting for a party of it. */
export interface ManifestParties {
  readonly agencies: readonly string[];
}

/** A manifest as the read rule sees it: who sees it by the policy, and whether a grant opens it. */
export interface ReadableManifest extends RecordVisibility {
  /** A 'manifests' grant of the caller opens it (generator's and receiver's provinces both members). */
  readonly shared: boolean;
}

const visibleByPolicy = visibleUnder<ReadableManifest>(MANIFEST_VISIBILITY, (record) => record);

/**
 * Every kind passes the resolver's guard, since a data-sharing rule may name any kind; which manifests
 * each reads is the record's business: the policy, or a grant (lists apply the same in SQL).
 */
export const readManifests = defineRule<ReadableManifest>({
  name: 'manifest.read',
  description: { zh: '查阅危险废物转移联单', en: 'read transfer manifests' },
  agencyKinds: AGENCY_KINDS,
  roles: ROLES,
  scope: (identity, record) => record.shared || visibleByPolicy(identity, record),
});

export const openManifests = defineRule<ManifestParties>({
  name: 'manifest.open',
  description: { zh: '开具或补录转移联单', en: 'open or backfill a transfer manifest' },
  agencyKinds: ['generator'],
  roles: ['clerk', 'admin'],
  scope: party((m) => m.agencies),
});

export const carryManifests = defineRule<ManifestParties>({
  name: 'manifest.carry',
  description: {
    zh: '确认接收运输、交接或送达联单所列废物',
    en: 'confirm pickup, hand over or deliver the waste of a manifest',
  },
  agencyKinds: ['carrier'],
  roles: ['clerk', 'admin'],
  scope: party((m) => m.agencies),
});

export const receiveManifests = defineRule<ManifestParties>({
  name: 'manifest.receive',
  description: {
    zh: '接收、拒收、更正或确认利用处置联单所列废物',
    en: 'receive, reject, correct or confirm disposal of the waste of a manifest',
  },
  agencyKinds: ['receiver'],
  roles: ['clerk', 'admin'],
  scope: party((m) => m.agencies),
});

/** A manifest's discrepancies as the rules see them: the province they are reported to. */
export interface ReportedDiscrepancies {
  readonly reportTo: string;
}

export const reviewManifestDiscrepancies = defineRule<ReportedDiscrepancies>({
  name: 'manifest.review-discrepancies',
  description: {
    zh: '核查联单差异并作出处理决定（接受地省级生态环境主管部门）',
    en: "review a manifest's discrepancies and decide on them (the receiving province's bureau)",
  },
  agencyKinds: ['provincial-bureau'],
  // As for the reply to a consultation letter: the bureau's approvers decide.
  roles: ['approver'],
  scope: forAgencyKinds(
    ['provincial-bureau'],
    withinJurisdiction((r) => [r.reportTo]),
  ),
});

/** The directory agencies acting under these credit codes. */
export function agenciesOf(directory: AgencyDirectory, creditCodes: Iterable<string | null>): string[] {
  const codes = new Set([...creditCodes].filter((c): c is string => typeof c === 'string' && c !== ''));
  return directory.agencies.filter((a) => a.creditCode && codes.has(a.creditCode)).map((a) => a.id);
}

/** The caller's credit code (enterprises have one in the directory), or null. */
export function creditCodeOf(directory: AgencyDirectory, identity: Identity): string | null {
  return directory.agency(identity.agencyId)?.creditCode ?? null;
}

/** Who sees a manifest: its parties' agencies, and the places it touches. */
export function manifestVisibility(
  directory: AgencyDirectory,
  facts: {
    readonly creditCodes: Iterable<string>;
    readonly fromJurisdiction: string;
    readonly toJurisdiction: string;
  },
): RecordVisibility {
  return {
    agencies: agenciesOf(directory, facts.creditCodes).sort(),
    jurisdictions: [...new Set([facts.fromJurisdiction, facts.toJurisdiction])].sort(),
  };
}
