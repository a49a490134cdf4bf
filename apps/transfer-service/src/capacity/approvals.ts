/**
 * An approval and the receiving facility's capacity reservation as ONE fact (资源优化共享): the transfer's
 * TransferApproved and, in each ledger (facility × HW category × calendar year) the approval covers,
 * its CapacityReserved, in one atomic append with the expected version of every stream. Two bureaus
 * approving against the same ledger at once: the store lets one append through, the other's version
 * check fails, it loads again, decides again and is refused when the ledger is full. No lock in the
 * process; the database's optimistic concurrency is the only arbiter (several processes may approve).
 *
 * Which ledgers an approval touches depends on the transfer's state (the validity the transfer decider
 * computes), so the ledgers are planned from a first load and the decision checks the plan: a state
 * that moved in between to other ledgers is planned again.
 */
import { LocalDate, Quantity, WasteCode } from '@lianfang/domain-kernel';
import {
  DomainError,
  type Aggregates,
  type CommandMetadata,
  type DomainEvent,
  type PendingEvent,
  type RecordedEvent,
  type StreamBinding,
} from '@lianfang/eventsourcing';
import {
  facilityDecider,
  facilityStream,
  isLicensedFor,
  licensedCapacityKg,
  type FacilityState,
} from '../facility/decider';
import { required } from '../facility/validation';
import { transferStream, type Approval, type TransferEvent, type TransferState } from '../transfer/decider';
import {
  capacityDecider,
  capacityStream,
  type CapacityCommand,
  type CapacityEvent,
  type CapacityLedgerState,
} from './decider';
import { decideInLedger, ledgerOfStream } from './ledger';
import { planReservations, yearsCovered } from './plan';
import type { ApprovalOutcome, ApprovalRequest, ApproveTransferCommand, TransferApprovals } from './ports';

type Approved = Extract<TransferEvent, { type: 'TransferApproved' }>;

/** One ledger an approval touches: what it reserves there ('0.000': it only opens the ledger). */
export interface LedgerPlan {
  readonly facilityId: string;
  readonly category: string;
  readonly year: number;
  readonly streamId: string;
  readonly quantityKg: string;
}

/**
 * The ledgers of an approval: every HW category of its waste codes × every calendar year of its
 * validity. The per-year quantities (`plannedByYear`, default all in the first year) are filled
 * category by category in code order, so each ledger gets an exact share and the shares add up to
 * the approved total. Years planned at zero still open their ledger, so a receipt there (the waste
 * planned for the first year arrives in the second) finds it open.
 */
export function planLedgers(input: {
  readonly facilityId: string;
  readonly approval: Pick<Approval, 'validFrom' | 'validUntil' | 'lines' | 'totalKg'>;
  readonly plannedByYear?: Readonly<Record<string, string>>;
}): LedgerPlan[] {
  const { approval, facilityId } = input;
  const years = yearsCovered(approval.validFrom, approval.validUntil);
  const budget = new Map<number, Quantity>(
    planReservations({
      years,
      total: approval.totalKg,
      ...(input.plannedByYear ? { plannedByYear: input.plannedByYear } : {}),
    }).map((r) => [r.year, Quantity.ofKg(r.quantityKg)]),
  );
  const byCategory = new Map<string, Quantity>();
  approval.lines.forEach((line, i) => {
    const category = required('capacity', WasteCode.parse(line.wasteCode, `lines[${i}].wasteCode`)).category
      .code;
    byCategory.set(category, (byCategory.get(category) ?? Quantity.ZERO).add(Quantity.ofKg(line.quantityKg)));
  });
  const plans: LedgerPlan[] = [];
  for (const category of [...byCategory.keys()].sort()) {
    let left = byCategory.get(category) ?? Quantity.ZERO;
    for (const year of years) {
      const free = budget.get(year) ?? Quantity.ZERO;
      const take = left.min(free);
      budget.set(year, Quantity.fromGrams(free.grams - take.grams));
      left = Quantity.fromGrams(left.grams - take.grams);
      plans.push({
        facilityId,
        category,
        year,
        streamId: capacityStream(facilityId, category, year),
        quantityKg: take.toKgString(),
      });
    }
  }
  return plans;
}

const samePlan = (a: readonly LedgerPlan[], b: readonly LedgerPlan[]) =>
  a.length === b.length &&
  a.every((p, i) => p.streamId === b[i].streamId && p.quantityKg === b[i].quantityKg);

/** The state moved between planning and deciding: plan again (not a refusal, never shown to a user). */
export class ApprovalPlanMoved extends Error {
  override readonly name = 'ApprovalPlanMoved';
}

