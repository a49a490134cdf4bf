export { DataDirInUseError, preparePgliteDataDir, type PgliteDataDir } from './pglite-data-dir';
export { PlatformStartError, type PlatformDependency } from './errors';
export {
  contextOfService,
  openPlatform,
  PLATFORM,
  PlatformLifecycle,
  type Platform,
  type PlatformOptions,
} from './platform';
export { busReadinessCheck, sqlReadinessCheck, type BusReadinessCheck } from './readiness';
export type { EmbeddedSeed, EmbeddedSeedContext } from './seed';
export { ReadModelOf, ServiceProjection, type ReadModel } from './service-projection';
export { ReactivePolicy, type ReactivePolicyOptions } from './reactive-policy';
