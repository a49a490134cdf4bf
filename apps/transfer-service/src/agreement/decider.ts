/**
 * A regional agreement, adopted by consultation (domain.md, "Regional agreements"): the secretariat
 * proposes, every member provincial bureau signs or rejects, and it is adopted when all have signed.
 * An amendment goes the same way and, once signed by all, replaces the clauses from its effective date;
 * the term's end is reached by time (a system timer expires it). One stream per agreement.
 *
 * Who may act is checked by the handler from the identity; the decider sees it as command data:
 * the proposing secretariat's agency id, and the member jurisdiction a bureau signs or rejects for.
 */
import { assertNever, DomainError, type Command, type DomainEvent } from '@lianfang/eventsourcing';
import { LocalDate, type BilingualText } from '@lianfang/domain-kernel';
import {
  IssueList,
  parseClauses,
  parseMembers,
  type AgreementClauses,
  type AgreementClausesInput,
  type ClauseIssue,
} from './clauses';

export interface AgreementTitle {
  readonly zh: string;
  readonly en: string;
}

export type AgreementCommand =
  | Command<
      'ProposeAgreement',
      {
        agreementId: string;
        /** The regional secretariat's agency id: it alone proposes amendments later. */
        secretariatId: string;
        title: AgreementTitle;
        members: string[];
        effectiveFrom: string;
        /** Last day of the term, inclusive; absent: open-ended until an amendment sets one. */
        validUntil?: string | null;
        clauses: AgreementClausesInput;
      }
    >
  | Command<'SignAgreement', { agreementId: string; member: string }>
  | Command<'RejectAgreement', { agreementId: string; member: string; reason: string }>
  | Command<
      'ProposeAmendment',
      {
        agreementId: string;
        amendmentId: string;
        secretariatId: string;
        effectiveFrom: string;
        /** The term's end after the amendment; absent: unchanged. */
        validUntil?: string | null;
        /** The whole clause set that applies from `effectiveFrom` (replaces, not patches). */
        clauses: AgreementClausesInput;
      }
    >
  | Command<'SignAmendment', { agreementId: string; amendmentId: string; member: string }>
  | Command<'RejectAmendment', { agreementId: string; amendmentId: string; member: string; reason: string }>
  | Command<'ExpireAgreement', { agreementId: string }>;

export type AgreementEvent =
  | DomainEvent<
      'AgreementProposed',
      {
        agreementId: string;
        secretariatId: string;
        title: AgreementTitle;
        members: string[];
        effectiveFrom: string;
        validUntil: string | null;
        clauses: AgreementClauses;
      }
    >
  | DomainEvent<'AgreementSigned', { agreementId: string; member: string }>
  | DomainEvent<'AgreementRejected', { agreementId: string; member: string; reason: string }>
  | DomainEvent<
      'AgreementAdopted',
      {
        agreementId: string;
        title: AgreementTitle;
        members: string[];
        effectiveFrom: string;
        validUntil: string | null;
        clauses: AgreementClauses;
      }
    >
  | DomainEvent<
      'AmendmentProposed',
      {
        agreementId: string;
        amendmentId: string;
        secretariatId: string;
        effectiveFrom: string;
        validUntil: string | null;
        clauses: AgreementClauses;
      }
    >
  | DomainEvent<'AmendmentSigned', { agreementId: string; amendmentId: string; member: string }>
  | DomainEvent<
      'AmendmentRejected',
      { agreementId: string; amendmentId: string; member: string; reason: string }
    >
  | DomainEvent<
      'AgreementAmended',
      {
        agreementId: string;
        amendmentId: string;
        members: string[];
        effectiveFrom: string;
        validUntil: string | null;
        clauses: AgreementClauses;
      }
    >
  | DomainEvent<
      'AgreementExpired',
      { agreementId: string; validUntil: string; lapsedAmendmentId: string | null }
    >;

/** The clauses that apply from `effectiveFrom` until the next version's effectiveFrom (or the term's end). */
export interface ClauseVersion {
  readonly effectiveFrom: string;
  /** null for the clauses adopted with the agreement itself. */
  readonly amendmentId: string | null;
  readonly clauses: AgreementClauses;
}