const refuse = (code: string, field: string, en: string, zh: string, details: object) =>
  new DomainError({ code: `capacity.${code}`, field, message: { en, zh }, details: { ...details } });

/** The receiving facility must be registered, active and licensed for every code, for the whole validity. */
function requireReceiving(
  facility: FacilityState,
  facilityId: string,
  approval: Approval,
): Exclude<FacilityState, { status: 'unregistered' }> {
  if (facility.status === 'unregistered')
    throw refuse(
      'facility-not-registered',
      'receiver.facilityId',
      `the receiving facility ${facilityId} is not registered`,
      `接受设施 ${facilityId} 未登记`,
      { facilityId },
    );
  if (facility.status === 'suspended' || facility.status === 'revoked')
    throw refuse(
      `facility-${facility.status}`,
      'receiver.facilityId',
      `the receiving facility ${facilityId} is ${facility.status}: it cannot take new approvals`,
      `接受设施 ${facilityId} 已${facility.status === 'suspended' ? '暂停经营' : '被吊销许可证'}，不能批准新的转移`,
      { facilityId, status: facility.status, reason: facility.reason ?? null },
    );
  const { validFrom, validTo } = facility.profile;
  // Art 27: an approval never runs beyond the receiver's licence (the register, not the form, decides).
  if (
    LocalDate.parseOrThrow(validTo).isBefore(LocalDate.parseOrThrow(approval.validUntil)) ||
    LocalDate.parseOrThrow(validFrom).isAfter(LocalDate.parseOrThrow(approval.validFrom))
  )
    throw refuse(
      'facility-licence-not-in-force',
      'receiver.licenceValidUntil',
      `the receiving facility's licence (${validFrom} to ${validTo}) does not cover the approval's validity (${approval.validFrom} to ${approval.validUntil})`,
      `接受设施许可证有效期（${validFrom} 至 ${validTo}）未覆盖批准有效期（${approval.validFrom} 至 ${approval.validUntil}）`,
      { facilityId, licenceValidFrom: validFrom, licenceValidTo: validTo, ...approvalWindow(approval) },
    );
  approval.lines.forEach((line, i) => {
    if (!isLicensedFor(facility.profile, line.wasteCode))
      throw refuse(
        'facility-not-licensed',
        `lines[${i}].wasteCode`,
        `the receiving facility ${facilityId} is not licensed for ${line.wasteCode}`,
        `接受设施 ${facilityId} 未获 ${line.wasteCode} 的经营许可`,
        { facilityId, wasteCode: line.wasteCode },
      );
  });
  return facility;
}

const approvalWindow = (a: Approval) => ({ validFrom: a.validFrom, validUntil: a.validUntil });

/** Opens the ledger from the licence if it has no events, then reserves the planned share in it. */
function reserveIn(
  plan: LedgerPlan,
  ledger: CapacityLedgerState,
  facility: FacilityState,
  transferId: string,
  metadata: CommandMetadata,
): CapacityEvent[] {
  const commands: CapacityCommand[] = [];
  if (ledger.status !== 'open') {
    const capacityKg = licensedCapacityKg(facility, plan.category);
    if (capacityKg === undefined)
      throw refuse(
        'facility-not-licensed',
        'lines',
        `the receiving facility ${plan.facilityId} is not licensed for ${plan.category}`,
        `接受设施 ${plan.facilityId} 未获 ${plan.category} 类经营许可`,
        { facilityId: plan.facilityId, category: plan.category },
      );
    commands.push({
      type: 'OpenLedger',
      data: { facilityId: plan.facilityId, category: plan.category, year: plan.year, capacityKg },
      metadata,
    });
  }
  if (!Quantity.ofKg(plan.quantityKg).isZero())
    commands.push({
      type: 'Reserve',
      data: { reservationId: transferId, quantityKg: plan.quantityKg },
      metadata,
    });
  try {
    return decideInLedger(commands, ledger);
  } catch (error) {
    // Say which ledger is full: the category and year are in the message, the figures in the details.
    if (error instanceof DomainError && error.code === 'capacity.insufficient')
      throw new DomainError({
        code: error.code,
        field: 'lines',
        message: error.messages,
        details: {
          ...error.details,
          facilityId: plan.facilityId,
          category: plan.category,
          year: plan.year,
        },
      });
    throw error;
  }
}

type Streams = Record<string, StreamBinding<DomainEvent, unknown>>;

const ledgerName = (i: number) => `ledger${i}`;

function fromRecorded(e: RecordedEvent): TransferEvent {
  return {
    type: e.type,
    data: e.data,
    metadata: {
      ...e.metadata,
      schemaVersion: e.schemaVersion,
      eventId: e.eventId,
      streamId: e.streamId,
      streamPosition: e.streamPosition,
    },
  } as TransferEvent;
}

