/**
 * Pure questions other deciders and services ask of an agreement's state: which clauses govern a
 * given day, the rate for a receipt, the discrepancy tolerance, the whitelist of a year.
 * An agreement governs the days of its term once adopted; an expired one still answers for the days
 * of its term (receipts of December are compensated in January).
 */
import {
  JurisdictionCode,
  LocalDate,
  Money,
  WasteCategory,
  WasteClass,
  WasteCode,
} from '@lianfang/domain-kernel';
import {
  DEFAULT_MAX_TRANSIT_DAYS,
  DEFAULT_TOLERANCE,
  type AgreementClauses,
  type CompensationRate,
  type DiscrepancyTolerance,
  type WhitelistEntry,
} from './clauses';
import type { AgreementState, ClauseVersion } from './decider';

export type DateInput = LocalDate | string;

const toDate = (date: DateInput) => (typeof date === 'string' ? LocalDate.parseOrThrow(date) : date);

/**
 * The clause version in force on `onDate`; without a date, the latest adopted version (what the
 * members agreed last). Undefined when the agreement is not adopted or the day lies outside its term.
 */
export function clausesInForce(state: AgreementState, onDate?: DateInput): ClauseVersion | undefined {
  if (state.status !== 'adopted' && state.status !== 'expired') return undefined;
  if (state.versions.length === 0) return undefined;
  if (onDate === undefined) return state.versions[state.versions.length - 1];
  const day = toDate(onDate);
  if (state.validUntil !== null && day.isAfter(LocalDate.parseOrThrow(state.validUntil))) return undefined;
  let found: ClauseVersion | undefined;
  for (const version of state.versions) {
    if (!LocalDate.parseOrThrow(version.effectiveFrom).isAfter(day)) found = version;
  }
  return found;
}

/** The weight tolerance that applies; the defaults of domain.md (5%, 100 kg) when no agreement governs. */
export function toleranceOf(state: AgreementState, onDate?: DateInput): DiscrepancyTolerance {
  return clausesInForce(state, onDate)?.clauses.tolerance ?? DEFAULT_TOLERANCE;
}

/** Maximum days in transit before a manifest is overdue; 3 when no agreement governs. */
export function maxTransitDaysOf(state: AgreementState, onDate?: DateInput): number {
  return clausesInForce(state, onDate)?.clauses.maxTransitDays ?? DEFAULT_MAX_TRANSIT_DAYS;
}

/** The whitelist entries for `year`, from the version in force on `onDate` (default: the latest). */
export function whitelistEntries(state: AgreementState, year: number, onDate?: DateInput): WhitelistEntry[] {
  const clauses: AgreementClauses | undefined = clausesInForce(state, onDate)?.clauses;
  return (clauses?.whitelist ?? []).filter((e) => e.year === year);
}

/**
 * The rate key of any way a caller names waste: 'HW08', '900-249-08', 'hazardous:900-249-08' → 'HW08';
 * 'construction' → 'construction'. Undefined when it names nothing a rate could apply to.
 */
export function rateKeyOf(wasteClassOrCategory: string): string | undefined {
  const category = WasteCategory.parse(wasteClassOrCategory);
  if (category.ok) return category.value.code;
  const code = WasteCode.parse(wasteClassOrCategory);
  if (code.ok) return code.value.category.code;
  const wasteClass = WasteClass.parse(wasteClassOrCategory);
  if (!wasteClass.ok) return undefined;
  return wasteClass.value.kind === 'hazardous' ? wasteClass.value.code.category.code : wasteClass.value.kind;
}

export interface AppliedRate extends CompensationRate {
  /** The same rate in yuan, for people: '150.00'. */
  readonly yuanPerTonne: string;
  /** The clause version it comes from (null: the agreement as adopted). */
  readonly amendmentId: string | null;
}

/** How specific a payer clause is: a county's own rate beats its city's, which beats its province's. */
const specificity = (code: JurisdictionCode) =>
  code.level === 'county' ? 3 : code.level === 'municipal' ? 2 : 1;

/**
 * The compensation rate for waste of a class or category paid by `payer` on `onDate`: from the
 * clause version in force that day, the rate whose period contains the day and whose payer is the
 * payer itself or the nearest jurisdiction containing it (a province's rate covers its cities).
 */
export function rateFor(
  state: AgreementState,
  query: { readonly wasteClassOrCategory: string; readonly payer: string; readonly onDate: DateInput },
): AppliedRate | undefined {
  const day = toDate(query.onDate);
  const version = clausesInForce(state, day);
  const key = rateKeyOf(query.wasteClassOrCategory);
  const payer = JurisdictionCode.parse(query.payer);
  if (version === undefined || key === undefined || !payer.ok) return undefined;
  let best: { rate: CompensationRate; rank: number } | undefined;
  for (const rate of version.clauses.compensationRates) {
    if (rate.wasteClassOrCategory !== key) continue;
    if (LocalDate.parseOrThrow(rate.from).isAfter(day)) continue;
    if (rate.to !== null && LocalDate.parseOrThrow(rate.to).isBefore(day)) continue;
    const ratePayer = JurisdictionCode.parseOrThrow(rate.payer);
    if (!ratePayer.contains(payer.value)) continue;
    const rank = specificity(ratePayer);
    if (best === undefined || rank > best.rank) best = { rate, rank };
  }
  if (best === undefined) return undefined;
  return {
    ...best.rate,
    yuanPerTonne: Money.fromFen(BigInt(best.rate.fenPerTonne)).toYuanString(),
    amendmentId: version.amendmentId,
  };
}
