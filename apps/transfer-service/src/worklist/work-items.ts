/**
 * What waits on whom, derived from a record's folded state through the deciders' `nextActions`: pure,
 * so the projection only stores what these functions say. An item is work that waits on an agency;
 * options nobody waits for (a generator may withdraw its pending application) are not items.
 */
import { JurisdictionCode, LocalDate, Quantity, type BilingualText } from '@lianfang/domain-kernel';
import { workItemId, type WorkItemInput } from '@lianfang/graph';
import type { AgreementState } from '../agreement/decider';
import { ledgerTotals, type CapacityLedgerState } from '../capacity/decider';
import type { FacilityState } from '../facility/decider';
import {
  nextActions as manifestNextActions,
  type DifferenceKind,
  type ManifestEvent,
  type ManifestState,
  type WeightTolerance,
} from '../manifest/decider';
import { remainingKg, type ApprovalUsageState } from '../manifest/usage';
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

/** The province a county or city code lies in: provincial bureaus are named by it. */
const provinceOf = (jurisdiction: string): string | undefined => {
  const parsed = JurisdictionCode.parse(jurisdiction);
  return parsed.ok ? parsed.value.provinceCode.value : undefined;
};

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

/** What the worklist knows of an approval when it decides whether its generator may ship under it. */
export interface ApprovalStanding {
  readonly approval: ApprovedTransfer;
  /** The transfer's approved lines, per waste code, kg. */
  readonly lines: readonly { readonly wasteCode: string; readonly quantityKg: string }[];
  /** Still approved (a decided transfer stays so; anything else has nothing to ship under). */
  readonly approved: boolean;
  /** What its manifests hold of it; null before the first. */
  readonly usage: ApprovalUsageState | null;
  /** Its capacity was released (expiry, withdrawal, the facility's revocation): it is over. */
  readonly released: boolean;
  readonly facility: FacilityState | undefined;
  /** The day of the event that asks (Asia/Shanghai). */
  readonly today: string;
}

/** Nothing left to open a manifest for: every class of the approval is held by its manifests. */
export function approvalUsedUp(lines: ApprovalStanding['lines'], usage: ApprovalUsageState | null): boolean {
  if (usage === null) return lines.length === 0;
  // As the manifest wiring counts it: per class, the lines of one code summed.
  const byClass = new Map<string, Quantity>();
  for (const l of lines) {
    const wasteClass = `hazardous:${l.wasteCode}`;
    byClass.set(wasteClass, (byClass.get(wasteClass) ?? Quantity.ZERO).add(Quantity.ofKg(l.quantityKg)));
  }
  return [...byClass].every(([wasteClass, kg]) => remainingKg(usage, wasteClass, kg.toKgString()).isZero());
}

/**
 * After an approval the generator opens manifests under it (Arts 10–15): one item until it is used up,
 * expired (or released), or its receiver cannot take new manifests (suspended or revoked; the suspension
 * item says why). Due by 24:00 of the last valid day, when the approval lapses: nobody is late then.
 */
export function openManifestItems(standing: ApprovalStanding, since: string): WorkItemInput[] {
  const { approval: a, facility } = standing;
  const receiverOpen =
    facility === undefined || facility.status === 'unregistered' || facility.status === 'active';
  if (
    !standing.approved ||
    standing.released ||
    !receiverOpen ||
    a.validUntil < standing.today ||
    approvalUsedUp(standing.lines, standing.usage)
  )
    return [];
  return [
    {
      recordType: RECORD_TYPES.transfer,
      recordId: a.transferId,
      action: 'transfer.open-manifest',
      label: {
        zh: `转移已批准：有效期至 ${a.validUntil}，每车次开具电子转移联单`,
        en: `approved until ${a.validUntil}: open an electronic manifest for each trip`,
      },
      party: 'generator',
      jurisdiction: a.exportingJurisdiction,
      responsible: { agencyId: a.generatorAgencyId },
      dueAt: LocalDate.parseOrThrow(a.validUntil).plusDays(1).startInstant().toISOString(),
      overdue: false,
      overdueAtDue: false,
      since,
    },
  ];
}

