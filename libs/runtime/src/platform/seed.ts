import type { INestApplication } from '@nestjs/common';

export interface EmbeddedSeedContext {
  /** Every app of the embedded platform, by name, already listening (seeding may go through any of them). */
  readonly apps: ReadonlyMap<string, { readonly url: string; readonly app: INestApplication }>;
  /** The embedded platform's DATA_DIR. */
  readonly dataDir: string;
  /** Prints one line to the person who ran `npm start`. */
  log(line: string): void;
}

/**
 * The embedded platform's seeding hook: an app's `src/service.ts` may export `seed` of this type, and
 * `npm start` calls it once every app listens (in start order: transfer, compensation, enforcement,
 * gateway), on every start. Seed through the service's commands with fixed command ids: a repeated start
 * then stores nothing new (commands are idempotent by commandId). `npm start -- --no-seed` skips it.
 */
export type EmbeddedSeed = (app: INestApplication, context: EmbeddedSeedContext) => Promise<void>;
