import categoriesData from '../data/hw-categories.json';
import { WasteCategory, WasteClass, WasteCode } from './waste-code';
import { DomainValidationError } from './validation';

describe('WasteCategory', () => {
  it('loads the 46 categories of the National Hazardous Waste List from the data file', () => {
    const all = WasteCategory.all();
    expect(all).toHaveLength(46);
    expect(all.map((c) => c.code)).toEqual(categoriesData.categories.map((c) => c.code));
    expect(all[0].code).toBe('HW01');
    expect(all[45].code).toBe('HW50');
  });

  it('parses HW08 with its names', () => {
    const hw08 = WasteCategory.parseOrThrow('HW08');
    expect(hw08).toMatchObject({ code: 'HW08', zh: '废矿物油与含矿物油废物', en: 'waste mineral oil' });
    expect(hw08.name).toEqual({ zh: '废矿物油与含矿物油废物', en: 'waste mineral oil' });
    expect(WasteCategory.parseOrThrow('hw08').equals(hw08)).toBe(true);
    expect(JSON.stringify(hw08)).toBe('"HW08"');
  });

  it.each([
    ['HW41', 'wasteCategory.unknown'],
    ['HW44', 'wasteCategory.unknown'],
    ['HW00', 'wasteCategory.unknown'],
    ['HW51', 'wasteCategory.unknown'],
    ['HW8', 'wasteCategory.format'],
    ['08', 'wasteCategory.format'],
    ['', 'wasteCategory.format'],
  ])('refuses %j with %s', (input, rule) => {
    const result = WasteCategory.parse(input, 'category');
    expect(result.ok ? undefined : result.error).toMatchObject({ field: 'category', rule });
  });
});

describe('WasteCode', () => {
  it.each([
    ['900-249-08', 'HW08', '900', '249'],
    ['900-214-08', 'HW08', '900', '214'],
    ['900-041-49', 'HW49', '900', '041'],
    ['772-002-18', 'HW18', '772', '002'],
    ['336-064-17', 'HW17', '336', '064'],
    ['261-057-34', 'HW34', '261', '057'],
    ['851-001-29', 'HW29', '851', '001'],
  ])('parses the real code %s (category %s)', (input, category, industry, sequence) => {
    const code = WasteCode.parseOrThrow(input);
    expect(code.value).toBe(input);
    expect(code.category.code).toBe(category);
    expect(code.industry).toBe(industry);
    expect(code.sequence).toBe(sequence);
    expect(code.isIdentifiedByTesting).toBe(false);
  });

  it('normalises eight digits without dashes to the dashed form', () => {
    const code = WasteCode.parseOrThrow('90024908');
    expect(code.toString()).toBe('900-249-08');
    expect(code.equals(WasteCode.parseOrThrow('900-249-08'))).toBe(true);
  });

  it('returns the category as { code, zh, en }', () => {
    expect(WasteCode.parseOrThrow('900-041-49').category).toMatchObject({
      code: 'HW49',
      zh: '其他废物',
      en: expect.any(String),
    });
  });

  it('accepts 900-000-CC for waste identified by testing', () => {
    const code = WasteCode.parseOrThrow('900-000-49');
    expect(code.isIdentifiedByTesting).toBe(true);
    expect(code.category.code).toBe('HW49');
  });

  it.each([
    ['900-249-41', 'wasteCode.category'],
    ['900-249-44', 'wasteCode.category'],
    ['900-249-00', 'wasteCode.category'],
    ['900-249-51', 'wasteCode.category'],
    ['90024941', 'wasteCode.category'],
    ['900-249-8', 'wasteCode.format'],
    ['900249-08', 'wasteCode.format'],
    ['900-249-08 ', 'wasteCode.format'],
    ['HW08', 'wasteCode.format'],
    ['9002490', 'wasteCode.format'],
    ['', 'wasteCode.format'],
  ])('refuses %j with %s', (input, rule) => {
    const result = WasteCode.parse(input, 'items[0].wasteCode');
    expect(result.ok ? undefined : result.error).toMatchObject({
      field: 'items[0].wasteCode',
      rule,
      value: input,
      message: { zh: expect.any(String), en: expect.any(String) },
    });
  });

  it('defaults the field name and throws from parseOrThrow', () => {
    const result = WasteCode.parse('x');
    expect(result.ok ? undefined : result.error.field).toBe('wasteCode');
    expect(() => WasteCode.parseOrThrow('x')).toThrow(DomainValidationError);
  });

  it('serialises as its dashed string and is frozen', () => {
    const code = WasteCode.parseOrThrow('90024908');
    expect(JSON.stringify({ code })).toBe('{"code":"900-249-08"}');
    expect(Object.isFrozen(code)).toBe(true);
  });
});

