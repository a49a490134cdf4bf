// Working days in mainland China. The calendar is data (the State Council's yearly holiday notice),
// never logic: a new year is added with `withYear` when its notice is published.
import bundledHolidays from '../data/cn-holidays.json';
import { LocalDate } from './local-date';
import { DomainValidationError, type Failure, type Result, fail, ok } from './validation';

/** One year of a State Council notice, as stored in data/cn-holidays.json. */
export interface HolidayYearData {
  readonly source: string;
  /** Holiday name → the days off, weekend days inside the holiday included. */
  readonly holidays: Readonly<Record<string, readonly string[]>>;
  /** Weekend days declared working days (调休上班). */
  readonly workdays: readonly string[];
}

export interface HolidayCalendarData {
  readonly description?: string;
  readonly timezone: 'Asia/Shanghai';
  readonly years: Readonly<Record<string, HolidayYearData>>;
}

export interface DayStatus {
  readonly working: boolean;
  /** True when the day's year is not loaded, so it was judged Monday–Friday and may be wrong. */
  readonly provisional: boolean;
  /** The holiday's name when the day is a statutory day off. */
  readonly holiday?: string;
}

export interface WorkingDayDeadline {
  /** The last working day counted. */
  readonly lastDay: LocalDate;
  /** 24:00 of `lastDay` in Asia/Shanghai, i.e. 00:00 +08:00 of the next day. */
  readonly deadline: Date;
  /** True when any day counted or skipped lies in a year whose notice is not loaded. */
  readonly provisional: boolean;
}

interface YearRules {
  readonly source: string;
  /** epoch day → holiday name */
  readonly holidays: ReadonlyMap<number, string>;
  /** epoch days of 调休 working weekend days */
  readonly workdays: ReadonlySet<number>;
}

const TIMEZONE = 'Asia/Shanghai';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(field: string, rule: string, zh: string, en: string, value?: unknown): Failure {
  return fail(field, rule, { zh, en }, value);
}

function parseDateList(value: unknown, year: number, field: string): Result<LocalDate[]> {
  if (!Array.isArray(value)) {
    return invalid(field, 'calendar.dates', '须为日期列表', 'must be a list of dates', value);
  }
  const dates: LocalDate[] = [];
  for (const [i, item] of value.entries()) {
    const date = LocalDate.parse(item as string, `${field}[${i}]`);
    if (!date.ok) return date;
    if (date.value.year !== year) {
      return invalid(
        `${field}[${i}]`,
        'calendar.dateOutsideYear',
        '日期不在该年度内',
        'the date is not in this year',
        item,
      );
    }
    dates.push(date.value);
  }
  return ok(dates);
}

function parseYear(year: number, data: unknown, field: string): Result<YearRules> {
  if (!isRecord(data)) {
    return invalid(field, 'calendar.yearData', '年度数据须为对象', 'the year data must be an object', data);
  }
  const { source, holidays, workdays } = data;
  if (typeof source !== 'string' || source.trim() === '') {
    return invalid(
      `${field}.source`,
      'calendar.source',
      '须注明数据来源（国务院办公厅通知）',
      'must name its source (the State Council notice)',
      source,
    );
  }
  if (!isRecord(holidays)) {
    return invalid(
      `${field}.holidays`,
      'calendar.holidays',
      '须为“节日名称 → 日期列表”对象',
      'must be an object of holiday name → dates',
      holidays,
    );
  }
  const holidayDays = new Map<number, string>();
  for (const [name, dates] of Object.entries(holidays)) {
    const parsed = parseDateList(dates, year, `${field}.holidays.${name}`);
    if (!parsed.ok) return parsed;
    for (const date of parsed.value) holidayDays.set(date.epochDay, name);
  }
  const parsedWorkdays = parseDateList(workdays, year, `${field}.workdays`);
  if (!parsedWorkdays.ok) return parsedWorkdays;
  const workdayDays = new Set<number>();
  for (const [i, date] of parsedWorkdays.value.entries()) {
    // Monday–Friday are working days anyway; a listed weekday is a typo in the data.
    if (!date.isWeekend()) {
      return invalid(
        `${field}.workdays[${i}]`,
        'calendar.workdayNotWeekend',
        '调休上班日须为周六或周日',
        'a declared working day must be a Saturday or Sunday',
        date.toString(),
      );
    }
    if (holidayDays.has(date.epochDay)) {
      return invalid(
        `${field}.workdays[${i}]`,
        'calendar.conflict',
        '同一天不能既是假日又是调休上班日',
        'a day cannot be both a holiday and a declared working day',
        date.toString(),
      );
    }
    workdayDays.add(date.epochDay);
  }
  return ok({ source, holidays: holidayDays, workdays: workdayDays });
}

function parseYearKey(key: unknown, field: string): Result<number> {
  const text = typeof key === 'number' ? String(key) : key;
  if (typeof text !== 'string' || !/^\d{4}$/.test(text) || text === '0000') {
    return invalid(field, 'calendar.year', '年份须为4位数字', 'a year is 4 digits', key);
  }
  return ok(Number(text));
}

function positiveCount(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new DomainValidationError(
      invalid(
        'workingDays',
        'workingDays.count',
        '工作日数须为正整数',
        'the number of working days must be a positive integer',
        n,
      ).error,
    );
  }
}

function toLocalDate(value: Date | LocalDate): LocalDate {
  return value instanceof LocalDate ? value : LocalDate.ofInstant(value);
}

let defaultCalendar: WorkingDayCalendar | undefined;

