import type { BilingualText } from '@lianfang/domain-kernel';
import { AuthenticationError } from '../errors';
import { AGENCY_KINDS, ROLES, type AgencyKind, type Identity, type Role } from '../identity';
import { AccessDenied, type AccessCheck } from './access-denied';
import { AGENCY_KIND_NAMES, ROLE_NAMES } from './names';

/** What a scope says about one record; `reason` tells the person what is missing. */
export interface ScopeVerdict {
  readonly allowed: boolean;
  readonly reason?: BilingualText;
}

/** Whether a record lies within what this identity may touch (party, jurisdiction…). Pure. */
export type Scope<R> = (identity: Identity, resource: R) => boolean | ScopeVerdict;

/**
 * Who may run one command or query: any of `agencyKinds`, holding any of `roles`, and, for a given
 * record, within `scope`. Built by `defineRule`; the same rule serves the resolver's guard, the handler's
 * check on the loaded record, and lists.
 */
export interface AccessRule<R = unknown> {
  /** Stable name, e.g. `transfer.approve`: in refusals, logs and tests. */
  readonly name: string;
  readonly description: BilingualText;
  readonly agencyKinds: readonly AgencyKind[];
  readonly roles: readonly Role[];
  readonly scope?: Scope<R>;
}

export interface RuleDefinition<R> {
  readonly name: string;
  readonly description: BilingualText;
  /** Agency kinds allowed; at least one (a rule that admits nobody is a mistake, not a policy). */
  readonly agencyKinds: readonly AgencyKind[];
  /** Any of these roles; at least one. */
  readonly roles: readonly Role[];
  readonly scope?: Scope<R>;
}

/** A rule written wrongly (caught when the module loads, not at request time). */
export class RuleDefinitionError extends Error {
  constructor(
    readonly rule: string,
    readonly field: 'name' | 'description' | 'agencyKinds' | 'roles' | 'scope',
    detail: string,
  ) {
    super(`Access rule "${rule}": ${field} ${detail}`);
    this.name = 'RuleDefinitionError';
  }
}

const KNOWN_KINDS = new Set<string>(AGENCY_KINDS);
const KNOWN_ROLES = new Set<string>(ROLES);

export function defineRule<R = unknown>(definition: RuleDefinition<R>): AccessRule<R> {
  const { name, description, agencyKinds, roles, scope } = definition;
  if (typeof name !== 'string' || !/^[a-z][a-zA-Z0-9-]*(\.[a-z][a-zA-Z0-9-]*)*$/.test(name)) {
    throw new RuleDefinitionError(
      String(name),
      'name',
      'must be dotted lower-camel words, e.g. transfer.approve',
    );
  }
  if (!description?.zh?.trim() || !description?.en?.trim()) {
    throw new RuleDefinitionError(name, 'description', 'needs both zh and en');
  }
  if (!Array.isArray(agencyKinds) || agencyKinds.length === 0) {
    throw new RuleDefinitionError(name, 'agencyKinds', 'must name at least one agency kind');
  }
  const unknownKind = agencyKinds.find((k) => !KNOWN_KINDS.has(k));
  if (unknownKind !== undefined) {
    throw new RuleDefinitionError(name, 'agencyKinds', `has an unknown agency kind "${unknownKind}"`);
  }
  if (!Array.isArray(roles) || roles.length === 0) {
    throw new RuleDefinitionError(name, 'roles', 'must name at least one role');
  }
  const unknownRole = roles.find((r) => !KNOWN_ROLES.has(r));
  if (unknownRole !== undefined) {
    throw new RuleDefinitionError(name, 'roles', `has an unknown role "${unknownRole}"`);
  }
  if (scope !== undefined && typeof scope !== 'function') {
    throw new RuleDefinitionError(name, 'scope', 'must be a function (identity, resource) => verdict');
  }
  return Object.freeze({
    name,
    description: Object.freeze({ zh: description.zh, en: description.en }),
    agencyKinds: Object.freeze([...new Set(agencyKinds)]),
    roles: Object.freeze([...new Set(roles)]),
    ...(scope ? { scope } : {}),
  });
}

/** Why access was refused, or that it was granted. `identity` means nobody was signed in. */
export type AccessDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly check: AccessCheck | 'identity'; readonly reason: BilingualText };

const GRANTED: AccessDecision = Object.freeze({ allowed: true });

export const OUT_OF_SCOPE: BilingualText = Object.freeze({
  zh: '该记录不在您的机构可办理的范围内',
  en: 'the record is outside what your agency may act on',
});

