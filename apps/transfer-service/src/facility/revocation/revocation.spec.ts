import { createIdentitySigner, IDENTITY_HEADER, type Identity } from '@lianfang/auth';
import {
  Aggregates,
  EVENT_STORE,
  systemActor,
  type EventStore,
  type RecordedEvent,
} from '@lianfang/eventsourcing';
import { systemCommandId } from '@lianfang/messaging';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import { useRunningService, useTestDatabase } from '@lianfang/testing';
import { exportSPKI, generateKeyPair, type KeyLike } from 'jose';
import { CapacityApprovals } from '../../capacity/approvals';
import { capacityStream } from '../../capacity/decider';
import { receiptConsumption } from '../../capacity/receipt';
import {
  approvalRequest,
  approveCommand,
  meta,
  registerFacility,
  transferAwaitingDecision,
} from '../../capacity/test-fixtures/approvals.fixture';
import { service } from '../../service';
import { facilityDecider, facilityStream } from '../decider';
import { FacilityRevocationReleases, REVOCATION_RELEASES_POLICY } from './revocation.policy';

const chongqingClerk: Identity = {
  subject: 'wang.fang',
  agencyId: 'cq-eeb',
  agencyKind: 'provincial-bureau',
  jurisdiction: '500000',
  roles: ['clerk'],
};

const REVOKE = `mutation($key: String!, $id: ID!, $reason: String!) {
  revokeFacility(idempotencyKey: $key, facilityId: $id, reason: $reason) { id status } }`;

