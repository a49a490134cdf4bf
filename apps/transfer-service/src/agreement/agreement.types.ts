import { Directive, Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { JurisdictionCode, LocalDate, Money, Quantity } from '@lianfang/domain-kernel';
import { BilingualTextType } from '@lianfang/graph';
import type { AgreementRecord } from './agreement.record';

export enum AgreementStatusEnum {
  PROPOSED = 'proposed',
  ADOPTED = 'adopted',
  REJECTED = 'rejected',
  EXPIRED = 'expired',
}
registerEnumType(AgreementStatusEnum, {
  name: 'AgreementStatus',
  description:
    'Where the agreement stands in consultation. 区域协议状态（征求签署、已生效、被拒绝、已到期）。',
});

// ---- clauses (as agreed: exact, normalised) ----

@ObjectType('AgreementWhitelistEntry', {
  description: 'One whitelisted (member, facility, waste codes, quantity, year). 白名单条目。',
})
export class AgreementWhitelistEntryType {
  @Field(() => ID, { description: 'Entry id; approvals count against it. 条目编号。' })
  entryId!: string;

  @Field({ description: 'The exporting member (provincial code). 移出成员。' })
  exportingMember!: string;

  @Field({ description: 'The receiving facility. 接收设施。' })
  receivingFacilityId!: string;

  @Field(() => [String], { description: 'Waste codes, III-SSS-CC. 危险废物代码。' })
  wasteCodes!: string[];

  @Field(() => Quantity, { description: 'Whitelisted quantity, kg. 白名单数量（千克）。' })
  quantityKg!: string;

  @Field({ description: 'The same in tonnes, exact (6 decimals). 白名单数量（吨）。' })
  tonnes!: string;

  @Field(() => Int, { description: 'The year it covers. 年度。' })
  year!: number;
}

@ObjectType('AgreementPayeeShare', { description: 'A payee and its share. 受偿方及份额。' })
export class AgreementPayeeShareType {
  @Field({ description: 'GB/T 2260 code. 受偿方行政区划代码。' })
  jurisdiction!: string;

  @Field(() => Int, { description: 'Basis points: 1000 = 10%. 份额（基点）。' })
  shareBasisPoints!: number;
}

@ObjectType('AgreementCompensationRate', {
  description: 'A compensation rate per tonne received, for one period. 区域补偿费率。',
})
export class AgreementCompensationRateType {
  @Field({ description: 'HW category or class without code. 废物类别。' })
  wasteClassOrCategory!: string;

  @Field(() => Money, { description: 'Fen per tonne. 每吨补偿（分）。' })
  fenPerTonne!: string;

  @Field({ description: 'Yuan per tonne, 2 decimals, for people. 每吨补偿（元）。' })
  yuanPerTonne!: string;

  @Field({ description: 'Who pays. 付费方。' })
  payer!: string;

  @Field(() => [AgreementPayeeShareType], { description: 'Who is paid, shares adding to 100%. 受偿方。' })
  payees!: AgreementPayeeShareType[];

  @Field(() => LocalDate, { description: 'First day. 起始日。' })
  from!: string;

  @Field(() => LocalDate, { nullable: true, description: 'Last day, included; null: open. 截止日（含）。' })
  to!: string | null;
}

@ObjectType('AgreementTolerance', {
  description: 'A weight differs when over BOTH limits. 重量差异容差（同时超过两项才算差异）。',
})
export class AgreementToleranceType {
  @Field(() => Int, { description: '500 = 5% of the declared weight. 百分比（基点）。' })
  percentBasisPoints!: number;

  @Field(() => Quantity, { description: 'Kilograms. 千克。' })
  kg!: string;
}

@ObjectType('AgreementDataSharingRule', {
  description: "What a member's agencies of a kind may see. 数据共享规则。",
})
export class AgreementDataSharingRuleType {
  @Field(() => String, {
    nullable: true,
    description: "The member whose agencies see; null: every member's. 成员。",
  })
  member!: string | null;

  @Field({ description: 'Agency kind. 机构类型。' })
  agencyKind!: string;

  @Field({ description: 'What they see. 共享范围。' })
  scope!: string;
}

@ObjectType('AgreementClauses', { description: 'The clauses of an agreement. 协议条款。' })
export class AgreementClausesType {
  @Field(() => [AgreementWhitelistEntryType])
  whitelist!: AgreementWhitelistEntryType[];

  @Field(() => [AgreementCompensationRateType])
  compensationRates!: AgreementCompensationRateType[];

  @Field(() => AgreementToleranceType)
  tolerance!: AgreementToleranceType;

  @Field(() => Int, { description: 'Days in transit before a manifest is overdue. 最长运输天数。' })
  maxTransitDays!: number;

  @Field(() => [AgreementDataSharingRuleType])
  dataSharing!: AgreementDataSharingRuleType[];
}

@ObjectType('AgreementClauseVersion', {
  description: 'Clauses in force from a day (the adoption, or an amendment). 某日起适用的条款版本。',
})
export class AgreementClauseVersionType {
  @Field(() => LocalDate, { description: 'In force from. 生效日。' })
  effectiveFrom!: string;

  @Field(() => String, { nullable: true, description: 'The amendment; null: as adopted. 修订编号。' })
  amendmentId!: string | null;

  @Field(() => AgreementClausesType)
  clauses!: AgreementClausesType;
}

@ObjectType('AgreementSignature', { description: "A member's answer. 成员签署情况。" })
export class AgreementSignatureType {
  @Field({ description: 'Member (provincial code). 成员。' })
  member!: string;

  @Field({ description: 'Signed. 是否已签署。' })
  signed!: boolean;

  @Field(() => Date, { nullable: true, description: 'When. 签署时间。' })
  signedAt!: Date | null;
}

@ObjectType('AgreementRejection', { description: 'Who rejected and why. 拒绝签署。' })
export class AgreementRejectionType {
  @Field()
  member!: string;

  @Field({ description: 'Written reasons. 理由。' })
  reason!: string;

  @Field(() => Date, { nullable: true })
  rejectedAt!: Date | null;
}

@ObjectType('AgreementPendingAmendment', {
  description: 'An amendment awaiting signatures. 待签署的修订。',
})
export class AgreementPendingAmendmentType {
  @Field(() => ID)
  amendmentId!: string;

  @Field(() => LocalDate, { description: 'It would apply from. 拟生效日。' })
  effectiveFrom!: string;

  @Field(() => LocalDate, { nullable: true, description: 'Term end after it. 修订后的有效期截止日。' })
  validUntil!: string | null;

  @Field(() => AgreementClausesType, { description: 'The whole new clause set. 修订后的全部条款。' })
  clauses!: AgreementClausesType;

  @Field(() => [AgreementSignatureType])
  signatures!: AgreementSignatureType[];
}

@ObjectType('AgreementNextAction', { description: 'What the caller may do next. 您可办理的下一步。' })
export class AgreementNextActionType {
  @Field({ description: 'e.g. SIGN_AGREEMENT. 操作代码。' })
  code!: string;

  @Field(() => BilingualTextType)
  label!: BilingualTextType;

  @Field(() => Date, { nullable: true, description: 'Due (or possible) from. 期限。' })
  dueAt!: Date | null;
}

/** A regional agreement (区域协议): what the members agreed, who signed, what comes next. */
@ObjectType('Agreement', {
  description: 'A regional agreement adopted by consultation. 经协商通过的区域协议。',
})
@Directive('@key(fields: "id")')
export class AgreementNode {
  @Field(() => ID)
  id!: string;

  @Field(() => BilingualTextType)
  title!: BilingualTextType;

  @Field(() => AgreementStatusEnum)
  status!: AgreementStatusEnum;

  @Field({ description: 'The secretariat that keeps it. 秘书处机构。' })
  secretariatId!: string;

  @Field(() => [String], { description: 'Member provinces. 成员省份。' })
  members!: string[];

  @Field(() => LocalDate, { description: 'Term starts. 有效期起始日。' })
  effectiveFrom!: string;

  @Field(() => LocalDate, { nullable: true, description: 'Term ends, included; null: open. 有效期截止日。' })
  validUntil!: string | null;

  @Field(() => [AgreementSignatureType], { description: 'Answers to the proposal. 提案签署情况。' })
  signatures!: AgreementSignatureType[];

  @Field(() => AgreementRejectionType, { nullable: true })
  rejection!: AgreementRejectionType | null;

  @Field(() => AgreementClausesType, { description: 'The clauses as proposed. 提案条款。' })
  proposedClauses!: AgreementClausesType;

  @Field(() => [AgreementClauseVersionType], {
    description: 'Adopted versions, oldest first. 已通过的条款版本。',
  })
  versions!: AgreementClauseVersionType[];

  @Field(() => AgreementPendingAmendmentType, { nullable: true })
  pendingAmendment!: AgreementPendingAmendmentType | null;

  @Field(() => Date, { nullable: true, description: 'Proposed at. 提出时间。' })
  proposedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'Last change. 最近变更时间。' })
  updatedAt!: Date | null;

  /** The folded record behind the node: field resolvers (clauses in force, next actions) read it. */
  record!: AgreementRecord;
}

