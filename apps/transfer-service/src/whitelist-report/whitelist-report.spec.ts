import type { Identity } from '@lianfang/auth';
import { EVENT_STORE, systemActor, type EventStore } from '@lianfang/eventsourcing';
import { describeWithPostgres, useSubgraph, useTestDatabase } from '@lianfang/testing';
import { clauses as fixtureClauses } from '../agreement/agreement.fixture';
import type { AgreementClauses, WhitelistEntry } from '../agreement/clauses';
import { agreementStream, type AgreementEvent } from '../agreement/decider';
import { service } from '../service';
import { manifestStream, type ManifestEvent } from '../manifest/decider';
import { transferStream, type TransferEvent } from '../transfer/decider';
import { whitelistReportCsv, WHITELIST_REPORT_HEADER } from './whitelist-report.csv';
import { WhitelistReportReadModel } from './whitelist-report.projection';

const SICHUAN = '510000';
const CHONGQING = '500000';

const entry = (entryId: string, overrides: Partial<WhitelistEntry> = {}): WhitelistEntry => ({
  entryId,
  exportingMember: SICHUAN,
  receivingFacilityId: 'fac-cq-yuhuan',
  wasteCodes: ['900-249-08', '900-214-08'],
  quantityKg: '500000.000',
  year: 2026,
  ...overrides,
});
const whitelist = (first: WhitelistEntry): WhitelistEntry[] => [
  first,
  entry('wl-2026-02', {
    exportingMember: CHONGQING,
    receivingFacilityId: 'fac-cd-rongqing',
    wasteCodes: ['772-002-18'],
    quantityKg: '300000.000',
  }),
  entry('wl-2027-01', { year: 2027 }),
];
const clausesWith = (list: WhitelistEntry[]): AgreementClauses => ({
  ...fixtureClauses,
  whitelist: list,
  compensationRates: [fixtureClauses.compensationRates[0]],
});
const title = { zh: '川渝白名单协议', en: 'Sichuan–Chongqing whitelist agreement' };
const adopted = clausesWith(whitelist(entry('wl-2026-01')));
const amended = clausesWith(whitelist(entry('wl-2026-01', { quantityKg: '650000.000' })));

const agreementEvents: AgreementEvent[] = [
  {
    type: 'AgreementProposed',
    data: {
      agreementId: 'ag-wl',
      secretariatId: 'chengyu-secretariat',
      title,
      members: [SICHUAN, CHONGQING],
      effectiveFrom: '2026-01-01',
      validUntil: '2027-12-31',
      clauses: adopted,
    },
  },
  { type: 'AgreementSigned', data: { agreementId: 'ag-wl', member: SICHUAN } },
  { type: 'AgreementSigned', data: { agreementId: 'ag-wl', member: CHONGQING } },
  {
    type: 'AgreementAdopted',
    data: {
      agreementId: 'ag-wl',
      title,
      members: [SICHUAN, CHONGQING],
      effectiveFrom: '2026-01-01',
      validUntil: '2027-12-31',
      clauses: adopted,
    },
  },
  {
    type: 'AgreementAmended',
    data: {
      agreementId: 'ag-wl',
      amendmentId: 'am-1',
      members: [SICHUAN, CHONGQING],
      effectiveFrom: '2026-07-01',
      validUntil: '2027-12-31',
      clauses: amended,
    },
  },
];

const approved = (
  transferId: string,
  totalKg: string,
  withinEntry: boolean,
  approvedOn: string,
): TransferEvent => ({
  type: 'TransferApproved',
  data: {
    transferId,
    route: withinEntry ? 'whitelist' : 'letter',
    approval: {
      approvedOn,
      validFrom: approvedOn,
      validUntil: '2027-06-30',
      cappedBy: 'requested-window',
      lines: [{ wasteCode: '900-249-08', quantityKg: totalKg }],
      totalKg,
    },
    generator: { agencyId: 'cd-jincheng-auto', creditCode: '91510100MA61RK3T26' },
    receiver: { facilityId: 'fac-cq-yuhuan', licenceValidUntil: '2028-12-31' },
    exportingJurisdiction: SICHUAN,
    receivingJurisdiction: CHONGQING,
    method: 'R9 废矿物油再生',
    whitelist: { entryId: 'wl-2026-01', remainingKg: '500000.000', withinEntry },
    notified: [],
  },
});

