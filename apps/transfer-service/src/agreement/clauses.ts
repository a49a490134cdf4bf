/**
 * The clauses of a regional agreement, as proposed (input, as typed) and as agreed (normalised, exact).
 * Invalid clauses are refused at proposal (issue 6 §1), every problem named by its field path relative
 * to the command data, e.g. `clauses.whitelist[2].tonnes`, so a form can point at it.
 */
import { AGENCY_KINDS, type AgencyKind } from '@lianfang/auth';
import {
  JurisdictionCode,
  LocalDate,
  Money,
  Quantity,
  WasteCategory,
  WasteClass,
  WasteCode,
  type BilingualText,
  type Result,
} from '@lianfang/domain-kernel';

/** Defaults of domain.md when an agreement says nothing: more than 5% and more than 100 kg; 3 days in transit. */
export const DEFAULT_TOLERANCE: DiscrepancyTolerance = Object.freeze({
  percentBasisPoints: 500,
  kg: '100.000',
});
export const DEFAULT_MAX_TRANSIT_DAYS = 3;
/** A trip that needs more than a month on the road is a mistake in the clause, not a real limit. */
export const MAX_TRANSIT_DAYS_LIMIT = 30;
const FULL_SHARE_BASIS_POINTS = 10_000;

/** What the data-sharing clause can open to another member's agencies (Art 5: manifests, tracks, cases). */
export const DATA_SHARING_SCOPES = [
  'transfers',
  'manifests',
  'vehicle-tracks',
  'facilities',
  'cases',
  'incidents',
  'compensation',
] as const;
export type DataSharingScope = (typeof DATA_SHARING_SCOPES)[number];

// ---- input (command data, as typed by people) ----

export interface WhitelistEntryInput {
  /** New id, chosen by the caller: consumption elsewhere is tracked per entry, across amendments. */
  readonly entryId: string;
  readonly exportingMember: string;
  readonly receivingFacilityId: string;
  readonly wasteCodes: readonly string[];
  /** Exact decimal tonnes, at most 6 decimals (a gram). */
  readonly tonnes: string;
  readonly year: number;
}

export interface PayeeShareInput {
  readonly jurisdiction: string;
  /** Integer basis points: 1000 = 10%. All payees of a rate add up to exactly 10000. */
  readonly shareBasisPoints: number;
}

export interface CompensationRateInput {
  /** 'HW08' (a category of the List) or a class without code: general-industrial, construction, municipal. */
  readonly wasteClassOrCategory: string;
  /** Yuan per tonne, at most 2 decimals: '150.00'. */
  readonly yuanPerTonne: string;
  readonly payer: string;
  readonly payees: readonly PayeeShareInput[];
  readonly from: string;
  /** Inclusive; absent: until the next period or the end of the agreement. */
  readonly to?: string | null;
}

export interface ToleranceInput {
  /** Percent of the declared weight, at most 2 decimals: '5', '2.5'. */
  readonly percent?: string;
  readonly kg?: string;
}

export interface DataSharingRuleInput {
  /** The member whose agencies see; absent: every member's. */
  readonly member?: string | null;
  readonly agencyKind: string;
  readonly scope: string;
}

export interface AgreementClausesInput {
  readonly whitelist?: readonly WhitelistEntryInput[];
  readonly compensationRates?: readonly CompensationRateInput[];
  readonly tolerance?: ToleranceInput;
  readonly maxTransitDays?: number;
  readonly dataSharing?: readonly DataSharingRuleInput[];
}

// ---- agreed (event data: JSON-safe, exact) ----

export interface WhitelistEntry {
  readonly entryId: string;
  readonly exportingMember: string;
  readonly receivingFacilityId: string;
  /** Dashed form III-SSS-CC, in the order given. */
  readonly wasteCodes: readonly string[];
  /** Kilograms with 3 decimals, the unit every other weight on the platform is compared in. */
  readonly quantityKg: string;
  readonly year: number;
}

export interface PayeeShare {
  readonly jurisdiction: string;
  readonly shareBasisPoints: number;
}

