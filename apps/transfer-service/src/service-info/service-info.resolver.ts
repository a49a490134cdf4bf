import { Inject } from '@nestjs/common';
import { ObjectType, Query, Resolver } from '@nestjs/graphql';
import {
  SUBGRAPH_OPTIONS,
  ServiceInfoBase,
  serviceInfoOf,
  type MechanismDescription,
  type SubgraphOptions,
} from '@lianfang/graph';

/** Released version of transfer-service (kept equal to its package.json by service-info.spec.ts). */
export const SERVICE_VERSION = '0.1.0';

/** The joint mechanisms transfer-service runs: consultation, resource sharing, transfers and manifests. */
export const MECHANISMS: readonly MechanismDescription[] = [
  {
    code: 'consultation',
    name: { zh: '协商（跨省转移审批）', en: 'consultation (inter-provincial transfer approval)' },
  },
  { code: 'resource-sharing', name: { zh: '资源优化共享', en: 'resource sharing' } },
  { code: 'manifests', name: { zh: '电子转移联单', en: 'electronic transfer manifests' } },
];

@ObjectType('TransferServiceInfo', {
  description:
    'What transfer-service is and runs on (consultation, resource sharing, transfers and manifests). 协商、资源优化共享、转移与电子联单服务信息。',
})
export class TransferServiceInfo extends ServiceInfoBase {}

@Resolver(() => TransferServiceInfo)
export class TransferServiceInfoResolver {
  constructor(@Inject(SUBGRAPH_OPTIONS) private readonly subgraph: SubgraphOptions) {}

  /** Named after the service: each subgraph owns its own root field (no two subgraphs resolve one field). */
  @Query(() => TransferServiceInfo, {
    description: 'The name, version, mechanisms, event store and bus of transfer-service. 服务信息。',
  })
  transferServiceInfo(): TransferServiceInfo {
    return serviceInfoOf(this.subgraph.config, {
      name: 'transfer-service',
      version: SERVICE_VERSION,
      mechanisms: MECHANISMS,
    });
  }
}
