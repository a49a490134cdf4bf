import { type INestApplication, Logger, type LogLevel, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

export interface ServiceDefinition {
  /** e.g. `transfer-service`. */
  readonly name: string;
  readonly module: Type<unknown>;
  /** The port in the embedded platform and the default when PORT is unset. */
  readonly defaultPort: number;
}

export interface RunningService {
  readonly name: string;
  readonly url: string;
  readonly app: INestApplication;
}

/** Boots one service and listens; the caller decides when to close it. */
export async function startService(
  def: ServiceDefinition,
  options: { port?: number; host?: string; logLevels?: LogLevel[] } = {},
): Promise<RunningService> {
  const app = await NestFactory.create(def.module, {
    logger: options.logLevels ?? ['error', 'warn', 'log'],
    abortOnError: false,
  });
  const host = options.host ?? process.env.HOST ?? '127.0.0.1';
  const port = options.port ?? def.defaultPort;
  await app.listen(port, host);
  // With port 0 the system picks a free port: report the one actually bound.
  const bound = (app.getHttpServer().address() as { port: number }).port;
  return { name: def.name, url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound}`, app };
}

/**
 * Entry point of a service run alone (`node dist/apps/<app>/main.js`): PORT from the environment,
 * closed cleanly on SIGINT/SIGTERM.
 */
export async function runService(def: ServiceDefinition): Promise<void> {
  const logger = new Logger(def.name);
  const port = process.env.PORT ? Number.parseInt(process.env.PORT, 10) : def.defaultPort;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    logger.error(
      `PORT must be an integer from 1 to 65535, got "${process.env.PORT}" / PORT 必须是 1–65535 的整数`,
    );
    process.exit(1);
  }
  const running = await startService(def, { port });
  logger.log(`${def.name} listening on ${running.url}`);
  const stop = async (signal: string) => {
    logger.log(`${signal}: closing ${def.name}`);
    await running.app.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