@ObjectType('AgreementEdge')
export class AgreementEdge {
  @Field()
  cursor!: string;

  @Field(() => AgreementNode)
  node!: AgreementNode;
}

@ObjectType('AgreementPageInfo')
export class AgreementPageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType('AgreementConnection', { description: 'A page of agreements. 区域协议分页。' })
export class AgreementConnection {
  @Field(() => [AgreementEdge])
  edges!: AgreementEdge[];

  @Field(() => AgreementPageInfo)
  pageInfo!: AgreementPageInfo;

  @Field(() => Int)
  totalCount!: number;
}

// ---- inputs (as typed by people; the decider validates and names the field) ----

@InputType('AgreementFilter', { description: 'Which agreements. 协议筛选条件。' })
export class AgreementFilterInput {
  @Field(() => AgreementStatusEnum, { nullable: true })
  status?: AgreementStatusEnum | null;

  @Field(() => JurisdictionCode, { nullable: true, description: 'A member province. 成员省份。' })
  member?: JurisdictionCode | null;

  @Field(() => LocalDate, { nullable: true, description: 'In force on that day. 在该日有效。' })
  onDate?: LocalDate | null;
}

@InputType('AgreementTitleInput')
export class AgreementTitleInput {
  @Field({ description: 'Chinese. 中文标题。' })
  zh!: string;

