import { compareBigInt, divideRoundHalfUp, formatScaled, parseScaledDecimal, pow10 } from './decimal';
import type { Quantity } from './quantity';
import { DomainValidationError, type Result, fail, ok, requireString, unwrap } from './validation';

const GRAMS_PER_TONNE = 1_000_000n;
const FEN_PER_YUAN = 100n;

/**
 * An exact non-negative decimal used as a multiplier: a compensation rate in yuan per tonne
 * ('150.00') or a share of an amount ('0.1'). Value = numerator / 10^scale, kept as written.
 */
export class Rate {
  private constructor(
    readonly numerator: bigint,
    readonly scale: number,
  ) {
    Object.freeze(this);
  }

  static parse(input: string, field = 'rate'): Result<Rate> {
    const notString = requireString(input, field, 'rate');
    if (notString) return notString;
    // Any number of decimals is exact here; the scale is simply the count of decimals written.
    const decimals = input.indexOf('.') < 0 ? 0 : input.length - input.indexOf('.') - 1;
    const parsed = parseScaledDecimal(input, decimals, false);
    if (parsed.kind !== 'ok') {
      return fail(
        field,
        'rate.format',
        {
          zh: '费率或份额须为非负十进制数，如 150.00 或 0.1（不带正负号、指数或空格）',
          en: 'a rate or share is a non-negative decimal, e.g. 150.00 or 0.1 (no sign, exponent or spaces)',
        },
        input,
      );
    }
    return ok(new Rate(parsed.units, decimals));
  }

  static parseOrThrow(input: string, field?: string): Rate {
    return unwrap(Rate.parse(input, field));
  }

  static of(input: string): Rate {
    return Rate.parseOrThrow(input);
  }

  get denominator(): bigint {
    return pow10(this.scale);
  }

  isZero(): boolean {
    return this.numerator === 0n;
  }

  /** Compares values, not spellings: '0.10' equals '0.1'. */
  compare(other: Rate): -1 | 0 | 1 {
    return compareBigInt(this.numerator * other.denominator, other.numerator * this.denominator);
  }

  equals(other: Rate): boolean {
    return this.compare(other) === 0;
  }

  /** As written: '150.00' stays '150.00'. */
  toString(): string {
    return formatScaled(this.numerator, this.scale);
  }

  toJSON(): string {
    return this.toString();
  }
}

/**
 * An amount in Chinese yuan (CNY, the only currency compensation is paid in), held as an integer
 * number of fen. May be negative: a later statement's adjustment line can take money back.
 */
export class Money {
  static readonly ZERO = new Money(0n);
  readonly currency = 'CNY' as const;

  private constructor(readonly fen: bigint) {
    Object.freeze(this);
  }

  /** Yuan as a decimal string with at most 2 decimals: '150.00', '150', '-0.05'. Not rounded. */
  static parse(input: string, field = 'amount'): Result<Money> {
    const notString = requireString(input, field, 'money');
    if (notString) return notString;
    const parsed = parseScaledDecimal(input, 2, true);
    switch (parsed.kind) {
      case 'empty':
        return fail(field, 'money.required', { zh: '金额不能为空', en: 'an amount is required' }, input);
      case 'format':
        return fail(
          field,
          'money.format',
          {
            zh: '金额须为以元计的十进制数，如 150.00（不带指数、空格或货币符号）',
            en: 'an amount is a decimal number of yuan, e.g. 150.00 (no exponent, spaces or currency sign)',
          },
          input,
        );
      case 'precision':
        return fail(
          field,
          'money.precision',
          { zh: '金额最多保留2位小数（精确到分）', en: 'an amount has at most 2 decimals (fen)' },
          input,
        );
      case 'ok':
        return ok(Money.fromFen(parsed.units));
    }
  }

  static parseOrThrow(input: string, field?: string): Money {
    return unwrap(Money.parse(input, field));
  }

  /** For trusted literals in code and tests: Money.ofYuan('150.00'). Throws on bad input. */
  static ofYuan(yuan: string): Money {
    return Money.parseOrThrow(yuan);
  }

  static fromFen(fen: bigint): Money {
    if (typeof fen !== 'bigint') {
      throw new DomainValidationError(
        fail('amount', 'money.type', { zh: '分数须为 bigint', en: 'fen must be a bigint' }, fen).error,
      );
    }
    return fen === 0n ? Money.ZERO : new Money(fen);
  }

