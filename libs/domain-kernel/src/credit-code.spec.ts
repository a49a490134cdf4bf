import fc from 'fast-check';
import { CREDIT_CODE_CHARSET, CreditCode } from './credit-code';
import { DomainValidationError } from './validation';

const bodyArb = fc
  .array(fc.constantFrom(...CREDIT_CODE_CHARSET), { minLength: 17, maxLength: 17 })
  .map((chars) => chars.join(''));

describe('CreditCode', () => {
  it('accepts a real unified social credit code', () => {
    const code = CreditCode.parseOrThrow('91350100M000100Y43');
    expect(code.value).toBe('91350100M000100Y43');
    expect(JSON.stringify({ generator: code })).toBe('{"generator":"91350100M000100Y43"}');
    expect(Object.isFrozen(code)).toBe(true);
  });

  it('accepts lowercase and upper-cases it', () => {
    const code = CreditCode.parseOrThrow('91350100m000100y43');
    expect(code.toString()).toBe('91350100M000100Y43');
    expect(code.equals(CreditCode.parseOrThrow('91350100M000100Y43'))).toBe(true);
  });

  it.each([
    ['91350100M000100Y4', 'creditCode.length'],
    ['91350100M000100Y433', 'creditCode.length'],
    ['', 'creditCode.length'],
    ['91350100M000100I43', 'creditCode.charset'], // I is not in the set
    ['91350100O000100Y43', 'creditCode.charset'], // O
    ['91350100S000100Y43', 'creditCode.charset'], // S
    ['91350100V000100Y43', 'creditCode.charset'], // V
    ['91350100Z000100Y43', 'creditCode.charset'], // Z
    ['91350100-000100Y43', 'creditCode.charset'],
    ['91350100M000100Y44', 'creditCode.checkCharacter'],
    ['91350100M000100Y34', 'creditCode.checkCharacter'], // transposition caught by the check
  ])('refuses %j with %s', (input, rule) => {
    const result = CreditCode.parse(input, 'receiver.creditCode');
    expect(result.ok ? undefined : result.error).toMatchObject({
      field: 'receiver.creditCode',
      rule,
      value: input,
    });
  });

  it('defaults the field name, refuses numbers and throws from parseOrThrow', () => {
    const result = CreditCode.parse(913501 as unknown as string);
    expect(result.ok ? undefined : result.error).toMatchObject({
      field: 'creditCode',
      rule: 'creditCode.type',
    });
    expect(() => CreditCode.parseOrThrow('91350100M000100Y44')).toThrow(DomainValidationError);
  });

  it('completes a body with its check character for demo organisations', () => {
    expect(CreditCode.withCheckCharacter('91350100M000100Y4').value).toBe('91350100M000100Y43');
    expect(CreditCode.withCheckCharacter('91510100mA6CXXXX0').value).toMatch(/^91510100MA6CXXXX0.$/);
    expect(() => CreditCode.withCheckCharacter('9135')).toThrow(DomainValidationError);
    expect(() => CreditCode.withCheckCharacter('91350100I000100Y4')).toThrow(DomainValidationError);
  });

  describe('properties', () => {
    it('every body plus its check character validates', () => {
      fc.assert(
        fc.property(bodyArb, (body) => {
          const code = CreditCode.withCheckCharacter(body);
          expect(CreditCode.parse(code.value).ok).toBe(true);
        }),
      );
    });

    it('any other check character fails', () => {
      fc.assert(
        fc.property(bodyArb, fc.constantFrom(...CREDIT_CODE_CHARSET), (body, other) => {
          const valid = CreditCode.withCheckCharacter(body).value;
          fc.pre(other !== valid[17]);
          const result = CreditCode.parse(body + other);
          expect(result.ok ? undefined : result.error.rule).toBe('creditCode.checkCharacter');
        }),
      );
    });

    it('any single-character change in the body is detected', () => {
      fc.assert(
        fc.property(bodyArb, fc.nat(16), fc.constantFrom(...CREDIT_CODE_CHARSET), (body, position, ch) => {
          fc.pre(body[position] !== ch);
          const valid = CreditCode.withCheckCharacter(body).value;
          const changed = valid.slice(0, position) + ch + valid.slice(position + 1);
          expect(CreditCode.parse(changed).ok).toBe(false);
        }),
      );
    });
  });
});