// ---------------------------------------------------------------------------------------------------
// Discrepancies: reported to the receiving-side bureau (domain.md, Manifests; Art 17)
// ---------------------------------------------------------------------------------------------------

export interface OpenDiscrepancy {
  readonly kind: DifferenceKind | 'weight';
  readonly declared: string;
  readonly found: string;
  readonly since: string;
}

/** A manifest's discrepancies as the worklist keeps them (plain JSON, stored beside the manifest). */
export interface DiscrepancyRecord {
  readonly manifestNumber: string;
  /** The receiving province, whose bureau the discrepancies are reported to. */
  readonly reportTo: string;
  readonly weight: (OpenDiscrepancy & { readonly tolerance: WeightTolerance }) | null;
  /**
   * A correction re-judges the weight: the decider appends a new weight discrepancy in the same command
   * when the corrected weight is still out of tolerance. Until then the old one is set aside, keeping its
   * `since` for that command (`key`): a discrepancy that survives a correction is the same one.
   */
  readonly recheck: { readonly key: string; readonly since: string } | null;
  readonly others: readonly OpenDiscrepancy[];
}

type DiscrepancyEvent = Extract<
  ManifestEvent,
  { type: 'ManifestDiscrepancyFound' | 'ManifestReceiptCorrected' | 'ManifestDiscrepanciesReviewed' }
>;

/** The manifest events a discrepancy record follows. */
export const isDiscrepancyEvent = (event: ManifestEvent): event is DiscrepancyEvent =>
  event.type === 'ManifestDiscrepancyFound' ||
  event.type === 'ManifestReceiptCorrected' ||
  event.type === 'ManifestDiscrepanciesReviewed';

/**
 * Folds a manifest's discrepancies. `key` names the command of the event (events of one command share
 * it); `at` is when it happened.
 */
export function evolveDiscrepancies(
  record: DiscrepancyRecord | undefined,
  event: DiscrepancyEvent,
  key: string,
  at: string,
): DiscrepancyRecord | undefined {
  if (event.type === 'ManifestReceiptCorrected') {
    if (!record?.weight) return record;
    return { ...record, weight: null, recheck: { key, since: record.weight.since } };
  }
  if (event.type === 'ManifestDiscrepanciesReviewed') {
    // The bureau decided on what was open: those items close. A weight a later correction finds
    // beyond tolerance again is a new discrepancy, from that day.
    if (!record) return record;
    const { kinds } = event.data;
    return {
      ...record,
      weight: kinds.includes('weight') ? null : record.weight,
      recheck: kinds.includes('weight') ? null : record.recheck,
      others: record.others.filter((o) => !kinds.includes(o.kind)),
    };
  }
  const d = event.data;
  const base: DiscrepancyRecord = record ?? {
    manifestNumber: d.manifestNumber,
    reportTo: d.reportTo,
    weight: null,
    recheck: null,
    others: [],
  };
  if (d.kind === 'weight') {
    const since = base.recheck?.key === key ? base.recheck.since : (base.weight?.since ?? at);
    return {
      ...base,
      reportTo: d.reportTo,
      weight: { kind: 'weight', declared: d.declaredKg, found: d.acceptedKg, tolerance: d.tolerance, since },
      recheck: null,
    };
  }
  const other: OpenDiscrepancy = { kind: d.kind, declared: d.declared, found: d.found, since: at };
  return { ...base, others: [...base.others.filter((o) => o.kind !== d.kind), other] };
}

const DIFFERENCE_NAMES: Readonly<Record<DifferenceKind, BilingualText>> = {
  name: { zh: '名称', en: 'name' },
  form: { zh: '形态', en: 'form' },
  packaging: { zh: '包装', en: 'packaging' },
  characteristics: { zh: '危险特性', en: 'hazard characteristics' },
};

/**
 * The receiving province's bureau looks into each discrepancy (domain.md: it is reported to the
 * receiving-side bureau; the exporting side learns of it from the ManifestDiscrepancyFound integration
 * event, so it gets no item). Its review (ReviewManifestDiscrepancies: no further action, or refer to
 * enforcement) closes every item open at the time; a weight discrepancy also closes when a receipt
 * correction brings the weight within tolerance.
 */
