// The category list is data from the National Hazardous Waste List, loaded as it is, never retyped.
import hwCategoriesData from '../data/hw-categories.json';
import { type BilingualText, type Result, fail, ok, requireString, unwrap } from './validation';

/** One of the 46 categories of the National Hazardous Waste List (HW01–HW40, HW45–HW50). */
export class WasteCategory {
  private constructor(
    readonly code: string,
    readonly zh: string,
    readonly en: string,
  ) {
    Object.freeze(this);
  }

  /** Built once from the bundled data file, in the order the List gives. */
  private static readonly byCode: ReadonlyMap<string, WasteCategory> = new Map(
    hwCategoriesData.categories.map((c) => [c.code, new WasteCategory(c.code, c.zh, c.en)] as const),
  );

  static all(): readonly WasteCategory[] {
    return [...WasteCategory.byCode.values()];
  }

  /** 'HW08' (case-insensitive). */
  static parse(input: string, field = 'wasteCategory'): Result<WasteCategory> {
    const notString = requireString(input, field, 'wasteCategory');
    if (notString) return notString;
    const code = input.toUpperCase();
    if (!/^HW\d{2}$/.test(code)) {
      return fail(
        field,
        'wasteCategory.format',
        {
          zh: '危险废物类别须为 HW 加两位数字，如 HW08',
          en: 'a hazardous waste category is HW and two digits, e.g. HW08',
        },
        input,
      );
    }
    const category = WasteCategory.byCode.get(code);
    if (!category) {
      return fail(
        field,
        'wasteCategory.unknown',
        {
          zh: '《国家危险废物名录》中没有该类别',
          en: 'no such category in the National Hazardous Waste List',
        },
        input,
      );
    }
    return ok(category);
  }

  static parseOrThrow(input: string, field?: string): WasteCategory {
    return unwrap(WasteCategory.parse(input, field));
  }

  get name(): BilingualText {
    return { zh: this.zh, en: this.en };
  }

  equals(other: WasteCategory): boolean {
    return this.code === other.code;
  }

  toString(): string {
    return this.code;
  }

  toJSON(): string {
    return this.code;
  }
}

/**
 * A hazardous waste code III-SSS-CC: industry (GB/T 4754-2017), sequence within the industry,
 * and the category number CC of HWCC. 900-000-CC is waste identified as hazardous by testing.
 */
export class WasteCode {
  private constructor(
    readonly value: string,
    readonly category: WasteCategory,
  ) {
    Object.freeze(this);
  }

  /** '900-249-08', or the eight digits '90024908', normalised to the dashed form. */
  static parse(input: string, field = 'wasteCode'): Result<WasteCode> {
    const notString = requireString(input, field, 'wasteCode');
    if (notString) return notString;
    const match = /^(\d{3})-(\d{3})-(\d{2})$/.exec(input) ?? /^(\d{3})(\d{3})(\d{2})$/.exec(input);
    if (match === null) {
      return fail(
        field,
        'wasteCode.format',
        {
          zh: '危险废物代码须为8位数字，格式 III-SSS-CC',
          en: 'a hazardous waste code is 8 digits, III-SSS-CC',
        },
        input,
      );
    }
    const category = WasteCategory.parse(`HW${match[3]}`, field);
    if (!category.ok) {
      return fail(
        field,
        'wasteCode.category',
        {
          zh: `代码末两位 ${match[3]} 不是《国家危险废物名录》中的类别`,
          en: `the last two digits ${match[3]} are not a category of the National Hazardous Waste List`,
        },
        input,
      );
    }
    return ok(new WasteCode(`${match[1]}-${match[2]}-${match[3]}`, category.value));
  }

  static parseOrThrow(input: string, field?: string): WasteCode {
    return unwrap(WasteCode.parse(input, field));
  }

  /** Industry code (GB/T 4754-2017 based), '900' for wastes not specific to an industry. */
  get industry(): string {
    return this.value.slice(0, 3);
  }

  get sequence(): string {
    return this.value.slice(4, 7);
  }

  /** 900-000-CC: the waste was found hazardous by testing (鉴别) rather than listed. */
  get isIdentifiedByTesting(): boolean {
    return this.value.startsWith('900-000-');
  }

  equals(other: WasteCode): boolean {
    return this.value === other.value;
  }

  toString(): string {
    return this.value;
  }

  toJSON(): string {
    return this.value;
  }
}

/** The classes of solid waste the platform tracks. Only hazardous waste carries a code. */
export type WasteClass =
  | { readonly kind: 'hazardous'; readonly code: WasteCode }
  | { readonly kind: 'general-industrial' }
  | { readonly kind: 'construction' }
  | { readonly kind: 'municipal' };

export type WasteClassKind = WasteClass['kind'];

