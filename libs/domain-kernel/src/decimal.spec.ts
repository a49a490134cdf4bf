import { divideRoundHalfUp, formatScaled, parseScaledDecimal } from './decimal';

describe('decimal helpers', () => {
  it.each([
    [5n, 2n, 3n],
    [-5n, 2n, -3n],
    [4n, 3n, 1n],
    [5n, 3n, 2n],
    [-4n, 3n, -1n],
    [-5n, 3n, -2n],
    [0n, 7n, 0n],
  ])('%s / %s rounds HALF-UP (away from zero) to %s', (n, d, expected) => {
    expect(divideRoundHalfUp(n, d)).toBe(expected);
  });

  it('refuses a non-positive denominator', () => {
    expect(() => divideRoundHalfUp(1n, 0n)).toThrow(RangeError);
  });

  it.each([
    [0n, 2, '0.00'],
    [-5n, 2, '-0.05'],
    [123456n, 3, '123.456'],
    [7n, 0, '7'],
  ])('formats %s at scale %i as %s', (units, scale, expected) => {
    expect(formatScaled(units, scale)).toBe(expected);
  });

  it('parses without rounding', () => {
    expect(parseScaledDecimal('1.5', 3, false)).toEqual({ kind: 'ok', negative: false, units: 1500n });
    expect(parseScaledDecimal('-1.5', 3, false)).toEqual({ kind: 'format' });
    expect(parseScaledDecimal('1.5555', 3, false)).toEqual({ kind: 'precision', decimals: 4 });
    expect(parseScaledDecimal('', 3, false)).toEqual({ kind: 'empty' });
  });
});
