import fc from 'fast-check';
import bundled from '../data/cn-holidays.json';
import { LocalDate } from './local-date';
import { DomainValidationError } from './validation';
import { type HolidayYearData, WorkingDayCalendar } from './working-day-calendar';

const date = LocalDate.parseOrThrow;
const calendar = WorkingDayCalendar.default();

/**
 * TEST DATA, not the real notice (2027's is not published yet): shaped like a State Council notice,
 * with New Year off on Friday 2027-01-01 and Saturday 2027-01-09 declared a working day.
 */
const TEST_2027: HolidayYearData = {
  source: 'test data for 2027 (not an official notice)',
  holidays: { '元旦 New Year': ['2027-01-01', '2027-01-02', '2027-01-03'] },
  workdays: ['2027-01-09'],
};

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

describe('WorkingDayCalendar', () => {
  describe('the bundled State Council notices', () => {
    it('loads 2025 and 2026 with their sources', () => {
      expect(calendar.loadedYears).toEqual([2025, 2026]);
      expect(calendar.sourceOf(2026)).toContain('2026');
      expect(calendar.isYearLoaded(2027)).toBe(false);
      expect(WorkingDayCalendar.default()).toBe(calendar);
    });

    it.each([
      ['2026-09-23', true, 'an ordinary Wednesday'],
      ['2026-09-25', false, 'a Friday in the Mid-Autumn holiday'],
      ['2026-10-01', false, 'National Day'],
      ['2026-10-07', false, 'the last day of the National Day holiday'],
      ['2026-10-10', true, 'a Saturday declared a working day (调休)'],
      ['2026-09-20', true, 'a Sunday declared a working day (调休)'],
      ['2026-10-11', false, 'an ordinary Sunday'],
      ['2026-10-17', false, 'an ordinary Saturday'],
      ['2025-01-28', false, 'Spring Festival eve 2025'],
      ['2025-01-26', true, 'a Sunday declared a working day in 2025'],
      ['2026-01-02', false, 'a Friday in the New Year holiday'],
    ])('%s working: %s (%s)', (input, working) => {
      expect(calendar.isWorkingDay(date(input))).toBe(working);
      expect(calendar.dayStatus(date(input)).provisional).toBe(false);
    });

    it('names the holiday of a day off', () => {
      expect(calendar.dayStatus(date('2026-09-26'))).toEqual({
        working: false,
        provisional: false,
        holiday: '中秋节 Mid-Autumn',
      });
      expect(calendar.dayStatus(date('2026-10-11')).holiday).toBeUndefined();
    });

    it('judges an unloaded year Monday–Friday, provisionally', () => {
      expect(calendar.dayStatus(date('2027-01-01'))).toEqual({ working: true, provisional: true });
      expect(calendar.dayStatus(date('2027-01-02'))).toEqual({ working: false, provisional: true });
    });
  });

  describe('addWorkingDays', () => {
    it('2026-09-23 + 10 working days, across Mid-Autumn and National Day, is 2026-10-14', () => {
      // 09-23 Wed  the event: not counted (Civil Code Art 201)
      // 09-24 Thu  1
      // 09-25 Fri  Mid-Autumn holiday        09-26 Sat, 09-27 Sun  holiday
      // 09-28 Mon  2    09-29 Tue  3    09-30 Wed  4
      // 10-01 Thu … 10-07 Wed  National Day holiday
      // 10-08 Thu  5    10-09 Fri  6
      // 10-10 Sat  7 (调休: declared working day)   10-11 Sun  not a working day
      // 10-12 Mon  8    10-13 Tue  9    10-14 Wed  10
      const result = calendar.addWorkingDays(date('2026-09-23'), 10);
      expect(result.lastDay.toString()).toBe('2026-10-14');
      expect(result.deadline.toISOString()).toBe('2026-10-14T16:00:00.000Z'); // 24:00 on 10-14 in Shanghai
      expect(result.provisional).toBe(false);
    });

    it('does not count the start day, even when it is a working day', () => {
      expect(calendar.addWorkingDays(date('2026-09-21'), 1).lastDay.toString()).toBe('2026-09-22');
    });

    it('starts counting after a holiday start day on the next working day', () => {
      // Starting in the middle of National Day: 10-08 is the first working day.
      expect(calendar.addWorkingDays(date('2026-10-03'), 1).lastDay.toString()).toBe('2026-10-08');
    });

    it('skips a holiday', () => {
      // 2026-05-01..05 Labour Day: Thursday 04-30 + 1 → Wednesday 05-06.
      expect(calendar.addWorkingDays(date('2026-04-30'), 1).lastDay.toString()).toBe('2026-05-06');
    });

    it('counts a 调休 Saturday', () => {
      // 2026-05-09 (Saturday) is a declared working day: Friday 05-08 + 1 → Saturday 05-09.
      expect(calendar.addWorkingDays(date('2026-05-08'), 1).lastDay.toString()).toBe('2026-05-09');
    });

    it('skips an ordinary Sunday (and Saturday)', () => {
      // Friday 2026-09-11 + 1 → Monday 09-14.
      expect(calendar.addWorkingDays(date('2026-09-11'), 1).lastDay.toString()).toBe('2026-09-14');
    });

    it('takes an instant that is already the next day in Shanghai as that day', () => {
      // 2026-09-23 20:00 UTC is 2026-09-24 04:00 in Shanghai: the event day is Thursday 09-24, not counted,
      // so one working day later is Monday 09-28 (09-25..27 Mid-Autumn).
      const late = calendar.addWorkingDays(new Date('2026-09-23T20:00:00Z'), 1);
      expect(late.lastDay.toString()).toBe('2026-09-28');
      const early = calendar.addWorkingDays(new Date('2026-09-23T15:59:59Z'), 1);
      expect(early.lastDay.toString()).toBe('2026-09-24');
    });

    it('ends the deadline at 24:00 Asia/Shanghai of the last day', () => {
      // Monday 09-21: 09-22 (1), 09-23 (2), 09-24 (3), 09-25..27 Mid-Autumn, 09-28 (4).
      const { deadline, lastDay } = calendar.addWorkingDays(date('2026-09-21'), 4);
      expect(lastDay.toString()).toBe('2026-09-28');
      expect(deadline.toISOString()).toBe('2026-09-28T16:00:00.000Z');
      expect(LocalDate.ofInstant(new Date(deadline.getTime() - 1)).toString()).toBe('2026-09-28');
    });

    it('is provisional when it reaches into a year without a notice', () => {
      // 12-31 Thu counts (1); 2027-01-01 Fri is judged Monday–Friday (2): provisional.
      const result = calendar.addWorkingDays(date('2026-12-30'), 2);
      expect(result.lastDay.toString()).toBe('2027-01-01');
      expect(result.provisional).toBe(true);
    });

    it('is provisional when it only skips a day in an unloaded year', () => {
      // Wednesday 2026-12-30 + 1 is Thursday 12-31, inside 2026: not provisional.
      expect(calendar.addWorkingDays(date('2026-12-30'), 1).provisional).toBe(false);
      // Friday 2027-01-01 + 1: Saturday and Sunday were judged without a notice.
      expect(calendar.addWorkingDays(date('2027-01-01'), 1)).toMatchObject({ provisional: true });
    });

    it('becomes final once the year is loaded with withYear', () => {
      const with2027 = calendar.withYear(2027, TEST_2027);
      expect(with2027.ok).toBe(true);
      if (!with2027.ok) return;
      // 12-31 Thu (1); 2027-01-01..03 New Year off; 01-04 Mon (2).
      const result = with2027.value.addWorkingDays(date('2026-12-30'), 2);
      expect(result.lastDay.toString()).toBe('2027-01-04');
      expect(result.provisional).toBe(false);
      expect(with2027.value.isWorkingDay(date('2027-01-09'))).toBe(true);
      // The original calendar is unchanged.
      expect(calendar.isYearLoaded(2027)).toBe(false);
      expect(with2027.value.loadedYears).toEqual([2025, 2026, 2027]);
    });

    it.each([0, -1, 1.5, Number.NaN])('refuses n = %s', (n) => {
      expect(() => calendar.addWorkingDays(date('2026-09-23'), n)).toThrow(DomainValidationError);
    });
  });

  describe('workingDaysBetween', () => {
    it('counts the working days after the first date up to and including the second', () => {
      expect(calendar.workingDaysBetween(date('2026-09-23'), date('2026-10-14'))).toEqual({
        count: 10,
        provisional: false,
      });
      expect(calendar.workingDaysBetween(date('2026-09-23'), date('2026-09-23')).count).toBe(0);
      expect(calendar.workingDaysBetween(date('2026-12-30'), date('2027-01-01'))).toEqual({
        count: 2,
        provisional: true,
      });
      expect(() => calendar.workingDaysBetween(date('2026-09-24'), date('2026-09-23'))).toThrow(
        DomainValidationError,
      );
    });
  });

  describe('loading', () => {
    it('loads the bundled data through load()', () => {
      const result = WorkingDayCalendar.load(bundled);
      expect(result.ok).toBe(true);
    });

    const invalidCases: [string, (data: Record<string, unknown>) => unknown, string, string][] = [
      ['not an object', () => 'calendar', 'calendar', 'calendar.type'],
      ['another timezone', (d) => ({ ...d, timezone: 'UTC' }), 'calendar.timezone', 'calendar.timezone'],
      ['no years', (d) => ({ ...d, years: undefined }), 'calendar.years', 'calendar.years'],
      ['a bad year key', (d) => ({ ...d, years: { '26': TEST_2027 } }), 'calendar.years.26', 'calendar.year'],
      [
        'year data not an object',
        (d) => ({ ...d, years: { '2027': [] } }),
        'calendar.years.2027',
        'calendar.yearData',
      ],
      [
        'no source',
        (d) => ({ ...d, years: { '2027': { ...TEST_2027, source: '' } } }),
        'calendar.years.2027.source',
        'calendar.source',
      ],
      [
        'holidays not an object',
        (d) => ({ ...d, years: { '2027': { ...TEST_2027, holidays: ['2027-01-01'] } } }),
        'calendar.years.2027.holidays',
        'calendar.holidays',
      ],
      [
        'a holiday list that is not a list',
        (d) => ({ ...d, years: { '2027': { ...TEST_2027, holidays: { 元旦: '2027-01-01' } } } }),
        'calendar.years.2027.holidays.元旦',
        'calendar.dates',
      ],
      [
        'a malformed holiday date',
        (d) => ({
          ...d,
          years: { '2027': { ...TEST_2027, holidays: { 元旦: ['2027-01-01', '2027-1-2'] } } },
        }),
        'calendar.years.2027.holidays.元旦[1]',
        'date.format',
      ],
      [
        'an impossible date',
        (d) => ({ ...d, years: { '2027': { ...TEST_2027, workdays: ['2027-02-29'] } } }),
        'calendar.years.2027.workdays[0]',
        'date.invalid',
      ],
      [
        'a date in another year',
        (d) => ({ ...d, years: { '2027': { ...TEST_2027, workdays: ['2026-10-10'] } } }),
        'calendar.years.2027.workdays[0]',
        'calendar.dateOutsideYear',
      ],
      [
        'a declared working day that is a weekday',
        (d) => ({ ...d, years: { '2027': { ...TEST_2027, workdays: ['2027-01-09', '2027-01-11'] } } }),
        'calendar.years.2027.workdays[1]',
        'calendar.workdayNotWeekend',
      ],
      [
        'a day both off and working',
        (d) => ({ ...d, years: { '2027': { ...TEST_2027, workdays: ['2027-01-02'] } } }),
        'calendar.years.2027.workdays[0]',
        'calendar.conflict',
      ],
      [
        'missing workdays',
        (d) => ({ ...d, years: { '2027': { source: 's', holidays: {} } } }),
        'calendar.years.2027.workdays',
        'calendar.dates',
      ],
    ];

    it.each(invalidCases)('refuses %s', (_label, mutate, field, rule) => {
      const result = WorkingDayCalendar.load(mutate(clone(bundled) as unknown as Record<string, unknown>));
      expect(result.ok ? undefined : result.error).toMatchObject({
        field,
        rule,
        message: { zh: expect.any(String), en: expect.any(String) },
      });
    });

    it('throws from loadOrThrow', () => {
      expect(() => WorkingDayCalendar.loadOrThrow({})).toThrow(DomainValidationError);
    });

    it('withYear refuses bad data and an already loaded year unless replacing', () => {
      const bad = calendar.withYear(2027, { ...TEST_2027, workdays: ['2027-01-11'] });
      expect(bad.ok ? undefined : bad.error).toMatchObject({
        field: 'calendar.years.2027.workdays[0]',
        rule: 'calendar.workdayNotWeekend',
      });
      const again = calendar.withYear(2026, TEST_2027);
      expect(again.ok ? undefined : again.error.rule).toBe('calendar.yearLoaded');
      const wrongYear = calendar.withYear(2028, TEST_2027);
      expect(wrongYear.ok ? undefined : wrongYear.error.rule).toBe('calendar.dateOutsideYear');
      const badYear = calendar.withYear(27, TEST_2027);
      expect(badYear.ok ? undefined : badYear.error.rule).toBe('calendar.year');
      // An amended notice replaces the year only when asked to.
      const amended = calendar.withYear(
        2026,
        { source: 'amended', holidays: {}, workdays: [] },
        { replace: true },
      );
      expect(amended.ok && amended.value.isWorkingDay(date('2026-10-01'))).toBe(true);
    });
  });

  describe('properties', () => {
    const with2027 = calendar.withYear(2027, TEST_2027);
    const calendars = [calendar, ...(with2027.ok ? [with2027.value] : [])];
    const startArb = fc
      .integer({ min: date('2024-10-01').epochDay, max: date('2028-03-31').epochDay })
      .map(LocalDate.fromEpochDay);
    const countArb = fc.integer({ min: 1, max: 40 });

    it('adding a + b working days equals adding a then b', () => {
      fc.assert(
        fc.property(fc.constantFrom(...calendars), startArb, countArb, countArb, (cal, d, a, b) => {
          const whole = cal.addWorkingDays(d, a + b);
          const first = cal.addWorkingDays(d, a);
          const second = cal.addWorkingDays(first.lastDay, b);
          expect(whole.lastDay.equals(second.lastDay)).toBe(true);
          expect(whole.provisional).toBe(first.provisional || second.provisional);
        }),
      );
    });

    it('always ends on a working day, after the start, with workingDaysBetween agreeing', () => {
      fc.assert(
        fc.property(fc.constantFrom(...calendars), startArb, countArb, (cal, d, n) => {
          const { lastDay, deadline } = cal.addWorkingDays(d, n);
          expect(cal.isWorkingDay(lastDay)).toBe(true);
          expect(lastDay.isAfter(d)).toBe(true);
          expect(cal.workingDaysBetween(d, lastDay).count).toBe(n);
          expect(LocalDate.ofInstant(deadline).equals(lastDay.plusDays(1))).toBe(true);
        }),
      );
    });
  });
});
