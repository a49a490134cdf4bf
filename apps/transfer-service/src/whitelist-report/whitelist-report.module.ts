import { Module } from '@nestjs/common';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import { WhitelistReportReadModel } from './whitelist-report.projection';
import { WhitelistReportQueries } from './whitelist-report.queries';
import { WhitelistReportResolver } from './whitelist-report.resolver';

/** The January whitelist report: last year's receipts and disposal per whitelist entry. */
@Module({
  providers: [
    {
      provide: WhitelistReportQueries,
      inject: [PLATFORM],
      useFactory: (p: Platform) => new WhitelistReportQueries(p.sql, p.schema),
    },
    WhitelistReportReadModel,
    WhitelistReportResolver,
  ],
})
export class WhitelistReportModule {}
