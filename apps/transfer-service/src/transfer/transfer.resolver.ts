import { Inject, ValidationPipe } from '@nestjs/common';
import {
  Args,
  Context,
  Field,
  ID,
  InputType,
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
  CurrentIdentity,
  type AccessLog,
  type Identity,
  type ReadOperation,
  type RequestContext,
} from '@lianfang/auth';
import { JurisdictionCode } from '@lianfang/domain-kernel';
import { EVENT_STORE, type EventStore } from '@lianfang/eventsourcing';
import {
  ACCESS_LOG,
  classValidatorError,
  HistoryEntryType,
  historyOf,
  Idempotency,
  InputError,
  PlatformError,
  stateAsOf,
  userCommandMetadata,
} from '@lianfang/graph';
import { deterministicUuid } from '@lianfang/messaging';
import { transferStream, type TransferCommand, type TransferEvent, type TransferState } from './decider';
import { TransferAttachments } from './transfer.attachments';
import { TransferCommands } from './transfer.commands';
import { TransferIntake, type ApplicationInput, type FilingInput } from './transfer.intake';
import { TransferReadModel } from './transfer.projection';
import { TransferQueries, transferNode } from './transfer.queries';
import {
  applyForTransfer,
  decideTransfer,
  prepareTransfer,
  readTransfers,
  replyToTransferLetter,
} from './transfer.rules';
import {
  FileTransferInput,
  SubmitTransferApplicationInput,
  TransferAttachmentContentType,
  TransferAttachmentKindEnum,
  TransferAttachmentType,
  TransferConnection,
  TransferNode,
  TransferRouteEnum,
  TransferStatusEnum,
  TransferWasteLineInput,
  TransferYearPlanInput,
} from './transfer.types';

/** Shape checks of inputs as typed errors naming the field (the domain rules are the decider's). */
const checked = new ValidationPipe({ exceptionFactory: (errors) => classValidatorError(errors) });

@InputType('TransferFilterInput', { description: 'Which transfers to list. 转移申请筛选条件。' })
export class TransferFilterInput {
  @Field(() => TransferStatusEnum, { nullable: true })
  status?: TransferStatusEnum | null;

  @Field(() => TransferRouteEnum, { nullable: true })
  route?: TransferRouteEnum | null;

  @Field(() => JurisdictionCode, { nullable: true })
  exportingJurisdiction?: JurisdictionCode | null;

  @Field(() => JurisdictionCode, { nullable: true })
  receivingJurisdiction?: JurisdictionCode | null;

  @Field(() => ID, { nullable: true })
  facilityId?: string | null;

  @Field(() => String, { nullable: true, description: 'e.g. 900-249-08' })
  wasteCode?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Only those with a step past due. 仅逾期。' })
  overdueOnly?: boolean | null;
}

type CommandBody = Omit<TransferCommand, 'metadata'>;

const SCOPE = 'transfer-service.transfer';

const linesOf = (lines: readonly TransferWasteLineInput[] | null | undefined) =>
  lines ? lines.map((l) => ({ wasteCode: l.wasteCode, quantityKg: l.quantityKg })) : undefined;

function plannedByYearOf(
  plan: readonly TransferYearPlanInput[] | null | undefined,
): Record<string, string> | undefined {
  if (!plan) return undefined;
  const out: Record<string, string> = {};
  plan.forEach((p, i) => {
    const year = String(p.year);
    if (year in out)
      throw new InputError({
        field: `plannedByYear[${i}].year`,
        rule: 'plannedByYear.unique',
        messages: { zh: '每个年度只能列一次', en: 'each year is listed once' },
      });
    out[year] = p.quantityKg;
  });
  return out;
}

