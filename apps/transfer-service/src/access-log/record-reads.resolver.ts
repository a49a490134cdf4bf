import { Global, Inject, Module } from '@nestjs/common';
import { Args, ID, Int, Query, Resolver } from '@nestjs/graphql';
import { everyParty, Allow, CurrentIdentity, type AccessLog, type Identity } from '@lianfang/auth';
import { ACCESS_LOG, accessLogProvider, RecordReadConnection, toRecordReadConnection } from '@lianfang/graph';

/** Any agency may ask who read its own records; the log never shows reads of others' records. */
export const readOwnAccessLog = everyParty('access-log.read-own', {
  zh: '查阅本机构记录的被查阅日志',
  en: "read who read your agency's records",
});

@Resolver()
@Allow(readOwnAccessLog)
export class RecordReadsResolver {
  constructor(@Inject(ACCESS_LOG) private readonly log: AccessLog) {}

  @Query(() => RecordReadConnection, {
    description:
      "Who read your agency's records held by transfer-service, newest first (optionally one record). 本机构记录的查阅日志。",
  })
  async transferRecordReads(
    @CurrentIdentity() identity: Identity,
    @Args('recordId', { type: () => ID, nullable: true }) recordId?: string,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { nullable: true }) after?: string,
  ): Promise<RecordReadConnection> {
    return toRecordReadConnection(
      await this.log.readsOf(identity, {
        ...(recordId ? { recordId } : {}),
        first: first ?? null,
        after: after ?? null,
      }),
    );
  }
}

/** The service's access log: every module may record reads (ACCESS_LOG); owners query them. */
@Global()
@Module({ providers: [accessLogProvider, RecordReadsResolver], exports: [accessLogProvider] })
export class AccessLogModule {}
