import { Inject, Injectable, Optional } from '@nestjs/common';
import { type AgencyDirectory, type Identity } from '@lianfang/auth';
import type { WorkingDayCalendar } from '@lianfang/domain-kernel';
import {
  Aggregates,
  fold,
  NO_STREAM_VERSION,
  type Actor,
  type Decider,
  type HandleCommandResult,
  type OutboxMessage,
  type PendingEvent,
} from '@lianfang/eventsourcing';
import { readWholeStream } from '@lianfang/graph';
import { integrationEvent } from '@lianfang/messaging';
import { AGENCY_DIRECTORY, PLATFORM, SERVICE_CONFIG, type Platform } from '@lianfang/runtime';
import { TRANSFER_APPROVALS, type TransferApprovals } from '../capacity/ports';
import { PUBLISHED } from '../common/published';
import { WORKING_DAY_CALENDAR } from '../common/time';
import type { TransferServiceConfig } from '../config';
import {
  transferDecider,
  transferStream,
  type Notification,
  type TransferCommand,
  type TransferDecider,
  type TransferEvent,
  type TransferState,
} from './decider';
import { authorizeCommand, recordOf } from './transfer.rules';

type TransferModel = Decider<TransferCommand, TransferEvent, TransferState>;

export interface TransferCommandOptions {
  /** ApproveTransfer: kg per calendar year of the validity (default: all in the first year). */
  readonly plannedByYear?: Readonly<Record<string, string>>;
}

/** A directory lookup the published language cannot do without. */
function requireAgency(
  directory: AgencyDirectory,
  kind: 'provincial-bureau' | 'transport-department',
  at: string,
) {
  const agency = directory.agenciesResponsibleFor(kind, at)[0];
  if (!agency)
    throw new Error(
      `the agency directory has no ${kind} for ${at} / 机构名录中没有 ${at} 的${kind === 'provincial-bureau' ? '省级生态环境主管部门' : '交通运输主管部门'}`,
    );
  return agency;
}

/**
 * The transfer application's write side: load, decide (authorized as the caller on the stored record),
 * append with the integration events of the published language in the same transaction. Approvals go
 * through the capacity mechanism, which appends the approval and the reservation as one fact.
 */
@Injectable()
export class TransferCommands {
  readonly decider: TransferDecider;

  constructor(
    @Inject(Aggregates) private readonly aggregates: Aggregates,
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(AGENCY_DIRECTORY) private readonly directory: AgencyDirectory,
    @Inject(WORKING_DAY_CALENDAR) calendar: WorkingDayCalendar,
    @Inject(SERVICE_CONFIG) config: Pick<TransferServiceConfig, 'INTRA_PROVINCE_LETTER'>,
    @Optional() @Inject(TRANSFER_APPROVALS) private readonly approvals?: TransferApprovals,
  ) {
    // A province may require the letter within its borders too (INTRA_PROVINCE_LETTER).
    this.decider = transferDecider({ calendar, intraProvinceSkipsLetter: !config.INTRA_PROVINCE_LETTER });
  }

  /**
   * With `identity`: a person's command, authorized on the stored record inside the load–decide loop.
   * Without: a timer's or a policy's, whose metadata must name a system actor.
   */
  async handle(
    command: TransferCommand,
    identity?: Identity,
    options: TransferCommandOptions = {},
  ): Promise<HandleCommandResult<TransferState>> {
    if (!identity && command.metadata.actor.kind !== 'system')
      throw new Error(
        `${command.type} without an identity must carry a system actor / 无身份的命令须由系统规则发出`,
      );
    const decider = identity ? this.scoped(identity) : this.decider;
    const streamId = transferStream(command.data.transferId);
    const outbox = (events: readonly PendingEvent<TransferEvent>[], state: TransferState) =>
      this.outbox(events, state, command);

    if (command.type === 'ApproveTransfer') {
      if (!this.approvals)
        throw new Error(
          'approving needs the capacity mechanism (TRANSFER_APPROVALS from CapacityModule) / 批准须经产能核减',
        );
      const outcome = await this.approvals.approve({
        command,
        transferDecider: decider,
        transferOutbox: outbox,
        ...(options.plannedByYear ? { plannedByYear: options.plannedByYear } : {}),
      });
      // The capacity append does not hand back the transfer's stored events: read them by commandId.
      const events = (await readWholeStream(this.platform.store, streamId)).filter(
        (e) => e.metadata.commandId === command.metadata.commandId,
      );
      return {
        streamId,
        events,
        version: outcome.transferVersion,
        lastLogPosition: outcome.lastLogPosition,
        replayed: outcome.replayed,
        state: outcome.transferState,
        retries: 0,
      };
    }
    return this.aggregates.handle({ decider, streamId, command, outbox });
  }

