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
  can,
  CurrentIdentity,
  type AccessLog,
  type AgencyDirectory,
  type Identity,
  type ReadOperation,
  type RequestContext,
} from '@lianfang/auth';
import type { CommandMetadata, LogPosition } from '@lianfang/eventsourcing';
import {
  ACCESS_LOG,
  historyEntryOf,
  historyOf,
  HistoryEntryType,
  Idempotency,
  readWholeStream,
  userCommandMetadata,
} from '@lianfang/graph';
import { AGENCY_DIRECTORY, PLATFORM, type Platform } from '@lianfang/runtime';
import { AgreementDataSharing } from '../agreement/data-sharing';
import {
  discrepancyReview,
  manifestStream,
  nextActions,
  type DiscrepancyReviewDecision,
  type ManifestCommand,
  type ManifestEvent,
  type RejectedDisposition,
  type ReportedDifference,
} from './decider';
import { ManifestCommands, type ManifestCommandResult } from './manifest.commands';
import {
  carryManifests,
  creditCodeOf,
  openManifests,
  readManifests,
  receiveManifests,
  reviewManifestDiscrepancies,
  type ReadableManifest,
} from './manifest.access';
import { ManifestReadModel } from './manifest.projection';
import { ManifestQueries } from './manifest.queries';
import {
  BackfillPaperManifestInput,
  ManifestConnection,
  ManifestDifferenceInput,
  ManifestFilterInput,
  ManifestHandOverInput,
  ManifestNextActionType,
  ManifestNode,
  ManifestVehicleInput,
  OpenManifestInput,
  PartiallyAcceptManifestInput,
  ReceiveManifestInput,
  RejectManifestInput,
  ReviewManifestDiscrepanciesInput,
} from './manifest.types';
import { evolveView, type ManifestView } from './manifest.view';

type Body = {
  [T in ManifestCommand['type']]: Omit<Extract<ManifestCommand, { type: T }>, 'metadata'>;
}[ManifestCommand['type']];

/** The mutation each waiting command is, with its label. */
const ACTIONS: Readonly<Record<string, { code: string; zh: string; en: string }>> = {
  ConfirmPickup: { code: 'confirmManifestPickup', zh: '确认接收运输', en: 'Confirm pickup' },
  HandOver: { code: 'handOverManifest', zh: '交接给下一承运单位', en: 'Hand over to the next carrier' },
  Deliver: { code: 'deliverManifest', zh: '确认送达', en: 'Confirm delivery' },
  AcceptReceipt: { code: 'receiveManifest', zh: '确认接收', en: 'Accept the waste' },
  PartiallyAccept: { code: 'partiallyAcceptManifest', zh: '部分接收', en: 'Accept part of the waste' },
  RejectReceipt: { code: 'rejectManifest', zh: '拒收', en: 'Reject the waste' },
  ConfirmDisposal: { code: 'confirmManifestDisposal', zh: '确认利用处置', en: 'Confirm disposal' },
  CorrectReceipt: { code: 'correctManifestReceipt', zh: '更正接收信息', en: 'Correct the receipt' },
  ReviewManifestDiscrepancies: {
    code: 'reviewManifestDiscrepancies',
    zh: '核查联单差异：无需进一步处理或移送执法',
    en: 'Review the discrepancies: no further action, or refer to enforcement',
  },
};

const differencesOf = (input: readonly ManifestDifferenceInput[] | null | undefined): ReportedDifference[] =>
  (input ?? []).map((d) => ({
    kind: d.kind as ReportedDifference['kind'],
    declared: d.declared,
    found: d.found,
  }));

const vehicleOf = (v: ManifestVehicleInput) => ({
  vehiclePlate: v.vehiclePlate,
  operatingLicence: v.operatingLicence,
});
const driverOf = (v: ManifestVehicleInput) => ({ name: v.driver.name, phone: v.driver.phone });

/**
 * Electronic manifests through the graph. Every command is authorized on the stored manifest inside
 * the load–decide loop (ManifestCommands); reads are filtered by the manifest's parties and places, or
 * opened by a 'manifests' grant of an adopted agreement (reading only), and recorded in the access log.
 */
@Resolver(() => ManifestNode)
@Allow(readManifests)
export class ManifestResolver {
  constructor(
    @Inject(ManifestCommands) private readonly commands: ManifestCommands,
    @Inject(ManifestQueries) private readonly queries: ManifestQueries,
    @Inject(ManifestReadModel) private readonly readModel: ManifestReadModel,
    @Inject(Idempotency) private readonly idempotency: Idempotency,
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(AGENCY_DIRECTORY) private readonly directory: AgencyDirectory,
    @Inject(AgreementDataSharing) private readonly sharing: AgreementDataSharing,
    @Inject(ACCESS_LOG) private readonly accessLog: AccessLog,
  ) {}