export interface PendingAmendment {
  readonly amendmentId: string;
  readonly effectiveFrom: string;
  readonly validUntil: string | null;
  readonly clauses: AgreementClauses;
  readonly signedBy: readonly string[];
}

export type AgreementStatus = 'proposed' | 'adopted' | 'rejected' | 'expired';

export type AgreementState =
  | { readonly status: 'none' }
  | {
      readonly status: AgreementStatus;
      readonly agreementId: string;
      readonly secretariatId: string;
      readonly title: AgreementTitle;
      readonly members: readonly string[];
      readonly effectiveFrom: string;
      readonly validUntil: string | null;
      /** The clauses as proposed, until adoption makes them the first version. */
      readonly proposedClauses: AgreementClauses;
      /** Members that signed the agreement's proposal. */
      readonly signedBy: readonly string[];
      readonly rejection: { readonly member: string; readonly reason: string } | null;
      /** Adopted clause versions in effective-date order; empty until adoption. */
      readonly versions: readonly ClauseVersion[];
      readonly pendingAmendment: PendingAmendment | null;
      /** Amendment ids already decided (adopted or rejected): an id names one proposal only. */
      readonly decidedAmendmentIds: readonly string[];
    };

export type ExistingAgreement = Exclude<AgreementState, { status: 'none' }>;

export const agreementStream = (agreementId: string) => `agreement-${agreementId}`;

const refuse = (
  code: string,
  field: string | undefined,
  message: BilingualText,
  details?: Record<string, unknown>,
) =>
  new DomainError({
    code: `agreement.${code}`,
    message,
    ...(field !== undefined ? { field } : {}),
    ...(details !== undefined ? { details } : {}),
  });

/** Refuses with the first problem named and all of them listed, so a form can mark every field at once. */
function throwIfAny(issues: IssueList): void {
  const [first] = issues.issues;
  if (first === undefined) return;
  throw new DomainError({
    code: first.code,
    field: first.field,
    message: first.message,
    details: {
      ...(first.rule !== undefined ? { rule: first.rule } : {}),
      errors: issues.issues.map((i: ClauseIssue) => ({ ...i })),
    },
  });
}

function parseTerm(effectiveFrom: string, validUntil: string | null | undefined, issues: IssueList) {
  const from = issues.take(LocalDate.parse(effectiveFrom, 'effectiveFrom'));
  const until =
    validUntil === undefined || validUntil === null
      ? null
      : issues.take(LocalDate.parse(validUntil, 'validUntil'));
  if (from !== undefined && until !== undefined && until !== null && until.isBefore(from)) {
    issues.add('validUntil', 'term-order', {
      zh: '协议有效期的结束日期早于开始日期',
      en: 'the term ends before it starts',
    });
  }
  return { from, until };
}

function requireAgreement(state: AgreementState): ExistingAgreement {
  if (state.status === 'none')
    throw refuse('not-proposed', 'agreementId', {
      zh: '该区域协议尚未提出',
      en: 'no such agreement has been proposed',
    });
  return state;
}

function requireMember(state: ExistingAgreement, member: string): void {
  if (!state.members.includes(member))
    throw refuse(
      'not-a-member',
      'member',
      { zh: `${member} 不是本协议的成员`, en: `${member} is not a member of this agreement` },
      { members: state.members },
    );
}

function requireReason(reason: string): void {
  // Rejections carry written reasons, like every refusal in the Measures.
  if (typeof reason !== 'string' || reason.trim() === '')
    throw refuse('reason-required', 'reason', { zh: '拒绝须说明理由', en: 'a rejection needs its reasons' });
}

function requirePendingAmendment(state: ExistingAgreement, amendmentId: string): PendingAmendment {
  if (state.pendingAmendment === null || state.pendingAmendment.amendmentId !== amendmentId)
    throw refuse(
      'no-such-amendment',
      'amendmentId',
      {
        zh: `没有待签署的修订 ${amendmentId}`,
        en: `there is no amendment ${amendmentId} awaiting signatures`,
      },
      { pendingAmendmentId: state.pendingAmendment?.amendmentId ?? null },
    );
  return state.pendingAmendment;
}