function listNames(names: readonly BilingualText[]): BilingualText {
  return { zh: names.map((n) => n.zh).join('、'), en: names.map((n) => n.en).join(', ') };
}

/** Normalises what a scope returned. A scope that throws refuses (never grants by accident). */
export function runScope<R>(scope: Scope<R>, identity: Identity, resource: R): ScopeVerdict {
  let verdict: boolean | ScopeVerdict;
  try {
    verdict = scope(identity, resource);
  } catch {
    return { allowed: false, reason: OUT_OF_SCOPE };
  }
  if (verdict === true) return { allowed: true };
  if (verdict === false || typeof verdict !== 'object' || verdict === null) {
    return { allowed: false, reason: OUT_OF_SCOPE };
  }
  return verdict.allowed === true
    ? { allowed: true }
    : { allowed: false, reason: verdict.reason ?? OUT_OF_SCOPE };
}

/**
 * Checks, in order, agency kind, role, and (when a resource is given) scope. Without a resource only
 * kind and role are checked: that is the guard before the record is loaded; the handler checks again
 * with the record.
 */
export function evaluateAccess<R>(
  identity: Identity | undefined,
  rule: AccessRule<R>,
  resource?: R,
): AccessDecision {
  if (!identity) {
    return {
      allowed: false,
      check: 'identity',
      reason: { zh: '未识别请求者身份', en: 'no identity: the caller is not signed in' },
    };
  }
  if (!rule.agencyKinds.includes(identity.agencyKind)) {
    const allowed = listNames(rule.agencyKinds.map((k) => AGENCY_KIND_NAMES[k]));
    const actual = AGENCY_KIND_NAMES[identity.agencyKind] ?? {
      zh: identity.agencyKind,
      en: identity.agencyKind,
    };
    return {
      allowed: false,
      check: 'agencyKind',
      reason: {
        zh: `仅限${allowed.zh}办理，您的机构是${actual.zh}`,
        en: `only a ${allowed.en.replace(/, ([^,]*)$/, ' or $1')} may do this; your agency is a ${actual.en}`,
      },
    };
  }
  if (!rule.roles.some((r) => identity.roles.includes(r))) {
    const needed = listNames(rule.roles.map((r) => ROLE_NAMES[r]));
    const held = listNames(identity.roles.map((r) => ROLE_NAMES[r] ?? { zh: r, en: r }));
    return {
      allowed: false,
      check: 'role',
      reason: {
        zh: `需要以下角色之一：${needed.zh}；您的角色：${held.zh || '无'}`,
        en: `needs one of the roles ${needed.en}; you hold ${held.en || 'none'}`,
      },
    };
  }
  if (rule.scope && resource !== undefined) {
    const verdict = runScope(rule.scope, identity, resource);
    if (!verdict.allowed) return { allowed: false, check: 'scope', reason: verdict.reason ?? OUT_OF_SCOPE };
  }
  return GRANTED;
}

/**
 * Returns the identity when the rule allows it, so a handler can go on with it; throws
 * `AuthenticationError` (IDENTITY_MISSING) without one and `AccessDenied` when a check fails.
 */
export function authorize<R>(identity: Identity | undefined, rule: AccessRule<R>, resource?: R): Identity {
  const decision = evaluateAccess(identity, rule, resource);
  if (decision.allowed) return identity as Identity;
  if (decision.check === 'identity') {
    throw new AuthenticationError(
      'IDENTITY_MISSING',
      `“${rule.description.zh}”（${rule.name}）需要登录后办理`,
      `"${rule.description.en}" (${rule.name}) needs a signed-in caller`,
    );
  }
  throw new AccessDenied(
    rule.name,
    decision.check,
    `无权“${rule.description.zh}”（${rule.name}）：${decision.reason.zh}`,
    `not allowed to ${rule.description.en} (${rule.name}): ${decision.reason.en}`,
  );
}

/** Whether `authorize` would let this through (for hiding buttons, filtering in memory). */
export function can<R>(identity: Identity | undefined, rule: AccessRule<R>, resource?: R): boolean {
  return evaluateAccess(identity, rule, resource).allowed;
}

/**
 * A rule every authenticated party passes (any agency kind, any role): reference data such as the agency
 * directory and published licences, or what concerns only the caller's own agency. The identity is still
 * required, so an anonymous caller is refused.
 */
export function everyParty(name: string, description: BilingualText): AccessRule {
  return defineRule({ name, description, agencyKinds: AGENCY_KINDS, roles: ROLES });
}
