import { Directive, Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import {
  ArrayMaxSize,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { Type } from 'class-transformer';
import { BilingualTextType } from '@lianfang/graph';

export enum TransferStatusEnum {
  SUBMITTED = 'submitted',
  RETURNED = 'returned',
  UNDER_REVIEW = 'under-review',
  CONSULTING = 'consulting',
  AWAITING_DECISION = 'awaiting-decision',
  APPROVED = 'approved',
  REFUSED = 'refused',
  WITHDRAWN = 'withdrawn',
  FILED = 'filed',
}
registerEnumType(TransferStatusEnum, {
  name: 'TransferStatus',
  description: 'Where a transfer application stands. 转移申请状态。',
});

export enum TransferRouteEnum {
  LETTER = 'letter',
  WHITELIST = 'whitelist',
  INTRA_PROVINCE = 'intra-province',
}
registerEnumType(TransferRouteEnum, {
  name: 'TransferRoute',
  description: 'How an application is handled: letter, whitelist or within one province. 审批路径。',
});

export enum TransferApplicationPathEnum {
  LETTER = 'letter',
  WHITELIST = 'whitelist',
}
registerEnumType(TransferApplicationPathEnum, {
  name: 'TransferApplicationPath',
  description: 'How the generator asks: by consultation letter or under a whitelist entry. 申请方式。',
});

export enum TransferAttachmentKindEnum {
  LICENCE = 'licence',
  METHOD = 'method',
  CONTRACT = 'contract',
}
registerEnumType(TransferAttachmentKindEnum, {
  name: 'TransferAttachmentKind',
  description: 'Licence copy, method description or contract (Art 22). 附件类别。',
});

@ObjectType('TransferGenerator', { description: 'The applicant. 移出人（产废单位）。' })
export class TransferGeneratorType {
  @Field(() => ID, { description: 'Directory id. 机构标识。' })
  agencyId!: string;

  @Field({ description: 'Unified social credit code. 统一社会信用代码。' })
  creditCode!: string;

  @Field(() => String, { nullable: true, description: 'Its seat (GB/T 2260). 所在地。' })
  jurisdiction!: string | null;
}

@ObjectType('TransferReceiver', { description: 'The receiving facility. 接受单位。' })
export class TransferReceiverType {
  @Field(() => ID)
  facilityId!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Last licence day, YYYY-MM-DD (filings: none). 许可证截止日。',
  })
  licenceValidUntil!: string | null;

  @Field(() => String, { nullable: true, description: 'Its city or county. 所在地。' })
  jurisdiction!: string | null;

  @Field(() => String, { nullable: true, description: 'Operating agency. 经营单位。' })
  operatorAgencyId!: string | null;
}

@ObjectType('TransferWasteLine', { description: 'A hazardous waste and its weight. 危险废物及数量。' })
export class TransferWasteLineType {
  @Field({ description: 'National list code, e.g. 900-249-08. 危险废物代码。' })
  wasteCode!: string;

  @Field({ description: 'Kilograms, 3 decimals. 数量（千克）。' })
  quantityKg!: string;
}

@ObjectType('TransferFilingLine', { description: 'A filed non-hazardous waste. 备案固体废物。' })
export class TransferFilingLineType {
  @Field({ description: 'general-industrial, construction or municipal. 固体废物类别。' })
  wasteClass!: string;

  @Field({ description: 'Kilograms, 3 decimals. 数量（千克）。' })
  quantityKg!: string;
}

@ObjectType('TransferWindow', { description: 'The requested transfer period. 申请转移期限。' })
export class TransferWindowType {
  @Field({ description: 'YYYY-MM-DD' })
  from!: string;

  @Field({ description: 'YYYY-MM-DD, included. 含当日。' })
  to!: string;
}

@ObjectType('TransferAttachment', { description: 'A stored document, by its SHA-256. 附件。' })
export class TransferAttachmentType {
  @Field({ description: 'SHA-256, lower-case hex. 摘要。' })
  sha256!: string;

  @Field(() => Int, { description: 'Bytes. 字节数。' })
  size!: number;

  @Field({ description: 'MIME type. 文件类型。' })
  mediaType!: string;

  @Field(() => TransferAttachmentKindEnum)
  kind!: TransferAttachmentKindEnum;
}

@ObjectType('TransferAttachmentContent', {
  description:
    'A document of a transfer with its bytes (no file name is stored: documents are kept by hash). 附件内容。',
})
export class TransferAttachmentContentType extends TransferAttachmentType {
  @Field({ description: 'The bytes, base64. 文件内容（Base64）。' })
  contentBase64!: string;
}

@ObjectType('TransferWhitelistUse', { description: 'The whitelist entry used. 所用白名单条目。' })
export class TransferWhitelistUseType {
  @Field()
  entryId!: string;

  @Field(() => String, { nullable: true })
  agreementId!: string | null;

  @Field({ description: 'Left of the entry at submission, kg. 提交时剩余量（千克）。' })
  remainingKg!: string;

