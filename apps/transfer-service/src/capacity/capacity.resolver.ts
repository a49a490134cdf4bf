import { Inject } from '@nestjs/common';
import { Args, Int, Query, Resolver } from '@nestjs/graphql';
import { JurisdictionCode } from '@lianfang/domain-kernel';
import { Allow, everyParty } from '@lianfang/auth';
import { FacilityCoordinatesInput } from '../facility/facility.types';
import { CapacityQueries } from './capacity.queries';
import { FacilityCandidate } from './capacity.types';

/** Licensed capacity and what is left of it are reference data of the region (资源优化共享). */
export const readCapacity = everyParty('capacity.read', {
  zh: '查询设施剩余处置能力',
  en: 'ask which facilities have capacity left',
});

@Resolver(() => FacilityCandidate)
@Allow(readCapacity)
export class CapacityResolver {
  constructor(@Inject(CapacityQueries) private readonly queries: CapacityQueries) {}

  @Query(() => [FacilityCandidate], {
    description:
      'Active facilities licensed for the code, licence in force that year, with at least `tonnes` left in that year, nearest first, then most left. 可接收指定危险废物和数量的设施，按距离和剩余能力排序。',
  })
  facilitiesThatCanTake(
    @Args('wasteCode', { description: 'National list code, e.g. 900-249-08. 危险废物代码。' })
    wasteCode: string,
    @Args('tonnes', { description: 'Quantity in tonnes, exact decimal text. 数量（吨）。' }) tonnes: string,
    @Args('year', { type: () => Int, description: 'Calendar year of the ledger. 年度。' }) year: number,
    @Args('within', {
      type: () => JurisdictionCode,
      nullable: true,
      description: 'Only facilities within this province, city or county. 限定行政区域。',
    })
    within?: JurisdictionCode | null,
    @Args('near', {
      type: () => FacilityCoordinatesInput,
      nullable: true,
      description: 'Rank by distance from this point. 按与该位置的距离排序。',
    })
    near?: FacilityCoordinatesInput | null,
    @Args('first', {
      type: () => Int,
      nullable: true,
      description: 'At most this many (default 10, max 100).',
    })
    first?: number | null,
  ): Promise<FacilityCandidate[]> {
    return this.queries.facilitiesThatCanTake({
      wasteCode,
      tonnes,
      year,
      within: within ?? null,
      near: near ? { lat: near.lat, lon: near.lon } : null,
      first: first ?? null,
    });
  }
}
