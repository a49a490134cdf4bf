import { userInfo } from 'node:os';
import { createPostgresClient, type SqlClient } from '@lianfang/eventsourcing';

/**
 * What the operators' command-line tools (`npm run dlq`, `npm run -s timers`) share: arguments, the
 * `--service <schema>` and DATABASE_URL checks, bilingual errors that say what to do, plain-text tables.
 * Each tool brings its commands; none runs a service's own code (they record requests the running
 * service carries out).
 */
export interface OperatorCliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A client to use instead of connecting to DATABASE_URL (tests). */
  readonly client?: SqlClient;
}

export const DEFAULT_OPERATOR_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Bad arguments: the message goes to the operator as it is. */
export class UsageError extends Error {}

export interface CliArgs {
  readonly command: string | undefined;
  readonly positional: string[];
  readonly flags: Map<string, string | true>;
}

/** `--name value`, `--name=value` and boolean `--name`; anything else unknown is a UsageError. */
export function parseCliArgs(
  argv: readonly string[],
  known: { readonly values: readonly string[]; readonly booleans: readonly string[] },
): CliArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h') {
      flags.set('help', true);
    } else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq > 0 ? eq : undefined);
      if (name === 'help' || known.booleans.includes(name)) flags.set(name, true);
      else if (known.values.includes(name)) {
        const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
        if (value === undefined || (eq < 0 && value.startsWith('--'))) {
          throw new UsageError(`--${name} needs a value / --${name} 需要一个值`);
        }
        flags.set(name, value);
      } else throw new UsageError(`unknown option --${name} / 未知选项`);
    } else positional.push(a);
  }
  return { command: positional.shift(), positional, flags };
}

export function flag(args: CliArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

/** `--limit` (default 500). */
export function limitOf(args: CliArgs): number {
  const text = flag(args, 'limit') ?? '500';
  if (!/^\d+$/.test(text)) throw new UsageError('--limit takes a number, e.g. --limit 50 / 数量');
  return Number(text);
}

/** Who asks: `--by`, else the login name (recorded with every request). */
export function operatorOf(args: CliArgs, env: OperatorCliIo['env']): string {
  let login: string | undefined;
  try {
    login = userInfo().username;
  } catch {
    login = undefined;
  }
  return flag(args, 'by') ?? env.USER ?? login ?? 'operator';
}

/** An instant to the second, UTC: `2025-03-03 01:02:03Z` ('' for none). */
export const isoSeconds = (d: Date | null): string =>
  d
    ? d
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
    : '';

/** Terminal columns of a string: CJK and full-width characters take two. */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    w +=
      (c >= 0x1100 && c <= 0x115f) ||
      (c >= 0x2e80 && c <= 0xa4cf) ||
      (c >= 0xac00 && c <= 0xd7a3) ||
      (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe30 && c <= 0xfe4f) ||
      (c >= 0xff00 && c <= 0xff60) ||
      (c >= 0xffe0 && c <= 0xffe6)
        ? 2
        : 1;
  }
  return w;
}

/** One line of at most `max` terminal columns, with … when cut. */
export function clip(s: string, max: number): string {
  const one = s.replace(/\s+/g, ' ');
  if (displayWidth(one) <= max) return one;
  let out = '';
  for (const ch of one) {
    if (displayWidth(out + ch) > max - 1) break;
    out += ch;
  }
  return `${out}…`;
}

/** A plain-text table; column widths fit the widest cell (by terminal width). */
export function formatTable(headings: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headings.map((h, i) =>
    Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i] - displayWidth(c))))
      .join('  ')
      .trimEnd();
  return [line(headings), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)];
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

/** An error of the tool's domain that tells the operator what to do next (`hint`). */
export interface OperatorError extends Error {
  readonly hint: string;
}

export interface OperatorTool<A extends CliArgs = CliArgs> {
  /** `dlq`, `timers`: the application name `lianfang-<name>`. */
  readonly name: string;
  readonly usage: string;
  readonly commands: readonly string[];
  readonly flags: { readonly values: readonly string[]; readonly booleans: readonly string[] };
  /** A schema to show in the "which service?" message. */
  readonly exampleService: string;
  /** The lines to print when the schema lacks the tool's tables, or none when they are there. */
  missingTables(client: SqlClient, schema: string): Promise<readonly string[]>;
  /** The tool's own errors (with a hint); the hint's commands completed with `--service`. */
  isOperatorError(error: unknown): error is OperatorError;
  hintFor(error: OperatorError, schema: string): string;
  run(client: SqlClient, schema: string, args: A): Promise<number>;
}

/** Runs an operator tool; returns the exit code (0 ok, 1 an error the tool explained, others the tool's). */
export async function runOperatorCli(
  argv: readonly string[],
  io: OperatorCliIo,
  tool: OperatorTool,
): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv, tool.flags);
  } catch (error) {
    io.err(`错误 / Error: ${(error as Error).message}`);
    io.err(tool.usage);
    return 1;
  }
  if (!args.command || args.command === 'help' || args.flags.has('help')) {
    (args.command ? io.out : io.err)(tool.usage);
    return args.command ? 0 : 1;
  }
  if (!tool.commands.includes(args.command)) {
    io.err(`错误 / Error: unknown command "${args.command}" / 未知命令`);
    io.err(tool.usage);
    return 1;
  }
  const service = flag(args, 'service');
  if (!service) {
    io.err(
      `错误 / Error: which service? add --service <schema>, e.g. \`--service ${tool.exampleService}\` / 请指定服务的 schema`,
    );
    return 1;
  }
  const schema = service.replace(/-/g, '_');
  if (!/^[a-z_][a-z0-9_]{0,47}$/.test(schema)) {
    io.err(
      `错误 / Error: "${service}" is not a schema name: lower-case letters, digits and _ / 不是有效的 schema 名`,
    );
    return 1;
  }

  const url = io.env.DATABASE_URL ?? DEFAULT_OPERATOR_DATABASE_URL;
  const client =
    io.client ??
    createPostgresClient({ connectionString: url, max: 2, applicationName: `lianfang-${tool.name}` });
  try {
    let missing: readonly string[];
    try {
      missing = await tool.missingTables(client, schema);
    } catch (error) {
      io.err(`错误 / Error: cannot reach the database (${(error as Error).message}) / 无法连接数据库.`);
      io.err(
        `  → is PostgreSQL running? DATABASE_URL=${redact(url)}; set DATABASE_URL to the service's database.`,
      );
      return 1;
    }
    if (missing.length > 0) {
      for (const line of missing) io.err(line);
      return 1;
    }
    return await tool.run(client, schema, args);
  } catch (error) {
    if (tool.isOperatorError(error)) {
      io.err(`错误 / Error: ${error.message}`);
      io.err(`  → ${tool.hintFor(error, schema)}`);
      return 1;
    }
    if (error instanceof UsageError) {
      io.err(`错误 / Error: ${error.message}`);
      return 1;
    }
    io.err(`错误 / Error: ${(error as Error)?.stack ?? String(error)}`);
    return 1;
  } finally {
    if (!io.client) await client.close();
  }
}
