import type { Identity } from '@lianfang/auth';
import { WorkingDayCalendar } from '@lianfang/domain-kernel';
import { Aggregates, systemActor, type RecordedEvent } from '@lianfang/eventsourcing';
import { userCommandMetadata } from '@lianfang/graph';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import { describeWithPostgres, useRunningService, useTestDatabase } from '@lianfang/testing';
import { readTimer } from '@lianfang/messaging';
import { capacityStream } from '../capacity/decider';
import { registerFacility } from '../capacity/test-fixtures/approvals.fixture';
import { CLOCK, WORKING_DAY_CALENDAR } from '../common/time';
import { manifestDecider, manifestStream, type ManifestCommand } from '../manifest/decider';
import { ManifestReadModel } from '../manifest/manifest.projection';
import { WorklistReadModel } from '../worklist/worklist.projection';
import { transferStream, type TransferCommand } from '../transfer/decider';
import { TransferCommands } from '../transfer/transfer.commands';
import { service } from '../service';
import { DEADLINE_TARGETS, manifestTimer, transferStepTimer } from './deadline-schedule';
import { CALENDAR_RECOMPUTE, DEADLINE_POLL_INTERVAL_MS, DeadlineTimers } from './deadline-timers';
import { application, endOf, LEG, morning, openManifestData } from './deadlines.fixture';

const generator: Identity = {
  subject: 'chen.jie',
  agencyId: 'cd-jincheng-auto',
  agencyKind: 'generator',
  jurisdiction: '510100',
  roles: ['clerk'],
};
const sichuanClerk: Identity = {
  subject: 'li.na',
  agencyId: 'sc-eeb',
  agencyKind: 'provincial-bureau',
  jurisdiction: '510000',
  roles: ['clerk'],
};
const sichuanApprover: Identity = { ...sichuanClerk, subject: 'zhang.wei', roles: ['approver'] };
const chongqingApprover: Identity = {
  subject: 'wang.fang',
  agencyId: 'cq-eeb',
  agencyKind: 'provincial-bureau',
  jurisdiction: '500000',
  roles: ['approver'],
};

/** 2027's notice as a later calendar import would load it (test data, not the official notice). */
const WITH_2027 = (() => {
  const next = WorkingDayCalendar.default().withYear(2027, {
    source: 'test data for 2027 (not an official notice)',
    holidays: { '元旦 New Year': ['2027-01-01', '2027-01-02', '2027-01-03'] },
    workdays: ['2027-01-09'],
  });
  if (!next.ok) throw new Error(next.error.message.en);
  return next.value;
})();

/** Opening a fresh PGlite cluster takes long on a loaded machine (a minute was seen). */
const BOOT_TIMEOUT_MS = 240_000;

/** The service's clock, moved by the test. */
class TestClock {
  constructor(public now: Date) {}
  readonly read = () => this.now;
}

