import fc from 'fast-check';
import { Quantity } from './quantity';
import { DomainValidationError } from './validation';

const kg = Quantity.ofKg;
/** Weights up to 10^12 kg in grams: far beyond any shipment, and beyond 2^53 when summed. */
const quantityArb = fc.bigInt({ min: 0n, max: 10n ** 15n }).map((g) => Quantity.fromGrams(g));

describe('Quantity', () => {
  it.each([
    ['1234.5', 1_234_500n, '1234.500', '1.234500'],
    ['1234.567', 1_234_567n, '1234.567', '1.234567'],
    ['0', 0n, '0.000', '0.000000'],
    ['0.001', 1n, '0.001', '0.000001'],
    ['007.5', 7_500n, '7.500', '0.007500'],
    ['12', 12_000n, '12.000', '0.012000'],
    ['9007199254740993', 9_007_199_254_740_993_000n, '9007199254740993.000', '9007199254740.993000'],
  ])('parses %j kg exactly', (input, grams, kgString, tonnes) => {
    const q = kg(input);
    expect(q.grams).toBe(grams);
    expect(q.toKgString()).toBe(kgString);
    expect(q.toTonnesString()).toBe(tonnes);
  });

  it.each([
    ['1.2345', 'quantity.precision'],
    ['1.2500', 'quantity.precision'],
    ['-1', 'quantity.negative'],
    ['-0', 'quantity.negative'],
    ['+1', 'quantity.format'],
    ['1e3', 'quantity.format'],
    ['1E3', 'quantity.format'],
    ['NaN', 'quantity.format'],
    ['Infinity', 'quantity.format'],
    ['.5', 'quantity.format'],
    ['5.', 'quantity.format'],
    ['1,000', 'quantity.format'],
    ['1_000', 'quantity.format'],
    [' 1', 'quantity.format'],
    ['0x10', 'quantity.format'],
    ['', 'quantity.required'],
  ])('refuses %j with %s, naming the field', (input, rule) => {
    const result = Quantity.parse(input, 'receivedWeight');
    expect(result.ok ? undefined : result.error).toMatchObject({
      field: 'receivedWeight',
      rule,
      value: input,
    });
  });

  it('refuses a JS number at runtime (the parameter is typed string)', () => {
    const result = Quantity.parse(1.5 as unknown as string);
    expect(result.ok ? undefined : result.error).toMatchObject({ field: 'quantity', rule: 'quantity.type' });
  });

  it('ofKg throws a DomainValidationError on bad input', () => {
    expect(() => kg('1.0001')).toThrow(DomainValidationError);
  });

  it('converts from tonnes with up to 6 decimals', () => {
    expect(Quantity.ofTonnes('1.234567').toKgString()).toBe('1234.567');
    expect(Quantity.ofTonnes('2').toKgString()).toBe('2000.000');
    const tooPrecise = Quantity.fromTonnes('1.2345678', 'approvedTonnes');
    expect(tooPrecise.ok ? undefined : tooPrecise.error).toMatchObject({
      field: 'approvedTonnes',
      rule: 'quantity.precision',
    });
  });

  it('builds from grams and refuses negative grams', () => {
    expect(Quantity.fromGrams(1500n).toKgString()).toBe('1.500');
    expect(() => Quantity.fromGrams(-1n)).toThrow(DomainValidationError);
    expect(() => Quantity.fromGrams(1 as unknown as bigint)).toThrow(DomainValidationError);
  });

  it('adds, subtracts, compares', () => {
    expect(kg('1.5').add(kg('2.25')).toKgString()).toBe('3.750');
    const rest = kg('10').subtract(kg('2.5'));
    expect(rest.ok && rest.value.toKgString()).toBe('7.500');
    expect(kg('1').compare(kg('1.000'))).toBe(0);
    expect(kg('1').compare(kg('1.001'))).toBe(-1);
    expect(kg('2').compare(kg('1.999'))).toBe(1);
    expect(kg('2').isGreaterThan(kg('1'))).toBe(true);
    expect(kg('2').isLessThan(kg('1'))).toBe(false);
    expect(kg('0.000').isZero()).toBe(true);
    expect(Quantity.ZERO.isZero()).toBe(true);
    expect(kg('3').min(kg('2')).toKgString()).toBe('2.000');
    expect(kg('3').max(kg('2')).toKgString()).toBe('3.000');
    expect(kg('3').absoluteDifference(kg('5.5')).toKgString()).toBe('2.500');
  });

  it('refuses to subtract below zero, naming the field', () => {
    const result = kg('1').subtract(kg('1.001'), 'remainingQuantity');
    expect(result.ok ? undefined : result.error).toMatchObject({
      field: 'remainingQuantity',
      rule: 'quantity.negative',
      value: '-0.001',
    });
  });

  it('sums exactly where floats would not', () => {
    expect(Quantity.sum([kg('0.1'), kg('0.2')]).equals(kg('0.3'))).toBe(true);
    expect(Quantity.sum([]).isZero()).toBe(true);
  });

  it('compares a difference with a percentage of a base exactly (discrepancy tolerance)', () => {
    const declared = kg('2000');
    // 5% of 2000 kg is exactly 100 kg: 100 kg is not *more than* 5%, 100.001 kg is.
    expect(kg('100').exceedsShareOf(declared, 500)).toBe(false);
    expect(kg('100').compareToShareOf(declared, 500n)).toBe(0);
    expect(kg('100.001').exceedsShareOf(declared, 500)).toBe(true);
    expect(kg('99.999').compareToShareOf(declared, 500)).toBe(-1);
    // 5% of 1.001 kg is 0.05005 kg, not a whole gram: still decided exactly.
    expect(kg('0.050').exceedsShareOf(kg('1.001'), 500)).toBe(false);
    expect(kg('0.051').exceedsShareOf(kg('1.001'), 500)).toBe(true);
    expect(() => kg('1').exceedsShareOf(declared, 5.5)).toThrow(RangeError);
    expect(() => kg('1').exceedsShareOf(declared, -1)).toThrow(RangeError);
  });

  it('is a frozen value serialised as its kg string', () => {
    const q = kg('1234.5');
    expect(JSON.stringify({ weight: q })).toBe('{"weight":"1234.500"}');
    expect(String(q)).toBe('1234.500');
    expect(Object.isFrozen(q)).toBe(true);
  });

  describe('properties', () => {
    it('add is commutative and associative', () => {
      fc.assert(
        fc.property(quantityArb, quantityArb, quantityArb, (a, b, c) => {
          expect(a.add(b).equals(b.add(a))).toBe(true);
          expect(
            a
              .add(b)
              .add(c)
              .equals(a.add(b.add(c))),
          ).toBe(true);
        }),
      );
    });

    it('add then subtract is the identity', () => {
      fc.assert(
        fc.property(quantityArb, quantityArb, (a, b) => {
          const back = a.add(b).subtract(b);
          expect(back.ok && back.value.equals(a)).toBe(true);
        }),
      );
    });

    it('parse(toKgString) and fromTonnes(toTonnesString) round-trip', () => {
      fc.assert(
        fc.property(quantityArb, (q) => {
          expect(Quantity.parseOrThrow(q.toKgString()).equals(q)).toBe(true);
          expect(Quantity.ofTonnes(q.toTonnesString()).equals(q)).toBe(true);
          expect(Quantity.parseOrThrow(JSON.parse(JSON.stringify(q)) as string).equals(q)).toBe(true);
        }),
      );
    });

    it('parses any decimal with at most 3 decimals to the same digits', () => {
      fc.assert(
        fc.property(fc.stringMatching(/^[1-9]\d{0,20}\.\d{3}$/), (s) => {
          expect(Quantity.parseOrThrow(s).toKgString()).toBe(s);
        }),
      );
    });

    it('sum equals the fold of add', () => {
      fc.assert(
        fc.property(fc.array(quantityArb, { maxLength: 30 }), (list) => {
          const folded = list.reduce((acc, q) => acc.add(q), Quantity.ZERO);
          expect(Quantity.sum(list).equals(folded)).toBe(true);
        }),
      );
    });

    it('subtract fails exactly when the result would be negative', () => {
      fc.assert(
        fc.property(quantityArb, quantityArb, (a, b) => {
          expect(a.subtract(b).ok).toBe(a.compare(b) >= 0);
        }),
      );
    });
  });
});
