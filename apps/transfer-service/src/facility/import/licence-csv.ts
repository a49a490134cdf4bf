/**
 * The licence CSV (existing licences, one row per facility and licensed category) read into licence
 * profiles, with every bad cell reported by line, column and rule. Cells are checked by the facility
 * decider's own field rules, so a value the import accepts is one the decider accepts.
 */
import type { BilingualText } from '@lianfang/domain-kernel';
import { CreditCode, LocalDate } from '@lianfang/domain-kernel';
import { DomainError } from '@lianfang/eventsourcing';
import { parseDegrees } from '../coordinates';
import {
  parseAnnualCapacity,
  parseCategory,
  parseJurisdiction,
  parseLicenceNumber,
  parseName,
  parseWasteCodes,
  type FacilityProfileInput,
} from '../decider';
import { required } from '../validation';
import { csvLine, parseCsv, type CsvRecord } from './csv';

export interface ImportProblem {
  readonly line: number;
  readonly column: string | null;
  readonly field: string | null;
  readonly rule: string;
  readonly message: BilingualText;
  readonly value: string | null;
}

export type LicenceColumn =
  | 'licenceNumber'
  | 'nameZh'
  | 'nameEn'
  | 'operatorCreditCode'
  | 'jurisdiction'
  | 'lat'
  | 'lon'
  | 'category'
  | 'annualCapacityTonnes'
  | 'wasteCodes'
  | 'validFrom'
  | 'validTo';

/** The columns, in the template's order, with the headings accepted for each (either language or both). */
export const LICENCE_COLUMNS: readonly {
  readonly key: LicenceColumn;
  readonly en: readonly string[];
  readonly zh: readonly string[];
}[] = [
  { key: 'licenceNumber', en: ['licence number', 'license number', 'licence no'], zh: ['许可证编号'] },
  { key: 'nameZh', en: ['name zh', 'chinese name'], zh: ['中文名称', '名称中文', '设施名称'] },
  { key: 'nameEn', en: ['name en', 'english name'], zh: ['英文名称', '名称英文'] },
  {
    key: 'operatorCreditCode',
    en: ['operator credit code', 'credit code'],
    zh: ['经营单位统一社会信用代码', '统一社会信用代码'],
  },
  { key: 'jurisdiction', en: ['jurisdiction'], zh: ['行政区划代码', '所在地行政区划代码', '所在地'] },
  { key: 'lat', en: ['lat', 'latitude'], zh: ['纬度'] },
  { key: 'lon', en: ['lon', 'lng', 'longitude'], zh: ['经度'] },
  { key: 'category', en: ['category', 'waste category'], zh: ['类别', '危险废物类别'] },
  {
    key: 'annualCapacityTonnes',
    en: ['annual capacity tonnes', 'annual capacity t', 'annual capacity'],
    zh: ['年经营规模（吨）', '年经营规模'],
  },
  { key: 'wasteCodes', en: ['waste codes'], zh: ['危险废物代码', '废物代码'] },
  { key: 'validFrom', en: ['valid from'], zh: ['有效期起', '有效期起始日', '起始日'] },
  { key: 'validTo', en: ['valid to'], zh: ['有效期至', '有效期截止日', '截止日'] },
];

/** The facility-level columns: every row of one licence must repeat the same values. */
const FACILITY_COLUMNS: readonly LicenceColumn[] = [
  'nameZh',
  'nameEn',
  'operatorCreditCode',
  'jurisdiction',
  'lat',
  'lon',
  'validFrom',
  'validTo',
];

/** The template's header: both languages in each cell. */
export const LICENCE_CSV_HEADER = csvLine(LICENCE_COLUMNS.map((c) => `${c.zh[0]} ${c.en[0]}`));

const latin = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
const han = (s: string) => s.replace(/[^\u3400-\u9fff]/g, '');
const EN = new Map(LICENCE_COLUMNS.flatMap((c) => c.en.map((a) => [latin(a), c.key] as const)));
const ZH = new Map(LICENCE_COLUMNS.flatMap((c) => c.zh.map((a) => [han(a), c.key] as const)));

/** Which column a heading names: its Chinese part or its Latin part ('许可证编号 / Licence number'). */
export function columnOfHeading(heading: string): LicenceColumn | undefined {
  const text = heading.normalize('NFKC');
  const zh = han(text);
  const en = latin(text);
  const byZh = zh ? ZH.get(zh) : undefined;
  const byEn = en ? EN.get(en) : undefined;
  if (byZh && byEn && byZh !== byEn) return undefined;
  return byZh ?? byEn;
}

/** One licence (facility) of the file: its profile as entered, and where each part came from. */
export interface LicenceGroup {
  readonly licenceNumber: string;
  readonly profile: FacilityProfileInput;
  /** Every line of the licence, in file order. */
  readonly lines: readonly number[];
  /** The line of `profile.licensed[i]`. */
  readonly categoryLines: readonly number[];
}

export interface LicenceFile {
  readonly rows: number;
  readonly groups: readonly LicenceGroup[];
  readonly problems: readonly ImportProblem[];
  /** The heading of each column as written in the file (for reports). */
  readonly headings: Readonly<Partial<Record<LicenceColumn, string>>>;
}

