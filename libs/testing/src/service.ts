import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InjectionToken } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  startService,
  type RunningService,
  type ServiceDefinition,
  type StartOptions,
} from '@lianfang/runtime';

/** A provider of the app replaced by a test: an injected CLOCK, a calendar, a short poll interval. */
export interface ProviderOverride {
  readonly provide: InjectionToken;
  readonly useValue: unknown;
}

/** The overrides, or a function giving them when the suite starts (values made in an earlier beforeAll). */
export type ProviderOverrides = readonly ProviderOverride[] | (() => readonly ProviderOverride[]);

export interface RunningServiceOptions {
  /** More environment; a function is read when the suite starts (e.g. a test database's URL). */
  env?: Record<string, string> | (() => Record<string, string>);
  shared?: StartOptions['shared'];
  /** Providers replaced before the app starts (no Test.createTestingModule in the spec). */
  overrides?: ProviderOverrides;
  /** The start's time limit (the beforeAll's), ms: opening a fresh PGlite cluster can take a minute. */
  startTimeoutMs?: number;
}

/** The running app of a describe block, and a restart of it on the same DATA_DIR and environment. */
export type RunningServiceHandle = (() => RunningService & { dataDir: string }) & {
  /**
   * Closes the app and starts it again (a process restarting on the data it left), with `overrides`
   * instead of the suite's when given, e.g. a calendar that now knows next year; `whileDown` runs between
   * the two (the clock moves on while no process runs).
   */
  restart(options?: {
    overrides?: ProviderOverrides;
    whileDown?: () => void | Promise<void>;
  }): Promise<RunningService & { dataDir: string }>;
};

/**
 * `startService` with providers replaced: the same configuration, module, logger and listening, built
 * through Nest's testing module (the only way Nest replaces a provider anywhere in the module tree).
 */
export function startServiceWithOverrides<C>(
  def: ServiceDefinition<C>,
  options: StartOptions & { readonly overrides: readonly ProviderOverride[] },
): Promise<RunningService> {
  return startService(def, {
    ...options,
    // Nest cannot replace a provider of a built module: its testing module can, then boots as usual.
    createApp: async (module, appOptions) => {
      let builder = Test.createTestingModule({ imports: [module] });
      for (const { provide, useValue } of options.overrides)
        builder = builder.overrideProvider(provide).useValue(useValue);
      return (await builder.compile()).createNestApplication(appOptions);
    },
  });
}

/**
 * Boots an app on a free port for the enclosing describe block, on its embedded defaults unless `env`
 * says otherwise, with a private DATA_DIR (never the repository's ./data) removed afterwards.
 * `overrides` replace providers before the app starts, e.g.
 * `overrides: [{ provide: CLOCK, useValue: () => clock.now }, { provide: WORKING_DAY_CALENDAR, useValue: calendar }]`.
 */
export function useRunningService<C>(
  def: ServiceDefinition<C>,
  options: RunningServiceOptions = {},
): RunningServiceHandle {
  let running: (RunningService & { dataDir: string }) | undefined;
  let dataDir: string | undefined;
  let start: StartOptions | undefined;
  const overridesOf = (given: ProviderOverrides | undefined) =>
    typeof given === 'function' ? given() : (given ?? []);
  const boot = async (overrides: readonly ProviderOverride[]) => {
    if (!start || !dataDir) throw new Error(`${def.name} has not started (it starts in beforeAll)`);
    const app =
      overrides.length > 0
        ? await startServiceWithOverrides(def, { ...start, overrides })
        : await startService(def, start);
    running = { ...app, dataDir };
    return running;
  };
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), `lianfang-${def.name}-`));
    // Quiet unless asked: 4xx answers are logged at warn, and tests provoke many on purpose.
    const env = {
      ...process.env,
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
      ...(typeof options.env === 'function' ? options.env() : options.env),
    };
    start = {
      env,
      port: 0,
      logLevels: ['error', 'warn'],
      ...(options.shared ? { shared: options.shared } : {}),
    };
    await boot(overridesOf(options.overrides));
  }, options.startTimeoutMs);
  afterAll(async () => {
    await running?.app.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  const current = () => {
    if (!running) throw new Error(`${def.name} is not running (it starts in beforeAll)`);
    return running;
  };
  return Object.assign(current, {
    async restart(again: { overrides?: ProviderOverrides; whileDown?: () => void | Promise<void> } = {}) {
      const app = current();
      running = undefined;
      await app.app.close();
      await again.whileDown?.();
      return boot(overridesOf(again.overrides ?? options.overrides));
    },
  });
}
