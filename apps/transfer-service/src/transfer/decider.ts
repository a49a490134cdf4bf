/**
 * A transfer application (跨省转移申请), Measures Arts 21–28: the generator applies to the exporting
 * provincial bureau, which checks completeness, reviews and writes to the receiving bureau (商请函); the
 * receiving bureau replies (复函); the exporting bureau decides. Whitelisted and intra-province
 * transfers skip the letter; general industrial, construction and municipal waste is only filed.
 *
 * Every deadline is counted in working days with the calendar given to the factory (never loaded here)
 * and travels in the event that opens it, so the wiring step can persist a timer for it. Two timer
 * outcomes, deliberately different: silence at the completeness check means ACCEPTED (Art 23); a missed
 * review, reply or decision is OVERDUE (worklist item, escalation), never consent, never approval.
 */
import {
  CreditCode,
  JurisdictionCode,
  LocalDate,
  Quantity,
  WasteCode,
  type Result,
  type WorkingDayCalendar,
} from '@lianfang/domain-kernel';
import {
  assertNever,
  DomainError,
  type Command,
  type CommandMetadata,
  type DomainEvent,
} from '@lianfang/eventsourcing';

// ---------------------------------------------------------------------------------------------------
// Vocabulary

/** How the applicant asks: by consultation letter, under a whitelist entry, or by filing (no approval). */
export type TransferPath = 'letter' | 'whitelist' | 'filing';

/** How the application is actually handled once submitted (decided at submission, recorded in the event). */
export type ConsultationRoute = 'letter' | 'whitelist' | 'intra-province';

/** The timed steps. `review` is "review and letter" (Art 24): refuse or write to the receiving bureau. */
export type TransferStep = 'completeness' | 'review' | 'reply' | 'decision';
/** The steps whose miss is overdue; the completeness check is not one of them (silence accepts). */
export type OverdueStep = Exclude<TransferStep, 'completeness'>;

export const STEP_WORKING_DAYS: Readonly<Record<TransferStep, number>> = Object.freeze({
  completeness: 5, // Art 23
  review: 5, // Art 24
  reply: 10, // Art 25
  decision: 5, // Art 25; also the whitelist's direct answer
});

export type AttachmentKind = 'licence' | 'method' | 'contract';
export const ATTACHMENT_KINDS: readonly AttachmentKind[] = ['licence', 'method', 'contract'];
/** Formats a bureau can archive: PDF, OFD (the national e-document format) and scans. */
export const ATTACHMENT_MEDIA_TYPES: readonly string[] = [
  'application/pdf',
  'application/ofd',
  'image/jpeg',
  'image/png',
];
export const MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024;

/** Stored content-addressed: the wiring step keeps the bytes under their SHA-256. */
export interface Attachment {
  readonly sha256: string;
  readonly size: number;
  readonly mediaType: string;
  readonly kind: AttachmentKind;
}

export interface Generator {
  readonly agencyId: string;
  readonly creditCode: string;
  /**
   * Where the generator sits (GB/T 2260, from the agency directory): the municipal bureau of that city
   * supervises the transfer and sees it. Optional: older events and callers without a directory lack it.
   */
  readonly jurisdiction?: string;
}

/** Where the receiving facility sits and who runs it, as the facility register and directory know it. */
export interface ReceiverSite {
  /** The facility's city or county (GB/T 2260): that city's bureau sees the transfer. */
  readonly jurisdiction?: string;
  /** The agency operating the facility (directory id): a party to the transfer. */
  readonly operatorAgencyId?: string;
}

export interface Receiver extends ReceiverSite {
  readonly facilityId: string;
  /** Last day (inclusive) of the receiver's hazardous waste operating licence. */
  readonly licenceValidUntil: string;
}

export interface WasteLine {
  readonly wasteCode: string;
  /** Kilograms, exact, as a decimal string (normalised to 3 decimals in events). */
  readonly quantityKg: string;
}

export type FilingWasteClass = 'general-industrial' | 'construction' | 'municipal';
export const FILING_WASTE_CLASSES: readonly FilingWasteClass[] = [
  'general-industrial',
  'construction',
  'municipal',
];

export interface FilingLine {
  readonly wasteClass: FilingWasteClass;
  readonly quantityKg: string;
}

export interface RequestedWindow {
  readonly from: string;
  readonly to: string;
}

/** A due date as the wiring step persists it: a timer fires at `dueAt`. */
export interface Deadline {
  readonly step: TransferStep;
  /** The day of the fact that opened the step (not counted, Civil Code Art 201). */
  readonly from: string;
  readonly workingDays: number;
  /** The last working day counted. */
  readonly lastDay: string;
  /** 24:00 Asia/Shanghai of `lastDay`, ISO instant. */
  readonly dueAt: string;
  /** Some day counted lies in a year whose holiday notice is not loaded yet: recompute when it is. */
  readonly provisional: boolean;
  /** The bureau that must act (GB/T 2260 provincial code). */
  readonly responsibleJurisdiction: string;
}

/** Who is told of a decision (Art 26) or a filing. */
export interface Notification {
  readonly jurisdiction: string;
  readonly department: 'environment' | 'transport';
}

export interface WhitelistUse {
  readonly entryId: string;
  /** The adopted agreement holding the entry (published with the approval). */
  readonly agreementId?: string;
  readonly remainingKg: string;
  /** The whole request fits in the entry's remaining tonnes: approved directly, no letter. */
  readonly withinEntry: boolean;
}

// ---------------------------------------------------------------------------------------------------
// Commands

export interface SubmitApplicationData {
  readonly transferId: string;
  readonly generator: Generator;
  readonly exportingJurisdiction: string;
  readonly receivingJurisdiction: string;
  readonly receiver: Receiver;
  readonly lines: readonly WasteLine[];
  readonly method: string;
  readonly window: RequestedWindow;
  readonly attachments: readonly Attachment[];
  /** 'filing' is refused here: a filing is SubmitFiling (it has no approval to ask for). */
  readonly path: TransferPath;
  /** Required on the whitelist path: the agreed entry and what is left of it this year, in tonnes. */
  readonly whitelist?: {
    readonly entryId: string;
    readonly remainingTonnes: string;
    readonly agreementId?: string;
  };
}

