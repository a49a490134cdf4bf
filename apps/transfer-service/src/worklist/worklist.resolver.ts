import { Inject } from '@nestjs/common';
import { Args, Int, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import {
  AGENCY_KINDS,
  authorize,
  CurrentIdentity,
  defineRule,
  ROLES,
  type AgencyDirectory,
  type Identity,
} from '@lianfang/auth';
import { WorkItemConnection, workItemPage, type WorkItemHolder } from '@lianfang/graph';
import { AGENCY_DIRECTORY, PLATFORM, type Platform } from '@lianfang/runtime';
import { AgencyNode } from '../agency/agency.types';
import { CLOCK, type Clock } from '../common/time';

/** A worklist shows what an agency must do, with its deadlines: only the agency itself reads it. */
export const readWorklist = defineRule<{ id: string }>({
  name: 'transfer.worklist.read',
  description: { zh: '查阅本机构的转移待办事项', en: "read the agency's own transfer worklist" },
  agencyKinds: AGENCY_KINDS,
  roles: ROLES,
  scope: (identity, agency) =>
    identity.agencyId === agency.id || {
      allowed: false,
      reason: {
        zh: `只有 ${agency.id} 本机构可以查阅其待办事项`,
        en: `only ${agency.id} itself reads its worklist`,
      },
    },
});

/** Everything an item may name the agency by: its id, its credit code, its kind where it answers. */
export function holderOf(agency: AgencyNode, directory: AgencyDirectory): WorkItemHolder {
  const entry = directory.agency(agency.id);
  const region = entry?.level === 'regional' && entry.region ? directory.region(entry.region) : undefined;
  return {
    agencyId: agency.id,
    creditCode: entry?.creditCode ?? agency.creditCode ?? null,
    agencyKind: agency.kind,
    // A regional body (the secretariat) answers for its member provinces, a bureau for its own code.
    jurisdictions: region ? [...region.jurisdictions] : [agency.jurisdiction],
  };
}

@Resolver(() => AgencyNode)
export class WorklistResolver {
  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(AGENCY_DIRECTORY) private readonly directory: AgencyDirectory,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @ResolveField(() => WorkItemConnection, {
    description:
      'Transfers, manifests, agreements and facility suspensions waiting on this agency, by due date (none last), then id; only the agency itself may read it. 本机构的转移待办事项（按期限排序，仅本机构可查阅）。',
  })
  transferWorklist(
    @Parent() agency: AgencyNode,
    @CurrentIdentity() identity: Identity,
    @Args('first', { type: () => Int, nullable: true, description: 'Page size, 1–100 (20). 每页条数。' })
    first?: number,
    @Args('after', {
      type: () => String,
      nullable: true,
      description: 'endCursor of the previous page. 游标。',
    })
    after?: string,
    @Args('overdueOnly', {
      type: () => Boolean,
      nullable: true,
      description: 'Only what is overdue now. 仅逾期事项。',
    })
    overdueOnly?: boolean,
  ): Promise<WorkItemConnection> {
    authorize(identity, readWorklist, agency);
    return workItemPage({
      client: this.platform.sql,
      table: `${this.platform.schema}.worklist_items`,
      holder: holderOf(agency, this.directory),
      now: this.clock(),
      overdueOnly: overdueOnly ?? false,
      first: first ?? null,
      after: after ?? null,
      identity,
    });
  }
}
