import { Inject } from '@nestjs/common';
import { Args, Context, ID, Int, Mutation, Query, ResolveReference, Resolver } from '@nestjs/graphql';
import { JurisdictionCode } from '@lianfang/domain-kernel';
import { Allow, CurrentIdentity, type Identity, type RequestContext } from '@lianfang/auth';
import { Idempotency, userCommandMetadata } from '@lianfang/graph';
import { deterministicUuid } from '@lianfang/messaging';
import type { FacilityCommand, FacilityProfileInput, LicensedCategoryInput } from './decider';
import { FacilityCommands } from './facility.commands';
import { FacilityReadModel } from './facility.projection';
import { FacilityQueries } from './facility.queries';
import { manageFacilities, readFacilities } from './facility.rules';
import {
  FacilityConnection,
  FacilityImportReportType,
  FacilityNode,
  RegisterFacilityInput,
  UpdateFacilityInput,
  type FacilityImportOutcomeEnum,
  type LicensedCategoryInputType,
} from './facility.types';
import { FacilityImport } from './import/facility-import';
import { FacilityRevocationReleases } from './revocation/revocation.policy';

export { manageFacilities, readFacilities } from './facility.rules';

type CommandBody = Omit<FacilityCommand, 'metadata'>;

const licensedOf = (licensed: readonly LicensedCategoryInputType[]): LicensedCategoryInput[] =>
  licensed.map((l) => ({
    category: l.category,
    annualCapacityTonnes: l.annualCapacityTonnes,
    ...(l.wasteCodes ? { wasteCodes: [...l.wasteCodes] } : {}),
  }));

/** Plain data (no GraphQL input class instances): hashed for idempotency and stored in the event. */
const profileOf = (input: RegisterFacilityInput): FacilityProfileInput => ({
  name: { zh: input.name.zh, en: input.name.en },
  licenceNumber: input.licenceNumber,
  operatorCreditCode: input.operatorCreditCode,
  jurisdiction: input.jurisdiction,
  coordinates: { lat: input.coordinates.lat, lon: input.coordinates.lon },
  licensed: licensedOf(input.licensed),
  validFrom: input.validFrom,
  validTo: input.validTo,
});

/** Only the fields given (null and absent both mean "unchanged"), as plain data. */
const changesOf = (input: UpdateFacilityInput): Partial<FacilityProfileInput> => ({
  ...(input.name ? { name: { zh: input.name.zh, en: input.name.en } } : {}),
  ...(input.licenceNumber != null ? { licenceNumber: input.licenceNumber } : {}),
  ...(input.operatorCreditCode != null ? { operatorCreditCode: input.operatorCreditCode } : {}),
  ...(input.jurisdiction != null ? { jurisdiction: input.jurisdiction } : {}),
  ...(input.coordinates ? { coordinates: { lat: input.coordinates.lat, lon: input.coordinates.lon } } : {}),
  ...(input.licensed ? { licensed: licensedOf(input.licensed) } : {}),
  ...(input.validFrom != null ? { validFrom: input.validFrom } : {}),
  ...(input.validTo != null ? { validTo: input.validTo } : {}),
});

@Resolver(() => FacilityNode)
@Allow(readFacilities)
export class FacilityResolver {
  constructor(
    @Inject(FacilityQueries) private readonly queries: FacilityQueries,
    @Inject(FacilityReadModel) private readonly readModel: FacilityReadModel,
    @Inject(FacilityCommands) private readonly commands: FacilityCommands,
    @Inject(FacilityImport) private readonly licenceImport: FacilityImport,
    @Inject(FacilityRevocationReleases) private readonly revocations: FacilityRevocationReleases,
    @Inject(Idempotency) private readonly idempotency: Idempotency,
  ) {}

  @Query(() => FacilityNode, { nullable: true, description: 'One facility by id. 按标识查询设施。' })
  facility(@Args('id', { type: () => ID }) id: string): Promise<FacilityNode | null> {
    return this.queries.byId(id);
  }

