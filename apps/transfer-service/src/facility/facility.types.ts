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

@InputType('UpdateFacilityInput', {
  description:
    'The licence fields that change; absent fields stay as they are. 变更的许可证字段，未填写的保持不变。',
})
export class UpdateFacilityInput {
  @Field(() => FacilityNameInput, { nullable: true })
  name?: FacilityNameInput | null;

  @Field(() => String, { nullable: true, description: 'Licence number. 许可证编号。' })
  licenceNumber?: string | null;

  @Field(() => String, { nullable: true, description: 'Operator credit code. 经营单位统一社会信用代码。' })
  operatorCreditCode?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'GB/T 2260 city or county code. 所在地行政区划代码（地市或区县）。',
  })
  jurisdiction?: string | null;

  @Field(() => FacilityCoordinatesInput, { nullable: true })
  coordinates?: FacilityCoordinatesInput | null;

  @Field(() => [LicensedCategoryInputType], {
    nullable: true,
    description: 'The whole licensed scope as it now stands. 变更后的全部许可类别。',
  })
  licensed?: LicensedCategoryInputType[] | null;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD' })
  validFrom?: string | null;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD, included. 含当日。' })
  validTo?: string | null;
}

export enum FacilityImportOutcomeEnum {
  REGISTERED = 'registered',
  UPDATED = 'updated',
  UNCHANGED = 'unchanged',
}
registerEnumType(FacilityImportOutcomeEnum, {
  name: 'FacilityImportOutcome',
  description: 'What the import did (or, on a dry run, would do) to a facility. 导入对设施的处理结果。',
});

@ObjectType('FacilityImportProblem', {
  description: 'A bad cell or row of the licence CSV. 许可证 CSV 中有误的单元格或行。',
})
export class FacilityImportProblemType {
  @Field(() => Int, { description: 'Line in the file (the header is line 1). 文件行号（表头为第1行）。' })
  line!: number;

  @Field(() => String, {
    nullable: true,
    description: 'The column as headed in the file. 文件中的列名。',
  })
  column!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The licence field, e.g. annualCapacityTonnes. 对应的许可证字段。',
  })
  field!: string | null;

  @Field({ description: 'The rule broken, e.g. facility.capacity-not-positive. 违反的规则。' })
  rule!: string;

  @Field(() => BilingualTextType, { description: 'What is wrong. 错误说明。' })
  message!: BilingualTextType;

  @Field(() => String, { nullable: true, description: 'The value found. 单元格内容。' })
  value!: string | null;
}

@ObjectType('FacilityImportEntry', { description: 'One facility of the file. 文件中的一个设施。' })
export class FacilityImportEntryType {
  @Field({ description: 'Licence number. 许可证编号。' })
  licenceNumber!: string;

  @Field(() => ID, { description: 'Derived from the licence number. 由许可证编号确定的设施标识。' })
  facilityId!: string;

  @Field(() => FacilityImportOutcomeEnum)
  outcome!: FacilityImportOutcomeEnum;

  @Field(() => [Int], { description: 'Its lines in the file. 所在行号。' })
  lines!: number[];
}

@ObjectType('FacilityImportReport', {
  description:
    'The validation report of a licence CSV and what was imported. 许可证 CSV 的校验报告与导入结果。',
})
export class FacilityImportReportType {
  @Field({ description: 'Nothing was stored: validation only. 试运行：仅校验，不保存。' })
  dryRun!: boolean;

  @Field({
    description:
      'Every row is valid (and, unless a dry run, imported); false: nothing was imported. 全部有效（并已导入）；否则未导入任何内容。',
  })
  accepted!: boolean;

  @Field(() => Int, { description: 'Data rows read. 数据行数。' })
  rows!: number;

  @Field(() => Int, { description: 'Facilities (distinct licence numbers). 设施数。' })
  facilities!: number;

  @Field(() => Int)
  registered!: number;

  @Field(() => Int)
  updated!: number;

  @Field(() => Int)
  unchanged!: number;

  @Field(() => [FacilityImportProblemType], { description: 'Every problem found. 发现的全部问题。' })
  problems!: FacilityImportProblemType[];

  @Field(() => [FacilityImportEntryType], { description: 'Per facility, when accepted. 各设施结果。' })
  entries!: FacilityImportEntryType[];
}
