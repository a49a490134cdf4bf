import { Directive, Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { BilingualTextType } from '@lianfang/graph';

export enum FacilityStatusEnum {
  ACTIVE = 'active',
  SUSPENDED = 'suspended',
  REVOKED = 'revoked',
}
registerEnumType(FacilityStatusEnum, {
  name: 'FacilityStatus',
  description: 'Whether the facility may receive new manifests. 设施状态。',
});

@ObjectType('FacilityCoordinates', { description: 'WGS84 position, decimal degrees as text. 坐标。' })
export class FacilityCoordinates {
  @Field({ description: 'Latitude. 纬度。' })
  lat!: string;

  @Field({ description: 'Longitude. 经度。' })
  lon!: string;
}

@ObjectType('LicensedCategory', { description: 'One licensed waste category. 许可经营的危险废物类别。' })
export class LicensedCategoryType {
  @Field({ description: 'e.g. HW08. 类别。' })
  category!: string;

  @Field({ description: 'Licensed annual capacity, kg with 3 decimals. 年经营规模（千克）。' })
  annualCapacityKg!: string;

  @Field(() => [String], {
    nullable: true,
    description: 'Only these codes; absent: the whole category. 限定的危险废物代码。',
  })
  wasteCodes!: string[] | null;
}

/** A licensed facility (资源优化共享): reference data every party of the region may read. */
@ObjectType('Facility', { description: 'A licensed hazardous-waste facility. 持证危险废物经营设施。' })
@Directive('@key(fields: "id")')
export class FacilityNode {
  @Field(() => ID)
  id!: string;

  @Field(() => BilingualTextType, { nullable: true })
  name!: BilingualTextType | null;

  @Field({ description: 'Licence number. 许可证编号。' })
  licenceNumber!: string;

  @Field({ description: 'Operator unified social credit code. 经营单位统一社会信用代码。' })
  operatorCreditCode!: string;

  @Field({ description: 'GB/T 2260 code of its city or county. 所在地行政区划代码。' })
  jurisdiction!: string;

  @Field(() => FacilityCoordinates)
  coordinates!: FacilityCoordinates;

  @Field(() => [String], { description: 'Licensed categories, sorted. 许可类别。' })
  licensedCategories!: string[];

  @Field(() => [LicensedCategoryType], { description: 'Capacity per category. 各类别年经营规模。' })
  licensed!: LicensedCategoryType[];

  @Field(() => FacilityStatusEnum)
  status!: FacilityStatusEnum;

  @Field(() => String, { nullable: true, description: 'Why suspended or revoked. 暂停或吊销理由。' })
  statusReason!: string | null;

  @Field({ description: 'Licence valid from (YYYY-MM-DD). 许可证起始日。' })
  validFrom!: string;

  @Field({ description: 'Licence valid to, included (YYYY-MM-DD). 许可证截止日。' })
  validTo!: string;

  @Field({ description: 'Last change. 最近变更时间。' })
  updatedAt!: Date;
}

@ObjectType('FacilityEdge')
export class FacilityEdge {
  @Field()
  cursor!: string;

  @Field(() => FacilityNode)
  node!: FacilityNode;
}

@ObjectType('FacilityPageInfo')
export class FacilityPageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType('FacilityConnection', { description: 'A page of facilities. 设施分页。' })
export class FacilityConnection {
  @Field(() => [FacilityEdge])
  edges!: FacilityEdge[];

  @Field(() => FacilityPageInfo)
  pageInfo!: FacilityPageInfo;

  @Field(() => Int)
  totalCount!: number;
}

@InputType('FacilityNameInput')
export class FacilityNameInput {
  @Field({ description: 'Chinese. 中文名称。' })
  zh!: string;

  @Field({ description: 'English. 英文名称。' })
  en!: string;
}

@InputType('FacilityCoordinatesInput')
export class FacilityCoordinatesInput {
  @Field({ description: 'Latitude, decimal degrees as text. 纬度。' })
  lat!: string;

  @Field({ description: 'Longitude, decimal degrees as text. 经度。' })
  lon!: string;
}

@InputType('LicensedCategoryInput')
export class LicensedCategoryInputType {
  @Field({ description: 'e.g. HW08. 类别。' })
  category!: string;

  @Field({ description: 'Annual capacity in tonnes, exact decimal text. 年经营规模（吨）。' })
  annualCapacityTonnes!: string;

  @Field(() => [String], { nullable: true, description: 'Only these codes. 限定的危险废物代码。' })
  wasteCodes?: string[] | null;
}

@InputType('RegisterFacilityInput', { description: 'A facility licence as issued. 设施许可证信息。' })
export class RegisterFacilityInput {
  @Field(() => FacilityNameInput)
  name!: FacilityNameInput;

  @Field()
  licenceNumber!: string;

  @Field()
  operatorCreditCode!: string;

  @Field({ description: 'GB/T 2260 city or county code. 所在地行政区划代码（地市或区县）。' })
  jurisdiction!: string;

  @Field(() => FacilityCoordinatesInput)
  coordinates!: FacilityCoordinatesInput;

  @Field(() => [LicensedCategoryInputType])
  licensed!: LicensedCategoryInputType[];

  @Field({ description: 'YYYY-MM-DD' })
  validFrom!: string;

  @Field({ description: 'YYYY-MM-DD, included. 含当日。' })
  validTo!: string;
}