export interface CompensationRate {
  /** 'HW08', 'general-industrial', 'construction' or 'municipal'. */
  readonly wasteClassOrCategory: string;
  /** Integer fen per tonne as a decimal string (money is never a float): '15000' = 150.00 yuan/t. */
  readonly fenPerTonne: string;
  readonly payer: string;
  readonly payees: readonly PayeeShare[];
  readonly from: string;
  readonly to: string | null;
}

export interface DiscrepancyTolerance {
  /** 500 = 5%, compared exactly with Quantity.exceedsShareOf. */
  readonly percentBasisPoints: number;
  readonly kg: string;
}

export interface DataSharingRule {
  readonly member: string | null;
  readonly agencyKind: AgencyKind;
  readonly scope: DataSharingScope;
}

export interface AgreementClauses {
  readonly whitelist: readonly WhitelistEntry[];
  readonly compensationRates: readonly CompensationRate[];
  readonly tolerance: DiscrepancyTolerance;
  readonly maxTransitDays: number;
  readonly dataSharing: readonly DataSharingRule[];
}

// ---- validation ----

/** One reason a proposal is refused: `code` is the decider's error code, `rule` the kernel's, if any. */
export interface ClauseIssue {
  readonly field: string;
  readonly code: string;
  readonly message: BilingualText;
  readonly rule?: string;
}

/** The term the clauses must fall in: whitelist years and rate periods outside it are refused. */
export interface AgreementTerm {
  readonly members: readonly string[];
  readonly effectiveFrom: LocalDate;
  readonly validUntil: LocalDate | null;
}

/** Collects every problem, so one refusal lists them all (details.errors), the first one named. */
export class IssueList {
  readonly issues: ClauseIssue[] = [];

  add(field: string, code: string, message: BilingualText): void {
    this.issues.push({ field, code: `agreement.${code}`, message });
  }

  /** A kernel parse result: its failure becomes an `agreement.invalid-value` issue keeping the kernel rule. */
  take<T>(result: Result<T>): T | undefined {
    if (result.ok) return result.value;
    const { field, rule, message } = result.error;
    this.issues.push({ field, code: 'agreement.invalid-value', message, rule });
    return undefined;
  }

  requireText(value: unknown, field: string): string | undefined {
    if (typeof value === 'string' && value.trim() !== '') return value;
    this.add(field, 'required', { zh: '必填项不能为空', en: 'a value is required' });
    return undefined;
  }

  requireList<T>(value: readonly T[] | undefined, field: string): readonly T[] {
    if (value === undefined) return [];
    if (Array.isArray(value)) return value;
    this.add(field, 'not-a-list', { zh: '须为列表', en: 'must be a list' });
    return [];
  }
}

/** Member jurisdictions: provincial codes, at least two, no repeats. */
export function parseMembers(members: readonly string[] | undefined, issues: IssueList): string[] {
  const list = issues.requireList(members, 'members');
  const parsed: string[] = [];
  list.forEach((input, i) => {
    const code = issues.take(JurisdictionCode.parse(input, `members[${i}]`));
    if (code === undefined) return;
    if (code.level !== 'provincial') {
      issues.add(`members[${i}]`, 'member-not-provincial', {
        zh: '协议成员须为省级行政区',
        en: 'a member of an agreement is a provincial-level jurisdiction',
      });
    } else if (parsed.includes(code.value)) {
      issues.add(`members[${i}]`, 'duplicate-member', {
        zh: `成员 ${code.value} 重复`,
        en: `member ${code.value} is listed twice`,
      });
    } else parsed.push(code.value);
  });
  if (list.length < 2) {
    issues.add('members', 'too-few-members', {
      zh: '区域协议至少需要两个成员',
      en: 'a regional agreement needs at least two members',
    });
  }
  return parsed;
}

export function parseClauses(
  input: AgreementClausesInput | undefined,
  term: AgreementTerm,
  issues: IssueList,
) {
  const clauses = input ?? {};
  const result: AgreementClauses = {
    whitelist: parseWhitelist(clauses.whitelist, term, issues),
    compensationRates: parseRates(clauses.compensationRates, term, issues),
    tolerance: parseTolerance(clauses.tolerance, issues),
    maxTransitDays: parseMaxTransitDays(clauses.maxTransitDays, issues),
    dataSharing: parseDataSharing(clauses.dataSharing, term, issues),
  };
  return result;
}

