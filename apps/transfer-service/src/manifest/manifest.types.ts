import { Directive, Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Quantity } from '@lianfang/domain-kernel';
import { BilingualTextType } from '@lianfang/graph';
import type { ManifestView } from './manifest.view';

export enum ManifestStatusEnum {
  OPEN = 'open',
  IN_TRANSIT = 'in-transit',
  DELIVERED = 'delivered',
  RECEIVED = 'received',
  PARTIALLY_ACCEPTED = 'partially-accepted',
  REJECTED = 'rejected',
  DISPOSED = 'disposed',
}
registerEnumType(ManifestStatusEnum, {
  name: 'ManifestStatus',
  description: 'Where the trip stands. 联单状态。',
});

/** The domain's decisions as GraphQL values (the enum's values are the stored strings). */
export enum DiscrepancyReviewDecisionEnum {
  NO_FURTHER_ACTION = 'no-further-action',
  REFER_TO_ENFORCEMENT = 'refer-to-enforcement',
}
registerEnumType(DiscrepancyReviewDecisionEnum, {
  name: 'DiscrepancyReviewDecision',
  description:
    "The receiving-side bureau's decision on a manifest's discrepancies: none needed, or refer to joint enforcement. 差异核查决定：无需进一步处理或移送执法。",
});

@ObjectType('ManifestParty', { description: 'A party named on the manifest. 联单当事方。' })
export class ManifestPartyType {
  @Field({ description: 'Unified social credit code. 统一社会信用代码。' })
  creditCode!: string;

  @Field({ description: 'GB/T 2260 code of its place. 所在地行政区划代码。' })
  jurisdiction!: string;
}

@ObjectType('ManifestWaste', { description: "The generator's record of the waste (Art 15). 废物信息。" })
export class ManifestWasteType {
  @Field({ description: "'hazardous:900-249-08', 'construction'… 废物类别。" })
  wasteClass!: string;

  @Field(() => String, { nullable: true, description: 'Hazardous waste code. 危险废物代码。' })
  wasteCode!: string | null;

  @Field({ description: 'Name. 废物名称。' })
  name!: string;

  @Field(() => Quantity, { description: 'Declared weight. 申报重量（千克）。' })
  declaredKg!: string;

  @Field(() => [String], { description: 'T, C, I, R, In. 危险特性。' })
  hazardCharacteristics!: string[];

  @Field({ description: 'Packaging. 包装方式。' })
  packaging!: string;

  @Field({ description: 'Physical form. 形态。' })
  form!: string;

  @Field({ description: 'Emergency measures. 应急措施。' })
  emergencyMeasures!: string;
}

@ObjectType('ManifestDriver', {
  description: "A leg's driver: shown to the manifest's parties only; erased on request. 驾驶员信息。",
})
export class ManifestDriverType {
  @Field(() => String, { nullable: true, description: 'Name; null once erased. 姓名（已删除时为空）。' })
  name!: string | null;

  @Field(() => String, { nullable: true, description: 'Phone; null once erased. 电话（已删除时为空）。' })
  phone!: string | null;

  @Field({ description: 'The personal data was erased. 个人信息已删除。' })
  erased!: boolean;
}

@ObjectType('ManifestLeg', { description: 'One carrier on one leg of the trip. 运输区段。' })
export class ManifestLegType {
  @Field({ description: 'pickup or hand-over. 接收运输或交接。' })
  kind!: string;

  @Field({ description: "Carrier's credit code. 承运单位统一社会信用代码。" })
  carrierCreditCode!: string;

  @Field({ description: 'Vehicle plate. 车牌号。' })
  vehiclePlate!: string;

  @Field({ description: 'Road transport operating licence. 道路运输经营许可证号。' })
  operatingLicence!: string;

  @Field({ description: 'When the carrier took the waste. 时间。' })
  at!: Date;

  @Field(() => String, { nullable: true, description: 'Where it was handed over. 交接地点。' })
  place!: string | null;

  @Field(() => ManifestDriverType, {
    nullable: true,
    description: "The driver, for the manifest's parties; null for others. 驾驶员（仅当事方可见）。",
  })
  driver!: ManifestDriverType | null;
}

@ObjectType('ManifestReceipt', { description: "The receiver's confirmation (Art 17). 接收信息。" })
export class ManifestReceiptType {
  @Field({ description: 'full, partial or rejected. 全部接收、部分接收或拒收。' })
  acceptance!: string;

  @Field(() => Quantity, { description: 'Accepted (weighed) weight, as corrected. 接收重量。' })
  acceptedKg!: string;

