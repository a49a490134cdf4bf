import { Field, Int, ObjectType } from '@nestjs/graphql';
import { Quantity } from '@lianfang/domain-kernel';
import { BilingualTextType } from '@lianfang/graph';

@ObjectType('WhitelistReportRow', {
  description: "One whitelist entry's year: approved, received, disposed. 白名单条目年度执行情况。",
})
export class WhitelistReportRowType {
  @Field({ description: 'Entry id. 条目编号。' })
  entryId!: string;

  @Field({ description: 'Exporting member. 移出成员。' })
  exportingMember!: string;

  @Field({ description: 'Receiving facility. 接收设施。' })
  receivingFacilityId!: string;

  @Field(() => [String], { description: 'Waste codes. 危险废物代码。' })
  wasteCodes!: string[];

  @Field(() => Quantity, { description: 'Whitelisted quantity. 白名单数量（千克）。' })
  whitelistedKg!: string;

  @Field(() => Quantity, { description: 'Approved under the entry. 白名单内批准数量（千克）。' })
  approvedKg!: string;

  @Field(() => Int, { description: 'Transfers approved under it. 白名单内批准的转移数。' })
  transfers!: number;

  @Field(() => Quantity, { description: 'Accepted at receipt in the year. 当年实际接收数量（千克）。' })
  receivedKg!: string;

  @Field(() => Quantity, { description: 'Disposed of in the year. 当年处置数量（千克）。' })
  disposedKg!: string;

  @Field(() => Int, { description: 'Manifests received in the year. 当年接收的联单数。' })
  manifests!: number;
}

@ObjectType('WhitelistReport', {
  description: "A member's January report: last year's figures per whitelist entry. 白名单年度执行情况报告。",
})
export class WhitelistReportType {
  @Field()
  agreementId!: string;

  @Field(() => BilingualTextType)
  title!: BilingualTextType;

  @Field(() => Int)
  year!: number;

  @Field(() => [WhitelistReportRowType], {
    description:
      'Every entry of the year, in agreed order; nothing received: zeros. 各条目（无接收记为零）。',
  })
  rows!: WhitelistReportRowType[];
}
