#!/usr/bin/env node
// `npm test`: everything CI checks, in order, stopping at the first failure:
// typecheck → schema (committed SDL up to date, composition) → lint (module boundaries included) →
// format → every jest test (unit and integration against the real PostgreSQL and one Kafka broker that
// the jest global setup starts for the run).
// Extra arguments go to jest: `npm test -- libs/domain-kernel`.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const jestArgs = process.argv.slice(2);
process.env.NX_DAEMON = 'false';

function run(label, command, args) {
  return new Promise((resolve) => {
    const started = Date.now();
    console.error(`\n▶ ${label}`);
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', env: process.env });
    child.on('exit', (code, signal) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.error(
        `${code === 0 ? '✔' : '✘'} ${label} (${seconds} s)${signal ? ` killed by ${signal}` : ''}`,
      );
      resolve(code ?? 1);
    });
  });
}

const steps = [
  // The module-boundary rule reads Nx's project graph: compute it first (no daemon in CI).
  ['project graph', bin('nx'), ['show', 'projects', '--json']],
  ['typecheck', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']],
  // The committed subgraph SDL and supergraph match the code, and the subgraphs compose.
  ['schema', process.execPath, ['-r', './tools/register-ts.cjs', 'tools/schema.ts', '--check']],
  ['lint', bin('eslint'), ['.', '--max-warnings=0']],
  ['format', bin('prettier'), ['--check', '--log-level=warn', '.']],
];
for (const [label, command, args] of steps) {
  if ((await run(label, command, args)) !== 0) {
    console.error(
      `\n${label} failed: fix the errors above (npm run ${label === 'format' ? 'format' : label}).`,
    );
    process.exit(1);
  }
}

const outDir = await mkdtemp(path.join(tmpdir(), 'lianfang-jest-'));
const report = path.join(outDir, 'report.json');
const code = await run('jest', bin('jest'), [
  ...(process.env.CI ? ['--ci'] : []),
  '--json',
  `--outputFile=${report}`,
  ...jestArgs,
]);
let summary = 'jest: no report written';
try {
  const r = JSON.parse(await readFile(report, 'utf8'));
  const skipped = r.numPendingTests + r.numTodoTests;
  summary = `tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`;
  if (r.numFailedTestSuites > 0 && r.numFailedTests === 0)
    summary += ` (${r.numFailedTestSuites} suites failed to run)`;
} catch {
  // jest failed before writing its report (e.g. the global setup refused missing infrastructure)
}
await rm(outDir, { recursive: true, force: true });
console.log(`\n${summary}`);
process.exit(code);