@Resolver(() => TransferNode)
@Allow(readTransfers)
export class TransferResolver {
  constructor(
    @Inject(TransferCommands) private readonly commands: TransferCommands,
    @Inject(TransferIntake) private readonly intake: TransferIntake,
    @Inject(TransferQueries) private readonly queries: TransferQueries,
    @Inject(TransferReadModel) private readonly readModel: TransferReadModel,
    @Inject(TransferAttachments) private readonly attachments: TransferAttachments,
    @Inject(Idempotency) private readonly idempotency: Idempotency,
    @Inject(ACCESS_LOG) private readonly accessLog: AccessLog,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  // ---------------------------------------------------------------------------------------------
  // Queries

  @Query(() => TransferNode, {
    nullable: true,
    description: 'One transfer; null when it does not exist or is not yours to see. 按标识查询转移申请。',
  })
  async transfer(
    @CurrentIdentity() identity: Identity,
    @Args('id', { type: () => ID }) id: string,
  ): Promise<TransferNode | null> {
    const node = await this.queries.byId(identity, id);
    if (node) await this.logRead(identity, node.id, ownersOf(node), 'read');
    return node;
  }

  @Query(() => TransferConnection, {
    description: 'Transfers you may see, newest first, filtered. 可见的转移申请（按提交时间倒序）。',
  })
  async transfers(
    @CurrentIdentity() identity: Identity,
    @Args('filter', { type: () => TransferFilterInput, nullable: true }) filter?: TransferFilterInput,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { nullable: true }) after?: string,
  ): Promise<TransferConnection> {
    const page = await this.queries.list(
      identity,
      {
        status: filter?.status ?? null,
        route: filter?.route ?? null,
        exportingJurisdiction: filter?.exportingJurisdiction?.value ?? null,
        receivingJurisdiction: filter?.receivingJurisdiction?.value ?? null,
        facilityId: filter?.facilityId ?? null,
        wasteCode: filter?.wasteCode ?? null,
        overdueOnly: filter?.overdueOnly ?? null,
      },
      { first: first ?? null, after: after ?? null },
    );
    const at = new Date();
    await this.accessLog.recordReads(
      page.edges.map(({ node }) => ({
        identity,
        recordType: 'transfer',
        recordId: node.id,
        ownerAgencies: ownersOf(node),
        operation: 'list' as const,
        at,
      })),
    );
    return page;
  }

  @Query(() => [HistoryEntryType], {
    nullable: true,
    description: 'Every fact of a transfer, oldest first; null when not yours to see. 转移申请的历史。',
  })
  async transferHistory(
    @CurrentIdentity() identity: Identity,
    @Args('id', { type: () => ID }) id: string,
  ): Promise<HistoryEntryType[] | null> {
    const { state, version } = await this.commands.state(id);
    if (version < 0n || !(await this.queries.canSee(identity, state))) return null;
    await this.logRead(identity, id, this.queries.owners(state), 'history');
    return historyOf(this.store, transferStream(id));
  }

  @Query(() => TransferNode, {
    nullable: true,
    description:
      'A transfer as the platform knew it at an instant; null when it did not exist then or is not yours to see. 某一时刻的转移申请。',
  })
  async transferAsOf(
    @CurrentIdentity() identity: Identity,
    @Args('id', { type: () => ID }) id: string,
    @Args('asOf', { type: () => Date }) asOf: Date,
  ): Promise<TransferNode | null> {
    const streamId = transferStream(id);
    const known = await stateAsOf<TransferEvent, TransferState>(
      this.store,
      streamId,
      this.commands.decider,
      asOf,
    );
    // Authorized on the record as it was then, exactly as the current record is.
    if (known.events === 0 || !(await this.queries.canSee(identity, known.state))) return null;
    const first = (await this.store.readStream(streamId, { maxCount: 1 })).events[0];
    await this.logRead(identity, id, this.queries.owners(known.state), 'asOf');
    return transferNode(
      id,
      known.state,
      {
        submittedAt: first?.metadata.occurredAt ?? asOf,
        updatedAt: known.lastRecordedAt ?? asOf,
      },
      identity,
      this.queries.agencyDirectory,
      asOf,
    );
  }

  @ResolveField(() => [HistoryEntryType], { description: 'Every fact, oldest first. 历史记录。' })
  history(@Parent() transfer: TransferNode): Promise<HistoryEntryType[]> {
    // The parent was visible to the caller: its history is too.
    return historyOf(this.store, transferStream(transfer.id));
  }

