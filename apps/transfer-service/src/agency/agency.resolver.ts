import { Inject } from '@nestjs/common';
import { Args, ID, Int, Query, ResolveReference, Resolver } from '@nestjs/graphql';
import { JurisdictionCode } from '@lianfang/domain-kernel';
import { everyParty, Allow, CurrentIdentity, type AccessLog, type Identity } from '@lianfang/auth';
import { ACCESS_LOG } from '@lianfang/graph';
import { AgencyQueries } from './agency.queries';
import { AgencyConnection, AgencyKindEnum, AgencyNode, CurrentActor } from './agency.types';

/** The directory is reference data: any authenticated party of the region may read it. */
export const readAgencies = everyParty('agency.read', {
  zh: '查阅机构名录',
  en: 'read the agency directory',
});

@Resolver(() => AgencyNode)
@Allow(readAgencies)
export class AgencyResolver {
  constructor(
    @Inject(AgencyQueries) private readonly queries: AgencyQueries,
    @Inject(ACCESS_LOG) private readonly accessLog: AccessLog,
  ) {}

  @Query(() => AgencyNode, { nullable: true, description: 'One agency by id. 按标识查询机构。' })
  async agency(
    @CurrentIdentity() identity: Identity,
    @Args('id', { type: () => ID }) id: string,
  ): Promise<AgencyNode | null> {
    const agency = await this.queries.byId(id);
    // An agency's entry is its own record: it may ask who looked it up (transferRecordReads).
    if (agency)
      await this.accessLog.recordRead({
        identity,
        recordType: 'agency',
        recordId: agency.id,
        ownerAgencies: [agency.id],
        operation: 'read',
        at: new Date(),
      });
    return agency;
  }

  @Query(() => AgencyConnection, {
    description: 'Agencies of the region, by kind and jurisdiction (within it), by id. 机构名录。',
  })
  agencies(
    @CurrentIdentity() identity: Identity,
    @Args('kind', { type: () => AgencyKindEnum, nullable: true }) kind?: string,
    @Args('jurisdiction', { type: () => JurisdictionCode, nullable: true }) jurisdiction?: JurisdictionCode,
    @Args('includeRetired', { nullable: true }) includeRetired?: boolean,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { nullable: true }) after?: string,
  ): Promise<AgencyConnection> {
    return this.queries.list(
      identity,
      {
        kind: kind ?? null,
        jurisdiction: jurisdiction ?? null,
        includeRetired: includeRetired ?? false,
      },
      { first: first ?? null, after: after ?? null },
    );
  }

  @Query(() => CurrentActor, { description: 'Who the platform takes you for. 当前身份。' })
  async whoami(@CurrentIdentity() identity: Identity): Promise<CurrentActor> {
    return {
      subject: identity.subject,
      roles: [...identity.roles],
      agency: await this.queries.byId(identity.agencyId),
    };
  }

  /** `_entities`: other subgraphs hand over `{ id }`. */
  @ResolveReference()
  resolveReference(reference: { id: string }): Promise<AgencyNode | null> {
    return this.queries.byId(reference.id);
  }
}