export interface SubmitFilingData {
  readonly transferId: string;
  readonly generator: Generator;
  readonly exportingJurisdiction: string;
  /** The receiving facility's city (or a municipality directly under the central government). */
  readonly receivingCity: string;
  readonly receiver: { readonly facilityId: string } & ReceiverSite;
  readonly lines: readonly FilingLine[];
  readonly window: RequestedWindow;
  readonly attachments: readonly Attachment[];
}

export interface ApproveTransferData {
  readonly transferId: string;
  /** Approve less than requested, per waste code; omitted: everything requested. */
  readonly lines?: readonly WasteLine[];
}

export type TransferCommand =
  | Command<'SubmitApplication', SubmitApplicationData>
  | Command<'SubmitFiling', SubmitFilingData>
  | Command<'ReturnIncomplete', { transferId: string; missing: readonly string[] }>
  | Command<'AcceptApplication', { transferId: string }>
  | Command<'CompletenessTimerFired', { transferId: string }>
  | Command<'RefuseApplication', { transferId: string; reasons: readonly string[] }>
  | Command<'SendConsultationLetter', { transferId: string; letterId: string }>
  | Command<
      'ReplyToLetter',
      { transferId: string; decision: 'consent' | 'refusal'; reasons?: readonly string[] }
    >
  | Command<'ApproveTransfer', ApproveTransferData>
  | Command<'WithdrawApplication', { transferId: string; reason?: string }>
  | Command<'DeadlineTimerFired', { transferId: string; step: OverdueStep }>
  | Command<'RecomputeProvisionalDeadlines', { transferId: string }>;

export type TransferCommandType = TransferCommand['type'];

// ---------------------------------------------------------------------------------------------------
// Events

export interface ApplicationFacts {
  readonly generator: Generator;
  readonly exportingJurisdiction: string;
  readonly receivingJurisdiction: string;
  readonly receiver: Receiver;
  readonly lines: readonly WasteLine[];
  readonly totalKg: string;
  readonly method: string;
  readonly window: RequestedWindow;
  readonly attachments: readonly Attachment[];
}

export interface FilingFacts {
  readonly generator: Generator;
  readonly exportingJurisdiction: string;
  readonly receivingCity: string;
  readonly receiver: { readonly facilityId: string } & ReceiverSite;
  readonly lines: readonly FilingLine[];
  readonly totalKg: string;
  readonly window: RequestedWindow;
  readonly attachments: readonly Attachment[];
}

export interface Approval {
  readonly approvedOn: string;
  readonly validFrom: string;
  readonly validUntil: string;
  /** What limited `validUntil`: 12 months, the requested window or the receiver's licence (Art 27). */
  readonly cappedBy: 'twelve-months' | 'requested-window' | 'licence';
  readonly lines: readonly WasteLine[];
  readonly totalKg: string;
}

export interface DeadlineChange {
  readonly step: TransferStep;
  readonly previous: { readonly lastDay: string; readonly dueAt: string; readonly provisional: boolean };
  readonly deadline: Deadline;
}

export type TransferEvent =
  | DomainEvent<
      'TransferSubmitted',
      {
        transferId: string;
        path: Exclude<TransferPath, 'filing'>;
        route: ConsultationRoute;
        application: ApplicationFacts;
        whitelist?: WhitelistUse;
        submittedAt: string;
        deadline: Deadline;
      }
    >
  | DomainEvent<
      'TransferFiled',
      { transferId: string; filing: FilingFacts; filedAt: string; notified: readonly Notification[] }
    >
  | DomainEvent<'TransferReturned', { transferId: string; missing: readonly string[]; returnedOn: string }>
  | DomainEvent<
      'TransferAccepted',
      {
        transferId: string;
        /** 'silence': nobody answered within the completeness period, which is acceptance (Art 23). */
        acceptedBy: 'bureau' | 'silence';
        acceptedOn: string;
        deadline: Deadline;
      }
    >
  | DomainEvent<
      'TransferRefused',
      {
        transferId: string;
        step: 'review' | 'decision';
        reasons: readonly string[];
        refusedOn: string;
        refusedBy: string;
      }
    >
  | DomainEvent<
      'ConsultationLetterSent',
      { transferId: string; letterId: string; to: string; sentOn: string; deadline: Deadline }
    >
  | DomainEvent<
      'ConsultationReplied',
      {
        transferId: string;
        consent: boolean;
        reasons: readonly string[];
        repliedOn: string;
        repliedBy: string;
        deadline: Deadline;
      }
    >
  | DomainEvent<
      'TransferApproved',
      {
        transferId: string;
        route: ConsultationRoute;
        approval: Approval;
        generator: Generator;
        receiver: Receiver;
        exportingJurisdiction: string;
        receivingJurisdiction: string;
        method: string;
        whitelist?: WhitelistUse;
        notified: readonly Notification[];
      }
    >
  | DomainEvent<
      'TransferWithdrawn',
      { transferId: string; reason?: string; withdrawnOn: string; openSteps: readonly TransferStep[] }
    >
  | DomainEvent<
      'TransferDeadlineMissed',
      {
        transferId: string;
        step: OverdueStep;
        responsibleJurisdiction: string;
        lastDay: string;
        dueAt: string;
        detectedAt: string;
        /** domain.md, Consultation 7: a miss is escalated to the regional secretariat; it is not consent. */
        escalatedTo: 'regional-secretariat';
      }
    >
  | DomainEvent<'TransferDeadlinesRecomputed', { transferId: string; changes: readonly DeadlineChange[] }>;

export type TransferEventType = TransferEvent['type'];

// ---------------------------------------------------------------------------------------------------
// State

export type TransferStatus =
  | 'new'
  | 'submitted'
  | 'returned'
  | 'under-review'
  | 'consulting'
  | 'awaiting-decision'
  | 'approved'
  | 'refused'
  | 'withdrawn'
  | 'filed';

export interface TransferState {
  readonly status: TransferStatus;
  readonly transferId?: string;
  readonly route?: ConsultationRoute;
  readonly application?: ApplicationFacts;
  readonly filing?: FilingFacts;
  readonly whitelist?: WhitelistUse;
  readonly acceptedOn?: string;
  readonly reply?: { readonly consent: boolean; readonly reasons: readonly string[] };
  readonly approval?: Approval;
  /** Who was told of the approval (Art 26) or of the filing. */
  readonly notified?: readonly Notification[];
  /** Deadlines of the steps open now (closed steps drop out). */
  readonly dueDates: Partial<Record<TransferStep, Deadline>>;
  /** Open steps whose deadline passed (recorded by TransferDeadlineMissed). */
  readonly overdue: readonly OverdueStep[];
}