  @Field(() => Quantity, { nullable: true, description: 'Rejected weight. 拒收重量。' })
  rejectedKg!: string | null;

  @Field(() => String, { nullable: true, description: 'Utilisation or disposal method. 利用处置方式。' })
  method!: string | null;

  @Field({ description: 'Receipt day (Asia/Shanghai), YYYY-MM-DD. 接收日期。' })
  receiptDate!: string;

  @Field({ description: 'When it was confirmed. 确认时间。' })
  at!: Date;

  @Field({ description: 'Confirmed within 5 working days of delivery. 是否按时确认。' })
  onTime!: boolean;

  @Field(() => [String], { description: 'Reasons for a rejection. 拒收理由。' })
  reasons!: string[];

  @Field(() => String, { nullable: true, description: 'Where rejected waste goes. 拒收废物去向。' })
  disposition!: string | null;
}

@ObjectType('ManifestReceiptCorrection', { description: 'A correction after receipt. 接收更正。' })
export class ManifestCorrectionType {
  @Field(() => Quantity)
  previousAcceptedKg!: string;

  @Field(() => Quantity)
  acceptedKg!: string;

  @Field({ description: 'Why. 更正理由。' })
  reason!: string;

  @Field()
  at!: Date;
}

@ObjectType('ManifestDisposal', { description: 'Disposal confirmed. 利用处置确认。' })
export class ManifestDisposalType {
  @Field({ description: 'Method. 利用处置方式。' })
  method!: string;

  @Field()
  at!: Date;
}

@ObjectType('ManifestDiscrepancy', { description: 'A difference found on receipt (Art 17). 联单差异。' })
export class ManifestDiscrepancyType {
  @Field({ description: 'weight, name, form, packaging, characteristics. 差异类型。' })
  kind!: string;

  @Field({ description: 'As declared. 申报值。' })
  declared!: string;

  @Field({ description: 'As found. 实际值。' })
  found!: string;

  @Field(() => Quantity, { nullable: true, description: 'Weight difference. 重量差。' })
  differenceKg!: string | null;

  @Field({ description: 'The receiving-side bureau it is reported to. 报告的接受地生态环境部门。' })
  reportTo!: string;
}

@ObjectType('ManifestDiscrepancyReview', {
  description: "The receiving-side bureau's decision on the discrepancies open at the time. 差异核查决定。",
})
export class ManifestDiscrepancyReviewType {
  @Field(() => DiscrepancyReviewDecisionEnum)
  decision!: DiscrepancyReviewDecisionEnum;

  @Field({ description: 'Why. 核查意见。' })
  note!: string;

  @Field(() => [String], { description: 'The discrepancy kinds it closed. 本次核查的差异类型。' })
  kinds!: string[];

  @Field({ description: 'The reviewing agency. 核查机构。' })
  reviewedBy!: string;

  @Field()
  at!: Date;
}

@ObjectType('ManifestNextAction', { description: 'What the caller may do next. 下一步可办理事项。' })
export class ManifestNextActionType {
  @Field({ description: 'The mutation, e.g. confirmManifestPickup. 操作代码。' })
  code!: string;

  @Field(() => BilingualTextType)
  label!: BilingualTextType;

  @Field(() => Date, { nullable: true, description: 'Due by. 期限。' })
  dueAt!: Date | null;

  @Field({ description: 'The deadline has passed. 是否已逾期。' })
  overdue!: boolean;
}

/** An electronic transfer manifest (电子转移联单): one vehicle trip, one waste class. */
@ObjectType('Manifest', { description: 'An electronic transfer manifest. 危险废物电子转移联单。' })
@Directive('@key(fields: "number")')
export class ManifestNode {
  @Field(() => ID, { description: '14 digits (Art 15). 联单编号。' })
  number!: string;

  @Field(() => ManifestStatusEnum)
  status!: ManifestStatusEnum;

  @Field({ description: 'approval or filing. 批准或备案。' })
  authorizationKind!: string;

  @Field(() => ID, { description: 'The transfer it runs under. 所属转移。' })
  transferId!: string;

  @Field(() => ID, { description: 'The receiving facility. 接受设施。' })
  facilityId!: string;

  @Field(() => ManifestPartyType)
  generator!: ManifestPartyType;

  @Field(() => ManifestPartyType)
  receiver!: ManifestPartyType;

  @Field({ description: 'The carrier now holding the waste. 当前承运单位。' })
  carrierCreditCode!: string;

  @Field({ description: 'generator or receiver. 托运人。' })
  consignor!: string;

  @Field(() => ManifestWasteType)
  waste!: ManifestWasteType;

