/**
 * Who may do what with a regional agreement (domain.md, "Regional agreements"): the secretariat of the
 * region proposes, amends and expires; each member's provincial bureau signs or rejects, for its own
 * province only; members' bureaus, the secretariat and the members' finance offices (they settle by
 * these rates) read. Checked on the stored record, inside the load–decide loop, and in SQL for lists.
 */
import {
  allOf,
  defineRule,
  defineVisibilityPolicy,
  isVisible,
  party,
  ROLES,
  type AgencyDirectory,
  type Identity,
  type RecordVisibility,
  type Scope,
  type VisibilityPolicy,
} from '@lianfang/auth';
import { JurisdictionCode } from '@lianfang/domain-kernel';
import type { AgreementClauses } from './clauses';
import type { ExistingAgreement } from './decider';

const deny = (zh: string, en: string) => ({ allowed: false, reason: { zh, en } });

/** A proposal: its members, and the region the proposing secretariat serves (from the directory). */
export interface ProposalScope {
  readonly members: readonly string[];
  readonly region: readonly string[];
}

/** The secretariat proposes only among jurisdictions of the region it serves. */
const withinOwnRegion: Scope<ProposalScope> = (_identity, proposal) => {
  const region = proposal.region
    .map((c) => JurisdictionCode.parse(c))
    .flatMap((r) => (r.ok ? [r.value] : []));
  const outside = proposal.members.filter((m) => {
    const code = JurisdictionCode.parse(m);
    // A malformed member is the decider's error (named by field), not an access question.
    return code.ok && !region.some((r) => r.contains(code.value));
  });
  if (region.length === 0)
    return deny(
      '机构名录中未登记您的秘书处所服务的区域',
      'the directory names no region your secretariat serves',
    );
  return outside.length === 0
    ? true
    : deny(
        `成员 ${outside.join('、')} 不在您的秘书处所服务的区域内`,
        `member ${outside.join(', ')} lies outside the region your secretariat serves`,
      );
};

export const proposeAgreements = defineRule<ProposalScope>({
  name: 'agreement.propose',
  description: { zh: '提出区域协议', en: 'propose a regional agreement' },
  agencyKinds: ['regional-secretariat'],
  roles: ['clerk', 'approver'],
  scope: withinOwnRegion,
});

/** The secretariat that proposed an agreement keeps it: amendments and expiry. */
export const keepAgreements = defineRule<{ secretariatId: string }>({
  name: 'agreement.keep',
  description: { zh: '提出协议修订或宣告协议到期', en: 'propose an amendment to or expire an agreement' },
  agencyKinds: ['regional-secretariat'],
  roles: ['clerk', 'approver'],
  scope: party((agreement) => [agreement.secretariatId]),
});

/** A signature or rejection: the agreement's members, and the member the bureau acts for. */
export interface SignatureScope {
  readonly members: readonly string[];
  readonly member: string;
}

export const signAgreements = defineRule<SignatureScope>({
  name: 'agreement.sign',
  description: {
    zh: '签署或拒绝区域协议及其修订',
    en: 'sign or reject a regional agreement or its amendment',
  },
  agencyKinds: ['provincial-bureau'],
  roles: ['approver'],
  scope: allOf<SignatureScope>(
    (identity, s) =>
      s.member === identity.jurisdiction
        ? true
        : deny(
            `省级生态环境部门只能代表本省（${identity.jurisdiction}）签署，不能代表 ${s.member}`,
            `a provincial bureau signs for its own province (${identity.jurisdiction}) only, not for ${s.member}`,
          ),
    (identity, s) =>
      s.members.includes(identity.jurisdiction)
        ? true
        : deny(
            `${identity.jurisdiction} 不是本协议的成员`,
            `${identity.jurisdiction} is not a member of this agreement`,
          ),
  ),
});

/** Who reads agreements at all; which ones is the visibility policy's answer. */
export const readAgreements = defineRule<{ visibility: RecordVisibility; policy: VisibilityPolicy }>({
  name: 'agreement.read',
  description: { zh: '查阅区域协议', en: 'read regional agreements' },
  agencyKinds: ['regional-secretariat', 'provincial-bureau', 'finance-office'],
  roles: ROLES,
  scope: (identity, r) =>
    isVisible(identity, r.policy, r.visibility)
      ? true
      : deny(
          '按信息共享规则，您的机构不能查看该协议',
          'under the data-sharing rules your agency cannot see this agreement',
        ),
});

/**
 * Rows list the proposing secretariat as party and the members (plus every payer and payee of a rate,
 * a city may be one) as jurisdictions: a provincial bureau or finance office sees what touches its
 * province, a municipal finance office the agreements whose rates it pays or is paid.
 */
export function agreementVisibility(
  secretariatId: string,
  members: readonly string[],
  clauseSets: readonly AgreementClauses[],
): RecordVisibility {
  const jurisdictions = new Set(members);
  for (const clauses of clauseSets)
    for (const rate of clauses.compensationRates) {
      jurisdictions.add(rate.payer);
      for (const payee of rate.payees) jurisdictions.add(payee.jurisdiction);
    }
  return { agencies: [secretariatId], jurisdictions: [...jurisdictions].sort() };
}

/** The visibility of an agreement from its state: every clause set it has carried counts. */
export function visibilityOfAgreement(state: ExistingAgreement): RecordVisibility {
  return agreementVisibility(state.secretariatId, state.members, [
    state.proposedClauses,
    ...state.versions.map((v) => v.clauses),
    ...(state.pendingAmendment ? [state.pendingAmendment.clauses] : []),
  ]);
}

/** The region a regional body serves, from the agency directory; [] when it names none. */
export function regionOf(directory: AgencyDirectory, agencyId: string): readonly string[] {
  const regionId = directory.agency(agencyId)?.region;
  return (regionId === undefined ? undefined : directory.region(regionId)?.jurisdictions) ?? [];
}

/**
 * The policy for one caller: the secretariat sees what it proposed and what touches its region;
 * bureaus and finance offices see by jurisdiction.
 */
export function agreementPolicy(directory: AgencyDirectory, identity: Identity): VisibilityPolicy {
  const region = identity.agencyKind === 'regional-secretariat' ? regionOf(directory, identity.agencyId) : [];
  return defineVisibilityPolicy({
    party: ['regional-secretariat'],
    jurisdiction: ['provincial-bureau', 'finance-office'],
    region: region.length > 0 ? ['regional-secretariat'] : [],
    regionJurisdictions: region,
  });
}
