// `npm run -s import-facilities -- <file.csv> [--dry-run] [--json] [--url …] [--token …]`: imports existing
// facility licences (one row per facility and category) through the GraphQL gateway, as the bureau whose
// token it carries (`npm run -s token -- --agency sc-eeb`). The file is validated whole first (dry runs in
// chunks, every bad row reported by line, column and rule); nothing is imported while any row is bad.
// Then it is imported in chunks of whole licences, progress (rows done / total) on stderr.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { csvLine, parseCsv, type CsvRecord } from '../apps/transfer-service/src/facility/import/csv';
import { columnOfHeading } from '../apps/transfer-service/src/facility/import/licence-csv';
import { runAsProcess } from './cli-process';

export interface ImportCliIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}

interface Problem {
  line: number;
  column: string | null;
  field: string | null;
  rule: string;
  message: { zh: string; en: string };
  value: string | null;
}
interface Entry {
  licenceNumber: string;
  facilityId: string;
  outcome: 'REGISTERED' | 'UPDATED' | 'UNCHANGED';
  lines: number[];
}
interface Report {
  dryRun: boolean;
  accepted: boolean;
  rows: number;
  facilities: number;
  registered: number;
  updated: number;
  unchanged: number;
  problems: Problem[];
  entries: Entry[];
}

const DEFAULT_URL = 'http://localhost:4000/graphql';
/**
 * Whole licences per request, at most this many rows and CSV bytes: the gateway takes 1 MB, but a
 * subgraph parses JSON bodies up to Express's default 100 KB.
 */
const DEFAULT_CHUNK_ROWS = 500;
const MAX_CHUNK_BYTES = 64 * 1024;
const USAGE_EXIT = 2;

const USAGE = [
  '用法 / usage:',
  '  npm run -s import-facilities -- <file.csv> [--dry-run] [--json] [--url <graphql url>] [--token <token>]',
  '  --dry-run        仅校验，不导入 / validate only, import nothing',
  '  --json           以 JSON 输出报告 / print the report as JSON',
  `  --url            网关地址 / gateway GraphQL URL (default LIANFANG_URL or ${DEFAULT_URL})`,
  '  --token          用户令牌 / user token (default LIANFANG_TOKEN; npm run -s token -- --agency sc-eeb)',
  `  --chunk-rows <n> 每次请求的最多行数 / rows per request (default ${DEFAULT_CHUNK_ROWS})`,
  '列 / columns: 许可证编号 licence number, 中文名称 name zh, 英文名称 name en, 经营单位统一社会信用代码 operator',
  '  credit code, 行政区划代码 jurisdiction, 纬度 lat, 经度 lon, 类别 category, 年经营规模（吨） annual capacity',
  '  tonnes, 危险废物代码 waste codes (a;b), 有效期起 valid from, 有效期至 valid to',
];

const MUTATION = `mutation($key: String!, $csv: String!, $dryRun: Boolean) {
  importFacilities(idempotencyKey: $key, csv: $csv, dryRun: $dryRun) {
    dryRun accepted rows facilities registered updated unchanged
    problems { line column field rule message { zh en } value }
    entries { licenceNumber facilityId outcome lines }
  }
}`;

class UsageError extends Error {
  constructor(
    readonly zh: string,
    readonly en: string,
  ) {
    super(`${en} / ${zh}`);
  }
}

class RemoteError extends Error {}

/** A chunk of whole licences as its own CSV, and which line of the file each of its lines is. */
interface Chunk {
  readonly csv: string;
  readonly rows: number;
  readonly lineOf: ReadonlyMap<number, number>;
}