const problem = (
  line: number,
  column: string | null,
  field: string | null,
  rule: string,
  en: string,
  zh: string,
  value: string | null = null,
): ImportProblem => ({ line, column, field, rule, message: { en, zh }, value });

interface Row {
  readonly line: number;
  readonly cell: (c: LicenceColumn) => string;
}

/** Reads and checks the file; the groups hold only licences whose every row is valid. */
export function readLicenceCsv(text: string): LicenceFile {
  const { records, problems: csvProblems } = parseCsv(text);
  const problems: ImportProblem[] = csvProblems.map((p) =>
    p.rule === 'unterminated-quote'
      ? problem(
          p.line,
          null,
          null,
          'facility-import.unterminated-quote',
          'a quoted cell is never closed',
          '引号内的单元格没有结束引号',
        )
      : problem(
          p.line,
          null,
          null,
          'facility-import.text-after-quote',
          'text follows a closing quote; quote the whole cell',
          '结束引号后还有内容；请将整个单元格置于引号内',
        ),
  );
  const [header, ...data] = records;
  if (!header) {
    problems.push(
      problem(1, null, null, 'facility-import.empty', 'the file has no header row', '文件没有表头行'),
    );
    return { rows: 0, groups: [], problems, headings: {} };
  }

  const indexOf = new Map<LicenceColumn, number>();
  const headings: Partial<Record<LicenceColumn, string>> = {};
  header.cells.forEach((raw, i) => {
    const heading = raw.trim();
    if (heading === '') return;
    const key = columnOfHeading(heading);
    if (!key)
      problems.push(
        problem(
          header.line,
          heading,
          null,
          'facility-import.unknown-column',
          `unknown column "${heading}"`,
          `无法识别的列“${heading}”`,
          heading,
        ),
      );
    else if (indexOf.has(key))
      problems.push(
        problem(
          header.line,
          heading,
          key,
          'facility-import.duplicate-column',
          `column "${heading}" repeats "${headings[key]}"`,
          `列“${heading}”与“${headings[key]}”重复`,
          heading,
        ),
      );
    else {
      indexOf.set(key, i);
      headings[key] = heading;
    }
  });
  for (const c of LICENCE_COLUMNS)
    if (!indexOf.has(c.key) && c.key !== 'wasteCodes')
      problems.push(
        problem(
          header.line,
          `${c.zh[0]} ${c.en[0]}`,
          c.key,
          'facility-import.missing-column',
          `the column "${c.en[0]}" is missing`,
          `缺少“${c.zh[0]}”列`,
        ),
      );
  if (problems.some((p) => p.line === header.line))
    return { rows: data.length, groups: [], problems, headings };
  if (data.length === 0)
    problems.push(
      problem(
        header.line,
        null,
        null,
        'facility-import.empty',
        'the file has no data rows',
        '文件没有数据行',
      ),
    );

  const columnName = (c: LicenceColumn) => headings[c] ?? c;
  const rows: Row[] = [];
  for (const record of data) {
    if (record.cells.length !== header.cells.length) {
      problems.push(
        problem(
          record.line,
          null,
          null,
          'facility-import.cell-count',
          `the row has ${record.cells.length} cells, the header ${header.cells.length}`,
          `该行有 ${record.cells.length} 个单元格，表头有 ${header.cells.length} 个`,
        ),
      );
      continue;
    }
    rows.push(rowOf(record, indexOf));
  }

  // Each cell on its own, so every bad cell of a row is reported, not only the first.
  const bad = new Set<number>();
  const report = (row: Row, column: LicenceColumn, error: DomainError) => {
    bad.add(row.line);
    problems.push(cellProblem(row.line, columnName(column), column, row.cell(column), error));
  };
  const check = <T>(row: Row, column: LicenceColumn, parse: (v: string) => T): T | undefined => {
    try {
      return parse(row.cell(column));
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      report(row, column, e);
      return undefined;
    }
  };

  interface Checked {
    row: Row;
    licenceNumber?: string;
    /** Canonical values of the facility-level columns, for comparing rows of one licence. */
    facility: Partial<Record<LicenceColumn, string>>;
    category?: string;
  }
  const checked: Checked[] = rows.map((row) => {
    const licenceNumber = check(row, 'licenceNumber', parseLicenceNumber);
    const facility: Partial<Record<LicenceColumn, string>> = {
      nameZh: check(row, 'nameZh', (v) => parseName({ zh: v, en: v }).zh),
      nameEn: check(row, 'nameEn', (v) => parseName({ zh: v, en: v }).en),
      operatorCreditCode: check(
        row,
        'operatorCreditCode',
        (v) => required('facility', CreditCode.parse(v.trim(), 'operatorCreditCode')).value,
      ),
      jurisdiction: check(row, 'jurisdiction', (v) => parseJurisdiction(v.trim())),
      lat: check(row, 'lat', (v) => parseDegrees(v.trim(), 'lat', 'coordinates.lat')),
      lon: check(row, 'lon', (v) => parseDegrees(v.trim(), 'lon', 'coordinates.lon')),
      validFrom: check(row, 'validFrom', (v) =>
        required('facility', LocalDate.parse(v.trim(), 'validFrom')).toString(),
      ),
      validTo: check(row, 'validTo', (v) =>
        required('facility', LocalDate.parse(v.trim(), 'validTo')).toString(),
      ),
    };
    const category = check(row, 'category', (v) => parseCategory(v.trim(), 'category'));
    const shownCategory = category ?? row.cell('category').trim().toUpperCase();
    check(row, 'annualCapacityTonnes', (v) =>
      parseAnnualCapacity(v.trim(), shownCategory, 'annualCapacityTonnes'),
    );
    if (category) check(row, 'wasteCodes', (v) => parseWasteCodes(splitCodes(v), category, 'wasteCodes'));
    const { validFrom, validTo } = facility;
    if (validFrom && validTo && validTo < validFrom)
      report(
        row,
        'validTo',
        new DomainError({
          code: 'facility.licence-window',
          field: 'validTo',
          message: {
            en: `the licence cannot end (${validTo}) before it starts (${validFrom})`,
            zh: `许可证有效期截止日（${validTo}）不能早于起始日（${validFrom}）`,
          },
        }),
      );
    return { row, ...(licenceNumber ? { licenceNumber } : {}), facility, ...(category ? { category } : {}) };
  });

  // Rows of one licence: the same facility, each category once.
  const byLicence = new Map<string, Checked[]>();
  for (const c of checked) {
    if (!c.licenceNumber) continue;
    const list = byLicence.get(c.licenceNumber) ?? [];
    list.push(c);
    byLicence.set(c.licenceNumber, list);
  }
  for (const list of byLicence.values()) {
    const [first] = list;
    const seen = new Map<string, number>();
    for (const c of list) {
      for (const column of FACILITY_COLUMNS) {
        const mine = c.facility[column];
        const theirs = first.facility[column];
        if (c === first || mine === undefined || theirs === undefined || mine === theirs) continue;
        bad.add(c.row.line);
        problems.push(
          problem(
            c.row.line,
            columnName(column),
            column,
            'facility-import.inconsistent-licence',
            `"${mine}" differs from "${theirs}" on line ${first.row.line} for the same licence number`,
            `同一许可证编号下，“${mine}”与第 ${first.row.line} 行的“${theirs}”不一致`,
            c.row.cell(column),
          ),
        );
      }
      if (!c.category) continue;
      const earlier = seen.get(c.category);
      if (earlier !== undefined) {
        bad.add(c.row.line);
        problems.push(
          problem(
            c.row.line,
            columnName('category'),
            'category',
            'facility.duplicate-category',
            `category ${c.category} is listed twice for this licence (first on line ${earlier})`,
            `该许可证的类别 ${c.category} 重复列出（首次见第 ${earlier} 行）`,
            c.row.cell('category'),
          ),
        );
      } else seen.set(c.category, c.row.line);
    }
  }

  const groups: LicenceGroup[] = [];
  for (const [licenceNumber, list] of byLicence) {
    if (list.some((c) => bad.has(c.row.line))) continue;
    const first = list[0].row;
    groups.push({
      licenceNumber,
      lines: list.map((c) => c.row.line),
      categoryLines: list.map((c) => c.row.line),
      profile: {
        name: { zh: first.cell('nameZh').trim(), en: first.cell('nameEn').trim() },
        licenceNumber,
        operatorCreditCode: first.cell('operatorCreditCode').trim(),
        jurisdiction: first.cell('jurisdiction').trim(),
        coordinates: { lat: first.cell('lat').trim(), lon: first.cell('lon').trim() },
        licensed: list.map(({ row }) => {
          const codes = splitCodes(row.cell('wasteCodes'));
          return {
            category: row.cell('category').trim(),
            annualCapacityTonnes: row.cell('annualCapacityTonnes').trim(),
            ...(codes.length > 0 ? { wasteCodes: codes } : {}),
          };
        }),
        validFrom: first.cell('validFrom').trim(),
        validTo: first.cell('validTo').trim(),
      },
    });
  }
  problems.sort((a, b) => a.line - b.line);
  return { rows: data.length, groups, problems, headings };
}

/** '900-249-08; 900-041-49' (also '；' or '、'): the codes, blanks dropped. */
function splitCodes(cell: string): string[] {
  return cell
    .split(/[;；、]/)
    .map((c) => c.trim())
    .filter((c) => c !== '');
}

function rowOf(record: CsvRecord, indexOf: ReadonlyMap<LicenceColumn, number>): Row {
  return {
    line: record.line,
    cell: (c) => {
      const i = indexOf.get(c);
      return i === undefined ? '' : (record.cells[i] ?? '');
    },
  };
}

function cellProblem(
  line: number,
  column: string,
  field: LicenceColumn,
  value: string,
  error: DomainError,
): ImportProblem {
  return {
    line,
    column,
    field,
    rule: error.code,
    message: { en: error.messages.en, zh: error.messages.zh },
    value: value === '' ? null : value,
  };
}
