import { compareBigInt, formatScaled, parseScaledDecimal } from './decimal';
import { DomainValidationError, type Result, fail, ok, requireString, unwrap } from './validation';

const BASIS_POINTS = 10_000n;

/**
 * A weight: kilograms with exactly 3 decimals, held as an integer number of grams so that sums
 * of manifest weights compare exactly with an approved quantity. Never negative. Shown in tonnes.
 */
export class Quantity {
  static readonly ZERO = new Quantity(0n);

  private constructor(readonly grams: bigint) {
    Object.freeze(this);
  }

  /** Kilograms as a decimal string: '1234.5' → 1234.500 kg. More than 3 decimals is refused, not rounded. */
  static parse(input: string, field = 'quantity'): Result<Quantity> {
    return parseUnits(input, field, 3);
  }

  static parseOrThrow(input: string, field?: string): Quantity {
    return unwrap(Quantity.parse(input, field));
  }

  /** For trusted literals in code and tests: Quantity.ofKg('12.5'). Throws on bad input. */
  static ofKg(kg: string): Quantity {
    return Quantity.parseOrThrow(kg);
  }

  /** Tonnes as a decimal string with at most 6 decimals (a gram is 0.000001 t). */
  static fromTonnes(input: string, field = 'quantity'): Result<Quantity> {
    return parseUnits(input, field, 6);
  }

  static ofTonnes(tonnes: string): Quantity {
    return unwrap(Quantity.fromTonnes(tonnes));
  }

  /** From stored grams (e.g. a database bigint column). Throws for a negative or non-bigint value. */
  static fromGrams(grams: bigint): Quantity {
    if (typeof grams !== 'bigint') {
      throw new DomainValidationError(
        fail('quantity', 'quantity.type', { zh: '克数须为 bigint', en: 'grams must be a bigint' }, grams)
          .error,
      );
    }
    if (grams < 0n) throw new DomainValidationError(negative('quantity', formatScaled(grams, 3)).error);
    return grams === 0n ? Quantity.ZERO : new Quantity(grams);
  }

  static sum(quantities: Iterable<Quantity>): Quantity {
    let grams = 0n;
    for (const q of quantities) grams += q.grams;
    return Quantity.fromGrams(grams);
  }

  add(other: Quantity): Quantity {
    return new Quantity(this.grams + other.grams);
  }

  /** A weight cannot go below zero: taking more than there is is an error, reported as such. */
  subtract(other: Quantity, field = 'quantity'): Result<Quantity> {
    const grams = this.grams - other.grams;
    return grams < 0n ? negative(field, formatScaled(grams, 3)) : ok(Quantity.fromGrams(grams));
  }

  /** |this − other|, e.g. declared vs received weight on a manifest. */
  absoluteDifference(other: Quantity): Quantity {
    return Quantity.fromGrams(
      this.grams >= other.grams ? this.grams - other.grams : other.grams - this.grams,
    );
  }

  compare(other: Quantity): -1 | 0 | 1 {
    return compareBigInt(this.grams, other.grams);
  }

  isZero(): boolean {
    return this.grams === 0n;
  }

  isGreaterThan(other: Quantity): boolean {
    return this.grams > other.grams;
  }

  isLessThan(other: Quantity): boolean {
    return this.grams < other.grams;
  }

  min(other: Quantity): Quantity {
    return this.grams <= other.grams ? this : other;
  }

  max(other: Quantity): Quantity {
    return this.grams >= other.grams ? this : other;
  }

  /**
   * Compares this weight with `basisPoints`/10000 of `base` without dividing, so that
   * "more than 5% of the declared weight" is decided exactly: 500 basis points = 5%.
   * this × 10000 ⋛ base × basisPoints.
   */
  compareToShareOf(base: Quantity, basisPoints: bigint | number): -1 | 0 | 1 {
    return compareBigInt(this.grams * BASIS_POINTS, base.grams * toBasisPoints(basisPoints));
  }

  /** True when this weight is strictly more than `basisPoints`/10000 of `base` (500 = 5%). */
  exceedsShareOf(base: Quantity, basisPoints: bigint | number): boolean {
    return this.compareToShareOf(base, basisPoints) > 0;
  }

  /** '1234.500' */
  toKgString(): string {
    return formatScaled(this.grams, 3);
  }

  /** '1.234500': exact, since a gram is a millionth of a tonne. */
  toTonnesString(): string {
    return formatScaled(this.grams, 6);
  }

  equals(other: Quantity): boolean {
    return this.grams === other.grams;
  }

  toString(): string {
    return this.toKgString();
  }

  /** Events carry the kilogram string, which `parse` reads back exactly. */
  toJSON(): string {
    return this.toKgString();
  }
}

function toBasisPoints(value: bigint | number): bigint {
  if (typeof value === 'bigint' ? value < 0n : !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`basis points must be a non-negative integer, got ${String(value)}`);
  }
  return BigInt(value);
}

function negative(field: string, value: string) {
  return fail(field, 'quantity.negative', { zh: '重量不能为负数', en: 'a weight cannot be negative' }, value);
}

function parseUnits(input: string, field: string, scale: 3 | 6): Result<Quantity> {
  const notString = requireString(input, field, 'quantity');
  if (notString) return notString;
  const unit = scale === 3 ? { zh: '千克', en: 'kilograms' } : { zh: '吨', en: 'tonnes' };
  const parsed = parseScaledDecimal(input, scale, true);
  switch (parsed.kind) {
    case 'empty':
      return fail(field, 'quantity.required', { zh: '重量不能为空', en: 'a weight is required' }, input);
    case 'format':
      return fail(
        field,
        'quantity.format',
        {
          zh: `重量须为以${unit.zh}计的十进制数，如 1234.5（不带正负号、指数或空格）`,
          en: `a weight is a decimal number of ${unit.en}, e.g. 1234.5 (no sign, exponent or spaces)`,
        },
        input,
      );
    case 'precision':
      return fail(
        field,
        'quantity.precision',
        {
          zh: `以${unit.zh}计的重量最多保留${scale}位小数（不做四舍五入）`,
          en: `a weight in ${unit.en} has at most ${scale} decimals (it is not rounded)`,
        },
        input,
      );
    case 'ok':
      if (parsed.negative) return negative(field, input);
      // parsed.units counts 10^-scale of a unit: 10^-3 kg and 10^-6 t are both one gram.
      return ok(Quantity.fromGrams(parsed.units));
  }
}
