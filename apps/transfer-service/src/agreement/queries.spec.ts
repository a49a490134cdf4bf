import { fold } from '@lianfang/eventsourcing';
import { LocalDate, Quantity } from '@lianfang/domain-kernel';
import { adoptedHistory, clauses, CHONGQING, proposed, SICHUAN, YUNNAN } from './agreement.fixture';
import { agreementDecider, type AgreementEvent } from './decider';
import {
  clausesInForce,
  maxTransitDaysOf,
  rateFor,
  rateKeyOf,
  toleranceOf,
  whitelistEntries,
} from './queries';

const amendedClauses = {
  ...clauses,
  whitelist: [{ ...clauses.whitelist[0], quantityKg: '1500000.000' }],
  compensationRates: [{ ...clauses.compensationRates[0], fenPerTonne: '20000', to: null }],
  tolerance: { percentBasisPoints: 500, kg: '100.000' },
  maxTransitDays: 5,
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
  { type: 'AmendmentSigned', data: { agreementId: 'ag-1', amendmentId: 'am-1', member: SICHUAN } },
  { type: 'AmendmentSigned', data: { agreementId: 'ag-1', amendmentId: 'am-1', member: CHONGQING } },
  { type: 'AmendmentSigned', data: { agreementId: 'ag-1', amendmentId: 'am-1', member: YUNNAN } },
  {
    type: 'AgreementAmended',
    data: {
      agreementId: 'ag-1',
      amendmentId: 'am-1',
      members: [SICHUAN, CHONGQING, YUNNAN],
      effectiveFrom: '2026-04-01',
      validUntil: '2026-12-31',
      clauses: amendedClauses,
    },
  },
];

const adoptedState = fold(agreementDecider, adoptedHistory);
const amendedState = fold(agreementDecider, [...adoptedHistory, ...amendment]);
const expiredState = fold(agreementDecider, [
  ...adoptedHistory,
  {
    type: 'AgreementExpired',
    data: { agreementId: 'ag-1', validUntil: '2026-12-31', lapsedAmendmentId: null },
  },
]);
const proposedState = fold(agreementDecider, [proposed]);

