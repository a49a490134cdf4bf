import { given } from '@lianfang/testing';
import { clausesInput, clauses, CHONGQING, MEMBERS, SICHUAN, YUNNAN } from './agreement.fixture';
import { adopted, adoptedHistory, metadata, propose, proposed, sign, signed } from './agreement.fixture';
import { agreementDecider, agreementStream, type AgreementCommand, type AgreementEvent } from './decider';

const reject = (member: string, reason = '接收能力不足 / not enough capacity'): AgreementCommand => ({
  type: 'RejectAgreement',
  data: { agreementId: 'ag-1', member, reason },
  metadata: metadata(),
});

const amendedClausesInput = { ...clausesInput, tolerance: { percent: '5', kg: '100' }, maxTransitDays: 3 };
const amendedClauses = {
  ...clauses,
  tolerance: { percentBasisPoints: 500, kg: '100.000' },
  maxTransitDays: 3,
};
const proposeAmendment = (
  data: Partial<Extract<AgreementCommand, { type: 'ProposeAmendment' }>['data']> = {},
): AgreementCommand => ({
  type: 'ProposeAmendment',
  data: {
    agreementId: 'ag-1',
    amendmentId: 'am-1',
    secretariatId: 'secretariat-sw',
    effectiveFrom: '2026-07-01',
    clauses: amendedClausesInput,
    ...data,
  },
  metadata: metadata('2026-06-01T02:00:00Z'),
});
const amendmentProposed: Extract<AgreementEvent, { type: 'AmendmentProposed' }> = {
  type: 'AmendmentProposed',
  data: {
    agreementId: 'ag-1',
    amendmentId: 'am-1',
    secretariatId: 'secretariat-sw',
    effectiveFrom: '2026-07-01',
    validUntil: '2026-12-31',
    clauses: amendedClauses,
  },
};
const signAmendment = (member: string, amendmentId = 'am-1'): AgreementCommand => ({
  type: 'SignAmendment',
  data: { agreementId: 'ag-1', amendmentId, member },
  metadata: metadata(),
});
const amendmentSigned = (member: string): AgreementEvent => ({
  type: 'AmendmentSigned',
  data: { agreementId: 'ag-1', amendmentId: 'am-1', member },
});
const rejectAmendment = (member: string, reason = '费率过高 / rate too high'): AgreementCommand => ({
  type: 'RejectAmendment',
  data: { agreementId: 'ag-1', amendmentId: 'am-1', member, reason },
  metadata: metadata(),
});
const amendmentRejected: AgreementEvent = {
  type: 'AmendmentRejected',
  data: { agreementId: 'ag-1', amendmentId: 'am-1', member: YUNNAN, reason: '费率过高 / rate too high' },
};
const amended: AgreementEvent = {
  type: 'AgreementAmended',
  data: {
    agreementId: 'ag-1',
    amendmentId: 'am-1',
    members: MEMBERS,
    effectiveFrom: '2026-07-01',
    validUntil: '2026-12-31',
    clauses: amendedClauses,
  },
};
const expire = (now: string): AgreementCommand => ({
  type: 'ExpireAgreement',
  data: { agreementId: 'ag-1' },
  metadata: metadata(now),
});