export async function runImportFacilitiesCli(argv: readonly string[], io: ImportCliIo): Promise<number> {
  let values: ReturnType<typeof parseOptions>['values'];
  let file: string;
  try {
    const parsed = parseOptions(argv);
    values = parsed.values;
    if (values.help) {
      USAGE.forEach((l) => io.out(l));
      return 0;
    }
    if (parsed.positionals.length !== 1)
      throw new UsageError('请指定一个 CSV 文件', 'name exactly one CSV file');
    file = parsed.positionals[0];
  } catch (e) {
    return usage(e, io);
  }
  const token = values.token ?? io.env.LIANFANG_TOKEN;
  if (!token)
    return usage(
      new UsageError(
        '缺少令牌：--token 或 LIANFANG_TOKEN（npm run -s token -- --agency sc-eeb）',
        'no token: --token or LIANFANG_TOKEN (npm run -s token -- --agency sc-eeb)',
      ),
      io,
    );
  const chunkRows = Number(values['chunk-rows'] ?? DEFAULT_CHUNK_ROWS);
  if (!Number.isInteger(chunkRows) || chunkRows < 1)
    return usage(new UsageError('--chunk-rows 须为正整数', '--chunk-rows is a positive whole number'), io);
  const url = values.url ?? io.env.LIANFANG_URL ?? DEFAULT_URL;
  const post = poster(url, token, io.fetch ?? fetch);

  let text: string;
  try {
    text = decode(await readFile(file));
  } catch (e) {
    io.err(`错误：无法读取 ${file} / error: cannot read ${file}: ${(e as Error).message}`);
    return 1;
  }
  const chunks = chunksOf(text, chunkRows);
  const total = chunks.reduce((n, c) => n + c.rows, 0);
  const runId = randomUUID();

  try {
    // 1. Validate the whole file: nothing is imported while any row is bad.
    const checked = await eachChunk(chunks, total, io, '校验 / validated', (chunk, i) =>
      post({ key: `${runId}-check-${i}`, csv: chunk.csv, dryRun: true }),
    );
    const problems = dedupe(checked.flatMap(({ chunk, report }) => mapLines(report.problems, chunk)));
    if (problems.length > 0 || !checked.every((c) => c.report.accepted)) {
      print(io, values.json === true, merge(checked, problems, true, false));
      return 1;
    }
    if (values['dry-run']) {
      print(io, values.json === true, merge(checked, [], true, true));
      return 0;
    }
    // 2. Import, chunk by chunk (each chunk all or nothing, each re-runnable).
    const imported = await eachChunk(chunks, total, io, '导入 / imported', (chunk, i) =>
      post({ key: `${runId}-import-${i}`, csv: chunk.csv, dryRun: false }),
    );
    const late = imported.flatMap(({ chunk, report }) => mapLines(report.problems, chunk));
    const ok = late.length === 0 && imported.every((c) => c.report.accepted);
    print(io, values.json === true, merge(imported, late, false, ok));
    if (!ok)
      io.err(
        '部分分块未导入（数据在校验后发生变化）：修正后重新运行同一文件即可 / some chunks were not imported (the data changed after validation): fix and run the same file again',
      );
    return ok ? 0 : 1;
  } catch (e) {
    if (e instanceof RemoteError) {
      io.err(e.message);
      return 1;
    }
    throw e;
  }
}

function usage(e: unknown, io: ImportCliIo): number {
  if (!(e instanceof UsageError)) throw e;
  io.err(`错误：${e.zh}`);
  io.err(`error: ${e.en}`);
  io.err('帮助 / help: npm run -s import-facilities -- --help');
  return USAGE_EXIT;
}

function parseOptions(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        url: { type: 'string' },
        token: { type: 'string' },
        'chunk-rows': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(
      `命令行参数有误（${(e as Error).message}）`,
      `bad command line: ${(e as Error).message}`,
    );
  }
}

/** UTF-8 (with or without BOM); a file that is not valid UTF-8 is read as GB18030 (Excel in Chinese). */
function decode(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('gb18030').decode(bytes);
  }
}

/** Rows of one licence stay in one chunk: the server checks a licence's rows together. */
export function chunksOf(text: string, maxRows: number): Chunk[] {
  const { records } = parseCsv(text);
  const [header, ...data] = records;
  // A file the reader cannot split (no header, broken quotes) goes whole: the server reports why.
  if (!header || data.length === 0 || parseCsv(text).problems.length > 0)
    return [{ csv: text, rows: data.length, lineOf: new Map() }];
  const licenceAt = header.cells.findIndex((h) => columnOfHeading(h.trim()) === 'licenceNumber');
  const groups = new Map<string, CsvRecord[]>();
  data.forEach((r, i) => {
    const licence = licenceAt >= 0 ? (r.cells[licenceAt] ?? '').trim() : '';
    const key = licence === '' ? `#${i}` : licence;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  });
  const headerLine = csvLine(header.cells);
  const chunks: Chunk[] = [];
  let rows: CsvRecord[] = [];
  let bytes = 0;
  const flush = () => {
    if (rows.length === 0) return;
    const lines = [headerLine];
    const lineOf = new Map<number, number>();
    let at = 2 + newlines(headerLine);
    for (const r of rows) {
      const line = csvLine(r.cells);
      lineOf.set(at, r.line);
      lines.push(line);
      at += 1 + newlines(line);
    }
    chunks.push({ csv: `${lines.join('\n')}\n`, rows: rows.length, lineOf });
    rows = [];
    bytes = 0;
  };
  for (const group of groups.values()) {
    const size = group.reduce((n, r) => n + Buffer.byteLength(csvLine(r.cells)) + 1, 0);
    if (rows.length > 0 && (rows.length + group.length > maxRows || bytes + size > MAX_CHUNK_BYTES)) flush();
    rows.push(...group);
    bytes += size;
  }
  flush();
  return chunks;
}

