import { Inject } from '@nestjs/common';
import { ObjectType, Query, Resolver } from '@nestjs/graphql';
import {
  SUBGRAPH_OPTIONS,
  ServiceInfoBase,
  serviceInfoOf,
  type MechanismDescription,
  type SubgraphOptions,
} from '@lianfang/graph';

/** Released version of enforcement-service (kept equal to its package.json by service-info.spec.ts). */
export const SERVICE_VERSION = '0.1.0';

/** The joint mechanisms enforcement-service runs: joint enforcement cases and emergency incidents. */
export const MECHANISMS: readonly MechanismDescription[] = [
  { code: 'joint-enforcement', name: { zh: '执法监管合作', en: 'joint enforcement' } },
  { code: 'emergency-response', name: { zh: '污染事件联合应对', en: 'joint emergency response' } },
];

@ObjectType('EnforcementServiceInfo', {
  description:
    'What enforcement-service is and runs on (joint enforcement cases and emergency incidents). 联合执法案件与突发污染事件服务信息。',
})
export class EnforcementServiceInfo extends ServiceInfoBase {}

@Resolver(() => EnforcementServiceInfo)
export class EnforcementServiceInfoResolver {
  constructor(@Inject(SUBGRAPH_OPTIONS) private readonly subgraph: SubgraphOptions) {}

  /** Named after the service: each subgraph owns its own root field (no two subgraphs resolve one field). */
  @Query(() => EnforcementServiceInfo, {
    description: 'The name, version, mechanisms, event store and bus of enforcement-service. 服务信息。',
  })
  enforcementServiceInfo(): EnforcementServiceInfo {
    return serviceInfoOf(this.subgraph.config, {
      name: 'enforcement-service',
      version: SERVICE_VERSION,
      mechanisms: MECHANISMS,
    });
  }
}