describe('regional agreement: proposal and signatures', () => {
  it('names its stream after the agreement', () => {
    expect(agreementStream('ag-1')).toBe('agreement-ag-1');
  });

  it('records a proposal with its clauses normalised: fen per tonne, kilograms, dashed codes, defaults', () => {
    given(agreementDecider).when(propose()).then(proposed);
  });

  it('refuses a second proposal on the same agreement id', () => {
    given(agreementDecider, proposed)
      .when(propose())
      .thenThrows({ code: 'agreement.already-proposed', field: 'agreementId' });
  });

  it('records each member signature; the last one adopts the agreement in the same decision', () => {
    given(agreementDecider, proposed).when(sign(SICHUAN)).then(signed(SICHUAN));
    given(agreementDecider, proposed, signed(SICHUAN)).when(sign(YUNNAN)).then(signed(YUNNAN));
    given(agreementDecider, proposed, signed(SICHUAN), signed(YUNNAN))
      .when(sign(CHONGQING))
      .then(signed(CHONGQING), adopted);
    given(agreementDecider, ...adoptedHistory)
      .when(sign(SICHUAN))
      .thenThrows('agreement.not-awaiting-signatures');
  });

  it('a member signs once', () => {
    given(agreementDecider, proposed, signed(SICHUAN))
      .when(sign(SICHUAN))
      .thenThrows({ code: 'agreement.already-signed', field: 'member' });
  });

  it('refuses a signature or rejection from a jurisdiction that is not a member', () => {
    given(agreementDecider, proposed)
      .when(sign('440000'))
      .thenThrows({ code: 'agreement.not-a-member', field: 'member', details: { members: MEMBERS } });
    given(agreementDecider, proposed)
      .when(reject('440000'))
      .thenThrows({ code: 'agreement.not-a-member', field: 'member' });
  });

  it('refuses to sign or reject an agreement never proposed', () => {
    given(agreementDecider)
      .when(sign(SICHUAN))
      .thenThrows({ code: 'agreement.not-proposed', field: 'agreementId' });
    given(agreementDecider).when(reject(SICHUAN)).thenThrows('agreement.not-proposed');
  });

  it('a rejection by any member ends the proposal; nobody signs after it', () => {
    const rejected: AgreementEvent = {
      type: 'AgreementRejected',
      data: { agreementId: 'ag-1', member: CHONGQING, reason: '接收能力不足 / not enough capacity' },
    };
    given(agreementDecider, proposed, signed(SICHUAN)).when(reject(CHONGQING)).then(rejected);
    given(agreementDecider, proposed, signed(SICHUAN))
      .when(reject(CHONGQING))
      .thenState((s) => {
        expect(s).toMatchObject({ status: 'rejected', rejection: { member: CHONGQING }, versions: [] });
      });
    given(agreementDecider, proposed, rejected)
      .when(sign(YUNNAN))
      .thenThrows('agreement.not-awaiting-signatures');
    given(agreementDecider, proposed, rejected)
      .when(reject(YUNNAN))
      .thenThrows('agreement.not-awaiting-signatures');
  });

  it('a member that signed cannot reject afterwards; a rejection needs its reasons', () => {
    given(agreementDecider, proposed, signed(SICHUAN))
      .when(reject(SICHUAN))
      .thenThrows('agreement.already-signed');
    given(agreementDecider, proposed)
      .when(reject(YUNNAN, '  '))
      .thenThrows({
        code: 'agreement.reason-required',
        field: 'reason',
        message: { zh: /理由/, en: /reasons/ },
      });
  });

  it('adoption makes the proposed clauses the first version, in force from the effective date', () => {
    given(agreementDecider, proposed, signed(SICHUAN), signed(YUNNAN))
      .when(sign(CHONGQING))
      .thenState((s) => {
        expect(s).toMatchObject({
          status: 'adopted',
          signedBy: [SICHUAN, YUNNAN, CHONGQING],
          versions: [{ effectiveFrom: '2026-01-01', amendmentId: null, clauses }],
        });
      });
  });
});

