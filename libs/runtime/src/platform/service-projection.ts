import {
  startProjection,
  type LogPosition,
  type Projection,
  type ProjectionRunner,
  type RecordedEvent,
} from '@lianfang/eventsourcing';
import type { ServiceMetrics } from '../observability/metrics';
import type { Platform } from './platform';

/**
 * One of a service's read models, run for the service's lifetime on its own store and database, with its
 * lag in the service's metrics. Start it in `onApplicationBootstrap`, stop it in `onModuleDestroy` (before
 * the platform closes the bus and the store).
 */
export class ServiceProjection<E extends RecordedEvent = RecordedEvent> {
  private runner?: ProjectionRunner;

  constructor(readonly projection: Projection<E>) {}

  async start(platform: Pick<Platform, 'sql' | 'store'>, metrics: ServiceMetrics): Promise<void> {
    const runner = await startProjection({
      client: platform.sql,
      store: platform.store,
      projection: this.projection as unknown as Projection,
    });
    this.runner = runner;
    metrics.addCollectors({ projections: () => [runner.status()] });
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
  }

  /** Read-your-writes: until the read model has applied the log up to `position`. */
  waitFor(position: LogPosition): Promise<void> {
    return this.started().waitFor(position);
  }

  /** Until the read model has seen the end of the log (at start, before reading it as a whole). */
  async caughtUp(timeoutMs = 60_000): Promise<void> {
    const runner = this.started();
    const deadline = Date.now() + timeoutMs;
    while (!runner.status().caughtUp) {
      if (Date.now() > deadline)
        throw new Error(
          `read model ${this.projection.name} did not catch up within ${timeoutMs / 1000} s / 读模型 ${this.projection.name} 未能按时追上`,
        );
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  private started(): ProjectionRunner {
    if (!this.runner)
      throw new Error(
        `read model ${this.projection.name} has not started / 读模型 ${this.projection.name} 尚未启动`,
      );
    return this.runner;
  }
}
