import { LocalDate } from '@lianfang/domain-kernel';
import { DomainError } from '@lianfang/eventsourcing';
import fc from 'fast-check';
import { planReservations, yearsCovered } from './plan';

const refusal = (f: () => unknown): DomainError => {
  try {
    f();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError');
};

describe('yearsCovered', () => {
  it('lists the calendar years a validity touches', () => {
    expect(yearsCovered('2026-03-01', '2026-12-31')).toEqual([2026]);
    expect(yearsCovered('2026-07-01', '2027-06-30')).toEqual([2026, 2027]);
    expect(yearsCovered(LocalDate.parseOrThrow('2026-12-31'), '2027-01-01')).toEqual([2026, 2027]);
  });

  it('refuses a validity that ends before it starts', () => {
    expect(refusal(() => yearsCovered('2027-01-01', '2026-12-31'))).toMatchObject({
      code: 'capacity.plan-window',
      field: 'validTo',
    });
  });
});

describe('planReservations', () => {
  it('reserves everything in the first year by default', () => {
    expect(planReservations({ years: [2027, 2026], total: '120000.5' })).toEqual([
      { year: 2026, quantityKg: '120000.500' },
    ]);
  });

  it('follows the plan per year, in year order, skipping years planned at zero', () => {
    expect(
      planReservations({
        years: [2026, 2027],
        plannedByYear: { '2027': '40000.250', '2026': '80000.25' },
        total: '120000.5',
      }),
    ).toEqual([
      { year: 2026, quantityKg: '80000.250' },
      { year: 2027, quantityKg: '40000.250' },
    ]);
    expect(
      planReservations({ years: [2026, 2027], plannedByYear: { '2026': '0', '2027': '5' }, total: '5' }),
    ).toEqual([{ year: 2027, quantityKg: '5.000' }]);
  });

  it('refuses a plan that does not add up to the total, to the gram', () => {
    expect(
      refusal(() =>
        planReservations({
          years: [2026, 2027],
          plannedByYear: { '2026': '80000', '2027': '40000.499' },
          total: '120000.5',
        }),
      ),
    ).toMatchObject({
      code: 'capacity.plan-sum-mismatch',
      field: 'plannedByYear',
      details: { planned: '120000.499', total: '120000.500' },
    });
  });

  it('refuses a year outside the validity, a bad quantity, no years or a zero total', () => {
    expect(
      refusal(() => planReservations({ years: [2026], plannedByYear: { '2027': '5' }, total: '5' })),
    ).toMatchObject({ code: 'capacity.plan-year-outside-window', field: 'plannedByYear.2027' });
    expect(
      refusal(() => planReservations({ years: [2026], plannedByYear: { '2026': '5.0001' }, total: '5' })),
    ).toMatchObject({ code: 'capacity.quantity-precision', field: 'plannedByYear.2026' });
    expect(refusal(() => planReservations({ years: [], total: '5' }))).toMatchObject({
      code: 'capacity.plan-years',
      field: 'years',
    });
    expect(refusal(() => planReservations({ years: [2026], total: '0' }))).toMatchObject({
      code: 'capacity.quantity-not-positive',
      field: 'total',
    });
    expect(refusal(() => planReservations({ years: [2026], total: '1e3' }))).toMatchObject({
      code: 'capacity.quantity-format',
      field: 'total',
    });
  });

  it('property: a valid plan reserves exactly the total, each year once, nothing at zero', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5_000_000 }), { minLength: 1, maxLength: 3 }),
        (gramsPerYear) => {
          fc.pre(gramsPerYear.some((g) => g > 0));
          const years = gramsPerYear.map((_, i) => 2026 + i);
          const kg = (g: number) => `${Math.floor(g / 1000)}.${String(g % 1000).padStart(3, '0')}`;
          const total = kg(gramsPerYear.reduce((a, b) => a + b, 0));
          const plan = planReservations({
            years,
            plannedByYear: Object.fromEntries(years.map((y, i) => [String(y), kg(gramsPerYear[i])])),
            total,
          });
          const sum = plan.reduce((a, p) => a + BigInt(p.quantityKg.replace('.', '')), 0n);
          expect(sum.toString()).toBe(String(gramsPerYear.reduce((a, b) => a + b, 0)));
          expect(plan.every((p) => p.quantityKg !== '0.000')).toBe(true);
          expect(new Set(plan.map((p) => p.year)).size).toBe(plan.length);
        },
      ),
    );
  });
});
