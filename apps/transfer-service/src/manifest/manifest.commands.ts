import { Inject, Injectable, Optional } from '@nestjs/common';
import { AccessDenied, authorize, type AgencyDirectory, type Identity } from '@lianfang/auth';
import {
  JurisdictionCode,
  LocalDate,
  Quantity,
  WasteClass,
  WasteCode,
  type WorkingDayCalendar,
} from '@lianfang/domain-kernel';
import {
  Aggregates,
  assertNever,
  DomainError,
  type CommandMetadata,
  type DomainEvent,
  type HandleCommandAcrossResult,
  type LogPosition,
  type PendingEvent,
  type PersonalDataCodec,
  type RecordedEvent,
  type StreamBindings,
  type StreamModel,
} from '@lianfang/eventsourcing';
import { readWholeStream } from '@lianfang/graph';
import { AGENCY_DIRECTORY, PLATFORM, type Platform } from '@lianfang/runtime';
import { AgreementTerms } from '../agreement/agreement.terms';
import type { CapacityLedgerState } from '../capacity/decider';
import type { ReceiptConsumption } from '../capacity/ports';
import { receiptConsumption } from '../capacity/receipt';
import { WORKING_DAY_CALENDAR } from '../common/time';
import {
  acceptsNewManifests,
  facilityDecider,
  facilityStream,
  licensedCapacityKg,
  type FacilityState,
} from '../facility/decider';
import { transferDecider, transferStream, type TransferState } from '../transfer/decider';
import {
  manifestDecider,
  manifestStream,
  reportToOf,
  type CarrierLeg,
  type ManifestCommand,
  type ManifestDecider,
  type ManifestEvent,
  type ManifestRecord,
  type ManifestState,
  type ManifestWaste,
  type OpenManifestData,
} from './decider';
import {
  driverStream,
  driverStreamModel,
  driverSubjectId,
  protectedDriverEvent,
  validDriver,
  type DriverDetails,
  type DriverStreamState,
  type ManifestDriverEvent,
} from './drivers';
import {
  agenciesOf,
  carryManifests,
  openManifests,
  receiveManifests,
  reviewManifestDiscrepancies,
} from './manifest.access';
import { manifestOutbox } from './manifest.outbox';
import {
  manifestSerialDecider,
  manifestSerialStream,
  nextManifestNumber,
  numberingCity,
  NUMBER_TAKEN,
  type ManifestSerialState,
} from './serials';
import {
  approvalUsageDecider,
  approvalUsageStream,
  remainingKg,
  type ApprovalUsageCommand,
  type ApprovalUsageState,
} from './usage';

/** The PersonalDataCodec drivers' names and phones are protected and revealed with. */
export const MANIFEST_PERSONAL_DATA = 'transfer-service.MANIFEST_PERSONAL_DATA';

/** What the generator enters to open a manifest; everything else comes from the transfer and the licence. */
export interface OpenManifestRequest {
  /** The approval (or filing) the trip runs under. */
  readonly transferId: string;
  /** The carrier the generator engages. */
  readonly carrierCreditCode: string;
  readonly consignor: 'generator' | 'receiver';
  readonly waste: ManifestWaste;
}

export interface BackfillManifestRequest extends OpenManifestRequest {
  readonly paper: { readonly reference: string; readonly tripDate: string };
  readonly pickup?: Omit<CarrierLeg, 'driverSubjectId'> & {
    readonly at: string;
    readonly driver: DriverDetails;
  };
  readonly delivery?: { readonly at: string };
}

export interface ManifestCommandResult {
  readonly manifestNumber: string;
  readonly lastLogPosition: LogPosition;
  readonly state: ManifestState;
  /** The command had been handled before: nothing was stored now. */
  readonly replayed: boolean;
}

export interface ManifestCommandOptions {
  /** ConfirmPickup / HandOver: the driver of the (new) leg; stored encrypted, the events name a subject id. */
  readonly driver?: DriverDetails;
}

/** The adopted agreement's terms for a pair of provinces on a day (agreement mechanism). */
interface Terms {
  readonly tolerance: { readonly percentBasisPoints: number; readonly kg: string };
  readonly maxTransitDays: number;
}

type Decided = Record<string, readonly DomainEvent[]>;