  // ─── queries ─────────────────────────────────────────────────────────────────────────────

  @Query(() => ManifestNode, { nullable: true, description: 'One manifest by number. 按编号查询联单。' })
  async manifest(
    @CurrentIdentity() identity: Identity,
    @Args('number', { type: () => ID }) number: string,
  ): Promise<ManifestNode | null> {
    const view = await this.queries.view(number);
    if (!view) return null;
    authorize(identity, readManifests, await this.readable(identity, view));
    await this.logRead(identity, view, 'read');
    return this.queries.node(identity, view);
  }

  @Query(() => ManifestConnection, {
    description: 'Manifests the caller may see, newest first. 可见的联单，按开具时间倒序。',
  })
  async manifests(
    @CurrentIdentity() identity: Identity,
    @Args('filter', { type: () => ManifestFilterInput, nullable: true }) filter?: ManifestFilterInput,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { nullable: true }) after?: string,
  ): Promise<ManifestConnection> {
    const page = await this.queries.list(
      identity,
      {
        status: filter?.status ?? null,
        transferId: filter?.transferId ?? null,
        facilityId: filter?.facilityId ?? null,
        generator: filter?.generator ?? null,
        overdueOnly: filter?.overdueOnly ?? null,
        discrepancyOnly: filter?.discrepancyOnly ?? null,
      },
      { first: first ?? null, after: after ?? null },
      await this.sharing.grantsFor(identity, 'manifests'),
    );
    const at = new Date();
    await this.accessLog.recordReads(
      page.edges.flatMap(({ node }) => {
        const ownerAgencies = this.queries.owners(node.view);
        return ownerAgencies.length === 0
          ? []
          : [
              {
                identity,
                recordType: 'manifest',
                recordId: node.number,
                ownerAgencies,
                operation: 'list' as const,
                at,
              },
            ];
      }),
    );
    return page;
  }

  @Query(() => [HistoryEntryType], {
    description: "A manifest's facts, oldest first: who did what, when. 联单历史。",
  })
  async manifestHistory(
    @CurrentIdentity() identity: Identity,
    @Args('number', { type: () => ID }) number: string,
  ): Promise<HistoryEntryType[]> {
    const events = await readWholeStream(this.platform.store, manifestStream(number));
    const view = this.fold(events, new Date(8.64e15));
    if (!view) return [];
    authorize(identity, readManifests, await this.readable(identity, view));
    await this.logRead(identity, view, 'history');
    return events.map(historyEntryOf);
  }

  @Query(() => ManifestNode, {
    nullable: true,
    description: 'A manifest as the platform knew it at an instant. 某一时刻的联单。',
  })
  async manifestAsOf(
    @CurrentIdentity() identity: Identity,
    @Args('number', { type: () => ID }) number: string,
    @Args('asOf', { type: () => Date }) asOf: Date,
  ): Promise<ManifestNode | null> {
    const events = await readWholeStream(this.platform.store, manifestStream(number));
    const view = this.fold(events, asOf);
    if (!view) return null;
    // Authorized on the manifest as it was then, exactly as the current one is.
    authorize(identity, readManifests, await this.readable(identity, view));
    await this.logRead(identity, view, 'asOf');
    return this.queries.node(identity, view);
  }

  @ResolveField(() => [ManifestNextActionType], {
    description: 'What the caller may do next, and by when. 当前用户可办理的下一步。',
  })
  nextActions(@CurrentIdentity() identity: Identity, @Parent() node: ManifestNode): ManifestNextActionType[] {
    const { state } = node.view;
    // The receiving province's bureau, while discrepancies wait on its review (no deadline applies).
    const review = discrepancyReview(state);
    const bureau =
      review && can(identity, reviewManifestDiscrepancies, { reportTo: review.reportTo })
        ? [this.label('ReviewManifestDiscrepancies', null, false)]
        : [];
    const own = creditCodeOf(this.directory, identity);
    if (own === null) return bureau;
    const now = Date.now();
    const waiting = nextActions(state).filter((a) => a.creditCode === own);
    if (
      own === state.opened.receiver.creditCode &&
      ['received', 'partially-accepted', 'disposed'].includes(state.status)
    )
      waiting.push({
        action: 'CorrectReceipt',
        party: 'receiver',
        creditCode: own,
        dueAt: null,
        overdue: false,
      });
    return [
      ...waiting.flatMap((a) =>
        ACTIONS[a.action]
          ? [this.label(a.action, a.dueAt, a.overdue || (a.dueAt !== null && now >= Date.parse(a.dueAt)))]
          : [],
      ),
      ...bureau,
    ];
  }

  private label(command: string, dueAt: string | null, overdue: boolean): ManifestNextActionType {
    const action = ACTIONS[command];
    return {
      code: action.code,
      label: { zh: action.zh, en: action.en },
      dueAt: dueAt === null ? null : new Date(dueAt),
      overdue,
    };
  }

  @ResolveField(() => [HistoryEntryType], { description: 'Its facts, oldest first. 联单历史。' })
  async history(@Parent() node: ManifestNode): Promise<HistoryEntryType[]> {
    // The node was authorized when it was read.
    return historyOf(this.platform.store, manifestStream(node.number));
  }

  /** `_entities`: other subgraphs hand over `{ number }`; the caller must be allowed to see it. */
  @ResolveReference()
  async resolveReference(
    reference: { number: string },
    context: RequestContext,
  ): Promise<ManifestNode | null> {
    const identity = authorize(context?.identity, readManifests);
    const view = await this.queries.view(reference.number);
    if (!view) return null;
    authorize(identity, readManifests, await this.readable(identity, view));
    await this.logRead(identity, view, 'read');
    return this.queries.node(identity, view);
  }

  // ─── mutations ───────────────────────────────────────────────────────────────────────────

  @Mutation(() => ManifestNode, {
    description: 'Open a manifest under an approved (or filed) transfer. 开具电子转移联单。',
  })
  @Allow(openManifests)
  openManifest(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('input', { type: () => OpenManifestInput }) input: OpenManifestInput,
  ): Promise<ManifestNode> {
    const request = {
      transferId: input.transferId,
      carrierCreditCode: input.carrierCreditCode,
      consignor: (input.consignor ?? 'generator') as 'generator' | 'receiver',
      waste: {
        wasteClass: input.waste.wasteClass,
        name: input.waste.name,
        declaredKg: input.waste.declaredKg,
        hazardCharacteristics: [...input.waste.hazardCharacteristics],
        packaging: input.waste.packaging,
        form: input.waste.form,
        emergencyMeasures: input.waste.emergencyMeasures,
      },
    };
    return this.run(identity, context, idempotencyKey, 'openManifest', request, (metadata) =>
      this.commands.open(request, metadata, identity),
    );
  }

  @Mutation(() => ManifestNode, {
    description: 'Backfill a paper manifest (10 working days). 补录纸质联单。',
  })
  @Allow(openManifests)
  backfillPaperManifest(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('input', { type: () => BackfillPaperManifestInput }) input: BackfillPaperManifestInput,
  ): Promise<ManifestNode> {
    const carrier = input.carrierCreditCode;
    const request = {
      transferId: input.transferId,
      carrierCreditCode: carrier,
      consignor: (input.consignor ?? 'generator') as 'generator' | 'receiver',
      waste: { ...input.waste, hazardCharacteristics: [...input.waste.hazardCharacteristics] },
      paper: { reference: input.paperReference, tripDate: input.tripDate },
      ...(input.pickupVehicle && input.pickedUpAt
        ? {
            pickup: {
              carrierCreditCode: carrier,
              ...vehicleOf(input.pickupVehicle),
              at: input.pickedUpAt.toISOString(),
              driver: driverOf(input.pickupVehicle),
            },
          }
        : {}),
      ...(input.deliveredAt ? { delivery: { at: input.deliveredAt.toISOString() } } : {}),
    };
    return this.run(identity, context, idempotencyKey, 'backfillPaperManifest', request, (metadata) =>
      this.commands.backfill(request, metadata, identity),
    );
  }

  @Mutation(() => ManifestNode, { description: 'The carrier takes the waste. 承运单位确认接收运输。' })
  @Allow(carryManifests)
  confirmManifestPickup(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('number', { type: () => ID }) number: string,
    @Args('vehicle', { type: () => ManifestVehicleInput }) vehicle: ManifestVehicleInput,
  ): Promise<ManifestNode> {
    const driver = driverOf(vehicle);
    return this.command(
      identity,
      context,
      idempotencyKey,
      {
        type: 'ConfirmPickup',
        data: {
          manifestNumber: number,
          carrierCreditCode: creditCodeOf(this.directory, identity) ?? '',
          ...vehicleOf(vehicle),
          // Set by ManifestCommands from the command (a subject per leg); the details go encrypted.
          driverSubjectId: '',
        },
      },
      driver,
    );
  }

  @Mutation(() => ManifestNode, { description: 'Hand over to the next carrier. 承运单位之间交接。' })
  @Allow(carryManifests)
  handOverManifest(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('number', { type: () => ID }) number: string,
    @Args('input', { type: () => ManifestHandOverInput }) input: ManifestHandOverInput,
  ): Promise<ManifestNode> {
    return this.command(
      identity,
      context,
      idempotencyKey,
      {
        type: 'HandOver',
        data: {
          manifestNumber: number,
          fromCarrierCreditCode: creditCodeOf(this.directory, identity) ?? '',
          to: {
            carrierCreditCode: input.toCarrierCreditCode,
            ...vehicleOf(input.vehicle),
            driverSubjectId: '',
          },
          at: input.at.toISOString(),
          place: input.place,
        },
      },
      driverOf(input.vehicle),
    );
  }

  @Mutation(() => ManifestNode, { description: 'The waste reached the facility. 送达接受单位。' })
  @Allow(carryManifests)
  deliverManifest(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('number', { type: () => ID }) number: string,
  ): Promise<ManifestNode> {
    return this.command(identity, context, idempotencyKey, {
      type: 'Deliver',
      data: { manifestNumber: number, carrierCreditCode: creditCodeOf(this.directory, identity) ?? '' },
    });
  }

  @Mutation(() => ManifestNode, { description: 'Accept the waste, weighed. 确认接收（过磅重量）。' })
  @Allow(receiveManifests)
  receiveManifest(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('number', { type: () => ID }) number: string,
    @Args('input', { type: () => ReceiveManifestInput }) input: ReceiveManifestInput,
  ): Promise<ManifestNode> {
    return this.command(identity, context, idempotencyKey, {
      type: 'AcceptReceipt',
      data: {
        manifestNumber: number,
        acceptedKg: input.acceptedKg,
        method: input.method,
        differences: differencesOf(input.differences),
      },
    });
  }

  @Mutation(() => ManifestNode, { description: 'Accept part of the waste. 部分接收。' })
  @Allow(receiveManifests)
  partiallyAcceptManifest(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('number', { type: () => ID }) number: string,
    @Args('input', { type: () => PartiallyAcceptManifestInput }) input: PartiallyAcceptManifestInput,
  ): Promise<ManifestNode> {
    return this.command(identity, context, idempotencyKey, {
      type: 'PartiallyAccept',
      data: {
        manifestNumber: number,
        acceptedKg: input.acceptedKg,
        rejectedKg: input.rejectedKg,
        method: input.method,
        reasons: [...input.reasons],
        disposition: input.disposition as RejectedDisposition,
        ...(input.otherFacilityId ? { otherFacilityId: input.otherFacilityId } : {}),
        differences: differencesOf(input.differences),
      },
    });
  }

  @Mutation(() => ManifestNode, { description: 'Reject the waste. 拒收。' })
  @Allow(receiveManifests)
  rejectManifest(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('number', { type: () => ID }) number: string,
    @Args('input', { type: () => RejectManifestInput }) input: RejectManifestInput,
  ): Promise<ManifestNode> {
    return this.command(identity, context, idempotencyKey, {
      type: 'RejectReceipt',
      data: {
        manifestNumber: number,
        reasons: [...input.reasons],
        disposition: input.disposition as RejectedDisposition,
        ...(input.otherFacilityId ? { otherFacilityId: input.otherFacilityId } : {}),
        differences: differencesOf(input.differences),
      },
    });
  }

  @Mutation(() => ManifestNode, {
    description: 'Correct the accepted weight after receipt (a new fact). 更正接收重量。',
  })
  @Allow(receiveManifests)
  correctManifestReceipt(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('number', { type: () => ID }) number: string,
    @Args('acceptedKg', { description: 'Corrected kg. 更正后的接收重量。' }) acceptedKg: string,
    @Args('reason') reason: string,
  ): Promise<ManifestNode> {
    return this.command(identity, context, idempotencyKey, {
      type: 'CorrectReceipt',
      data: { manifestNumber: number, acceptedKg, reason },
    });
  }

  @Mutation(() => ManifestNode, { description: 'Confirm utilisation or disposal. 确认利用处置。' })
  @Allow(receiveManifests)
  confirmManifestDisposal(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('number', { type: () => ID }) number: string,
    @Args('method') method: string,
  ): Promise<ManifestNode> {
    return this.command(identity, context, idempotencyKey, {
      type: 'ConfirmDisposal',
      data: { manifestNumber: number, method },
    });
  }

  @Mutation(() => ManifestNode, {
    description:
      "The receiving province's bureau decides on the open discrepancies: no further action, or refer to enforcement. 接受地省级生态环境主管部门核查联单差异并作出处理决定。",
  })
  @Allow(reviewManifestDiscrepancies)
  reviewManifestDiscrepancies(
    @CurrentIdentity() identity: Identity,
    @Context() context: RequestContext,
    @Args('idempotencyKey') idempotencyKey: string,
    @Args('number', { type: () => ID }) number: string,
    @Args('input', { type: () => ReviewManifestDiscrepanciesInput }) input: ReviewManifestDiscrepanciesInput,
  ): Promise<ManifestNode> {
    return this.command(identity, context, idempotencyKey, {
      type: 'ReviewManifestDiscrepancies',
      // The enum's values are the domain's; the decider checks again for callers outside the graph.
      data: {
        manifestNumber: number,
        decision: input.decision as DiscrepancyReviewDecision,
        note: input.note,
      },
    });
  }

  // ─── plumbing ────────────────────────────────────────────────────────────────────────────

  /**
   * The manifest as `readManifests` judges it for this caller. The grants are asked for only when the
   * policy does not already show it (judged on the service clock's day, like the lists).
   */
  private async readable(identity: Identity, view: ManifestView): Promise<ReadableManifest> {
    if (this.queries.visibleTo(identity, view)) return this.queries.readable(view, []);
    return this.queries.readable(view, await this.sharing.grantsFor(identity, 'manifests'));
  }

  /** The read, for the parties to see who read their manifest (none known: nobody to tell). */
  private async logRead(identity: Identity, view: ManifestView, operation: ReadOperation): Promise<void> {
    const ownerAgencies = this.queries.owners(view);
    if (ownerAgencies.length === 0) return;
    await this.accessLog.recordRead({
      identity,
      recordType: 'manifest',
      recordId: view.state.opened.manifestNumber,
      ownerAgencies,
      operation,
      at: new Date(),
    });
  }

  private command(
    identity: Identity,
    context: RequestContext,
    idempotencyKey: string,
    body: Body,
    driver?: { name: string; phone: string },
  ): Promise<ManifestNode> {
    // The driver is personal data: it is not part of the stored idempotency payload, only its presence.
    const payload = { ...body, driver: driver ? true : null };
    return this.run(identity, context, idempotencyKey, body.type, payload, (metadata) =>
      this.commands.handle({ ...body, metadata } as ManifestCommand, identity, driver ? { driver } : {}),
    );
  }

  /** Once per idempotency key; then read our own write once the read model has passed it. */
  private async run(
    identity: Identity,
    context: RequestContext,
    idempotencyKey: string,
    operation: string,
    payload: unknown,
    act: (metadata: CommandMetadata) => Promise<ManifestCommandResult>,
  ): Promise<ManifestNode> {
    const done = await this.idempotency.runIdempotent(
      { identity, key: idempotencyKey, operation, payload },
      async (): Promise<{ manifestNumber: string; lastLogPosition: LogPosition }> => {
        const metadata = userCommandMetadata({
          identity,
          context,
          scope: 'transfer-service.manifest',
          idempotencyKey,
        });
        const result = await act(metadata);
        return { manifestNumber: result.manifestNumber, lastLogPosition: result.lastLogPosition };
      },
    );
    await this.readModel.waitFor(done.lastLogPosition);
    const view = await this.queries.view(done.manifestNumber);
    if (!view)
      throw new Error(
        `manifest ${done.manifestNumber} is missing from the read model / 读模型中缺少联单 ${done.manifestNumber}`,
      );
    return this.queries.node(identity, view);
  }

  /** The view folded from the events recorded at or before `asOf` (store time). */
  private fold(
    events: readonly { type: string; data: unknown; metadata: { recordedAt: Date; occurredAt: Date } }[],
    asOf: Date,
  ): ManifestView | null {
    let view: ManifestView | null = null;
    for (const e of events) {
      if (e.metadata.recordedAt.getTime() > asOf.getTime()) break;
      view = evolveView(
        view,
        { type: e.type, data: e.data } as ManifestEvent,
        this.commands.decider.evolve,
        e.metadata.occurredAt,
      );
    }
    return view;
  }
}
