import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CreditCode, JurisdictionCode, nameOf, type BilingualText } from '@lianfang/domain-kernel';
import {
  AGENCY_KINDS,
  AGENCY_LEVELS,
  ROLES,
  type AgencyKind,
  type AgencyLevel,
  type Role,
} from '../identity';
import { DirectoryError, UnknownAgencyError, type DirectoryProblem } from './directory-error';

/**
 * The deployment's reference data: which jurisdictions take part, how they group into regions, and
 * which agencies act on the platform with which roles. Tokens are checked against it; the transfer
 * service registers its agencies from it.
 */
export interface DirectoryJurisdiction {
  /** GB/T 2260 code: `510000` Sichuan, `510100` Chengdu. */
  readonly code: string;
  readonly name: BilingualText;
  readonly level: 'provincial' | 'municipal';
  /** The province of a municipal jurisdiction; absent for a provincial one. */
  readonly parent?: string;
}

export interface DirectoryRegion {
  /** Stable id, e.g. `chengyu`. */
  readonly id: string;
  readonly name: BilingualText;
  /** Member jurisdictions (codes listed under `jurisdictions`). */
  readonly jurisdictions: readonly string[];
}

export interface DirectoryAgency {
  /** Stable id used in tokens and events, e.g. `sc-eeb`. */
  readonly id: string;
  readonly kind: AgencyKind;
  readonly name: BilingualText;
  /** Where the agency sits (its seat, for a regional body). */
  readonly jurisdiction: string;
  readonly level: AgencyLevel;
  /** The roles its staff may hold; a token may carry a subset. */
  readonly roles: readonly Role[];
  /** Unified social credit code; required for enterprises (generator, carrier, receiver). */
  readonly creditCode?: string;
  /** The region it serves or belongs to; required for a regional body. */
  readonly region?: string;
}

export interface AgencyDirectory {
  /** Where it was read from (file path or the caller's label). */
  readonly source: string;
  readonly jurisdictions: readonly DirectoryJurisdiction[];
  readonly regions: readonly DirectoryRegion[];
  readonly agencies: readonly DirectoryAgency[];
  agency(id: string): DirectoryAgency | undefined;
  /** The agency, or throws `UnknownAgencyError` (an `AuthenticationError` with code AGENCY_UNKNOWN). */
  requireAgency(id: string): DirectoryAgency;
  /** Agencies of `kind`, optionally only those sitting within `jurisdiction` (Sichuan includes Chengdu). */
  agenciesOfKind(kind: AgencyKind, jurisdiction?: string): DirectoryAgency[];
  /**
   * Agencies of `kind` whose jurisdiction covers `jurisdiction`, the closest first: for Chengdu
   * `municipal-bureau` gives the Chengdu bureau, `provincial-bureau` the Sichuan department.
   */
  agenciesResponsibleFor(kind: AgencyKind, jurisdiction: string): DirectoryAgency[];
  jurisdiction(code: string): DirectoryJurisdiction | undefined;
  region(id: string): DirectoryRegion | undefined;
}

/** Levels each kind of agency may sit at. */
export const LEVELS_OF_KIND: Readonly<Record<AgencyKind, readonly AgencyLevel[]>> = {
  generator: ['enterprise'],
  carrier: ['enterprise'],
  receiver: ['enterprise'],
  'provincial-bureau': ['provincial'],
  'municipal-bureau': ['municipal'],
  'finance-office': ['provincial', 'municipal'],
  'transport-department': ['provincial', 'municipal'],
  'public-security': ['provincial', 'municipal'],
  'enforcement-team': ['regional', 'provincial', 'municipal'],
  'incident-command': ['regional', 'provincial', 'municipal'],
  'regional-secretariat': ['regional', 'national'],
};

