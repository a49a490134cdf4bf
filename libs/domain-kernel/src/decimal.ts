// Exact decimal helpers shared by Quantity, Money and Rate. Internal: not exported from index.ts.
// Everything is bigint in units of 10^-scale, so no value ever passes through a binary float.

/** Plain decimal: digits, optionally a point and more digits. No sign, exponent, spaces or '_'. */
const UNSIGNED_DECIMAL = /^(\d+)(?:\.(\d+))?$/;

export type DecimalParse =
  | { readonly kind: 'ok'; readonly negative: boolean; readonly units: bigint }
  | { readonly kind: 'empty' }
  | { readonly kind: 'format' }
  | { readonly kind: 'precision'; readonly decimals: number };

/**
 * Parses `input` into an integer count of 10^-scale units. Refuses more decimals than `scale`
 * rather than rounding: a weight or amount that cannot be represented exactly is an input error.
 */
export function parseScaledDecimal(input: string, scale: number, allowNegative: boolean): DecimalParse {
  if (input.length === 0) return { kind: 'empty' };
  const negative = allowNegative && input.startsWith('-');
  const body = negative ? input.slice(1) : input;
  const match = UNSIGNED_DECIMAL.exec(body);
  if (match === null) return { kind: 'format' };
  const fraction = match[2] ?? '';
  if (fraction.length > scale) return { kind: 'precision', decimals: fraction.length };
  const units = BigInt(match[1] + fraction.padEnd(scale, '0'));
  return { kind: 'ok', negative, units: negative ? -units : units };
}

export function pow10(exponent: number): bigint {
  return 10n ** BigInt(exponent);
}

/** Formats an integer count of 10^-scale units as a fixed-point decimal string: (-5n, 2) → "-0.05". */
export function formatScaled(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  return `${negative ? '-' : ''}${whole}${scale > 0 ? `.${fraction}` : ''}`;
}

/**
 * numerator / denominator rounded to the nearest integer, halves away from zero (HALF-UP as a
 * cashier rounds: 0.5 fen → 1 fen, -0.5 fen → -1 fen). `denominator` must be positive.
 */
export function divideRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError('denominator must be positive');
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  let quotient = magnitude / denominator;
  if ((magnitude % denominator) * 2n >= denominator) quotient += 1n;
  return negative ? -quotient : quotient;
}

export function compareBigInt(a: bigint, b: bigint): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}
