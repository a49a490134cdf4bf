import { Module } from '@nestjs/common';
import { Aggregates } from '@lianfang/eventsourcing';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import { FacilityQueries } from '../facility/facility.queries';
import { CapacityApprovals } from './approvals';
import { CapacityReadModel } from './capacity.projection';
import { CapacityQueries } from './capacity.queries';
import { CapacityResolver } from './capacity.resolver';
import {
  LICENCE_ADJUSTMENTS_DEFAULT_POLL_MS,
  LICENCE_ADJUSTMENTS_POLL_MS,
  LicenceCapacityAdjustments,
} from './licence-changes.policy';
import { CAPACITY_RELEASES, TRANSFER_APPROVALS } from './ports';
import { CapacityReleaser } from './releases';

/**
 * Capacity ledgers: reservations on approval, consumption on receipt, release, adjustment to licence
 * changes; who can take a waste.
 */
@Module({
  providers: [
    {
      provide: TRANSFER_APPROVALS,
      inject: [Aggregates],
      useFactory: (a: Aggregates) => new CapacityApprovals(a),
    },
    {
      provide: CAPACITY_RELEASES,
      inject: [Aggregates],
      useFactory: (a: Aggregates) => new CapacityReleaser(a),
    },
    {
      provide: CapacityQueries,
      inject: [PLATFORM],
      // The facilities read model is read, never written, here: its own module keeps it.
      useFactory: (p: Platform) => new CapacityQueries(p.sql, p.schema, new FacilityQueries(p.sql, p.schema)),
    },
    CapacityReadModel,
    CapacityResolver,
    // A licence change reaches the ledgers already open (FacilityUpdated → AdjustCapacity).
    LicenceCapacityAdjustments,
    { provide: LICENCE_ADJUSTMENTS_POLL_MS, useValue: LICENCE_ADJUSTMENTS_DEFAULT_POLL_MS },
  ],
  exports: [TRANSFER_APPROVALS, CAPACITY_RELEASES, LicenceCapacityAdjustments],
})
export class CapacityModule {}