/** What an approval or a filing lets manifests carry (Arts 21–28; filings for the other classes). */
interface AuthorizationFacts {
  readonly kind: 'approval' | 'filing';
  readonly transferId: string;
  readonly validFrom: string;
  readonly validUntil: string;
  /** kg per waste class as the manifest writes it ('hazardous:900-249-08', 'construction'). */
  readonly kgByClass: Readonly<Record<string, string>>;
  readonly receiverFacilityId: string;
  readonly generator: { readonly agencyId: string; readonly creditCode: string };
  readonly exportingJurisdiction: string;
}

const refuse = (code: string, zh: string, en: string, field: string, details?: Record<string, unknown>) =>
  new DomainError({ code: `manifest.${code}`, message: { zh, en }, field, ...(details ? { details } : {}) });

function authorizationFacts(transfer: TransferState, transferId: string): AuthorizationFacts {
  const sum = (pairs: readonly (readonly [string, string])[]) => {
    const out: Record<string, Quantity> = {};
    for (const [cls, kg] of pairs) out[cls] = (out[cls] ?? Quantity.ZERO).add(Quantity.ofKg(kg));
    return Object.fromEntries(Object.entries(out).map(([k, q]) => [k, q.toKgString()]));
  };
  if (transfer.status === 'approved' && transfer.approval && transfer.application) {
    const { approval, application } = transfer;
    return {
      kind: 'approval',
      transferId,
      validFrom: approval.validFrom,
      validUntil: approval.validUntil,
      kgByClass: sum(approval.lines.map((l) => [`hazardous:${l.wasteCode}`, l.quantityKg] as const)),
      receiverFacilityId: application.receiver.facilityId,
      generator: application.generator,
      exportingJurisdiction: application.exportingJurisdiction,
    };
  }
  if (transfer.status === 'filed' && transfer.filing) {
    const { filing } = transfer;
    return {
      kind: 'filing',
      transferId,
      validFrom: filing.window.from,
      validUntil: filing.window.to,
      kgByClass: sum(filing.lines.map((l) => [l.wasteClass, l.quantityKg] as const)),
      receiverFacilityId: filing.receiver.facilityId,
      generator: filing.generator,
      exportingJurisdiction: filing.exportingJurisdiction,
    };
  }
  throw refuse(
    'transfer-not-approved',
    '联单须在已批准的转移（或已备案的转移）下开具',
    'a manifest is opened under an approved (or filed) transfer',
    'transferId',
    { transferId, status: transfer.status },
  );
}

/** The class as the decider records it ('hazardous:900-249-08'); as entered when it does not parse. */
function canonicalClass(input: string): string {
  const parsed = WasteClass.parse(input, 'waste.wasteClass');
  return parsed.ok ? WasteClass.format(parsed.value) : input;
}

const RECEIPT_TYPES: ReadonlySet<ManifestCommand['type']> = new Set([
  'AcceptReceipt',
  'PartiallyAccept',
  'RejectReceipt',
  'CorrectReceipt',
]);
/** The number of attempts at a free manifest number when other openings in the city take them first. */
const NUMBER_ATTEMPTS = 20;

/**
 * The manifest's write side. Every decision is one atomic append over the streams it concerns:
 * - opening: the manifest, its city's serial counter, the approval's usage, and (guarded, no events) the
 *   transfer and the receiving facility, so a concurrent suspension or another opening forces a retry;
 * - pickup and hand-over: the manifest and the driver's personal-data stream;
 * - receipt, rejection, correction: the manifest, the approval's usage (accepted replaces declared) and,
 *   for hazardous waste, the facility's capacity ledger of the category and the receipt's year.
 *
 * With `identity`, the caller is authorized on the stored records inside the load–decide loop; without
 * it, the command's metadata must carry a system actor (timers, policies).
 */
@Injectable()
export class ManifestCommands {
  readonly decider: ManifestDecider;
  private readonly transferModel: StreamModel<DomainEvent, TransferState>;

  constructor(
    @Inject(Aggregates) private readonly aggregates: Aggregates,
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(AGENCY_DIRECTORY) private readonly directory: AgencyDirectory,
    @Inject(MANIFEST_PERSONAL_DATA) private readonly personalData: PersonalDataCodec,
    @Inject(WORKING_DAY_CALENDAR) calendar: WorkingDayCalendar,
    @Optional() @Inject(AgreementTerms) private readonly terms?: AgreementTerms,
  ) {
    this.decider = manifestDecider({ calendar });
    this.transferModel = transferDecider({ calendar }) as unknown as StreamModel<DomainEvent, TransferState>;
  }

