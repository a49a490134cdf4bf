import { JurisdictionCode } from './jurisdiction-code';
import { ManifestNumber } from './manifest-number';
import { DomainValidationError } from './validation';

const jurisdiction = JurisdictionCode.parseOrThrow;

describe('ManifestNumber', () => {
  it('parses year, province, city and serial', () => {
    const number = ManifestNumber.parseOrThrow('20265101000123');
    expect(number.year).toBe(2026);
    expect(number.provinceCode.value).toBe('510000');
    expect(number.cityCode.value).toBe('510100');
    expect(number.serial).toBe(123);
    expect(JSON.stringify({ number })).toBe('{"number":"20265101000123"}');
    expect(Object.isFrozen(number)).toBe(true);
  });

  it('reads a 直辖市 manifest with city part 00 as the municipality', () => {
    const number = ManifestNumber.parseOrThrow('20255000999999');
    expect(number.provinceCode.value).toBe('500000');
    expect(number.cityCode.value).toBe('500000');
    expect(number.serial).toBe(999_999);
  });

  it.each([
    ['2026510100012', 'manifestNumber.format'],
    ['202651010001234', 'manifestNumber.format'],
    ['2026510100012a', 'manifestNumber.format'],
    ['', 'manifestNumber.format'],
    ['19995101000001', 'manifestNumber.year'],
    ['21005101000001', 'manifestNumber.year'],
    ['20261001000001', 'manifestNumber.province'],
    ['20269901000001', 'manifestNumber.province'],
    ['20265101000000', 'manifestNumber.serial'],
  ])('refuses %j with %s', (input, rule) => {
    const result = ManifestNumber.parse(input, 'manifest.number');
    expect(result.ok ? undefined : result.error).toMatchObject({
      field: 'manifest.number',
      rule,
      value: input,
    });
  });

  it('defaults the field name and throws from parseOrThrow', () => {
    const result = ManifestNumber.parse(20265101000123 as unknown as string);
    expect(result.ok ? undefined : result.error).toMatchObject({
      field: 'manifestNumber',
      rule: 'manifestNumber.type',
    });
    expect(() => ManifestNumber.parseOrThrow('x')).toThrow(DomainValidationError);
  });

  it.each([
    [2026, '510100', 1, '20265101000001'],
    [2026, '440300', 123_456n, '20264403123456'],
    [2025, '500000', 42, '20255000000042'],
    [2025, '110000', 999_999, '20251100999999'],
    [2026, '510000', 7, '20265100000007'],
  ])('composes %i, %s, %s into %s', (year, code, serial, expected) => {
    const number = ManifestNumber.composeOrThrow(year, jurisdiction(code), serial);
    expect(number.value).toBe(expected);
    expect(ManifestNumber.parseOrThrow(number.value).equals(number)).toBe(true);
  });

  it.each([
    [1999, '510100', 1, 'manifestNumber.year'],
    [2026.5, '510100', 1, 'manifestNumber.year'],
    [2026, '510104', 1, 'manifestNumber.jurisdictionLevel'],
    [2026, '510100', 0, 'manifestNumber.serial'],
    [2026, '510100', 1_000_000, 'manifestNumber.serial'],
    [2026, '510100', 1.5, 'manifestNumber.serial'],
    [2026, '510100', -1n, 'manifestNumber.serial'],
  ])('compose refuses %s, %s, %s with %s', (year, code, serial, rule) => {
    const result = ManifestNumber.compose(year, jurisdiction(code), serial, 'next');
    expect(result.ok ? undefined : result.error).toMatchObject({ field: 'next', rule });
  });
});
