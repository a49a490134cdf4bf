// Invalid clauses are refused at proposal, each named by its field path in the command data.
import { given } from '@lianfang/testing';
import {
  clausesInput,
  CHONGQING,
  propose,
  proposeClauses,
  proposed,
  SICHUAN,
  YUNNAN,
} from './agreement.fixture';
import { DEFAULT_MAX_TRANSIT_DAYS, DEFAULT_TOLERANCE, type CompensationRateInput } from './clauses';
import { agreementDecider } from './decider';

const whitelistEntry = clausesInput.whitelist![0];
const hw08First = clausesInput.compensationRates![0];
const hw08Second = clausesInput.compensationRates![1];
const rate = (patch: Partial<CompensationRateInput>): CompensationRateInput => ({ ...hw08First, ...patch });

const refuses = (command: ReturnType<typeof propose>, code: string, field: string, rule?: string) =>
  given(agreementDecider)
    .when(command)
    .thenThrows({ code, field, ...(rule ? { details: { rule } } : {}) });

describe('agreement proposal: the agreement itself', () => {
  it('members are at least two distinct provincial jurisdictions', () => {
    refuses(propose({ members: [SICHUAN] }), 'agreement.too-few-members', 'members');
    refuses(propose({ members: [SICHUAN, SICHUAN] }), 'agreement.duplicate-member', 'members[1]');
    refuses(propose({ members: [SICHUAN, '510100'] }), 'agreement.member-not-provincial', 'members[1]');
    refuses(
      propose({ members: [SICHUAN, '990000'] }),
      'agreement.invalid-value',
      'members[1]',
      'jurisdiction.province',
    );
  });

  it('needs an id, the secretariat, a title in both languages and a term in the right order', () => {
    refuses(propose({ agreementId: '' }), 'agreement.required', 'agreementId');
    refuses(propose({ secretariatId: ' ' }), 'agreement.required', 'secretariatId');
    refuses(propose({ title: { zh: '川渝协议', en: '' } }), 'agreement.required', 'title.en');
    refuses(
      propose({ effectiveFrom: '2026-02-30' }),
      'agreement.invalid-value',
      'effectiveFrom',
      'date.invalid',
    );
    refuses(propose({ validUntil: '2025-12-31' }), 'agreement.term-order', 'validUntil');
  });

  it('lists every problem at once in details.errors, the first one named', () => {
    given(agreementDecider)
      .when(
        proposeClauses({
          whitelist: [{ ...whitelistEntry, tonnes: '1.0000001' }],
          maxTransitDays: 99,
        }),
      )
      .thenThrows({
        code: 'agreement.invalid-value',
        field: 'clauses.whitelist[0].tonnes',
        message: { zh: /6位小数/, en: /at most 6 decimals/ },
        details: {
          rule: 'quantity.precision',
          errors: [
            expect.objectContaining({ field: 'clauses.whitelist[0].tonnes', rule: 'quantity.precision' }),
            expect.objectContaining({
              field: 'clauses.maxTransitDays',
              code: 'agreement.invalid-transit-days',
            }),
          ],
        },
      });
  });

  it('without tolerance and transit clauses, takes the defaults of domain.md (5%, 100 kg, 3 days)', () => {
    given(agreementDecider)
      .when(propose({ clauses: {} }))
      .then({
        ...proposed,
        data: {
          ...proposed.data,
          clauses: {
            whitelist: [],
            compensationRates: [],
            tolerance: { percentBasisPoints: 500, kg: '100.000' },
            maxTransitDays: 3,
            dataSharing: [],
          },
        },
      });
    expect(DEFAULT_TOLERANCE).toEqual({ percentBasisPoints: 500, kg: '100.000' });
    expect(DEFAULT_MAX_TRANSIT_DAYS).toBe(3);
  });
});

