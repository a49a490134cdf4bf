import { Inject } from '@nestjs/common';
import {
  Args,
  Context,
  ID,
  Int,
  Mutation,
  Parent,
  Query,
  ResolveField,
  ResolveReference,
  Resolver,
} from '@nestjs/graphql';
import {
  Allow,
  authorize,
  CurrentIdentity,
  type AgencyDirectory,
  type Identity,
  type RequestContext,
} from '@lianfang/auth';
import { JurisdictionCode, LocalDate } from '@lianfang/domain-kernel';
import {
  HistoryEntryType,
  historyEntryOf,
  Idempotency,
  readWholeStream,
  stateAsOf,
  userCommandMetadata,
} from '@lianfang/graph';
import { deterministicUuid } from '@lianfang/messaging';
import { AGENCY_DIRECTORY, PLATFORM, type Platform } from '@lianfang/runtime';
import { CLOCK, type Clock } from '../common/time';
import {
  agreementPolicy,
  keepAgreements,
  proposeAgreements,
  readAgreements,
  regionOf,
  signAgreements,
  visibilityOfAgreement,
} from './agreement.access';
import { AgreementCommands } from './agreement.commands';
import { nextActionsFor } from './agreement.next-actions';
import { AgreementReadModel } from './agreement.projection';
import { AgreementQueries, agreementNodeOf, clausesOut } from './agreement.queries';
import {
  agreementRecordModel,
  foldAgreementFact,
  emptyAgreementRecord,
  type AgreementFact,
} from './agreement.record';
import {
  AgreementClausesInputType,
  AgreementFilterInput,
  AgreementClauseVersionType,
  AgreementConnection,
  AgreementNextActionType,
  AgreementNode,
  ProposeAgreementInput,
  ProposeAmendmentInput,
} from './agreement.types';
import type { AgreementClausesInput } from './clauses';
import { agreementStream, type AgreementCommand, type AgreementState } from './decider';
import { clausesInForce } from './queries';

type CommandBody = Omit<AgreementCommand, 'metadata'>;

/** Plain data (no GraphQL input instances): hashed for idempotency and stored in the event. */
function clausesOf(input: AgreementClausesInputType): AgreementClausesInput {
  return {
    ...(input.whitelist
      ? {
          whitelist: input.whitelist.map((e) => ({
            entryId: e.entryId,
            exportingMember: e.exportingMember,
            receivingFacilityId: e.receivingFacilityId,
            wasteCodes: [...e.wasteCodes],
            tonnes: e.tonnes,
            year: e.year,
          })),
        }
      : {}),
    ...(input.compensationRates
      ? {
          compensationRates: input.compensationRates.map((r) => ({
            wasteClassOrCategory: r.wasteClassOrCategory,
            yuanPerTonne: r.yuanPerTonne,
            payer: r.payer,
            payees: r.payees.map((p) => ({
              jurisdiction: p.jurisdiction,
              shareBasisPoints: p.shareBasisPoints,
            })),
            from: r.from,
            to: r.to ?? null,
          })),
        }
      : {}),
    ...(input.tolerance
      ? {
          tolerance: {
            ...(input.tolerance.percent != null ? { percent: input.tolerance.percent } : {}),
            ...(input.tolerance.kg != null ? { kg: input.tolerance.kg } : {}),
          },
        }
      : {}),
    ...(input.maxTransitDays != null ? { maxTransitDays: input.maxTransitDays } : {}),
    ...(input.dataSharing
      ? {
          dataSharing: input.dataSharing.map((d) => ({
            member: d.member ?? null,
            agencyKind: d.agencyKind,
            scope: d.scope,
          })),
        }
      : {}),
  };
}