const ID_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** Reads and checks a directory file; a relative path is resolved against the working directory. */
export function loadDirectory(file: string): AgencyDirectory {
  const absolute = path.resolve(process.cwd(), file);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DirectoryError(absolute, [
      {
        path: '',
        rule: 'file.unreadable',
        message: {
          zh: `无法读取文件（${code ?? (e as Error).message}）：检查 DIRECTORY_FILE 或 --directory 指向的路径`,
          en: `the file cannot be read (${code ?? (e as Error).message}): check the path given by DIRECTORY_FILE or --directory`,
        },
      },
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DirectoryError(absolute, [
      {
        path: '',
        rule: 'file.json',
        message: {
          zh: `不是有效的 JSON：${(e as Error).message}`,
          en: `not valid JSON: ${(e as Error).message}`,
        },
      },
    ]);
  }
  return parseDirectory(json, absolute);
}

/** Checks a directory given as parsed JSON; throws `DirectoryError` listing every problem. */
export function parseDirectory(json: unknown, source: string): AgencyDirectory {
  const problems = new Problems();
  const report = problems.add;

  if (!isObject(json)) {
    report('', 'directory.type', '名录须为 JSON 对象', 'the directory must be a JSON object');
    throw new DirectoryError(source, problems.list);
  }
  checkKeys(json, '', ['jurisdictions', 'regions', 'agencies'], report);

  const jurisdictions = readList(json, 'jurisdictions', report, (item, at) =>
    readJurisdiction(item, at, report),
  );
  const byCode = new Map<string, DirectoryJurisdiction>();
  jurisdictions.forEach(({ value: j, at }) => {
    if (byCode.has(j.code))
      report(
        `${at}.code`,
        'code.duplicate',
        `行政区划代码 ${j.code} 重复`,
        `jurisdiction ${j.code} is listed twice`,
      );
    else byCode.set(j.code, j);
  });
  jurisdictions.forEach(({ value: j, at }) => {
    if (j.parent !== undefined && !byCode.has(j.parent))
      report(
        `${at}.parent`,
        'parent.unknown',
        `上级 ${j.parent} 不在 jurisdictions 中：先列出该省级行政区`,
        `parent ${j.parent} is not listed under jurisdictions: list the province too`,
      );
  });

  const regions = readList(json, 'regions', report, (item, at) => readRegion(item, at, report, byCode));
  const byRegion = new Map<string, DirectoryRegion>();
  regions.forEach(({ value: r, at }) => {
    if (byRegion.has(r.id))
      report(`${at}.id`, 'id.duplicate', `区域标识 ${r.id} 重复`, `region id ${r.id} is used twice`);
    else byRegion.set(r.id, r);
  });

  const agencies = readList(json, 'agencies', report, (item, at) =>
    readAgency(item, at, report, byCode, byRegion),
  );
  const byId = new Map<string, DirectoryAgency>();
  const creditCodes = new Map<string, string>();
  agencies.forEach(({ value: a, at }) => {
    if (byId.has(a.id))
      report(`${at}.id`, 'id.duplicate', `机构标识 ${a.id} 重复`, `agency id ${a.id} is used twice`);
    else byId.set(a.id, a);
    if (a.creditCode !== undefined) {
      const holder = creditCodes.get(a.creditCode);
      if (holder !== undefined && holder !== a.id)
        report(
          `${at}.creditCode`,
          'creditCode.duplicate',
          `统一社会信用代码 ${a.creditCode} 已属于 ${holder}`,
          `credit code ${a.creditCode} already belongs to ${holder}`,
        );
      else creditCodes.set(a.creditCode, a.id);
    }
  });

  if (problems.list.length > 0) throw new DirectoryError(source, problems.list);
  return createDirectory(
    source,
    jurisdictions.map((j) => j.value),
    regions.map((r) => r.value),
    agencies.map((a) => a.value),
  );
}

function createDirectory(
  source: string,
  jurisdictions: DirectoryJurisdiction[],
  regions: DirectoryRegion[],
  agencies: DirectoryAgency[],
): AgencyDirectory {
  const agencyById = new Map(agencies.map((a) => [a.id, a]));
  const jurisdictionByCode = new Map(jurisdictions.map((j) => [j.code, j]));
  const regionById = new Map(regions.map((r) => [r.id, r]));
  const code = (value: string) => {
    const parsed = JurisdictionCode.parse(value);
    return parsed.ok ? parsed.value : undefined;
  };
  return deepFreeze({
    source,
    jurisdictions,
    regions,
    agencies,
    agency: (id: string) => agencyById.get(id),
    requireAgency(id: string) {
      const agency = agencyById.get(id);
      if (!agency) throw new UnknownAgencyError(id, source);
      return agency;
    },
    agenciesOfKind(kind: AgencyKind, jurisdiction?: string) {
      const within = jurisdiction === undefined ? undefined : code(jurisdiction);
      if (jurisdiction !== undefined && within === undefined) return [];
      return agencies.filter(
        (a) =>
          a.kind === kind &&
          (within === undefined || within.contains(JurisdictionCode.parseOrThrow(a.jurisdiction))),
      );
    },
    agenciesResponsibleFor(kind: AgencyKind, jurisdiction: string) {
      const place = code(jurisdiction);
      if (place === undefined) return [];
      const depth = { county: 0, municipal: 1, provincial: 2 } as const;
      return agencies
        .filter((a) => a.kind === kind && JurisdictionCode.parseOrThrow(a.jurisdiction).contains(place))
        .sort(
          (a, b) =>
            depth[JurisdictionCode.parseOrThrow(a.jurisdiction).level] -
            depth[JurisdictionCode.parseOrThrow(b.jurisdiction).level],
        );
    },
    jurisdiction: (value: string) => jurisdictionByCode.get(value),
    region: (id: string) => regionById.get(id),
  });
}

type Report = (at: string, rule: string, zh: string, en: string) => void;

/** Collects every problem rather than stopping at the first. */
class Problems {
  readonly list: DirectoryProblem[] = [];
  readonly add: Report = (at, rule, zh, en) => {
    this.list.push({ path: at, rule, message: { zh, en } });
  };
}

function readJurisdiction(item: unknown, at: string, report: Report): DirectoryJurisdiction | undefined {
  if (!isObject(item)) {
    report(
      at,
      'jurisdiction.type',
      '须为对象 { code, name, level, parent? }',
      'must be an object { code, name, level, parent? }',
    );
    return undefined;
  }
  checkKeys(item, at, ['code', 'name', 'level', 'parent'], report);
  const name = readName(item, at, report);
  const level = item.level;
  if (level !== 'provincial' && level !== 'municipal')
    report(
      `${at}.level`,
      'level.value',
      '须为 provincial 或 municipal（县级行政区不在名录中列出）',
      'must be provincial or municipal (counties are not listed)',
    );
  const code = readCode(item.code, `${at}.code`, report);
  if (!code || name === undefined || (level !== 'provincial' && level !== 'municipal')) return undefined;
  let ok = true;
  if (code.level !== level) {
    ok = false;
    report(
      `${at}.level`,
      'level.code',
      `代码 ${code.value} 是${levelZh(code.level)}代码，与 level ${level} 不符`,
      `code ${code.value} is a ${code.level} code, not ${level}`,
    );
  }
  const known = nameOf(code);
  if (known && (known.zh !== name.zh || known.en !== name.en)) {
    ok = false;
    report(
      `${at}.name`,
      'name.code',
      `代码 ${code.value} 是${known.zh}（${known.en}），名称写成了 ${name.zh}（${name.en}）：核对代码或名称`,
      `code ${code.value} is ${known.en} (${known.zh}), but the name says ${name.en} (${name.zh}): check the code or the name`,
    );
  }
  const parent = item.parent;
  if (level === 'provincial' && parent !== undefined) {
    ok = false;
    report(
      `${at}.parent`,
      'parent.provincial',
      '省级行政区没有上级：删除 parent',
      'a provincial jurisdiction has no parent: remove parent',
    );
  }
  if (level === 'municipal') {
    if (parent !== code.provinceCode.value) {
      ok = false;
      report(
        `${at}.parent`,
        'parent.province',
        `地市 ${code.value} 的 parent 须为所属省份 ${code.provinceCode.value}`,
        `the parent of city ${code.value} must be its province ${code.provinceCode.value}`,
      );
    }
  }
  if (!ok) return undefined;
  return {
    code: code.value,
    name,
    level,
    ...(level === 'municipal' ? { parent: code.provinceCode.value } : {}),
  };
}

function readRegion(
  item: unknown,
  at: string,
  report: Report,
  jurisdictions: ReadonlyMap<string, DirectoryJurisdiction>,
): DirectoryRegion | undefined {
  if (!isObject(item)) {
    report(
      at,
      'region.type',
      '须为对象 { id, name, jurisdictions }',
      'must be an object { id, name, jurisdictions }',
    );
    return undefined;
  }
  checkKeys(item, at, ['id', 'name', 'jurisdictions'], report);
  const id = readId(item, at, report);
  const name = readName(item, at, report);
  const members = item.jurisdictions;
  let ok = id !== undefined && name !== undefined;
  if (!Array.isArray(members) || members.length === 0) {
    report(
      `${at}.jurisdictions`,
      'jurisdictions.nonEmpty',
      '须为非空的行政区划代码列表',
      'must be a non-empty list of jurisdiction codes',
    );
    return undefined;
  }
  members.forEach((member, i) => {
    if (typeof member !== 'string' || !jurisdictions.has(member)) {
      ok = false;
      report(
        `${at}.jurisdictions[${i}]`,
        'jurisdiction.unknown',
        `${String(member)} 不在 jurisdictions 中`,
        `${String(member)} is not listed under jurisdictions`,
      );
    }
  });
  if (new Set(members).size !== members.length) {
    ok = false;
    report(`${at}.jurisdictions`, 'jurisdictions.duplicate', '成员重复', 'a member is listed twice');
  }
  return ok ? { id: id!, name: name!, jurisdictions: members as string[] } : undefined;
}

function readAgency(
  item: unknown,
  at: string,
  problems: Report,
  jurisdictions: ReadonlyMap<string, DirectoryJurisdiction>,
  regions: ReadonlyMap<string, DirectoryRegion>,
): DirectoryAgency | undefined {
  if (!isObject(item)) {
    problems(
      at,
      'agency.type',
      '须为对象 { id, kind, name, jurisdiction, level, roles, creditCode?, region? }',
      'must be an object { id, kind, name, jurisdiction, level, roles, creditCode?, region? }',
    );
    return undefined;
  }
  // a faulty agency is reported and left out; count this agency's own faults
  let faults = 0;
  const report: Report = (...args) => {
    faults++;
    problems(...args);
  };
  checkKeys(
    item,
    at,
    ['id', 'kind', 'name', 'jurisdiction', 'level', 'roles', 'creditCode', 'region'],
    report,
  );
  const id = readId(item, at, report);
  const name = readName(item, at, report);

  const kind = item.kind;
  const kindOk = typeof kind === 'string' && (AGENCY_KINDS as readonly string[]).includes(kind);
  if (!kindOk)
    report(
      `${at}.kind`,
      'kind.value',
      `须为以下之一：${AGENCY_KINDS.join('、')}`,
      `must be one of ${AGENCY_KINDS.join(', ')}`,
    );
  const level = item.level;
  const levelOk = typeof level === 'string' && (AGENCY_LEVELS as readonly string[]).includes(level);
  if (!levelOk)
    report(
      `${at}.level`,
      'level.value',
      `须为以下之一：${AGENCY_LEVELS.join('、')}`,
      `must be one of ${AGENCY_LEVELS.join(', ')}`,
    );
  if (kindOk && levelOk) {
    const allowed = LEVELS_OF_KIND[kind as AgencyKind];
    if (!allowed.includes(level as AgencyLevel))
      report(
        `${at}.level`,
        'level.kind',
        `${kind} 的 level 须为 ${allowed.join(' 或 ')}，不能是 ${level}`,
        `a ${kind} sits at level ${allowed.join(' or ')}, not ${level}`,
      );
  }

  const code = readCode(item.jurisdiction, `${at}.jurisdiction`, report);
  if (code && !jurisdictions.has(code.value))
    report(
      `${at}.jurisdiction`,
      'jurisdiction.unknown',
      `${code.value} 不在 jurisdictions 中：先在 jurisdictions 中列出它`,
      `${code.value} is not listed under jurisdictions: list it there first`,
    );
  else if (code && levelOk && (level === 'provincial' || level === 'municipal') && code.level !== level)
    report(
      `${at}.jurisdiction`,
      `jurisdiction.${level}`,
      `${levelZh(level)}机构须位于${levelZh(level)}行政区划代码上，${code.value} 是${levelZh(code.level)}代码`,
      `a ${level} agency must sit on a ${level} jurisdiction code; ${code.value} is ${code.level}`,
    );

  const region = item.region;
  if (region !== undefined) {
    const known = typeof region === 'string' ? regions.get(region) : undefined;
    if (!known)
      report(
        `${at}.region`,
        'region.unknown',
        `${String(region)} 不在 regions 中`,
        `${String(region)} is not listed under regions`,
      );
    else if (code && !known.jurisdictions.some((m) => JurisdictionCode.parseOrThrow(m).contains(code)))
      report(
        `${at}.region`,
        'region.jurisdiction',
        `${code.value} 不属于区域 ${known.id} 的任何成员（${known.jurisdictions.join('、')}）`,
        `${code.value} lies in none of region ${known.id}'s members (${known.jurisdictions.join(', ')})`,
      );
  } else if (level === 'regional')
    report(
      `${at}.region`,
      'region.required',
      '区域级机构须写明 region',
      'a regional agency must name its region',
    );

  const roles = item.roles;
  if (!Array.isArray(roles) || roles.length === 0)
    report(
      `${at}.roles`,
      'roles.nonEmpty',
      `须为非空列表，取值 ${ROLES.join('、')}`,
      `must be a non-empty list of ${ROLES.join(', ')}`,
    );
  else {
    roles.forEach((role, i) => {
      if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role))
        report(
          `${at}.roles[${i}]`,
          'role.value',
          `${String(role)} 不是角色；可选 ${ROLES.join('、')}`,
          `${String(role)} is not a role; use ${ROLES.join(', ')}`,
        );
    });
    if (new Set(roles).size !== roles.length)
      report(`${at}.roles`, 'roles.duplicate', '角色重复', 'a role is listed twice');
  }

  const enterprise = kindOk && LEVELS_OF_KIND[kind as AgencyKind].includes('enterprise');
  let creditCode: string | undefined;
  if (item.creditCode !== undefined) {
    const parsed = CreditCode.parse(item.creditCode as string, `${at}.creditCode`);
    if (parsed.ok) creditCode = parsed.value.value;
    else report(parsed.error.field, parsed.error.rule, parsed.error.message.zh, parsed.error.message.en);
  } else if (enterprise)
    report(
      `${at}.creditCode`,
      'creditCode.required',
      '企业（产废、运输、接收单位）须填写统一社会信用代码',
      'an enterprise (generator, carrier, receiver) needs its unified social credit code',
    );

  if (faults > 0) return undefined;
  return {
    id: id!,
    kind: kind as AgencyKind,
    name: name!,
    jurisdiction: code!.value,
    level: level as AgencyLevel,
    roles: roles as Role[],
    ...(creditCode !== undefined ? { creditCode } : {}),
    ...(region !== undefined ? { region: region as string } : {}),
  };
}