  async handle(
    command: ManifestCommand,
    identity?: Identity,
    options: ManifestCommandOptions = {},
  ): Promise<ManifestCommandResult> {
    if (command.type === 'OpenManifest') {
      // The service, not the caller, states what the approval allows and allocates the number.
      const { authorization, carrierCreditCode, consignor, waste } = command.data;
      return this.open(
        { transferId: authorization.id, carrierCreditCode, consignor, waste },
        command.metadata,
        identity,
      );
    }
    if (command.type === 'BackfillPaperManifest')
      throw new Error('a paper manifest is backfilled with backfill() / 纸质联单请用 backfill() 补录');
    this.requireActor(identity, command.metadata, command.type);

    const number = command.data.manifestNumber;
    const manifest = await this.loadManifest(number);
    const prepared = await this.withAgreementTerms(this.withDriverSubject(command, options), manifest.state);
    const streams: StreamBindings = { manifest: { streamId: manifestStream(number), decider: this.decider } };

    // Checked again inside the loop; here so nothing (not even a driver's key) is made for a stranger.
    if (identity) this.authorizeOn(identity, prepared, manifest.state);
    let driverEvent: ManifestDriverEvent | undefined;
    const leg = legOf(prepared);
    if (leg && options.driver) {
      const prefix = prepared.type === 'HandOver' ? 'to.driver.' : 'driver.';
      driverEvent = await protectedDriverEvent(this.personalData, {
        subjectId: leg.driverSubjectId,
        manifestNumber: number,
        carrierCreditCode: leg.carrierCreditCode,
        driver: validDriver(options.driver, prefix),
      });
      streams.driver = { streamId: driverStream(leg.driverSubjectId), decider: driverStreamModel };
    }

    let consumption: ReceiptConsumption | undefined;
    if (RECEIPT_TYPES.has(prepared.type) && manifest.state.status !== 'none') {
      const { opened } = manifest.state;
      streams.usage = {
        streamId: approvalUsageStream(opened.authorization.id),
        decider: approvalUsageDecider,
      };
      consumption = await this.consumptionFor(prepared, manifest.state, manifest.receiptDate);
      if (consumption) streams.capacity = consumption.binding;
    }

    const result = await this.aggregates.handleAcross({
      command: prepared,
      streams,
      decide: (c, states: Record<string, unknown>) => {
        const state = states.manifest as ManifestState;
        if (identity) this.authorizeOn(identity, c, state);
        const events = this.decider.decide(c, state);
        const decided: Decided = { manifest: events };
        if (driverEvent && events.length > 0 && !(states.driver as DriverStreamState).recorded)
          decided.driver = [driverEvent];
        if (streams.usage) decided.usage = this.usageEvents(events, states.usage as ApprovalUsageState, c);
        if (
          consumption &&
          events.some((e) => e.type === 'ManifestReceived' || e.type === 'ManifestReceiptCorrected')
        )
          decided.capacity = consumption.decide(states.capacity as CapacityLedgerState, c.metadata);
        return decided;
      },
      outbox: (events, states) =>
        manifestOutbox(
          this.platform.topic,
          prepared.metadata,
          events.manifest as readonly PendingEvent<ManifestEvent>[],
          states.manifest as ManifestState,
        ),
    });
    return {
      manifestNumber: number,
      lastLogPosition: result.lastLogPosition,
      state: result.replayed
        ? (await this.loadManifest(number)).state
        : (result.states.manifest as ManifestState),
      replayed: result.replayed,
    };
  }

  /** Opens a manifest under an approved transfer (or a filing): see the class comment. */
  open(request: OpenManifestRequest, metadata: CommandMetadata, identity?: Identity) {
    return this.opening('OpenManifest', request, metadata, identity);
  }

  /** Records a paper manifest used during an outage, within 10 working days of the trip. */
  backfill(request: BackfillManifestRequest, metadata: CommandMetadata, identity?: Identity) {
    return this.opening('BackfillPaperManifest', request, metadata, identity);
  }

  /** The manifest folded from its stream. */
  async state(manifestNumber: string): Promise<ManifestState> {
    return (await this.loadManifest(manifestNumber)).state;
  }