const WASTE_CLASS_LABELS: Readonly<Record<WasteClassKind, BilingualText>> = Object.freeze({
  hazardous: { zh: '危险废物', en: 'hazardous waste' },
  'general-industrial': { zh: '一般工业固体废物', en: 'general industrial solid waste' },
  construction: { zh: '建筑垃圾', en: 'construction waste' },
  municipal: { zh: '生活垃圾', en: 'municipal solid waste' },
});

const WASTE_CLASS_KINDS = Object.keys(WASTE_CLASS_LABELS) as WasteClassKind[];

function isWasteClassKind(kind: string): kind is WasteClassKind {
  return (WASTE_CLASS_KINDS as string[]).includes(kind);
}

const GENERAL_INDUSTRIAL: WasteClass = Object.freeze({ kind: 'general-industrial' });
const CONSTRUCTION: WasteClass = Object.freeze({ kind: 'construction' });
const MUNICIPAL: WasteClass = Object.freeze({ kind: 'municipal' });

/** Companion functions of the WasteClass union (a type and a value may share a name). */
export const WasteClass = Object.freeze({
  kinds: Object.freeze([...WASTE_CLASS_KINDS]) as readonly WasteClassKind[],
  generalIndustrial: GENERAL_INDUSTRIAL,
  construction: CONSTRUCTION,
  municipal: MUNICIPAL,

  hazardous(code: WasteCode): WasteClass {
    return Object.freeze({ kind: 'hazardous', code });
  },

  /**
   * From a kind and an optional code string (e.g. two form fields or a JSON object).
   * The rule: hazardous waste needs its code; the other classes have none.
   */
  of(kind: string, code: string | undefined, field = 'wasteClass'): Result<WasteClass> {
    const notString = requireString(kind, field, 'wasteClass');
    if (notString) return notString;
    if (!isWasteClassKind(kind)) {
      return fail(
        field,
        'wasteClass.kind',
        {
          zh: '废物类别须为 hazardous、general-industrial、construction 或 municipal',
          en: 'the waste class must be hazardous, general-industrial, construction or municipal',
        },
        kind,
      );
    }
    if (kind === 'hazardous') {
      if (code === undefined || code === '') {
        return fail(field, 'wasteClass.codeRequired', {
          zh: '危险废物须注明危险废物代码',
          en: 'hazardous waste needs its waste code',
        });
      }
      const parsed = WasteCode.parse(code, field);
      return parsed.ok ? ok(WasteClass.hazardous(parsed.value)) : parsed;
    }
    if (code !== undefined) {
      return fail(
        field,
        'wasteClass.codeNotAllowed',
        {
          zh: `${WASTE_CLASS_LABELS[kind].zh}不使用危险废物代码`,
          en: `${WASTE_CLASS_LABELS[kind].en} carries no hazardous waste code`,
        },
        code,
      );
    }
    return ok(
      kind === 'general-industrial' ? GENERAL_INDUSTRIAL : kind === 'construction' ? CONSTRUCTION : MUNICIPAL,
    );
  },

  /** 'hazardous:900-249-08', 'general-industrial', 'construction', 'municipal'. */
  parse(input: string, field = 'wasteClass'): Result<WasteClass> {
    const notString = requireString(input, field, 'wasteClass');
    if (notString) return notString;
    const colon = input.indexOf(':');
    return colon < 0
      ? WasteClass.of(input, undefined, field)
      : WasteClass.of(input.slice(0, colon), input.slice(colon + 1), field);
  },

  parseOrThrow(input: string, field?: string): WasteClass {
    return unwrap(WasteClass.parse(input, field));
  },

  /** The string form `parse` reads back. */
  format(wasteClass: WasteClass): string {
    return wasteClass.kind === 'hazardous' ? `hazardous:${wasteClass.code.value}` : wasteClass.kind;
  },

  /** 'hazardous waste 900-249-08 (HW08 waste mineral oil)' / '危险废物 900-249-08（HW08 废矿物油与含矿物油废物）'. */
  label(wasteClass: WasteClass): BilingualText {
    const base = WASTE_CLASS_LABELS[wasteClass.kind];
    if (wasteClass.kind !== 'hazardous') return base;
    const { code } = wasteClass;
    return {
      zh: `${base.zh} ${code.value}（${code.category.code} ${code.category.zh}）`,
      en: `${base.en} ${code.value} (${code.category.code} ${code.category.en})`,
    };
  },

  kindLabel(kind: WasteClassKind): BilingualText {
    return WASTE_CLASS_LABELS[kind];
  },

  equals(a: WasteClass, b: WasteClass): boolean {
    if (a.kind === 'hazardous' || b.kind === 'hazardous') {
      return a.kind === 'hazardous' && b.kind === 'hazardous' && a.code.equals(b.code);
    }
    return a.kind === b.kind;
  },
});