function memberOf(value: unknown, field: string, term: AgreementTerm, issues: IssueList): string | undefined {
  const text = issues.requireText(value, field);
  if (text === undefined) return undefined;
  if (term.members.includes(text)) return text;
  issues.add(field, 'not-a-member', {
    zh: `${text} 不是本协议的成员`,
    en: `${text} is not a member of this agreement`,
  });
  return undefined;
}

/** A jurisdiction at any level that lies within one of the members (a payer or payee may be a city). */
function withinMembers(value: string, field: string, term: AgreementTerm, issues: IssueList) {
  const code = issues.take(JurisdictionCode.parse(value, field));
  if (code === undefined) return undefined;
  if (term.members.some((m) => JurisdictionCode.parseOrThrow(m).contains(code))) return code.value;
  issues.add(field, 'outside-members', {
    zh: `${code.value} 不在协议成员辖区内`,
    en: `${code.value} lies outside the members of this agreement`,
  });
  return undefined;
}

function parseWhitelist(
  input: readonly WhitelistEntryInput[] | undefined,
  term: AgreementTerm,
  issues: IssueList,
): WhitelistEntry[] {
  const entries: WhitelistEntry[] = [];
  issues.requireList(input, 'clauses.whitelist').forEach((entry, i) => {
    const at = `clauses.whitelist[${i}]`;
    const before = issues.issues.length;
    const entryId = issues.requireText(entry.entryId, `${at}.entryId`);
    if (entryId !== undefined && entries.some((e) => e.entryId === entryId)) {
      issues.add(`${at}.entryId`, 'duplicate-entry-id', {
        zh: `白名单条目编号 ${entryId} 重复`,
        en: `whitelist entry id ${entryId} is used twice`,
      });
    }
    const exportingMember = memberOf(entry.exportingMember, `${at}.exportingMember`, term, issues);
    const receivingFacilityId = issues.requireText(entry.receivingFacilityId, `${at}.receivingFacilityId`);
    const codes: string[] = [];
    const codeList = issues.requireList(entry.wasteCodes, `${at}.wasteCodes`);
    if (codeList.length === 0) {
      issues.add(`${at}.wasteCodes`, 'no-waste-codes', {
        zh: '白名单条目至少列出一个危险废物代码',
        en: 'a whitelist entry lists at least one waste code',
      });
    }
    codeList.forEach((c, j) => {
      const code = issues.take(WasteCode.parse(c, `${at}.wasteCodes[${j}]`));
      if (code === undefined) return;
      if (codes.includes(code.value)) {
        issues.add(`${at}.wasteCodes[${j}]`, 'duplicate-waste-code', {
          zh: `危险废物代码 ${code.value} 重复`,
          en: `waste code ${code.value} is listed twice`,
        });
      } else codes.push(code.value);
    });
    const quantity = issues.take(Quantity.fromTonnes(entry.tonnes, `${at}.tonnes`));
    if (quantity?.isZero()) {
      issues.add(`${at}.tonnes`, 'quantity-not-positive', {
        zh: '白名单数量须大于零',
        en: 'a whitelisted quantity is more than zero',
      });
    }
    const year = parseYear(entry.year, `${at}.year`, term, issues);
    // An entry that failed on any field is not checked further against the others.
    if (issues.issues.length > before) return;
    const whitelisted: WhitelistEntry = {
      entryId: entryId!,
      exportingMember: exportingMember!,
      receivingFacilityId: receivingFacilityId!,
      wasteCodes: codes,
      quantityKg: quantity!.toKgString(),
      year: year!,
    };
    // The same waste from the same member to the same facility in the same year under two entries
    // would make "which entry does this transfer consume" ambiguous.
    const clash = entries.find(
      (e) =>
        e.exportingMember === whitelisted.exportingMember &&
        e.receivingFacilityId === whitelisted.receivingFacilityId &&
        e.year === whitelisted.year &&
        e.wasteCodes.some((c) => codes.includes(c)),
    );
    if (clash) {
      issues.add(`${at}.wasteCodes`, 'whitelist-overlap', {
        zh: `与白名单条目 ${clash.entryId} 的移出方、接收设施、年度和废物代码重叠`,
        en: `overlaps whitelist entry ${clash.entryId} (same member, facility, year and waste code)`,
      });
      return;
    }
    entries.push(whitelisted);
  });
  return entries;
}

