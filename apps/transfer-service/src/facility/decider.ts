/**
 * Licensed facilities (资源优化共享): what a receiving facility is licensed to take, how much a year,
 * where it is and until when. The capacity it publishes feeds one capacity ledger per category and
 * year (../capacity); whether it may receive new manifests is read from this state by other steps.
 */
import {
  CreditCode,
  JurisdictionCode,
  LocalDate,
  Quantity,
  WasteCategory,
  WasteCode,
  type BilingualText,
  type Result,
} from '@lianfang/domain-kernel';
import { assertNever, DomainError, type Command, type DomainEvent } from '@lianfang/eventsourcing';
import { parseCoordinates, type Coordinates } from './coordinates';
import { required } from './validation';

/** One licensed category as entered (e.g. from a form or the licence CSV): capacity in tonnes. */
export interface LicensedCategoryInput {
  readonly category: string;
  /** Licensed annual capacity for the category, tonnes, exact (at most 6 decimals: a gram). */
  readonly annualCapacityTonnes: string;
  /** Only these codes of the category; absent or empty: the whole category is licensed. */
  readonly wasteCodes?: readonly string[];
}

export interface FacilityProfileInput {
  readonly name?: BilingualText;
  readonly licenceNumber: string;
  readonly operatorCreditCode: string;
  /** GB/T 2260 code of the facility's city (or a county within it), never a whole province. */
  readonly jurisdiction: string;
  readonly coordinates: Coordinates;
  readonly licensed: readonly LicensedCategoryInput[];
  /** Licence validity, both days included (YYYY-MM-DD, Asia/Shanghai). */
  readonly validFrom: string;
  readonly validTo: string;
}

/** A licensed category as recorded: capacity in kilograms (3 decimals), codes normalised and sorted. */
export interface LicensedCategory {
  readonly category: string;
  readonly annualCapacityKg: string;
  readonly wasteCodes?: readonly string[];
}

/** The facility's licence as recorded in events: every value validated and in canonical form. */
export interface FacilityProfile {
  readonly name?: BilingualText;
  readonly licenceNumber: string;
  readonly operatorCreditCode: string;
  readonly jurisdiction: string;
  readonly coordinates: Coordinates;
  /** Sorted by category. */
  readonly licensed: readonly LicensedCategory[];
  readonly validFrom: string;
  readonly validTo: string;
}

/** How a licence change moves a category's annual capacity ('0.000' for an added or dropped category). */
export interface CapacityChange {
  readonly category: string;
  readonly fromKg: string;
  readonly toKg: string;
}

export type FacilityCommand =
  | Command<'RegisterFacility', { facilityId: string; profile: FacilityProfileInput }>
  | Command<'UpdateFacility', { facilityId: string; changes: Partial<FacilityProfileInput>; reason?: string }>
  | Command<'SuspendFacility', { facilityId: string; reason: string }>
  | Command<'ReinstateFacility', { facilityId: string; reason?: string }>
  | Command<'RevokeFacility', { facilityId: string; reason: string }>;

export type FacilityEvent =
  | DomainEvent<'FacilityRegistered', { facilityId: string; profile: FacilityProfile }>
  | DomainEvent<
      'FacilityUpdated',
      {
        facilityId: string;
        profile: FacilityProfile;
        changed: string[];
        capacityChanges: CapacityChange[];
        reason?: string;
      }
    >
  | DomainEvent<'FacilitySuspended', { facilityId: string; reason: string }>
  | DomainEvent<'FacilityReinstated', { facilityId: string; reason?: string }>
  | DomainEvent<'FacilityRevoked', { facilityId: string; reason: string }>;

export type FacilityStatus = 'active' | 'suspended' | 'revoked';

export type FacilityState =
  | { readonly status: 'unregistered' }
  | {
      readonly status: FacilityStatus;
      readonly facilityId: string;
      readonly profile: FacilityProfile;
      /** Why it is suspended or revoked (the latest reason). */
      readonly reason?: string;
    };

export const facilityStream = (facilityId: string) => `facility-${facilityId}`;

const PROFILE_FIELDS: readonly (keyof FacilityProfile)[] = [
  'name',
  'licenceNumber',
  'operatorCreditCode',
  'jurisdiction',
  'coordinates',
  'licensed',
  'validFrom',
  'validTo',
];

const refuse = (code: string, field: string | undefined, en: string, zh: string, details?: object) =>
  new DomainError({
    code: `facility.${code}`,
    message: { en, zh },
    ...(field ? { field } : {}),
    ...(details ? { details: { ...details } } : {}),
  });

const kernel = <T>(result: Result<T>): T => required('facility', result);

