import fc from 'fast-check';
import { LocalDate } from './local-date';
import { DomainValidationError } from './validation';

const date = LocalDate.parseOrThrow;
const MS_PER_DAY = 86_400_000;

describe('LocalDate', () => {
  it('parses a date and reads its parts', () => {
    const d = date('2026-09-23');
    expect([d.year, d.month, d.day]).toEqual([2026, 9, 23]);
    expect(d.toString()).toBe('2026-09-23');
    expect(JSON.stringify({ d })).toBe('{"d":"2026-09-23"}');
    expect(Object.isFrozen(d)).toBe(true);
  });

  it.each([
    ['1970-01-01', 0, 4],
    ['2026-09-23', 20_719, 3],
    ['2026-10-10', 20_736, 6],
    ['2026-09-27', 20_723, 7],
    ['2000-02-29', 11_016, 2],
    ['1969-12-31', -1, 3],
    ['0001-01-01', -719_162, 1],
  ])('%s is epoch day %i, ISO weekday %i', (input, epochDay, dayOfWeek) => {
    expect(date(input).epochDay).toBe(epochDay);
    expect(date(input).dayOfWeek).toBe(dayOfWeek);
    expect(LocalDate.fromEpochDay(epochDay).toString()).toBe(input);
  });

  it.each([
    ['2026-02-29', 'date.invalid'],
    ['2100-02-29', 'date.invalid'],
    ['2026-13-01', 'date.invalid'],
    ['2026-00-10', 'date.invalid'],
    ['2026-04-31', 'date.invalid'],
    ['0000-01-01', 'date.invalid'],
    ['2026-9-23', 'date.format'],
    ['2026/09/23', 'date.format'],
    ['2026-09-23T00:00', 'date.format'],
    ['', 'date.format'],
  ])('refuses %j with %s', (input, rule) => {
    const result = LocalDate.parse(input, 'requestedFrom');
    expect(result.ok ? undefined : result.error).toMatchObject({
      field: 'requestedFrom',
      rule,
      value: input,
    });
  });

  it('builds from parts and throws from parseOrThrow', () => {
    expect(LocalDate.of(2024, 2, 29).ok).toBe(true);
    expect(LocalDate.of(2023, 2, 29).ok).toBe(false);
    expect(() => date('x')).toThrow(DomainValidationError);
  });

  it('steps across months, years and leap days', () => {
    expect(date('2024-02-28').plusDays(1).toString()).toBe('2024-02-29');
    expect(date('2026-12-31').plusDays(1).toString()).toBe('2027-01-01');
    expect(date('2026-03-01').plusDays(-1).toString()).toBe('2026-02-28');
    expect(date('2026-09-23').daysUntil(date('2026-10-14'))).toBe(21);
    expect(() => date('2026-01-01').plusDays(0.5)).toThrow(RangeError);
  });

  it('compares', () => {
    expect(date('2026-01-01').compare(date('2026-01-02'))).toBe(-1);
    expect(date('2026-01-02').isAfter(date('2026-01-01'))).toBe(true);
    expect(date('2026-01-01').isBefore(date('2026-01-01'))).toBe(false);
    expect(date('2026-01-01').equals(date('2026-01-01'))).toBe(true);
    expect(date('2026-10-10').isWeekend()).toBe(true);
  });

  describe('Asia/Shanghai instants (UTC+8, no DST since 1991)', () => {
    it.each([
      ['2026-09-23T15:59:59.999Z', '2026-09-23'],
      ['2026-09-23T16:00:00.000Z', '2026-09-24'], // 00:00 in Shanghai
      ['2026-09-23T23:30:00Z', '2026-09-24'], // late evening UTC, next morning in Shanghai
      ['2026-09-23T00:00:00+08:00', '2026-09-23'],
      ['2026-12-31T16:00:00Z', '2027-01-01'],
      ['1969-12-31T16:00:00Z', '1970-01-01'],
      ['1969-12-31T15:59:59Z', '1969-12-31'],
    ])('%s is %s in Shanghai', (instant, expected) => {
      expect(LocalDate.ofInstant(new Date(instant)).toString()).toBe(expected);
    });

    it('starts a day at 00:00 +08:00', () => {
      expect(date('2026-10-15').startInstant().toISOString()).toBe('2026-10-14T16:00:00.000Z');
    });

    it('refuses an invalid Date', () => {
      expect(() => LocalDate.ofInstant(new Date('nope'))).toThrow(RangeError);
    });

    it('agrees with Intl for Asia/Shanghai on any instant from 1992 on', () => {
      const format = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' });
      fc.assert(
        fc.property(fc.integer({ min: Date.UTC(1992, 0, 1), max: Date.UTC(2100, 0, 1) }), (ms) => {
          expect(LocalDate.ofInstant(new Date(ms)).toString()).toBe(format.format(new Date(ms)));
        }),
      );
    });
  });

  describe('properties', () => {
    const epochDayArb = fc.integer({ min: -719_162, max: 2_932_896 });

    it('epoch day and civil date round-trip, and agree with Date.UTC', () => {
      fc.assert(
        fc.property(epochDayArb, (epochDay) => {
          const d = LocalDate.fromEpochDay(epochDay);
          expect(date(d.toString()).epochDay).toBe(epochDay);
          if (d.year >= 100) {
            const utc = new Date(epochDay * MS_PER_DAY);
            expect([utc.getUTCFullYear(), utc.getUTCMonth() + 1, utc.getUTCDate()]).toEqual([
              d.year,
              d.month,
              d.day,
            ]);
            expect(d.dayOfWeek % 7).toBe(utc.getUTCDay());
          }
        }),
      );
    });

    it('plusDays composes', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 50_000 }),
          fc.integer({ min: -500, max: 500 }),
          fc.integer({ min: -500, max: 500 }),
          (e, a, b) => {
            const d = LocalDate.fromEpochDay(e);
            expect(
              d
                .plusDays(a)
                .plusDays(b)
                .equals(d.plusDays(a + b)),
            ).toBe(true);
          },
        ),
      );
    });
  });
});
