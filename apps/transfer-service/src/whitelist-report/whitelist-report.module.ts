import { Module } from '@nestjs/common';

/** The January whitelist report: last year's receipts and disposal per whitelist entry. */
@Module({ providers: [], exports: [] })
export class WhitelistReportModule {}
