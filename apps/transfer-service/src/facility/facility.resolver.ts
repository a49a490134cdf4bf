import { Inject } from '@nestjs/common';
import { Args, Context, ID, Int, Mutation, Query, ResolveReference, Resolver } from '@nestjs/graphql';
import { JurisdictionCode } from '@lianfang/domain-kernel';
import {
  everyParty,
  Allow,
  authorize,
  CurrentIdentity,
  defineRule,
  type Identity,
  type RequestContext,
  withinJurisdiction,
} from '@lianfang/auth';
import { Aggregates, type Actor, type Decider } from '@lianfang/eventsourcing';
import { Idempotency } from '@lianfang/graph';
import { ContractRegistry, TRANSFER_CONTRACTS } from '@lianfang/contracts';
import { LocalDate } from '@lianfang/domain-kernel';
import { deterministicUuid, integrationEvent } from '@lianfang/messaging';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import {
  facilityDecider,
  facilityStream,
  type FacilityCommand,
  type FacilityEvent,
  type FacilityProfileInput,
  type FacilityState,
} from './decider';
import { FacilityReadModel } from './facility.projection';
import { FacilityQueries } from './facility.queries';
import { FacilityConnection, FacilityNode, RegisterFacilityInput } from './facility.types';

/** Published licences are reference data: any authenticated party of the region may read them. */
export const readFacilities = everyParty('facility.read', {
  zh: '查阅设施经营许可',
  en: 'read facility licences',
});

/** The provincial bureau that licenses a facility keeps its licence on the platform. */
export const manageFacilities = defineRule<{ jurisdiction: string }>({
  name: 'facility.manage',
  description: {
    zh: '登记、暂停或恢复危险废物经营设施',
    en: 'register, suspend or reinstate a hazardous-waste facility',
  },
  agencyKinds: ['provincial-bureau'],
  roles: ['clerk', 'approver', 'admin'],
  // The facility lies within the caller's province (a province holds its cities and counties).
  scope: withinJurisdiction((facility) => [facility.jurisdiction]),
});

/**
 * The facility decider with the caller's scope checked on the record itself, inside the load–decide
 * loop: the stored facility's jurisdiction for a change, the validated one for a registration.
 */
const scopedDecider = (identity: Identity): Decider<FacilityCommand, FacilityEvent, FacilityState> => ({
  initialState: facilityDecider.initialState,
  evolve: facilityDecider.evolve,
  decide(command, state) {
    if (state.status !== 'unregistered')
      authorize(identity, manageFacilities, { jurisdiction: state.profile.jurisdiction });
    const events = facilityDecider.decide(command, state);
    for (const e of events)
      if (e.type === 'FacilityRegistered')
        authorize(identity, manageFacilities, { jurisdiction: e.data.profile.jurisdiction });
    return events;
  },
});

type CommandBody = Omit<FacilityCommand, 'metadata'>;

const PUBLISHED = new ContractRegistry(TRANSFER_CONTRACTS);

/** Plain data (no GraphQL input class instances): hashed for idempotency and stored in the event. */
const profileOf = (input: RegisterFacilityInput): FacilityProfileInput => ({
  name: { zh: input.name.zh, en: input.name.en },
  licenceNumber: input.licenceNumber,
  operatorCreditCode: input.operatorCreditCode,
  jurisdiction: input.jurisdiction,
  coordinates: { lat: input.coordinates.lat, lon: input.coordinates.lon },
  licensed: input.licensed.map((l) => ({
    category: l.category,
    annualCapacityTonnes: l.annualCapacityTonnes,
    ...(l.wasteCodes ? { wasteCodes: [...l.wasteCodes] } : {}),
  })),
  validFrom: input.validFrom,
  validTo: input.validTo,
});

@Resolver(() => FacilityNode)
@Allow(readFacilities)
export class FacilityResolver {
  constructor(
    @Inject(FacilityQueries) private readonly queries: FacilityQueries,
    @Inject(FacilityReadModel) private readonly readModel: FacilityReadModel,
    @Inject(Aggregates) private readonly aggregates: Aggregates,
    @Inject(Idempotency) private readonly idempotency: Idempotency,
    @Inject(PLATFORM) private readonly platform: Platform,
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
    const actor: Actor = {
      kind: 'user',
      userId: identity.subject,
      agencyId: identity.agencyId,
      jurisdiction: identity.jurisdiction,
    };
    const command = {
      ...body,
      metadata: {
        commandId: deterministicUuid('transfer-service.facility', identity.agencyId, idempotencyKey),
        now: new Date(),
        actor,
        correlationId: context.correlationId,
      },
    } as FacilityCommand;
    const { facilityId } = command.data;
    const result = await this.aggregates.handle({
      decider: scopedDecider(identity),
      streamId: facilityStream(facilityId),
      command,
      // Other services learn of a suspension (no new manifests to it) from the published language.
      outbox: (events, state) =>
        events.flatMap((event) =>
          event.type === 'FacilitySuspended' && state.status !== 'unregistered'
            ? [
                integrationEvent({
                  topic: this.platform.topic,
                  source: 'transfer',
                  type: 'FacilitySuspended',
                  from: event,
                  actor,
                  correlationId: command.metadata.correlationId,
                  contracts: PUBLISHED,
                  data: {
                    facilityId,
                    jurisdiction: state.profile.jurisdiction,
                    reason: event.data.reason,
                    fromDate: LocalDate.ofInstant(event.metadata.occurredAt).toString(),
                  },
                }),
              ]
            : [],
        ),
    });
    await this.readModel.waitFor(result.lastLogPosition);
    const facility = await this.queries.byId(facilityId);
    if (!facility)
      throw new Error(
        `facility ${facilityId} is missing from the read model / 读模型中缺少设施 ${facilityId}`,
      );
    return facility;
  }
}