  private async opening(
    type: 'OpenManifest' | 'BackfillPaperManifest',
    request: OpenManifestRequest | BackfillManifestRequest,
    metadata: CommandMetadata,
    identity: Identity | undefined,
  ): Promise<ManifestCommandResult> {
    this.requireActor(identity, metadata, type);
    const transferId = typeof request.transferId === 'string' ? request.transferId.trim() : '';
    if (transferId === '')
      throw refuse('required', 'transferId 不能为空', 'transferId is required', 'transferId');
    const backfill = type === 'BackfillPaperManifest' ? (request as BackfillManifestRequest) : undefined;
    // The number's year is the trip's (Art 15): the paper trip's day for a backfill.
    const tripDay = backfill ? LocalDate.parse(backfill.paper?.tripDate ?? '', 'paper.tripDate') : undefined;
    const onDate = tripDay?.ok ? tripDay.value : LocalDate.ofInstant(metadata.now);

    const transfer = await this.load(transferStream(transferId), this.transferModel);
    const facts = authorizationFacts(transfer, transferId);
    const generatorJurisdiction =
      this.directory.agency(facts.generator.agencyId)?.jurisdiction ?? facts.exportingJurisdiction;
    const city = numberingCity(generatorJurisdiction);

    // A backfilled pickup names its driver too: a subject of its own, stable across retries.
    let driverEvent: ManifestDriverEvent | undefined;
    let pickup: (CarrierLeg & { at: string }) | undefined;
    if (backfill?.pickup) {
      const { driver, ...leg } = backfill.pickup;
      const subjectId = driverSubjectId('backfill', metadata.commandId);
      pickup = { ...leg, driverSubjectId: subjectId };
      driverEvent = await protectedDriverEvent(this.personalData, {
        subjectId,
        manifestNumber: '',
        carrierCreditCode: leg.carrierCreditCode,
        driver: validDriver(driver, 'pickup.driver.'),
      });
    }

    for (let attempt = 0; attempt < NUMBER_ATTEMPTS; attempt++) {
      const counter = await this.load(manifestSerialStream(city, onDate.year), manifestSerialDecider);
      const manifestNumber = nextManifestNumber(counter, onDate.year, city).value;
      const streams: StreamBindings = {
        manifest: { streamId: manifestStream(manifestNumber), decider: this.decider },
        serials: { streamId: manifestSerialStream(city, onDate.year), decider: manifestSerialDecider },
        usage: { streamId: approvalUsageStream(transferId), decider: approvalUsageDecider },
        transfer: { streamId: transferStream(transferId), decider: this.transferModel },
        facility: { streamId: facilityStream(facts.receiverFacilityId), decider: facilityDecider },
      };
      if (driverEvent && pickup)
        streams.driver = { streamId: driverStream(pickup.driverSubjectId), decider: driverStreamModel };
      try {
        const result = await this.aggregates.handleAcross({
          // The idempotency hash sees what the caller asked, never the number chosen for this attempt.
          command: { type, data: request, metadata },
          streams,
          decide: (_c, states: Record<string, unknown>) =>
            this.decideOpening({
              type,
              request,
              backfill: backfill && {
                paper: backfill.paper,
                pickup,
                ...(backfill.delivery ? { delivery: backfill.delivery } : {}),
              },
              metadata,
              identity,
              manifestNumber,
              onDate,
              generatorJurisdiction,
              driverEvent: driverEvent && { ...driverEvent, data: { ...driverEvent.data, manifestNumber } },
              states,
            }),
          outbox: (events, states) =>
            manifestOutbox(
              this.platform.topic,
              metadata,
              events.manifest as readonly PendingEvent<ManifestEvent>[],
              states.manifest as ManifestState,
            ),
        });
        return await this.openingResult(result, manifestNumber);
      } catch (error) {
        if (DomainError.is(error, NUMBER_TAKEN)) continue; // another opening in the city took it first
        throw error;
      }
    }
    throw new Error(`no free manifest number after ${NUMBER_ATTEMPTS} attempts / 多次尝试后仍未取得联单编号`);
  }