const newlines = (s: string) => (s.match(/\n/g) ?? []).length;

function mapLines(problems: readonly Problem[], chunk: Chunk): Problem[] {
  return problems.map((p) => ({ ...p, line: chunk.lineOf.get(p.line) ?? p.line }));
}

/** Header problems come back from every chunk: once is enough. */
function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems
    .filter((p) => {
      const key = JSON.stringify([p.line, p.column, p.rule, p.value]);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.line - b.line);
}

async function eachChunk(
  chunks: readonly Chunk[],
  total: number,
  io: ImportCliIo,
  label: string,
  send: (chunk: Chunk, i: number) => Promise<Report>,
): Promise<{ chunk: Chunk; report: Report }[]> {
  const done: { chunk: Chunk; report: Report }[] = [];
  let rows = 0;
  for (const [i, chunk] of chunks.entries()) {
    const report = await send(chunk, i);
    done.push({ chunk, report });
    rows += chunk.rows;
    io.err(`${label} ${rows}/${total}`);
  }
  return done;
}

function merge(
  parts: readonly { chunk: Chunk; report: Report }[],
  problems: Problem[],
  dryRun: boolean,
  accepted: boolean,
): Report {
  const sum = (k: 'rows' | 'facilities' | 'registered' | 'updated' | 'unchanged') =>
    parts.reduce((n, p) => n + p.report[k], 0);
  return {
    dryRun,
    accepted,
    rows: sum('rows'),
    facilities: sum('facilities'),
    registered: accepted ? sum('registered') : 0,
    updated: accepted ? sum('updated') : 0,
    unchanged: accepted ? sum('unchanged') : 0,
    problems,
    entries: accepted
      ? parts.flatMap(({ chunk, report }) =>
          report.entries.map((e) => ({ ...e, lines: e.lines.map((l) => chunk.lineOf.get(l) ?? l) })),
        )
      : [],
  };
}

function print(io: ImportCliIo, json: boolean, report: Report): void {
  if (json) {
    io.out(JSON.stringify(report, null, 2));
    return;
  }
  for (const p of report.problems)
    io.out(
      `第 ${p.line} 行 / line ${p.line}${p.column ? ` [${p.column}]` : ''} ${p.rule}: ${p.message.zh} / ${p.message.en}${p.value !== null ? ` (${p.value})` : ''}`,
    );
  if (!report.accepted) {
    io.out(
      `未导入：${report.problems.length} 个问题 / nothing imported: ${report.problems.length} problem(s) in ${report.rows} rows`,
    );
    return;
  }
  const verb = report.dryRun ? '将 / would be' : '已 / done';
  io.out(
    `${verb}: 新登记 registered ${report.registered}, 变更 updated ${report.updated}, 未变 unchanged ${report.unchanged} (${report.facilities} 个设施 facilities, ${report.rows} 行 rows)`,
  );
}

/** One GraphQL call, retried on network failures and 5xx with the same idempotency key. */
function poster(url: string, token: string, fetchImpl: typeof fetch) {
  return async (variables: { key: string; csv: string; dryRun: boolean }): Promise<Report> => {
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await fetchImpl(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: MUTATION, variables }),
        });
      } catch (e) {
        if (attempt < 3) {
          await new Promise((r) => setTimeout(r, 500 * attempt));
          continue;
        }
        throw new RemoteError(`错误：无法连接 ${url} / error: cannot reach ${url}: ${(e as Error).message}`);
      }
      if (res.status >= 500 && attempt < 3) {
        await new Promise((r) => setTimeout(r, 500 * attempt));
        continue;
      }
      const body = (await res.json().catch(() => null)) as {
        data?: { importFacilities?: Report } | null;
        errors?: { message: string; extensions?: { code?: string } }[];
      } | null;
      const report = body?.data?.importFacilities;
      if (report) return report;
      const error = body?.errors?.[0];
      throw new RemoteError(
        error
          ? `错误 / error (${error.extensions?.code ?? res.status}): ${error.message}`
          : `错误 / error: HTTP ${res.status} from ${url}`,
      );
    }
  };
}

if (require.main === module) {
  runAsProcess(runImportFacilitiesCli);
}
