import {
  Aggregates,
  DomainError,
  EVENT_STORE,
  systemActor,
  type EventStore,
  type LogPosition,
  type RecordedEvent,
} from '@lianfang/eventsourcing';
import { systemCommandId } from '@lianfang/messaging';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import { describeWithPostgres, useRunningService, useTestDatabase } from '@lianfang/testing';
import { facilityDecider, facilityStream } from '../facility/decider';
import { service } from '../service';
import { CapacityApprovals } from './approvals';
import { CapacityReadModel } from './capacity.projection';
import { capacityDecider, capacityStream } from './decider';
import { licenceFollowingDecider } from './licence-adjustment';
import {
  followLicenceCommand,
  LICENCE_ADJUSTMENTS_POLICY,
  LICENCE_ADJUSTMENTS_POLL_MS,
  LicenceCapacityAdjustments,
} from './licence-changes.policy';
import { CapacityReleaser } from './releases';
import {
  approvalRequest,
  approveCommand,
  meta,
  registerFacility,
  transferAwaitingDecision,
} from './test-fixtures/approvals.fixture';

/** Until `check` holds, or give the last value back after `ms` (the assertion then fails). */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const adjustments = (events: readonly RecordedEvent[]) => events.filter((e) => e.type === 'CapacityAdjusted');

