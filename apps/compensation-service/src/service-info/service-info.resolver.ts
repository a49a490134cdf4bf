import { Inject } from '@nestjs/common';
import { ObjectType, Query, Resolver } from '@nestjs/graphql';
import {
  SUBGRAPH_OPTIONS,
  ServiceInfoBase,
  serviceInfoOf,
  type MechanismDescription,
  type SubgraphOptions,
} from '@lianfang/graph';

/** Released version of compensation-service (kept equal to its package.json by service-info.spec.ts). */
export const SERVICE_VERSION = '0.1.0';

/** The joint mechanisms compensation-service runs: compensation agreements, accruals and settlements. */
export const MECHANISMS: readonly MechanismDescription[] = [
  { code: 'compensation', name: { zh: '区域补偿', en: 'regional compensation' } },
];

@ObjectType('CompensationServiceInfo', {
  description:
    'What compensation-service is and runs on (compensation agreements, accruals and settlements). 区域补偿协议、计提与结算服务信息。',
})
export class CompensationServiceInfo extends ServiceInfoBase {}

@Resolver(() => CompensationServiceInfo)
export class CompensationServiceInfoResolver {
  constructor(@Inject(SUBGRAPH_OPTIONS) private readonly subgraph: SubgraphOptions) {}

  /** Named after the service: each subgraph owns its own root field (no two subgraphs resolve one field). */
  @Query(() => CompensationServiceInfo, {
    description: 'The name, version, mechanisms, event store and bus of compensation-service. 服务信息。',
  })
  compensationServiceInfo(): CompensationServiceInfo {
    return serviceInfoOf(this.subgraph.config, {
      name: 'compensation-service',
      version: SERVICE_VERSION,
      mechanisms: MECHANISMS,
    });
  }
}