describe('regional agreement: amendments', () => {
  it('the secretariat proposes an amendment of an adopted agreement, with the whole clause set validated', () => {
    given(agreementDecider, ...adoptedHistory)
      .when(proposeAmendment())
      .then(amendmentProposed);
    given(agreementDecider, ...adoptedHistory)
      .when(proposeAmendment({ clauses: { ...amendedClausesInput, maxTransitDays: 0 } }))
      .thenThrows({ code: 'agreement.invalid-transit-days', field: 'clauses.maxTransitDays' });
  });

  it('only the agreement`s own secretariat proposes amendments', () => {
    given(agreementDecider, ...adoptedHistory)
      .when(proposeAmendment({ secretariatId: 'secretariat-other' }))
      .thenThrows({ code: 'agreement.not-the-secretariat', field: 'secretariatId' });
  });

  it('only an adopted agreement is amended', () => {
    given(agreementDecider, proposed)
      .when(proposeAmendment())
      .thenThrows({ code: 'agreement.not-in-force', details: { status: 'proposed' } });
    given(agreementDecider).when(proposeAmendment()).thenThrows('agreement.not-proposed');
  });

  it('one amendment at a time', () => {
    given(agreementDecider, ...adoptedHistory, amendmentProposed)
      .when(proposeAmendment({ amendmentId: 'am-2' }))
      .thenThrows({ code: 'agreement.amendment-pending', details: { pendingAmendmentId: 'am-1' } });
  });

  it('an amendment takes effect after the clauses it replaces and within the term', () => {
    given(agreementDecider, ...adoptedHistory)
      .when(proposeAmendment({ effectiveFrom: '2026-01-01' }))
      .thenThrows({ code: 'agreement.amendment-effective-too-early', field: 'effectiveFrom' });
    given(agreementDecider, ...adoptedHistory)
      .when(proposeAmendment({ effectiveFrom: '2027-01-01' }))
      .thenThrows({ code: 'agreement.outside-term', field: 'effectiveFrom' });
    given(agreementDecider, ...adoptedHistory)
      .when(proposeAmendment({ effectiveFrom: '2026-07-01', validUntil: '2026-06-30' }))
      .thenThrows({ code: 'agreement.outside-term', field: 'effectiveFrom' });
    given(agreementDecider, ...adoptedHistory)
      .when(proposeAmendment({ validUntil: '2025-12-31' }))
      .thenThrows({ code: 'agreement.term-order', field: 'validUntil' });
  });

  it('every member signs the amendment; the last signature amends the agreement from its effective date', () => {
    const history = [...adoptedHistory, amendmentProposed];
    given(agreementDecider, ...history)
      .when(signAmendment(SICHUAN))
      .then(amendmentSigned(SICHUAN));
    given(agreementDecider, ...history, amendmentSigned(SICHUAN), amendmentSigned(YUNNAN))
      .when(signAmendment(CHONGQING))
      .then(amendmentSigned(CHONGQING), amended);
    given(agreementDecider, ...history, amendmentSigned(SICHUAN), amendmentSigned(YUNNAN))
      .when(signAmendment(CHONGQING))
      .thenState((s) => {
        expect(s).toMatchObject({
          status: 'adopted',
          pendingAmendment: null,
          versions: [
            { effectiveFrom: '2026-01-01', amendmentId: null, clauses },
            { effectiveFrom: '2026-07-01', amendmentId: 'am-1', clauses: amendedClauses },
          ],
        });
      });
  });

  it('an amendment is signed once per member, only by members, and only while it is pending', () => {
    const history = [...adoptedHistory, amendmentProposed];
    given(agreementDecider, ...history, amendmentSigned(SICHUAN))
      .when(signAmendment(SICHUAN))
      .thenThrows({ code: 'agreement.already-signed', field: 'member' });
    given(agreementDecider, ...history)
      .when(signAmendment('110000'))
      .thenThrows('agreement.not-a-member');
    given(agreementDecider, ...history)
      .when(signAmendment(SICHUAN, 'am-9'))
      .thenThrows({ code: 'agreement.no-such-amendment', field: 'amendmentId' });
    given(agreementDecider, ...adoptedHistory)
      .when(signAmendment(SICHUAN))
      .thenThrows('agreement.no-such-amendment');
  });

  it('a rejection by any member ends the amendment; the agreement keeps its clauses, the id is spent', () => {
    const history = [...adoptedHistory, amendmentProposed, amendmentSigned(SICHUAN)];
    given(agreementDecider, ...history)
      .when(rejectAmendment(YUNNAN))
      .then(amendmentRejected);
    given(agreementDecider, ...history)
      .when(rejectAmendment(YUNNAN))
      .thenState((s) => {
        expect(s).toMatchObject({
          status: 'adopted',
          pendingAmendment: null,
          versions: [{ amendmentId: null }],
        });
      });
    given(agreementDecider, ...history, amendmentRejected)
      .when(signAmendment(CHONGQING))
      .thenThrows('agreement.no-such-amendment');
    given(agreementDecider, ...history, amendmentRejected)
      .when(proposeAmendment())
      .thenThrows({ code: 'agreement.amendment-id-used', field: 'amendmentId' });
    given(agreementDecider, ...history)
      .when(rejectAmendment(SICHUAN))
      .thenThrows('agreement.already-signed');
    given(agreementDecider, ...history)
      .when(rejectAmendment(YUNNAN, ''))
      .thenThrows({ code: 'agreement.reason-required', field: 'reason' });
  });

  it('an amendment may move the end of the term, and the term then bounds later clauses', () => {
    const extended: AgreementEvent = {
      type: 'AmendmentProposed',
      data: { ...amendmentProposed.data, validUntil: '2027-12-31' },
    };
    given(agreementDecider, ...adoptedHistory)
      .when(proposeAmendment({ validUntil: '2027-12-31' }))
      .then(extended);
    given(agreementDecider, ...adoptedHistory)
      .when(
        proposeAmendment({
          validUntil: '2026-12-31',
          clauses: { whitelist: [{ ...clausesInput.whitelist![0], year: 2027 }] },
        }),
      )
      .thenThrows({ code: 'agreement.outside-term', field: 'clauses.whitelist[0].year' });
  });
});