  @Field({ description: 'The whole request fits: no letter. 是否在白名单剩余量内。' })
  withinEntry!: boolean;
}

@ObjectType('TransferReply', { description: "The receiving bureau's reply. 接受地复函。" })
export class TransferReplyType {
  @Field()
  consent!: boolean;

  @Field(() => [String])
  reasons!: string[];
}

@ObjectType('TransferApproval', { description: 'The approval (Art 27). 批准内容。' })
export class TransferApprovalType {
  @Field({ description: 'YYYY-MM-DD' })
  approvedOn!: string;

  @Field({ description: 'YYYY-MM-DD' })
  validFrom!: string;

  @Field({ description: 'YYYY-MM-DD, included. 有效期截止日。' })
  validUntil!: string;

  @Field({ description: 'twelve-months, requested-window or licence. 有效期受何限制。' })
  cappedBy!: string;

  @Field(() => [TransferWasteLineType])
  lines!: TransferWasteLineType[];

  @Field({ description: 'Kilograms. 批准总量（千克）。' })
  totalKg!: string;
}

@ObjectType('TransferDueDate', { description: 'A step’s deadline in working days. 办理期限。' })
export class TransferDueDateType {
  @Field({ description: 'completeness, review, reply or decision. 步骤。' })
  step!: string;

  @Field(() => Int)
  workingDays!: number;

  @Field({ description: 'Last working day, YYYY-MM-DD. 最后一个工作日。' })
  lastDay!: string;

  @Field({ description: '24:00 Asia/Shanghai of the last day. 截止时刻。' })
  dueAt!: Date;

  @Field({ description: 'Counted over a year whose holidays are not loaded yet. 暂定。' })
  provisional!: boolean;

  @Field({ description: 'The bureau that must act. 责任辖区。' })
  responsibleJurisdiction!: string;

  @Field({ description: 'Past due (never consent). 是否逾期。' })
  overdue!: boolean;
}

@ObjectType('TransferNextAction', { description: 'What the caller may do next. 可办理的下一步。' })
export class TransferNextActionType {
  @Field({ description: 'The mutation, e.g. approveTransfer. 操作代码。' })
  code!: string;

  @Field(() => BilingualTextType)
  label!: BilingualTextType;

  @Field(() => Date, { nullable: true, description: 'Due by. 截止时刻。' })
  dueAt!: Date | null;

  @Field()
  overdue!: boolean;
}

/** A transfer application or filing (跨省转移), as the caller may see it. */
@ObjectType('Transfer', { description: 'A transfer application or filing. 危险废物转移申请或备案。' })
@Directive('@key(fields: "id")')
export class TransferNode {
  @Field(() => ID)
  id!: string;

  @Field(() => TransferStatusEnum)
  status!: TransferStatusEnum;

  @Field({ description: 'letter, whitelist or filing. 申请方式。' })
  path!: string;

  @Field(() => TransferRouteEnum, { nullable: true })
  route!: TransferRouteEnum | null;

  @Field(() => TransferGeneratorType)
  generator!: TransferGeneratorType;

  @Field({ description: 'Exporting jurisdiction. 移出地。' })
  exportingJurisdiction!: string;

  @Field(() => String, { nullable: true, description: 'Receiving province. 接受地（省级）。' })
  receivingJurisdiction!: string | null;

  @Field(() => String, { nullable: true, description: 'Receiving city (filings). 接受地（地市）。' })
  receivingCity!: string | null;

  @Field(() => TransferReceiverType)
  receiver!: TransferReceiverType;

  @Field(() => [TransferWasteLineType], { description: 'Hazardous waste applied for. 申请转移的危险废物。' })
  lines!: TransferWasteLineType[];

  @Field(() => [TransferFilingLineType], { description: 'Filed waste. 备案的固体废物。' })
  filingLines!: TransferFilingLineType[];

  @Field({ description: 'Kilograms. 总量（千克）。' })
  totalKg!: string;

  @Field(() => String, { nullable: true, description: 'Utilisation or disposal method. 利用处置方式。' })
  method!: string | null;

  @Field(() => TransferWindowType)
  window!: TransferWindowType;

  @Field(() => [TransferAttachmentType])
  attachments!: TransferAttachmentType[];

  @Field(() => TransferWhitelistUseType, { nullable: true })
  whitelist!: TransferWhitelistUseType | null;

  @Field(() => String, { nullable: true, description: 'YYYY-MM-DD. 受理日。' })
  acceptedOn!: string | null;

  @Field(() => TransferReplyType, { nullable: true })
  reply!: TransferReplyType | null;

  @Field(() => TransferApprovalType, { nullable: true })
  approval!: TransferApprovalType | null;

  @Field(() => [TransferDueDateType], { description: 'Open steps’ deadlines. 各步骤办理期限。' })
  dueDates!: TransferDueDateType[];

  @Field(() => [String], { description: 'Steps past due (review, reply, decision). 逾期步骤。' })
  overdue!: string[];

  @Field(() => [TransferNextActionType], { description: 'What you may do next. 您可办理的下一步。' })
  nextActions!: TransferNextActionType[];