describe('agreement proposal: whitelist entries', () => {
  const entry = (patch: Record<string, unknown>) =>
    proposeClauses({ whitelist: [{ ...whitelistEntry, ...patch }] });
  const at = 'clauses.whitelist[0]';

  it('the exporting party is a member', () => {
    refuses(entry({ exportingMember: '440000' }), 'agreement.not-a-member', `${at}.exportingMember`);
  });

  it('names a receiving facility', () => {
    refuses(entry({ receivingFacilityId: '' }), 'agreement.required', `${at}.receivingFacilityId`);
  });

  it('lists valid, distinct waste codes, at least one', () => {
    refuses(entry({ wasteCodes: [] }), 'agreement.no-waste-codes', `${at}.wasteCodes`);
    refuses(
      entry({ wasteCodes: ['900-249-08', '900-249-41'] }),
      'agreement.invalid-value',
      `${at}.wasteCodes[1]`,
      'wasteCode.category',
    );
    refuses(
      entry({ wasteCodes: ['900-249-08', '90024908'] }),
      'agreement.duplicate-waste-code',
      `${at}.wasteCodes[1]`,
    );
  });

  it('tonnes are an exact positive decimal', () => {
    refuses(entry({ tonnes: '1e3' }), 'agreement.invalid-value', `${at}.tonnes`, 'quantity.format');
    refuses(entry({ tonnes: '-5' }), 'agreement.invalid-value', `${at}.tonnes`, 'quantity.negative');
    refuses(entry({ tonnes: '0' }), 'agreement.quantity-not-positive', `${at}.tonnes`);
    refuses(entry({ tonnes: 12 }), 'agreement.invalid-value', `${at}.tonnes`, 'quantity.type');
  });

  it('the year is a whole year within the term', () => {
    refuses(entry({ year: 2026.5 }), 'agreement.invalid-year', `${at}.year`);
    refuses(entry({ year: 2027 }), 'agreement.outside-term', `${at}.year`);
    refuses(entry({ year: 2025 }), 'agreement.outside-term', `${at}.year`);
  });

  it('refuses the field path of the entry at fault, e.g. clauses.whitelist[2].tonnes', () => {
    const second = clausesInput.whitelist![1];
    refuses(
      proposeClauses({
        whitelist: [whitelistEntry, second, { ...second, entryId: 'wl-3', tonnes: 'abc' }],
      }),
      'agreement.invalid-value',
      'clauses.whitelist[2].tonnes',
      'quantity.format',
    );
  });

  it('entry ids are unique, and two entries never cover the same member, facility, year and code', () => {
    refuses(
      proposeClauses({ whitelist: [whitelistEntry, { ...whitelistEntry, wasteCodes: ['851-001-29'] }] }),
      'agreement.duplicate-entry-id',
      'clauses.whitelist[1].entryId',
    );
    refuses(
      proposeClauses({
        whitelist: [whitelistEntry, { ...whitelistEntry, entryId: 'wl-x', wasteCodes: ['900-214-08'] }],
      }),
      'agreement.whitelist-overlap',
      'clauses.whitelist[1].wasteCodes',
    );
    // Another facility, or another year, is another entry.
    given(agreementDecider)
      .when(
        proposeClauses({
          whitelist: [
            whitelistEntry,
            { ...whitelistEntry, entryId: 'wl-x', receivingFacilityId: 'fac-cq-2' },
          ],
        }),
      )
      .thenState((s) =>
        expect(s).toMatchObject({ proposedClauses: { whitelist: [{}, { entryId: 'wl-x' }] } }),
      );
  });
});