export function parseName(name: unknown): BilingualText {
  const n = (typeof name === 'object' && name !== null ? name : {}) as Record<string, unknown>;
  const zh = typeof n['zh'] === 'string' ? n['zh'].trim() : '';
  const en = typeof n['en'] === 'string' ? n['en'].trim() : '';
  if (!zh || !en)
    throw refuse(
      'name-required',
      'name',
      'a facility name needs both Chinese and English',
      '设施名称须有中英文',
    );
  return { zh, en };
}

export function parseLicenceNumber(input: unknown): string {
  const value = typeof input === 'string' ? input.trim() : '';
  if (!value)
    throw refuse(
      'licence-number-required',
      'licenceNumber',
      'the licence number is required',
      '许可证编号不能为空',
    );
  if (value.length > 64)
    throw refuse(
      'licence-number-too-long',
      'licenceNumber',
      'the licence number has at most 64 characters',
      '许可证编号最多64个字符',
      { value },
    );
  return value;
}

export function parseJurisdiction(input: string): string {
  const code = kernel(JurisdictionCode.parse(input, 'jurisdiction'));
  // Municipal bureaus supervise by city, so a facility must be placed at least in its city.
  if (code.level === 'provincial')
    throw refuse(
      'jurisdiction-not-city',
      'jurisdiction',
      'a facility is located by its city (or county) code, not by its province',
      '设施所在地须填写地市（或区县）级行政区划代码，不能只填省级代码',
      { value: input },
    );
  return code.value;
}

/** A licensed category's code ('hw08' → 'HW08'). */
export function parseCategory(input: string, field: string): string {
  return kernel(WasteCategory.parse(input, field)).code;
}

/** A category's licensed annual capacity in tonnes, exact and more than zero, as kg ('1000.000'). */
export function parseAnnualCapacity(input: string, category: string, field: string): string {
  const capacity = kernel(Quantity.fromTonnes(input, field));
  if (capacity.isZero())
    throw refuse(
      'capacity-not-positive',
      field,
      `the annual capacity of ${category} must be more than zero`,
      `${category} 的年经营规模须大于零`,
      { category },
    );
  return capacity.toKgString();
}

/** The waste codes a category is limited to: national list codes of that category, distinct, sorted. */
export function parseWasteCodes(input: readonly string[], category: string, field: string): string[] {
  const codes = new Set<string>();
  input.forEach((raw, j) => {
    const code = kernel(WasteCode.parse(raw, `${field}[${j}]`));
    if (code.category.code !== category)
      throw refuse(
        'waste-code-outside-category',
        `${field}[${j}]`,
        `waste code ${code.value} belongs to ${code.category.code}, not ${category}`,
        `危险废物代码 ${code.value} 属于 ${code.category.code}，不属于 ${category}`,
        { wasteCode: code.value, category },
      );
    codes.add(code.value);
  });
  return [...codes].sort();
}

/** One licensed category at `at` (e.g. `licensed[0]`): category normalised, capacity in kg, codes sorted. */
function parseLicensedEntry(entry: LicensedCategoryInput, at: string): LicensedCategory {
  const category = parseCategory(entry.category, `${at}.category`);
  const annualCapacityKg = parseAnnualCapacity(
    entry.annualCapacityTonnes,
    category,
    `${at}.annualCapacityTonnes`,
  );
  const codes = parseWasteCodes(entry.wasteCodes ?? [], category, `${at}.wasteCodes`);
  return { category, annualCapacityKg, ...(codes.length > 0 ? { wasteCodes: codes } : {}) };
}

function parseLicensed(input: unknown): LicensedCategory[] {
  if (!Array.isArray(input) || input.length === 0)
    throw refuse(
      'licensed-scope-empty',
      'licensed',
      'a facility is licensed for at least one category',
      '设施须至少持有一个危险废物类别的经营许可',
    );
  const seen = new Set<string>();
  const licensed = (input as LicensedCategoryInput[]).map((entry, i): LicensedCategory => {
    const at = `licensed[${i}]`;
    const category = parseCategory(entry.category, `${at}.category`);
    if (seen.has(category))
      throw refuse(
        'duplicate-category',
        `${at}.category`,
        `category ${category} is listed twice`,
        `类别 ${category} 重复列出`,
        { category },
      );
    seen.add(category);
    return parseLicensedEntry(entry, at);
  });
  return licensed.sort((a, b) => a.category.localeCompare(b.category));
}

