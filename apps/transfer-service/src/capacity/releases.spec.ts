import {
  createPostgresClient,
  createPostgresEventStore,
  fold,
  startProjection,
  type Projection,
  systemActor,
  type PostgresSqlClient,
  type SqlEventStore,
} from '@lianfang/eventsourcing';
import { describeWithPostgres, useTestDatabase } from '@lianfang/testing';
import { facilityProjection } from '../facility/facility.projection';
import { FacilityQueries } from '../facility/facility.queries';
import { CapacityApprovals } from './approvals';
import { capacityProjection } from './capacity.projection';
import { CapacityQueries } from './capacity.queries';
import { capacityDecider, capacityStream, ledgerTotals, type CapacityEvent } from './decider';
import { receiptConsumption } from './receipt';
import { CapacityReleaser, ledgersOfApproval } from './releases';
import {
  aggregatesOn,
  approvalRequest,
  approveCommand,
  meta,
  registerFacility,
  transferAwaitingDecision,
} from './test-fixtures/approvals.fixture';

describe('ledgersOfApproval', () => {
  it('lists every category of the approval × every year of its validity', () => {
    expect(
      ledgersOfApproval('f', {
        approvedOn: '2026-03-02',
        validFrom: '2026-07-01',
        validUntil: '2027-06-30',
        cappedBy: 'twelve-months',
        lines: [
          { wasteCode: '900-041-49', quantityKg: '1.000' },
          { wasteCode: '900-249-08', quantityKg: '1.000' },
          { wasteCode: '251-001-08', quantityKg: '1.000' },
        ],
        totalKg: '3.000',
      }),
    ).toEqual([
      'capacity-f-HW08-2026',
      'capacity-f-HW08-2027',
      'capacity-f-HW49-2026',
      'capacity-f-HW49-2027',
    ]);
  });
});