const received = (
  manifestNumber: string,
  transferId: string,
  acceptedKg: string,
  receiptDate: string,
  acceptance: 'full' | 'partial' = 'full',
): ManifestEvent => ({
  type: 'ManifestReceived',
  data: {
    manifestNumber,
    acceptance,
    declaredKg: '10000.000',
    acceptedKg,
    method: 'R9',
    wasteClass: 'hazardous:900-249-08',
    wasteCode: '900-249-08',
    fromJurisdiction: '510100',
    toJurisdiction: CHONGQING,
    facilityId: 'fac-cq-yuhuan',
    authorizationId: transferId,
    receiptDate,
    receivedAt: `${receiptDate}T02:00:00.000Z`,
    onTime: true,
  },
});
const disposed = (manifestNumber: string, disposedAt: string): ManifestEvent => ({
  type: 'ManifestDisposed',
  data: { manifestNumber, method: 'R9', disposedAt },
});

const sichuan: Identity = {
  subject: 'li.na',
  agencyId: 'sc-eeb',
  agencyKind: 'provincial-bureau',
  jurisdiction: SICHUAN,
  roles: ['viewer'],
};
const secretariat: Identity = {
  subject: 'zhou.min',
  agencyId: 'chengyu-secretariat',
  agencyKind: 'regional-secretariat',
  jurisdiction: SICHUAN,
  roles: ['viewer'],
};
const yunnan: Identity = { ...sichuan, agencyId: 'yn-eeb', jurisdiction: '530000' };
const finance: Identity = { ...sichuan, agencyId: 'sc-finance', agencyKind: 'finance-office' };

const REPORT = `query($id: ID!, $year: Int!) { whitelistReport(agreementId: $id, year: $year) {
  agreementId title { zh en } year rows { entryId exportingMember receivingFacilityId wasteCodes whitelistedKg
  approvedKg transfers receivedKg disposedKg manifests } } }`;
const CSV = `query($id: ID!, $year: Int!) { whitelistReportCsv(agreementId: $id, year: $year) }`;