  @Field({ description: 'Submitted or filed at. 提交时间。' })
  submittedAt!: Date;

  @Field({ description: 'Last change. 最近变更时间。' })
  updatedAt!: Date;
}

@ObjectType('TransferEdge')
export class TransferEdge {
  @Field()
  cursor!: string;

  @Field(() => TransferNode)
  node!: TransferNode;
}

@ObjectType('TransferPageInfo')
export class TransferPageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType('TransferConnection', { description: 'A page of transfers, newest first. 转移申请分页。' })
export class TransferConnection {
  @Field(() => [TransferEdge])
  edges!: TransferEdge[];

  @Field(() => TransferPageInfo)
  pageInfo!: TransferPageInfo;

  @Field(() => Int)
  totalCount!: number;
}

@ObjectType('TransferAsOf', { description: 'A transfer as known at an instant. 某一时刻的转移申请。' })
export class TransferAsOfType {
  @Field(() => TransferNode, { nullable: true, description: 'Null: it did not exist yet. 当时尚不存在。' })
  transfer!: TransferNode | null;

  @Field(() => Int, { description: 'Facts folded. 已计入的事实数。' })
  events!: number;

  @Field(() => Date, { nullable: true })
  lastRecordedAt!: Date | null;
}

// ---------------------------------------------------------------------------------------------------
// Inputs (shape checked here; the rules of the domain by the decider, both naming the field)

const SHA256 = /^[0-9a-fA-F]{64}$/;

@InputType('TransferWasteLineInput')
export class TransferWasteLineInput {
  @Field({ description: 'e.g. 900-249-08' })
  @IsString()
  @MaxLength(16)
  wasteCode!: string;

  @Field({ description: 'Kilograms, exact decimal text. 数量（千克）。' })
  @IsString()
  @MaxLength(32)
  quantityKg!: string;
}

@InputType('TransferFilingLineInput')
export class TransferFilingLineInput {
  @Field({ description: 'general-industrial, construction or municipal' })
  @IsString()
  @MaxLength(32)
  wasteClass!: string;

  @Field({ description: 'Kilograms, exact decimal text. 数量（千克）。' })
  @IsString()
  @MaxLength(32)
  quantityKg!: string;
}

@InputType('TransferWindowInput')
export class TransferWindowInput {
  @Field({ description: 'YYYY-MM-DD' })
  @IsString()
  @MaxLength(10)
  from!: string;

  @Field({ description: 'YYYY-MM-DD, included' })
  @IsString()
  @MaxLength(10)
  to!: string;
}

@InputType('SubmitTransferApplicationInput', { description: 'A transfer application (Art 22). 转移申请。' })
export class SubmitTransferApplicationInput {
  @Field(() => TransferApplicationPathEnum)
  @IsIn(['letter', 'whitelist'])
  path!: TransferApplicationPathEnum;

  @Field(() => ID, { description: 'The receiving facility. 接受单位。' })
  @IsString()
  @MaxLength(200)
  receiverFacilityId!: string;

  @Field(() => [TransferWasteLineInput])
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => TransferWasteLineInput)
  lines!: TransferWasteLineInput[];

  @Field({ description: 'Utilisation or disposal method. 利用处置方式。' })
  @IsString()
  @MaxLength(2000)
  method!: string;

  @Field(() => TransferWindowInput)
  @ValidateNested()
  @Type(() => TransferWindowInput)
  window!: TransferWindowInput;

  @Field(() => [String], { description: 'SHA-256 of uploaded attachments. 已上传附件的摘要。' })
  @ArrayMaxSize(20)
  @Matches(SHA256, { each: true })
  attachments!: string[];

  @Field(() => String, { nullable: true, description: 'Whitelist path: the entry. 白名单条目。' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  whitelistEntryId?: string | null;
}

@InputType('FileTransferInput', { description: 'A filing of non-hazardous waste. 固体废物转移备案。' })
export class FileTransferInput {
  @Field(() => ID)
  @IsString()
  @MaxLength(200)
  receiverFacilityId!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Receiving city, when the facility is not registered. 接受地（地市）。',
  })
  @IsOptional()
  @IsString()
  @MaxLength(6)
  receivingCity?: string | null;

  @Field(() => [TransferFilingLineInput])
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => TransferFilingLineInput)
  lines!: TransferFilingLineInput[];

  @Field(() => TransferWindowInput)
  @ValidateNested()
  @Type(() => TransferWindowInput)
  window!: TransferWindowInput;

  @Field(() => [String])
  @ArrayMaxSize(20)
  @Matches(SHA256, { each: true })
  attachments!: string[];
}

@InputType('TransferYearPlanInput', { description: 'Kilograms planned in a calendar year. 年度计划量。' })
export class TransferYearPlanInput {
  @Field(() => Int)
  year!: number;

  @Field({ description: 'Kilograms, exact decimal text.' })
  @IsString()
  @MaxLength(32)
  quantityKg!: string;
}