describe('agreement proposal: compensation rate schedules', () => {
  const rates = (...list: CompensationRateInput[]) => proposeClauses({ compensationRates: list });
  const at = 'clauses.compensationRates[0]';

  it('names a HW category or a class without code; a single hazardous code is refused', () => {
    refuses(
      rates(rate({ wasteClassOrCategory: 'HW42' })),
      'agreement.invalid-value',
      `${at}.wasteClassOrCategory`,
      'wasteCategory.unknown',
    );
    refuses(
      rates(rate({ wasteClassOrCategory: 'hazardous:900-249-08' })),
      'agreement.rate-needs-category',
      `${at}.wasteClassOrCategory`,
    );
    refuses(
      rates(rate({ wasteClassOrCategory: 'garden' })),
      'agreement.invalid-value',
      `${at}.wasteClassOrCategory`,
      'wasteClass.kind',
    );
  });

  it('yuan per tonne: a positive decimal with at most 2 decimals, stored as fen', () => {
    refuses(
      rates(rate({ yuanPerTonne: '150.005' })),
      'agreement.invalid-value',
      `${at}.yuanPerTonne`,
      'money.precision',
    );
    refuses(rates(rate({ yuanPerTonne: '0' })), 'agreement.rate-not-positive', `${at}.yuanPerTonne`);
    refuses(rates(rate({ yuanPerTonne: '-1' })), 'agreement.rate-not-positive', `${at}.yuanPerTonne`);
    given(agreementDecider)
      .when(rates(rate({ yuanPerTonne: '0.01', to: null })))
      .thenState((s) =>
        expect(s).toMatchObject({ proposedClauses: { compensationRates: [{ fenPerTonne: '1' }] } }),
      );
  });

  it('payer and payees lie within the members; a payee is not the payer and appears once', () => {
    refuses(rates(rate({ payer: '440300' })), 'agreement.outside-members', `${at}.payer`);
    refuses(
      rates(rate({ payees: [{ jurisdiction: '110000', shareBasisPoints: 10_000 }] })),
      'agreement.outside-members',
      `${at}.payees[0].jurisdiction`,
    );
    refuses(
      rates(rate({ payees: [{ jurisdiction: SICHUAN, shareBasisPoints: 10_000 }] })),
      'agreement.payee-is-payer',
      `${at}.payees[0].jurisdiction`,
    );
    refuses(
      rates(
        rate({
          payees: [
            { jurisdiction: CHONGQING, shareBasisPoints: 5000 },
            { jurisdiction: CHONGQING, shareBasisPoints: 5000 },
          ],
        }),
      ),
      'agreement.duplicate-payee',
      `${at}.payees[1].jurisdiction`,
    );
    refuses(rates(rate({ payees: [] })), 'agreement.no-payees', `${at}.payees`);
  });

  it('shares are whole basis points adding up to exactly 100%', () => {
    refuses(
      rates(
        rate({
          payees: [
            { jurisdiction: CHONGQING, shareBasisPoints: 1000 },
            { jurisdiction: YUNNAN, shareBasisPoints: 8999 },
          ],
        }),
      ),
      'agreement.shares-not-100-percent',
      `${at}.payees`,
    );
    refuses(
      rates(rate({ payees: [{ jurisdiction: CHONGQING, shareBasisPoints: 99.5 }] })),
      'agreement.invalid-share',
      `${at}.payees[0].shareBasisPoints`,
    );
    refuses(
      rates(rate({ payees: [{ jurisdiction: CHONGQING, shareBasisPoints: 0 }] })),
      'agreement.invalid-share',
      `${at}.payees[0].shareBasisPoints`,
    );
  });

  it('a period is a valid range of dates starting within the term', () => {
    refuses(rates(rate({ from: '2026-13-01' })), 'agreement.invalid-value', `${at}.from`, 'date.invalid');
    refuses(rates(rate({ to: '2025-12-31' })), 'agreement.period-order', `${at}.to`);
    refuses(rates(rate({ from: '2025-12-01' })), 'agreement.outside-term', `${at}.from`);
    refuses(rates(rate({ from: '2027-01-01', to: null })), 'agreement.outside-term', `${at}.from`);
  });

  it('periods of the same class and payer neither overlap nor leave a gap', () => {
    refuses(
      rates(hw08First, { ...hw08Second, from: '2026-06-30' }),
      'agreement.rate-periods-overlap',
      'clauses.compensationRates[1].from',
    );
    refuses(
      rates(rate({ to: null }), { ...hw08Second, from: '2026-09-01' }),
      'agreement.rate-periods-overlap',
      'clauses.compensationRates[1].from',
    );
    given(agreementDecider)
      .when(rates(hw08First, { ...hw08Second, from: '2026-07-02' }))
      .thenThrows({
        code: 'agreement.rate-periods-gap',
        field: 'clauses.compensationRates[1].from',
        message: { en: /should start on 2026-07-01/ },
      });
    // Given in any order, the later period is the one at fault.
    refuses(
      rates({ ...hw08Second, from: '2026-07-02' }, hw08First),
      'agreement.rate-periods-gap',
      'clauses.compensationRates[0].from',
    );
  });

  it('periods of another category or another payer are independent', () => {
    given(agreementDecider)
      .when(
        rates(
          hw08First,
          rate({ wasteClassOrCategory: 'HW18', from: '2026-03-01' }),
          rate({ payer: '510100', from: '2026-05-01' }),
        ),
      )
      .thenState((s) => expect(s).toMatchObject({ proposedClauses: { compensationRates: [{}, {}, {}] } }));
  });
});