export const transferStream = (transferId: string) => `transfer-${transferId}`;

export interface TransferDeciderOptions {
  readonly calendar: WorkingDayCalendar;
  /** Transfers inside one province skip the consultation letter (default true; a province may differ). */
  readonly intraProvinceSkipsLetter?: boolean;
}

// ---------------------------------------------------------------------------------------------------
// Refusals and input checks

const refuse = (
  code: string,
  zh: string,
  en: string,
  field?: string,
  details?: Readonly<Record<string, unknown>>,
) =>
  new DomainError({
    code: `transfer.${code}`,
    message: { zh, en },
    ...(field ? { field } : {}),
    ...(details ? { details } : {}),
  });

/** A kernel parse failure as a transfer refusal naming the field and the kernel's rule. */
function parsed<T>(result: Result<T>, code: string): T {
  if (result.ok) return result.value;
  const { field, rule, message, value } = result.error;
  throw new DomainError({
    code: `transfer.${code}`,
    field,
    message,
    details: { rule, ...(value === undefined ? {} : { value }) },
  });
}

function nonBlank(value: unknown, field: string, zh: string, en: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw refuse('required', `${zh}不能为空`, `${en} is required`, field);
  return value.trim();
}

function reasonsOf(value: readonly string[] | undefined, field: string): string[] {
  const reasons = (value ?? []).map((r) => (typeof r === 'string' ? r.trim() : '')).filter((r) => r !== '');
  // Arts 24–25: a refusal is written, with its reasons.
  if (reasons.length === 0)
    throw refuse('reasons-required', '不予同意须书面说明理由', 'a refusal must state its reasons', field);
  return reasons;
}

function provincial(code: string, field: string): JurisdictionCode {
  const j = parsed(JurisdictionCode.parse(code, field), 'invalid-jurisdiction');
  if (j.level !== 'provincial')
    throw refuse(
      'jurisdiction-not-provincial',
      '移出地和接受地须为省级行政区划代码（审批由省级生态环境主管部门负责）',
      'exporting and receiving jurisdictions are provincial codes (provincial bureaus decide)',
      field,
      { value: code },
    );
  return j;
}

function generatorOf(g: Generator | undefined): Generator {
  const agencyId = nonBlank(g?.agencyId, 'generator.agencyId', '产废单位', 'the generator agency');
  const creditCode = parsed(
    CreditCode.parse(g?.creditCode ?? '', 'generator.creditCode'),
    'invalid-credit-code',
  );
  const jurisdiction = g?.jurisdiction
    ? parsed(JurisdictionCode.parse(g.jurisdiction, 'generator.jurisdiction'), 'invalid-jurisdiction').value
    : undefined;
  return { agencyId, creditCode: creditCode.value, ...(jurisdiction ? { jurisdiction } : {}) };
}

/** The receiver's site facts when given: a valid place code and a non-blank operator id. */
function siteOf(r: ReceiverSite | undefined): ReceiverSite {
  const jurisdiction = r?.jurisdiction
    ? parsed(JurisdictionCode.parse(r.jurisdiction, 'receiver.jurisdiction'), 'invalid-jurisdiction').value
    : undefined;
  const operatorAgencyId = r?.operatorAgencyId?.trim();
  return {
    ...(jurisdiction ? { jurisdiction } : {}),
    ...(operatorAgencyId ? { operatorAgencyId } : {}),
  };
}

function windowOf(w: RequestedWindow | undefined, today: LocalDate): { from: LocalDate; to: LocalDate } {
  const from = parsed(LocalDate.parse(w?.from ?? '', 'window.from'), 'invalid-date');
  const to = parsed(LocalDate.parse(w?.to ?? '', 'window.to'), 'invalid-date');
  if (to.isBefore(from))
    throw refuse(
      'window-reversed',
      '申请转移期限的结束日早于开始日',
      'the requested window ends before it starts',
      'window.to',
      {
        from: from.toString(),
        to: to.toString(),
      },
    );
  if (to.isBefore(today))
    throw refuse('window-in-past', '申请转移期限已过', 'the requested window is already over', 'window.to', {
      to: to.toString(),
      today: today.toString(),
    });
  return { from, to };
}

function positiveKg(text: string, field: string): Quantity {
  const q = parsed(Quantity.parse(text, field), 'invalid-quantity');
  if (q.isZero())
    throw refuse('quantity-zero', '转移数量须大于零', 'a quantity must be more than zero', field);
  return q;
}

function attachmentsOf(
  list: readonly Attachment[] | undefined,
  required: readonly AttachmentKind[],
): Attachment[] {
  const out: Attachment[] = [];
  for (const [i, a] of (list ?? []).entries()) {
    const field = `attachments[${i}]`;
    if (typeof a?.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(a.sha256.toLowerCase()))
      throw refuse(
        'attachment-hash',
        '附件须有 SHA-256 摘要（64位十六进制）',
        'an attachment needs its SHA-256 (64 hex digits)',
        `${field}.sha256`,
      );
    if (!Number.isSafeInteger(a.size) || a.size < 1 || a.size > MAX_ATTACHMENT_BYTES)
      throw refuse(
        'attachment-size',
        `附件大小须在 1 字节至 ${MAX_ATTACHMENT_BYTES} 字节之间`,
        `an attachment is 1 to ${MAX_ATTACHMENT_BYTES} bytes`,
        `${field}.size`,
        { size: a.size, max: MAX_ATTACHMENT_BYTES },
      );
    if (!ATTACHMENT_MEDIA_TYPES.includes(a.mediaType))
      throw refuse(
        'attachment-type',
        '附件须为 PDF、OFD、JPEG 或 PNG 文件',
        'an attachment is a PDF, OFD, JPEG or PNG file',
        `${field}.mediaType`,
        {
          mediaType: a.mediaType,
          allowed: ATTACHMENT_MEDIA_TYPES,
        },
      );
    if (!ATTACHMENT_KINDS.includes(a.kind))
      throw refuse(
        'attachment-kind',
        '附件类型须为 licence、method 或 contract',
        'an attachment kind is licence, method or contract',
        `${field}.kind`,
      );
    out.push({ sha256: a.sha256.toLowerCase(), size: a.size, mediaType: a.mediaType, kind: a.kind });
  }
  // Art 22: the licence copy, the method description and the contract come with the application.
  const missing = required.filter((k) => !out.some((a) => a.kind === k));
  if (missing.length > 0)
    throw refuse(
      'attachment-missing',
      `缺少附件：${missing.join('、')}`,
      `missing attachment(s): ${missing.join(', ')}`,
      'attachments',
      { missing },
    );
  return out;
}