  @Field({ description: "Generator's place. 移出地。" })
  fromJurisdiction!: string;

  @Field({ description: "Facility's place. 接受地。" })
  toJurisdiction!: string;

  @Field(() => Quantity, { nullable: true, description: 'Accepted weight, as corrected. 接收重量。' })
  acceptedKg!: string | null;

  @Field(() => [ManifestLegType])
  legs!: ManifestLegType[];

  @Field(() => Date, { nullable: true })
  pickedUpAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'Overdue in transit after. 运输时限。' })
  transitDueAt!: Date | null;

  @Field(() => Date, { nullable: true })
  deliveredAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'Receipt due by. 接收确认期限。' })
  receiptDueAt!: Date | null;

  @Field({
    description:
      'The receipt deadline was counted over a year whose holidays are not loaded yet (recomputed once they are). 接收确认期限为暂定。',
  })
  receiptDueProvisional!: boolean;

  @Field(() => ManifestReceiptType, { nullable: true })
  receipt!: ManifestReceiptType | null;

  @Field(() => [ManifestCorrectionType])
  corrections!: ManifestCorrectionType[];

  @Field(() => ManifestDisposalType, { nullable: true })
  disposal!: ManifestDisposalType | null;

  @Field(() => [ManifestDiscrepancyType])
  discrepancies!: ManifestDiscrepancyType[];

  @Field(() => [String], {
    description:
      'Kinds of discrepancy the receiving-side bureau has not reviewed yet. 待接受地生态环境部门核查的差异类型。',
  })
  openDiscrepancies!: string[];

  @Field(() => [ManifestDiscrepancyReviewType], { description: 'Reviews, oldest first. 差异核查记录。' })
  discrepancyReviews!: ManifestDiscrepancyReviewType[];

  @Field(() => [String], { description: 'transit, receipt. 逾期事项。' })
  overdue!: string[];

  @Field(() => String, {
    nullable: true,
    description: 'Paper manifest number, if backfilled. 纸质联单编号。',
  })
  paperReference!: string | null;

  @Field()
  openedAt!: Date;

  @Field()
  updatedAt!: Date;

  /** The view it was built from (for nextActions), not a field. */
  view!: ManifestView;
}

@ObjectType('ManifestEdge')
export class ManifestEdge {
  @Field()
  cursor!: string;

  @Field(() => ManifestNode)
  node!: ManifestNode;
}

@ObjectType('ManifestPageInfo')
export class ManifestPageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType('ManifestConnection', { description: 'A page of manifests. 联单分页。' })
export class ManifestConnection {
  @Field(() => [ManifestEdge])
  edges!: ManifestEdge[];

  @Field(() => ManifestPageInfo)
  pageInfo!: ManifestPageInfo;

  @Field(() => Int)
  totalCount!: number;
}

@InputType('ManifestFilter', { description: 'Narrows a list of manifests. 联单筛选条件。' })
export class ManifestFilterInput {
  @Field(() => ManifestStatusEnum, { nullable: true })
  status?: ManifestStatusEnum | null;

  @Field(() => ID, { nullable: true })
  transferId?: string | null;

  @Field(() => ID, { nullable: true })
  facilityId?: string | null;

  @Field(() => String, { nullable: true, description: "Generator's credit code. 产生单位信用代码。" })
  generator?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Only overdue ones. 仅逾期。' })
  overdueOnly?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: 'Only those with a discrepancy. 仅有差异。' })
  discrepancyOnly?: boolean | null;
}

@InputType('ManifestWasteInput', { description: 'The waste as the generator records it. 废物信息。' })
export class ManifestWasteInput {
  @Field({ description: "'hazardous:900-249-08', 'construction'… 废物类别。" })
  wasteClass!: string;

  @Field({ description: 'Name. 废物名称。' })
  name!: string;

  @Field({ description: 'Declared kg, exact decimal text. 申报重量（千克）。' })
  declaredKg!: string;

  @Field(() => [String], { description: 'T, C, I, R, In. 危险特性。' })
  hazardCharacteristics!: string[];

  @Field({ description: 'Packaging. 包装方式。' })
  packaging!: string;

  @Field({ description: 'Physical form. 形态。' })
  form!: string;

  @Field({ description: 'Emergency measures. 应急措施。' })
  emergencyMeasures!: string;
}

@InputType('OpenManifestInput', { description: 'A new trip under an approval or a filing. 开具联单。' })
export class OpenManifestInput {
  @Field(() => ID, { description: 'The approved (or filed) transfer. 转移批准（备案）编号。' })
  transferId!: string;

