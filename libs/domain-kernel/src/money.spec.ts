import fc from 'fast-check';
import { Money, Rate } from './money';
import { Quantity } from './quantity';
import { DomainValidationError } from './validation';

const yuan = Money.ofYuan;
const rate = Rate.of;
const kg = Quantity.ofKg;

/** A rate like '150.00' or '0.0375': up to 12 integer digits and 0–6 decimals. */
const rateArb = fc
  .tuple(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.integer({ min: 0, max: 6 }))
  .map(([n, scale]) => {
    const digits = n.toString().padStart(scale + 1, '0');
    return rate(scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`);
  });
const quantityArb = fc.bigInt({ min: 0n, max: 10n ** 13n }).map((g) => Quantity.fromGrams(g));
const moneyArb = fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }).map((f) => Money.fromFen(f));

/** Shares that add up to exactly 1: random weights at a common scale, the last one takes the rest. */
const sharesArb = fc
  .tuple(fc.integer({ min: 0, max: 4 }), fc.array(fc.nat(1000), { minLength: 0, maxLength: 6 }))
  .map(([scale, cuts]) => {
    const whole = 10n ** BigInt(scale);
    const parts: bigint[] = [];
    let left = whole;
    for (const cut of cuts) {
      const part = (BigInt(cut) * left) / 1000n;
      parts.push(part);
      left -= part;
    }
    parts.push(left);
    return parts.map((p) =>
      rate(scale === 0 ? p.toString() : `${p / whole}.${(p % whole).toString().padStart(scale, '0')}`),
    );
  });

describe('Rate', () => {
  it('keeps the decimal exactly as written', () => {
    const r = rate('150.00');
    expect(r.numerator).toBe(15000n);
    expect(r.scale).toBe(2);
    expect(r.denominator).toBe(100n);
    expect(r.toString()).toBe('150.00');
    expect(JSON.stringify(r)).toBe('"150.00"');
    expect(rate('0.1').equals(rate('0.10'))).toBe(true);
    expect(rate('0.1').compare(rate('0.09'))).toBe(1);
    expect(rate('0').isZero()).toBe(true);
  });

  it.each(['-1', '+1', '1e2', '', '.1', '1.', 'abc', '1 '])('refuses %j', (input) => {
    const result = Rate.parse(input, 'ratePerTonne');
    expect(result.ok ? undefined : result.error).toMatchObject({
      field: 'ratePerTonne',
      rule: 'rate.format',
    });
  });
});

describe('Money', () => {
  it.each([
    ['150.00', 15000n, '150.00'],
    ['150', 15000n, '150.00'],
    ['150.5', 15050n, '150.50'],
    ['0.05', 5n, '0.05'],
    ['-0.05', -5n, '-0.05'],
    ['-12.3', -1230n, '-12.30'],
    ['0', 0n, '0.00'],
  ])('parses %j yuan', (input, fen, yuanString) => {
    const m = yuan(input);
    expect(m.fen).toBe(fen);
    expect(m.toYuanString()).toBe(yuanString);
    expect(m.toFenString()).toBe(fen.toString());
    expect(m.currency).toBe('CNY');
  });

  it.each([
    ['1.005', 'money.precision'],
    ['1.000', 'money.precision'],
    ['1e2', 'money.format'],
    ['+1', 'money.format'],
    ['¥1', 'money.format'],
    ['1,000.00', 'money.format'],
    ['-', 'money.format'],
    ['NaN', 'money.format'],
    ['', 'money.required'],
  ])('refuses %j with %s', (input, rule) => {
    const result = Money.parse(input, 'lines[2].amount');
    expect(result.ok ? undefined : result.error).toMatchObject({
      field: 'lines[2].amount',
      rule,
      value: input,
    });
  });

  it('refuses a JS number at runtime and throws from ofYuan', () => {
    const result = Money.parse(150 as unknown as string);
    expect(result.ok ? undefined : result.error).toMatchObject({ field: 'amount', rule: 'money.type' });
    expect(() => yuan('0.001')).toThrow(DomainValidationError);
    expect(() => Money.fromFen(1 as unknown as bigint)).toThrow(DomainValidationError);
  });

  it('adds, subtracts below zero, negates and compares', () => {
    expect(yuan('0.1').add(yuan('0.2')).equals(yuan('0.3'))).toBe(true);
    const adjustment = yuan('100').subtract(yuan('100.05'));
    expect(adjustment.isNegative()).toBe(true);
    expect(adjustment.toYuanString()).toBe('-0.05');
    expect(adjustment.negate().toYuanString()).toBe('0.05');
    expect(yuan('1').compare(yuan('1.00'))).toBe(0);
    expect(yuan('-1').compare(yuan('0'))).toBe(-1);
    expect(yuan('1').isPositive()).toBe(true);
    expect(Money.ZERO.isZero()).toBe(true);
    expect(Money.sum([yuan('1.10'), yuan('-0.10'), yuan('2')]).toYuanString()).toBe('3.00');
  });

  it('serialises as its yuan string', () => {
    expect(JSON.stringify({ amount: yuan('-0.05') })).toBe('{"amount":"-0.05"}');
    expect(Object.isFrozen(yuan('1'))).toBe(true);
  });

  describe('perTonne', () => {
    it.each([
      // Beijing's reference rates: 100 and 150 yuan per tonne.
      ['150.00', '1000', '150.00'],
      ['150.00', '2500.5', '375.08'], // 375.075 yuan: exactly half a fen, rounds up
      ['100', '0.001', '0.00'], // 0.0001 yuan = 0.01 fen: rounds down
      ['100', '0.05', '0.01'], // 0.005 yuan = exactly half a fen: rounds up
      ['100', '0.049', '0.00'], // 0.49 fen: rounds down
      ['150.00', '0.033', '0.00'], // 0.495 fen: rounds down
      ['150.00', '0.034', '0.01'], // 0.51 fen: rounds up
      ['33.33', '3', '0.10'], // 0.09999 yuan = 9.999 fen
      ['0', '1234.567', '0.00'],
    ])('%s yuan/t × %s kg = %s yuan (HALF-UP to the fen)', (r, q, expected) => {
      expect(Money.perTonne(rate(r), kg(q)).toYuanString()).toBe(expected);
    });
  });

  describe('times', () => {
    it('multiplies by a share and rounds HALF-UP, away from zero for negatives', () => {
      expect(yuan('150.00').times(rate('0.1')).toYuanString()).toBe('15.00');
      expect(yuan('0.05').times(rate('0.5')).toYuanString()).toBe('0.03'); // 2.5 fen → 3
      expect(yuan('-0.05').times(rate('0.5')).toYuanString()).toBe('-0.03'); // -2.5 fen → -3
      expect(yuan('0.05').times(rate('0.49')).toYuanString()).toBe('0.02'); // 2.45 fen → 2
    });
  });

  describe('allocate', () => {
    it('splits 10/90 between transfer-station and facility districts', () => {
      const parts = yuan('150.00').allocateOrThrow([rate('0.1'), rate('0.9')]);
      expect(parts.map((p) => p.toYuanString())).toEqual(['15.00', '135.00']);
    });

    it('gives leftover fen to the largest remainders, the earlier share on a tie', () => {
      const thirds = [rate('0.3334'), rate('0.3333'), rate('0.3333')];
      expect(yuan('1.00').allocateOrThrow(thirds).map(String)).toEqual(['0.34', '0.33', '0.33']);
      const halves = [rate('0.5'), rate('0.5')];
      expect(yuan('0.01').allocateOrThrow(halves).map(String)).toEqual(['0.01', '0.00']);
      expect(yuan('0.03').allocateOrThrow(halves).map(String)).toEqual(['0.02', '0.01']);
      expect(yuan('-0.03').allocateOrThrow(halves).map(String)).toEqual(['-0.02', '-0.01']);
    });

    it('refuses shares that do not add up to exactly 1', () => {
      const result = yuan('1').allocate([rate('0.1'), rate('0.8')], 'split');
      expect(result.ok ? undefined : result.error).toMatchObject({
        field: 'split',
        rule: 'money.allocation.sharesSum',
        value: ['0.1', '0.8'],
      });
      const empty = yuan('1').allocate([]);
      expect(empty.ok ? undefined : empty.error.rule).toBe('money.allocation.empty');
      expect(() => yuan('1').allocateOrThrow([rate('1.1')])).toThrow(DomainValidationError);
    });
  });

  describe('properties', () => {
    it('perTonne is never more than half a fen from the exact rational product', () => {
      fc.assert(
        fc.property(rateArb, quantityArb, (r, q) => {
          // exact fen = r.numerator × grams × 100 / (10^scale × 10^6)
          const numerator = r.numerator * q.grams * 100n;
          const denominator = r.denominator * 1_000_000n;
          const fen = Money.perTonne(r, q).fen;
          const error = fen * denominator - numerator; // (rounded − exact) × denominator
          const absError = error < 0n ? -error : error;
          expect(absError * 2n <= denominator).toBe(true);
          // HALF-UP: an exact half always goes up (all values here are non-negative).
          if (absError * 2n === denominator) expect(error > 0n).toBe(true);
        }),
      );
    });

    it('allocate always sums exactly to the whole, each part within a fen of its exact share', () => {
      fc.assert(
        fc.property(moneyArb, sharesArb, (m, shares) => {
          const parts = m.allocateOrThrow(shares);
          expect(parts).toHaveLength(shares.length);
          expect(Money.sum(parts).equals(m)).toBe(true);
          parts.forEach((part, i) => {
            const exactScaled = m.fen * shares[i].numerator; // exact part × 10^scale
            const diff = part.fen * shares[i].denominator - exactScaled;
            expect((diff < 0n ? -diff : diff) < shares[i].denominator).toBe(true);
          });
        }),
      );
    });

    it('allocate is deterministic', () => {
      fc.assert(
        fc.property(moneyArb, sharesArb, (m, shares) => {
          expect(m.allocateOrThrow(shares).map(String)).toEqual(m.allocateOrThrow(shares).map(String));
        }),
      );
    });

    it('parse(toYuanString) round-trips, negatives included', () => {
      fc.assert(
        fc.property(moneyArb, (m) => {
          expect(Money.parseOrThrow(m.toYuanString()).equals(m)).toBe(true);
          expect(m.add(m.negate()).isZero()).toBe(true);
        }),
      );
    });
  });
});