@Resolver(() => AgreementNode)
@Allow(readAgreements)
export class AgreementResolver {
  constructor(
    @Inject(AgreementQueries) private readonly queries: AgreementQueries,
    @Inject(AgreementReadModel) private readonly readModel: AgreementReadModel,
    @Inject(AgreementCommands) private readonly commands: AgreementCommands,
    @Inject(Idempotency) private readonly idempotency: Idempotency,
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(AGENCY_DIRECTORY) private readonly directory: AgencyDirectory,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  // ---- queries ----

  @Query(() => AgreementNode, {
    nullable: true,
    description: 'One regional agreement, if you may see it. 按编号查询区域协议（仅限可见的协议）。',
  })
  agreement(
    @CurrentIdentity() identity: Identity,
    @Args('id', { type: () => ID }) id: string,
  ): Promise<AgreementNode | null> {
    return this.queries.visibleById(identity, agreementPolicy(this.directory, identity), id);
  }

  @Query(() => AgreementConnection, {
    description: 'Regional agreements you may see, by id. 您可查看的区域协议列表。',
  })
  agreements(
    @CurrentIdentity() identity: Identity,
    @Args('filter', { type: () => AgreementFilterInput, nullable: true })
    filter?: AgreementFilterInput | null,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { nullable: true }) after?: string,
  ): Promise<AgreementConnection> {
    return this.queries.list(
      identity,
      agreementPolicy(this.directory, identity),
      {
        status: filter?.status ?? null,
        member: filter?.member?.value ?? null,
        onDate: filter?.onDate ?? null,
      },
      { first: first ?? null, after: after ?? null },
    );
  }

  @Query(() => [HistoryEntryType], {
    description: 'Every fact of an agreement, oldest first: who did what, when. 区域协议的全部历史。',
  })
  async agreementHistory(
    @CurrentIdentity() identity: Identity,
    @Args('id', { type: () => ID }) id: string,
  ): Promise<HistoryEntryType[]> {
    const events = await readWholeStream(this.platform.store, agreementStream(id));
    // Authorized on the record the stream folds to, exactly as the current record would be.
    const record = events.reduce(
      (r, e) => foldAgreementFact(r, { type: e.type, data: e.data, metadata: e.metadata } as AgreementFact),
      emptyAgreementRecord(),
    );
    if (record.state.status === 'none') return [];
    this.authorizeRead(identity, record.state);
    return events.map(historyEntryOf);
  }

  @Query(() => AgreementNode, {
    nullable: true,
    description: 'An agreement as the platform knew it at an instant. 某一时刻的区域协议。',
  })
  async agreementAsOf(
    @CurrentIdentity() identity: Identity,
    @Args('id', { type: () => ID }) id: string,
    @Args('asOf', { type: () => Date }) asOf: Date,
  ): Promise<AgreementNode | null> {
    const { state: record } = await stateAsOf(
      this.platform.store,
      agreementStream(id),
      agreementRecordModel,
      asOf,
    );
    if (record.state.status === 'none') return null;
    // Who may see it is judged on the record then, as the current one would be judged now.
    this.authorizeRead(identity, record.state);
    return agreementNodeOf(record);
  }

  /** `_entities`: other subgraphs hand over `{ id }`; hidden agreements resolve to null. */
  @ResolveReference()
  resolveReference(reference: { id: string }, context: RequestContext): Promise<AgreementNode | null> {
    const identity = authorize(context?.identity, readAgreements);
    return this.queries.visibleById(identity, agreementPolicy(this.directory, identity), reference.id);
  }

  // ---- fields ----

  @ResolveField(() => [AgreementNextActionType], {
    description: 'What you may do next on it. 您可办理的下一步。',
  })
  nextActions(
    @Parent() node: AgreementNode,
    @CurrentIdentity() identity: Identity,
  ): AgreementNextActionType[] {
    return nextActionsFor(identity, node.record.state, LocalDate.ofInstant(this.clock())).map((a) => ({
      code: a.code,
      label: { zh: a.label.zh, en: a.label.en },
      dueAt: a.dueAt,
    }));
  }

  @ResolveField(() => AgreementClauseVersionType, {
    nullable: true,
    description:
      'The clauses in force on a day (default today); null outside the term or before adoption. 某日适用的条款。',
  })
  clausesInForce(
    @Parent() node: AgreementNode,
    @Args('onDate', { type: () => LocalDate, nullable: true }) onDate?: LocalDate | null,
  ): AgreementClauseVersionType | null {
    const version = clausesInForce(node.record.state, onDate ?? LocalDate.ofInstant(this.clock()));
    return version
      ? {
          effectiveFrom: version.effectiveFrom,
          amendmentId: version.amendmentId,
          clauses: clausesOut(version.clauses),
        }
      : null;
  }