function parseYear(value: unknown, field: string, term: AgreementTerm, issues: IssueList) {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 9999) {
    issues.add(field, 'invalid-year', {
      zh: '年度须为四位整数年份',
      en: 'a year is a whole year, e.g. 2026',
    });
    return undefined;
  }
  if (value < term.effectiveFrom.year || (term.validUntil !== null && value > term.validUntil.year)) {
    issues.add(field, 'outside-term', {
      zh: `${value} 年不在协议有效期内`,
      en: `the year ${value} lies outside the agreement's term`,
    });
    return undefined;
  }
  return value;
}

/** 'HW08' or a class without a code; a hazardous class must name its category instead. */
export function parseRateKey(input: unknown, field: string, issues: IssueList): string | undefined {
  const text = issues.requireText(input, field);
  if (text === undefined) return undefined;
  if (/^hw/i.test(text)) return issues.take(WasteCategory.parse(text, field))?.code;
  const wasteClass = issues.take(WasteClass.parse(text, field));
  if (wasteClass?.kind === 'hazardous') {
    issues.add(field, 'rate-needs-category', {
      zh: '危险废物的补偿费率按类别（如 HW08）确定，不按单个代码',
      en: 'hazardous waste rates are set per category (e.g. HW08), not per waste code',
    });
    return undefined;
  }
  return wasteClass?.kind;
}

function parseRates(
  input: readonly CompensationRateInput[] | undefined,
  term: AgreementTerm,
  issues: IssueList,
): CompensationRate[] {
  const rates: { index: number; rate: CompensationRate; from: LocalDate; to: LocalDate | null }[] = [];
  issues.requireList(input, 'clauses.compensationRates').forEach((rate, i) => {
    const at = `clauses.compensationRates[${i}]`;
    const before = issues.issues.length;
    const key = parseRateKey(rate.wasteClassOrCategory, `${at}.wasteClassOrCategory`, issues);
    const money = issues.take(Money.parse(rate.yuanPerTonne, `${at}.yuanPerTonne`));
    if (money !== undefined && !money.isPositive()) {
      issues.add(`${at}.yuanPerTonne`, 'rate-not-positive', {
        zh: '补偿费率须大于零',
        en: 'a compensation rate is more than zero',
      });
    }
    const payerText = issues.requireText(rate.payer, `${at}.payer`);
    const payer = payerText === undefined ? undefined : withinMembers(payerText, `${at}.payer`, term, issues);
    const payees = parsePayees(rate.payees, payer, at, term, issues);
    const from = issues.take(LocalDate.parse(rate.from, `${at}.from`));
    const to =
      rate.to === undefined || rate.to === null ? null : issues.take(LocalDate.parse(rate.to, `${at}.to`));
    if (from !== undefined && to !== undefined && to !== null && to.isBefore(from)) {
      issues.add(`${at}.to`, 'period-order', {
        zh: '费率有效期的结束日期早于开始日期',
        en: 'the period of a rate ends before it starts',
      });
    }
    if (
      from !== undefined &&
      (from.isBefore(term.effectiveFrom) || (term.validUntil !== null && from.isAfter(term.validUntil)))
    ) {
      issues.add(`${at}.from`, 'outside-term', {
        zh: '费率有效期的开始日期不在协议有效期内',
        en: "the period of a rate starts outside the agreement's term",
      });
    }
    if (issues.issues.length > before) return;
    rates.push({
      index: i,
      from: from!,
      to: to ?? null,
      rate: {
        wasteClassOrCategory: key!,
        fenPerTonne: money!.toFenString(),
        payer: payer!,
        payees,
        from: from!.toString(),
        to: to?.toString() ?? null,
      },
    });
  });
  checkPeriods(rates, issues);
  return rates.map((r) => r.rate);
}

