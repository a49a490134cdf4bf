import { Module } from '@nestjs/common';

/** What waits on each agency: Agency.transferWorklist. */
@Module({ providers: [], exports: [] })
export class WorklistModule {}