export function discrepancyItems(record: DiscrepancyRecord | undefined): WorkItemInput[] {
  if (!record) return [];
  const item = (d: OpenDiscrepancy, label: BilingualText): WorkItemInput => ({
    recordType: RECORD_TYPES.manifest,
    recordId: record.manifestNumber,
    // One item per kind: a weight discrepancy may close while a packaging one stays.
    action: `manifest.discrepancy-${d.kind}`,
    label,
    party: 'receiving-bureau',
    jurisdiction: record.reportTo,
    responsible: { agencyKind: 'provincial-bureau' },
    dueAt: null,
    overdue: false,
    overdueAtDue: false,
    since: d.since,
  });
  const weight = record.weight;
  return [
    ...(weight
      ? [
          item(weight, {
            zh: `核查重量差异：申报 ${weight.declared} 千克，实收 ${weight.found} 千克（作出处理决定，或更正至容差内即办结）`,
            en: `review the weight discrepancy: ${weight.declared} kg declared, ${weight.found} kg weighed (closes on your decision, or when a correction brings it within tolerance)`,
          }),
        ]
      : []),
    ...record.others.map((d) => {
      const name = DIFFERENCE_NAMES[d.kind as DifferenceKind];
      return item(d, {
        zh: `核查差异：联单${name.zh}不符，申报“${d.declared}”，实为“${d.found}”（作出处理决定即办结）`,
        en: `review the discrepancy: the ${name.en} differs, "${d.declared}" declared, "${d.found}" found (closes on your decision)`,
      });
    }),
  ];
}

// ---------------------------------------------------------------------------------------------------
// Capacity shortfall: a licence cut below what approvals and receipts already hold
// ---------------------------------------------------------------------------------------------------

export interface LedgerShortfall {
  readonly category: string;
  readonly year: number;
  /** committed − capacity, kg (3 decimals), more than zero. */
  readonly shortfallKg: string;
}

/** How far a ledger is over its licence now (folded with the capacity decider); undefined within it. */
export function ledgerShortfall(ledger: CapacityLedgerState): LedgerShortfall | undefined {
  if (ledger.status !== 'open') return undefined;
  const { capacity, committed } = ledgerTotals(ledger);
  if (!committed.isGreaterThan(capacity)) return undefined;
  return {
    category: ledger.category,
    year: ledger.year,
    shortfallKg: Quantity.fromGrams(committed.grams - capacity.grams).toKgString(),
  };
}

/**
 * A facility whose ledgers are over their licence goes on the worklist of the provincial bureau of its
 * province (the licensing bureau), which decides what becomes of the approvals it can no longer take:
 * one item per facility, listing each short ledger, gone when all are back within the licence.
 */
export function shortfallItems(
  facilityId: string,
  facility: FacilityState | undefined,
  shortfalls: readonly LedgerShortfall[],
  since: string,
): WorkItemInput[] {
  if (shortfalls.length === 0 || !facility || facility.status === 'unregistered') return [];
  // Without a known province nobody can be named: the facility's registration brings it.
  const province = provinceOf(facility.profile.jurisdiction);
  if (!province) return [];
  const sorted = [...shortfalls].sort((a, b) => a.year - b.year || a.category.localeCompare(b.category));
  return [
    {
      recordType: RECORD_TYPES.facility,
      recordId: facilityId,
      action: 'capacity.shortfall',
      label: {
        zh: `设施 ${facilityId} 核准经营规模低于已预留和已接收量：${sorted
          .map((s) => `${s.year} 年 ${s.category} 超出 ${s.shortfallKg} 千克`)
          .join('；')}`,
        en: `facility ${facilityId} is licensed for less than it already holds: ${sorted
          .map((s) => `${s.category} ${s.year} over by ${s.shortfallKg} kg`)
          .join('; ')}`,
      },
      party: 'licensing-bureau',
      jurisdiction: province,
      responsible: { agencyKind: 'provincial-bureau' },
      dueAt: null,
      overdue: false,
      overdueAtDue: false,
      since,
    },
  ];
}
