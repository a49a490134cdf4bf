import { join } from 'node:path';
import { Quantity } from '@lianfang/domain-kernel';
import {
  createPostgresClient,
  createPostgresEventStore,
  DomainError,
  fold,
  readOutbox,
  type PostgresSqlClient,
  type RecordedEvent,
  type SqlEventStore,
} from '@lianfang/eventsourcing';
import { describeWithPostgres, spawnTypeScript, useTestDatabase } from '@lianfang/testing';
import { transferStream } from '../transfer/decider';
import { CapacityApprovals, planLedgers } from './approvals';
import { capacityDecider, capacityStream, ledgerTotals, type CapacityEvent } from './decider';
import {
  aggregatesOn,
  approvalRequest,
  approveCommand,
  registerFacility,
  suspendFacility,
  transferAwaitingDecision,
} from './test-fixtures/approvals.fixture';

const child = join(__dirname, 'test-fixtures', 'approve-child.ts');
const schema = 'capacity_approvals';

const ledgerState = (events: readonly RecordedEvent[]) =>
  fold(
    capacityDecider,
    events.map((e) => ({ type: e.type, data: e.data }) as CapacityEvent),
  );

describe('planLedgers (which ledgers an approval touches)', () => {
  const approval = (
    validFrom: string,
    validUntil: string,
    lines: { wasteCode: string; quantityKg: string }[],
  ) => ({
    validFrom,
    validUntil,
    lines,
    totalKg: Quantity.sum(lines.map((l) => Quantity.ofKg(l.quantityKg))).toKgString(),
  });

  it('puts everything in the first year by default, and still lists (opens) the later years', () => {
    expect(
      planLedgers({
        facilityId: 'f',
        approval: approval('2026-07-01', '2027-06-30', [{ wasteCode: '900-249-08', quantityKg: '1200.000' }]),
      }).map((p) => [p.streamId, p.quantityKg]),
    ).toEqual([
      ['capacity-f-HW08-2026', '1200.000'],
      ['capacity-f-HW08-2027', '0.000'],
    ]);
  });

  it('fills the planned years category by category, exactly', () => {
    const plans = planLedgers({
      facilityId: 'f',
      approval: approval('2026-07-01', '2027-06-30', [
        { wasteCode: '900-249-08', quantityKg: '700.000' },
        { wasteCode: '900-041-49', quantityKg: '500.000' },
        { wasteCode: '251-001-08', quantityKg: '300.000' },
      ]),
      plannedByYear: { '2026': '1000.5', '2027': '499.5' },
    });
    expect(plans.map((p) => [p.category, p.year, p.quantityKg])).toEqual([
      ['HW08', 2026, '1000.000'],
      ['HW08', 2027, '0.000'],
      ['HW49', 2026, '0.500'],
      ['HW49', 2027, '499.500'],
    ]);
  });
});