function checkWindow(validFrom: string, validTo: string): void {
  const from = kernel(LocalDate.parse(validFrom, 'validFrom'));
  const to = kernel(LocalDate.parse(validTo, 'validTo'));
  if (to.isBefore(from))
    throw refuse(
      'licence-window',
      'validTo',
      `the licence cannot end (${validTo}) before it starts (${validFrom})`,
      `许可证有效期截止日（${validTo}）不能早于起始日（${validFrom}）`,
      { validFrom, validTo },
    );
}

function checkNotExpired(validTo: string, now: Date): void {
  const today = LocalDate.ofInstant(now);
  if (LocalDate.parseOrThrow(validTo, 'validTo').isBefore(today))
    throw refuse(
      'licence-expired',
      'validTo',
      `the licence expired on ${validTo}`,
      `许可证已于 ${validTo} 到期`,
      { validTo, today: today.toString() },
    );
}

/** Validates the fields present in `input` and lays them over `base` (all of them on registration). */
function applyInput(
  base: FacilityProfile | undefined,
  input: Partial<FacilityProfileInput>,
): FacilityProfile {
  const has = (k: keyof FacilityProfileInput) => base === undefined || input[k] !== undefined;
  const pick = <K extends keyof FacilityProfile>(k: K, parse: () => FacilityProfile[K]) =>
    has(k) ? parse() : (base as FacilityProfile)[k];
  const name = input.name !== undefined ? parseName(input.name) : base?.name;
  const profile: FacilityProfile = {
    ...(name ? { name } : {}),
    licenceNumber: pick('licenceNumber', () => parseLicenceNumber(input.licenceNumber)),
    operatorCreditCode: pick(
      'operatorCreditCode',
      () => kernel(CreditCode.parse(input.operatorCreditCode as string, 'operatorCreditCode')).value,
    ),
    jurisdiction: pick('jurisdiction', () => parseJurisdiction(input.jurisdiction as string)),
    coordinates: pick('coordinates', () => parseCoordinates(input.coordinates)),
    licensed: pick('licensed', () => parseLicensed(input.licensed)),
    validFrom: pick('validFrom', () =>
      kernel(LocalDate.parse(input.validFrom as string, 'validFrom')).toString(),
    ),
    validTo: pick('validTo', () => kernel(LocalDate.parse(input.validTo as string, 'validTo')).toString()),
  };
  checkWindow(profile.validFrom, profile.validTo);
  return profile;
}

/** Field names whose values differ, in a stable order (what an update changed). */
export function changedFields(before: FacilityProfile, after: FacilityProfile): string[] {
  return PROFILE_FIELDS.filter((k) => JSON.stringify(before[k] ?? null) !== JSON.stringify(after[k] ?? null));
}

/** Per category, how the annual capacity moved: what the capacity ledgers of that year must follow. */
export function capacityChanges(before: FacilityProfile, after: FacilityProfile): CapacityChange[] {
  const zero = Quantity.ZERO.toKgString();
  const from = new Map(before.licensed.map((l) => [l.category, l.annualCapacityKg]));
  const to = new Map(after.licensed.map((l) => [l.category, l.annualCapacityKg]));
  return [...new Set([...from.keys(), ...to.keys()])]
    .sort()
    .map((category) => ({ category, fromKg: from.get(category) ?? zero, toKg: to.get(category) ?? zero }))
    .filter((c) => c.fromKg !== c.toKg);
}

function requireReason(reason: unknown): string {
  const value = typeof reason === 'string' ? reason.trim() : '';
  if (!value) throw refuse('reason-required', 'reason', 'a reason is required', '须说明理由');
  return value;
}

type Registered = Exclude<FacilityState, { status: 'unregistered' }>;

/** The facility, if it can still change: never registered and revoked (final) are refusals. */
function changeable(state: FacilityState, facilityId: string): Registered {
  if (state.status === 'unregistered')
    throw refuse(
      'not-registered',
      'facilityId',
      `facility ${facilityId} is not registered`,
      `设施 ${facilityId} 未登记`,
    );
  if (state.status === 'revoked')
    throw refuse(
      'revoked',
      'facilityId',
      `facility ${facilityId} has had its licence revoked; revocation is final`,
      `设施 ${facilityId} 的许可证已被吊销，吊销不可撤回`,
      { reason: state.reason },
    );
  return state;
}