/** Until `check` holds, or fail after `ms`. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('transfer-service on PostgreSQL: a revoked licence releases what approvals hold there', () => {
  const db = useTestDatabase('facility-revocation');
  let key: KeyLike | undefined;
  const env: Record<string, string> = {};
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    key = pair.privateKey;
    Object.assign(env, {
      GATEWAY_PUBLIC_KEY: await exportSPKI(pair.publicKey),
      EVENT_STORE: 'postgres',
      DATABASE_URL: db().url,
    });
  });
  const running = useRunningService(service, { env });
  const aggregates = () => running().app.get(Aggregates, { strict: false });
  const store = () => running().app.get<EventStore>(EVENT_STORE, { strict: false });
  const policy = () => running().app.get(FacilityRevocationReleases, { strict: false });
  const ledger = (facilityId: string) => async () =>
    (await store().readStream(capacityStream(facilityId, 'HW08', 2026))).events;
  const releases = (events: readonly RecordedEvent[]) => events.filter((e) => e.type === 'CapacityReleased');

  async function revoke(facilityId: string, reason: string) {
    const res = await fetch(`${running().url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [IDENTITY_HEADER]: await createIdentitySigner(key as KeyLike).sign(chongqingClerk),
      },
      body: JSON.stringify({
        query: REVOKE,
        variables: { key: `revoke-${facilityId}`, id: facilityId, reason },
      }),
    });
    return (await res.json()) as { data?: unknown; errors?: unknown[] };
  }

  /** A licensed facility (10 t of HW08) and approvals holding capacity in its 2026 ledger. */
  async function facilityWithApprovals(facilityId: string, approvals: Record<string, string>) {
    await registerFacility(aggregates(), facilityId);
    for (const [transferId, kg] of Object.entries(approvals)) {
      await transferAwaitingDecision(aggregates(), transferId, {
        facilityId,
        lines: [{ wasteCode: '900-249-08', quantityKg: kg }],
      });
      await new CapacityApprovals(aggregates()).approve(approvalRequest(approveCommand(transferId)));
    }
  }

  it('releases every approval held at the facility, as the revocation policy, once', async () => {
    await facilityWithApprovals('f-revoked-1', { 't-rev-1': '3000', 't-rev-2': '2000', 't-rev-used': '500' });
    // A receipt that used up one approval: it holds nothing, there is nothing to release.
    const consumption = receiptConsumption({
      facilityId: 'f-revoked-1',
      wasteCode: '900-249-08',
      receivedOn: '2026-05-10',
      transferId: 't-rev-used',
      receiptId: 'm-rev-used',
      acceptedKg: '500',
    });
    await aggregates().handleAcross({
      command: {
        type: 'ReceiveManifest',
        data: { receiptId: 'm-rev-used' },
        metadata: meta('receive-m-rev-used', systemActor('test')),
      },
      streams: { ledger: consumption.binding },
      decide: (command, states) => ({ ledger: consumption.decide(states.ledger, command.metadata) }),
    });
    const answer = await revoke('f-revoked-1', '伪造台账 / falsified records');
    expect(answer.errors).toBeUndefined();

    const events = await eventually(ledger('f-revoked-1'), (e) => releases(e).length === 2);
    expect(releases(events).map((e) => e.data)).toEqual([
      { reservationId: 't-rev-1', reason: 'revocation', releasedKg: '3000.000' },
      { reservationId: 't-rev-2', reason: 'revocation', releasedKg: '2000.000' },
    ]);
    const [revoked] = (await store().readStream(facilityStream('f-revoked-1'))).events.filter(
      (e) => e.type === 'FacilityRevoked',
    );
    for (const e of releases(events)) {
      const transferId = (e.data as { reservationId: string }).reservationId;
      expect(e.metadata).toMatchObject({
        actor: { kind: 'system', name: REVOCATION_RELEASES_POLICY },
        causationId: revoked.eventId,
        correlationId: revoked.metadata.correlationId,
        commandId: systemCommandId(REVOCATION_RELEASES_POLICY, revoked.eventId, transferId),
      });
    }

    // Other services hear of it as they hear of a suspension: no new manifests to it.
    const platform = running().app.get<Platform>(PLATFORM, { strict: false });
    const { rows } = await platform.sql.query<{ payload: { data: Record<string, unknown> } }>(
      `SELECT payload FROM ${platform.schema}.outbox WHERE type = 'FacilitySuspended' AND key = $1`,
      [facilityStream('f-revoked-1')],
    );
    expect(rows.map((r) => r.payload.data)).toEqual([
      {
        facilityId: 'f-revoked-1',
        jurisdiction: '500112',
        reason: '许可证吊销 / licence revoked: 伪造台账 / falsified records',
        fromDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      },
    ]);

    // Another pass (a second instance, the next poll) stores nothing more.
    await policy().waitFor(events.at(-1)!.logPosition);
    await policy().drain();
    expect(await policy().pending()).toEqual([]);
    expect(releases(await ledger('f-revoked-1')())).toHaveLength(2);
  });

  it('releases from the persisted facts alone: a revocation appended with no nudge (as after a crash)', async () => {
    await facilityWithApprovals('f-revoked-2', { 't-rev-3': '1500' });
    // The revocation stored as a process would before dying: no resolver, no aftermath in memory.
    await aggregates().handle({
      decider: facilityDecider,
      streamId: facilityStream('f-revoked-2'),
      command: {
        type: 'RevokeFacility',
        data: { facilityId: 'f-revoked-2', reason: '吊销 / revoked' },
        metadata: meta('revoke-f-revoked-2', systemActor('test'), new Date()),
      },
    });
    const events = await eventually(ledger('f-revoked-2'), (e) => releases(e).length === 1);
    expect(releases(events).map((e) => e.data)).toEqual([
      { reservationId: 't-rev-3', reason: 'revocation', releasedKg: '1500.000' },
    ]);
  });

  it('leaves approvals at other facilities alone', async () => {
    await facilityWithApprovals('f-kept', { 't-kept-1': '1000' });
    await revoke('f-revoked-3', 'x'); // not registered: refused, nothing to release anywhere
    await policy().drain();
    expect(releases(await ledger('f-kept')())).toEqual([]);
  });
});