describeWithPostgres(
  'CapacityApprovals on PostgreSQL: the approval and its reservations are one fact',
  () => {
    const db = useTestDatabase('capacity_approvals');
    let client: PostgresSqlClient;
    let store: SqlEventStore;
    let approvals: CapacityApprovals;
    let aggregates: ReturnType<typeof aggregatesOn>;
    const eventsOf = async (streamId: string) => (await store.readStream(streamId)).events;

    beforeAll(async () => {
      client = createPostgresClient({ connectionString: db().url, max: 4 });
      store = createPostgresEventStore({ client, schema });
      await store.start();
      aggregates = aggregatesOn(store);
      approvals = new CapacityApprovals(aggregates);
    });
    afterAll(async () => {
      await store?.close();
      await client?.close();
    });

    it('approves and reserves in ONE append: transfer, ledger and outbox in the same transaction, ledger opened from the licence', async () => {
      await registerFacility(aggregates, 'f-one', {
        licensed: [
          { category: 'HW08', annualCapacityTonnes: '12.5' },
          { category: 'HW49', annualCapacityTonnes: '5' },
        ],
      });
      await transferAwaitingDecision(aggregates, 't-one', {
        facilityId: 'f-one',
        lines: [
          { wasteCode: '900-249-08', quantityKg: '3000' },
          { wasteCode: '900-041-49', quantityKg: '1000.25' },
        ],
      });
      const outcome = await approvals.approve(approvalRequest(approveCommand('t-one')));
      expect(outcome.replayed).toBe(false);
      expect(outcome.transferState.status).toBe('approved');
      expect(outcome.reservations).toEqual([
        { facilityId: 'f-one', category: 'HW08', year: 2026, quantityKg: '3000.000' },
        { facilityId: 'f-one', category: 'HW49', year: 2026, quantityKg: '1000.250' },
      ]);

      const transfer = await eventsOf(transferStream('t-one'));
      const hw08 = await eventsOf(capacityStream('f-one', 'HW08', 2026));
      const hw49 = await eventsOf(capacityStream('f-one', 'HW49', 2026));
      expect(transfer.at(-1)?.type).toBe('TransferApproved');
      expect(hw08.map((e) => [e.type, e.data])).toEqual([
        [
          'CapacityLedgerOpened',
          { facilityId: 'f-one', category: 'HW08', year: 2026, capacityKg: '12500.000' },
        ],
        ['CapacityReserved', { reservationId: 't-one', quantityKg: '3000.000' }],
      ]);
      expect(hw49.map((e) => e.type)).toEqual(['CapacityLedgerOpened', 'CapacityReserved']);
      expect(ledgerTotals(ledgerState(hw49)).available.toKgString()).toBe('3999.750');

      // One transaction: every event of the approval carries the same commit and command, in one log run.
      const approvalEvents = [transfer.at(-1)!, ...hw08, ...hw49];
      const commits = new Set(approvalEvents.map((e) => e.logPosition.commit));
      expect(commits.size).toBe(1);
      expect(new Set(approvalEvents.map((e) => e.metadata.commandId))).toEqual(new Set(['approve-t-one']));
      expect(outcome.lastLogPosition.commit).toBe([...commits][0]);
      const outbox = (await readOutbox(client, schema)).filter(
        (o) => o.topic === 'lianfang.capacity-test.v1',
      );
      expect(outbox).toHaveLength(1);
      expect(outbox[0].transactionId).toBe([...commits][0]);
      expect(transfer.at(-2)?.logPosition.commit).not.toBe([...commits][0]);

      // The same command again (a retried request): the first result, nothing stored twice.
      const again = await approvals.approve(approvalRequest(approveCommand('t-one')));
      expect(again.replayed).toBe(true);
      expect(again.reservations).toEqual(outcome.reservations);
      expect(await eventsOf(capacityStream('f-one', 'HW08', 2026))).toHaveLength(2);
      expect(await eventsOf(transferStream('t-one'))).toHaveLength(transfer.length);
    });

    it('refuses when the ledger is full, naming category, year, requested and available kg; nothing is stored', async () => {
      await registerFacility(aggregates, 'f-full', {
        licensed: [{ category: 'HW08', annualCapacityTonnes: '5' }],
      });
      await transferAwaitingDecision(aggregates, 't-full', {
        facilityId: 'f-full',
        lines: [{ wasteCode: '900-249-08', quantityKg: '5000.001' }],
      });
      const before = await eventsOf(transferStream('t-full'));
      const outboxBefore = (await readOutbox(client, schema)).length;
      const refusal = approvals.approve(approvalRequest(approveCommand('t-full')));
      await expect(refusal).rejects.toBeInstanceOf(DomainError);
      await expect(refusal).rejects.toMatchObject({
        code: 'capacity.insufficient',
        details: {
          facilityId: 'f-full',
          category: 'HW08',
          year: 2026,
          requested: '5000.001',
          available: '5000.000',
        },
        messages: {
          en: expect.stringMatching(/HW08 in 2026: 5000\.000 kg available, 5000\.001 kg requested/),
          zh: expect.stringMatching(/2026 年 HW08/),
        },
      });
      expect(await eventsOf(transferStream('t-full'))).toHaveLength(before.length);
      expect((await store.readStream(capacityStream('f-full', 'HW08', 2026))).version).toBeUndefined();
      expect(await readOutbox(client, schema)).toHaveLength(outboxBefore);
    });

    it('splits a validity over two calendar years as planned, one reservation per year ledger', async () => {
      await registerFacility(aggregates, 'f-years');
      const window = { from: '2026-09-01', to: '2027-06-30' };
      await transferAwaitingDecision(aggregates, 't-years', {
        facilityId: 'f-years',
        lines: [{ wasteCode: '900-249-08', quantityKg: '8000' }],
        window,
      });
      const outcome = await approvals.approve(
        approvalRequest(approveCommand('t-years'), { '2026': '3000', '2027': '5000' }),
      );
      expect(outcome.transferState.approval).toMatchObject({
        validFrom: '2026-09-01',
        validUntil: '2027-06-30',
      });
      expect(outcome.reservations.map((r) => [r.year, r.quantityKg])).toEqual([
        [2026, '3000.000'],
        [2027, '5000.000'],
      ]);
      const y2026 = ledgerTotals(ledgerState(await eventsOf(capacityStream('f-years', 'HW08', 2026))));
      const y2027 = ledgerTotals(ledgerState(await eventsOf(capacityStream('f-years', 'HW08', 2027))));
      expect([y2026.available.toKgString(), y2027.available.toKgString()]).toEqual(['7000.000', '5000.000']);

      // Without a plan: all in the first year; the second year's ledger is opened, holding nothing for it.
      await registerFacility(aggregates, 'f-default');
      await transferAwaitingDecision(aggregates, 't-default', {
        facilityId: 'f-default',
        lines: [{ wasteCode: '900-249-08', quantityKg: '2000' }],
        window,
      });
      const byDefault = await approvals.approve(approvalRequest(approveCommand('t-default')));
      expect(byDefault.reservations.map((r) => [r.year, r.quantityKg])).toEqual([[2026, '2000.000']]);
      expect((await eventsOf(capacityStream('f-default', 'HW08', 2027))).map((e) => e.type)).toEqual([
        'CapacityLedgerOpened',
      ]);

      // A plan that does not add up is refused before anything is stored.
      await transferAwaitingDecision(aggregates, 't-badplan', {
        facilityId: 'f-years',
        lines: [{ wasteCode: '900-249-08', quantityKg: '100' }],
        window,
      });
      await expect(
        approvals.approve(approvalRequest(approveCommand('t-badplan'), { '2026': '60', '2027': '30' })),
      ).rejects.toMatchObject({ code: 'capacity.plan-sum-mismatch', field: 'plannedByYear' });
      expect((await eventsOf(transferStream('t-badplan'))).at(-1)?.type).toBe('ConsultationReplied');
    });

    it('refuses a suspended facility or one not licensed for the code; nothing is stored', async () => {
      await registerFacility(aggregates, 'f-susp');
      await transferAwaitingDecision(aggregates, 't-susp', {
        facilityId: 'f-susp',
        lines: [{ wasteCode: '900-249-08', quantityKg: '10' }],
      });
      await suspendFacility(aggregates, 'f-susp');
      await expect(approvals.approve(approvalRequest(approveCommand('t-susp')))).rejects.toMatchObject({
        code: 'capacity.facility-suspended',
        field: 'receiver.facilityId',
      });
      await registerFacility(aggregates, 'f-hw49', {
        licensed: [{ category: 'HW49', annualCapacityTonnes: '5' }],
      });
      await transferAwaitingDecision(aggregates, 't-hw49', {
        facilityId: 'f-hw49',
        lines: [{ wasteCode: '900-249-08', quantityKg: '10' }],
      });
      await expect(approvals.approve(approvalRequest(approveCommand('t-hw49')))).rejects.toMatchObject({
        code: 'capacity.facility-not-licensed',
        field: 'lines[0].wasteCode',
      });
      for (const id of ['t-susp', 't-hw49'])
        expect((await eventsOf(transferStream(id))).at(-1)?.type).toBe('ConsultationReplied');
      expect((await store.readStream(capacityStream('f-susp', 'HW08', 2026))).version).toBeUndefined();
    });

    interface ChildResult {
      outcome: 'approved' | 'refused';
      retries: number;
      code?: string;
      details?: Record<string, unknown>;
    }

    it('RACE: two processes approve different transfers against the last tonnes at once: one wins, the other is refused, never overbooked', async () => {
      // 10 t licensed, 2 t already reserved: A (5 t) and B (5 t) each fit alone, not together.
      await registerFacility(aggregates, 'f-race');
      const ledger = capacityStream('f-race', 'HW08', 2026);
      for (const [id, kg] of [
        ['t-race-pre', '2000'],
        ['t-race-a', '5000'],
        ['t-race-b', '5000'],
      ])
        await transferAwaitingDecision(aggregates, id, {
          facilityId: 'f-race',
          lines: [{ wasteCode: '900-249-08', quantityKg: kg }],
        });
      await approvals.approve(approvalRequest(approveCommand('t-race-pre')));

      const procs = ['t-race-a', 't-race-b'].map((transferId) => {
        const proc = spawnTypeScript(child, {
          env: {
            ...process.env,
            DATABASE_URL: db().url,
            STORE_SCHEMA: schema,
            TRANSFER_ID: transferId,
            LEDGER_STREAM: ledger,
          },
        });
        let output = '';
        const loaded = new Promise<string>((resolve) => {
          proc.stdout.on('data', (d: Buffer) => {
            output += d.toString();
            const m = /loaded (\S+)/.exec(output);
            if (m) resolve(m[1]);
          });
        });
        proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
        const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
        return { proc, loaded, exited, output: () => output };
      });
      try {
        // Both processes hold the same ledger version before either appends: the race is certain.
        const versions = await Promise.all(procs.map((p) => p.loaded));
        expect(versions).toEqual(['1', '1']);
        for (const p of procs) p.proc.stdin.write('go\n');
        const codes = await Promise.all(procs.map((p) => p.exited));
        expect({ codes, output: procs.map((p) => p.output()) }).toMatchObject({ codes: [0, 0] });
      } finally {
        for (const p of procs) if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
      }

      const results = procs.map((p) => {
        const line = /result (.+)/.exec(p.output())?.[1];
        if (!line) throw new Error(`no result from the child:\n${p.output()}`);
        return JSON.parse(line) as ChildResult;
      });
      expect(results.map((r) => r.outcome).sort()).toEqual(['approved', 'refused']);
      const loser = results.find((r) => r.outcome === 'refused')!;
      expect(loser).toMatchObject({
        code: 'capacity.insufficient',
        details: { category: 'HW08', year: 2026, requested: '5000.000', available: '3000.000' },
      });
      // The loser's first append hit the winner's commit (version conflict) and was decided again.
      expect(loser.retries).toBeGreaterThanOrEqual(1);

      const ledgerEvents = await eventsOf(ledger);
      expect(ledgerEvents.map((e) => e.type)).toEqual([
        'CapacityLedgerOpened',
        'CapacityReserved',
        'CapacityReserved',
      ]);
      const totals = ledgerTotals(ledgerState(ledgerEvents));
      expect(totals.reserved.toKgString()).toBe('7000.000');
      expect(totals.committed.compare(totals.capacity)).toBeLessThanOrEqual(0);
      const winnerId = results[0].outcome === 'approved' ? 't-race-a' : 't-race-b';
      const loserId = winnerId === 't-race-a' ? 't-race-b' : 't-race-a';
      expect((await eventsOf(transferStream(winnerId))).at(-1)?.type).toBe('TransferApproved');
      expect((await eventsOf(transferStream(loserId))).at(-1)?.type).toBe('ConsultationReplied');
    }, 90_000);
  },
);