  static sum(amounts: Iterable<Money>): Money {
    let fen = 0n;
    for (const m of amounts) fen += m.fen;
    return Money.fromFen(fen);
  }

  /**
   * Compensation for a received weight: `rate` yuan per tonne × `quantity`, rounded to the fen
   * HALF-UP (an exact half fen goes away from zero). The exact product is
   * rate.numerator × grams × 100 / (10^rate.scale × 10^6) fen, computed in bigint and rounded once.
   */
  static perTonne(rate: Rate, quantity: Quantity): Money {
    return Money.fromFen(
      divideRoundHalfUp(rate.numerator * quantity.grams * FEN_PER_YUAN, rate.denominator * GRAMS_PER_TONNE),
    );
  }

  add(other: Money): Money {
    return Money.fromFen(this.fen + other.fen);
  }

  subtract(other: Money): Money {
    return Money.fromFen(this.fen - other.fen);
  }

  negate(): Money {
    return Money.fromFen(-this.fen);
  }

  /** This amount × `rate`, rounded to the fen HALF-UP (halves away from zero). */
  times(rate: Rate): Money {
    return Money.fromFen(divideRoundHalfUp(this.fen * rate.numerator, rate.denominator));
  }

  /**
   * Splits this amount by `shares` (which must add up to exactly 1, e.g. '0.1' and '0.9') so that
   * the parts add up to exactly this amount. Largest remainder: every part gets its share rounded
   * towards zero, then the fen left over go one each to the parts with the largest remainders,
   * the earlier share first on a tie, so the same input always splits the same way.
   */
  allocate(shares: readonly Rate[], field = 'shares'): Result<readonly Money[]> {
    if (shares.length === 0) {
      return fail(field, 'money.allocation.empty', {
        zh: '至少需要一个份额',
        en: 'at least one share is needed',
      });
    }
    const scale = Math.max(...shares.map((s) => s.scale));
    const whole = pow10(scale);
    // All shares over the common denominator 10^scale.
    const numerators = shares.map((s) => s.numerator * pow10(scale - s.scale));
    const total = numerators.reduce((a, b) => a + b, 0n);
    if (total !== whole) {
      return fail(
        field,
        'money.allocation.sharesSum',
        { zh: '各份额之和须恰好为 1', en: 'the shares must add up to exactly 1' },
        shares.map((s) => s.toString()),
      );
    }
    // Split the magnitude, then restore the sign, so a negative adjustment splits symmetrically.
    const negative = this.fen < 0n;
    const magnitude = negative ? -this.fen : this.fen;
    const parts = numerators.map((n) => (magnitude * n) / whole);
    const remainders = numerators.map((n) => (magnitude * n) % whole);
    let leftover = magnitude - parts.reduce((a, b) => a + b, 0n);
    const order = remainders
      .map((remainder, index) => ({ remainder, index }))
      .sort((a, b) => compareBigInt(b.remainder, a.remainder) || a.index - b.index);
    for (const { index } of order) {
      if (leftover === 0n) break;
      parts[index] += 1n;
      leftover -= 1n;
    }
    return ok(Object.freeze(parts.map((fen) => Money.fromFen(negative ? -fen : fen))));
  }

  allocateOrThrow(shares: readonly Rate[]): readonly Money[] {
    return unwrap(this.allocate(shares));
  }

  compare(other: Money): -1 | 0 | 1 {
    return compareBigInt(this.fen, other.fen);
  }

  isZero(): boolean {
    return this.fen === 0n;
  }

  isNegative(): boolean {
    return this.fen < 0n;
  }

  isPositive(): boolean {
    return this.fen > 0n;
  }

  /** '150.00', '-0.05' */
  toYuanString(): string {
    return formatScaled(this.fen, 2);
  }

  /** '15000' */
  toFenString(): string {
    return this.fen.toString();
  }

  equals(other: Money): boolean {
    return this.fen === other.fen;
  }

  toString(): string {
    return this.toYuanString();
  }

  /** Events carry the yuan string, which `parse` reads back exactly. */
  toJSON(): string {
    return this.toYuanString();
  }
}
