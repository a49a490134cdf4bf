#!/usr/bin/env node
// Compiles every app and lib with swc into dist/, mirroring the source tree, and writes
// dist/apps/<app>/main.js so each app runs alone as `node dist/apps/<app>/main.js`.
// Type checking is `npm run typecheck` (tsc); swc only strips types, which keeps the build fast.
import { transformFile } from '@swc/core';
import { cp, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { swcOptions, root } = require('./swc-options.cjs');
const dist = path.join(root, 'dist');
const options = swcOptions({ rewritePaths: true });

async function* sources(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (['node_modules', 'test-fixtures', 'fixtures', 'fault-tests'].includes(entry.name)) continue;
      yield* sources(full);
    } else if (entry.name.endsWith('.ts') && !/\.(spec|fixture|contract|d)\.ts$/.test(entry.name)) {
      // Specs, their fixtures and the store contract suite are test code: they never ship.
      yield full;
    }
  }
}

async function exists(p) {
  return stat(p).then(
    () => true,
    () => false,
  );
}

const started = Date.now();
await rm(dist, { recursive: true, force: true });
const projects = [];
for (const kind of ['apps', 'libs']) {
  for (const name of await readdir(path.join(root, kind)))
    projects.push({ kind, name, dir: path.join(root, kind, name) });
}

let count = 0;
for (const p of projects) {
  const files = [];
  for await (const f of sources(path.join(p.dir, 'src'))) files.push(f);
  await Promise.all(
    files.map(async (file) => {
      const out = path.join(dist, path.relative(root, file)).replace(/\.ts$/, '.js');
      const { code, map } = await transformFile(file, {
        ...options,
        filename: file,
        sourceFileName: path.relative(path.dirname(out), file),
      });
      await mkdir(path.dirname(out), { recursive: true });
      await writeFile(out, map ? `${code}\n//# sourceMappingURL=${path.basename(out)}.map` : code);
      if (map) await writeFile(`${out}.map`, map);
    }),
  );
  count += files.length;
  // Data shipped with a lib (holiday calendar, waste categories) sits beside its src/.
  if (await exists(path.join(p.dir, 'data'))) {
    await cp(path.join(p.dir, 'data'), path.join(dist, p.kind, p.name, 'data'), { recursive: true });
  }
  if (p.kind === 'apps' && (await exists(path.join(p.dir, 'src', 'main.ts')))) {
    await writeFile(path.join(dist, 'apps', p.name, 'main.js'), "'use strict';\nrequire('./src/main.js');\n");
  }
}
console.error(`build: ${count} files into dist/ in ${Date.now() - started} ms`);
