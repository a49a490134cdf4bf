import {
  spawn,
  type ChildProcessWithoutNullStreams,
  type SpawnOptionsWithoutStdio,
} from 'node:child_process';
import path from 'node:path';

const registerTs = path.resolve(__dirname, '../../../tools/register-ts.cjs');

/**
 * Runs a TypeScript file of this repository in a child `node` process (compiled on the fly by swc, as
 * in jest): for fault tests that must SIGKILL a real process, not a promise.
 */
export function spawnTypeScript(
  file: string,
  options: SpawnOptionsWithoutStdio = {},
): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['-r', registerTs, file], { ...options, stdio: 'pipe' });
}
