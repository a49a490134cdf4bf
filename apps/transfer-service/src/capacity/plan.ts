import { LocalDate, Quantity } from '@lianfang/domain-kernel';
import { DomainError } from '@lianfang/eventsourcing';
import { required } from '../facility/validation';

/** One reservation to make: in the ledger of `year`, `quantityKg` (more than zero). */
export interface PlannedReservation {
  readonly year: number;
  readonly quantityKg: string;
}

const refuse = (code: string, en: string, zh: string, details: object, field = 'plannedByYear') =>
  new DomainError({ code: `capacity.${code}`, field, message: { en, zh }, details: { ...details } });

/** The calendar years an approval's validity touches, in order: 2026-07-01 … 2027-06-30 → [2026, 2027]. */
export function yearsCovered(validFrom: LocalDate | string, validTo: LocalDate | string): number[] {
  const from = typeof validFrom === 'string' ? LocalDate.parseOrThrow(validFrom, 'validFrom') : validFrom;
  const to = typeof validTo === 'string' ? LocalDate.parseOrThrow(validTo, 'validTo') : validTo;
  if (to.isBefore(from))
    throw refuse(
      'plan-window',
      'the validity cannot end before it starts',
      '有效期截止日不能早于起始日',
      { validFrom: from.toString(), validTo: to.toString() },
      'validTo',
    );
  return Array.from({ length: to.year - from.year + 1 }, (_, i) => from.year + i);
}

/**
 * Splits an approval's quantity over the calendar years it covers: one reservation per year in that
 * year's ledger, made in the same atomic append as the approval. Without a plan everything is
 * reserved in the first year (the application did not say when it ships). Years planned at zero
 * reserve nothing. Exact: the planned figures must add up to the total, to the gram.
 */
export function planReservations(input: {
  readonly years: readonly number[];
  readonly plannedByYear?: Readonly<Record<string, string>>;
  readonly total: string;
}): PlannedReservation[] {
  const total = required('capacity', Quantity.parse(input.total, 'total'));
  if (total.isZero())
    throw refuse('quantity-not-positive', 'the quantity must be more than zero', '数量须大于零', {}, 'total');
  const years = [...new Set(input.years)].sort((a, b) => a - b);
  if (years.length === 0 || years.some((y) => !Number.isInteger(y)))
    throw refuse(
      'plan-years',
      'the approval must cover at least one calendar year',
      '批准须至少覆盖一个自然年',
      { years: input.years },
      'years',
    );
  if (input.plannedByYear === undefined) return [{ year: years[0], quantityKg: total.toKgString() }];

  const planned = Object.entries(input.plannedByYear).map(([key, kg]) => {
    const year = Number(key);
    if (!/^\d{4}$/.test(key) || !years.includes(year))
      throw refuse(
        'plan-year-outside-window',
        `year ${key} is not within the approval's validity (${years.join(', ')})`,
        `${key} 年不在批准有效期内（${years.join('、')}）`,
        { year: key, years },
        `plannedByYear.${key}`,
      );
    return { year, quantity: required('capacity', Quantity.parse(kg, `plannedByYear.${key}`)) };
  });
  const sum = Quantity.sum(planned.map((p) => p.quantity));
  if (!sum.equals(total))
    throw refuse(
      'plan-sum-mismatch',
      `the quantities planned per year add up to ${sum.toKgString()} kg, not the ${total.toKgString()} kg applied for`,
      `各年度计划数量合计 ${sum.toKgString()} 千克，与申请总量 ${total.toKgString()} 千克不符`,
      { planned: sum.toKgString(), total: total.toKgString() },
    );
  return planned
    .filter((p) => !p.quantity.isZero())
    .sort((a, b) => a.year - b.year)
    .map((p) => ({ year: p.year, quantityKg: p.quantity.toKgString() }));
}