describe('WasteClass', () => {
  it.each(['hazardous:900-249-08', 'general-industrial', 'construction', 'municipal'])(
    'round-trips %s through parse and format',
    (input) => {
      expect(WasteClass.format(WasteClass.parseOrThrow(input))).toBe(input);
    },
  );

  it('parses a hazardous class into its code', () => {
    const wasteClass = WasteClass.parseOrThrow('hazardous:90024908');
    expect(wasteClass.kind).toBe('hazardous');
    if (wasteClass.kind === 'hazardous') expect(wasteClass.code.category.code).toBe('HW08');
    expect(WasteClass.format(wasteClass)).toBe('hazardous:900-249-08');
  });

  it('requires a code for hazardous waste', () => {
    for (const input of ['hazardous', 'hazardous:']) {
      const result = WasteClass.parse(input, 'wasteClass');
      expect(result.ok ? undefined : result.error.rule).toBe('wasteClass.codeRequired');
    }
    expect(WasteClass.of('hazardous', undefined).ok).toBe(false);
  });

  it('refuses a code on the other classes', () => {
    for (const input of ['construction:900-249-08', 'municipal:', 'general-industrial:x']) {
      const result = WasteClass.parse(input, 'class');
      expect(result.ok ? undefined : result.error).toMatchObject({
        field: 'class',
        rule: 'wasteClass.codeNotAllowed',
      });
    }
  });

  it('passes on the waste code error for a bad hazardous code', () => {
    const result = WasteClass.parse('hazardous:900-249-42', 'class');
    expect(result.ok ? undefined : result.error).toMatchObject({
      field: 'class',
      rule: 'wasteCode.category',
    });
  });

  it('refuses an unknown kind', () => {
    const result = WasteClass.parse('medical');
    expect(result.ok ? undefined : result.error).toMatchObject({
      field: 'wasteClass',
      rule: 'wasteClass.kind',
    });
  });

  it('builds from kind and code', () => {
    const hazardous = WasteClass.of('hazardous', '772-002-18');
    expect(hazardous.ok && WasteClass.format(hazardous.value)).toBe('hazardous:772-002-18');
    expect(WasteClass.of('municipal', undefined)).toEqual({ ok: true, value: WasteClass.municipal });
  });

  it('has bilingual labels', () => {
    expect(WasteClass.label(WasteClass.construction)).toEqual({ zh: '建筑垃圾', en: 'construction waste' });
    expect(WasteClass.label(WasteClass.municipal)).toEqual({ zh: '生活垃圾', en: 'municipal solid waste' });
    expect(WasteClass.label(WasteClass.generalIndustrial).zh).toBe('一般工业固体废物');
    const label = WasteClass.label(WasteClass.parseOrThrow('hazardous:900-249-08'));
    expect(label.zh).toBe('危险废物 900-249-08（HW08 废矿物油与含矿物油废物）');
    expect(label.en).toBe('hazardous waste 900-249-08 (HW08 waste mineral oil)');
    expect(WasteClass.kindLabel('hazardous')).toEqual({ zh: '危险废物', en: 'hazardous waste' });
    expect(WasteClass.kinds).toEqual(['hazardous', 'general-industrial', 'construction', 'municipal']);
  });

  it('compares classes', () => {
    const a = WasteClass.parseOrThrow('hazardous:900-249-08');
    expect(WasteClass.equals(a, WasteClass.parseOrThrow('hazardous:90024908'))).toBe(true);
    expect(WasteClass.equals(a, WasteClass.parseOrThrow('hazardous:900-214-08'))).toBe(false);
    expect(WasteClass.equals(a, WasteClass.construction)).toBe(false);
    expect(WasteClass.equals(WasteClass.construction, { kind: 'construction' })).toBe(true);
    expect(WasteClass.equals(WasteClass.construction, WasteClass.municipal)).toBe(false);
  });

  it('serialises into events with the code as a string', () => {
    expect(JSON.stringify(WasteClass.parseOrThrow('hazardous:900-249-08'))).toBe(
      '{"kind":"hazardous","code":"900-249-08"}',
    );
  });
});
