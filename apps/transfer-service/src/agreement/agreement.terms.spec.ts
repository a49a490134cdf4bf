import { EVENT_STORE, systemActor, type EventStore } from '@lianfang/eventsourcing';
import { describeWithPostgres, useSubgraph, useTestDatabase } from '@lianfang/testing';
import { transferStream, type TransferEvent } from '../transfer/decider';
import { adoptedHistory, CHONGQING, clauses, SICHUAN, YUNNAN } from './agreement.fixture';
import { AgreementTerms } from './agreement.terms';
import { agreementStream, type AgreementEvent } from './decider';
import { service } from '../service';

const amendedClauses = {
  ...clauses,
  whitelist: [{ ...clauses.whitelist[0], quantityKg: '1500000.000' }, clauses.whitelist[1]],
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
  ...[SICHUAN, CHONGQING, YUNNAN].map((member): AgreementEvent => ({
    type: 'AmendmentSigned',
    data: { agreementId: 'ag-1', amendmentId: 'am-1', member },
  })),
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

/** An approval under a whitelist entry: within it (direct, route whitelist) or beyond it (by letter). */
const approved = (transferId: string, totalKg: string, withinEntry: boolean): TransferEvent => ({
  type: 'TransferApproved',
  data: {
    transferId,
    route: withinEntry ? 'whitelist' : 'letter',
    approval: {
      approvedOn: '2026-02-10',
      validFrom: '2026-02-10',
      validUntil: '2026-12-31',
      cappedBy: 'requested-window',
      lines: [{ wasteCode: '900-249-08', quantityKg: totalKg }],
      totalKg,
    },
    generator: { agencyId: 'cd-jincheng-auto', creditCode: '91510100MA61RK3T26' },
    receiver: { facilityId: 'fac-cq-1', licenceValidUntil: '2028-12-31' },
    exportingJurisdiction: SICHUAN,
    receivingJurisdiction: CHONGQING,
    method: 'R9',
    whitelist: { entryId: 'wl-2026-1', remainingKg: '1200500.000', withinEntry },
    notified: [],
  },
});

describeWithPostgres(
  'AgreementTerms: terms between two provinces, and what is left of a whitelist entry',
  () => {
    const db = useTestDatabase('agreement-terms');
    const subgraph = useSubgraph(service, {
      env: () => ({ EVENT_STORE: 'postgres', DATABASE_URL: db().url }),
    });
    const terms = () => subgraph.running().app.get(AgreementTerms, { strict: false });

    async function append(streamId: string, events: readonly { type: string; data: unknown }[]) {
      const store = subgraph.running().app.get<EventStore>(EVENT_STORE, { strict: false });
      const result = await store.append({
        streams: [
          { streamId, expectedVersion: 'any', events: events.map((e) => ({ type: e.type, data: e.data })) },
        ],
        context: {
          actor: systemActor('agreement-terms-spec'),
          occurredAt: new Date('2026-01-05T02:00:00Z'),
          correlationId: 'agreement-terms-spec',
        },
      });
      await terms().waitFor(result.lastLogPosition);
    }

    it('answers nothing before an agreement is adopted, then the adopted clauses for the days of its term', async () => {
      await append(agreementStream('ag-1'), adoptedHistory.slice(0, 3));
      expect(await terms().between(SICHUAN, CHONGQING, '2026-03-01')).toBeNull();
      expect(await terms().whitelistEntry('wl-2026-1', 2026)).toBeNull();

      await append(agreementStream('ag-1'), adoptedHistory.slice(3));
      const expected = {
        agreementId: 'ag-1',
        tolerance: { percentBasisPoints: 250, kg: '50.000' },
        maxTransitDays: 2,
      };
      expect(await terms().between(SICHUAN, CHONGQING, '2026-03-01')).toEqual(expected);
      // Either direction, and a city stands for its province.
      expect(await terms().between('500000', '510100', '2026-12-31')).toEqual(expected);
      expect(await terms().between(SICHUAN, CHONGQING, '2025-12-31')).toBeNull();
      expect(await terms().between(SICHUAN, CHONGQING, '2027-01-01')).toBeNull();
      expect(await terms().between(SICHUAN, '440000', '2026-03-01')).toBeNull();
      expect(await terms().between(SICHUAN, 'not-a-code', '2026-03-01')).toBeNull();
    });

    it('takes from an entry what approvals under it hold, and the amended quantity once amended', async () => {
      expect(await terms().whitelistEntry('wl-2026-1', 2026)).toEqual({
        entry: clauses.whitelist[0],
        agreementId: 'ag-1',
        remainingTonnes: '1200.500000',
      });
      await append(transferStream('t-1'), [approved('t-1', '20000.250', true)]);
      // Beyond the entry the letter was needed: that approval does not use the entry.
      await append(transferStream('t-2'), [approved('t-2', '900000.000', false)]);
      expect((await terms().whitelistEntry('wl-2026-1', 2026))?.remainingTonnes).toBe('1180.499750');
      expect(await terms().whitelistEntry('wl-2026-1', 2027)).toBeNull();
      expect(await terms().whitelistEntry('no-such-entry', 2026)).toBeNull();

      await append(agreementStream('ag-1'), amendment);
      expect(await terms().whitelistEntry('wl-2026-1', 2026)).toEqual({
        entry: amendedClauses.whitelist[0],
        agreementId: 'ag-1',
        remainingTonnes: '1479.999750',
      });
      // The tolerance and transit time of the amendment apply from its date, the earlier ones before it.
      expect(await terms().between(SICHUAN, YUNNAN, '2026-04-01')).toEqual({
        agreementId: 'ag-1',
        tolerance: { percentBasisPoints: 500, kg: '100.000' },
        maxTransitDays: 5,
      });
      expect((await terms().between(SICHUAN, YUNNAN, '2026-03-31'))?.maxTransitDays).toBe(2);
    });

    it('after expiry: no whitelist entries any more, but the terms still answer for the days of the term', async () => {
      await append(agreementStream('ag-1'), [
        {
          type: 'AgreementExpired',
          data: { agreementId: 'ag-1', validUntil: '2026-12-31', lapsedAmendmentId: null },
        },
      ]);
      expect(await terms().whitelistEntry('wl-2026-1', 2026)).toBeNull();
      expect((await terms().between(SICHUAN, CHONGQING, '2026-12-01'))?.agreementId).toBe('ag-1');
    });
  },
);