  @Field({ description: "The carrier's credit code. 承运单位统一社会信用代码。" })
  carrierCreditCode!: string;

  @Field(() => String, { nullable: true, description: 'generator (default) or receiver. 托运人。' })
  consignor?: string | null;

  @Field(() => ManifestWasteInput)
  waste!: ManifestWasteInput;
}

@InputType('ManifestDriverInput', { description: 'The driver (personal data). 驾驶员（个人信息）。' })
export class ManifestDriverInput {
  @Field({ description: 'Name. 姓名。' })
  name!: string;

  @Field({ description: 'Mobile or landline. 电话。' })
  phone!: string;
}

@InputType('ManifestVehicleInput', { description: 'Vehicle, licence and driver of a leg. 车辆与驾驶员。' })
export class ManifestVehicleInput {
  @Field({ description: 'Plate, e.g. 川A12345. 车牌号。' })
  vehiclePlate!: string;

  @Field({ description: 'Operating licence. 道路运输经营许可证号。' })
  operatingLicence!: string;

  @Field(() => ManifestDriverInput)
  driver!: ManifestDriverInput;
}

@InputType('ManifestHandOverInput', { description: 'A hand-over to the next carrier. 交接。' })
export class ManifestHandOverInput {
  @Field({ description: "The next carrier's credit code. 接收交接的承运单位。" })
  toCarrierCreditCode!: string;

  @Field(() => ManifestVehicleInput)
  vehicle!: ManifestVehicleInput;

  @Field({ description: 'When. 交接时间。' })
  at!: Date;

  @Field({ description: 'Where. 交接地点。' })
  place!: string;
}

@InputType('ManifestDifferenceInput', { description: 'A non-weight difference. 其他差异。' })
export class ManifestDifferenceInput {
  @Field({ description: 'name, form, packaging or characteristics. 差异类型。' })
  kind!: string;

  @Field()
  declared!: string;

  @Field()
  found!: string;
}

@InputType('ReceiveManifestInput', { description: 'Full acceptance. 确认接收。' })
export class ReceiveManifestInput {
  @Field({ description: 'Accepted (weighed) kg. 接收重量（千克）。' })
  acceptedKg!: string;

  @Field({ description: 'Utilisation or disposal method. 利用处置方式。' })
  method!: string;

  @Field(() => [ManifestDifferenceInput], { nullable: true })
  differences?: ManifestDifferenceInput[] | null;
}

@InputType('PartiallyAcceptManifestInput', { description: 'Partial acceptance. 部分接收。' })
export class PartiallyAcceptManifestInput extends ReceiveManifestInput {
  @Field({ description: 'Rejected kg. 拒收重量（千克）。' })
  rejectedKg!: string;

  @Field(() => [String])
  reasons!: string[];

  @Field({ description: 'return-to-generator or other-facility. 拒收废物去向。' })
  disposition!: string;

  @Field(() => String, { nullable: true })
  otherFacilityId?: string | null;
}

@InputType('RejectManifestInput', { description: 'Rejection. 拒收。' })
export class RejectManifestInput {
  @Field(() => [String])
  reasons!: string[];

  @Field({ description: 'return-to-generator or other-facility. 拒收废物去向。' })
  disposition!: string;

  @Field(() => String, { nullable: true })
  otherFacilityId?: string | null;

  @Field(() => [ManifestDifferenceInput], { nullable: true })
  differences?: ManifestDifferenceInput[] | null;
}

@InputType('ReviewManifestDiscrepanciesInput', {
  description: "The receiving-side bureau's decision on a manifest's open discrepancies. 差异核查决定。",
})
export class ReviewManifestDiscrepanciesInput {
  @Field(() => DiscrepancyReviewDecisionEnum)
  decision!: DiscrepancyReviewDecisionEnum;

  @Field({ description: 'Why, at most 2000 characters. 核查意见（最多2000字）。' })
  note!: string;
}

@InputType('BackfillPaperManifestInput', { description: 'A paper manifest from an outage. 补录纸质联单。' })
export class BackfillPaperManifestInput extends OpenManifestInput {
  @Field({ description: 'The paper manifest number. 纸质联单编号。' })
  paperReference!: string;

  @Field({ description: 'Day of the trip, YYYY-MM-DD. 运输日期。' })
  tripDate!: string;

  @Field(() => ManifestVehicleInput, {
    nullable: true,
    description: 'The pickup, if it happened. 接收运输。',
  })
  pickupVehicle?: ManifestVehicleInput | null;

  @Field(() => Date, { nullable: true })
  pickedUpAt?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Delivery, if it happened. 送达时间。' })
  deliveredAt?: Date | null;
}
