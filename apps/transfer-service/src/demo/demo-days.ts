import { LocalDate, type WorkingDayCalendar } from '@lianfang/domain-kernel';

/** When a demo step happens: a business instant in the past, or `live` (the moment the seed runs it). */
export type When = Date | 'live';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/**
 * The demo's dates, relative to the day `npm start` first seeds: working days counted back with the
 * service's calendar (so "two working days ago" skips weekends and the State Council's holidays), and
 * instants at a time of day in Asia/Shanghai, where the region works.
 */
export class DemoDays {
  readonly today: LocalDate;

  constructor(
    readonly now: Date,
    private readonly calendar: WorkingDayCalendar,
  ) {
    this.today = LocalDate.ofInstant(now);
  }

  /** The k-th working day before today (k ≥ 1): today itself is never counted. */
  workingDaysAgo(k: number): LocalDate {
    if (!Number.isSafeInteger(k) || k < 1) throw new RangeError(`k must be a positive integer: ${k}`);
    let day = this.today;
    for (let found = 0; found < k;) {
      day = day.plusDays(-1);
      if (this.calendar.isWorkingDay(day)) found += 1;
    }
    return day;
  }

  /** The calendar day k days before today. */
  daysAgo(k: number): LocalDate {
    return this.today.plusDays(-k);
  }

  /** `hh:mm` on `day`, Asia/Shanghai. */
  at(day: LocalDate, time: string): Date {
    const match = /^(\d{2}):(\d{2})$/.exec(time);
    if (!match) throw new RangeError(`a time is hh:mm: ${time}`);
    return new Date(day.startInstant().getTime() + Number(match[1]) * HOUR_MS + Number(match[2]) * MINUTE_MS);
  }

  /** `hh:mm` on the k-th working day before today. */
  workingDayAt(k: number, time: string): Date {
    return this.at(this.workingDaysAgo(k), time);
  }

  /** `hh:mm` on the calendar day k days before today. */
  dayAt(k: number, time: string): Date {
    return this.at(this.daysAgo(k), time);
  }
}

/** The business instant of a step: a planned one as planned, a live one read from the clock now. */
export const instantOf = (when: When, clock: () => Date): Date => (when === 'live' ? clock() : when);
