export { defineProjection, physicalTableName, type Projection, type TableNames } from './projection';
export type { BacklogEstimator, BatchInfo, ProjectionHooks } from './batch';
export {
  ProjectionSupersededError,
  rebuildProjection,
  type RebuildOptions,
  type RebuildProgress,
  type RebuildResult,
} from './rebuild';
export { formatRebuildProgress, rebuildProjectionCli, type RebuildCliOptions } from './rebuild-cli';
export {
  ProjectionRunner,
  ProjectionWaitTimeoutError,
  startProjection,
  type ProjectionRunnerOptions,
  type ProjectionState,
  type ProjectionStatus,
} from './projection-runner';
