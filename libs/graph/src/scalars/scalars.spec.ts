import { JurisdictionCode, LocalDate, Money, Quantity } from '@lianfang/domain-kernel';
import { GraphQLScalarType, parseValue } from 'graphql';
import { describeError } from '../errors/describe-error';
import {
  DateTimeScalar,
  JurisdictionCodeScalar,
  KilogramsScalar,
  LocalDateScalar,
  LogPositionScalar,
  MoneyScalar,
  PLATFORM_SCALARS,
} from './scalars';

/** The typed error a scalar throws for `input` (a variable value). */
function refusal(scalar: GraphQLScalarType, input: unknown) {
  try {
    scalar.parseValue(input);
  } catch (e) {
    return describeError(e);
  }
  throw new Error(`${scalar.name} accepted ${String(input)}`);
}

/** Same for a literal written in the query, e.g. `12` or `"12"`. */
function literalRefusal(scalar: GraphQLScalarType, literal: string) {
  try {
    scalar.parseLiteral(parseValue(literal), undefined);
  } catch (e) {
    return describeError(e);
  }
  throw new Error(`${scalar.name} accepted literal ${literal}`);
}

describe('platform scalars', () => {
  it('are all string-encoded and documented', () => {
    expect(PLATFORM_SCALARS.map((s) => s.name).sort()).toEqual(
      ['DateTime', 'JurisdictionCode', 'Kilograms', 'LocalDate', 'LogPosition', 'Money'].sort(),
    );
    for (const s of PLATFORM_SCALARS) expect(s.description?.length).toBeGreaterThan(20);
  });

  it('refuse numbers, in variables and in literals, naming the scalar and the rule', () => {
    for (const s of PLATFORM_SCALARS) {
      expect(refusal(s, 12)).toMatchObject({
        code: 'INPUT_INVALID',
        category: 'BAD_USER_INPUT',
        rule: `${s.name}.type`,
        details: { scalar: s.name },
      });
      const literal = literalRefusal(s, '12');
      expect(literal?.rule).toBe(`${s.name}.type`);
      expect(literal?.messages.en).toContain(s.name);
      expect(literal?.messages.zh).toContain(s.name);
    }
  });

  describe('Money (integer fen as a decimal string)', () => {
    it('parses fen exactly, beyond 2^53', () => {
      expect((MoneyScalar.parseValue('1234500') as Money).equals(Money.ofYuan('12345.00'))).toBe(true);
      expect((MoneyScalar.parseValue('-500') as Money).fen).toBe(-500n);
      expect((MoneyScalar.parseLiteral(parseValue('"9007199254740993"'), undefined) as Money).fen).toBe(
        9007199254740993n,
      );
    });

    it('serializes Money and bigint as the fen string', () => {
      expect(MoneyScalar.serialize(Money.ofYuan('150.05'))).toBe('15005');
      expect(MoneyScalar.serialize(12n)).toBe('12');
    });

    it.each(['12.50', '1e3', '007', ' 1', '', '-0', '1_000'])('refuses %p with Money.format', (input) => {
      expect(refusal(MoneyScalar, input)).toMatchObject({ rule: 'Money.format' });
    });

    it('does not serialize a float (a bug, not an input error)', () => {
      expect(() => MoneyScalar.serialize(12.5)).toThrow(TypeError);
    });
  });

  describe('Kilograms (exact decimal, up to 3 decimals)', () => {
    it('parses to an exact Quantity and serializes with 3 decimals', () => {
      const q = KilogramsScalar.parseValue('1234.5') as Quantity;
      expect(q.grams).toBe(1_234_500n);
      expect(KilogramsScalar.serialize(q)).toBe('1234.500');
      expect(KilogramsScalar.serialize(Quantity.ofKg('0.001'))).toBe('0.001');
    });

    it('refuses a 4th decimal (never rounds), a negative weight and a bad format', () => {
      expect(refusal(KilogramsScalar, '1.0001')).toMatchObject({ rule: 'Kilograms.precision' });
      expect(refusal(KilogramsScalar, '-1')).toMatchObject({ rule: 'Kilograms.negative' });
      expect(refusal(KilogramsScalar, '1,5')).toMatchObject({ rule: 'Kilograms.format' });
    });
  });

  describe('LogPosition (opaque string)', () => {
    it('round-trips a position exactly', () => {
      const p = { commit: 18446744073709551615n, position: 42n };
      const text = LogPositionScalar.serialize(p) as string;
      expect(LogPositionScalar.parseValue(text)).toEqual(p);
    });

    it('refuses anything the service did not hand out', () => {
      expect(refusal(LogPositionScalar, '12')).toMatchObject({ rule: 'LogPosition.format' });
      expect(refusal(LogPositionScalar, '-1:2')).toMatchObject({ rule: 'LogPosition.format' });
    });
  });

  describe('DateTime (ISO 8601 with an offset)', () => {
    it('parses offsets and serializes in UTC', () => {
      const d = DateTimeScalar.parseValue('2026-03-01T09:30:00+08:00') as Date;
      expect(d.toISOString()).toBe('2026-03-01T01:30:00.000Z');
      expect(DateTimeScalar.serialize(d)).toBe('2026-03-01T01:30:00.000Z');
      expect((DateTimeScalar.parseValue('2026-03-01T01:30:00.123Z') as Date).getTime()).toBe(
        Date.UTC(2026, 2, 1, 1, 30, 0, 123),
      );
    });

    it('refuses a time without an offset and an impossible date', () => {
      expect(refusal(DateTimeScalar, '2026-03-01T09:30:00')).toMatchObject({ rule: 'DateTime.format' });
      expect(refusal(DateTimeScalar, '2026-03-01')).toMatchObject({ rule: 'DateTime.format' });
      expect(refusal(DateTimeScalar, '2026-02-30T09:30:00Z')).toMatchObject({ rule: 'DateTime.invalid' });
    });
  });

  describe('LocalDate (YYYY-MM-DD)', () => {
    it('round-trips', () => {
      const d = LocalDateScalar.parseValue('2024-02-29') as LocalDate;
      expect(d.toString()).toBe('2024-02-29');
      expect(LocalDateScalar.serialize(d)).toBe('2024-02-29');
    });

    it('refuses a bad format and a date that does not exist', () => {
      expect(refusal(LocalDateScalar, '2024/02/29')).toMatchObject({ rule: 'LocalDate.format' });
      expect(refusal(LocalDateScalar, '2023-02-29')).toMatchObject({ rule: 'LocalDate.invalid' });
    });
  });

  describe('JurisdictionCode (GB/T 2260)', () => {
    it('round-trips', () => {
      const j = JurisdictionCodeScalar.parseValue('510100') as JurisdictionCode;
      expect(j.level).toBe('municipal');
      expect(JurisdictionCodeScalar.serialize(j)).toBe('510100');
    });

    it('refuses a bad format and an unknown province', () => {
      expect(refusal(JurisdictionCodeScalar, '5101')).toMatchObject({ rule: 'JurisdictionCode.format' });
      expect(refusal(JurisdictionCodeScalar, '990000')).toMatchObject({ rule: 'JurisdictionCode.province' });
    });
  });
});