/** The same story on the server store and on the embedded one (`npm start`): the policy runs on both. */
function licenceChangesSuite(storeEnv: () => Record<string, string>) {
  const env: Record<string, string> = {};
  beforeAll(() => {
    Object.assign(env, storeEnv());
  });
  const running = useRunningService(service, { env });
  const aggregates = () => running().app.get(Aggregates, { strict: false });
  const store = () => running().app.get<EventStore>(EVENT_STORE, { strict: false });
  const policy = () => running().app.get(LicenceCapacityAdjustments, { strict: false });
  const ledger = (facilityId: string, year: number) => async () =>
    (await store().readStream(capacityStream(facilityId, 'HW08', year))).events;

  /** A ledger opened directly, as a receipt or an approval would open it from the licence it read. */
  async function openLedger(facilityId: string, year: number, capacityKg = '10000') {
    await aggregates().handle({
      decider: capacityDecider,
      streamId: capacityStream(facilityId, 'HW08', year),
      command: {
        type: 'OpenLedger',
        data: { facilityId, category: 'HW08', year, capacityKg },
        metadata: meta(`open-${facilityId}-${year}`, systemActor('test')),
      },
    });
  }

  /**
   * A facility licensed for 10 t of HW08, and approvals holding 9 t of its 2026 ledger: t-…-a 6 t over
   * 2026–2027 (which opens the 2027 ledger too), t-…-b 3 t in 2026. Plus a 2025 ledger (last year).
   */
  async function facilityWithApprovals(facilityId: string) {
    await registerFacility(aggregates(), facilityId);
    await openLedger(facilityId, 2025);
    const approvals = new CapacityApprovals(aggregates());
    await transferAwaitingDecision(aggregates(), `t-${facilityId}-a`, {
      facilityId,
      lines: [{ wasteCode: '900-249-08', quantityKg: '6000' }],
      window: { from: '2026-04-01', to: '2027-03-31' },
    });
    await approvals.approve(approvalRequest(approveCommand(`t-${facilityId}-a`)));
    await transferAwaitingDecision(aggregates(), `t-${facilityId}-b`, {
      facilityId,
      lines: [{ wasteCode: '900-249-08', quantityKg: '3000' }],
    });
    await approvals.approve(approvalRequest(approveCommand(`t-${facilityId}-b`)));
  }

  /** The licence update as stored: business time 2 March 2026 (the fixture's NOW). */
  async function updateLicence(facilityId: string, annualCapacityTonnes: string, reason: string) {
    const result = await aggregates().handle({
      decider: facilityDecider,
      streamId: facilityStream(facilityId),
      command: {
        type: 'UpdateFacility',
        data: { facilityId, changes: { licensed: [{ category: 'HW08', annualCapacityTonnes }] }, reason },
        metadata: meta(`update-${facilityId}-${annualCapacityTonnes}`, systemActor('test')),
      },
    });
    const [updated] = result.events;
    expect(updated.type).toBe('FacilityUpdated');
    return { updated, position: result.lastLogPosition };
  }

  /** What the policy would do on its next poll, done now: the projection caught up, one pass. */
  async function passAfter(position: LogPosition) {
    await policy().waitFor(position);
    await policy().drain();
  }

  it('raises this year’s and next year’s ledgers, leaves last year’s, as the policy, once', async () => {
    await facilityWithApprovals('f-lic-up');
    const { updated, position } = await updateLicence('f-lic-up', '12', '换证扩能 / renewal');
    await passAfter(position);

    for (const year of [2026, 2027]) {
      const events = await ledger('f-lic-up', year)();
      const [adjusted] = adjustments(events);
      expect(adjustments(events)).toHaveLength(1);
      expect(adjusted.data).toEqual({
        fromKg: '10000.000',
        toKg: '12000.000',
        revocation: false,
        reason: '许可证变更 / licence amended, HW08 10000.000 kg → 12000.000 kg: 换证扩能 / renewal',
      });
      const streamId = capacityStream('f-lic-up', 'HW08', year);
      expect(adjusted.metadata).toMatchObject({
        actor: { kind: 'system', name: LICENCE_ADJUSTMENTS_POLICY },
        causationId: updated.eventId,
        correlationId: updated.metadata.correlationId,
        commandId: systemCommandId(LICENCE_ADJUSTMENTS_POLICY, updated.eventId, streamId),
        occurredAt: updated.metadata.occurredAt,
      });
    }
    expect(adjustments(await ledger('f-lic-up', 2025)())).toEqual([]);

    // Another pass (the next poll, a second instance) finds nothing to do and stores nothing.
    const last = (await ledger('f-lic-up', 2027)()).at(-1)!;
    await passAfter(last.logPosition);
    expect(await policy().pending()).toEqual([]);
    // The same command issued again (a retry after a crash before the checkpoint) is a replay.
    const [adjusted2026] = adjustments(await ledger('f-lic-up', 2026)());
    const again = await aggregates().handle({
      decider: licenceFollowingDecider,
      streamId: capacityStream('f-lic-up', 'HW08', 2026),
      command: {
        type: 'FollowLicence',
        data: {
          facilityId: 'f-lic-up',
          category: 'HW08',
          capacityKg: '12000.000',
          licensedFromKg: '10000.000',
          reason: '换证扩能 / renewal',
        },
        metadata: {
          commandId: systemCommandId(
            LICENCE_ADJUSTMENTS_POLICY,
            updated.eventId,
            capacityStream('f-lic-up', 'HW08', 2026),
          ),
          now: new Date(),
          actor: systemActor(LICENCE_ADJUSTMENTS_POLICY),
          correlationId: adjusted2026.metadata.correlationId,
        },
      },
    });
    expect(again.replayed).toBe(true);
    for (const year of [2026, 2027]) expect(adjustments(await ledger('f-lic-up', year)())).toHaveLength(1);
  });

  it('lowers a ledger below what approvals hold as a partial revocation: shortfall recorded, nothing new reserved', async () => {
    await facilityWithApprovals('f-lic-down');
    const { position } = await updateLicence('f-lic-down', '8', '整改核减 / reduced after inspection');
    await passAfter(position);

    expect(adjustments(await ledger('f-lic-down', 2026)()).map((e) => e.data)).toEqual([
      {
        fromKg: '10000.000',
        toKg: '8000.000',
        revocation: true,
        shortfallKg: '1000.000',
        reason:
          '许可证核减至已占用量以下（部分吊销）/ licence reduced below what approvals hold (partial revocation), HW08 10000.000 kg → 8000.000 kg, 9000.000 kg committed: 整改核减 / reduced after inspection',
      },
    ]);
    // 2027: the 6 t approval planned everything in 2026, so the ledger holds nothing and simply follows.
    expect(adjustments(await ledger('f-lic-down', 2027)()).map((e) => e.data)).toMatchObject([
      { fromKg: '10000.000', toKg: '8000.000', revocation: false },
    ]);

    // The approvals stand; nothing new can be reserved in 2026 while the ledger is over its licence.
    await transferAwaitingDecision(aggregates(), 't-f-lic-down-c', {
      facilityId: 'f-lic-down',
      lines: [{ wasteCode: '900-249-08', quantityKg: '500' }],
    });
    const refusal = new CapacityApprovals(aggregates()).approve(
      approvalRequest(approveCommand('t-f-lic-down-c')),
    );
    await expect(refusal).rejects.toBeInstanceOf(DomainError);
    await expect(refusal).rejects.toMatchObject({
      code: 'capacity.insufficient',
      details: { available: '0.000', requested: '500.000' },
    });

    // The read model every bureau queries shows the same: 8 t licensed, 9 t held, nothing available.
    const readModel = running().app.get(CapacityReadModel, { strict: false });
    const last = (await ledger('f-lic-down', 2026)()).at(-1)!;
    await readModel.waitFor(last.logPosition);
    const platform = running().app.get<Platform>(PLATFORM, { strict: false });
    const row = async () =>
      (
        await platform.sql.query<{ capacity_kg: string; reserved_kg: string; available_kg: string }>(
          `SELECT capacity_kg::text, reserved_kg::text, available_kg::text FROM ${platform.schema}.capacity_ledgers
           WHERE stream_id = $1`,
          [capacityStream('f-lic-down', 'HW08', 2026)],
        )
      ).rows[0];
    expect(await row()).toEqual({ capacity_kg: '8000.000', reserved_kg: '9000.000', available_kg: '0.000' });

    // A bureau withdraws the 3 t approval: the shortfall is absorbed and 2 t are free again.
    await new CapacityReleaser(aggregates()).release({
      transferId: 't-f-lic-down-b',
      facilityId: 'f-lic-down',
      reason: 'withdrawal',
      metadata: meta('withdraw-t-f-lic-down-b', systemActor('test')),
    });
    const released = (await ledger('f-lic-down', 2026)()).at(-1)!;
    await readModel.waitFor(released.logPosition);
    expect(await row()).toEqual({
      capacity_kg: '8000.000',
      reserved_kg: '6000.000',
      available_kg: '2000.000',
    });
    // …and the policy leaves the ledger alone: it already has the licensed figure.
    await passAfter(released.logPosition);
    expect(adjustments(await ledger('f-lic-down', 2026)())).toHaveLength(1);
  });

  it('adjusts from the persisted facts alone (no nudge, as after a crash), and catches a ledger opened late with the old figure', async () => {
    await registerFacility(aggregates(), 'f-lic-late');
    await openLedger('f-lic-late', 2026);
    await updateLicence('f-lic-late', '15', '扩建 / extension');
    // Opened after the update from the licence as it stood before (an approval that read it just before).
    await openLedger('f-lic-late', 2028);
    // Last year's ledger opened late keeps last year's figure: the change takes effect in 2026.
    await openLedger('f-lic-late', 2025);

    // No call into the policy: its own poll finds the work.
    for (const year of [2026, 2028]) {
      const events = await eventually(ledger('f-lic-late', year), (e) => adjustments(e).length === 1);
      expect(adjustments(events).map((e) => e.data)).toMatchObject([
        { fromKg: '10000.000', toKg: '15000.000', revocation: false },
      ]);
    }
    expect(adjustments(await ledger('f-lic-late', 2025)())).toEqual([]);
  });
}

