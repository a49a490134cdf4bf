import { Directive, Field, ID, Int, ObjectType } from '@nestjs/graphql';
import type { Connection, RecordedRead } from '@lianfang/auth';

// Value types every subgraph may serve identically: @shareable, so the supergraph composes.

@ObjectType('RecordRead', {
  description: 'One read of a record: who, for which agency, when, how. 一次查阅记录。',
})
@Directive('@shareable')
export class RecordReadType {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'When it was read. 查阅时间。' })
  at!: Date;

  @Field({ description: 'The person (token subject). 查阅人。' })
  subject!: string;

  @Field({ description: 'The agency they read for. 查阅机构。' })
  agencyId!: string;

  @Field()
  agencyKind!: string;

  @Field()
  jurisdiction!: string;

  @Field()
  recordType!: string;

  @Field()
  recordId!: string;

  @Field({ description: 'read, history, asOf or list. 查阅方式。' })
  operation!: string;
}

@ObjectType('RecordReadEdge')
@Directive('@shareable')
export class RecordReadEdge {
  @Field()
  cursor!: string;

  @Field(() => RecordReadType)
  node!: RecordReadType;
}

@ObjectType('RecordReadPageInfo')
@Directive('@shareable')
export class RecordReadPageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType('RecordReadConnection', {
  description: 'Reads of your agency’s records, newest first. 本机构记录的查阅日志。',
})
@Directive('@shareable')
export class RecordReadConnection {
  @Field(() => [RecordReadEdge])
  edges!: RecordReadEdge[];

  @Field(() => RecordReadPageInfo)
  pageInfo!: RecordReadPageInfo;

  @Field(() => Int)
  totalCount!: number;
}

export function toRecordReadConnection(page: Connection<RecordedRead>): RecordReadConnection {
  return {
    totalCount: page.totalCount,
    pageInfo: page.pageInfo,
    edges: page.edges.map(({ cursor, node }) => ({
      cursor,
      node: {
        id: node.id,
        at: node.at,
        subject: node.reader.subject,
        agencyId: node.reader.agencyId,
        agencyKind: node.reader.agencyKind,
        jurisdiction: node.reader.jurisdiction,
        recordType: node.recordType,
        recordId: node.recordId,
        operation: node.operation,
      },
    })),
  };
}