  @Query(() => FacilityConnection, {
    description: 'Facilities by licensed category and jurisdiction (within it), by id. 设施名录。',
  })
  facilities(
    @CurrentIdentity() identity: Identity,
    @Args('category', { nullable: true, description: 'e.g. HW08' }) category?: string,
    @Args('jurisdiction', { type: () => JurisdictionCode, nullable: true }) jurisdiction?: JurisdictionCode,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { nullable: true }) after?: string,
  ): Promise<FacilityConnection> {
    return this.queries.list(
      identity,
      { category: category ?? null, jurisdiction: jurisdiction ?? null },
      { first: first ?? null, after: after ?? null },
    );
  }

  @Mutation(() => FacilityNode, { description: 'Register a licensed facility. 登记持证设施。' })
  @Allow(manageFacilities)
  registerFacility(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('input', { type: () => RegisterFacilityInput }) input: RegisterFacilityInput,
  ): Promise<FacilityNode> {
    const profile = profileOf(input);
    return this.idempotency.runIdempotent(
      { identity, key: idempotencyKey, operation: 'registerFacility', payload: profile },
      () =>
        this.execute(identity, context, idempotencyKey, {
          type: 'RegisterFacility',
          // A retry of the same request names the same facility.
          data: { facilityId: deterministicUuid('facility', identity.agencyId, idempotencyKey), profile },
        }),
    );
  }

  @Mutation(() => FacilityNode, { description: 'Suspend a facility. 暂停设施经营。' })
  @Allow(manageFacilities)
  suspendFacility(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('facilityId', { type: () => ID }) facilityId: string,
    @Args('reason') reason: string,
  ): Promise<FacilityNode> {
    return this.idempotency.runIdempotent(
      { identity, key: idempotencyKey, operation: 'suspendFacility', payload: { facilityId, reason } },
      () =>
        this.execute(identity, context, idempotencyKey, {
          type: 'SuspendFacility',
          data: { facilityId, reason },
        }),
    );
  }

  @Mutation(() => FacilityNode, { description: 'Reinstate a suspended facility. 恢复设施经营。' })
  @Allow(manageFacilities)
  reinstateFacility(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('facilityId', { type: () => ID }) facilityId: string,
    @Args('reason', { type: () => String, nullable: true }) reason?: string | null,
  ): Promise<FacilityNode> {
    return this.idempotency.runIdempotent(
      {
        identity,
        key: idempotencyKey,
        operation: 'reinstateFacility',
        payload: { facilityId, reason: reason ?? null },
      },
      () =>
        this.execute(identity, context, idempotencyKey, {
          type: 'ReinstateFacility',
          data: { facilityId, ...(reason ? { reason } : {}) },
        }),
    );
  }

  @Mutation(() => FacilityNode, {
    description:
      'Correct or renew a licence: the fields given replace the recorded ones. 变更或换发许可证：所填字段替换登记内容。',
  })
  @Allow(manageFacilities)
  updateFacility(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('facilityId', { type: () => ID }) facilityId: string,
    @Args('input', { type: () => UpdateFacilityInput }) input: UpdateFacilityInput,
    @Args('reason', { type: () => String, nullable: true, description: 'Why. 变更理由。' })
    reason?: string | null,
  ): Promise<FacilityNode> {
    const changes = changesOf(input);
    return this.idempotency.runIdempotent(
      {
        identity,
        key: idempotencyKey,
        operation: 'updateFacility',
        payload: { facilityId, changes, reason: reason ?? null },
      },
      () =>
        this.execute(identity, context, idempotencyKey, {
          type: 'UpdateFacility',
          data: { facilityId, changes, ...(reason ? { reason } : {}) },
        }),
    );
  }

  @Mutation(() => FacilityNode, {
    description:
      'Revoke a licence, for good: what approvals hold at the facility is released. 吊销许可证（不可撤回），释放批准占用的处置能力。',
  })
  @Allow(manageFacilities)
  revokeFacility(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('facilityId', { type: () => ID }) facilityId: string,
    @Args('reason') reason: string,
  ): Promise<FacilityNode> {
    return this.idempotency.runIdempotent(
      { identity, key: idempotencyKey, operation: 'revokeFacility', payload: { facilityId, reason } },
      () =>
        this.execute(identity, context, idempotencyKey, {
          type: 'RevokeFacility',
          data: { facilityId, reason },
        }),
    );
  }

  @Mutation(() => FacilityImportReportType, {
    description:
      'Import existing licences from CSV (one row per facility and category): all rows valid or nothing stored. 从 CSV 批量导入现有许可证：全部有效才导入。',
  })
  @Allow(manageFacilities)
  async importFacilities(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('csv', { description: 'The CSV text, UTF-8, header first. CSV 文本（含表头）。' }) csv: string,
    @Args('dryRun', {
      type: () => Boolean,
      nullable: true,
      description: 'Validate only, store nothing. 仅校验，不保存。',
    })
    dryRun?: boolean | null,
  ): Promise<FacilityImportReportType> {
    const run = () =>
      this.licenceImport.run({ identity, context, idempotencyKey, csv, dryRun: dryRun === true });
    // A dry run stores nothing, not even the idempotency record.
    const report = await (dryRun
      ? run()
      : this.idempotency.runIdempotent(
          { identity, key: idempotencyKey, operation: 'importFacilities', payload: { csv } },
          run,
        ));
    return {
      ...report,
      problems: report.problems.map((p) => ({ ...p, message: { ...p.message } })),
      entries: report.entries.map((e) => ({
        ...e,
        outcome: e.outcome as FacilityImportOutcomeEnum,
        lines: [...e.lines],
      })),
    };
  }

  /** `_entities`: other subgraphs hand over `{ id }`. */
  @ResolveReference()
  resolveReference(reference: { id: string }): Promise<FacilityNode | null> {
    return this.queries.byId(reference.id);
  }

  /** Load, decide, append; then read our own write once the read model has passed it. */
  private async execute(
    identity: Identity,
    context: RequestContext,
    idempotencyKey: string,
    body: CommandBody,
  ): Promise<FacilityNode> {
    const command = {
      ...body,
      metadata: userCommandMetadata({
        identity,
        context,
        scope: 'transfer-service.facility',
        idempotencyKey,
      }),
    } as FacilityCommand;
    const { facilityId } = command.data;
    const result = await this.commands.handle(command, identity);
    // The releases are persisted work of their own policy; this only saves it a polling interval.
    if (result.events.some((e) => e.type === 'FacilityRevoked'))
      this.revocations.afterRevocation(result.lastLogPosition);
    await this.readModel.waitFor(result.lastLogPosition);
    const facility = await this.queries.byId(facilityId);
    if (!facility)
      throw new Error(
        `facility ${facilityId} is missing from the read model / 读模型中缺少设施 ${facilityId}`,
      );
    return facility;
  }
}
