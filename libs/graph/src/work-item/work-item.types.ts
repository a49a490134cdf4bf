import { Directive, Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { LocalDate } from '@lianfang/domain-kernel';
import { BilingualTextType } from '../service-info/service-info.types';

// What waits on an agency, as every service serves it on its own `Agency.<x>Worklist` field: value
// types, @shareable, so the services' worklists compose into one type in the supergraph.

@ObjectType('WorkItem', {
  description:
    'One thing waiting on an agency: an action on a record, with its due date. 待办事项：某项记录上等待本机构办理的事项及期限。',
})
@Directive('@shareable')
export class WorkItemType {
  @Field(() => ID, { description: 'Stable while the item stays open. 待办事项标识。' })
  id!: string;

  @Field({
    description:
      'The GraphQL type of the record: Transfer, Manifest, Agreement, Facility (other services: their own). 记录类型。',
  })
  recordType!: string;

  @Field({ description: 'The record’s id (a manifest: its number). 记录标识。' })
  recordId!: string;

  @Field({ description: 'What to do, as a code, e.g. transfer.reply. 待办事项代码。' })
  action!: string;

  @Field(() => BilingualTextType, { description: 'What to do, in words. 待办事项说明。' })
  label!: BilingualTextType;

  @Field(() => Date, {
    nullable: true,
    description: 'When it is due (24:00 Asia/Shanghai of the last day); null: no deadline. 办理期限。',
  })
  dueAt!: Date | null;

  @Field(() => LocalDate, {
    nullable: true,
    description: 'The last day to act (Asia/Shanghai); null: no deadline. 办理期限的最后一日。',
  })
  dueDay!: string | null;

  @Field({
    description: 'Past its due time at the time of the request, or recorded as missed. 是否已逾期。',
  })
  overdue!: boolean;

  @Field({ description: 'Since when it waits on the agency. 待办起始时间。' })
  since!: Date;

  @Field({
    description:
      'The agency’s role on the record: exporting-bureau, receiving-bureau, member-bureau, generator, carrier, receiver, secretariat. 本机构在该记录中的角色。',
  })
  party!: string;

  @Field({
    description:
      'GB/T 2260 code the item belongs to: the responsible bureau’s, or where the record touches the enterprise. 所属行政区划。',
  })
  jurisdiction!: string;
}

@ObjectType('WorkItemEdge')
@Directive('@shareable')
export class WorkItemEdge {
  @Field()
  cursor!: string;

  @Field(() => WorkItemType)
  node!: WorkItemType;
}

@ObjectType('WorkItemPageInfo')
@Directive('@shareable')
export class WorkItemPageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType('WorkItemConnection', {
  description: 'A page of work items, by due date (none last), then id. 待办事项分页。',
})
@Directive('@shareable')
export class WorkItemConnection {
  @Field(() => [WorkItemEdge])
  edges!: WorkItemEdge[];

  @Field(() => WorkItemPageInfo)
  pageInfo!: WorkItemPageInfo;

  @Field(() => Int, { description: 'How many items match in all. 符合条件的事项总数。' })
  totalCount!: number;
}