  private decideOpening(input: {
    type: 'OpenManifest' | 'BackfillPaperManifest';
    request: OpenManifestRequest;
    backfill:
      | {
          readonly paper: BackfillManifestRequest['paper'];
          readonly pickup: (CarrierLeg & { at: string }) | undefined;
          readonly delivery?: { readonly at: string };
        }
      | undefined;
    metadata: CommandMetadata;
    identity: Identity | undefined;
    manifestNumber: string;
    onDate: LocalDate;
    generatorJurisdiction: string;
    driverEvent: ManifestDriverEvent | undefined;
    states: Record<string, unknown>;
  }): Decided {
    const { request, metadata, manifestNumber, states } = input;
    // The counter first: if the number went to another opening, choose again before anything else.
    const serials = manifestSerialDecider.decide(
      { type: 'AllocateSerial', data: { manifestNumber }, metadata },
      states.serials as ManifestSerialState,
    );
    const facts = authorizationFacts(states.transfer as TransferState, request.transferId.trim());
    if (input.identity)
      authorize(input.identity, openManifests, {
        agencies: agenciesOf(this.directory, [facts.generator.creditCode]),
      });
    const facility = states.facility as FacilityState;
    if (facility.status === 'unregistered')
      throw refuse(
        'facility-unknown',
        '批准所列的接受设施未登记',
        'the receiving facility the approval names is not registered',
        'transferId',
        { facilityId: facts.receiverFacilityId },
      );
    // No new trips to a suspended or revoked facility; a paper trip that already happened is still recorded.
    if (input.type === 'OpenManifest' && !acceptsNewManifests(facility, input.onDate))
      throw refuse(
        'facility-not-accepting',
        '接受设施已暂停、吊销或许可证不在有效期内，不能开具新的联单',
        'the receiving facility is suspended, revoked or out of licence: no new manifests to it',
        'transferId',
        { facilityId: facts.receiverFacilityId, status: facility.status },
      );
    const usage = states.usage as ApprovalUsageState;
    const wasteClass = canonicalClass(request.waste?.wasteClass ?? '');
    const authorizedKg = facts.kgByClass[wasteClass] ?? '0.000';
    const data: OpenManifestData = {
      manifestNumber,
      authorization: {
        kind: facts.kind,
        id: facts.transferId,
        remainingKg: remainingKg(usage, wasteClass, authorizedKg).toKgString(),
        validFrom: facts.validFrom,
        validUntil: facts.validUntil,
        wasteClasses: Object.keys(facts.kgByClass),
        receiverFacilityId: facts.receiverFacilityId,
      },
      generator: { creditCode: facts.generator.creditCode, jurisdiction: input.generatorJurisdiction },
      receiver: {
        creditCode: facility.profile.operatorCreditCode,
        jurisdiction: facility.profile.jurisdiction,
        facilityId: facts.receiverFacilityId,
      },
      carrierCreditCode: request.carrierCreditCode,
      consignor: request.consignor,
      waste: request.waste,
    };
    const command: ManifestCommand = input.backfill
      ? {
          type: 'BackfillPaperManifest',
          data: {
            ...data,
            paper: input.backfill.paper,
            ...(input.backfill.pickup ? { pickup: input.backfill.pickup } : {}),
            ...(input.backfill.delivery ? { delivery: input.backfill.delivery } : {}),
          },
          metadata,
        }
      : { type: 'OpenManifest', data, metadata };
    const events = this.decider.decide(command, states.manifest as ManifestState);
    const opened = events.flatMap((e) =>
      e.type === 'ManifestOpened' ? [e.data] : e.type === 'PaperManifestBackfilled' ? [e.data.opened] : [],
    )[0];
    if (!opened) return { manifest: events };
    const usageEvents = approvalUsageDecider.decide(
      {
        type: 'CommitDeclared',
        data: {
          transferId: facts.transferId,
          manifestNumber,
          wasteClass: opened.waste.wasteClass,
          declaredKg: opened.waste.declaredKg,
          authorizedKg,
        },
        metadata,
      },
      usage,
    );
    return {
      manifest: events,
      serials,
      usage: usageEvents,
      ...(input.driverEvent ? { driver: [input.driverEvent] } : {}),
    };
  }

