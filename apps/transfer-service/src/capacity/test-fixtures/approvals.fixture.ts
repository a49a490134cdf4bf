/**
 * Shared by approvals.spec.ts, releases.spec.ts and the race's child process: a registered facility and
 * transfers brought to 'awaiting-decision' by handling the real transfer commands, then approved
 * through `CapacityApprovals` on a real PostgreSQL store.
 */
import { CreditCode, WorkingDayCalendar } from '@lianfang/domain-kernel';
import {
  Aggregates,
  systemActor,
  type Actor,
  type CommandMetadata,
  type CommandObserver,
  type EventStore,
  type OutboxMessage,
} from '@lianfang/eventsourcing';
import { facilityDecider, facilityStream, type LicensedCategoryInput } from '../../facility/decider';
import {
  transferDecider,
  transferStream,
  type TransferCommand,
  type WasteLine,
} from '../../transfer/decider';
import type { ApprovalRequest, ApproveTransferCommand } from '../ports';

/** Monday 2 March 2026, 10:00 in Chengdu. */
export const NOW = new Date('2026-03-02T02:00:00.000Z');

export const decider = transferDecider({ calendar: WorkingDayCalendar.default() });

const sichuanBureau: Actor = { kind: 'user', userId: 'li.na', agencyId: 'sc-eeb', jurisdiction: '510000' };
const chongqingBureau: Actor = {
  kind: 'user',
  userId: 'wang.fang',
  agencyId: 'cq-eeb',
  jurisdiction: '500000',
};
const generatorActor: Actor = {
  kind: 'user',
  userId: 'chen.jie',
  agencyId: 'cd-jincheng-auto',
  jurisdiction: '510100',
};
const generatorCredit = CreditCode.withCheckCharacter('91510100MA6C12345').value;
const operatorCredit = CreditCode.withCheckCharacter('91500000MA5U12345').value;

export const meta = (commandId: string, actor: Actor, now = NOW): CommandMetadata => ({
  commandId,
  now,
  actor,
  correlationId: `corr-${commandId}`,
});

/** An aggregates facade on a store of its own (what the service's EventSourcingModule provides). */
export const aggregatesOn = (store: EventStore, observer?: CommandObserver) =>
  new Aggregates(store, undefined, undefined, observer);

export async function registerFacility(
  aggregates: Aggregates,
  facilityId: string,
  options: { licensed?: LicensedCategoryInput[]; validTo?: string } = {},
): Promise<void> {
  await aggregates.handle({
    decider: facilityDecider,
    streamId: facilityStream(facilityId),
    command: {
      type: 'RegisterFacility',
      data: {
        facilityId,
        profile: {
          name: { zh: '重庆某危废处置中心', en: 'Chongqing Disposal Centre' },
          licenceNumber: `渝危废经第${facilityId}号`,
          operatorCreditCode: operatorCredit,
          jurisdiction: '500112',
          coordinates: { lat: '29.718', lon: '106.63' },
          licensed: options.licensed ?? [{ category: 'HW08', annualCapacityTonnes: '10' }],
          validFrom: '2024-01-01',
          validTo: options.validTo ?? '2099-12-31',
        },
      },
      metadata: meta(`register-${facilityId}`, systemActor('capacity-test')),
    },
  });
}

export async function suspendFacility(aggregates: Aggregates, facilityId: string): Promise<void> {
  await aggregates.handle({
    decider: facilityDecider,
    streamId: facilityStream(facilityId),
    command: {
      type: 'SuspendFacility',
      data: { facilityId, reason: '环评整改 / rectification' },
      metadata: meta(`suspend-${facilityId}`, systemActor('capacity-test')),
    },
  });
}

const ATTACHMENTS = (['licence', 'method', 'contract'] as const).map((kind, i) => ({
  sha256: String(i + 1).repeat(64),
  size: 1024,
  mediaType: 'application/pdf',
  kind,
}));

/** Submitted, accepted, consulted and consented to: what the exporting bureau may now approve. */
export async function transferAwaitingDecision(
  aggregates: Aggregates,
  transferId: string,
  options: {
    facilityId: string;
    lines: WasteLine[];
    window?: { from: string; to: string };
    licenceValidUntil?: string;
  },
): Promise<void> {
  const steps: Array<Omit<TransferCommand, 'metadata'> & { actor: Actor }> = [
    {
      type: 'SubmitApplication',
      actor: generatorActor,
      data: {
        transferId,
        generator: { agencyId: 'cd-jincheng-auto', creditCode: generatorCredit },
        exportingJurisdiction: '510000',
        receivingJurisdiction: '500000',
        receiver: {
          facilityId: options.facilityId,
          licenceValidUntil: options.licenceValidUntil ?? '2099-12-31',
        },
        lines: options.lines,
        method: 'D10 焚烧 / incineration',
        window: options.window ?? { from: '2026-04-01', to: '2026-12-31' },
        attachments: ATTACHMENTS,
        path: 'letter',
      },
    },
    { type: 'AcceptApplication', actor: sichuanBureau, data: { transferId } },
    {
      type: 'SendConsultationLetter',
      actor: sichuanBureau,
      data: { transferId, letterId: `letter-${transferId}` },
    },
    { type: 'ReplyToLetter', actor: chongqingBureau, data: { transferId, decision: 'consent' } },
  ];
  for (const { actor, ...step } of steps)
    await aggregates.handle({
      decider,
      streamId: transferStream(transferId),
      command: { ...step, metadata: meta(`${step.type}-${transferId}`, actor) } as TransferCommand,
    });
}

export const approveCommand = (
  transferId: string,
  commandId = `approve-${transferId}`,
  lines?: WasteLine[],
): ApproveTransferCommand => ({
  type: 'ApproveTransfer',
  data: { transferId, ...(lines ? { lines } : {}) },
  metadata: meta(commandId, sichuanBureau),
});

/** The integration event a real transfer outbox would publish, here a plain marker to find in the outbox. */
export const markerOutbox: ApprovalRequest['transferOutbox'] = (events) =>
  events
    .filter((e) => e.type === 'TransferApproved')
    .map((e): OutboxMessage => ({
      topic: 'lianfang.capacity-test.v1',
      key: e.metadata.streamId,
      type: 'TransferApproved',
      schemaVersion: 1,
      payload: { transferId: (e.data as { transferId: string }).transferId },
    }));

export const approvalRequest = (
  command: ApproveTransferCommand,
  plannedByYear?: Record<string, string>,
): ApprovalRequest => ({
  command,
  transferDecider: decider,
  transferOutbox: markerOutbox,
  ...(plannedByYear ? { plannedByYear } : {}),
});
