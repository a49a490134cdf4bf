import { JurisdictionCode, KNOWN_JURISDICTIONS, PROVINCE_PREFIXES, nameOf } from './jurisdiction-code';
import { DomainValidationError } from './validation';

const code = (s: string) => JurisdictionCode.parseOrThrow(s);

describe('JurisdictionCode', () => {
  it.each([
    ['510000', 'provincial', '510000', '510000'],
    ['510100', 'municipal', '510000', '510100'],
    ['510104', 'county', '510000', '510100'],
    ['440300', 'municipal', '440000', '440300'],
    ['500000', 'provincial', '500000', '500000'],
    ['110000', 'provincial', '110000', '110000'],
    ['310000', 'provincial', '310000', '310000'],
    ['120000', 'provincial', '120000', '120000'],
    ['500101', 'county', '500000', '500100'],
    ['820000', 'provincial', '820000', '820000'],
  ])('%s is %s in province %s, city %s', (value, level, province, city) => {
    const c = code(value);
    expect(c.level).toBe(level);
    expect(c.provinceCode.value).toBe(province);
    expect(c.cityCode.value).toBe(city);
    expect(c.toString()).toBe(value);
  });

  it('has exactly the 34 provincial-level prefixes', () => {
    expect(PROVINCE_PREFIXES).toHaveLength(34);
    expect(new Set(PROVINCE_PREFIXES).size).toBe(34);
  });

  it.each([
    ['51000', 'jurisdiction.format'],
    ['5100000', 'jurisdiction.format'],
    ['51010a', 'jurisdiction.format'],
    [' 510100', 'jurisdiction.format'],
    ['', 'jurisdiction.format'],
    ['100000', 'jurisdiction.province'],
    ['240000', 'jurisdiction.province'],
    ['900000', 'jurisdiction.province'],
    ['830000', 'jurisdiction.province'],
    ['510001', 'jurisdiction.city'],
  ])('refuses %j with %s', (value, rule) => {
    const result = JurisdictionCode.parse(value, 'receiverJurisdiction');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.rule).toBe(rule);
      expect(result.error.field).toBe('receiverJurisdiction');
      expect(result.error.value).toBe(value);
      expect(result.error.message.zh).toMatch(/[\u4e00-\u9fff]/);
      expect(result.error.message.en).toMatch(/[a-z]/);
    }
  });

  it('names the field "jurisdiction" by default and refuses numbers at runtime', () => {
    const result = JurisdictionCode.parse(510100 as unknown as string);
    expect(result.ok ? undefined : result.error).toMatchObject({
      field: 'jurisdiction',
      rule: 'jurisdiction.type',
    });
  });

  it('parseOrThrow throws a DomainValidationError', () => {
    expect(() => code('999999')).toThrow(DomainValidationError);
  });

  it('tells whether two codes share a province', () => {
    expect(code('510100').isSameProvince(code('510000'))).toBe(true);
    expect(code('510100').isSameProvince(code('500000'))).toBe(false);
  });

  it.each([
    ['510000', '510100', true],
    ['510000', '510104', true],
    ['510000', '510000', true],
    ['510000', '500000', false],
    ['510100', '510104', true],
    ['510100', '510100', true],
    ['510100', '510000', false],
    ['510100', '510300', false],
    ['510104', '510104', true],
    ['510104', '510105', false],
    ['510104', '510100', false],
    ['500000', '500101', true],
    ['440000', '440300', true],
  ])('%s contains %s: %s', (outer, inner, expected) => {
    expect(code(outer).contains(code(inner))).toBe(expected);
  });

  it('knows the municipalities directly under the central government', () => {
    expect(['110000', '120000', '310000', '500000', '500101'].every((c) => code(c).isInMunicipality)).toBe(
      true,
    );
    expect(code('510000').isInMunicipality).toBe(false);
  });

  it('names the jurisdictions of the regions', () => {
    expect(Object.keys(KNOWN_JURISDICTIONS)).toHaveLength(17);
    expect(nameOf('510000')).toEqual({ zh: '四川省', en: 'Sichuan' });
    expect(nameOf(code('510100'))).toEqual({ zh: '成都市', en: 'Chengdu' });
    expect(code('500000').name).toEqual({ zh: '重庆市', en: 'Chongqing' });
    expect(nameOf('440300')?.en).toBe('Shenzhen');
    for (const key of Object.keys(KNOWN_JURISDICTIONS)) expect(JurisdictionCode.parse(key).ok).toBe(true);
  });

  it('accepts a well-formed code it cannot name', () => {
    const c = code('510700');
    expect(c.name).toBeUndefined();
    expect(nameOf('toString')).toBeUndefined();
  });

  it('is an immutable value serialised as a string', () => {
    const c = code('510100');
    expect(c.equals(code('510100'))).toBe(true);
    expect(c.equals(code('510000'))).toBe(false);
    expect(JSON.stringify({ jurisdiction: c })).toBe('{"jurisdiction":"510100"}');
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(KNOWN_JURISDICTIONS)).toBe(true);
  });
});
