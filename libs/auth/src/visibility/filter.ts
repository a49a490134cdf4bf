import type { Identity } from '../identity';
import {
  containmentPattern,
  reachedJurisdictions,
  VisibilityPolicyError,
  type VisibilityPolicy,
} from './policy';

/** A piece of SQL with its bind parameters, numbered from the index it was asked to start at. */
export interface SqlFragment {
  readonly sql: string;
  readonly params: unknown[];
}

const COLUMN = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;

function column(name: string | undefined, fallback: string, field: string): string {
  const value = name ?? fallback;
  if (!COLUMN.test(value)) throw new VisibilityPolicyError(field, `"${value}" is not a plain column name`);
  return value;
}

/**
 * The WHERE condition that keeps only the rows this identity may see under the policy, to AND into
 * a read model's query before ORDER BY / LIMIT / count, so hidden rows never reach a page, a count or a
 * cursor. `$firstParamIndex` is the first placeholder it uses. A kind the policy grants nothing: `FALSE`.
 *
 * Parties: `visible_agencies @> ARRAY[agency]` (a GIN index on the column serves it). Jurisdictions:
 * some code of `visible_jurisdictions` lies within one the identity reaches (prefix on GB/T 2260).
 */
export function visibilityFilter(
  identity: Identity,
  policy: VisibilityPolicy,
  firstParamIndex: number,
): SqlFragment {
  if (!Number.isSafeInteger(firstParamIndex) || firstParamIndex < 1) {
    throw new RangeError(`visibilityFilter: firstParamIndex must be an integer ≥ 1, got ${firstParamIndex}`);
  }
  const agencies = column(policy.columns?.agencies, 'visible_agencies', 'columns.agencies');
  const jurisdictions = column(
    policy.columns?.jurisdictions,
    'visible_jurisdictions',
    'columns.jurisdictions',
  );
  const clauses: string[] = [];
  const params: unknown[] = [];
  const next = () => `$${firstParamIndex + params.length}`;

  if (policy.party.includes(identity.agencyKind)) {
    clauses.push(`${agencies} @> ARRAY[${next()}::text]`);
    params.push(identity.agencyId);
  }
  const patterns = [...new Set(reachedJurisdictions(identity, policy).map(containmentPattern))];
  if (patterns.length > 0) {
    clauses.push(
      `EXISTS (SELECT 1 FROM unnest(${jurisdictions}) AS visible(code) WHERE visible.code LIKE ANY(${next()}::text[]))`,
    );
    params.push(patterns);
  }
  return clauses.length === 0 ? { sql: 'FALSE', params: [] } : { sql: `(${clauses.join(' OR ')})`, params };
}