  /** The transfer folded from its stream; version -1 when it does not exist. */
  async state(transferId: string): Promise<{ state: TransferState; version: bigint }> {
    const events = await readWholeStream(this.platform.store, transferStream(transferId));
    const state = fold(
      this.decider,
      events.map((e) => ({ type: e.type, data: e.data, metadata: e.metadata }) as TransferEvent),
    );
    const last = events[events.length - 1];
    return { state, version: last ? last.streamPosition : NO_STREAM_VERSION };
  }

  /**
   * The decider with the caller's authorization checked on the record itself: the stored application
   * for a step on it, the validated one for a submission (its generator must be the caller's agency).
   */
  scoped(identity: Identity): TransferModel {
    const { decider, directory } = this;
    return {
      initialState: decider.initialState,
      evolve: decider.evolve,
      decide(command, state) {
        const stored = recordOf(state);
        if (stored) authorizeCommand(identity, command.type, stored, directory);
        const events = decider.decide(command, state);
        if (!stored)
          for (const e of events) {
            const fresh =
              e.type === 'TransferSubmitted'
                ? recordOf({ ...state, application: e.data.application })
                : e.type === 'TransferFiled'
                  ? recordOf({ ...state, filing: e.data.filing })
                  : undefined;
            if (fresh) authorizeCommand(identity, command.type, fresh, directory);
          }
        return events;
      },
    };
  }

  /** TransferApproved and TransferDeadlineMissed in the published language (libs/contracts). */
  private outbox(
    events: readonly PendingEvent<TransferEvent>[],
    _state: TransferState,
    command: TransferCommand,
  ): OutboxMessage[] {
    const actor: Actor = command.metadata.actor;
    const publish = (from: PendingEvent<TransferEvent>, type: string, data: Record<string, unknown>) =>
      integrationEvent({
        topic: this.platform.topic,
        source: 'transfer',
        type,
        from,
        actor,
        correlationId: command.metadata.correlationId,
        causationId: command.metadata.causationId ?? null,
        contracts: PUBLISHED,
        data,
      });
    const out: OutboxMessage[] = [];
    for (const event of events) {
      if (event.type === 'TransferApproved') {
        const d = event.data;
        out.push(
          publish(event, 'TransferApproved', {
            transferId: d.transferId,
            generatorCreditCode: d.generator.creditCode,
            exportingJurisdiction: d.exportingJurisdiction,
            receivingJurisdiction: d.receivingJurisdiction,
            receiverFacilityId: d.receiver.facilityId,
            wasteLines: d.approval.lines.map((l) => ({
              wasteCode: l.wasteCode,
              quantityKg: l.quantityKg,
              method: d.method,
            })),
            validFrom: d.approval.validFrom,
            validTo: d.approval.validUntil,
            path: d.route,
            ...(d.route === 'whitelist' && d.whitelist
              ? {
                  whitelistEntryId: d.whitelist.entryId,
                  ...(d.whitelist.agreementId ? { agreementId: d.whitelist.agreementId } : {}),
                }
              : {}),
            notifiedAgencies: d.notified.map((n) => this.notifiedAgency(n)),
          }),
        );
      } else if (event.type === 'TransferDeadlineMissed') {
        const d = event.data;
        out.push(
          publish(event, 'DeadlineMissed', {
            recordType: 'transfer',
            recordId: d.transferId,
            step: d.step,
            responsibleJurisdiction: d.responsibleJurisdiction,
            responsibleAgencyId: requireAgency(this.directory, 'provincial-bureau', d.responsibleJurisdiction)
              .id,
            dueDate: d.lastDay,
          }),
        );
      }
    }
    return out;
  }

  /** Art 26: the department told, as the directory names it. */
  private notifiedAgency(n: Notification) {
    const kind = n.department === 'environment' ? 'provincial-bureau' : 'transport-department';
    const agency = requireAgency(this.directory, kind, n.jurisdiction);
    return { agencyId: agency.id, jurisdiction: n.jurisdiction, department: n.department };
  }
}
