import { Module } from '@nestjs/common';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import { FacilityReadModel } from './facility.projection';
import { FacilityQueries } from './facility.queries';
import { FacilityResolver } from './facility.resolver';

/** Licensed facilities: registration, suspension and reinstatement, and their licences as reference data. */
@Module({
  providers: [
    {
      provide: FacilityQueries,
      inject: [PLATFORM],
      useFactory: (p: Platform) => new FacilityQueries(p.sql, p.schema),
    },
    FacilityReadModel,
    FacilityResolver,
  ],
})
export class FacilityModule {}