  @Field({ description: 'English. 英文标题。' })
  en!: string;
}

@InputType('AgreementWhitelistEntryInput')
export class AgreementWhitelistEntryInput {
  @Field({ description: 'New entry id, chosen by the secretariat. 条目编号。' })
  entryId!: string;

  @Field({ description: 'A member. 移出成员。' })
  exportingMember!: string;

  @Field()
  receivingFacilityId!: string;

  @Field(() => [String])
  wasteCodes!: string[];

  @Field({ description: 'Exact decimal tonnes. 吨（精确小数）。' })
  tonnes!: string;

  @Field(() => Int)
  year!: number;
}

@InputType('AgreementPayeeShareInput')
export class AgreementPayeeShareInput {
  @Field()
  jurisdiction!: string;

  @Field(() => Int, { description: '1000 = 10%; all payees add to 10000. 基点。' })
  shareBasisPoints!: number;
}

@InputType('AgreementCompensationRateInput')
export class AgreementCompensationRateInput {
  @Field({ description: "'HW08', 'general-industrial', 'construction' or 'municipal'. 类别。" })
  wasteClassOrCategory!: string;

  @Field({ description: "Yuan per tonne, at most 2 decimals: '150.00'. 元/吨。" })
  yuanPerTonne!: string;

  @Field()
  payer!: string;

  @Field(() => [AgreementPayeeShareInput])
  payees!: AgreementPayeeShareInput[];

  @Field({ description: 'YYYY-MM-DD' })
  from!: string;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD, included; absent: open. 截止日（含）。' })
  to?: string | null;
}

@InputType('AgreementToleranceInput')
export class AgreementToleranceInput {
  @Field(() => String, { nullable: true, description: "Percent, at most 2 decimals: '5', '2.5'. 百分比。" })
  percent?: string | null;

  @Field(() => String, { nullable: true, description: 'Kilograms. 千克。' })
  kg?: string | null;
}

@InputType('AgreementDataSharingRuleInput')
export class AgreementDataSharingRuleInput {
  @Field(() => String, { nullable: true })
  member?: string | null;

  @Field()
  agencyKind!: string;

  @Field()
  scope!: string;
}

@InputType('AgreementClausesInput', { description: 'Clauses; absent sections take the defaults. 协议条款。' })
export class AgreementClausesInputType {
  @Field(() => [AgreementWhitelistEntryInput], { nullable: true })
  whitelist?: AgreementWhitelistEntryInput[] | null;

  @Field(() => [AgreementCompensationRateInput], { nullable: true })
  compensationRates?: AgreementCompensationRateInput[] | null;

  @Field(() => AgreementToleranceInput, { nullable: true })
  tolerance?: AgreementToleranceInput | null;

  @Field(() => Int, { nullable: true, description: 'Default 3. 最长运输天数。' })
  maxTransitDays?: number | null;

  @Field(() => [AgreementDataSharingRuleInput], { nullable: true })
  dataSharing?: AgreementDataSharingRuleInput[] | null;
}

@InputType('ProposeAgreementInput', { description: 'A proposed agreement. 区域协议提案。' })
export class ProposeAgreementInput {
  @Field(() => ID, { nullable: true, description: 'Absent: derived from the idempotency key. 协议编号。' })
  agreementId?: string | null;

  @Field(() => AgreementTitleInput)
  title!: AgreementTitleInput;

  @Field(() => [String], { description: 'Member provinces (GB/T 2260). 成员省份。' })
  members!: string[];

  @Field({ description: 'YYYY-MM-DD' })
  effectiveFrom!: string;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD, included; absent: open-ended. 截止日。' })
  validUntil?: string | null;

  @Field(() => AgreementClausesInputType)
  clauses!: AgreementClausesInputType;
}

@InputType('ProposeAgreementAmendmentInput', { description: 'A proposed amendment. 协议修订提案。' })
export class ProposeAmendmentInput {
  @Field(() => ID)
  agreementId!: string;

  @Field(() => ID, { nullable: true, description: 'Absent: derived from the idempotency key. 修订编号。' })
  amendmentId?: string | null;

  @Field({ description: 'YYYY-MM-DD: the new clauses apply from it. 生效日。' })
  effectiveFrom!: string;

  @Field(() => String, {
    nullable: true,
    description: 'The term end after it; absent: unchanged, null: open-ended. 修订后的截止日。',
  })
  validUntil?: string | null;

  @Field(() => AgreementClausesInputType, { description: 'The whole new clause set. 全部新条款。' })
  clauses!: AgreementClausesInputType;
}
