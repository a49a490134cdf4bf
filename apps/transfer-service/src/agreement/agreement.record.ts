/**
 * An agreement as people read it: the decider's state plus when each signature and the rejection came.
 * One fold serves the read model (row by row) and `agreementAsOf` (the stream up to an instant), so the
 * two never disagree.
 */
import type { StreamModel } from '@lianfang/eventsourcing';
import { agreementDecider, type AgreementEvent, type AgreementState } from './decider';

/** A decider event with the metadata the store gives back (business time is all this fold needs). */
export type AgreementFact = AgreementEvent & { readonly metadata: { readonly occurredAt: Date } };

export interface AgreementRecord {
  readonly state: AgreementState;
  /** ISO instants. */
  readonly proposedAt: string | null;
  readonly updatedAt: string | null;
  /** Member → when it signed the proposal. */
  readonly signedAt: Readonly<Record<string, string>>;
  /** Member → when it signed the pending amendment. */
  readonly amendmentSignedAt: Readonly<Record<string, string>>;
  readonly rejectedAt: string | null;
  /** Events folded: the stream's version + 1. */
  readonly events: number;
}

export const emptyAgreementRecord = (): AgreementRecord => ({
  state: agreementDecider.initialState(),
  proposedAt: null,
  updatedAt: null,
  signedAt: {},
  amendmentSignedAt: {},
  rejectedAt: null,
  events: 0,
});

export function foldAgreementFact(record: AgreementRecord, fact: AgreementFact): AgreementRecord {
  const at = new Date(fact.metadata.occurredAt).toISOString();
  const state = agreementDecider.evolve(record.state, fact);
  const next: AgreementRecord = { ...record, state, updatedAt: at, events: record.events + 1 };
  switch (fact.type) {
    case 'AgreementProposed':
      return { ...next, proposedAt: at };
    case 'AgreementSigned':
      return { ...next, signedAt: { ...record.signedAt, [fact.data.member]: at } };
    case 'AgreementRejected':
      return { ...next, rejectedAt: at };
    case 'AmendmentProposed':
      return { ...next, amendmentSignedAt: {} };
    case 'AmendmentSigned':
      return { ...next, amendmentSignedAt: { ...record.amendmentSignedAt, [fact.data.member]: at } };
    case 'AmendmentRejected':
    case 'AgreementAmended':
    case 'AgreementExpired':
      return { ...next, amendmentSignedAt: {} };
    default:
      return next;
  }
}

/** The fold as a stream model, for `stateAsOf`. */
export const agreementRecordModel: StreamModel<AgreementFact, AgreementRecord> = {
  initialState: emptyAgreementRecord,
  evolve: foldAgreementFact,
};