const notAwaitingSignatures = (status: AgreementStatus) =>
  refuse(
    'not-awaiting-signatures',
    undefined,
    { zh: '该协议不在征求签署阶段', en: 'this agreement is not awaiting signatures' },
    { status },
  );

const alreadySigned = (member: string) =>
  refuse('already-signed', 'member', {
    zh: `${member} 已经签署`,
    en: `${member} has already signed`,
  });

function decideProposal(
  command: Extract<AgreementCommand, { type: 'ProposeAgreement' }>,
  state: AgreementState,
) {
  if (state.status !== 'none')
    throw refuse('already-proposed', 'agreementId', {
      zh: `协议 ${state.agreementId} 已经提出`,
      en: `agreement ${state.agreementId} has already been proposed`,
    });
  const data = command.data;
  const issues = new IssueList();
  issues.requireText(data.agreementId, 'agreementId');
  issues.requireText(data.secretariatId, 'secretariatId');
  issues.requireText(data.title?.zh, 'title.zh');
  issues.requireText(data.title?.en, 'title.en');
  const members = parseMembers(data.members, issues);
  const { from, until } = parseTerm(data.effectiveFrom, data.validUntil, issues);
  // Clauses are checked against the term only when it is readable; else the term's errors suffice.
  if (from === undefined || until === undefined) throwIfAny(issues);
  const clauses = parseClauses(data.clauses, { members, effectiveFrom: from!, validUntil: until! }, issues);
  throwIfAny(issues);
  const proposed: AgreementEvent = {
    type: 'AgreementProposed',
    data: {
      agreementId: data.agreementId,
      secretariatId: data.secretariatId,
      title: { zh: data.title.zh, en: data.title.en },
      members,
      effectiveFrom: from!.toString(),
      validUntil: until?.toString() ?? null,
      clauses,
    },
  };
  return [proposed];
}

function decideAmendmentProposal(
  command: Extract<AgreementCommand, { type: 'ProposeAmendment' }>,
  state: AgreementState,
): AgreementEvent[] {
  const agreement = requireAgreement(state);
  const data = command.data;
  if (agreement.status !== 'adopted')
    throw refuse(
      'not-in-force',
      'agreementId',
      { zh: '只有已生效的协议可以修订', en: 'only an adopted agreement can be amended' },
      { status: agreement.status },
    );
  if (data.secretariatId !== agreement.secretariatId)
    throw refuse('not-the-secretariat', 'secretariatId', {
      zh: '只有协议的秘书处可以提出修订',
      en: "only the agreement's secretariat proposes amendments",
    });
  if (agreement.pendingAmendment !== null)
    throw refuse(
      'amendment-pending',
      'amendmentId',
      {
        zh: `修订 ${agreement.pendingAmendment.amendmentId} 尚待签署，一次只议一项修订`,
        en: `amendment ${agreement.pendingAmendment.amendmentId} still awaits signatures; one amendment at a time`,
      },
      { pendingAmendmentId: agreement.pendingAmendment.amendmentId },
    );
  const issues = new IssueList();
  const amendmentId = issues.requireText(data.amendmentId, 'amendmentId');
  if (amendmentId !== undefined && agreement.decidedAmendmentIds.includes(amendmentId))
    issues.add('amendmentId', 'amendment-id-used', {
      zh: `修订编号 ${amendmentId} 已被使用`,
      en: `amendment id ${amendmentId} has already been used`,
    });
  const validUntil = data.validUntil === undefined ? agreement.validUntil : data.validUntil;
  // The term still starts with the agreement; the amendment's own date must fall inside it.
  const { until } = parseTerm(agreement.effectiveFrom, validUntil, issues);
  const from = issues.take(LocalDate.parse(data.effectiveFrom, 'effectiveFrom'));
  if (from !== undefined) {
    const lastVersion = agreement.versions[agreement.versions.length - 1];
    // Versions follow one another: an amendment cannot reach back before the clauses it replaces.
    if (!from.isAfter(LocalDate.parseOrThrow(lastVersion.effectiveFrom)))
      issues.add('effectiveFrom', 'amendment-effective-too-early', {
        zh: `修订的生效日期须晚于现行条款的生效日期 ${lastVersion.effectiveFrom}`,
        en: `an amendment takes effect after the clauses it replaces (in effect from ${lastVersion.effectiveFrom})`,
      });
    else if (until !== undefined && until !== null && from.isAfter(until))
      issues.add('effectiveFrom', 'outside-term', {
        zh: '修订的生效日期晚于协议有效期的结束日期',
        en: "the amendment would take effect after the agreement's term ends",
      });
  }
  if (from === undefined || until === undefined) throwIfAny(issues);
  const clauses = parseClauses(
    data.clauses,
    {
      members: agreement.members,
      effectiveFrom: LocalDate.parseOrThrow(agreement.effectiveFrom),
      validUntil: until!,
    },
    issues,
  );
  throwIfAny(issues);
  return [
    {
      type: 'AmendmentProposed',
      data: {
        agreementId: agreement.agreementId,
        amendmentId: data.amendmentId,
        secretariatId: data.secretariatId,
        effectiveFrom: from!.toString(),
        validUntil: until?.toString() ?? null,
        clauses,
      },
    },
  ];
}

