import { ValidateBy, type ValidationArguments, type ValidationOptions } from 'class-validator';
import {
  CreditCode,
  JurisdictionCode,
  LocalDate,
  ManifestNumber,
  WasteCategory,
  WasteClass,
  WasteCode,
  type BilingualText,
  type Result,
} from '@lianfang/domain-kernel';

/**
 * class-validator decorators for the transfer context's published language. Each one names its rule
 * (the ContractViolation `rule`), and its message says what is wrong in English and Chinese, with the
 * domain-kernel rule when a kernel parser decided, so a DLQ reader sees the same words as a GraphQL caller.
 */

type Check = (value: unknown) => { ok: true } | { ok: false; message: BilingualText; rule?: string };

const say = (args: ValidationArguments, message: BilingualText, rule?: string): string =>
  `${args.property}: ${message.en} / ${message.zh}${rule ? ` [${rule}]` : ''}`;

function rule(
  name: string,
  check: Check,
  options?: ValidationOptions,
  applies: (object: object) => boolean = () => true,
): PropertyDecorator {
  return ValidateBy(
    {
      name,
      validator: {
        validate: (value: unknown, args?: ValidationArguments) =>
          (args !== undefined && !applies(args.object)) || check(value).ok,
        defaultMessage: (args?: ValidationArguments): string => {
          if (!args) return name;
          // With `each`, class-validator hands the whole array here: report the first element that fails.
          const values: unknown[] = options?.each && Array.isArray(args.value) ? args.value : [args.value];
          for (const v of values) {
            const result = check(v);
            if (!result.ok) return say(args, result.message, result.rule);
          }
          return name;
        },
      },
    },
    options,
  );
}

/** Adapts a kernel parser (which refuses non-strings itself) to a Check. */
const kernel =
  (parse: (input: string) => Result<unknown>): Check =>
  (value) => {
    const result = parse(value as string);
    return result.ok ? { ok: true } : { ok: false, message: result.error.message, rule: result.error.rule };
  };

const refused = (en: string, zh: string) => ({ ok: false as const, message: { en, zh } });

/** Kilograms written exactly as Quantity.toKgString writes them: '1200.500' (3 decimals, no float). */
const KG = /^(0|[1-9]\d*)\.\d{3}$/;
export function IsKilograms(
  options?: ValidationOptions & {
    positive?: boolean;
    /** Only when this holds for the object (e.g. a discrepancy of kind 'weight'). */
    when?: (object: object) => boolean;
  },
): PropertyDecorator {
  const { positive, when, ...validationOptions } = options ?? {};
  return rule(
    'isKilograms',
    (value) => {
      if (typeof value !== 'string' || !KG.test(value))
        return refused(
          'a weight is a decimal string of kilograms with exactly 3 decimals, e.g. "1200.500" (not a JSON number)',
          '重量须为以千克计、保留3位小数的十进制字符串，如 "1200.500"（不得为 JSON 数字）',
        );
      if (positive && value === '0.000') return refused('the weight must be more than zero', '重量须大于零');
      return { ok: true };
    },
    validationOptions,
    when,
  );
}

/** Whole fen as a decimal string: '15000' is 150.00 yuan. Money never travels as a float or in yuan. */
const FEN = /^(0|[1-9]\d*)$/;
export function IsFen(options?: ValidationOptions): PropertyDecorator {
  return rule(
    'isFen',
    (value) =>
      typeof value === 'string' && FEN.test(value)
        ? { ok: true }
        : refused(
            'an amount is a whole number of fen as a decimal string, e.g. "15000" for 150 yuan',
            '金额须为以分计的整数十进制字符串，如 150 元写作 "15000"',
          ),
    options,
  );
}

export function IsJurisdictionCode(options?: ValidationOptions): PropertyDecorator {
  return rule('isJurisdictionCode', kernel(JurisdictionCode.parse), options);
}

/** A province, autonomous region or municipality (XX0000): the level that approves transfers. */
export function IsProvincialJurisdiction(options?: ValidationOptions): PropertyDecorator {
  return rule(
    'isProvincialJurisdiction',
    (value) => {
      const parsed = JurisdictionCode.parse(value as string);
      if (!parsed.ok) return { ok: false, message: parsed.error.message, rule: parsed.error.rule };
      return parsed.value.level === 'provincial'
        ? { ok: true }
        : refused(
            'must be a provincial-level code (XX0000), e.g. 510000 Sichuan',
            '须为省级行政区划代码（XX0000），如 510000 四川省',
          );
    },
    options,
  );
}

export function IsManifestNumber(options?: ValidationOptions): PropertyDecorator {
  return rule('isManifestNumber', kernel(ManifestNumber.parse), options);
}

export function IsWasteCode(options?: ValidationOptions): PropertyDecorator {
  return rule('isWasteCode', kernel(WasteCode.parse), options);
}

/** The kernel's string form: 'hazardous:900-249-08', 'general-industrial', 'construction', 'municipal'. */
export function IsWasteClass(options?: ValidationOptions): PropertyDecorator {
  return rule('isWasteClass', kernel(WasteClass.parse), options);
}

