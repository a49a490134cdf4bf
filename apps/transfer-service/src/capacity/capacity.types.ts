import { Field, ObjectType } from '@nestjs/graphql';
import { Quantity } from '@lianfang/domain-kernel';
import { FacilityNode } from '../facility/facility.types';

/** One answer to "who can take code X, Q tonnes, in year Y, near here?" (资源优化共享). */
@ObjectType('FacilityCandidate', {
  description:
    'A facility that can take the waste that year, with its remaining capacity and distance. 可接收该危险废物的设施。',
})
export class FacilityCandidate {
  @Field(() => FacilityNode, { description: 'The licensed facility. 持证设施。' })
  facility!: FacilityNode;

  @Field(() => Quantity, {
    description:
      "Capacity left in that year's ledger for the waste's HW category, kg. 该年度该类别剩余经营规模（千克）。",
  })
  availableKg!: Quantity;

  @Field(() => String, {
    nullable: true,
    description:
      'Great-circle distance from `near`, km with one decimal; null without `near`. 与指定位置的距离（千米，一位小数）。',
  })
  distanceKm!: string | null;
}