export const agreementDecider = {
  initialState: (): AgreementState => ({ status: 'none' }),

  decide(command: AgreementCommand, state: AgreementState): AgreementEvent[] {
    switch (command.type) {
      case 'ProposeAgreement':
        return decideProposal(command, state);

      case 'SignAgreement': {
        const agreement = requireAgreement(state);
        const { member } = command.data;
        requireMember(agreement, member);
        if (agreement.status !== 'proposed') throw notAwaitingSignatures(agreement.status);
        if (agreement.signedBy.includes(member)) throw alreadySigned(member);
        const signed: AgreementEvent = {
          type: 'AgreementSigned',
          data: { agreementId: agreement.agreementId, member },
        };
        // The last signature adopts the agreement in the same fact: no window where all signed but it is not adopted.
        if (agreement.members.every((m) => m === member || agreement.signedBy.includes(m)))
          return [
            signed,
            {
              type: 'AgreementAdopted',
              data: {
                agreementId: agreement.agreementId,
                title: agreement.title,
                members: [...agreement.members],
                effectiveFrom: agreement.effectiveFrom,
                validUntil: agreement.validUntil,
                clauses: agreement.proposedClauses,
              },
            },
          ];
        return [signed];
      }

      case 'RejectAgreement': {
        const agreement = requireAgreement(state);
        const { member, reason } = command.data;
        requireMember(agreement, member);
        if (agreement.status !== 'proposed') throw notAwaitingSignatures(agreement.status);
        // A signature is the member's word: it is not taken back by a later rejection.
        if (agreement.signedBy.includes(member)) throw alreadySigned(member);
        requireReason(reason);
        return [{ type: 'AgreementRejected', data: { agreementId: agreement.agreementId, member, reason } }];
      }

      case 'ProposeAmendment':
        return decideAmendmentProposal(command, state);

      case 'SignAmendment': {
        const agreement = requireAgreement(state);
        const { amendmentId, member } = command.data;
        requireMember(agreement, member);
        const amendment = requirePendingAmendment(agreement, amendmentId);
        if (amendment.signedBy.includes(member)) throw alreadySigned(member);
        const signed: AgreementEvent = {
          type: 'AmendmentSigned',
          data: { agreementId: agreement.agreementId, amendmentId, member },
        };
        if (agreement.members.every((m) => m === member || amendment.signedBy.includes(m)))
          return [
            signed,
            {
              type: 'AgreementAmended',
              data: {
                agreementId: agreement.agreementId,
                amendmentId,
                members: [...agreement.members],
                effectiveFrom: amendment.effectiveFrom,
                validUntil: amendment.validUntil,
                clauses: amendment.clauses,
              },
            },
          ];
        return [signed];
      }

      case 'RejectAmendment': {
        const agreement = requireAgreement(state);
        const { amendmentId, member, reason } = command.data;
        requireMember(agreement, member);
        const amendment = requirePendingAmendment(agreement, amendmentId);
        if (amendment.signedBy.includes(member)) throw alreadySigned(member);
        requireReason(reason);
        return [
          {
            type: 'AmendmentRejected',
            data: { agreementId: agreement.agreementId, amendmentId, member, reason },
          },
        ];
      }

      case 'ExpireAgreement': {
        const agreement = requireAgreement(state);
        // A timer may fire twice, or after a rejection ended the proposal: nothing more to record.
        if (agreement.status === 'expired' || agreement.status === 'rejected') return [];
        if (agreement.validUntil === null)
          throw refuse('open-ended', 'agreementId', {
            zh: '该协议未设有效期结束日期，不会到期',
            en: 'this agreement has no end of term, so it does not expire',
          });
        const today = LocalDate.ofInstant(command.metadata.now);
        // The term ends at 24:00 of validUntil (Asia/Shanghai); the day after, it has expired.
        if (!today.isAfter(LocalDate.parseOrThrow(agreement.validUntil)))
          throw refuse(
            'term-not-ended',
            undefined,
            {
              zh: `协议有效期至 ${agreement.validUntil}，尚未届满`,
              en: `the agreement runs until ${agreement.validUntil}; its term has not ended`,
            },
            { validUntil: agreement.validUntil, today: today.toString() },
          );
        return [
          {
            type: 'AgreementExpired',
            data: {
              agreementId: agreement.agreementId,
              validUntil: agreement.validUntil,
              lapsedAmendmentId: agreement.pendingAmendment?.amendmentId ?? null,
            },
          },
        ];
      }

      default:
        return assertNever(command);
    }
  },

  evolve(state: AgreementState, event: AgreementEvent): AgreementState {
    if (event.type === 'AgreementProposed') {
      const { clauses, ...rest } = event.data;
      return {
        status: 'proposed',
        ...rest,
        proposedClauses: clauses,
        signedBy: [],
        rejection: null,
        versions: [],
        pendingAmendment: null,
        decidedAmendmentIds: [],
      };
    }
    if (state.status === 'none') return state;
    switch (event.type) {
      case 'AgreementSigned':
        return { ...state, signedBy: [...state.signedBy, event.data.member] };
      case 'AgreementRejected':
        return {
          ...state,
          status: 'rejected',
          rejection: { member: event.data.member, reason: event.data.reason },
        };
      case 'AgreementAdopted':
        return {
          ...state,
          status: 'adopted',
          versions: [
            { effectiveFrom: event.data.effectiveFrom, amendmentId: null, clauses: event.data.clauses },
          ],
        };
      case 'AmendmentProposed':
        return {
          ...state,
          pendingAmendment: {
            amendmentId: event.data.amendmentId,
            effectiveFrom: event.data.effectiveFrom,
            validUntil: event.data.validUntil,
            clauses: event.data.clauses,
            signedBy: [],
          },
        };
      case 'AmendmentSigned':
        return state.pendingAmendment === null
          ? state
          : {
              ...state,
              pendingAmendment: {
                ...state.pendingAmendment,
                signedBy: [...state.pendingAmendment.signedBy, event.data.member],
              },
            };
      case 'AmendmentRejected':
        return {
          ...state,
          pendingAmendment: null,
          decidedAmendmentIds: [...state.decidedAmendmentIds, event.data.amendmentId],
        };
      case 'AgreementAmended':
        return {
          ...state,
          validUntil: event.data.validUntil,
          versions: [
            ...state.versions,
            {
              effectiveFrom: event.data.effectiveFrom,
              amendmentId: event.data.amendmentId,
              clauses: event.data.clauses,
            },
          ],
          pendingAmendment: null,
          decidedAmendmentIds: [...state.decidedAmendmentIds, event.data.amendmentId],
        };
      case 'AgreementExpired':
        return { ...state, status: 'expired', pendingAmendment: null };
      default:
        return assertNever(event);
    }
  },
};
