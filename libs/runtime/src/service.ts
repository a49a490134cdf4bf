import {
  type DynamicModule,
  type INestApplication,
  Logger,
  type LogLevel,
  type NestApplicationOptions,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Transport } from '@lianfang/messaging';
import { ConfigurationError, type ConfigSchema, type ConfigVariables, type Env } from './config';
import { ServiceLogger } from './observability/logger';

/**
 * What the embedded mode shares between the apps of one process: the in-process bus, so that events one
 * service publishes reach the others. Servers share nothing: each app builds its own from its config.
 */
export interface SharedResources {
  readonly transport?: Transport;
}

/** Every app (gateway and services) is described once, then run alone or in the embedded platform. */
export interface ServiceDefinition<C = unknown> {
  /** e.g. `transfer-service`. */
  readonly name: string;
  /** The port in the embedded platform and the default when PORT is unset. */
  readonly defaultPort: number;
  /** Validates the app's environment; `load` gives what `module` receives. */
  readonly config: ConfigSchema<ConfigVariables>;
  /** The root module for a validated configuration. */
  module(config: C, shared: SharedResources): DynamicModule;
  /**
   * The app installs its own JSON body parser (the gateway: its limit and GraphQL-shaped 413). Otherwise
   * JSON bodies are accepted up to the configuration's MAX_REQUEST_BYTES (Nest's default is 100 kb).
   */
  readonly parsesOwnBody?: boolean;
}

export interface RunningService {
  readonly name: string;
  readonly url: string;
  readonly app: INestApplication;
}

export interface StartOptions {
  /** Environment to read the configuration from (default `process.env`). */
  readonly env?: Env;
  /** Overrides PORT (0: any free port, as tests use). */
  readonly port?: number;
  readonly host?: string;
  readonly shared?: SharedResources;
  readonly logLevels?: LogLevel[];
  /**
   * Builds the Nest application from the root module (default `NestFactory.create`). Tests pass one that
   * replaces providers (libs/testing); everything after it — logger, body limit, listen — stays here.
   */
  readonly createApp?: (module: DynamicModule, options: NestApplicationOptions) => Promise<INestApplication>;
}

/** Validates the configuration, boots the app and listens; the caller decides when to close it. */
export async function startService<C>(
  def: ServiceDefinition<C>,
  options: StartOptions = {},
): Promise<RunningService> {
  const config = def.config.load(options.env ?? process.env, def.name) as C & {
    HOST?: string;
    PORT?: number;
  };
  const createApp = options.createApp ?? ((module, appOptions) => NestFactory.create(module, appOptions));
  const app = await createApp(def.module(config, options.shared ?? {}), {
    logger: options.logLevels ?? ['error', 'warn', 'log'],
    abortOnError: false,
    // Held until the app's own JSON logger (ObservabilityModule) takes over, so boot lines are JSON too.
    bufferLogs: true,
  });
  useServiceLogger(app, options.logLevels);
  const bodyLimit = (config as { MAX_REQUEST_BYTES?: number }).MAX_REQUEST_BYTES;
  // Registered before Nest's own parser, which then stands aside (it skips a parser already installed).
  if (!def.parsesOwnBody && bodyLimit !== undefined)
    (app as NestExpressApplication).useBodyParser('json', { limit: bodyLimit });
  // No enableShutdownHooks: runService and the embedded platform handle the signals and close the app once.
  const host = options.host ?? config.HOST ?? '127.0.0.1';
  const port = options.port ?? config.PORT ?? def.defaultPort;
  try {
    await app.listen(port, host);
  } catch (e) {
    // The store, bus and relay are open by now: close them rather than leave them to the process exit.
    await app.close().catch(() => undefined);
    throw e;
  }
  // With port 0 the system picks a free port: report the one actually bound.
  const bound = (app.getHttpServer().address() as { port: number }).port;
  return { name: def.name, url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound}`, app };
}

function useServiceLogger(app: INestApplication, levels: LogLevel[] | undefined): void {
  let logger: ServiceLogger | undefined;
  try {
    logger = app.get(ServiceLogger, { strict: false });
  } catch {
    logger = undefined; // an app without ObservabilityModule keeps Nest's console logger
  }
  if (!logger) {
    app.flushLogs();
    return;
  }
  if (levels) logger.setLogLevels(levels);
  app.useLogger(logger);
}

/**
 * Entry point of an app run alone (`node dist/apps/<app>/main.js`): configuration from the environment,
 * validated before anything starts; closed cleanly on SIGINT/SIGTERM.
 */
export async function runService<C>(def: ServiceDefinition<C>): Promise<void> {
  const logger = new Logger(def.name);
  let running: RunningService;
  try {
    running = await startService(def);
  } catch (e) {
    if (e instanceof ConfigurationError) {
      // Plain stderr: the message is the whole story, a stack trace would hide it.
      process.stderr.write(`${e.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    logger.error(`${def.name} could not start / 启动失败: ${(e as Error).message}`);
    process.exit(1);
  }
  logger.log(`${def.name} listening on ${running.url}`);
  const stop = async (signal: string) => {
    logger.log(`${signal}: closing ${def.name}`);
    await running.app.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