describe('agreement queries', () => {
  it('no agreement in force before adoption, before its start or after its term', () => {
    expect(clausesInForce(agreementDecider.initialState())).toBeUndefined();
    expect(clausesInForce(proposedState, '2026-03-01')).toBeUndefined();
    expect(clausesInForce(adoptedState, '2025-12-31')).toBeUndefined();
    expect(clausesInForce(adoptedState, '2027-01-01')).toBeUndefined();
    expect(clausesInForce(adoptedState, LocalDate.parseOrThrow('2026-12-31'))?.amendmentId).toBeNull();
  });

  it('an amendment governs from its effective date; the earlier days keep the earlier clauses', () => {
    expect(clausesInForce(amendedState, '2026-03-31')?.amendmentId).toBeNull();
    expect(clausesInForce(amendedState, '2026-04-01')?.amendmentId).toBe('am-1');
    expect(clausesInForce(amendedState)?.amendmentId).toBe('am-1');
  });

  it('an expired agreement still answers for the days of its term', () => {
    expect(clausesInForce(expiredState, '2026-12-31')?.amendmentId).toBeNull();
    expect(clausesInForce(expiredState, '2027-01-01')).toBeUndefined();
  });

  it('tolerance and transit time: the agreed ones, else the defaults (5%, 100 kg, 3 days)', () => {
    expect(toleranceOf(adoptedState)).toEqual({ percentBasisPoints: 250, kg: '50.000' });
    expect(toleranceOf(amendedState, '2026-03-01')).toEqual({ percentBasisPoints: 250, kg: '50.000' });
    expect(toleranceOf(amendedState, '2026-05-01')).toEqual({ percentBasisPoints: 500, kg: '100.000' });
    expect(toleranceOf(proposedState)).toEqual({ percentBasisPoints: 500, kg: '100.000' });
    expect(maxTransitDaysOf(adoptedState)).toBe(2);
    expect(maxTransitDaysOf(amendedState, '2026-05-01')).toBe(5);
    expect(maxTransitDaysOf(agreementDecider.initialState())).toBe(3);
    // The tolerance is in the unit Quantity compares with exactly: 2.5% of 10 t is 250 kg.
    const { percentBasisPoints } = toleranceOf(adoptedState);
    expect(Quantity.ofKg('250.001').exceedsShareOf(Quantity.ofKg('10000'), percentBasisPoints)).toBe(true);
    expect(Quantity.ofKg('250').exceedsShareOf(Quantity.ofKg('10000'), percentBasisPoints)).toBe(false);
  });

  it('whitelist entries of a year, from the latest clauses or those in force on a day', () => {
    expect(whitelistEntries(adoptedState, 2026).map((e) => e.entryId)).toEqual(['wl-2026-1', 'wl-2026-2']);
    expect(whitelistEntries(adoptedState, 2027)).toEqual([]);
    expect(whitelistEntries(amendedState, 2026)).toEqual([
      { ...clauses.whitelist[0], quantityKg: '1500000.000' },
    ]);
    expect(whitelistEntries(amendedState, 2026, '2026-02-01')).toHaveLength(2);
    expect(whitelistEntries(proposedState, 2026)).toEqual([]);
  });

  it('names a rate by category, code or class', () => {
    expect(rateKeyOf('HW08')).toBe('HW08');
    expect(rateKeyOf('900-249-08')).toBe('HW08');
    expect(rateKeyOf('hazardous:772-002-18')).toBe('HW18');
    expect(rateKeyOf('construction')).toBe('construction');
    expect(rateKeyOf('garden')).toBeUndefined();
  });

  it('the rate of the period that contains the day, in fen and yuan, with its payees', () => {
    expect(
      rateFor(adoptedState, { wasteClassOrCategory: '900-249-08', payer: SICHUAN, onDate: '2026-06-30' }),
    ).toEqual({
      ...clauses.compensationRates[0],
      yuanPerTonne: '100.00',
      amendmentId: null,
    });
    expect(
      rateFor(adoptedState, { wasteClassOrCategory: 'HW08', payer: SICHUAN, onDate: '2026-07-01' }),
    ).toMatchObject({
      fenPerTonne: '15050',
      yuanPerTonne: '150.50',
      from: '2026-07-01',
      to: null,
    });
  });

  it('takes the clauses in force on the day: an amendment changes the rate from its effective date only', () => {
    const hw08 = (onDate: string) =>
      rateFor(amendedState, { wasteClassOrCategory: 'HW08', payer: SICHUAN, onDate });
    expect(hw08('2026-03-31')).toMatchObject({ fenPerTonne: '10000', amendmentId: null });
    expect(hw08('2026-04-01')).toMatchObject({ fenPerTonne: '20000', amendmentId: 'am-1' });
  });

  it("a province's rate covers its cities; the most specific payer wins", () => {
    // Chengdu (510100) has its own construction rate; a Chengdu district falls under it too.
    const construction = (payer: string) =>
      rateFor(adoptedState, { wasteClassOrCategory: 'construction', payer, onDate: '2026-05-01' });
    expect(construction('510104')).toMatchObject({ payer: '510100', fenPerTonne: '1234' });
    expect(construction('510100')?.payees).toEqual([
      { jurisdiction: '500000', shareBasisPoints: 1000 },
      { jurisdiction: '530100', shareBasisPoints: 9000 },
    ]);
    expect(construction(SICHUAN)).toBeUndefined();
    expect(
      rateFor(adoptedState, { wasteClassOrCategory: 'HW08', payer: '510100', onDate: '2026-05-01' }),
    ).toMatchObject({
      payer: SICHUAN,
    });
  });

  it('no rate for another payer, another category, a bad key or a day outside the term', () => {
    const q = { wasteClassOrCategory: 'HW08', payer: SICHUAN, onDate: '2026-05-01' };
    expect(rateFor(adoptedState, { ...q, payer: CHONGQING })).toBeUndefined();
    expect(rateFor(adoptedState, { ...q, wasteClassOrCategory: 'HW18' })).toBeUndefined();
    expect(rateFor(adoptedState, { ...q, wasteClassOrCategory: 'garden' })).toBeUndefined();
    expect(rateFor(adoptedState, { ...q, payer: 'x' })).toBeUndefined();
    expect(rateFor(adoptedState, { ...q, onDate: '2027-01-01' })).toBeUndefined();
    expect(rateFor(proposedState, q)).toBeUndefined();
  });
});
