import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  Min,
  MinLength,
  ValidateBy,
  ValidateIf,
  ValidateNested,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';
import { JurisdictionCode, LocalDate } from '@lianfang/domain-kernel';
import {
  FULL_SHARE_BASIS_POINTS,
  IsFen,
  IsJurisdictionCode,
  IsKilograms,
  IsLocalDate,
  IsOnOrAfter,
  IsProvincialJurisdiction,
  IsWasteClassOrCategory,
  IsWasteCode,
  SharesSumTo100,
} from './validators';

// Item shapes follow the agreement decider's agreed clauses (apps/transfer-service agreement/clauses.ts),
// so publishing is a copy, not a translation.

export class AgreementTitleV1 {
  @IsString()
  @MinLength(1)
  zh!: string;

  @IsString()
  @MinLength(1)
  en!: string;
}

/** One whitelisted (exporting member, receiving facility, waste codes, quantity, year) entry. */
export class WhitelistEntryV1 {
  @IsString()
  @MinLength(1)
  entryId!: string;

  /** A member of the agreement (provincial level). */
  @IsProvincialJurisdiction()
  exportingMember!: string;

  @IsString()
  @MinLength(1)
  receivingFacilityId!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsWasteCode({ each: true })
  wasteCodes!: string[];

  /** The whitelisted amount for the year, in kilograms with 3 decimals (shown in tonnes). */
  @IsKilograms({ positive: true })
  quantityKg!: string;

  @IsInt()
  @Min(2000)
  @Max(2099)
  year!: number;
}

export class PayeeShareV1 {
  /** Any level within a member: a city or district may be paid (the Beijing 10/90 split). */
  @IsJurisdictionCode()
  jurisdiction!: string;

  /** 1000 = 10%; all payees of a rate add up to exactly 10000. */
  @IsInt()
  @Min(1)
  @Max(FULL_SHARE_BASIS_POINTS)
  shareBasisPoints!: number;
}

/** A compensation rate: the payer pays, per tonne received, an amount split among the payees. */
export class CompensationRateV1 {
  /** An HW category ('HW08') or a class without a code ('general-industrial', 'construction', 'municipal'). */
  @IsWasteClassOrCategory()
  wasteClassOrCategory!: string;

  /** Whole fen per tonne as a decimal string: '15000' is 150.00 yuan/t. */
  @IsFen()
  fenPerTonne!: string;

  @IsJurisdictionCode()
  payer!: string;

  @IsArray()
  @ArrayMinSize(1)
  @SharesSumTo100()
  @ValidateNested({ each: true })
  @Type(() => PayeeShareV1)
  payees!: PayeeShareV1[];

  @IsLocalDate()
  from!: string;

  /** Inclusive; null: until the end of the agreement. */
  @ValidateIf((r: CompensationRateV1) => r.to !== null)
  @IsLocalDate()
  @IsOnOrAfter('from')
  to!: string | null;
}

/** A weight differs when |accepted − declared| is more than BOTH the percentage and the kilograms. */
export class DiscrepancyToleranceV1 {
  /** 500 = 5% of the declared weight, compared exactly (Quantity.exceedsShareOf). */
  @IsInt()
  @Min(0)
  @Max(FULL_SHARE_BASIS_POINTS)
  percentBasisPoints!: number;

  @IsKilograms()
  kg!: string;
}

const parseCode = (code: unknown): JurisdictionCode | undefined => {
  const parsed = JurisdictionCode.parse(code as string);
  return parsed.ok ? parsed.value : undefined;
};

/**
 * Every jurisdiction an item of this array names lies within a member of the agreement (`members` of
 * the same object). Malformed codes are left to the item's own validators.
 */
function WithinMembers<T>(
  jurisdictionsOf: (item: T) => unknown[],
  options?: ValidationOptions,
): PropertyDecorator {
  const outsiders = (value: unknown, object: unknown): string[] => {
    const members = (object as { members?: unknown } | undefined)?.members;
    if (!Array.isArray(value) || !Array.isArray(members)) return [];
    const memberCodes = members.map(parseCode);
    // With a malformed member, `members` reports it; judging items against a broken list adds noise.
    if (!memberCodes.every((m): m is JurisdictionCode => m?.level === 'provincial')) return [];
    return value.flatMap((item: T, index) =>
      item === null || typeof item !== 'object'
        ? []
        : jurisdictionsOf(item)
            .filter((code) => {
              const parsed = parseCode(code);
              return parsed !== undefined && !memberCodes.some((m) => m.contains(parsed));
            })
            .map((code) => `[${index}] ${String(code)}`),
    );
  };
  return ValidateBy(
    {
      name: 'withinMembers',
      validator: {
        validate: (value: unknown, args?: ValidationArguments) => outsiders(value, args?.object).length === 0,
        defaultMessage: (args?: ValidationArguments) => {
          const found = outsiders(args?.value, args?.object).join(', ');
          return `${args?.property}: ${found} lie outside the members of this agreement / ${found} 不在协议成员辖区内`;
        },
      },
    },
    options,
  );
}

