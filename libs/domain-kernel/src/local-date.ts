import { type Result, fail, ok, requireString, unwrap } from './validation';

const MS_PER_DAY = 86_400_000;
/**
 * Asia/Shanghai is UTC+8 all year: China has observed no daylight saving time since 1991, so a
 * fixed offset is exact for every instant the platform handles and needs no timezone database.
 */
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
const MIN_EPOCH_DAY = daysFromCivil(1, 1, 1);
const MAX_EPOCH_DAY = daysFromCivil(9999, 12, 31);

/** ISO day of week: 1 Monday … 6 Saturday, 7 Sunday. */
export type DayOfWeek = 1 | 2 | 3 | 4 | 5 | 6 | 7;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

// Days since 1970-01-01 in the proleptic Gregorian calendar, by integer arithmetic only
// (H. Hinnant's days_from_civil), so no Date object and no host timezone is involved.
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function civilFromDays(epochDay: number): [number, number, number] {
  const z = epochDay + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

function pad(value: number, width: number): string {
  return value.toString().padStart(width, '0');
}

/** A calendar date as people in China read it (Asia/Shanghai), without a time or an offset. */
export class LocalDate {
  private constructor(
    readonly year: number,
    readonly month: number,
    readonly day: number,
    /** Days since 1970-01-01: dates compare and step as plain integers. */
    readonly epochDay: number,
  ) {
    Object.freeze(this);
  }

  /** 'YYYY-MM-DD', a real Gregorian date in years 0001–9999. */
  static parse(input: string, field = 'date'): Result<LocalDate> {
    const notString = requireString(input, field, 'date');
    if (notString) return notString;
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(input);
    if (match === null) {
      return fail(
        field,
        'date.format',
        { zh: '日期格式须为 YYYY-MM-DD', en: 'a date is written YYYY-MM-DD' },
        input,
      );
    }
    return LocalDate.build(Number(match[1]), Number(match[2]), Number(match[3]), field, input);
  }

  static parseOrThrow(input: string, field?: string): LocalDate {
    return unwrap(LocalDate.parse(input, field));
  }

  static of(year: number, month: number, day: number, field = 'date'): Result<LocalDate> {
    return LocalDate.build(year, month, day, field, undefined);
  }

  private static build(
    year: number,
    month: number,
    day: number,
    field: string,
    value: unknown,
  ): Result<LocalDate> {
    const valid =
      Number.isInteger(year) &&
      Number.isInteger(month) &&
      Number.isInteger(day) &&
      year >= 1 &&
      year <= 9999 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= daysInMonth(year, month);
    if (!valid) {
      return fail(
        field,
        'date.invalid',
        { zh: '日期不存在', en: 'no such calendar date' },
        value ?? `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`,
      );
    }
    return ok(new LocalDate(year, month, day, daysFromCivil(year, month, day)));
  }

  static fromEpochDay(epochDay: number): LocalDate {
    if (!Number.isSafeInteger(epochDay) || epochDay < MIN_EPOCH_DAY || epochDay > MAX_EPOCH_DAY) {
      throw new RangeError(`epoch day out of range: ${epochDay}`);
    }
    const [year, month, day] = civilFromDays(epochDay);
    return new LocalDate(year, month, day, epochDay);
  }

  /** The date in Asia/Shanghai at `instant`: 2026-09-23T17:00Z is already 2026-09-24 there. */
  static ofInstant(instant: Date): LocalDate {
    const ms = instant.getTime();
    if (!Number.isFinite(ms)) throw new RangeError('invalid Date');
    const shifted = ms + SHANGHAI_OFFSET_MS;
    // Floor division kept exact: subtract the non-negative remainder first, then divide.
    const remainder = ((shifted % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY;
    return LocalDate.fromEpochDay((shifted - remainder) / MS_PER_DAY);
  }

  /** 00:00 of this date in Asia/Shanghai as an instant (= 24:00 of the day before). */
  startInstant(): Date {
    return new Date(this.epochDay * MS_PER_DAY - SHANGHAI_OFFSET_MS);
  }

  plusDays(days: number): LocalDate {
    if (!Number.isSafeInteger(days)) throw new RangeError(`days must be an integer: ${days}`);
    return LocalDate.fromEpochDay(this.epochDay + days);
  }

  /** ISO: 1 Monday … 7 Sunday. 1970-01-01 (epoch day 0) was a Thursday. */
  get dayOfWeek(): DayOfWeek {
    return (((((this.epochDay + 3) % 7) + 7) % 7) + 1) as DayOfWeek;
  }

  isWeekend(): boolean {
    return this.dayOfWeek >= 6;
  }

  /** Whole days from this date to `other` (negative when `other` is earlier). */
  daysUntil(other: LocalDate): number {
    return other.epochDay - this.epochDay;
  }

  compare(other: LocalDate): -1 | 0 | 1 {
    return this.epochDay < other.epochDay ? -1 : this.epochDay > other.epochDay ? 1 : 0;
  }

  isBefore(other: LocalDate): boolean {
    return this.epochDay < other.epochDay;
  }

  isAfter(other: LocalDate): boolean {
    return this.epochDay > other.epochDay;
  }

  equals(other: LocalDate): boolean {
    return this.epochDay === other.epochDay;
  }

  toString(): string {
    return `${pad(this.year, 4)}-${pad(this.month, 2)}-${pad(this.day, 2)}`;
  }

  toJSON(): string {
    return this.toString();
  }
}
