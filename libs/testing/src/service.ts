import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  startService,
  type RunningService,
  type ServiceDefinition,
  type StartOptions,
} from '@lianfang/runtime';

/**
 * Boots an app on a free port for the enclosing describe block, on its embedded defaults unless `env`
 * says otherwise, with a private DATA_DIR (never the repository's ./data) removed afterwards.
 */
export function useRunningService<C>(
  def: ServiceDefinition<C>,
  options: { env?: Record<string, string>; shared?: StartOptions['shared'] } = {},
): () => RunningService & { dataDir: string } {
  let running: (RunningService & { dataDir: string }) | undefined;
  let dataDir: string | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), `lianfang-${def.name}-`));
    // Quiet unless asked: 4xx answers are logged at warn, and tests provoke many on purpose.
    const env = {
      ...process.env,
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
      ...options.env,
    };
    const app = await startService(def, {
      env,
      port: 0,
      logLevels: ['error', 'warn'],
      ...(options.shared ? { shared: options.shared } : {}),
    });
    running = { ...app, dataDir };
  });
  afterAll(async () => {
    await running?.app.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  return () => {
    if (!running) throw new Error(`${def.name} is not running (it starts in beforeAll)`);
    return running;
  };
}
