/**
 * What waits on whom, derived from a record's folded state through the deciders' `nextActions`: pure,
 * so the projection only stores what these functions say. An item is work that waits on an agency;
 * options nobody waits for (a generator may withdraw its pending application) are not items.
 */
import type { BilingualText } from '@lianfang/domain-kernel';
import { workItemId, type WorkItemInput } from '@lianfang/graph';
import type { AgreementState } from '../agreement/decider';
import { nextActions as manifestNextActions, type ManifestState } from '../manifest/decider';
import {
  nextActions as transferNextActions,
  type OverdueStep,
  type TransferCommandType,
  type TransferState,
} from '../transfer/decider';

export const RECORD_TYPES = {
  transfer: 'Transfer',
  manifest: 'Manifest',
  agreement: 'Agreement',
  facility: 'Facility',
} as const;

interface Action {
  readonly code: string;
  readonly label: BilingualText;
}

const TRANSFER_ACTIONS = {
  checkCompleteness: {
    code: 'transfer.check-completeness',
    label: {
      zh: '受理审查：受理或退回补正（逾期未答复视为受理）',
      en: 'check completeness: accept or return as incomplete (silence accepts)',
    },
  },
  review: {
    code: 'transfer.review',
    label: {
      zh: '审查：向接受地发出商请函或不予批准',
      en: 'review: send the consultation letter or refuse',
    },
  },
  reply: {
    code: 'transfer.reply',
    label: { zh: '复函：同意或不同意转移', en: 'reply to the consultation letter: consent or refuse' },
  },
  decide: {
    code: 'transfer.decide',
    label: { zh: '作出审批决定：批准或不予批准', en: 'decide: approve or refuse' },
  },
} satisfies Record<string, Action>;

const STEP_NAMES: Readonly<Record<OverdueStep, BilingualText>> = {
  review: { zh: '审查并发函', en: 'review and letter' },
  reply: { zh: '复函', en: 'reply' },
  decision: { zh: '审批决定', en: 'decision' },
};

/** Art 23–25 steps as worklist actions; RefuseApplication answers the review or the decision. */
function transferAction(command: TransferCommandType, state: TransferState): Action | undefined {
  switch (command) {
    case 'ReturnIncomplete':
    case 'AcceptApplication':
      return TRANSFER_ACTIONS.checkCompleteness;
    case 'SendConsultationLetter':
      return TRANSFER_ACTIONS.review;
    case 'ReplyToLetter':
      return TRANSFER_ACTIONS.reply;
    case 'ApproveTransfer':
      return TRANSFER_ACTIONS.decide;
    case 'RefuseApplication':
      return state.dueDates.review ? TRANSFER_ACTIONS.review : TRANSFER_ACTIONS.decide;
    default:
      // Withdrawal is the generator's option, not work waiting on it; submissions precede the record.
      return undefined;
  }
}

/** Several commands answer one step (accept or return): one item per step and party. */
function distinct(items: WorkItemInput[]): WorkItemInput[] {
  const seen = new Map<string, WorkItemInput>();
  for (const item of items) if (!seen.has(workItemId(item))) seen.set(workItemId(item), item);
  return [...seen.values()];
}

/**
 * The open steps of a transfer on the bureau that must act, and a missed step on the regional
 * secretariat as well (domain.md, Consultation 7: a miss is escalated, never consent).
 */
export function transferItems(state: TransferState, since: string): WorkItemInput[] {
  const transferId = state.transferId;
  if (!transferId) return [];
  const record = { recordType: RECORD_TYPES.transfer, recordId: transferId, since };
  const items: WorkItemInput[] = [];
  for (const next of transferNextActions(state)) {
    const action = transferAction(next.command, state);
    if (!action) continue;
    const byBureau = next.party !== 'generator';
    const jurisdiction = byBureau ? next.jurisdiction : state.application?.exportingJurisdiction;
    if (!jurisdiction || (!byBureau && !next.agencyId)) continue;
    items.push({
      ...record,
      action: action.code,
      label: action.label,
      party: next.party,
      jurisdiction,
      responsible: byBureau ? { agencyKind: 'provincial-bureau' } : { agencyId: next.agencyId ?? '' },
      dueAt: next.dueAt ?? null,
      overdue: next.overdue,
      // Silence at the completeness check accepts the application (Art 23): nobody is late there.
      overdueAtDue: action !== TRANSFER_ACTIONS.checkCompleteness,
    });
  }
  for (const step of state.overdue) {
    const due = state.dueDates[step];
    // The late bureau acted (the step closed): the escalation is over too.
    if (!due) continue;
    const name = STEP_NAMES[step];
    items.push({
      ...record,
      action: 'transfer.follow-up-missed-deadline',
      label: {
        zh: `督办：${due.responsibleJurisdiction} 生态环境主管部门逾期未完成“${name.zh}”`,
        en: `follow up: the ${due.responsibleJurisdiction} bureau missed the ${name.en} deadline`,
      },
      party: 'secretariat',
      jurisdiction: due.responsibleJurisdiction,
      responsible: { agencyKind: 'regional-secretariat' },
      dueAt: due.dueAt,
      overdue: true,
      overdueAtDue: true,
    });
  }
  return distinct(items);
}