function readList<T>(
  json: Record<string, unknown>,
  key: string,
  report: Report,
  read: (item: unknown, at: string) => T | undefined,
): { value: T; at: string }[] {
  const list = json[key];
  if (!Array.isArray(list)) {
    report(key, `${key}.type`, `须为列表`, `must be a list`);
    return [];
  }
  const out: { value: T; at: string }[] = [];
  list.forEach((item, i) => {
    const at = `${key}[${i}]`;
    const value = read(item, at);
    if (value !== undefined) out.push({ value, at });
  });
  return out;
}

function readId(item: Record<string, unknown>, at: string, report: Report): string | undefined {
  const id = item.id;
  if (typeof id === 'string' && ID_PATTERN.test(id)) return id;
  report(
    `${at}.id`,
    'id.format',
    '须为小写字母、数字和连字符组成的标识，如 sc-eeb',
    'must be lowercase letters, digits and hyphens, e.g. sc-eeb',
  );
  return undefined;
}

function readName(item: Record<string, unknown>, at: string, report: Report): BilingualText | undefined {
  const name = item.name;
  if (
    isObject(name) &&
    typeof name.zh === 'string' &&
    name.zh.trim() !== '' &&
    typeof name.en === 'string' &&
    name.en.trim() !== ''
  ) {
    checkKeys(name, `${at}.name`, ['zh', 'en'], report);
    return { zh: name.zh, en: name.en };
  }
  report(
    `${at}.name`,
    'name.bilingual',
    '须为 { "zh": 中文名称, "en": 英文名称 }，均不能为空',
    'must be { "zh": Chinese name, "en": English name }, both non-empty',
  );
  return undefined;
}

function readCode(value: unknown, at: string, report: Report): JurisdictionCode | undefined {
  const parsed = JurisdictionCode.parse(value as string, at);
  if (parsed.ok) return parsed.value;
  report(parsed.error.field, parsed.error.rule, parsed.error.message.zh, parsed.error.message.en);
  return undefined;
}

/** A misspelt key (`jurisdicton`) would otherwise be silently ignored; `$comment`-style keys are notes. */
function checkKeys(
  item: Record<string, unknown>,
  at: string,
  allowed: readonly string[],
  report: Report,
): void {
  for (const key of Object.keys(item))
    if (!allowed.includes(key) && !key.startsWith('$'))
      report(
        at ? `${at}.${key}` : key,
        'property.unknown',
        `未知字段；可用字段：${allowed.join('、')}（以 $ 开头的字段作注释）`,
        `unknown property; expected ${allowed.join(', ')} (keys starting with $ are comments)`,
      );
}

function levelZh(level: string): string {
  return (
    ({ provincial: '省级', municipal: '地市级', county: '县级' } as Record<string, string>)[level] ?? level
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