function wasteLinesOf(lines: readonly WasteLine[] | undefined): { lines: WasteLine[]; total: Quantity } {
  if (!lines || lines.length === 0)
    throw refuse('lines-required', '须至少申报一种危险废物', 'at least one waste line is required', 'lines');
  const seen = new Set<string>();
  const out: WasteLine[] = [];
  let total = Quantity.ZERO;
  for (const [i, line] of lines.entries()) {
    const code = parsed(
      WasteCode.parse(line?.wasteCode ?? '', `lines[${i}].wasteCode`),
      'invalid-waste-code',
    );
    if (seen.has(code.value))
      throw refuse(
        'duplicate-waste-code',
        '同一危险废物代码只能申报一次',
        'each waste code is listed once',
        `lines[${i}].wasteCode`,
        {
          wasteCode: code.value,
        },
      );
    seen.add(code.value);
    const q = positiveKg(line.quantityKg, `lines[${i}].quantityKg`);
    total = total.add(q);
    out.push({ wasteCode: code.value, quantityKg: q.toKgString() });
  }
  return { lines: out, total };
}

function filingLinesOf(lines: readonly FilingLine[] | undefined): { lines: FilingLine[]; total: Quantity } {
  if (!lines || lines.length === 0)
    throw refuse('lines-required', '须至少申报一种固体废物', 'at least one waste line is required', 'lines');
  const out: FilingLine[] = [];
  let total = Quantity.ZERO;
  for (const [i, line] of lines.entries()) {
    // Hazardous waste is approved, never filed (Art 21): only the three other classes file.
    if (!FILING_WASTE_CLASSES.includes(line?.wasteClass))
      throw refuse(
        'filing-class',
        '备案仅适用于一般工业固体废物、建筑垃圾和生活垃圾；危险废物须申请审批',
        'filing is for general industrial, construction and municipal waste; hazardous waste needs approval',
        `lines[${i}].wasteClass`,
        { wasteClass: line?.wasteClass },
      );
    const q = positiveKg(line.quantityKg, `lines[${i}].quantityKg`);
    total = total.add(q);
    out.push({ wasteClass: line.wasteClass, quantityKg: q.toKgString() });
  }
  return { lines: out, total };
}

/** The last day of a 12-month validity starting on `from` (2026-11-03 → 2027-11-02; 2028-02-29 → 2029-02-28). */
export function twelveMonthsFrom(from: LocalDate): LocalDate {
  // Only 29 February has no same day a year later; its year then ends on 28 February.
  const same = LocalDate.of(from.year + 1, from.month, from.day);
  const next = same.ok ? same : LocalDate.of(from.year + 1, 3, 1);
  if (!next.ok) throw new RangeError(`no date 12 months after ${from.toString()}`);
  return next.value.plusDays(-1);
}

// ---------------------------------------------------------------------------------------------------
// Who may act

function requireGenerator(metadata: CommandMetadata, generator: Generator): void {
  const actor = metadata.actor;
  if (actor.kind === 'user' && actor.agencyId !== generator.agencyId)
    throw refuse(
      'not-the-generator',
      '只有产废单位本身可以提交或撤回申请',
      'only the generator itself applies or withdraws',
      'generator.agencyId',
      {
        generator: generator.agencyId,
        actor: actor.agencyId,
      },
    );
}

/** A bureau acts only for its province and only in its role on this transfer (exporting or receiving). */
function requireBureau(
  metadata: CommandMetadata,
  jurisdiction: string,
  role: 'exporting' | 'receiving',
): void {
  const actor = metadata.actor;
  if (actor.kind === 'user' && actor.jurisdiction !== jurisdiction)
    throw refuse(
      'wrong-jurisdiction',
      role === 'exporting'
        ? '该步骤须由移出地省级生态环境主管部门办理'
        : '复函须由接受地省级生态环境主管部门作出',
      role === 'exporting'
        ? "this step is the exporting province's bureau's"
        : "the reply is the receiving province's bureau's",
      'transferId',
      { required: jurisdiction, actor: actor.jurisdiction, role },
    );
}

// ---------------------------------------------------------------------------------------------------
// The decider

const NOT_DECIDED: readonly TransferStatus[] = [
  'submitted',
  'under-review',
  'consulting',
  'awaiting-decision',
];

function notifiedOnApproval(exporting: string, receiving: string): Notification[] {
  // Art 26: the exporting province's transport department, the receiving province's environment
  // and transport departments. Intra-province: the one province's transport department.
  const list: Notification[] = [{ jurisdiction: exporting, department: 'transport' }];
  if (receiving !== exporting) {
    list.push(
      { jurisdiction: receiving, department: 'environment' },
      { jurisdiction: receiving, department: 'transport' },
    );
  }
  return list;
}

