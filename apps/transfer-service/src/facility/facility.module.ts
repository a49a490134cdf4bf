import { Module } from '@nestjs/common';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import { CapacityModule } from '../capacity/capacity.module';
import { FacilityCommands } from './facility.commands';
import { FacilityReadModel } from './facility.projection';
import { FacilityQueries } from './facility.queries';
import { FacilityResolver } from './facility.resolver';
import { FacilityImport } from './import/facility-import';
import { FacilityRevocationReleases } from './revocation/revocation.policy';

/**
 * Licensed facilities: register, update, suspend, reinstate and revoke, the bulk licence import, and
 * their licences as reference data. A revocation releases what approvals hold there (CAPACITY_RELEASES).
 */
@Module({
  imports: [CapacityModule],
  providers: [
    {
      provide: FacilityQueries,
      inject: [PLATFORM],
      useFactory: (p: Platform) => new FacilityQueries(p.sql, p.schema),
    },
    FacilityReadModel,
    FacilityCommands,
    FacilityImport,
    FacilityRevocationReleases,
    FacilityResolver,
  ],
  exports: [FacilityQueries, FacilityReadModel],
})
export class FacilityModule {}
