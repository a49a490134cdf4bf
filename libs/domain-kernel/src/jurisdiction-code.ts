import { type BilingualText, type Result, fail, ok, requireString, unwrap } from './validation';

/**
 * The first two digits of the 34 provincial-level divisions in GB/T 2260: 23 provinces (Taiwan 71
 * included), 5 autonomous regions, 4 municipalities, and Hong Kong 81 and Macao 82.
 */
// prettier-ignore
export const PROVINCE_PREFIXES: readonly string[] = Object.freeze([
  '11', '12', '13', '14', '15',
  '21', '22', '23',
  '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46',
  '50', '51', '52', '53', '54',
  '61', '62', '63', '64', '65',
  '71', '81', '82',
]);

const PROVINCE_PREFIX_SET = new Set(PROVINCE_PREFIXES);

/** Municipalities directly under the central government (直辖市): provincial-level cities. */
const MUNICIPALITY_PREFIXES = new Set(['11', '12', '31', '50']);

const JURISDICTION_NAMES: Record<string, BilingualText> = {
  '110000': { zh: '北京市', en: 'Beijing' },
  '120000': { zh: '天津市', en: 'Tianjin' },
  '130000': { zh: '河北省', en: 'Hebei' },
  '310000': { zh: '上海市', en: 'Shanghai' },
  '320000': { zh: '江苏省', en: 'Jiangsu' },
  '330000': { zh: '浙江省', en: 'Zhejiang' },
  '340000': { zh: '安徽省', en: 'Anhui' },
  '410000': { zh: '河南省', en: 'Henan' },
  '430000': { zh: '湖南省', en: 'Hunan' },
  '440000': { zh: '广东省', en: 'Guangdong' },
  '440100': { zh: '广州市', en: 'Guangzhou' },
  '440300': { zh: '深圳市', en: 'Shenzhen' },
  '500000': { zh: '重庆市', en: 'Chongqing' },
  '510000': { zh: '四川省', en: 'Sichuan' },
  '510100': { zh: '成都市', en: 'Chengdu' },
  '520000': { zh: '贵州省', en: 'Guizhou' },
  '530000': { zh: '云南省', en: 'Yunnan' },
};

/** Jurisdictions the platform's regions name; other well-formed codes are valid but unnamed. */
export const KNOWN_JURISDICTIONS: Readonly<Record<string, BilingualText>> = Object.freeze(
  Object.fromEntries(Object.entries(JURISDICTION_NAMES).map(([code, name]) => [code, Object.freeze(name)])),
);

export function nameOf(code: JurisdictionCode | string): BilingualText | undefined {
  const key = typeof code === 'string' ? code : code.value;
  return Object.prototype.hasOwnProperty.call(KNOWN_JURISDICTIONS, key)
    ? KNOWN_JURISDICTIONS[key]
    : undefined;
}

export function isProvincePrefix(prefix: string): boolean {
  return PROVINCE_PREFIX_SET.has(prefix);
}

export type JurisdictionLevel = 'provincial' | 'municipal' | 'county';

/** A GB/T 2260 six-digit administrative division code: PP (province) CC (city) DD (county). */
export class JurisdictionCode {
  private constructor(readonly value: string) {
    Object.freeze(this);
  }

  static parse(input: string, field = 'jurisdiction'): Result<JurisdictionCode> {
    const notString = requireString(input, field, 'jurisdiction');
    if (notString) return notString;
    if (!/^\d{6}$/.test(input)) {
      return fail(
        field,
        'jurisdiction.format',
        { zh: '行政区划代码须为6位数字', en: 'an administrative division code must be 6 digits' },
        input,
      );
    }
    if (!PROVINCE_PREFIX_SET.has(input.slice(0, 2))) {
      return fail(
        field,
        'jurisdiction.province',
        {
          zh: '行政区划代码的前两位不是省级行政区代码',
          en: 'the first two digits are not a provincial-level code',
        },
        input,
      );
    }
    // A county-level code always sits under a city part; XX00YY would make the city its province.
    if (input.slice(2, 4) === '00' && input.slice(4) !== '00') {
      return fail(
        field,
        'jurisdiction.city',
        { zh: '县级行政区划代码须包含地市级代码', en: 'a county-level code must include a city part' },
        input,
      );
    }
    return ok(new JurisdictionCode(input));
  }

  static parseOrThrow(input: string, field?: string): JurisdictionCode {
    return unwrap(JurisdictionCode.parse(input, field));
  }

  get level(): JurisdictionLevel {
    if (this.value.endsWith('0000')) return 'provincial';
    if (this.value.endsWith('00')) return 'municipal';
    return 'county';
  }

  /** The province (or municipality, autonomous region) this code lies in: 510100 → 510000. */
  get provinceCode(): JurisdictionCode {
    return this.level === 'provincial' ? this : new JurisdictionCode(`${this.value.slice(0, 2)}0000`);
  }

  /** The city part with county digits cleared: 510104 → 510100. A provincial code maps to itself. */
  get cityCode(): JurisdictionCode {
    return this.level === 'county' ? new JurisdictionCode(`${this.value.slice(0, 4)}00`) : this;
  }

  /** Beijing, Tianjin, Shanghai and Chongqing (and their districts) belong to a 直辖市. */
  get isInMunicipality(): boolean {
    return MUNICIPALITY_PREFIXES.has(this.value.slice(0, 2));
  }

  get name(): BilingualText | undefined {
    return nameOf(this.value);
  }

  isSameProvince(other: JurisdictionCode): boolean {
    return this.value.slice(0, 2) === other.value.slice(0, 2);
  }

  /** Whether `other` lies within this jurisdiction. Reflexive: a city contains itself. */
  contains(other: JurisdictionCode): boolean {
    switch (this.level) {
      case 'provincial':
        return this.isSameProvince(other);
      case 'municipal':
        return other.level !== 'provincial' && other.value.slice(0, 4) === this.value.slice(0, 4);
      case 'county':
        return other.value === this.value;
    }
  }

  equals(other: JurisdictionCode): boolean {
    return this.value === other.value;
  }

  toString(): string {
    return this.value;
  }

  toJSON(): string {
    return this.value;
  }
}
