import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

/**
 * What `node dist/apps/<app>/main.js` loads: the compiled files it requires, transitively (swc turns
 * `@lianfang/*` into relative requires, so they are files under dist/), and the npm packages it needs.
 * Found by reading the compiled code, not by running it, so a branch that runs only in production counts.
 */
export interface RuntimeNeeds {
  /** Absolute paths of the files under `root` that are required (`.js` and `.json`). */
  readonly files: readonly string[];
  /** Package names (`pg`, `@nestjs/core`), each with a file that requires it. */
  readonly packages: ReadonlyMap<string, string>;
  /** Relative requires that resolve to nothing: a broken build. */
  readonly unresolved: readonly { from: string; request: string }[];
}

const REQUIRE = /\brequire\(\s*(["'])([^"']+)\1\s*\)|\bimport\(\s*(["'])([^"']+)\3\s*\)/g;
const builtins = new Set(builtinModules);

export function isBuiltin(request: string): boolean {
  return request.startsWith('node:') || builtins.has(request) || builtins.has(request.split('/')[0]);
}

export function packageName(request: string): string {
  const parts = request.split('/');
  return request.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function resolveFile(from: string, request: string): string | undefined {
  const base = path.resolve(path.dirname(from), request);
  for (const candidate of [base, `${base}.js`, `${base}.json`, path.join(base, 'index.js')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

export function runtimeNeeds(entry: string): RuntimeNeeds {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const unresolved: { from: string; request: string }[] = [];
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    if (!file.endsWith('.js')) continue;
    const code = readFileSync(file, 'utf8');
    for (const m of code.matchAll(REQUIRE)) {
      const request = m[2] ?? m[4];
      if (request.startsWith('.')) {
        const resolved = resolveFile(file, request);
        if (resolved) queue.push(resolved);
        else unresolved.push({ from: file, request });
      } else if (!isBuiltin(request)) {
        const name = packageName(request);
        if (!packages.has(name)) packages.set(name, file);
      }
    }
  }
  return { files: [...files].sort(), packages, unresolved };
}
