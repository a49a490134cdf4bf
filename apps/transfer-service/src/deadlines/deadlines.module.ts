import { Module } from '@nestjs/common';

/** Persisted timers for every deadline of transfers and manifests. */
@Module({ providers: [], exports: [] })
export class DeadlinesModule {}
