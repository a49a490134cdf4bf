import { can, type Identity } from '@lianfang/auth';
import { LocalDate, type BilingualText } from '@lianfang/domain-kernel';
import { keepAgreements, signAgreements } from './agreement.access';
import type { AgreementState } from './decider';

export interface AgreementNextAction {
  readonly code:
    | 'SIGN_AGREEMENT'
    | 'REJECT_AGREEMENT'
    | 'SIGN_AMENDMENT'
    | 'REJECT_AMENDMENT'
    | 'PROPOSE_AMENDMENT'
    | 'EXPIRE_AGREEMENT';
  readonly label: BilingualText;
  readonly dueAt: Date | null;
}

const LABELS: Readonly<Record<AgreementNextAction['code'], BilingualText>> = {
  SIGN_AGREEMENT: { zh: '签署协议', en: 'sign the agreement' },
  REJECT_AGREEMENT: { zh: '拒绝签署协议', en: 'reject the agreement' },
  SIGN_AMENDMENT: { zh: '签署协议修订', en: 'sign the amendment' },
  REJECT_AMENDMENT: { zh: '拒绝签署协议修订', en: 'reject the amendment' },
  PROPOSE_AMENDMENT: { zh: '提出协议修订', en: 'propose an amendment' },
  EXPIRE_AGREEMENT: { zh: '宣告协议到期', en: "record the agreement's expiry" },
};

const action = (code: AgreementNextAction['code'], dueAt: Date | null = null): AgreementNextAction => ({
  code,
  label: LABELS[code],
  dueAt,
});

/**
 * What this caller may do next on the agreement, by the same rules the mutations check: a member
 * bureau's approver signs or rejects what awaits its province's signature; the secretariat that keeps
 * an adopted agreement amends it, and records its expiry once the term has ended (from the day after).
 */
export function nextActionsFor(
  identity: Identity,
  state: AgreementState,
  today: LocalDate,
): AgreementNextAction[] {
  if (state.status === 'none') return [];
  const actions: AgreementNextAction[] = [];
  const mayAnswer = can(identity, signAgreements, { members: state.members, member: identity.jurisdiction });
  if (state.status === 'proposed' && mayAnswer && !state.signedBy.includes(identity.jurisdiction))
    actions.push(action('SIGN_AGREEMENT'), action('REJECT_AGREEMENT'));
  if (state.status !== 'adopted') return actions;
  const pending = state.pendingAmendment;
  if (pending && mayAnswer && !pending.signedBy.includes(identity.jurisdiction))
    actions.push(action('SIGN_AMENDMENT'), action('REJECT_AMENDMENT'));
  if (can(identity, keepAgreements, { secretariatId: state.secretariatId })) {
    if (!pending) actions.push(action('PROPOSE_AMENDMENT'));
    if (state.validUntil !== null) {
      const ended = LocalDate.parseOrThrow(state.validUntil).plusDays(1);
      if (!today.isBefore(ended)) actions.push(action('EXPIRE_AGREEMENT', ended.startInstant()));
    }
  }
  return actions;
}