export function transferDecider(options: TransferDeciderOptions) {
  const { calendar } = options;
  const intraProvinceSkipsLetter = options.intraProvinceSkipsLetter ?? true;

  const deadline = (step: TransferStep, from: LocalDate, responsibleJurisdiction: string): Deadline => {
    const d = calendar.addWorkingDays(from, STEP_WORKING_DAYS[step]);
    return {
      step,
      from: from.toString(),
      workingDays: STEP_WORKING_DAYS[step],
      lastDay: d.lastDay.toString(),
      dueAt: d.deadline.toISOString(),
      provisional: d.provisional,
      responsibleJurisdiction,
    };
  };

  const requireExisting = (state: TransferState): ApplicationFacts & { transferId: string } => {
    if (!state.application || !state.transferId)
      throw refuse('not-submitted', '尚无该转移申请', 'no such transfer application', 'transferId');
    return { ...state.application, transferId: state.transferId };
  };

  const requireStatus = (
    state: TransferState,
    allowed: readonly TransferStatus[],
    code: string,
    zh: string,
    en: string,
  ) => {
    if (!allowed.includes(state.status))
      throw refuse(code, zh, en, 'transferId', { status: state.status, allowed });
  };

  /** A step closed after its due time counts as missed, even if the timer has not fired yet. */
  const missedIfLate = (state: TransferState, step: OverdueStep, now: Date): TransferEvent[] => {
    const due = state.dueDates[step];
    if (!due || state.overdue.includes(step) || now.getTime() < Date.parse(due.dueAt)) return [];
    return [missed(state, step, due, now)];
  };

  const missed = (state: TransferState, step: OverdueStep, due: Deadline, now: Date): TransferEvent => ({
    type: 'TransferDeadlineMissed',
    data: {
      transferId: state.transferId ?? '',
      step,
      responsibleJurisdiction: due.responsibleJurisdiction,
      lastDay: due.lastDay,
      dueAt: due.dueAt,
      detectedAt: now.toISOString(),
      escalatedTo: 'regional-secretariat',
    },
  });

  /** Acceptance on a day opens the review (letter route) or the direct decision (whitelist, intra-province). */
  const acceptance = (
    state: TransferState,
    acceptedBy: 'bureau' | 'silence',
    acceptedOn: LocalDate,
  ): TransferEvent => {
    const app = requireExisting(state);
    const step: TransferStep = state.route === 'letter' ? 'review' : 'decision';
    return {
      type: 'TransferAccepted',
      data: {
        transferId: app.transferId,
        acceptedBy,
        acceptedOn: acceptedOn.toString(),
        deadline: deadline(step, acceptedOn, app.exportingJurisdiction),
      },
    };
  };

  const decide = (command: TransferCommand, state: TransferState): TransferEvent[] => {
    const now = command.metadata.now;
    const today = LocalDate.ofInstant(now);
    switch (command.type) {
      case 'SubmitApplication': {
        const d = command.data;
        if (state.status !== 'new')
          throw refuse(
            'already-submitted',
            '该转移申请已提交',
            'this transfer application was already submitted',
            'transferId',
          );
        const transferId = nonBlank(d.transferId, 'transferId', '转移申请编号', 'the transfer id');
        if (d.path === 'filing')
          throw refuse(
            'filing-is-not-an-application',
            '备案类转移不需审批，请使用备案（SubmitFiling）',
            'a filing needs no approval: file it with SubmitFiling',
            'path',
          );
        if (d.path !== 'letter' && d.path !== 'whitelist')
          throw refuse(
            'invalid-path',
            '申请路径须为 letter 或 whitelist',
            'the path is letter or whitelist',
            'path',
            {
              path: d.path,
            },
          );
        const generator = generatorOf(d.generator);
        requireGenerator(command.metadata, generator);
        const exporting = provincial(d.exportingJurisdiction, 'exportingJurisdiction');
        const receiving = provincial(d.receivingJurisdiction, 'receivingJurisdiction');
        const facilityId = nonBlank(
          d.receiver?.facilityId,
          'receiver.facilityId',
          '接受单位',
          'the receiving facility',
        );
        const licenceEnd = parsed(
          LocalDate.parse(d.receiver?.licenceValidUntil ?? '', 'receiver.licenceValidUntil'),
          'invalid-date',
        );
        if (licenceEnd.isBefore(today))
          throw refuse(
            'licence-expired',
            '接受单位的危险废物经营许可证已过期',
            "the receiver's licence has expired",
            'receiver.licenceValidUntil',
            {
              licenceValidUntil: licenceEnd.toString(),
            },
          );
        const { lines, total } = wasteLinesOf(d.lines);
        const method = nonBlank(d.method, 'method', '利用处置方式', 'the utilisation or disposal method');
        const window = windowOf(d.window, today);
        const attachments = attachmentsOf(d.attachments, ATTACHMENT_KINDS);

        let whitelist: WhitelistUse | undefined;
        if (d.path === 'whitelist') {
          if (!d.whitelist)
            throw refuse(
              'whitelist-entry-required',
              '白名单路径须注明白名单条目',
              'the whitelist path names its whitelist entry',
              'whitelist',
            );
          const entryId = nonBlank(
            d.whitelist.entryId,
            'whitelist.entryId',
            '白名单条目',
            'the whitelist entry',
          );
          const remaining = parsed(
            Quantity.fromTonnes(d.whitelist.remainingTonnes, 'whitelist.remainingTonnes'),
            'invalid-quantity',
          );
          const agreementId = d.whitelist.agreementId?.trim();
          // Beyond the whitelisted amount the letter is needed again.
          whitelist = {
            entryId,
            ...(agreementId ? { agreementId } : {}),
            remainingKg: remaining.toKgString(),
            withinEntry: !total.isGreaterThan(remaining),
          };
        } else if (d.whitelist) {
          throw refuse(
            'whitelist-entry-unexpected',
            '非白名单路径不应注明白名单条目',
            'only the whitelist path names a whitelist entry',
            'whitelist',
          );
        }

        const route: ConsultationRoute = whitelist?.withinEntry
          ? 'whitelist'
          : exporting.equals(receiving) && intraProvinceSkipsLetter
            ? 'intra-province'
            : 'letter';
        return [
          {
            type: 'TransferSubmitted',
            data: {
              transferId,
              path: d.path,
              route,
              application: {
                generator,
                exportingJurisdiction: exporting.value,
                receivingJurisdiction: receiving.value,
                receiver: { facilityId, licenceValidUntil: licenceEnd.toString(), ...siteOf(d.receiver) },
                lines,
                totalKg: total.toKgString(),
                method,
                window: { from: window.from.toString(), to: window.to.toString() },
                attachments,
              },
              ...(whitelist ? { whitelist } : {}),
              submittedAt: now.toISOString(),
              deadline: deadline('completeness', today, exporting.value),
            },
          },
        ];
      }

      case 'SubmitFiling': {
        const d = command.data;
        if (state.status !== 'new')
          throw refuse(
            'already-submitted',
            '该转移已提交',
            'this transfer was already submitted',
            'transferId',
          );
        const transferId = nonBlank(d.transferId, 'transferId', '转移编号', 'the transfer id');
        const generator = generatorOf(d.generator);
        requireGenerator(command.metadata, generator);
        const exporting = parsed(
          JurisdictionCode.parse(d.exportingJurisdiction, 'exportingJurisdiction'),
          'invalid-jurisdiction',
        );
        const city = parsed(JurisdictionCode.parse(d.receivingCity, 'receivingCity'), 'invalid-jurisdiction');
        // The receiving city's bureau is told; a 直辖市 is its own city.
        if (city.level === 'provincial' && !city.isInMunicipality)
          throw refuse(
            'receiving-city-required',
            '须注明接受地的地市级行政区划代码',
            "name the receiving facility's city",
            'receivingCity',
            {
              value: d.receivingCity,
            },
          );
        const facilityId = nonBlank(
          d.receiver?.facilityId,
          'receiver.facilityId',
          '接受单位',
          'the receiving facility',
        );
        const { lines, total } = filingLinesOf(d.lines);
        const window = windowOf(d.window, today);
        const attachments = attachmentsOf(d.attachments, ['contract']);
        return [
          {
            type: 'TransferFiled',
            data: {
              transferId,
              filing: {
                generator,
                exportingJurisdiction: exporting.value,
                receivingCity: city.cityCode.value,
                receiver: { facilityId, ...siteOf(d.receiver) },
                lines,
                totalKg: total.toKgString(),
                window: { from: window.from.toString(), to: window.to.toString() },
                attachments,
              },
              filedAt: now.toISOString(),
              notified: [{ jurisdiction: city.cityCode.value, department: 'environment' }],
            },
          },
        ];
      }

      case 'ReturnIncomplete': {
        const app = requireExisting(state);
        requireStatus(
          state,
          ['submitted'],
          'not-awaiting-completeness-check',
          '只有待受理的申请可以退回补正',
          'only an application awaiting its completeness check can be returned',
        );
        requireBureau(command.metadata, app.exportingJurisdiction, 'exporting');
        const due = state.dueDates.completeness;
        // Art 23: past the 5 working days silence has already accepted the application.
        if (due && now.getTime() >= Date.parse(due.dueAt))
          throw refuse(
            'completeness-period-over',
            '受理期限已过，申请已视为受理，不能退回',
            'the completeness period is over: the application counts as accepted',
            'transferId',
            {
              dueAt: due.dueAt,
            },
          );
        const missing = (command.data.missing ?? []).map((m) => m.trim()).filter((m) => m !== '');
        if (missing.length === 0)
          throw refuse(
            'missing-required',
            '退回补正须列明缺少的材料',
            'a return names what is missing',
            'missing',
          );
        return [
          {
            type: 'TransferReturned',
            data: { transferId: app.transferId, missing, returnedOn: today.toString() },
          },
        ];
      }

      case 'AcceptApplication': {
        const app = requireExisting(state);
        requireStatus(
          state,
          ['submitted'],
          'not-awaiting-completeness-check',
          '只有待受理的申请可以受理',
          'only an application awaiting its completeness check can be accepted',
        );
        requireBureau(command.metadata, app.exportingJurisdiction, 'exporting');
        const due = state.dueDates.completeness;
        // Accepting after the period changes nothing in law: it was accepted by silence on the last day.
        if (due && now.getTime() >= Date.parse(due.dueAt))
          return [acceptance(state, 'silence', LocalDate.parseOrThrow(due.lastDay))];
        return [acceptance(state, 'bureau', today)];
      }

      case 'CompletenessTimerFired': {
        const due = state.dueDates.completeness;
        // A stale timer (accepted, returned, withdrawn meanwhile) or an early one (recomputed later) does nothing.
        if (state.status !== 'submitted' || !due || now.getTime() < Date.parse(due.dueAt)) return [];
        return [acceptance(state, 'silence', LocalDate.parseOrThrow(due.lastDay))];
      }

      case 'RefuseApplication': {
        const app = requireExisting(state);
        requireStatus(
          state,
          ['under-review', 'awaiting-decision'],
          'not-refusable',
          '只有审查中或待决定的申请可以不予批准',
          'only an application under review or awaiting decision can be refused',
        );
        requireBureau(command.metadata, app.exportingJurisdiction, 'exporting');
        const reasons = reasonsOf(command.data.reasons, 'reasons');
        const step: OverdueStep = state.dueDates.review ? 'review' : 'decision';
        return [
          ...missedIfLate(state, step, now),
          {
            type: 'TransferRefused',
            data: {
              transferId: app.transferId,
              step: step === 'review' ? 'review' : 'decision',
              reasons,
              refusedOn: today.toString(),
              refusedBy: app.exportingJurisdiction,
            },
          },
        ];
      }

      case 'SendConsultationLetter': {
        const app = requireExisting(state);
        requireStatus(
          state,
          ['under-review'],
          'not-under-review',
          '只有审查中的申请可以发出商请函',
          'a consultation letter is sent only while the application is under review',
        );
        requireBureau(command.metadata, app.exportingJurisdiction, 'exporting');
        if (state.route !== 'letter')
          throw refuse(
            'letter-not-needed',
            state.route === 'whitelist' ? '白名单内的转移由移出地直接审批，不发商请函' : '省内转移不发商请函',
            state.route === 'whitelist'
              ? 'a whitelisted transfer is approved directly, without a letter'
              : 'an intra-province transfer needs no letter',
            'transferId',
            { route: state.route },
          );
        const letterId = nonBlank(command.data.letterId, 'letterId', '商请函编号', 'the letter id');
        return [
          ...missedIfLate(state, 'review', now),
          {
            type: 'ConsultationLetterSent',
            data: {
              transferId: app.transferId,
              letterId,
              to: app.receivingJurisdiction,
              sentOn: today.toString(),
              deadline: deadline('reply', today, app.receivingJurisdiction),
            },
          },
        ];
      }

      case 'ReplyToLetter': {
        const app = requireExisting(state);
        requireStatus(
          state,
          ['consulting'],
          'not-consulting',
          '只有已发商请函的申请可以复函',
          'only a transfer under consultation can be replied to',
        );
        requireBureau(command.metadata, app.receivingJurisdiction, 'receiving');
        const { decision } = command.data;
        if (decision !== 'consent' && decision !== 'refusal')
          throw refuse('invalid-reply', '复函须为同意或不同意', 'a reply is consent or refusal', 'decision', {
            decision,
          });
        const reasons = decision === 'refusal' ? reasonsOf(command.data.reasons, 'reasons') : [];
        return [
          ...missedIfLate(state, 'reply', now),
          {
            type: 'ConsultationReplied',
            data: {
              transferId: app.transferId,
              consent: decision === 'consent',
              reasons,
              repliedOn: today.toString(),
              repliedBy: app.receivingJurisdiction,
              deadline: deadline('decision', today, app.exportingJurisdiction),
            },
          },
        ];
      }

      case 'ApproveTransfer': {
        const app = requireExisting(state);
        requireStatus(
          state,
          ['under-review', 'awaiting-decision'],
          'not-approvable',
          '该申请当前不能批准',
          'this application cannot be approved now',
        );
        requireBureau(command.metadata, app.exportingJurisdiction, 'exporting');
        if (state.status === 'under-review' && state.route === 'letter')
          throw refuse(
            'letter-required',
            '须先向接受地发出商请函并取得同意',
            'the receiving bureau must be consulted and consent first',
            'transferId',
            {
              route: state.route,
            },
          );
        if (state.status === 'awaiting-decision' && !state.reply?.consent)
          // Art 25: without the receiving side's consent the only decision is a refusal.
          throw refuse(
            'receiving-bureau-refused',
            '接受地不同意转移，只能作出不予批准的决定',
            'the receiving bureau refused: the only decision is a refusal',
            'transferId',
            {
              reasons: state.reply?.reasons ?? [],
            },
          );
        const lines = approvedLines(app.lines, command.data.lines);
        const total = Quantity.sum(lines.map((l) => Quantity.ofKg(l.quantityKg)));
        const licenceEnd = LocalDate.parseOrThrow(app.receiver.licenceValidUntil);
        const windowFrom = LocalDate.parseOrThrow(app.window.from);
        const windowTo = LocalDate.parseOrThrow(app.window.to);
        const validFrom = windowFrom.isAfter(today) ? windowFrom : today;
        // Art 27: at most 12 months, never past the requested window or the receiver's licence.
        const caps: [Approval['cappedBy'], LocalDate][] = [
          ['twelve-months', twelveMonthsFrom(validFrom)],
          ['requested-window', windowTo],
          ['licence', licenceEnd],
        ];
        const [cappedBy, validUntil] = caps.reduce((a, b) => (b[1].isBefore(a[1]) ? b : a));
        if (validUntil.isBefore(validFrom))
          throw refuse(
            cappedBy === 'licence' ? 'licence-expired' : 'window-in-past',
            cappedBy === 'licence' ? '接受单位许可证已过期，不能批准' : '申请转移期限已过，不能批准',
            cappedBy === 'licence'
              ? "the receiver's licence has expired: no approval"
              : 'the requested window is over: no approval',
            cappedBy === 'licence' ? 'receiver.licenceValidUntil' : 'window.to',
            { validFrom: validFrom.toString(), validUntil: validUntil.toString() },
          );
        return [
          ...missedIfLate(state, 'decision', now),
          {
            type: 'TransferApproved',
            data: {
              transferId: app.transferId,
              route: state.route ?? 'letter',
              approval: {
                approvedOn: today.toString(),
                validFrom: validFrom.toString(),
                validUntil: validUntil.toString(),
                cappedBy,
                lines,
                totalKg: total.toKgString(),
              },
              generator: app.generator,
              receiver: app.receiver,
              exportingJurisdiction: app.exportingJurisdiction,
              receivingJurisdiction: app.receivingJurisdiction,
              method: app.method,
              ...(state.whitelist ? { whitelist: state.whitelist } : {}),
              notified: notifiedOnApproval(app.exportingJurisdiction, app.receivingJurisdiction),
            },
          },
        ];
      }

      case 'WithdrawApplication': {
        const app = requireExisting(state);
        requireStatus(
          state,
          NOT_DECIDED,
          'already-decided',
          '申请已有结果，不能撤回',
          'the application has been decided or closed: it cannot be withdrawn',
        );
        requireGenerator(command.metadata, app.generator);
        const reason = command.data.reason?.trim();
        return [
          {
            type: 'TransferWithdrawn',
            data: {
              transferId: app.transferId,
              ...(reason ? { reason } : {}),
              withdrawnOn: today.toString(),
              openSteps: openSteps(state),
            },
          },
        ];
      }

      case 'DeadlineTimerFired': {
        const step = command.data.step as TransferStep;
        if (step === 'completeness')
          throw refuse(
            'silence-means-accepted',
            '受理期限届满视为受理，不是逾期（第二十三条）：请使用 CompletenessTimerFired',
            'silence at the completeness check means accepted (Art 23), not overdue: use CompletenessTimerFired',
            'step',
          );
        if (!(['review', 'reply', 'decision'] as TransferStep[]).includes(step))
          throw refuse(
            'invalid-step',
            '步骤须为 review、reply 或 decision',
            'the step is review, reply or decision',
            'step',
            { step },
          );
        const due = state.dueDates[step];
        // Stale (the step closed) or early (recomputed later) timers and repeated firings do nothing.
        if (!due || state.overdue.includes(step) || now.getTime() < Date.parse(due.dueAt)) return [];
        return [missed(state, step, due, now)];
      }

      case 'RecomputeProvisionalDeadlines': {
        const changes: DeadlineChange[] = [];
        for (const due of Object.values(state.dueDates)) {
          // A recorded miss is a fact; it is not rewritten by a later calendar.
          if (!due.provisional || (due.step !== 'completeness' && state.overdue.includes(due.step))) continue;
          const next = deadline(due.step, LocalDate.parseOrThrow(due.from), due.responsibleJurisdiction);
          if (next.lastDay === due.lastDay && next.provisional === due.provisional) continue;
          changes.push({
            step: due.step,
            previous: { lastDay: due.lastDay, dueAt: due.dueAt, provisional: due.provisional },
            deadline: next,
          });
        }
        if (changes.length === 0 || !state.transferId) return [];
        return [{ type: 'TransferDeadlinesRecomputed', data: { transferId: state.transferId, changes } }];
      }

      default:
        return assertNever(command);
    }
  };

  return {
    initialState,
    decide,
    evolve,
  };
}