describe('agreement proposal: tolerance, transit time, data sharing', () => {
  it('tolerance percent is 0–100 with at most 2 decimals, stored in basis points; kilograms are exact', () => {
    refuses(
      proposeClauses({ tolerance: { percent: '100.01' } }),
      'agreement.invalid-percent',
      'clauses.tolerance.percent',
    );
    refuses(
      proposeClauses({ tolerance: { percent: '5.125' } }),
      'agreement.invalid-percent',
      'clauses.tolerance.percent',
    );
    refuses(
      proposeClauses({ tolerance: { kg: '10.0001' } }),
      'agreement.invalid-value',
      'clauses.tolerance.kg',
      'quantity.precision',
    );
    given(agreementDecider)
      .when(proposeClauses({ tolerance: { percent: '0.05' } }))
      .thenState((s) =>
        expect(s).toMatchObject({ proposedClauses: { tolerance: { percentBasisPoints: 5, kg: '100.000' } } }),
      );
  });

  it('maximum transit time is a whole number of days from 1 to 30', () => {
    refuses(
      proposeClauses({ maxTransitDays: 0 }),
      'agreement.invalid-transit-days',
      'clauses.maxTransitDays',
    );
    refuses(
      proposeClauses({ maxTransitDays: 1.5 }),
      'agreement.invalid-transit-days',
      'clauses.maxTransitDays',
    );
    refuses(
      proposeClauses({ maxTransitDays: 31 }),
      'agreement.invalid-transit-days',
      'clauses.maxTransitDays',
    );
  });

  it('data-sharing rules name a known agency kind, a known scope and, if any, a member; no repeats', () => {
    const at = 'clauses.dataSharing[0]';
    refuses(
      proposeClauses({ dataSharing: [{ agencyKind: 'journalist', scope: 'manifests' }] }),
      'agreement.unknown-agency-kind',
      `${at}.agencyKind`,
    );
    refuses(
      proposeClauses({ dataSharing: [{ agencyKind: 'carrier', scope: 'everything' }] }),
      'agreement.unknown-scope',
      `${at}.scope`,
    );
    refuses(
      proposeClauses({ dataSharing: [{ member: '110000', agencyKind: 'carrier', scope: 'manifests' }] }),
      'agreement.not-a-member',
      `${at}.member`,
    );
    const rule = { agencyKind: 'public-security', scope: 'cases' };
    refuses(
      proposeClauses({ dataSharing: [rule, { ...rule, member: null }] }),
      'agreement.duplicate-sharing-rule',
      'clauses.dataSharing[1]',
    );
  });

  it('a clause section that is not a list is refused', () => {
    refuses(proposeClauses({ whitelist: { entryId: 'x' } }), 'agreement.not-a-list', 'clauses.whitelist');
  });
});