export interface CapacityApprovalsOptions {
  /** How many times an approval is planned again when the transfer moved under it (default 5). */
  readonly maxReplans?: number;
}

export class CapacityApprovals implements TransferApprovals {
  constructor(
    private readonly aggregates: Aggregates,
    private readonly options: CapacityApprovalsOptions = {},
  ) {}

  async approve(request: ApprovalRequest): Promise<ApprovalOutcome> {
    const maxReplans = this.options.maxReplans ?? 5;
    for (let attempt = 0; ; attempt++) {
      const plan = await this.plan(request);
      try {
        return await this.approveAsPlanned(request, plan);
      } catch (error) {
        if (error instanceof ApprovalPlanMoved && attempt < maxReplans) continue;
        throw error;
      }
    }
  }

  /**
   * Loads the transfer and runs the (scoped) transfer decider once to see the approval it would make.
   * A refusal plans nothing: the decision inside the append loop refuses again, or answers a retried
   * command with its first result.
   */
  private async plan(request: ApprovalRequest): Promise<LedgerPlan[]> {
    const { command, transferDecider } = request;
    const read = await this.aggregates.store.readStream(transferStream(command.data.transferId));
    const state = read.events.reduce(
      (s, e) => transferDecider.evolve(s, fromRecorded(e)),
      transferDecider.initialState(),
    );
    let approved: Approved | undefined;
    try {
      approved = transferDecider
        .decide(command, state)
        .find((e): e is Approved => e.type === 'TransferApproved');
    } catch {
      return [];
    }
    return approved ? this.ledgersOf(approved, request) : [];
  }

  private ledgersOf(approved: Approved, request: ApprovalRequest): LedgerPlan[] {
    return planLedgers({
      facilityId: approved.data.receiver.facilityId,
      approval: approved.data.approval,
      ...(request.plannedByYear ? { plannedByYear: request.plannedByYear } : {}),
    });
  }

  private async approveAsPlanned(
    request: ApprovalRequest,
    plan: readonly LedgerPlan[],
  ): Promise<ApprovalOutcome> {
    const { command, transferDecider } = request;
    const transferId = command.data.transferId;
    const streams: Streams = { transfer: { streamId: transferStream(transferId), decider: transferDecider } };
    const facilityId = plan[0]?.facilityId;
    if (facilityId !== undefined) {
      // Read for its status and licence; guarded, so a suspension committed meanwhile forces a retry.
      streams.facility = { streamId: facilityStream(facilityId), decider: facilityDecider };
      plan.forEach((p, i) => (streams[ledgerName(i)] = { streamId: p.streamId, decider: capacityDecider }));
    }
    const result = await this.aggregates.handleAcross<ApproveTransferCommand, Streams>({
      command,
      streams,
      decide: (cmd, states) => {
        const transferEvents = transferDecider.decide(cmd, states.transfer as TransferState);
        const approved = transferEvents.find((e): e is Approved => e.type === 'TransferApproved');
        const now = approved ? this.ledgersOf(approved, request) : [];
        if (!samePlan(now, plan) || (approved === undefined) !== (facilityId === undefined))
          throw new ApprovalPlanMoved(`transfer ${transferId} moved while its approval was planned`);
        if (approved === undefined || facilityId === undefined) return { transfer: transferEvents };
        const facility = requireReceiving(
          states.facility as FacilityState,
          facilityId,
          approved.data.approval,
        );
        const decided: Record<string, readonly DomainEvent[]> = { transfer: transferEvents };
        plan.forEach((p, i) => {
          const name = ledgerName(i);
          decided[name] = reserveIn(
            p,
            states[name] as CapacityLedgerState,
            facility,
            transferId,
            cmd.metadata,
          );
        });
        return decided;
      },
      outbox: (events, states) =>
        request.transferOutbox(
          events.transfer as readonly PendingEvent<TransferEvent>[],
          states.transfer as TransferState,
        ),
    });
    // From the stored events: the same answer for a first run and a replayed one.
    const reservations = result.events.flatMap((e) => {
      const ledger = ledgerOfStream(e.streamId);
      if (e.type !== 'CapacityReserved' || !ledger) return [];
      const { quantityKg } = e.data as { quantityKg: string };
      return [{ facilityId: ledger.facilityId, category: ledger.category, year: ledger.year, quantityKg }];
    });
    return {
      transferState: result.states.transfer as TransferState,
      transferVersion: result.streams.transfer.version,
      lastLogPosition: result.lastLogPosition,
      replayed: result.replayed,
      reservations,
    };
  }
}
