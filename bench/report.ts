import { execSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const file = path.resolve(__dirname, '..', 'docs', 'benchmarks.md');

/** The machine a figure was measured on: a number means little without it. */
export function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  let pg = 'unknown';
  try {
    pg = execSync('psql --version', { encoding: 'utf8' }).trim();
  } catch {
    // psql missing: the suite reports the server version itself where it needs it
  }
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}, ${pg}`;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Spread as min–max, so a reader sees how stable the figure is. */
export function spread(xs: number[]): string {
  return `${Math.round(Math.min(...xs)).toLocaleString('en')}–${Math.round(Math.max(...xs)).toLocaleString('en')}`;
}

/** Replaces (or appends) the suite's section of docs/benchmarks.md. */
export async function writeSection(suite: string, markdown: string): Promise<void> {
  const begin = `<!-- bench:${suite} -->`;
  const end = `<!-- /bench:${suite} -->`;
  let doc = await readFile(file, 'utf8').catch(
    () =>
      '# Benchmarks\n\nWritten by `npm run bench -- <suite>`; each section says where and when it was measured.\n',
  );
  const section = `${begin}\n${markdown.trim()}\n${end}`;
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  doc =
    i >= 0 && j > i
      ? doc.slice(0, i) + section + doc.slice(j + end.length)
      : `${doc.trimEnd()}\n\n${section}\n`;
  await writeFile(file, doc);
}

/** Progress for a person watching: stderr, so stdout stays clean. */
export const log = (text = ''): void => void process.stderr.write(`${text}\n`);

export const fmt = (n: number): string => Math.round(n).toLocaleString('en');

/** The same server URL, another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** One command-line flag as read: `--name value` or `--name=value`. */
export interface Flag {
  readonly name: string;
  value(): string;
  /** A positive number, or an error naming the flag. */
  num(): number;
}

/** Walks `--flag value` / `--flag=value` arguments; the caller switches on `name`. */
export function* flags(argv: readonly string[]): Generator<Flag> {
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split('=', 2);
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value`);
      return v;
    };
    yield {
      name,
      value,
      num: () => {
        const n = Number(value());
        if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} needs a positive number`);
        return n;
      },
    };
  }
}