  /** `_entities`: other subgraphs hand over `{ id }`; the caller's visibility applies as for `transfer`. */
  @ResolveReference()
  async resolveReference(reference: { id: string }, context: RequestContext): Promise<TransferNode | null> {
    const identity = context?.identity;
    if (!identity) return null;
    const node = await this.queries.byId(identity, reference.id);
    if (node) await this.logRead(identity, node.id, ownersOf(node), 'read');
    return node;
  }

  // ---------------------------------------------------------------------------------------------
  // Attachments

  @Mutation(() => TransferAttachmentType, {
    description:
      'Store a document for an application (PDF, OFD, JPEG, PNG; SHA-256 addressed). 上传转移申请附件。',
  })
  @Allow(applyForTransfer)
  uploadTransferAttachment(
    @CurrentIdentity() identity: Identity,
    @Args('kind', { type: () => TransferAttachmentKindEnum }) kind: TransferAttachmentKindEnum,
    @Args('mediaType') mediaType: string,
    @Args('contentBase64') contentBase64: string,
  ): Promise<TransferAttachmentType> {
    return this.attachments.upload(
      identity,
      { kind, mediaType, contentBase64 },
      new Date(),
    ) as Promise<TransferAttachmentType>;
  }

  @Query(() => TransferAttachmentContentType, {
    description:
      'Download a document of a transfer you may see, by its SHA-256 (recorded in the access log). 下载转移申请附件。',
  })
  async transferAttachment(
    @CurrentIdentity() identity: Identity,
    @Args('transferId', { type: () => ID }) transferId: string,
    @Args('sha256') sha256: string,
  ): Promise<TransferAttachmentContentType> {
    const hash = typeof sha256 === 'string' ? sha256.trim().toLowerCase() : '';
    if (!SHA256.test(hash))
      throw new InputError({
        field: 'sha256',
        rule: 'attachment.sha256',
        messages: {
          zh: 'sha256 须为 64 位十六进制摘要',
          en: 'sha256 is a 64-digit hexadecimal digest',
        },
      });
    // The same visibility as `transfer(id)`; and only the documents this transfer names, so that a
    // hash known from elsewhere opens nothing here.
    const node = await this.queries.byId(identity, transferId);
    const named = node?.attachments.some((a) => a.sha256 === hash) ?? false;
    if (!node || !named) throw attachmentNotFound(hash);
    const stored = await this.attachments.content(hash);
    if (!stored)
      throw new Error(
        `attachment ${hash} of transfer ${transferId} is missing from the store / 附件存储中缺少转移申请 ${transferId} 的附件 ${hash}`,
      );
    await this.logRead(identity, node.id, ownersOf(node), 'download');
    return {
      sha256: stored.sha256,
      size: stored.size,
      mediaType: stored.mediaType,
      kind: stored.kind as TransferAttachmentKindEnum,
      contentBase64: stored.content.toString('base64'),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // The generator

  @Mutation(() => TransferNode, {
    description: 'Apply to the exporting bureau (letter or whitelist path). 提交转移申请。',
  })
  @Allow(applyForTransfer)
  submitTransferApplication(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('input', { type: () => SubmitTransferApplicationInput }, checked)
    input: SubmitTransferApplicationInput,
  ): Promise<TransferNode> {
    const application: ApplicationInput = {
      path: input.path,
      receiverFacilityId: input.receiverFacilityId,
      lines: linesOf(input.lines) ?? [],
      method: input.method,
      window: { from: input.window.from, to: input.window.to },
      attachments: [...input.attachments],
      whitelistEntryId: input.whitelistEntryId ?? null,
    };
    return this.idempotency.runIdempotent(
      { identity, key: idempotencyKey, operation: 'submitTransferApplication', payload: application },
      async () => {
        const metadata = this.metadata(identity, context, idempotencyKey);
        // A retry of the same request names the same transfer.
        const transferId = deterministicUuid(SCOPE, identity.agencyId, idempotencyKey);
        const data = await this.intake.application(identity, transferId, application, metadata.now);
        return this.run(identity, { type: 'SubmitApplication', data, metadata });
      },
    );
  }

  @Mutation(() => TransferNode, {
    description:
      'File a transfer of general industrial, construction or municipal waste (no approval). 固体废物转移备案。',
  })
  @Allow(applyForTransfer)
  fileTransfer(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('input', { type: () => FileTransferInput }, checked) input: FileTransferInput,
  ): Promise<TransferNode> {
    const filing: FilingInput = {
      receiverFacilityId: input.receiverFacilityId,
      receivingCity: input.receivingCity ?? null,
      lines: input.lines.map((l) => ({
        wasteClass: l.wasteClass as FilingInput['lines'][number]['wasteClass'],
        quantityKg: l.quantityKg,
      })),
      window: { from: input.window.from, to: input.window.to },
      attachments: [...input.attachments],
    };
    return this.idempotency.runIdempotent(
      { identity, key: idempotencyKey, operation: 'fileTransfer', payload: filing },
      async () => {
        const metadata = this.metadata(identity, context, idempotencyKey);
        const transferId = deterministicUuid(SCOPE, identity.agencyId, idempotencyKey);
        const data = await this.intake.filing(identity, transferId, filing);
        return this.run(identity, { type: 'SubmitFiling', data, metadata });
      },
    );
  }

  @Mutation(() => TransferNode, { description: 'Withdraw an undecided application. 撤回转移申请。' })
  @Allow(applyForTransfer)
  withdrawTransferApplication(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('transferId', { type: () => ID }) transferId: string,
    @Args('reason', { type: () => String, nullable: true }) reason?: string | null,
  ): Promise<TransferNode> {
    return this.execute(identity, context, idempotencyKey, 'withdrawTransferApplication', {
      type: 'WithdrawApplication',
      data: { transferId, ...(reason ? { reason } : {}) },
    });
  }

  // ---------------------------------------------------------------------------------------------
  // The exporting bureau

  @Mutation(() => TransferNode, {
    description: 'Return an incomplete application (within 5 working days). 退回补正。',
  })
  @Allow(prepareTransfer)
  returnTransferIncomplete(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('transferId', { type: () => ID }) transferId: string,
    @Args('missing', { type: () => [String] }) missing: string[],
  ): Promise<TransferNode> {
    return this.execute(identity, context, idempotencyKey, 'returnTransferIncomplete', {
      type: 'ReturnIncomplete',
      data: { transferId, missing: [...missing] },
    });
  }

  @Mutation(() => TransferNode, { description: 'Accept a complete application. 受理转移申请。' })
  @Allow(prepareTransfer)
  acceptTransferApplication(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('transferId', { type: () => ID }) transferId: string,
  ): Promise<TransferNode> {
    return this.execute(identity, context, idempotencyKey, 'acceptTransferApplication', {
      type: 'AcceptApplication',
      data: { transferId },
    });
  }

  @Mutation(() => TransferNode, {
    description: 'Refuse, with written reasons (review or decision). 不予批准（书面说明理由）。',
  })
  @Allow(decideTransfer)
  refuseTransferApplication(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('transferId', { type: () => ID }) transferId: string,
    @Args('reasons', { type: () => [String] }) reasons: string[],
  ): Promise<TransferNode> {
    return this.execute(identity, context, idempotencyKey, 'refuseTransferApplication', {
      type: 'RefuseApplication',
      data: { transferId, reasons: [...reasons] },
    });
  }

  @Mutation(() => TransferNode, {
    description: 'Write to the receiving bureau (商请函). 向接受地发出商请函。',
  })
  @Allow(prepareTransfer)
  sendConsultationLetter(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('transferId', { type: () => ID }) transferId: string,
  ): Promise<TransferNode> {
    return this.execute(identity, context, idempotencyKey, 'sendConsultationLetter', {
      type: 'SendConsultationLetter',
      // One letter per application: its number follows from the application.
      data: { transferId, letterId: deterministicUuid('transfer-service.consultation-letter', transferId) },
    });
  }

  @Mutation(() => TransferNode, {
    description:
      'Approve (reserves the receiving facility’s capacity in the same fact); optionally less, per year. 批准转移。',
  })
  @Allow(decideTransfer)
  approveTransfer(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('transferId', { type: () => ID }) transferId: string,
    @Args('lines', { type: () => [TransferWasteLineInput], nullable: true })
    lines?: TransferWasteLineInput[] | null,
    @Args('plannedByYear', { type: () => [TransferYearPlanInput], nullable: true })
    plannedByYear?: TransferYearPlanInput[] | null,
  ): Promise<TransferNode> {
    const approved = linesOf(lines);
    const plan = plannedByYearOf(plannedByYear);
    return this.execute(
      identity,
      context,
      idempotencyKey,
      'approveTransfer',
      { type: 'ApproveTransfer', data: { transferId, ...(approved ? { lines: approved } : {}) } },
      plan,
    );
  }

  // ---------------------------------------------------------------------------------------------
  // The receiving bureau

  @Mutation(() => TransferNode, {
    description: 'Reply to the consultation letter: consent, or refusal with reasons. 复函。',
  })
  @Allow(replyToTransferLetter)
  replyToConsultationLetter(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('transferId', { type: () => ID }) transferId: string,
    @Args('consent') consent: boolean,
    @Args('reasons', { type: () => [String], nullable: true }) reasons?: string[] | null,
  ): Promise<TransferNode> {
    return this.execute(identity, context, idempotencyKey, 'replyToConsultationLetter', {
      type: 'ReplyToLetter',
      data: {
        transferId,
        decision: consent ? 'consent' : 'refusal',
        ...(reasons ? { reasons: [...reasons] } : {}),
      },
    });
  }

  // ---------------------------------------------------------------------------------------------

  private metadata(identity: Identity, context: RequestContext, idempotencyKey: string) {
    return userCommandMetadata({ identity, context, scope: SCOPE, idempotencyKey });
  }

  /** A step on an existing transfer, once per idempotency key. */
  private execute(
    identity: Identity,
    context: RequestContext,
    idempotencyKey: string,
    operation: string,
    body: CommandBody,
    plannedByYear?: Record<string, string>,
  ): Promise<TransferNode> {
    return this.idempotency.runIdempotent(
      {
        identity,
        key: idempotencyKey,
        operation,
        payload: { ...body, plannedByYear: plannedByYear ?? null },
      },
      () =>
        this.run(
          identity,
          { ...body, metadata: this.metadata(identity, context, idempotencyKey) } as TransferCommand,
          plannedByYear,
        ),
    );
  }

  /** Load, decide, append; then read our own write once the read model has passed it. */
  private async run(
    identity: Identity,
    command: TransferCommand,
    plannedByYear?: Record<string, string>,
  ): Promise<TransferNode> {
    const result = await this.commands.handle(command, identity, plannedByYear ? { plannedByYear } : {});
    await this.readModel.waitFor(result.lastLogPosition);
    const node = await this.queries.byId(identity, command.data.transferId);
    if (!node)
      throw new Error(
        `transfer ${command.data.transferId} is missing from the read model / 读模型中缺少转移申请 ${command.data.transferId}`,
      );
    return node;
  }

  /** One read of a transfer, for its parties to see (the access log). */
  private logRead(
    identity: Identity,
    id: string,
    ownerAgencies: readonly string[],
    operation: ReadOperation,
  ) {
    return this.accessLog.recordRead({
      identity,
      recordType: 'transfer',
      recordId: id,
      ownerAgencies,
      operation,
      at: new Date(),
    });
  }
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * One answer for a transfer that does not exist, one the caller may not see, and a hash it does not
 * name: none of them tells whether the document or the transfer exists.
 */
function attachmentNotFound(sha256: string): PlatformError {
  return new PlatformError({
    code: 'transfer.attachment-not-found',
    category: 'BAD_USER_INPUT',
    field: 'sha256',
    rule: 'attachment.of-visible-transfer',
    messages: {
      zh: '您可查阅的该转移申请中没有此附件',
      en: 'no such document on a transfer you may see',
    },
    details: { sha256 },
  });
}

/** The parties whose record it is: they may ask who read it. */
function ownersOf(node: TransferNode): string[] {
  return [node.generator.agencyId, node.receiver.operatorAgencyId].filter(
    (a): a is string => typeof a === 'string' && a !== '',
  );
}
