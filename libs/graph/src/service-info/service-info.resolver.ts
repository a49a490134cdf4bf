import { Inject, type Type } from '@nestjs/common';
import { ObjectType, Query, Resolver } from '@nestjs/graphql';
import { SUBGRAPH_OPTIONS, type SubgraphOptions } from '../subgraph/subgraph.module';
import { ServiceInfoBase, serviceInfoOf, type MechanismDescription } from './service-info.types';

/**
 * The `<service>ServiceInfo` type and root field of one subgraph, as a resolver class to list in
 * `SubgraphModule.forService({ resolvers })`. Each subgraph owns its own field and type: three
 * `Query.serviceInfo` fields of different types would not compose.
 */
export function serviceInfoResolver(service: {
  /** e.g. `transfer-service` */
  name: string;
  version: string;
  /** e.g. `Transfer` → type TransferServiceInfo, field transferServiceInfo */
  typePrefix: string;
  /** What it runs, in both languages, for the type's description. */
  description: { zh: string; en: string };
  mechanisms: readonly MechanismDescription[];
}): Type<unknown> {
  const typeName = `${service.typePrefix}ServiceInfo`;
  const field = `${service.typePrefix.charAt(0).toLowerCase()}${service.typePrefix.slice(1)}ServiceInfo`;

  @ObjectType(typeName, {
    description: `What ${service.name} is and runs on (${service.description.en}). ${service.description.zh}服务信息。`,
  })
  class ServiceInfo extends ServiceInfoBase {}

  @Resolver(() => ServiceInfo)
  class ServiceInfoResolver {
    constructor(@Inject(SUBGRAPH_OPTIONS) readonly subgraph: SubgraphOptions) {}

    @Query(() => ServiceInfo, {
      name: field,
      description: `The name, version, mechanisms, event store and bus of ${service.name}. 服务信息。`,
    })
    serviceInfo(): ServiceInfoBase {
      return serviceInfoOf(this.subgraph.config, service);
    }
  }
  Object.defineProperty(ServiceInfoResolver, 'name', { value: `${typeName}Resolver` });
  return ServiceInfoResolver;
}