  /** The opening's manifest: on a replay the first run's number, read from the events it stored. */
  private async openingResult(
    result: HandleCommandAcrossResult<StreamBindings>,
    attempted: string,
  ): Promise<ManifestCommandResult> {
    const opened = result.events.find(
      (e) => e.type === 'ManifestOpened' || e.type === 'PaperManifestBackfilled',
    ) as RecordedEvent | undefined;
    const data = opened?.data as { manifestNumber?: string; opened?: { manifestNumber: string } } | undefined;
    const manifestNumber = data?.manifestNumber ?? data?.opened?.manifestNumber ?? attempted;
    return {
      manifestNumber,
      lastLogPosition: result.lastLogPosition,
      state:
        !result.replayed && manifestNumber === attempted
          ? (result.states.manifest as ManifestState)
          : await this.state(manifestNumber),
      replayed: result.replayed,
    };
  }

  /** Accepted weight replaces the declared one; a rejection gives it back; a correction replaces it again. */
  private usageEvents(
    events: readonly ManifestEvent[],
    usage: ApprovalUsageState,
    command: ManifestCommand,
  ): DomainEvent[] {
    const commands: ApprovalUsageCommand[] = [];
    for (const e of events) {
      if (e.type === 'ManifestReceived' || e.type === 'ManifestReceiptCorrected')
        commands.push({
          type: 'SettleAccepted',
          data: { manifestNumber: e.data.manifestNumber, acceptedKg: e.data.acceptedKg },
          metadata: command.metadata,
        });
      else if (e.type === 'ManifestRejected')
        commands.push({
          type: 'ReleaseRejected',
          data: { manifestNumber: e.data.manifestNumber },
          metadata: command.metadata,
        });
    }
    const out: DomainEvent[] = [];
    let state = usage;
    for (const c of commands) {
      // A manifest opened before usage was kept (none in this service's history) holds nothing to settle.
      if (!state.manifests[c.data.manifestNumber]) continue;
      for (const e of approvalUsageDecider.decide(c, state)) {
        state = approvalUsageDecider.evolve(state, e);
        out.push(e);
      }
    }
    return out;
  }

  /** The ledger a receipt of hazardous waste consumes from (none for filings and rejections). */
  private async consumptionFor(
    command: ManifestCommand,
    record: ManifestRecord,
    receiptDate: string | null,
  ): Promise<ReceiptConsumption | undefined> {
    const { opened } = record;
    if (opened.authorization.kind !== 'approval' || opened.waste.wasteCode === null) return undefined;
    if (
      command.type !== 'AcceptReceipt' &&
      command.type !== 'PartiallyAccept' &&
      command.type !== 'CorrectReceipt'
    )
      return undefined;
    const accepted = Quantity.parse(command.data.acceptedKg, 'acceptedKg');
    if (!accepted.ok) return undefined; // the decider refuses it, naming the field
    const receivedOn =
      command.type === 'CorrectReceipt' && receiptDate !== null
        ? receiptDate
        : LocalDate.ofInstant(command.metadata.now).toString();
    const facility = await this.load(facilityStream(opened.receiver.facilityId), facilityDecider);
    const category = WasteCode.parseOrThrow(opened.waste.wasteCode).category.code;
    const licensed = licensedCapacityKg(facility, category);
    return receiptConsumption({
      facilityId: opened.receiver.facilityId,
      wasteCode: opened.waste.wasteCode,
      receivedOn,
      transferId: opened.authorization.id,
      receiptId: opened.manifestNumber,
      acceptedKg: accepted.value.toKgString(),
      ...(licensed !== undefined ? { licensedCapacityKg: licensed } : {}),
    });
  }

  /** A new leg's driver gets a subject id the service derives (stable for a retry of the same command). */
  private withDriverSubject(command: ManifestCommand, options: ManifestCommandOptions): ManifestCommand {
    if (!options.driver) return command;
    const subjectId = driverSubjectId(command.data.manifestNumber, command.metadata.commandId);
    if (command.type === 'ConfirmPickup')
      return { ...command, data: { ...command.data, driverSubjectId: subjectId } };
    if (command.type === 'HandOver')
      return {
        ...command,
        data: { ...command.data, to: { ...command.data.to, driverSubjectId: subjectId } },
      };
    return command;
  }

