import { Module } from '@nestjs/common';
import { WorklistReadModel } from './worklist.projection';
import { WorklistResolver } from './worklist.resolver';

/**
 * What waits on each agency: Agency.transferWorklist. Its own projection over transfer, manifest,
 * agreement, facility, approval-usage and capacity-ledger events (folded with their own deciders); it
 * imports no other mechanism.
 */
@Module({ providers: [WorklistReadModel, WorklistResolver], exports: [WorklistReadModel] })
export class WorklistModule {}