describeWithPostgres(
  'transfer-service on PostgreSQL: a licence change reaches the open capacity ledgers',
  () => {
    const db = useTestDatabase('capacity-licence-changes');
    licenceChangesSuite(() => ({ EVENT_STORE: 'postgres', DATABASE_URL: db().url }));
  },
);

describe('transfer-service on PGlite (embedded): a licence change reaches the open capacity ledgers', () => {
  licenceChangesSuite(() => ({}));
});

describeWithPostgres('transfer-service on PostgreSQL: a licence change left half done by a crash', () => {
  const db = useTestDatabase('capacity-licence-restart');
  const env: Record<string, string> = {};
  beforeAll(() => {
    Object.assign(env, { EVENT_STORE: 'postgres', DATABASE_URL: db().url });
  });
  // No poll: only the pass at start (and the test) runs the policy, so the crash point is exact.
  const overrides = [{ provide: LICENCE_ADJUSTMENTS_POLL_MS, useValue: 3_600_000 }];
  const streams = [2026, 2027].map((year) => capacityStream('f-lic-crash', 'HW08', year));

  describe('before the crash', () => {
    const running = useRunningService(service, { env, overrides });
    const aggregates = () => running().app.get(Aggregates, { strict: false });
    const policy = () => running().app.get(LicenceCapacityAdjustments, { strict: false });

    it('stores the update and adjusts one of its two ledgers, then stops', async () => {
      await policy().started();
      await registerFacility(aggregates(), 'f-lic-crash');
      for (const [i, streamId] of streams.entries())
        await aggregates().handle({
          decider: capacityDecider,
          streamId,
          command: {
            type: 'OpenLedger',
            data: { facilityId: 'f-lic-crash', category: 'HW08', year: 2026 + i, capacityKg: '10000' },
            metadata: meta(`open-${streamId}`, systemActor('test')),
          },
        });
      const result = await aggregates().handle({
        decider: facilityDecider,
        streamId: facilityStream('f-lic-crash'),
        command: {
          type: 'UpdateFacility',
          data: {
            facilityId: 'f-lic-crash',
            changes: { licensed: [{ category: 'HW08', annualCapacityTonnes: '11' }] },
          },
          metadata: meta('update-f-lic-crash', systemActor('test')),
        },
      });
      await policy().waitFor(result.lastLogPosition);
      const pending = await policy().pending();
      expect(pending.map((p) => p.stream_id)).toEqual(streams);
      // The policy's first step, as it would run it, and then the process dies.
      await aggregates().handle({
        decider: licenceFollowingDecider,
        streamId: streams[0],
        command: followLicenceCommand(pending[0]),
      });
    });
  });

  describe('after the restart', () => {
    const running = useRunningService(service, { env, overrides });
    const store = () => running().app.get<EventStore>(EVENT_STORE, { strict: false });
    const policy = () => running().app.get(LicenceCapacityAdjustments, { strict: false });

    it('adjusts what was left, at start, and nothing twice', async () => {
      await policy().started();
      for (const streamId of streams) {
        const events = (await store().readStream(streamId)).events;
        expect(adjustments(events).map((e) => e.data)).toMatchObject([
          { fromKg: '10000.000', toKg: '11000.000', revocation: false },
        ]);
      }
    });
  });
});