/** What a compensation rate applies to: an HW category ('HW08') or a class without a code ('construction'). */
export function IsWasteClassOrCategory(options?: ValidationOptions): PropertyDecorator {
  return rule(
    'isWasteClassOrCategory',
    (value) =>
      (typeof value === 'string' &&
        value !== 'hazardous' &&
        WasteClass.kinds.includes(value as WasteClass['kind'])) ||
      (typeof value === 'string' && /^HW\d{2}$/.test(value) && WasteCategory.parse(value).ok)
        ? { ok: true }
        : refused(
            'must be an HW category of the National List (e.g. HW08; hazardous waste is rated per category) or general-industrial, construction or municipal',
            '须为《国家危险废物名录》类别（如 HW08，危险废物按类别计费）或 general-industrial、construction、municipal',
          ),
    options,
  );
}

export function IsCreditCode(options?: ValidationOptions): PropertyDecorator {
  return rule('isCreditCode', kernel(CreditCode.parse), options);
}

/** A calendar date in Asia/Shanghai, 'YYYY-MM-DD', that exists. */
export function IsLocalDate(options?: ValidationOptions): PropertyDecorator {
  return rule('isLocalDate', kernel(LocalDate.parse), options);
}

/** An instant with its offset: '2026-03-12T16:00:00.000Z' or '2026-03-13T00:00:00+08:00'. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
export function IsInstant(options?: ValidationOptions): PropertyDecorator {
  return rule(
    'isInstant',
    (value) =>
      typeof value === 'string' && INSTANT.test(value) && !Number.isNaN(Date.parse(value))
        ? { ok: true }
        : refused(
            'an instant is ISO-8601 with a time and an offset, e.g. 2026-03-12T16:00:00.000Z',
            '时刻须为带时间和时区偏移的 ISO-8601 字符串，如 2026-03-12T16:00:00.000Z',
          ),
    options,
  );
}

const dateOf = (value: unknown): LocalDate | undefined => {
  const parsed = LocalDate.parse(value as string);
  return parsed.ok ? parsed.value : undefined;
};

/**
 * This date is on or after the date in `property` of the same object (periods are inclusive of both
 * ends). Silent when either date is malformed: IsLocalDate reports that.
 */
export function IsOnOrAfter(property: string, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'onOrAfter',
      constraints: [property],
      validator: {
        validate: (value: unknown, args?: ValidationArguments) => {
          const end = dateOf(value);
          const start = dateOf((args?.object as Record<string, unknown> | undefined)?.[property]);
          return !end || !start || !end.isBefore(start);
        },
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property}: must be on or after ${property} / 不得早于 ${property}`,
      },
    },
    options,
  );
}

/**
 * A period of at most 12 months from the date in `property` (Art 28: an approval is valid at most
 * 12 months): counting `property` as its first day, it ends before the same date a year later
 * (Civil Code Art 202).
 */
export function IsWithinTwelveMonthsOf(property: string, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'withinTwelveMonths',
      constraints: [property],
      validator: {
        validate: (value: unknown, args?: ValidationArguments) => {
          const end = dateOf(value);
          const start = dateOf((args?.object as Record<string, unknown> | undefined)?.[property]);
          if (!end || !start) return true;
          // From Feb 29 there is no same date a year later: the period then ends on the last day of
          // February, i.e. before Mar 1.
          const sameDay = LocalDate.of(start.year + 1, start.month, start.day);
          const anniversary = sameDay.ok ? sameDay : LocalDate.of(start.year + 1, 3, 1);
          // Past year 9999 there is no calendar to compare with: IsLocalDate bounds the years.
          return !anniversary.ok || end.isBefore(anniversary.value);
        },
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property}: a validity is at most 12 months from ${property} / 有效期自 ${property} 起不得超过12个月`,
      },
    },
    options,
  );
}

/** Basis points of a whole: 1000 = 10%, 10000 = 100%. Integers, so shares add up exactly. */
export const FULL_SHARE_BASIS_POINTS = 10_000;

/** Payees' shares of a compensation rate (`shareBasisPoints`) add up to exactly 100%. */
export function SharesSumTo100(options?: ValidationOptions): PropertyDecorator {
  const total = (value: unknown): number | undefined => {
    if (!Array.isArray(value)) return undefined;
    const shares = value.map((p) => (p as { shareBasisPoints?: unknown } | null)?.shareBasisPoints);
    // A malformed share is its own field's error; the sum is only meaningful over good ones.
    if (!shares.every((s): s is number => Number.isInteger(s))) return undefined;
    return shares.reduce((sum, s) => sum + s, 0);
  };
  return ValidateBy(
    {
      name: 'sharesSumTo100',
      validator: {
        validate: (value: unknown) => {
          const sum = total(value);
          return sum === undefined || sum === FULL_SHARE_BASIS_POINTS;
        },
        defaultMessage: (args?: ValidationArguments) => {
          const percent = (total(args?.value) ?? 0) / 100;
          return (
            `${args?.property}: the payees' shares must add up to exactly 100% (they add up to ${percent}%) / ` +
            `各受偿方份额之和须恰好为 100%（现为 ${percent}%）`
          );
        },
      },
    },
    options,
  );
}
