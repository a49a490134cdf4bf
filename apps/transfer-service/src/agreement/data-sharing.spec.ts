import { fold } from '@lianfang/eventsourcing';
import { LocalDate } from '@lianfang/domain-kernel';
import type { TransferState } from '../transfer/decider';
import { sharedUnder } from '../transfer/transfer.rules';
import { adoptedHistory, CHONGQING, clauses, MEMBERS, proposed, SICHUAN, YUNNAN } from './agreement.fixture';
import { sharingGrantOf } from './data-sharing';
import { agreementDecider, type AgreementEvent } from './decider';

// The fixture shares manifests with every member's transport department and vehicle tracks with
// Yunnan's public security; the amendment below opens transfers to Chongqing's public security from April.
const amendedClauses = {
  ...clauses,
  dataSharing: [
    ...clauses.dataSharing,
    { member: CHONGQING, agencyKind: 'public-security' as const, scope: 'transfers' as const },
    { member: null, agencyKind: 'municipal-bureau' as const, scope: 'transfers' as const },
  ],
};
const amendment: AgreementEvent[] = [
  {
    type: 'AmendmentProposed',
    data: {
      agreementId: 'ag-1',
      amendmentId: 'am-1',
      secretariatId: 'secretariat-sw',
      effectiveFrom: '2026-04-01',
      validUntil: '2026-12-31',
      clauses: amendedClauses,
    },
  },
  ...MEMBERS.map((member): AgreementEvent => ({
    type: 'AmendmentSigned',
    data: { agreementId: 'ag-1', amendmentId: 'am-1', member },
  })),
  {
    type: 'AgreementAmended',
    data: {
      agreementId: 'ag-1',
      amendmentId: 'am-1',
      members: MEMBERS,
      effectiveFrom: '2026-04-01',
      validUntil: '2026-12-31',
      clauses: amendedClauses,
    },
  },
];
const amended = fold(agreementDecider, [...adoptedHistory, ...amendment]);
const expired = fold(agreementDecider, [
  ...adoptedHistory,
  ...amendment,
  {
    type: 'AgreementExpired',
    data: { agreementId: 'ag-1', validUntil: '2026-12-31', lapsedAmendmentId: null },
  },
]);
const day = (d: string) => LocalDate.parseOrThrow(d);
const police = (jurisdiction: string) => ({ agencyKind: 'public-security' as const, jurisdiction });

describe('data sharing under an agreement', () => {
  it('grants the named kind within the named member, from the clause version in force that day', () => {
    expect(sharingGrantOf(amended, police('500000'), 'transfers', day('2026-05-01'))).toEqual({
      agreementId: 'ag-1',
      members: MEMBERS,
    });
    // A district's agency lies within its member.
    expect(sharingGrantOf(amended, police('500112'), 'transfers', day('2026-05-01'))).toBeDefined();
    // Before the amendment took effect the clauses opened no transfers.
    expect(sharingGrantOf(amended, police('500000'), 'transfers', day('2026-03-31'))).toBeUndefined();
    // Another member's police, another scope, another kind.
    expect(sharingGrantOf(amended, police('510000'), 'transfers', day('2026-05-01'))).toBeUndefined();
    expect(sharingGrantOf(amended, police('500000'), 'manifests', day('2026-05-01'))).toBeUndefined();
    expect(
      sharingGrantOf(
        amended,
        { agencyKind: 'finance-office', jurisdiction: '500000' },
        'transfers',
        day('2026-05-01'),
      ),
    ).toBeUndefined();
  });

  it('a rule without a member covers every member’s agencies, and none outside', () => {
    const bureau = (jurisdiction: string) => ({ agencyKind: 'municipal-bureau' as const, jurisdiction });
    expect(sharingGrantOf(amended, bureau('510100'), 'transfers', day('2026-05-01'))).toBeDefined();
    expect(sharingGrantOf(amended, bureau('530100'), 'transfers', day('2026-05-01'))).toBeDefined();
    expect(sharingGrantOf(amended, bureau('520100'), 'transfers', day('2026-05-01'))).toBeUndefined();
  });

  it('opens nothing before adoption, outside the term, or once expired', () => {
    const proposedOnly = fold(agreementDecider, [proposed]);
    const manifests = { agencyKind: 'transport-department' as const, jurisdiction: '510000' };
    expect(sharingGrantOf(proposedOnly, manifests, 'manifests', day('2026-05-01'))).toBeUndefined();
    expect(sharingGrantOf(amended, manifests, 'manifests', day('2026-05-01'))).toBeDefined();
    expect(sharingGrantOf(amended, manifests, 'manifests', day('2025-12-31'))).toBeUndefined();
    expect(sharingGrantOf(amended, manifests, 'manifests', day('2027-01-01'))).toBeUndefined();
    expect(sharingGrantOf(expired, manifests, 'manifests', day('2026-05-01'))).toBeUndefined();
  });

  it('a grant opens transfers between two different members only', () => {
    const grants = [{ agreementId: 'ag-1', members: [SICHUAN, CHONGQING, YUNNAN] }];
    const application = (exportingJurisdiction: string, receivingJurisdiction: string) =>
      ({ application: { exportingJurisdiction, receivingJurisdiction } }) as unknown as TransferState;
    const filing = (exportingJurisdiction: string, receivingCity: string) =>
      ({ filing: { exportingJurisdiction, receivingCity } }) as unknown as TransferState;
    expect(sharedUnder(grants, application(SICHUAN, CHONGQING))).toBe(true);
    expect(sharedUnder(grants, application(YUNNAN, SICHUAN))).toBe(true);
    expect(sharedUnder(grants, application(SICHUAN, SICHUAN))).toBe(false);
    expect(sharedUnder(grants, application(SICHUAN, '520000'))).toBe(false);
    expect(sharedUnder([], application(SICHUAN, CHONGQING))).toBe(false);
    // A filing: the generator's seat and the receiving city, by their provinces.
    expect(sharedUnder(grants, filing('510104', '530100'))).toBe(true);
    expect(sharedUnder(grants, filing('510104', '510600'))).toBe(false);
  });
});