function parsePayees(
  input: readonly PayeeShareInput[] | undefined,
  payer: string | undefined,
  at: string,
  term: AgreementTerm,
  issues: IssueList,
): PayeeShare[] {
  const list = issues.requireList(input, `${at}.payees`);
  const payees: PayeeShare[] = [];
  let total = 0;
  let sharesValid = true;
  list.forEach((payee, j) => {
    const field = `${at}.payees[${j}]`;
    const text = issues.requireText(payee.jurisdiction, `${field}.jurisdiction`);
    const jurisdiction =
      text === undefined ? undefined : withinMembers(text, `${field}.jurisdiction`, term, issues);
    if (jurisdiction !== undefined && jurisdiction === payer) {
      issues.add(`${field}.jurisdiction`, 'payee-is-payer', {
        zh: '补偿的受偿方不能是付费方本身',
        en: 'the payer cannot be paid its own compensation',
      });
    } else if (jurisdiction !== undefined && payees.some((p) => p.jurisdiction === jurisdiction)) {
      issues.add(`${field}.jurisdiction`, 'duplicate-payee', {
        zh: `受偿方 ${jurisdiction} 重复`,
        en: `payee ${jurisdiction} is listed twice`,
      });
    }
    const share = payee.shareBasisPoints;
    if (
      typeof share !== 'number' ||
      !Number.isInteger(share) ||
      share <= 0 ||
      share > FULL_SHARE_BASIS_POINTS
    ) {
      sharesValid = false;
      issues.add(`${field}.shareBasisPoints`, 'invalid-share', {
        zh: '份额须为 1 到 10000 之间的整数基点（1000 = 10%）',
        en: 'a share is a whole number of basis points from 1 to 10000 (1000 = 10%)',
      });
    } else total += share;
    if (jurisdiction !== undefined) payees.push({ jurisdiction, shareBasisPoints: share });
  });
  if (list.length === 0) {
    issues.add(`${at}.payees`, 'no-payees', {
      zh: '补偿费率至少有一个受偿方',
      en: 'a compensation rate has at least one payee',
    });
  } else if (sharesValid && total !== FULL_SHARE_BASIS_POINTS) {
    issues.add(`${at}.payees`, 'shares-not-100-percent', {
      zh: `各受偿方份额之和须恰好为 100%（现为 ${total / 100}%）`,
      en: `the payees' shares must add up to exactly 100% (they add up to ${total / 100}%)`,
    });
  }
  return payees;
}

/**
 * Per waste class or category and payer, the periods follow one another day by day: no day under two
 * rates (a receipt would have two prices) and no day under none (a receipt would accrue nothing).
 */