  /** The adopted agreement's tolerance and transit time, unless the command names its own. */
  private async withAgreementTerms(command: ManifestCommand, state: ManifestState): Promise<ManifestCommand> {
    const needs =
      (command.type === 'ConfirmPickup' && command.data.maxTransitDays === undefined) ||
      ((command.type === 'AcceptReceipt' ||
        command.type === 'PartiallyAccept' ||
        command.type === 'CorrectReceipt') &&
        command.data.tolerance === undefined);
    if (!needs || state.status === 'none') return command;
    const terms = await this.termsFor(state, LocalDate.ofInstant(command.metadata.now));
    if (!terms) return command; // no adopted agreement: the decider's defaults (5%, 100 kg; 3 days)
    if (command.type === 'ConfirmPickup')
      return { ...command, data: { ...command.data, maxTransitDays: terms.maxTransitDays } };
    if (
      command.type === 'AcceptReceipt' ||
      command.type === 'PartiallyAccept' ||
      command.type === 'CorrectReceipt'
    )
      return {
        ...command,
        data: {
          ...command.data,
          tolerance: { percentBasisPoints: terms.tolerance.percentBasisPoints, kg: terms.tolerance.kg },
        },
      } as ManifestCommand;
    return command;
  }

  private async termsFor(record: ManifestRecord, onDate: LocalDate): Promise<Terms | null> {
    if (!this.terms) return null;
    const province = (code: string) => JurisdictionCode.parseOrThrow(code).provinceCode.value;
    return this.terms.between(
      province(record.opened.fromJurisdiction),
      province(record.opened.toJurisdiction),
      onDate.toString(),
    );
  }

  /** The caller's part on the stored manifest: its carrier now, or its receiver. */
  private authorizeOn(identity: Identity, command: ManifestCommand, state: ManifestState): void {
    if (state.status === 'none') return; // the decider answers "no such manifest"
    switch (command.type) {
      case 'ConfirmPickup':
      case 'HandOver':
      case 'Deliver':
        authorize(identity, carryManifests, {
          agencies: agenciesOf(this.directory, [state.currentCarrierCreditCode]),
        });
        return;
      case 'AcceptReceipt':
      case 'PartiallyAccept':
      case 'RejectReceipt':
      case 'CorrectReceipt':
      case 'ConfirmDisposal':
        authorize(identity, receiveManifests, {
          agencies: agenciesOf(this.directory, [state.opened.receiver.creditCode]),
        });
        return;
      case 'OpenManifest':
      case 'BackfillPaperManifest':
        authorize(identity, openManifests, {
          agencies: agenciesOf(this.directory, [state.opened.generator.creditCode]),
        });
        return;
      case 'ReviewManifestDiscrepancies':
        // The receiving province's bureau, whether or not anything is open (the decider says so).
        authorize(identity, reviewManifestDiscrepancies, { reportTo: reportToOf(state) });
        return;
      case 'TransitTimerFired':
      case 'ReceiptTimerFired':
      case 'RecomputeProvisionalReceiptDeadline':
        throw new AccessDenied(
          'manifest.timer',
          'agencyKind',
          '联单时限由系统计时器判定',
          "a manifest's deadlines are the system timers' to judge",
        );
      default:
        // A new command without its rule is refused, never let through.
        return assertNever(command);
    }
  }

  private requireActor(identity: Identity | undefined, metadata: CommandMetadata, type: string): void {
    if (!identity && metadata.actor.kind !== 'system')
      throw new Error(`${type} without an identity must carry a system actor / 无身份的命令须由系统规则发出`);
  }

  /** The manifest folded from its stream, and the day of its receipt (a correction consumes in its year). */
  private async loadManifest(
    manifestNumber: string,
  ): Promise<{ state: ManifestState; receiptDate: string | null }> {
    const events = await readWholeStream(this.aggregates.store, manifestStream(manifestNumber));
    let state = this.decider.initialState();
    let receiptDate: string | null = null;
    for (const e of events) {
      state = this.decider.evolve(state, { type: e.type, data: e.data } as ManifestEvent);
      if (e.type === 'ManifestReceived') receiptDate = (e.data as { receiptDate: string }).receiptDate;
    }
    return { state, receiptDate };
  }

  private async load<E extends DomainEvent, S>(streamId: string, model: StreamModel<E, S>): Promise<S> {
    let state = model.initialState();
    for (const e of await readWholeStream(this.aggregates.store, streamId))
      state = model.evolve(state, { type: e.type, data: e.data, metadata: e.metadata } as unknown as E);
    return state;
  }
}

function legOf(command: ManifestCommand): CarrierLeg | undefined {
  if (command.type === 'ConfirmPickup') return command.data;
  if (command.type === 'HandOver') return command.data.to;
  return undefined;
}