/**
 * Per class or category and payer, rate periods follow one another day by day: a day under two rates
 * (which one is charged?) or under none (receipts would accrue nothing) is refused. An open end (null)
 * followed by another period is an overlap.
 */
function PeriodsContiguous(options?: ValidationOptions): PropertyDecorator {
  const problems = (value: unknown): string[] => {
    if (!Array.isArray(value)) return [];
    const groups = new Map<string, { index: number; from: LocalDate; to: LocalDate | null }[]>();
    value.forEach((r: Partial<CompensationRateV1> | null, index) => {
      if (r === null || typeof r !== 'object') return;
      const from = LocalDate.parse(r.from as string);
      const to = r.to === null ? null : LocalDate.parse(r.to as string);
      // Malformed or reversed periods are the item's own errors.
      if (!from.ok || (to !== null && (!to.ok || to.value.isBefore(from.value)))) return;
      const key = `${String(r.wasteClassOrCategory)}|${String(r.payer)}`;
      groups.set(key, [...(groups.get(key) ?? []), { index, from: from.value, to: to && to.value }]);
    });
    const found: string[] = [];
    for (const periods of groups.values()) {
      periods.sort((a, b) => a.from.compare(b.from) || a.index - b.index);
      for (let i = 1; i < periods.length; i++) {
        const [previous, next] = [periods[i - 1], periods[i]];
        if (previous.to === null || !next.from.isAfter(previous.to))
          found.push(`[${next.index}] overlaps [${previous.index}]`);
        else if (!next.from.equals(previous.to.plusDays(1)))
          found.push(`[${next.index}] leaves a gap after [${previous.index}]`);
      }
    }
    return found;
  };
  return ValidateBy(
    {
      name: 'periodsContiguous',
      validator: {
        validate: (value: unknown) => problems(value).length === 0,
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property}: ${problems(args?.value).join('; ')}: the periods of one class or category and ` +
          `payer must follow one another without overlap or gap / 同一类别和付费方的费率有效期不得重叠或留空档`,
      },
    },
    options,
  );
}

/** The clauses of a regional agreement as every member bureau signed them. */
export class AgreementAdoptedV1 {
  @IsString()
  @MinLength(1)
  agreementId!: string;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => AgreementTitleV1)
  title?: AgreementTitleV1;

  /** Provincial-level members, e.g. ['510000', '500000'] for Sichuan–Chongqing. */
  @IsArray()
  @ArrayMinSize(2)
  @ArrayUnique()
  @IsProvincialJurisdiction({ each: true })
  members!: string[];

  @IsLocalDate()
  effectiveFrom!: string;

  /** Last day of the term, inclusive; null: open-ended until an amendment sets one. */
  @ValidateIf((a: AgreementAdoptedV1) => a.effectiveTo !== null)
  @IsLocalDate()
  @IsOnOrAfter('effectiveFrom')
  effectiveTo!: string | null;

  @IsArray()
  @WithinMembers((e: WhitelistEntryV1) => [e.exportingMember])
  @ValidateNested({ each: true })
  @Type(() => WhitelistEntryV1)
  whitelist!: WhitelistEntryV1[];

  @IsArray()
  @WithinMembers((r: CompensationRateV1) => [
    r.payer,
    ...(Array.isArray(r.payees) ? r.payees.map((p) => p?.jurisdiction) : []),
  ])
  @PeriodsContiguous()
  @ValidateNested({ each: true })
  @Type(() => CompensationRateV1)
  rateSchedules!: CompensationRateV1[];

  @IsObject()
  @ValidateNested()
  @Type(() => DiscrepancyToleranceV1)
  discrepancyTolerance!: DiscrepancyToleranceV1;

  /** Longest time in transit before a manifest is overdue (default 3). */
  @IsInt()
  @Min(1)
  maxTransitDays!: number;
}

/** The agreement as amended: its whole new text, which amendment, and the day it applies from. */
export class AgreementAmendedV1 extends AgreementAdoptedV1 {
  @IsString()
  @MinLength(1)
  amendmentId!: string;

  @IsLocalDate()
  @IsOnOrAfter('effectiveFrom')
  amendmentEffectiveDate!: string;
}