describeWithPostgres('CapacityReleaser on PostgreSQL', () => {
  const db = useTestDatabase('capacity_releases');
  let client: PostgresSqlClient;
  let store: SqlEventStore;
  let aggregates: ReturnType<typeof aggregatesOn>;

  beforeAll(async () => {
    client = createPostgresClient({ connectionString: db().url, max: 4 });
    store = createPostgresEventStore({ client, schema: 'capacity_releases' });
    await store.start();
    aggregates = aggregatesOn(store);
  });
  afterAll(async () => {
    await store?.close();
    await client?.close();
  });

  const ledger = async (year: number) =>
    (await store.readStream(capacityStream('f-rel', 'HW08', year))).events.map(
      (e) => ({ type: e.type, data: e.data }) as CapacityEvent,
    );

  it('releases what the approval still holds in every year ledger, once; receipts stay consumed', async () => {
    await registerFacility(aggregates, 'f-rel');
    await transferAwaitingDecision(aggregates, 't-rel', {
      facilityId: 'f-rel',
      lines: [{ wasteCode: '900-249-08', quantityKg: '8000' }],
      window: { from: '2026-09-01', to: '2027-06-30' },
    });
    await new CapacityApprovals(aggregates).approve(
      approvalRequest(approveCommand('t-rel'), { '2026': '3000', '2027': '5000' }),
    );

    // A receipt of 1200 kg in 2026, in the manifest's own append (the binding the manifest slice uses).
    const consumption = receiptConsumption({
      facilityId: 'f-rel',
      wasteCode: '900-249-08',
      receivedOn: '2026-10-10',
      transferId: 't-rel',
      receiptId: 'm-rel-1',
      acceptedKg: '1200',
    });
    await aggregates.handleAcross({
      command: {
        type: 'ReceiveManifest',
        data: { receiptId: 'm-rel-1' },
        metadata: meta('receive-m-rel-1', systemActor('test')),
      },
      streams: { ledger: consumption.binding },
      decide: (command, states) => ({ ledger: consumption.decide(states.ledger, command.metadata) }),
    });

    const releaser = new CapacityReleaser(aggregates);
    const release = () =>
      releaser.release({
        transferId: 't-rel',
        facilityId: 'f-rel',
        reason: 'expiry',
        metadata: meta('expire-t-rel', systemActor('transfer.expiry')),
      });
    await release();
    const [y2026, y2027] = [await ledger(2026), await ledger(2027)];
    expect(y2026.at(-1)).toEqual({
      type: 'CapacityReleased',
      data: { reservationId: 't-rel', reason: 'expiry', releasedKg: '1800.000' },
    });
    expect(y2027.at(-1)).toEqual({
      type: 'CapacityReleased',
      data: { reservationId: 't-rel', reason: 'expiry', releasedKg: '5000.000' },
    });
    const totals2026 = ledgerTotals(fold(capacityDecider, y2026));
    expect([totals2026.consumed.toKgString(), totals2026.available.toKgString()]).toEqual([
      '1200.000',
      '8800.000',
    ]);
    expect(ledgerTotals(fold(capacityDecider, y2027)).available.toKgString()).toBe('10000.000');

    // Twice (a timer firing again, or another command id): nothing new.
    await release();
    await releaser.release({
      transferId: 't-rel',
      facilityId: 'f-rel',
      reason: 'revocation',
      metadata: meta('revoke-f-rel', systemActor('facility.revocation')),
    });
    expect(await ledger(2026)).toHaveLength(y2026.length);
    expect(await ledger(2027)).toHaveLength(y2027.length);
  });

  it('keeps the capacity_ledgers read model equal to the ledgers, and answers facilitiesThatCanTake from it', async () => {
    const schema = 'capacity_releases';
    const runners = await Promise.all(
      [facilityProjection, capacityProjection].map((projection) =>
        startProjection({ client, store, projection: projection as unknown as Projection }),
      ),
    );
    try {
      const { next } = await store.readAll({ maxCount: 10_000 });
      await Promise.all(runners.map((r) => r.waitFor(next, 10_000)));
      const { rows } = await client.query<Record<string, string | number>>(
        `SELECT year, capacity_kg::text AS capacity, reserved_kg::text AS reserved, consumed_kg::text AS consumed,
                available_kg::text AS available
           FROM ${schema}.capacity_ledgers WHERE facility_id = 'f-rel' ORDER BY year`,
      );
      const expected = await Promise.all(
        [2026, 2027].map(async (year) => {
          const t = ledgerTotals(fold(capacityDecider, await ledger(year)));
          return {
            year,
            capacity: t.capacity.toKgString(),
            reserved: t.reserved.toKgString(),
            consumed: t.consumed.toKgString(),
            available: t.available.toKgString(),
          };
        }),
      );
      expect(rows).toEqual(expected);
      expect(rows[0]).toMatchObject({ consumed: '1200.000', available: '8800.000' });

      const queries = new CapacityQueries(client, schema, new FacilityQueries(client, schema));
      const found = await queries.facilitiesThatCanTake({
        wasteCode: '900-249-08',
        tonnes: '8.8',
        year: 2026,
        near: { lat: '29.56', lon: '106.55' },
      });
      expect(found.map((c) => [c.facility.id, c.availableKg.toKgString()])).toEqual([['f-rel', '8800.000']]);
      expect(found[0].distanceKm).toMatch(/^\d+\.\d$/);
      expect(
        await queries.facilitiesThatCanTake({ wasteCode: '900-249-08', tonnes: '8.800001', year: 2026 }),
      ).toEqual([]);
    } finally {
      await Promise.all(runners.map((r) => r.stop()));
    }
  });

  it('does nothing for a transfer that was never approved', async () => {
    await transferAwaitingDecision(aggregates, 't-open', {
      facilityId: 'f-rel',
      lines: [{ wasteCode: '900-249-08', quantityKg: '10' }],
    });
    const before = await ledger(2026);
    await new CapacityReleaser(aggregates).release({
      transferId: 't-open',
      facilityId: 'f-rel',
      reason: 'withdrawal',
      metadata: meta('withdraw-t-open', systemActor('transfer.withdrawal')),
    });
    expect(await ledger(2026)).toEqual(before);
  });
});