describeWithPostgres('transfer-service: the January whitelist report, from the events', () => {
  const db = useTestDatabase('whitelist-report');
  const subgraph = useSubgraph(service, {
    env: () => ({ EVENT_STORE: 'postgres', DATABASE_URL: db().url }),
  });

  async function append(streamId: string, events: readonly { type: string; data: unknown }[]) {
    const app = subgraph.running().app;
    const result = await app.get<EventStore>(EVENT_STORE, { strict: false }).append({
      streams: [
        { streamId, expectedVersion: 'any', events: events.map((e) => ({ type: e.type, data: e.data })) },
      ],
      context: {
        actor: systemActor('whitelist-report-spec'),
        occurredAt: new Date('2026-01-05T02:00:00Z'),
        correlationId: 'whitelist-report-spec',
      },
    });
    await app.get(WhitelistReportReadModel, { strict: false }).waitFor(result.lastLogPosition);
  }

  beforeAll(async () => {
    await append(agreementStream('ag-wl'), agreementEvents);
    await append(transferStream('t-1'), [approved('t-1', '120000.000', true, '2026-02-10')]);
    await append(transferStream('t-2'), [approved('t-2', '30000.5', true, '2026-11-20')]);
    // Beyond the entry: approved by letter, not a whitelisted transfer.
    await append(transferStream('t-3'), [approved('t-3', '999999.000', false, '2026-03-01')]);
    // Received, corrected after receipt, disposed of in the year.
    await append(manifestStream('m-1'), [
      received('m-1', 't-1', '9870.500', '2026-03-12'),
      {
        type: 'ManifestReceiptCorrected',
        data: {
          manifestNumber: 'm-1',
          declaredKg: '10000.000',
          previousAcceptedKg: '9870.500',
          acceptedKg: '9780.500',
          reason: '地磅复检 weighbridge recalibrated',
          wasteClass: 'hazardous:900-249-08',
          wasteCode: '900-249-08',
          fromJurisdiction: '510100',
          toJurisdiction: CHONGQING,
          facilityId: 'fac-cq-yuhuan',
          authorizationId: 't-1',
          correctedAt: '2026-03-16T02:00:00.000Z',
        },
      },
      disposed('m-1', '2026-03-20T02:00:00.000Z'),
    ]);
    // Partly accepted at the end of December, disposed of in January.
    await append(manifestStream('m-2'), [
      {
        type: 'ManifestPartiallyAccepted',
        data: {
          manifestNumber: 'm-2',
          declaredKg: '10000.000',
          acceptedKg: '4000.250',
          rejectedKg: '5999.750',
          reasons: ['包装破损 damaged packaging'],
          disposition: 'return-to-generator',
          otherFacilityId: null,
        },
      },
      received('m-2', 't-1', '4000.250', '2026-12-30', 'partial'),
      disposed('m-2', '2027-01-04T02:00:00.000Z'),
    ]);
    // Received on the year's last day; disposed of at 16:30 UTC that day, which is already 1 January in China.
    await append(manifestStream('m-5'), [
      received('m-5', 't-1', '0.125', '2026-12-31'),
      disposed('m-5', '2026-12-31T16:30:00.000Z'),
    ]);
    // Next year's receipt, and the letter transfer's: neither counts for 2026.
    await append(manifestStream('m-3'), [received('m-3', 't-2', '5000.000', '2027-01-05')]);
    await append(manifestStream('m-4'), [received('m-4', 't-3', '7000.000', '2026-12-01')]);
  });

  const rows2026 = [
    {
      entryId: 'wl-2026-01',
      exportingMember: SICHUAN,
      receivingFacilityId: 'fac-cq-yuhuan',
      wasteCodes: ['900-249-08', '900-214-08'],
      whitelistedKg: '650000.000',
      approvedKg: '150000.500',
      transfers: 2,
      receivedKg: '13780.875',
      disposedKg: '9780.500',
      manifests: 3,
    },
    {
      entryId: 'wl-2026-02',
      exportingMember: CHONGQING,
      receivingFacilityId: 'fac-cd-rongqing',
      wasteCodes: ['772-002-18'],
      whitelistedKg: '300000.000',
      approvedKg: '0.000',
      transfers: 0,
      receivedKg: '0.000',
      disposedKg: '0.000',
      manifests: 0,
    },
  ];

  it("gives last year's figures per entry, entries with nothing received as zeros", async () => {
    const { body } = await subgraph.post(REPORT, {
      variables: { id: 'ag-wl', year: 2026 },
      identity: sichuan,
    });
    expect(body.errors).toBeUndefined();
    expect(body.data?.whitelistReport).toEqual({ agreementId: 'ag-wl', title, year: 2026, rows: rows2026 });

    const next = await subgraph.post<{ whitelistReport: { rows: unknown[] } }>(REPORT, {
      variables: { id: 'ag-wl', year: 2027 },
      identity: secretariat,
    });
    expect(next.body.data?.whitelistReport.rows).toEqual([
      {
        ...rows2026[0],
        entryId: 'wl-2027-01',
        whitelistedKg: '500000.000',
        approvedKg: '0.000',
        transfers: 0,
        receivedKg: '0.000',
        disposedKg: '0.000',
        manifests: 0,
      },
    ]);
  });

  it('gives the same as CSV text with a bilingual header and exact decimals', async () => {
    const { body } = await subgraph.post<{ whitelistReportCsv: string }>(CSV, {
      variables: { id: 'ag-wl', year: 2026 },
      identity: secretariat,
    });
    expect(body.errors).toBeUndefined();
    expect(body.data?.whitelistReportCsv).toBe(
      '条目编号 Entry ID,移出成员 Exporting member,接收设施 Receiving facility,危险废物代码 Waste codes,' +
        '白名单数量（千克） Whitelisted (kg),批准数量（千克） Approved (kg),批准转移数 Transfers approved,' +
        '接收数量（千克） Received (kg),处置数量（千克） Disposed (kg),联单数 Manifests\r\n' +
        'wl-2026-01,510000,fac-cq-yuhuan,900-249-08 900-214-08,650000.000,150000.500,2,13780.875,9780.500,3\r\n' +
        'wl-2026-02,500000,fac-cd-rongqing,772-002-18,300000.000,0.000,0,0.000,0.000,0\r\n',
    );
  });

  it('quotes a CSV field holding a comma or a quote', () => {
    const csv = whitelistReportCsv({
      agreementId: 'ag',
      title,
      year: 2026,
      rows: [{ ...rows2026[1], receivingFacilityId: 'fac "west", 2' }],
    });
    expect(csv.split('\r\n')[0]).toBe(WHITELIST_REPORT_HEADER.join(','));
    expect(csv.split('\r\n')[1]).toBe(
      'wl-2026-02,500000,"fac ""west"", 2",772-002-18,300000.000,0.000,0,0.000,0.000,0',
    );
  });

  it("shows the report to the members' bureaus and the secretariat only", async () => {
    for (const who of [yunnan, finance]) {
      const { body } = await subgraph.post(CSV, { variables: { id: 'ag-wl', year: 2026 }, identity: who });
      expect(body.data?.whitelistReportCsv).toBeNull();
      expect(body.errors?.[0].extensions).toMatchObject({
        category: 'FORBIDDEN',
        rule: 'whitelist-report.read',
      });
    }
    const unknown = await subgraph.post(REPORT, {
      variables: { id: 'no-such', year: 2026 },
      identity: sichuan,
    });
    expect(unknown.body.data).toEqual({ whitelistReport: null });
    const year = await subgraph.post(REPORT, { variables: { id: 'ag-wl', year: 1999 }, identity: sichuan });
    expect(year.body.errors?.[0].extensions).toMatchObject({ code: 'INPUT_INVALID', field: 'year' });
  });
});
