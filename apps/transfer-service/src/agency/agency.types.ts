import { Directive, Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { AGENCY_KINDS, AGENCY_LEVELS, ROLES } from '@lianfang/auth';
import { BilingualTextType } from '@lianfang/graph';

// GraphQL enum values must be names: provincial-bureau → PROVINCIAL_BUREAU.
const enumOf = (values: readonly string[]) =>
  Object.fromEntries(values.map((v) => [v.toUpperCase().replace(/-/g, '_'), v]));
export const AgencyKindEnum = enumOf(AGENCY_KINDS);
export const AgencyLevelEnum = enumOf(AGENCY_LEVELS);
export const RoleEnum = enumOf(ROLES);
registerEnumType(AgencyKindEnum, {
  name: 'AgencyKind',
  description: 'What an agency is (domain.md, "Who uses it"). 机构类别。',
});
registerEnumType(AgencyLevelEnum, { name: 'AgencyLevel', description: 'Administrative level. 层级。' });
registerEnumType(RoleEnum, { name: 'Role', description: 'What a person may do for their agency. 角色。' });

export enum AgencyStatus {
  ACTIVE = 'active',
  RETIRED = 'retired',
}
registerEnumType(AgencyStatus, {
  name: 'AgencyStatus',
  description: 'In the directory or retired from it. 状态。',
});

/**
 * A party of the platform. An entity: the other subgraphs extend it with their own fields (worklists).
 */
@ObjectType('Agency', { description: 'An agency of the region: bureau, office, team or enterprise. 机构。' })
@Directive('@key(fields: "id")')
export class AgencyNode {
  @Field(() => ID, { description: 'Directory id, e.g. sc-eeb. 机构标识。' })
  id!: string;

  @Field(() => AgencyKindEnum)
  kind!: string;

  @Field(() => BilingualTextType)
  name!: BilingualTextType;

  @Field({ description: 'GB/T 2260 code of its jurisdiction. 行政区划代码。' })
  jurisdiction!: string;

  @Field(() => AgencyLevelEnum)
  level!: string;

  @Field(() => [RoleEnum], { description: 'Roles its staff may hold. 可授予的角色。' })
  roles!: string[];

  @Field(() => String, {
    nullable: true,
    description: 'Unified social credit code (enterprises). 统一社会信用代码。',
  })
  creditCode!: string | null;

  @Field(() => AgencyStatus)
  status!: AgencyStatus;

  @Field({ description: 'When it entered the register. 登记时间。' })
  registeredAt!: Date;

  @Field({ description: 'Last change. 最近变更时间。' })
  updatedAt!: Date;
}

@ObjectType('AgencyEdge')
export class AgencyEdge {
  @Field()
  cursor!: string;

  @Field(() => AgencyNode)
  node!: AgencyNode;
}

@ObjectType('AgencyPageInfo')
export class AgencyPageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType('AgencyConnection', { description: 'A page of agencies. 机构分页。' })
export class AgencyConnection {
  @Field(() => [AgencyEdge])
  edges!: AgencyEdge[];

  @Field(() => AgencyPageInfo)
  pageInfo!: AgencyPageInfo;

  @Field(() => Int)
  totalCount!: number;
}

@ObjectType('CurrentActor', { description: 'Who is asking, as the gateway vouched for them. 当前身份。' })
export class CurrentActor {
  @Field({ description: 'The person (token subject). 用户。' })
  subject!: string;

  @Field(() => [RoleEnum])
  roles!: string[];

  @Field(() => AgencyNode, { nullable: true, description: 'The agency they act for. 所属机构。' })
  agency!: AgencyNode | null;
}