/**
 * Counts working days in Asia/Shanghai: Monday–Friday, minus statutory holidays, plus the weekend
 * days declared working days. For a year whose notice is not loaded it falls back to
 * Monday–Friday and says so (`provisional`), rather than guessing the holidays.
 */
export class WorkingDayCalendar {
  private constructor(private readonly years: ReadonlyMap<number, YearRules>) {
    Object.freeze(this);
  }

  /** Validates data shaped like data/cn-holidays.json; the error names the offending field. */
  static load(json: unknown, field = 'calendar'): Result<WorkingDayCalendar> {
    if (!isRecord(json)) {
      return invalid(field, 'calendar.type', '日历数据须为对象', 'the calendar data must be an object');
    }
    if (json['timezone'] !== TIMEZONE) {
      return invalid(
        `${field}.timezone`,
        'calendar.timezone',
        '日历时区须为 Asia/Shanghai',
        'the calendar timezone must be Asia/Shanghai',
        json['timezone'],
      );
    }
    const years = json['years'];
    if (!isRecord(years)) {
      return invalid(
        `${field}.years`,
        'calendar.years',
        '须为“年份 → 年度数据”对象',
        'must be an object of year → data',
        years,
      );
    }
    const rules = new Map<number, YearRules>();
    for (const [key, data] of Object.entries(years)) {
      const year = parseYearKey(key, `${field}.years.${key}`);
      if (!year.ok) return year;
      const parsed = parseYear(year.value, data, `${field}.years.${key}`);
      if (!parsed.ok) return parsed;
      rules.set(year.value, parsed.value);
    }
    return ok(new WorkingDayCalendar(rules));
  }

  static loadOrThrow(json: unknown): WorkingDayCalendar {
    const result = WorkingDayCalendar.load(json);
    if (!result.ok) throw new DomainValidationError(result.error);
    return result.value;
  }

  /** The calendar bundled with the platform (data/cn-holidays.json). */
  static default(): WorkingDayCalendar {
    defaultCalendar ??= WorkingDayCalendar.loadOrThrow(bundledHolidays);
    return defaultCalendar;
  }

  /**
   * A new calendar with one more year (`data` shaped as HolidayYearData), when the State Council publishes its notice. A year already
   * loaded is refused unless `replace` is set (a notice can be amended, as in 2020).
   */
  withYear(
    year: number,
    data: unknown,
    options: { readonly replace?: boolean } = {},
  ): Result<WorkingDayCalendar> {
    const field = `calendar.years.${String(year)}`;
    const parsedYear = parseYearKey(year, field);
    if (!parsedYear.ok) return parsedYear;
    if (this.years.has(parsedYear.value) && !options.replace) {
      return invalid(field, 'calendar.yearLoaded', '该年度已加载', 'this year is already loaded', year);
    }
    const rules = parseYear(parsedYear.value, data, field);
    if (!rules.ok) return rules;
    return ok(new WorkingDayCalendar(new Map([...this.years, [parsedYear.value, rules.value]])));
  }

  get loadedYears(): readonly number[] {
    return [...this.years.keys()].sort((a, b) => a - b);
  }

  isYearLoaded(year: number): boolean {
    return this.years.has(year);
  }

  /** The notice a year's data came from. */
  sourceOf(year: number): string | undefined {
    return this.years.get(year)?.source;
  }

  dayStatus(date: LocalDate): DayStatus {
    const rules = this.years.get(date.year);
    if (!rules) return { working: !date.isWeekend(), provisional: true };
    const holiday = rules.holidays.get(date.epochDay);
    if (holiday !== undefined) return { working: false, provisional: false, holiday };
    if (rules.workdays.has(date.epochDay)) return { working: true, provisional: false };
    return { working: !date.isWeekend(), provisional: false };
  }

  isWorkingDay(date: LocalDate): boolean {
    return this.dayStatus(date).working;
  }

  /**
   * The deadline `n` working days after `from` (Civil Code Art 201): the day of the event is not
   * counted, counting starts the next day, and the period ends at 24:00 of the n-th working day.
   * An instant is first turned into its Asia/Shanghai date. `n` must be a positive integer
   * (throws otherwise: a period of zero working days has no meaning in the Measures).
   */
  addWorkingDays(from: Date | LocalDate, n: number): WorkingDayDeadline {
    positiveCount(n);
    let day = toLocalDate(from);
    let counted = 0;
    let provisional = false;
    while (counted < n) {
      day = day.plusDays(1);
      const status = this.dayStatus(day);
      provisional ||= status.provisional;
      if (status.working) counted += 1;
    }
    return { lastDay: day, deadline: day.plusDays(1).startInstant(), provisional };
  }

  /**
   * Working days after `from` up to and including `to`, counted as `addWorkingDays` does, so
   * workingDaysBetween(d, addWorkingDays(d, n).lastDay).count === n. Throws if `to` is before `from`.
   */
  workingDaysBetween(from: Date | LocalDate, to: Date | LocalDate): { count: number; provisional: boolean } {
    const start = toLocalDate(from);
    const end = toLocalDate(to);
    if (end.isBefore(start)) {
      throw new DomainValidationError(
        invalid(
          'workingDays',
          'workingDays.range',
          '结束日期早于开始日期',
          'the end date is before the start date',
          {
            from: start.toString(),
            to: end.toString(),
          },
        ).error,
      );
    }
    let count = 0;
    let provisional = false;
    for (let day = start.plusDays(1); !day.isAfter(end); day = day.plusDays(1)) {
      const status = this.dayStatus(day);
      provisional ||= status.provisional;
      if (status.working) count += 1;
    }
    return { count, provisional };
  }
}