  @ResolveField(() => [HistoryEntryType], { description: 'Its facts, oldest first. 历史。' })
  async history(@Parent() node: AgreementNode): Promise<HistoryEntryType[]> {
    // The node was authorized when it was read; an as-of node shows only what was known then.
    const events = await readWholeStream(this.platform.store, agreementStream(node.id));
    return events.slice(0, node.record.events).map(historyEntryOf);
  }

  // ---- mutations ----

  @Mutation(() => AgreementNode, {
    description: 'The secretariat proposes an agreement to its members. 秘书处提出区域协议。',
  })
  @Allow(proposeAgreements)
  proposeAgreement(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('input', { type: () => ProposeAgreementInput }) input: ProposeAgreementInput,
  ): Promise<AgreementNode> {
    const data = {
      agreementId:
        input.agreementId ??
        deterministicUuid('transfer-service.agreement', identity.agencyId, idempotencyKey),
      secretariatId: identity.agencyId,
      title: { zh: input.title.zh, en: input.title.en },
      members: [...input.members],
      effectiveFrom: input.effectiveFrom,
      validUntil: input.validUntil ?? null,
      clauses: clausesOf(input.clauses),
    };
    const region = regionOf(this.directory, identity.agencyId);
    return this.idempotency.runIdempotent(
      { identity, key: idempotencyKey, operation: 'proposeAgreement', payload: data },
      () =>
        this.execute(identity, context, idempotencyKey, { type: 'ProposeAgreement', data }, () =>
          authorize(identity, proposeAgreements, { members: data.members, region }),
        ),
    );
  }

  @Mutation(() => AgreementNode, {
    description: "A member's provincial bureau signs, for its own province. 成员省级生态环境部门签署协议。",
  })
  @Allow(signAgreements)
  signAgreement(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('agreementId', { type: () => ID }) agreementId: string,
    @Args('member', {
      type: () => JurisdictionCode,
      nullable: true,
      description: 'Default: your province. 成员。',
    })
    member?: JurisdictionCode | null,
  ): Promise<AgreementNode> {
    const data = { agreementId, member: member?.value ?? identity.jurisdiction };
    return this.idempotency.runIdempotent(
      { identity, key: idempotencyKey, operation: 'signAgreement', payload: data },
      () =>
        this.execute(identity, context, idempotencyKey, { type: 'SignAgreement', data }, (state) =>
          this.authorizeSignature(identity, state, data.member),
        ),
    );
  }

  @Mutation(() => AgreementNode, {
    description:
      "A member's provincial bureau rejects, with reasons. 成员省级生态环境部门拒绝签署（须说明理由）。",
  })
  @Allow(signAgreements)
  rejectAgreement(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('agreementId', { type: () => ID }) agreementId: string,
    @Args('reason') reason: string,
    @Args('member', {
      type: () => JurisdictionCode,
      nullable: true,
      description: 'Default: your province. 成员。',
    })
    member?: JurisdictionCode | null,
  ): Promise<AgreementNode> {
    const data = { agreementId, member: member?.value ?? identity.jurisdiction, reason };
    return this.idempotency.runIdempotent(
      { identity, key: idempotencyKey, operation: 'rejectAgreement', payload: data },
      () =>
        this.execute(identity, context, idempotencyKey, { type: 'RejectAgreement', data }, (state) =>
          this.authorizeSignature(identity, state, data.member),
        ),
    );
  }

  @Mutation(() => AgreementNode, {
    description: 'The secretariat proposes an amendment (the whole new clause set). 秘书处提出协议修订。',
  })
  @Allow(keepAgreements)
  proposeAmendment(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('input', { type: () => ProposeAmendmentInput }) input: ProposeAmendmentInput,
  ): Promise<AgreementNode> {
    const data = {
      agreementId: input.agreementId,
      amendmentId:
        input.amendmentId ??
        deterministicUuid('transfer-service.amendment', identity.agencyId, idempotencyKey),
      secretariatId: identity.agencyId,
      effectiveFrom: input.effectiveFrom,
      // Absent: the term's end is unchanged; null: open-ended.
      ...(input.validUntil !== undefined ? { validUntil: input.validUntil } : {}),
      clauses: clausesOf(input.clauses),
    };
    return this.idempotency.runIdempotent(
      { identity, key: idempotencyKey, operation: 'proposeAmendment', payload: data },
      () =>
        this.execute(identity, context, idempotencyKey, { type: 'ProposeAmendment', data }, (state) =>
          this.authorizeKeeper(identity, state),
        ),
    );
  }