function checkPeriods(
  rates: readonly { index: number; rate: CompensationRate; from: LocalDate; to: LocalDate | null }[],
  issues: IssueList,
): void {
  const groups = new Map<string, (typeof rates)[number][]>();
  for (const r of rates) {
    const key = `${r.rate.wasteClassOrCategory}|${r.rate.payer}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const group of groups.values()) {
    const sorted = [...group].sort((a, b) => a.from.compare(b.from) || a.index - b.index);
    for (let k = 1; k < sorted.length; k++) {
      const previous = sorted[k - 1];
      const current = sorted[k];
      const field = `clauses.compensationRates[${current.index}].from`;
      if (previous.to === null || !current.from.isAfter(previous.to)) {
        issues.add(field, 'rate-periods-overlap', {
          zh: `与第 ${previous.index + 1} 项费率的有效期重叠（同一类别和付费方）`,
          en: `overlaps the period of rate ${previous.index + 1} (same class or category and payer)`,
        });
      } else if (!current.from.equals(previous.to.plusDays(1))) {
        issues.add(field, 'rate-periods-gap', {
          zh: `与第 ${previous.index + 1} 项费率的有效期之间有空档（应从 ${previous.to.plusDays(1).toString()} 开始）`,
          en: `leaves a gap after the period of rate ${previous.index + 1} (it should start on ${previous.to
            .plusDays(1)
            .toString()})`,
        });
      }
    }
  }
}

function parseTolerance(input: ToleranceInput | undefined, issues: IssueList): DiscrepancyTolerance {
  let percentBasisPoints = DEFAULT_TOLERANCE.percentBasisPoints;
  let kg = DEFAULT_TOLERANCE.kg;
  if (input?.percent !== undefined) {
    // Percent with at most 2 decimals is a whole number of basis points: exact, no float.
    const match = /^(\d{1,3})(?:\.(\d{1,2}))?$/.exec(input.percent);
    const basisPoints = match ? Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0')) : -1;
    if (basisPoints < 0 || basisPoints > 10_000) {
      issues.add('clauses.tolerance.percent', 'invalid-percent', {
        zh: '容差百分比须为 0 到 100 之间、最多2位小数的十进制数，如 5 或 2.5',
        en: 'a tolerance percent is a decimal from 0 to 100 with at most 2 decimals, e.g. 5 or 2.5',
      });
    } else percentBasisPoints = basisPoints;
  }
  if (input?.kg !== undefined) {
    const parsed = issues.take(Quantity.parse(input.kg, 'clauses.tolerance.kg'));
    if (parsed !== undefined) kg = parsed.toKgString();
  }
  return { percentBasisPoints, kg };
}

function parseMaxTransitDays(input: number | undefined, issues: IssueList): number {
  if (input === undefined) return DEFAULT_MAX_TRANSIT_DAYS;
  if (typeof input !== 'number' || !Number.isInteger(input) || input < 1 || input > MAX_TRANSIT_DAYS_LIMIT) {
    issues.add('clauses.maxTransitDays', 'invalid-transit-days', {
      zh: `最长运输时间须为 1 到 ${MAX_TRANSIT_DAYS_LIMIT} 之间的整天数`,
      en: `the maximum transit time is a whole number of days from 1 to ${MAX_TRANSIT_DAYS_LIMIT}`,
    });
    return DEFAULT_MAX_TRANSIT_DAYS;
  }
  return input;
}

function parseDataSharing(
  input: readonly DataSharingRuleInput[] | undefined,
  term: AgreementTerm,
  issues: IssueList,
): DataSharingRule[] {
  const rules: DataSharingRule[] = [];
  issues.requireList(input, 'clauses.dataSharing').forEach((rule, i) => {
    const at = `clauses.dataSharing[${i}]`;
    const before = issues.issues.length;
    const member =
      rule.member === undefined || rule.member === null
        ? null
        : memberOf(rule.member, `${at}.member`, term, issues);
    if (!(AGENCY_KINDS as readonly string[]).includes(rule.agencyKind)) {
      issues.add(`${at}.agencyKind`, 'unknown-agency-kind', {
        zh: '未知的机构类型',
        en: `the agency kind is one of ${AGENCY_KINDS.join(', ')}`,
      });
    }
    if (!(DATA_SHARING_SCOPES as readonly string[]).includes(rule.scope)) {
      issues.add(`${at}.scope`, 'unknown-scope', {
        zh: `共享范围须为 ${DATA_SHARING_SCOPES.join('、')} 之一`,
        en: `the scope is one of ${DATA_SHARING_SCOPES.join(', ')}`,
      });
    }
    if (issues.issues.length > before) return;
    const parsed: DataSharingRule = {
      member: member ?? null,
      agencyKind: rule.agencyKind as AgencyKind,
      scope: rule.scope as DataSharingScope,
    };
    if (
      rules.some(
        (r) => r.member === parsed.member && r.agencyKind === parsed.agencyKind && r.scope === parsed.scope,
      )
    ) {
      issues.add(at, 'duplicate-sharing-rule', {
        zh: '数据共享规则重复',
        en: 'this data-sharing rule is listed twice',
      });
      return;
    }
    rules.push(parsed);
  });
  return rules;
}