function approvedLines(
  requested: readonly WasteLine[],
  approved: readonly WasteLine[] | undefined,
): WasteLine[] {
  if (approved === undefined) return [...requested];
  if (approved.length === 0)
    throw refuse(
      'lines-required',
      '批准须至少包含一种危险废物',
      'an approval covers at least one waste line',
      'lines',
    );
  const seen = new Set<string>();
  return approved.map((line, i) => {
    const code = parsed(
      WasteCode.parse(line?.wasteCode ?? '', `lines[${i}].wasteCode`),
      'invalid-waste-code',
    );
    const asked = requested.find((r) => r.wasteCode === code.value);
    if (!asked)
      throw refuse(
        'waste-not-requested',
        '批准的危险废物不在申请中',
        'the approved waste was not applied for',
        `lines[${i}].wasteCode`,
        {
          wasteCode: code.value,
        },
      );
    if (seen.has(code.value))
      throw refuse(
        'duplicate-waste-code',
        '同一危险废物代码只能批准一次',
        'each waste code is approved once',
        `lines[${i}].wasteCode`,
      );
    seen.add(code.value);
    const q = positiveKg(line.quantityKg, `lines[${i}].quantityKg`);
    if (q.isGreaterThan(Quantity.ofKg(asked.quantityKg)))
      throw refuse(
        'approved-exceeds-requested',
        '批准数量不能超过申请数量',
        'the approved quantity cannot exceed the requested one',
        `lines[${i}].quantityKg`,
        {
          requestedKg: asked.quantityKg,
          approvedKg: q.toKgString(),
        },
      );
    return { wasteCode: code.value, quantityKg: q.toKgString() };
  });
}

