import { JurisdictionCode, type BilingualText } from '@lianfang/domain-kernel';
import type { AgencyKind } from '../identity';
import { AGENCY_KIND_NAMES } from './names';
import { runScope, type Scope, type ScopeVerdict } from './rule';

const ALLOWED: ScopeVerdict = Object.freeze({ allowed: true });
const deny = (reason: BilingualText): ScopeVerdict => ({ allowed: false, reason });

type Maybe<T> = T | null | undefined;

/** The agency acts on the record as one of its parties (generator, carrier, receiver, a bureau on it). */
export function party<R>(agencies: (resource: R) => Iterable<Maybe<string>>): Scope<R> {
  return (identity, resource) => {
    for (const agency of agencies(resource)) if (agency === identity.agencyId) return ALLOWED;
    return deny({ zh: '您的机构不是该记录的当事方', en: 'your agency is not a party to this record' });
  };
}

function parseCode(code: Maybe<string | JurisdictionCode>): JurisdictionCode | undefined {
  if (code === null || code === undefined) return undefined;
  if (code instanceof JurisdictionCode) return code;
  const parsed = JurisdictionCode.parse(code);
  return parsed.ok ? parsed.value : undefined;
}

/**
 * The identity's jurisdiction contains one of the record's: a provincial bureau (510000) reaches every
 * city and county of Sichuan, a municipal bureau (510100) only Chengdu and its counties, never the
 * province-level record itself. A malformed code on either side contains nothing.
 */
export function withinJurisdiction<R>(
  jurisdictions: (resource: R) => Iterable<Maybe<string | JurisdictionCode>>,
): Scope<R> {
  return (identity, resource) => {
    const own = parseCode(identity.jurisdiction);
    if (own) {
      for (const code of jurisdictions(resource)) {
        const parsed = parseCode(code);
        if (parsed && own.contains(parsed)) return ALLOWED;
      }
    }
    return deny({
      zh: `该记录不涉及您的辖区（${identity.jurisdiction}）`,
      en: `the record touches no jurisdiction within yours (${identity.jurisdiction})`,
    });
  };
}

/**
 * Applies `scope` only to identities of these agency kinds; others are refused. Keeps a jurisdiction
 * scope meant for bureaus from admitting an enterprise that merely sits in the same city.
 */
export function forAgencyKinds<R>(kinds: readonly AgencyKind[], scope: Scope<R>): Scope<R> {
  const set = new Set<AgencyKind>(kinds);
  return (identity, resource) => {
    if (set.has(identity.agencyKind)) return runScope(scope, identity, resource);
    const names = kinds.map((k) => AGENCY_KIND_NAMES[k]);
    return deny({
      zh: `仅${names.map((n) => n.zh).join('、')}可按此范围访问`,
      en: `only a ${names.map((n) => n.en).join(' or ')} reaches records this way`,
    });
  };
}

function joinReasons(verdicts: readonly ScopeVerdict[]): BilingualText {
  const reasons = verdicts.map((v) => v.reason).filter((r): r is BilingualText => r !== undefined);
  return { zh: reasons.map((r) => r.zh).join('；'), en: reasons.map((r) => r.en).join('; ') };
}

/** Allowed when any scope allows; otherwise every reason, joined. No scopes: refused. */
export function anyOf<R>(...scopes: Scope<R>[]): Scope<R> {
  return (identity, resource) => {
    const refusals: ScopeVerdict[] = [];
    for (const scope of scopes) {
      const verdict = runScope(scope, identity, resource);
      if (verdict.allowed) return ALLOWED;
      refusals.push(verdict);
    }
    return refusals.length > 0
      ? deny(joinReasons(refusals))
      : deny({ zh: '规则未给出任何可访问的范围', en: 'the rule grants no scope' });
  };
}

/** Allowed when every scope allows; otherwise the first refusal. No scopes: refused (never vacuous). */
export function allOf<R>(...scopes: Scope<R>[]): Scope<R> {
  return (identity, resource) => {
    if (scopes.length === 0)
      return deny({ zh: '规则未给出任何可访问的范围', en: 'the rule grants no scope' });
    for (const scope of scopes) {
      const verdict = runScope(scope, identity, resource);
      if (!verdict.allowed) return verdict;
    }
    return ALLOWED;
  };
}