/** CLOCK, the calendar and the poll interval replaced: the test decides when deadlines fire. */
const timeOverrides = (clock: TestClock, calendar: WorkingDayCalendar = WorkingDayCalendar.default()) => [
  { provide: CLOCK, useValue: clock.read },
  { provide: WORKING_DAY_CALENDAR, useValue: calendar },
  // The loop runs a round at start, then polls: rarely here, so `runDue` never races it.
  { provide: DEADLINE_POLL_INTERVAL_MS, useValue: 60_000 },
];

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function deadlineSuite(label: string, baseEnv: () => Record<string, string>) {
  const clock = new TestClock(morning('2026-09-29'));
  let n = 0;
  const running = useRunningService(service, {
    env: baseEnv,
    overrides: timeOverrides(clock),
    startTimeoutMs: BOOT_TIMEOUT_MS,
  });
  const app = () => running().app;

  const timers = () => app().get(DeadlineTimers);
  const platform = () => app().get<Platform>(PLATFORM, { strict: false });
  const eventsOf = async (streamId: string): Promise<readonly RecordedEvent[]> =>
    (await platform().store.readStream(streamId)).events;

  /** A person's command through TransferCommands; waits until its timers are scheduled. */
  const act = async (identity: Identity, type: TransferCommand['type'], data: unknown) => {
    const command = {
      type,
      data,
      metadata: userCommandMetadata({
        identity,
        context: { correlationId: `corr-${++n}` },
        scope: 'deadlines-spec',
        idempotencyKey: `${label}-${n}`,
        now: clock.now,
      }),
    } as TransferCommand;
    const result = await app().get(TransferCommands).handle(command, identity);
    await timers().waitFor(result.lastLogPosition);
    return result;
  };
  const submit = (transferId: string, over: Parameters<typeof application>[1] = {}) =>
    act(
      generator,
      'SubmitApplication',
      application(transferId, { window: { from: '2026-11-01', to: '2027-06-30' }, ...over }),
    );

  it(`${label}: a completeness period passing in silence accepts the application`, async () => {
    const id = `${label}-silence`;
    clock.now = morning('2026-09-29');
    await submit(id);
    // Five working days from Tuesday 09-29 skip National Day: the period ends at 24:00 on 10-12.
    clock.now = new Date(endOf('2026-10-12').getTime() - 1);
    expect(await timers().runDue()).toEqual({ fired: 0, failed: 0 });

    clock.now = endOf('2026-10-12');
    expect(await timers().runDue()).toEqual({ fired: 1, failed: 0 });
    const accepted = (await eventsOf(transferStream(id))).filter((e) => e.type === 'TransferAccepted');
    expect(accepted).toHaveLength(1);
    expect(accepted[0].data).toMatchObject({ acceptedBy: 'silence', acceptedOn: '2026-10-12' });
    expect(accepted[0].metadata.actor).toEqual(systemActor(DEADLINE_TARGETS.completeness));

    // The acceptance opened the review: its timer is the next one, the completeness timer is done.
    await timers().waitFor(accepted[0].logPosition);
    const sql = platform().sql;
    expect(
      (await timers().schedule.read(sql, transferStepTimer(id, 'completeness')))?.timer?.firedAt,
    ).not.toBeNull();
    expect((await timers().schedule.read(sql, transferStepTimer(id, 'review')))?.slot).toMatchObject({
      cancelled: false,
      dueAt: endOf('2026-10-19'),
      target: DEADLINE_TARGETS.step,
    });
  });

  it(`${label}: a missed reply is TransferDeadlineMissed, never consent, and DeadlineMissed is in the outbox`, async () => {
    const id = `${label}-missed-reply`;
    clock.now = morning('2026-09-29');
    await submit(id);
    clock.now = morning('2026-09-30');
    await act(sichuanClerk, 'AcceptApplication', { transferId: id });
    await act(sichuanClerk, 'SendConsultationLetter', { transferId: id, letterId: `L-${id}` });
    // Ten working days from 09-30: 10-08, 09, 10 (Saturday, working), 12–16, 19, 20.
    clock.now = endOf('2026-10-20');
    await timers().runDue();

    const events = await eventsOf(transferStream(id));
    expect(events.map((e) => e.type)).toEqual([
      'TransferSubmitted',
      'TransferAccepted',
      'ConsultationLetterSent',
      'TransferDeadlineMissed',
    ]);
    expect(events[3].data).toMatchObject({
      step: 'reply',
      responsibleJurisdiction: '500000',
      lastDay: '2026-10-20',
      escalatedTo: 'regional-secretariat',
    });
    expect(events[3].metadata.actor).toEqual(systemActor(DEADLINE_TARGETS.step));
    const { state } = await app().get(TransferCommands).state(id);
    expect(state.status).toBe('consulting');
    expect(state.reply).toBeUndefined();

    const { rows } = await platform().sql.query<{ payload: string }>(
      `SELECT payload::text AS payload FROM ${platform().schema}.outbox WHERE type = 'DeadlineMissed'`,
    );
    const missed = rows.map((r) => JSON.parse(r.payload) as Record<string, unknown>);
    expect(missed.filter((p) => JSON.stringify(p).includes(`"recordId":"${id}"`))).toHaveLength(1);
    expect(JSON.stringify(missed)).toContain('"responsibleAgencyId":"cq-eeb"');

    // Firing again (a later round) records nothing more.
    clock.now = endOf('2026-10-30');
    await timers().runDue();
    expect(
      (await eventsOf(transferStream(id))).filter((e) => e.type === 'TransferDeadlineMissed'),
    ).toHaveLength(1);
  });

  it(
    `${label}: restarted between scheduling and firing, the new process fires the timer once`,
    async () => {
      const id = `${label}-restart`;
      clock.now = morning('2026-09-29');
      await submit(id);
      // The clock passed the period while the service was down: the new process's first round fires it.
      await running.restart({
        whileDown: () => {
          clock.now = morning('2026-10-14');
        },
      });
      const accepted = await until('the silence acceptance', async () => {
        const found = (await eventsOf(transferStream(id))).filter((e) => e.type === 'TransferAccepted');
        return found.length > 0 ? found : undefined;
      });
      expect(accepted).toHaveLength(1);
      expect(accepted[0].data).toMatchObject({ acceptedBy: 'silence', acceptedOn: '2026-10-12' });
      expect(await timers().runDue()).toEqual({ fired: 0, failed: 0 });

      // And once more: a third process finds nothing left to fire for it.
      await running.restart();
      await timers().runDue();
      expect((await eventsOf(transferStream(id))).filter((e) => e.type === 'TransferAccepted')).toHaveLength(
        1,
      );
    },
    2 * BOOT_TIMEOUT_MS,
  );

  it(
    `${label}: at start, a provisional deadline whose year is now in the calendar is recomputed and its timer moved`,
    async () => {
      const id = `${label}-provisional`;
      // Monday 12-28: the 5 working days reach into 2027, not in the bundled calendar: provisional 01-04.
      clock.now = morning('2026-12-28');
      await submit(id);
      const before = await timers().schedule.read(platform().sql, transferStepTimer(id, 'completeness'));
      expect(before?.slot.dueAt).toEqual(endOf('2027-01-04'));
      expect(await timers().recomputeProvisionalDeadlines()).toBe(0); // 2027 still unknown: nothing to do

      // 2027's notice is loaded (New Year 01-01..03 off): the restarted service recomputes by itself.
      await running.restart({ overrides: timeOverrides(clock, WITH_2027) });
      expect(await timers().startupRecomputation()).toBeGreaterThanOrEqual(1);
      const recomputed = (await eventsOf(transferStream(id))).filter(
        (e) => e.type === 'TransferDeadlinesRecomputed',
      );
      expect(recomputed).toHaveLength(1);
      expect(recomputed[0].data).toMatchObject({
        changes: [{ step: 'completeness', deadline: { lastDay: '2027-01-05', provisional: false } }],
      });
      expect(recomputed[0].metadata.actor).toEqual(systemActor(CALENDAR_RECOMPUTE));
      await timers().waitFor(recomputed[0].logPosition);
      const moved = await timers().schedule.read(platform().sql, transferStepTimer(id, 'completeness'));
      expect(moved?.slot.dueAt).toEqual(endOf('2027-01-05'));
      expect(
        before?.timer && (await readTimer(platform().sql, platform().schema, before.timer.key))?.cancelledAt,
      ).not.toBeNull();

      // The old due time passes without effect; the new one accepts.
      clock.now = endOf('2027-01-04');
      await timers().runDue();
      expect((await eventsOf(transferStream(id))).some((e) => e.type === 'TransferAccepted')).toBe(false);
      clock.now = endOf('2027-01-05');
      await timers().runDue();
      const accepted = (await eventsOf(transferStream(id))).filter((e) => e.type === 'TransferAccepted');
      expect(accepted.map((e) => e.data)).toEqual([
        expect.objectContaining({ acceptedBy: 'silence', acceptedOn: '2027-01-05' }),
      ]);

      // A further start recomputes nothing again.
      await running.restart({ overrides: timeOverrides(clock, WITH_2027) });
      expect(await timers().startupRecomputation()).toBe(0);
    },
    3 * BOOT_TIMEOUT_MS,
  );

  it(
    `${label}: at start, a manifest's provisional receipt deadline whose year is now in the calendar is recomputed and its timer moved`,
    async () => {
      const number = label === 'PGlite' ? '20265101000903' : '20265101000904';
      // An earlier test may have left the service on the 2027 calendar: back to the bundled one.
      clock.now = morning('2026-12-24');
      await running.restart({ overrides: timeOverrides(clock) });
      const decider = manifestDecider({ calendar: WorkingDayCalendar.default() });
      const aggregates = app().get(Aggregates, { strict: false });
      const handle = async (command: Omit<ManifestCommand, 'metadata'>, now: Date) => {
        const result = await aggregates.handle({
          decider,
          streamId: manifestStream(number),
          command: {
            ...command,
            metadata: {
              commandId: `${label}-receipt-${++n}`,
              now,
              actor: systemActor('deadlines-spec'),
              correlationId: 'c',
            },
          } as ManifestCommand,
        });
        await timers().waitFor(result.lastLogPosition);
      };
      await handle(
        { type: 'OpenManifest', data: openManifestData(number, `${label}-late-trip`) },
        morning('2026-12-24'),
      );
      await handle(
        { type: 'ConfirmPickup', data: { manifestNumber: number, ...LEG, maxTransitDays: 3 } },
        morning('2026-12-27'),
      );
      // Delivered Monday 12-28: the 5 working days reach into 2027, not in the bundled calendar: 01-04.
      clock.now = morning('2026-12-28');
      await handle(
        { type: 'Deliver', data: { manifestNumber: number, carrierCreditCode: LEG.carrierCreditCode } },
        morning('2026-12-28'),
      );
      // The platform's client after each restart.
      const sql = () => platform().sql;
      const before = await timers().schedule.read(sql(), manifestTimer(number, 'receipt'));
      expect(before?.slot.dueAt).toEqual(endOf('2027-01-04'));
      expect(await timers().recomputeProvisionalDeadlines()).toBe(0); // 2027 still unknown: nothing to do

      // 2027's notice is loaded (New Year 01-01..03 off): the restarted service recomputes by itself.
      await running.restart({ overrides: timeOverrides(clock, WITH_2027) });
      expect(await timers().startupRecomputation()).toBeGreaterThanOrEqual(1);
      const recomputed = (await eventsOf(manifestStream(number))).filter(
        (e) => e.type === 'ManifestReceiptDeadlineRecomputed',
      );
      expect(recomputed).toHaveLength(1);
      expect(recomputed[0].data).toMatchObject({
        previous: { dueAt: endOf('2027-01-04').toISOString(), lastDay: '2027-01-04', provisional: true },
        receiptDueAt: endOf('2027-01-05').toISOString(),
        lastDay: '2027-01-05',
        provisional: false,
      });
      expect(recomputed[0].metadata.actor).toEqual(systemActor(CALENDAR_RECOMPUTE));
      await timers().waitFor(recomputed[0].logPosition);
      const moved = await timers().schedule.read(sql(), manifestTimer(number, 'receipt'));
      expect(moved?.slot.dueAt).toEqual(endOf('2027-01-05'));
      expect(
        before?.timer && (await readTimer(sql(), platform().schema, before.timer.key))?.cancelledAt,
      ).not.toBeNull();

      // The read model and the receiver's worklist show the new due date.
      await app().get(ManifestReadModel, { strict: false }).waitFor(recomputed[0].logPosition);
      await app().get(WorklistReadModel, { strict: false }).waitFor(recomputed[0].logPosition);
      const schema = platform().schema;
      const { rows: views } = await sql().query<{ due: string; provisional: string }>(
        `SELECT manifest_view->'state'->>'receiptDueAt' AS due,
                manifest_view->'state'->>'receiptDueProvisional' AS provisional
           FROM ${schema}.manifests WHERE manifest_number = $1`,
        [number],
      );
      expect(views).toEqual([{ due: endOf('2027-01-05').toISOString(), provisional: 'false' }]);
      const { rows: items } = await sql().query<{ due_at: Date | string }>(
        `SELECT DISTINCT due_at FROM ${schema}.worklist_items WHERE record_id = $1`,
        [number],
      );
      expect(items.map((r) => new Date(r.due_at))).toEqual([endOf('2027-01-05')]);

      // The old due time passes without effect; the new one records the receipt overdue.
      clock.now = endOf('2027-01-04');
      await timers().runDue();
      expect((await eventsOf(manifestStream(number))).some((e) => e.type === 'ManifestOverdue')).toBe(false);
      clock.now = endOf('2027-01-05');
      await timers().runDue();
      const overdue = (await eventsOf(manifestStream(number))).filter((e) => e.type === 'ManifestOverdue');
      expect(overdue.map((e) => e.data)).toEqual([
        expect.objectContaining({ reason: 'receipt', dueAt: endOf('2027-01-05').toISOString() }),
      ]);
      expect(overdue[0].metadata.actor).toEqual(systemActor(DEADLINE_TARGETS.receipt));

      // A further start recomputes nothing again.
      await running.restart({ overrides: timeOverrides(clock, WITH_2027) });
      expect(await timers().startupRecomputation()).toBe(0);
    },
    4 * BOOT_TIMEOUT_MS,
  );

  it(`${label}: an approval's validity ending releases the capacity it still holds (expiry)`, async () => {
    const id = `${label}-expiry`;
    const facilityId = `${label.toLowerCase()}-expiry-facility`;
    await registerFacility(app().get(Aggregates, { strict: false }), facilityId, {
      licensed: [{ category: 'HW08', annualCapacityTonnes: '50' }],
    });
    clock.now = morning('2026-09-29');
    await submit(id, {
      receiver: { facilityId, licenceValidUntil: '2028-06-30' },
      window: { from: '2026-10-01', to: '2026-11-30' },
    });
    clock.now = morning('2026-09-30');
    await act(sichuanClerk, 'AcceptApplication', { transferId: id });
    await act(sichuanClerk, 'SendConsultationLetter', { transferId: id, letterId: `L-${id}` });
    clock.now = morning('2026-10-09');
    await act(chongqingApprover, 'ReplyToLetter', { transferId: id, decision: 'consent' });
    clock.now = morning('2026-10-12');
    await act(sichuanApprover, 'ApproveTransfer', { transferId: id });
    const ledger = capacityStream(facilityId, 'HW08', 2026);
    expect((await eventsOf(ledger)).map((e) => e.type)).toContain('CapacityReserved');

    // Valid until the end of the requested window, 11-30: released at its 24:00, not before.
    clock.now = new Date(endOf('2026-11-30').getTime() - 1);
    await timers().runDue();
    expect((await eventsOf(ledger)).some((e) => e.type === 'CapacityReleased')).toBe(false);
    clock.now = endOf('2026-11-30');
    await timers().runDue();
    const released = (await eventsOf(ledger)).filter((e) => e.type === 'CapacityReleased');
    expect(released.map((e) => e.data)).toEqual([
      expect.objectContaining({ reservationId: id, reason: 'expiry', releasedKg: '12000.500' }),
    ]);
    expect(released[0].metadata.actor).toEqual(systemActor(DEADLINE_TARGETS.approvalExpiry));
  });

  it(`${label}: a manifest in transit longer than the maximum transit time is ManifestOverdue`, async () => {
    const number = label === 'PGlite' ? '20265101000901' : '20265101000902';
    const decider = manifestDecider({ calendar: WorkingDayCalendar.default() });
    const aggregates = app().get(Aggregates, { strict: false });
    // The trip's facts straight through the manifest decider: the opening workflow is manifest/'s test.
    const handle = async (command: Omit<ManifestCommand, 'metadata'>, now: Date) => {
      const result = await aggregates.handle({
        decider,
        streamId: manifestStream(number),
        command: {
          ...command,
          metadata: {
            commandId: `${label}-${++n}`,
            now,
            actor: systemActor('deadlines-spec'),
            correlationId: 'c',
          },
        } as ManifestCommand,
      });
      await timers().waitFor(result.lastLogPosition);
    };
    await handle(
      { type: 'OpenManifest', data: openManifestData(number, `${label}-trip`) },
      morning('2026-09-28'),
    );
    await handle(
      { type: 'ConfirmPickup', data: { manifestNumber: number, ...LEG, maxTransitDays: 3 } },
      morning('2026-09-29'),
    );
    const slot = (await timers().schedule.read(platform().sql, manifestTimer(number, 'transit')))?.slot;
    expect(slot?.dueAt).toEqual(endOf('2026-10-02'));

    clock.now = endOf('2026-10-02');
    expect(await timers().runDue()).toMatchObject({ failed: 0 });
    const overdue = (await eventsOf(manifestStream(number))).filter((e) => e.type === 'ManifestOverdue');
    expect(overdue).toHaveLength(1);
    expect(overdue[0].data).toMatchObject({ reason: 'transit', dueAt: endOf('2026-10-02').toISOString() });
    expect(overdue[0].metadata.actor).toEqual(systemActor(DEADLINE_TARGETS.transit));
  });
}

describe('transfer-service deadlines (PGlite, injected clock)', () => {
  deadlineSuite('PGlite', () => ({ EVENT_STORE: 'pglite', BUS: 'memory' }));
});

describeWithPostgres('transfer-service deadlines (PostgreSQL, injected clock)', () => {
  const db = useTestDatabase('deadlines');
  deadlineSuite('PostgreSQL', () => ({ EVENT_STORE: 'postgres', DATABASE_URL: db().url, BUS: 'memory' }));
});
