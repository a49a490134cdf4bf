import { Directive, Field, ObjectType, registerEnumType } from '@nestjs/graphql';
import type { ServiceConfig } from '@lianfang/runtime';

/**
 * The pieces every service's `<service>ServiceInfo` is made of. Types that several subgraphs define are
 * `@shareable` (Federation 2 requires it of object types resolved by more than one subgraph); each
 * service's own info type has its own name, so that no two subgraphs claim the same root field or type.
 */
@ObjectType('BilingualText', { description: 'A text in both working languages. 中英文本。' })
@Directive('@shareable')
export class BilingualTextType {
  @Field({ description: 'Chinese' })
  zh!: string;

  @Field({ description: 'English' })
  en!: string;
}

export enum EventStoreKind {
  POSTGRES = 'postgres',
  PGLITE = 'pglite',
}
registerEnumType(EventStoreKind, {
  name: 'EventStoreKind',
  description: 'Where a service keeps its events. 事件存储类型。',
  valuesMap: {
    POSTGRES: { description: 'PostgreSQL server' },
    PGLITE: { description: 'PGlite, in process (embedded mode)' },
  },
});

export enum BusKind {
  KAFKA = 'kafka',
  MEMORY = 'memory',
}
registerEnumType(BusKind, {
  name: 'BusKind',
  description: 'How a service exchanges integration events. 集成事件总线类型。',
  valuesMap: {
    KAFKA: { description: 'Apache Kafka' },
    MEMORY: { description: 'in-process bus (embedded mode)' },
  },
});

@ObjectType('Mechanism', { description: 'One of the joint mechanisms a service runs. 联防机制。' })
@Directive('@shareable')
export class MechanismType {
  @Field({ description: 'Stable code, e.g. `consultation`.' })
  code!: string;

  @Field(() => BilingualTextType)
  name!: BilingualTextType;
}

/** Fields of every service's info type; a service declares `@ObjectType('XServiceInfo') class … extends ServiceInfoBase`. */
@ObjectType({ isAbstract: true })
export abstract class ServiceInfoBase {
  @Field({ description: 'Service name, e.g. `transfer-service`.' })
  name!: string;

  @Field({ description: 'Released version of the service.' })
  version!: string;

  @Field(() => [MechanismType], { description: 'The joint mechanisms this service runs.' })
  mechanisms!: MechanismType[];

  @Field(() => EventStoreKind)
  eventStore!: EventStoreKind;

  @Field(() => BusKind)
  bus!: BusKind;
}

export interface MechanismDescription {
  readonly code: string;
  readonly name: { readonly zh: string; readonly en: string };
}

/** The info a service reports, from its configuration. */
export function serviceInfoOf(
  config: Pick<ServiceConfig, 'EVENT_STORE' | 'BUS'>,
  service: { name: string; version: string; mechanisms: readonly MechanismDescription[] },
): ServiceInfoBase {
  return {
    name: service.name,
    version: service.version,
    mechanisms: service.mechanisms.map((m) => ({ code: m.code, name: { zh: m.name.zh, en: m.name.en } })),
    eventStore: config.EVENT_STORE === 'postgres' ? EventStoreKind.POSTGRES : EventStoreKind.PGLITE,
    bus: config.BUS === 'kafka' ? BusKind.KAFKA : BusKind.MEMORY,
  };
}