describe('regional agreement: expiry', () => {
  const expired = (lapsedAmendmentId: string | null = null): AgreementEvent => ({
    type: 'AgreementExpired',
    data: { agreementId: 'ag-1', validUntil: '2026-12-31', lapsedAmendmentId },
  });

  it('expires the day after its term ends in Asia/Shanghai, not before', () => {
    // 2026-12-31T16:00Z is 2027-01-01 00:00 in Shanghai: the term ended at 24:00 of the 31st.
    given(agreementDecider, ...adoptedHistory)
      .when(expire('2026-12-31T16:00:00Z'))
      .then(expired());
    given(agreementDecider, ...adoptedHistory)
      .when(expire('2026-12-31T15:59:59Z'))
      .thenThrows({
        code: 'agreement.term-not-ended',
        details: { validUntil: '2026-12-31', today: '2026-12-31' },
      });
  });

  it('a pending amendment lapses with the agreement', () => {
    given(agreementDecider, ...adoptedHistory, amendmentProposed)
      .when(expire('2027-01-02T00:00:00Z'))
      .then(expired('am-1'));
    given(agreementDecider, ...adoptedHistory, amendmentProposed, expired('am-1'))
      .when(signAmendment(SICHUAN))
      .thenThrows('agreement.no-such-amendment');
  });

  it('a proposal never signed by all lapses at the end of its term too', () => {
    given(agreementDecider, proposed, signed(SICHUAN)).when(expire('2027-01-02T00:00:00Z')).then(expired());
    given(agreementDecider, proposed, expired())
      .when(sign(YUNNAN))
      .thenThrows('agreement.not-awaiting-signatures');
  });

  it('records nothing when a timer fires again, or after a rejection', () => {
    given(agreementDecider, ...adoptedHistory, expired())
      .when(expire('2027-01-05T00:00:00Z'))
      .thenNothing();
    given(agreementDecider, proposed, {
      type: 'AgreementRejected',
      data: { agreementId: 'ag-1', member: SICHUAN, reason: 'no' },
    })
      .when(expire('2027-01-05T00:00:00Z'))
      .thenNothing();
  });

  it('an open-ended agreement does not expire by time; an amendment can give it an end', () => {
    const openEnded: AgreementEvent[] = [
      { ...proposed, data: { ...proposed.data, validUntil: null } },
      signed(SICHUAN),
      signed(CHONGQING),
      signed(YUNNAN),
      { ...adopted, data: { ...adopted.data, validUntil: null } },
    ];
    given(agreementDecider, ...openEnded)
      .when(expire('2030-01-01T00:00:00Z'))
      .thenThrows('agreement.open-ended');
    given(agreementDecider, ...openEnded)
      .when(expire('2030-01-01T00:00:00Z'))
      .thenThrows({ field: 'agreementId' });
    given(agreementDecider, ...openEnded)
      .when(proposeAmendment({ validUntil: '2026-12-31' }))
      .thenState((s) => expect(s).toMatchObject({ pendingAmendment: { validUntil: '2026-12-31' } }));
    given(agreementDecider).when(expire('2030-01-01T00:00:00Z')).thenThrows('agreement.not-proposed');
  });
});
