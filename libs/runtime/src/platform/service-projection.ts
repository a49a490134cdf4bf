import {
  startProjection,
  type LogPosition,
  type Projection,
  type ProjectionRunner,
  type RecordedEvent,
} from '@lianfang/eventsourcing';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ServiceMetrics } from '../observability/metrics';
import { PLATFORM, type Platform } from './platform';

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

/** What a read-model provider offers the rest of its service. */
export interface ReadModel {
  /** Read-your-writes: until the read model has applied the log up to `position`. */
  waitFor(position: LogPosition): Promise<void>;
  /** Until it has seen the end of the log. */
  caughtUp(timeoutMs?: number): Promise<void>;
}

/**
 * A Nest provider running one projection for the service's lifetime: started at bootstrap, stopped
 * before the platform closes. Name it after the read model:
 *
 *   @Injectable() export class FacilityReadModel extends ReadModelOf(facilityProjection) {}
 */
export function ReadModelOf<E extends RecordedEvent>(projection: Projection<E>) {
  @Injectable()
  class ProjectedReadModel implements ReadModel, OnApplicationBootstrap, OnModuleDestroy {
    readonly projection = new ServiceProjection(projection);

    constructor(
      @Inject(PLATFORM) readonly platform: Platform,
      @Inject(ServiceMetrics) readonly metrics: ServiceMetrics,
    ) {}

    onApplicationBootstrap(): Promise<void> {
      return this.projection.start(this.platform, this.metrics);
    }

    onModuleDestroy(): Promise<void> {
      return this.projection.stop();
    }

    waitFor(position: LogPosition): Promise<void> {
      return this.projection.waitFor(position);
    }

    caughtUp(timeoutMs?: number): Promise<void> {
      return this.projection.caughtUp(timeoutMs);
    }
  }
  return ProjectedReadModel;
}
