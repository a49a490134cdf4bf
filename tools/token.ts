// `npm run -s token -- --agency <id> [--roles a,b] [--subject s] [--ttl 12h]`: a development user token
// for an agency of the directory, signed by the dev issuer that the embedded gateway trusts. Only the
// token goes to stdout, so `TOKEN=$(npm run -s token -- --agency sc-eeb)` works. `--list` shows the ids.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import {
  DevTokenError,
  DirectoryError,
  issueDevToken,
  loadDirectory,
  ROLES,
  UnknownAgencyError,
  type AgencyDirectory,
  type Role,
} from '@lianfang/auth';
import { runAsProcess } from './cli-process';

export interface TokenCliIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
}

const DEFAULT_DIRECTORY = 'config/directory/demo-region.json';
/** A usage mistake the person can fix by changing the command line. */
const USAGE_EXIT = 2;

const USAGE = [
  '用法 / usage:',
  '  npm run -s token -- --list                              列出机构标识 / list agency ids',
  '  npm run -s token -- --agency <id> [--roles viewer,clerk] [--subject <user>] [--ttl 12h]',
  '                                                          仅向 stdout 输出令牌 / prints only the token',
  '  --directory <file>  机构名录 / agency directory (default: DIRECTORY_FILE or ' + DEFAULT_DIRECTORY + ')',
  '  --ttl <n>[s|m|h|d]  有效期 / lifetime (default 12h)',
  '  DATA_DIR            开发签发方密钥所在目录 / where the dev issuer key lives (default ./data)',
];

class UsageError extends Error {
  constructor(
    readonly zh: string,
    readonly en: string,
  ) {
    super(`${en} / ${zh}`);
  }
}

export async function runTokenCli(argv: readonly string[], io: TokenCliIo): Promise<number> {
  try {
    const { values } = parseOptions(argv);
    if (values.help) {
      USAGE.forEach((line) => io.out(line));
      return 0;
    }
    const directoryFile = values.directory ?? io.env.DIRECTORY_FILE ?? DEFAULT_DIRECTORY;
    if (values.list && values.agency !== undefined)
      throw new UsageError('--list 与 --agency 不能同时使用', '--list and --agency cannot be used together');
    if (values.list) {
      listAgencies(loadDirectory(directoryFile), io);
      return 0;
    }
    if (values.agency === undefined)
      throw new UsageError('请用 --agency <机构标识> 指定机构', 'name the agency with --agency <id>');
    const directory = loadDirectory(directoryFile);
    const agency = directory.requireAgency(values.agency);
    const ttlSeconds = values.ttl === undefined ? undefined : parseTtl(values.ttl);
    const roles = values.roles === undefined ? undefined : parseRoles(values.roles);
    const dataDir = path.resolve(io.env.DATA_DIR || './data');
    const token = await issueDevToken({ dataDir, agency, subject: values.subject, roles, ttlSeconds });
    io.out(token);
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof UnknownAgencyError || e instanceof DevTokenError) {
      io.err(`错误：${e.zh}`);
      io.err(`error: ${e.en}`);
      io.err('查看机构标识 / to list the agency ids: npm run -s token -- --list');
      io.err('帮助 / help: npm run -s token -- --help');
      return USAGE_EXIT;
    }
    if (e instanceof DirectoryError) {
      io.err(e.message);
      return 1;
    }
    throw e;
  }
}

function parseOptions(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        list: { type: 'boolean' },
        agency: { type: 'string' },
        roles: { type: 'string' },
        subject: { type: 'string' },
        ttl: { type: 'string' },
        directory: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    // node:util explains which option is wrong, in English only
    throw new UsageError(
      `命令行参数有误（${(e as Error).message}）`,
      `bad command line: ${(e as Error).message}`,
    );
  }
}

function parseTtl(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!match)
    throw new UsageError(
      `--ttl ${text} 无效：须为数字加可选单位 s/m/h/d，如 90m、12h`,
      `--ttl ${text} is invalid: a number with an optional unit s/m/h/d, e.g. 90m, 12h`,
    );
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

function parseRoles(text: string): Role[] {
  const roles = text
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (roles.length === 0 || unknown.length > 0)
    throw new UsageError(
      `--roles ${text} 无效：须为逗号分隔的 ${ROLES.join('、')}`,
      `--roles ${text} is invalid: a comma-separated list of ${ROLES.join(', ')}`,
    );
  return roles as Role[];
}

function listAgencies(directory: AgencyDirectory, io: TokenCliIo): void {
  const rows = directory.agencies.map((a) => [
    a.id,
    a.kind,
    a.jurisdiction,
    a.roles.join(','),
    a.name.zh,
    a.name.en,
  ]);
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => displayWidth(row[col])))) ?? [];
  for (const row of rows)
    io.out(
      row
        .map((cell, col) =>
          col === row.length - 1 ? cell : cell + ' '.repeat(widths[col] - displayWidth(cell)),
        )
        .join('  '),
    );
}

/** Chinese characters take two columns in a terminal. */
function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += /[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]/.test(ch) ? 2 : 1;
  return width;
}

if (require.main === module) {
  runAsProcess(runTokenCli);
}