function openSteps(state: TransferState): TransferStep[] {
  return (Object.keys(state.dueDates) as TransferStep[]).filter((s) => state.dueDates[s] !== undefined);
}

function initialState(): TransferState {
  return { status: 'new', dueDates: {}, overdue: [] };
}

function evolve(state: TransferState, event: TransferEvent): TransferState {
  switch (event.type) {
    case 'TransferSubmitted': {
      const d = event.data;
      return {
        status: 'submitted',
        transferId: d.transferId,
        route: d.route,
        application: d.application,
        ...(d.whitelist ? { whitelist: d.whitelist } : {}),
        dueDates: { completeness: d.deadline },
        overdue: [],
      };
    }
    case 'TransferFiled':
      return {
        status: 'filed',
        transferId: event.data.transferId,
        filing: event.data.filing,
        notified: event.data.notified,
        dueDates: {},
        overdue: [],
      };
    case 'TransferReturned':
      return { ...state, status: 'returned', dueDates: {}, overdue: [] };
    case 'TransferAccepted': {
      const { deadline } = event.data;
      return {
        ...state,
        status: 'under-review',
        acceptedOn: event.data.acceptedOn,
        dueDates: { [deadline.step]: deadline },
        overdue: [],
      };
    }
    case 'TransferRefused':
      return { ...state, status: 'refused', dueDates: {}, overdue: [] };
    case 'ConsultationLetterSent':
      return { ...state, status: 'consulting', dueDates: { reply: event.data.deadline }, overdue: [] };
    case 'ConsultationReplied':
      return {
        ...state,
        status: 'awaiting-decision',
        reply: { consent: event.data.consent, reasons: event.data.reasons },
        dueDates: { decision: event.data.deadline },
        overdue: [],
      };
    case 'TransferApproved':
      return {
        ...state,
        status: 'approved',
        approval: event.data.approval,
        notified: event.data.notified,
        dueDates: {},
        overdue: [],
      };
    case 'TransferWithdrawn':
      return { ...state, status: 'withdrawn', dueDates: {}, overdue: [] };
    case 'TransferDeadlineMissed':
      return state.overdue.includes(event.data.step)
        ? state
        : { ...state, overdue: [...state.overdue, event.data.step] };
    case 'TransferDeadlinesRecomputed': {
      const dueDates = { ...state.dueDates };
      for (const change of event.data.changes) dueDates[change.step] = change.deadline;
      return { ...state, dueDates };
    }
    default:
      return assertNever(event);
  }
}