export const facilityDecider = {
  initialState: (): FacilityState => ({ status: 'unregistered' }),

  decide(command: FacilityCommand, state: FacilityState): FacilityEvent[] {
    const { facilityId } = command.data;
    switch (command.type) {
      case 'RegisterFacility': {
        if (state.status !== 'unregistered')
          throw refuse(
            'already-registered',
            'facilityId',
            `facility ${facilityId} is already registered`,
            `设施 ${facilityId} 已登记`,
          );
        const profile = applyInput(undefined, command.data.profile);
        checkNotExpired(profile.validTo, command.metadata.now);
        return [{ type: 'FacilityRegistered', data: { facilityId, profile } }];
      }
      case 'UpdateFacility': {
        const current = changeable(state, facilityId);
        const profile = applyInput(current.profile, command.data.changes);
        const changed = changedFields(current.profile, profile);
        // Re-sending the licence as it stands records nothing (e.g. a repeated CSV import).
        if (changed.length === 0) return [];
        // A renewal must leave a licence in force; other corrections to an expired licence are allowed.
        if (changed.includes('validTo')) checkNotExpired(profile.validTo, command.metadata.now);
        const reason = command.data.reason?.trim();
        return [
          {
            type: 'FacilityUpdated',
            data: {
              facilityId,
              profile,
              changed,
              capacityChanges: capacityChanges(current.profile, profile),
              ...(reason ? { reason } : {}),
            },
          },
        ];
      }
      case 'SuspendFacility': {
        const current = changeable(state, facilityId);
        const reason = requireReason(command.data.reason);
        if (current.status === 'suspended') return [];
        return [{ type: 'FacilitySuspended', data: { facilityId, reason } }];
      }
      case 'ReinstateFacility': {
        const current = changeable(state, facilityId);
        if (current.status === 'active') return [];
        const reason = command.data.reason?.trim();
        return [{ type: 'FacilityReinstated', data: { facilityId, ...(reason ? { reason } : {}) } }];
      }
      case 'RevokeFacility': {
        if (state.status === 'revoked') return [];
        changeable(state, facilityId);
        const reason = requireReason(command.data.reason);
        return [{ type: 'FacilityRevoked', data: { facilityId, reason } }];
      }
      default:
        return assertNever(command);
    }
  },

  evolve(state: FacilityState, event: FacilityEvent): FacilityState {
    switch (event.type) {
      case 'FacilityRegistered':
        return { status: 'active', facilityId: event.data.facilityId, profile: event.data.profile };
      case 'FacilityUpdated':
        return state.status === 'unregistered' ? state : { ...state, profile: event.data.profile };
      case 'FacilitySuspended':
        return state.status === 'unregistered'
          ? state
          : { ...state, status: 'suspended', reason: event.data.reason };
      case 'FacilityReinstated': {
        if (state.status === 'unregistered') return state;
        return { status: 'active', facilityId: state.facilityId, profile: state.profile };
      }
      case 'FacilityRevoked':
        return state.status === 'unregistered'
          ? state
          : { ...state, status: 'revoked', reason: event.data.reason };
      default:
        return assertNever(event);
    }
  },
};

const asDate = (d: LocalDate | string, field = 'onDate') =>
  typeof d === 'string' ? LocalDate.parseOrThrow(d, field) : d;

/**
 * Whether a new manifest may be opened to this facility on `onDate`: it is active (not suspended,
 * not revoked) and its licence is in force that day, both ends included.
 */
export function acceptsNewManifests(state: FacilityState, onDate: LocalDate | string): boolean {
  if (state.status !== 'active') return false;
  const day = asDate(onDate);
  return (
    !day.isBefore(LocalDate.parseOrThrow(state.profile.validFrom)) &&
    !day.isAfter(LocalDate.parseOrThrow(state.profile.validTo))
  );
}

/** Whether the licence covers the code: its category is licensed, wholly or for that very code. */
export function isLicensedFor(profile: FacilityProfile, wasteCode: WasteCode | string): boolean {
  const code = typeof wasteCode === 'string' ? WasteCode.parseOrThrow(wasteCode) : wasteCode;
  const entry = profile.licensed.find((l) => l.category === code.category.code);
  return entry !== undefined && (entry.wasteCodes === undefined || entry.wasteCodes.includes(code.value));
}

/** Whether the facility can take this waste code on `onDate` (status, licence window and scope). */
export function canTake(
  state: FacilityState,
  query: { readonly wasteCode: WasteCode | string; readonly onDate: LocalDate | string },
): boolean {
  if (state.status === 'unregistered' || !acceptsNewManifests(state, query.onDate)) return false;
  return isLicensedFor(state.profile, query.wasteCode);
}

/** The licensed annual capacity of a category in kg ('1000.000'), or undefined when not licensed. */
export function licensedCapacityKg(state: FacilityState, category: string): string | undefined {
  if (state.status === 'unregistered') return undefined;
  const code = category.toUpperCase();
  return state.profile.licensed.find((l) => l.category === code)?.annualCapacityKg;
}
