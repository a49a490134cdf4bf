import { startService, type RunningService, type ServiceDefinition } from '@lianfang/runtime';

/** Boots a service on a free port for the enclosing describe block; closes it afterwards. */
export function useRunningService<C>(def: ServiceDefinition<C>): () => RunningService {
  let running: RunningService | undefined;
  beforeAll(async () => {
    running = await startService(def, { port: 0, logLevels: ['error', 'warn'] });
  });
  afterAll(async () => {
    await running?.app.close();
  });
  return () => {
    if (!running) throw new Error(`${def.name} is not running (it starts in beforeAll)`);
    return running;
  };
}
