import { JurisdictionCode, isProvincePrefix } from './jurisdiction-code';
import { type Result, fail, ok, requireString, unwrap } from './validation';

const MIN_YEAR = 2000;
const MAX_YEAR = 2099;
const MAX_SERIAL = 999_999;

/**
 * An electronic transfer manifest number (Art 15): YYYY PP CC NNNNNN — year, province, city and a
 * six-digit serial that restarts per city per year. A 直辖市 numbers its manifests with city '00'.
 */
export class ManifestNumber {
  private constructor(readonly value: string) {
    Object.freeze(this);
  }

  static parse(input: string, field = 'manifestNumber'): Result<ManifestNumber> {
    const notString = requireString(input, field, 'manifestNumber');
    if (notString) return notString;
    if (!/^\d{14}$/.test(input)) {
      return fail(
        field,
        'manifestNumber.format',
        { zh: '联单编号须为14位数字', en: 'a manifest number is 14 digits' },
        input,
      );
    }
    const year = Number(input.slice(0, 4));
    if (year < MIN_YEAR || year > MAX_YEAR) {
      return fail(
        field,
        'manifestNumber.year',
        { zh: '联单编号的年份须在2000至2099之间', en: 'the year of a manifest number must be 2000–2099' },
        input,
      );
    }
    if (!isProvincePrefix(input.slice(4, 6))) {
      return fail(
        field,
        'manifestNumber.province',
        {
          zh: '联单编号的省级代码无效',
          en: 'the province part of the manifest number is not a provincial-level code',
        },
        input,
      );
    }
    if (input.slice(8) === '000000') {
      return fail(
        field,
        'manifestNumber.serial',
        { zh: '联单流水号从000001开始', en: 'the serial of a manifest number starts at 000001' },
        input,
      );
    }
    return ok(new ManifestNumber(input));
  }

  static parseOrThrow(input: string, field?: string): ManifestNumber {
    return unwrap(ManifestNumber.parse(input, field));
  }

  /**
   * Builds the number for the `serial`-th manifest of `year` in `jurisdiction`, a city (510100) or
   * a provincial-level jurisdiction (500000 → city part '00'). A county is refused, because serials
   * run per city: numbering under a county would let two counties of one city collide.
   */
  static compose(
    year: number,
    jurisdiction: JurisdictionCode,
    serial: number | bigint,
    field = 'manifestNumber',
  ): Result<ManifestNumber> {
    if (!Number.isInteger(year) || year < MIN_YEAR || year > MAX_YEAR) {
      return fail(
        field,
        'manifestNumber.year',
        { zh: '联单编号的年份须在2000至2099之间', en: 'the year of a manifest number must be 2000–2099' },
        year,
      );
    }
    if (jurisdiction.level === 'county') {
      return fail(
        field,
        'manifestNumber.jurisdictionLevel',
        {
          zh: '联单按地市编号，须使用地市级或省级行政区划代码',
          en: 'manifests are numbered per city: use a city or provincial-level code',
        },
        jurisdiction.value,
      );
    }
    const serialValue =
      typeof serial === 'bigint' ? serial : Number.isSafeInteger(serial) ? BigInt(serial) : -1n;
    if (serialValue < 1n || serialValue > BigInt(MAX_SERIAL)) {
      return fail(
        field,
        'manifestNumber.serial',
        { zh: '联单流水号须为1至999999的整数', en: 'the serial must be an integer from 1 to 999999' },
        serial,
      );
    }
    return ok(
      new ManifestNumber(
        `${year}${jurisdiction.value.slice(0, 4)}${serialValue.toString().padStart(6, '0')}`,
      ),
    );
  }

  static composeOrThrow(
    year: number,
    jurisdiction: JurisdictionCode,
    serial: number | bigint,
  ): ManifestNumber {
    return unwrap(ManifestNumber.compose(year, jurisdiction, serial));
  }

  get year(): number {
    return Number(this.value.slice(0, 4));
  }

  /** e.g. 510000 */
  get provinceCode(): JurisdictionCode {
    return JurisdictionCode.parseOrThrow(`${this.value.slice(4, 6)}0000`);
  }

  /** e.g. 510100; for a 直辖市 manifest (city '00') this is the municipality itself, e.g. 500000. */
  get cityCode(): JurisdictionCode {
    return JurisdictionCode.parseOrThrow(`${this.value.slice(4, 8)}00`);
  }

  get serial(): number {
    return Number(this.value.slice(8));
  }

  equals(other: ManifestNumber): boolean {
    return this.value === other.value;
  }

  toString(): string {
    return this.value;
  }

  toJSON(): string {
    return this.value;
  }
}