const MANIFEST_ACTIONS: Readonly<Record<string, Action>> = {
  ConfirmPickup: {
    code: 'manifest.pickup',
    label: { zh: '确认接收运输', en: 'confirm the pickup' },
  },
  Deliver: {
    code: 'manifest.deliver',
    label: { zh: '送达或交接（最长运输时间内）', en: 'deliver, or hand over, within the transit time' },
  },
  HandOver: {
    code: 'manifest.deliver',
    label: { zh: '送达或交接（最长运输时间内）', en: 'deliver, or hand over, within the transit time' },
  },
  AcceptReceipt: {
    code: 'manifest.confirm-receipt',
    label: {
      zh: '确认接收：接收、部分接收或拒收（5个工作日内）',
      en: 'confirm the receipt: accept, partially accept or reject (5 working days)',
    },
  },
  ConfirmDisposal: {
    code: 'manifest.confirm-disposal',
    label: { zh: '确认利用处置', en: 'confirm the disposal' },
  },
};
const MANIFEST_ALIASES: Readonly<Record<string, string>> = {
  PartiallyAccept: 'AcceptReceipt',
  RejectReceipt: 'AcceptReceipt',
};

/** What a manifest waits for, on the carrier or the receiver by their credit codes. */
export function manifestItems(state: ManifestState, since: string): WorkItemInput[] {
  if (state.status === 'none') return [];
  const { opened } = state;
  const items: WorkItemInput[] = [];
  for (const next of manifestNextActions(state)) {
    const action = MANIFEST_ACTIONS[MANIFEST_ALIASES[next.action] ?? next.action];
    if (!action) continue;
    items.push({
      recordType: RECORD_TYPES.manifest,
      recordId: opened.manifestNumber,
      action: action.code,
      label: action.label,
      party: next.party,
      // A carrier is told where its trip starts; the receiver is where the facility is.
      jurisdiction: next.party === 'receiver' ? opened.receiver.jurisdiction : opened.fromJurisdiction,
      responsible: { creditCode: next.creditCode },
      dueAt: next.dueAt,
      overdue: next.overdue,
      overdueAtDue: next.dueAt !== null,
      since,
    });
  }
  return distinct(items);
}

export interface AgreementNextAction {
  readonly command: 'SignAgreement' | 'SignAmendment';
  /** The member province whose bureau signs or rejects. */
  readonly member: string;
  readonly amendmentId: string | null;
}

/**
 * The agreement decider has no `nextActions`: a proposal (or a pending amendment) waits on every
 * member that has not signed (it may also reject); an adopted, rejected or expired one waits on nobody.
 */
export function agreementNextActions(state: AgreementState): AgreementNextAction[] {
  if (state.status === 'proposed')
    return state.members
      .filter((m) => !state.signedBy.includes(m))
      .map((member) => ({ command: 'SignAgreement', member, amendmentId: null }));
  if (state.status === 'adopted' && state.pendingAmendment !== null) {
    const { amendmentId, signedBy } = state.pendingAmendment;
    return state.members
      .filter((m) => !signedBy.includes(m))
      .map((member) => ({ command: 'SignAmendment', member, amendmentId }));
  }
  return [];
}

export function agreementItems(state: AgreementState, since: string): WorkItemInput[] {
  if (state.status === 'none') return [];
  return agreementNextActions(state).map((next) => ({
    recordType: RECORD_TYPES.agreement,
    recordId: state.agreementId,
    ...(next.command === 'SignAgreement'
      ? {
          action: 'agreement.sign',
          label: { zh: '签署或拒绝区域协议', en: 'sign or reject the regional agreement' },
        }
      : {
          action: 'agreement.sign-amendment',
          label: {
            zh: `签署或拒绝协议修订 ${next.amendmentId}`,
            en: `sign or reject amendment ${next.amendmentId}`,
          },
        }),
    party: 'member-bureau',
    jurisdiction: next.member,
    responsible: { agencyKind: 'provincial-bureau' },
    dueAt: null,
    overdue: false,
    overdueAtDue: false,
    since,
  }));
}

/** An approved transfer as the worklist keeps it, to find the approvals to a facility. */
export interface ApprovedTransfer {
  readonly transferId: string;
  readonly facilityId: string;
  readonly generatorAgencyId: string;
  readonly exportingJurisdiction: string;
  readonly receivingJurisdiction: string;
  readonly validUntil: string;
}

/**
 * A suspended facility takes no new manifests: each approval to it still open goes on both provincial
 * bureaus' worklists (issue 6, Facilities), and on its generator's, which cannot ship under it now.
 */
export function suspensionItems(approvals: readonly ApprovedTransfer[], since: string): WorkItemInput[] {
  return approvals.flatMap((a) => {
    const record = {
      recordType: RECORD_TYPES.transfer,
      recordId: a.transferId,
      dueAt: null,
      overdue: false,
      overdueAtDue: false,
      since,
    };
    const bureauLabel = {
      zh: `接受单位 ${a.facilityId} 已暂停经营：核查该已批准的转移`,
      en: `the receiving facility ${a.facilityId} is suspended: review this approved transfer`,
    };
    const bureaus: WorkItemInput[] = [
      {
        ...record,
        action: 'transfer.receiver-suspended',
        label: bureauLabel,
        party: 'exporting-bureau',
        jurisdiction: a.exportingJurisdiction,
        responsible: { agencyKind: 'provincial-bureau' },
      },
      {
        ...record,
        action: 'transfer.receiver-suspended',
        label: bureauLabel,
        party: 'receiving-bureau',
        jurisdiction: a.receivingJurisdiction,
        responsible: { agencyKind: 'provincial-bureau' },
      },
    ];
    return [
      // Within one province the one bureau is both: one item.
      ...(a.exportingJurisdiction === a.receivingJurisdiction ? bureaus.slice(0, 1) : bureaus),
      {
        ...record,
        action: 'transfer.receiver-suspended',
        label: {
          zh: `接受单位 ${a.facilityId} 已暂停经营：暂不得开具新联单，可待恢复或另行申请`,
          en: `the receiving facility ${a.facilityId} is suspended: no new manifests until reinstated, or apply for another receiver`,
        },
        party: 'generator',
        jurisdiction: a.exportingJurisdiction,
        responsible: { agencyId: a.generatorAgencyId },
      },
    ];
  });
}
