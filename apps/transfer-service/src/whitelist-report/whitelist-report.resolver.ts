import { Inject } from '@nestjs/common';
import { Args, ID, Int, Query, Resolver } from '@nestjs/graphql';
import {
  Allow,
  authorize,
  CurrentIdentity,
  defineRule,
  defineVisibilityPolicy,
  isVisible,
  ROLES,
  type AgencyDirectory,
  type Identity,
  type RecordVisibility,
  type VisibilityPolicy,
} from '@lianfang/auth';
import { InputError } from '@lianfang/graph';
import { AGENCY_DIRECTORY } from '@lianfang/runtime';
import { regionOf } from '../agreement/agreement.access';
import { whitelistReportCsv } from './whitelist-report.csv';
import { WhitelistReportQueries } from './whitelist-report.queries';
import { WhitelistReportType } from './whitelist-report.types';

/** The members report to each other (domain.md): their provincial bureaus and the secretariat read it. */
export const readWhitelistReports = defineRule<{ visibility: RecordVisibility; policy: VisibilityPolicy }>({
  name: 'whitelist-report.read',
  description: { zh: '查阅白名单年度执行情况', en: 'read the yearly whitelist report' },
  agencyKinds: ['provincial-bureau', 'regional-secretariat'],
  roles: ROLES,
  scope: (identity, r) =>
    isVisible(identity, r.policy, r.visibility)
      ? true
      : {
          allowed: false,
          reason: {
            zh: '您的机构不是该协议的成员或秘书处',
            en: 'your agency is neither a member bureau nor the secretariat of this agreement',
          },
        },
});

@Resolver(() => WhitelistReportType)
@Allow(readWhitelistReports)
export class WhitelistReportResolver {
  constructor(
    @Inject(WhitelistReportQueries) private readonly queries: WhitelistReportQueries,
    @Inject(AGENCY_DIRECTORY) private readonly directory: AgencyDirectory,
  ) {}

  @Query(() => WhitelistReportType, {
    nullable: true,
    description:
      "A year's figures per whitelist entry of an agreement (the January report); null: no such agreement. 白名单年度执行情况。",
  })
  whitelistReport(
    @CurrentIdentity() identity: Identity,
    @Args('agreementId', { type: () => ID }) agreementId: string,
    @Args('year', { type: () => Int }) year: number,
  ): Promise<WhitelistReportType | null> {
    return this.load(identity, agreementId, year);
  }

  @Query(() => String, {
    nullable: true,
    description:
      'The same report as UTF-8 CSV with a bilingual header (exact decimals, CRLF lines). 白名单年度执行情况（CSV）。',
  })
  async whitelistReportCsv(
    @CurrentIdentity() identity: Identity,
    @Args('agreementId', { type: () => ID }) agreementId: string,
    @Args('year', { type: () => Int }) year: number,
  ): Promise<string | null> {
    const report = await this.load(identity, agreementId, year);
    return report ? whitelistReportCsv(report) : null;
  }

  private async load(
    identity: Identity,
    agreementId: string,
    year: number,
  ): Promise<WhitelistReportType | null> {
    if (!Number.isInteger(year) || year < 2000 || year > 2099)
      throw new InputError({
        field: 'year',
        rule: 'year.range',
        messages: { zh: '年度须为 2000 至 2099 之间的年份', en: 'the year is a year from 2000 to 2099' },
      });
    const agreement = await this.queries.agreement(agreementId);
    if (!agreement) return null;
    authorize(identity, readWhitelistReports, {
      visibility: { agencies: [agreement.secretariatId], jurisdictions: [...agreement.members] },
      policy: this.policy(identity),
    });
    return this.queries.report(agreement, year);
  }

  /** Member bureaus by jurisdiction; the secretariat that keeps it, or serves a region it touches. */
  private policy(identity: Identity): VisibilityPolicy {
    const region =
      identity.agencyKind === 'regional-secretariat' ? regionOf(this.directory, identity.agencyId) : [];
    return defineVisibilityPolicy({
      party: ['regional-secretariat'],
      jurisdiction: ['provincial-bureau'],
      region: region.length > 0 ? ['regional-secretariat'] : [],
      regionJurisdictions: region,
    });
  }
}
