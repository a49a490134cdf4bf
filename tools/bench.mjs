#!/usr/bin/env node
// `npm run bench -- <suite> [args]`: runs bench/<suite>.bench.ts. Each suite writes its own section
// of docs/benchmarks.md (between `<!-- bench:<suite> -->` markers) with the machine and the date.
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const suites = (await readdir(path.join(root, 'bench')))
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace('.bench.ts', ''));
const [suite, ...args] = process.argv.slice(2);
if (!suite || !suites.includes(suite)) {
  console.error(`usage: npm run bench -- <suite>\nsuites: ${suites.join(', ') || '(none yet)'}`);
  process.exit(suite ? 1 : 0);
}
const child = spawn(
  process.execPath,
  [
    '--expose-gc',
    '-r',
    path.join(root, 'tools/register-ts.cjs'),
    path.join(root, 'bench', `${suite}.bench.ts`),
    ...args,
  ],
  { cwd: root, stdio: 'inherit' },
);
child.on('exit', (code) => process.exit(code ?? 1));