  @Mutation(() => AgreementNode, { description: "A member's bureau signs the amendment. 成员签署协议修订。" })
  @Allow(signAgreements)
  signAmendment(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('agreementId', { type: () => ID }) agreementId: string,
    @Args('amendmentId', { type: () => ID }) amendmentId: string,
    @Args('member', {
      type: () => JurisdictionCode,
      nullable: true,
      description: 'Default: your province. 成员。',
    })
    member?: JurisdictionCode | null,
  ): Promise<AgreementNode> {
    const data = { agreementId, amendmentId, member: member?.value ?? identity.jurisdiction };
    return this.idempotency.runIdempotent(
      { identity, key: idempotencyKey, operation: 'signAmendment', payload: data },
      () =>
        this.execute(identity, context, idempotencyKey, { type: 'SignAmendment', data }, (state) =>
          this.authorizeSignature(identity, state, data.member),
        ),
    );
  }

  @Mutation(() => AgreementNode, {
    description: "A member's bureau rejects the amendment, with reasons. 成员拒绝签署协议修订。",
  })
  @Allow(signAgreements)
  rejectAmendment(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('agreementId', { type: () => ID }) agreementId: string,
    @Args('amendmentId', { type: () => ID }) amendmentId: string,
    @Args('reason') reason: string,
    @Args('member', {
      type: () => JurisdictionCode,
      nullable: true,
      description: 'Default: your province. 成员。',
    })
    member?: JurisdictionCode | null,
  ): Promise<AgreementNode> {
    const data = { agreementId, amendmentId, member: member?.value ?? identity.jurisdiction, reason };
    return this.idempotency.runIdempotent(
      { identity, key: idempotencyKey, operation: 'rejectAmendment', payload: data },
      () =>
        this.execute(identity, context, idempotencyKey, { type: 'RejectAmendment', data }, (state) =>
          this.authorizeSignature(identity, state, data.member),
        ),
    );
  }

  @Mutation(() => AgreementNode, {
    description: 'The secretariat records that the term has ended. 秘书处宣告协议有效期届满。',
  })
  @Allow(keepAgreements)
  expireAgreement(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('agreementId', { type: () => ID }) agreementId: string,
  ): Promise<AgreementNode> {
    const data = { agreementId };
    return this.idempotency.runIdempotent(
      { identity, key: idempotencyKey, operation: 'expireAgreement', payload: data },
      () =>
        this.execute(identity, context, idempotencyKey, { type: 'ExpireAgreement', data }, (state) =>
          this.authorizeKeeper(identity, state),
        ),
    );
  }

  // ---- helpers ----

  private authorizeRead(identity: Identity, state: Exclude<AgreementState, { status: 'none' }>): void {
    authorize(identity, readAgreements, {
      visibility: visibilityOfAgreement(state),
      policy: agreementPolicy(this.directory, identity),
    });
  }

  /** On a stored agreement: the bureau answers for its own province, a member of it. */
  private authorizeSignature(identity: Identity, state: AgreementState, member: string): void {
    if (state.status !== 'none') authorize(identity, signAgreements, { members: state.members, member });
  }

  /** On a stored agreement: only the secretariat that keeps it. */
  private authorizeKeeper(identity: Identity, state: AgreementState): void {
    if (state.status !== 'none') authorize(identity, keepAgreements, { secretariatId: state.secretariatId });
  }

  /** Load, authorize on the stored record, decide, append (with the outbox); then read our own write. */
  private async execute(
    identity: Identity,
    context: RequestContext,
    idempotencyKey: string,
    body: CommandBody,
    check: (state: AgreementState) => void,
  ): Promise<AgreementNode> {
    const metadata = userCommandMetadata({
      identity,
      context,
      scope: 'transfer-service.agreement',
      idempotencyKey,
    });
    const command = { ...body, metadata } as AgreementCommand;
    const { agreementId } = command.data;
    const result = await this.commands.handle(command, check);
    await this.readModel.waitFor(result.lastLogPosition);
    const node = await this.queries.byId(agreementId);
    if (!node)
      throw new Error(
        `agreement ${agreementId} is missing from the read model / 读模型中缺少协议 ${agreementId}`,
      );
    return node;
  }
}