export type TransferDecider = ReturnType<typeof transferDecider>;

/** The approved quantity (exact), once approved: manifests count against it. */
export function approvedQuantity(state: TransferState): Quantity | undefined {
  return state.approval ? Quantity.ofKg(state.approval.totalKg) : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Worklist

export type TransferParty = 'generator' | 'exporting-bureau' | 'receiving-bureau';

export interface NextAction {
  readonly command: TransferCommandType;
  readonly party: TransferParty;
  /** The acting agency (generator) or jurisdiction (bureau). */
  readonly agencyId?: string;
  readonly jurisdiction?: string;
  /** The deadline the action answers, when there is one. */
  readonly dueAt?: string;
  readonly overdue: boolean;
}

/**
 * What people can do now, for the worklist (timer commands are the system's and not listed).
 * With `now`, actions whose period is over are left out (a return after the completeness period).
 */
export function nextActions(state: TransferState, now?: Date): NextAction[] {
  const app = state.application;
  if (state.status === 'new') {
    return [
      { command: 'SubmitApplication', party: 'generator', overdue: false },
      { command: 'SubmitFiling', party: 'generator', overdue: false },
    ];
  }
  if (!app) return [];
  const bureau = (command: TransferCommandType, step: TransferStep): NextAction => {
    const due = state.dueDates[step];
    const party: TransferParty = step === 'reply' ? 'receiving-bureau' : 'exporting-bureau';
    return {
      command,
      party,
      jurisdiction: step === 'reply' ? app.receivingJurisdiction : app.exportingJurisdiction,
      ...(due ? { dueAt: due.dueAt } : {}),
      overdue:
        (step !== 'completeness' && state.overdue.includes(step)) ||
        (step !== 'completeness' &&
          due !== undefined &&
          now !== undefined &&
          now.getTime() >= Date.parse(due.dueAt)),
    };
  };
  const withdraw: NextAction = {
    command: 'WithdrawApplication',
    party: 'generator',
    agencyId: app.generator.agencyId,
    overdue: false,
  };
  switch (state.status) {
    case 'submitted': {
      const due = state.dueDates.completeness;
      const periodOver = due !== undefined && now !== undefined && now.getTime() >= Date.parse(due.dueAt);
      return [
        ...(periodOver ? [] : [bureau('ReturnIncomplete', 'completeness')]),
        bureau('AcceptApplication', 'completeness'),
        withdraw,
      ];
    }
    case 'under-review':
      return state.route === 'letter'
        ? [bureau('SendConsultationLetter', 'review'), bureau('RefuseApplication', 'review'), withdraw]
        : [bureau('ApproveTransfer', 'decision'), bureau('RefuseApplication', 'decision'), withdraw];
    case 'consulting':
      return [bureau('ReplyToLetter', 'reply'), withdraw];
    case 'awaiting-decision':
      return state.reply?.consent
        ? [bureau('ApproveTransfer', 'decision'), bureau('RefuseApplication', 'decision'), withdraw]
        : [bureau('RefuseApplication', 'decision'), withdraw];
    case 'returned':
    case 'approved':
    case 'refused':
    case 'withdrawn':
    case 'filed':
      return [];
    default:
      return assertNever(state.status);
  }
}
