import { randomUUID } from 'node:crypto';
import {
  createPgliteEventStore,
  createPostgresClient,
  createPostgresEventStore,
  handleCommand,
  type Command,
  type Decider,
  type DomainEvent,
  type SqlEventStore,
} from '@lianfang/eventsourcing';
import { describeWithPostgres, useTestDatabase } from '@lianfang/testing';
import {
  allowSystemRules,
  authorizeSystemCommand,
  deterministicUuid,
  systemCommandId,
  systemCommandMetadata,
  SystemCommandNotAuthorizedError,
  triggerOfRecorded,
} from './system-commands';

/** A deliberately non-idempotent decider: every command appends one more event, whatever the state. */
type Remind = Command<'Remind', { readonly transferId: string }>;
type Reminded = DomainEvent<'Reminded', { readonly transferId: string; readonly n: number }>;
const reminders: Decider<Remind, Reminded, number> = {
  initialState: () => 0,
  evolve: (n) => n + 1,
  decide: (cmd, n) => [{ type: 'Reminded', data: { transferId: cmd.data.transferId, n: n + 1 } }],
};

const POLICY = 'transfer.reminder-policy';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('system command metadata', () => {
  const trigger = { eventId: '0190a8f2-0000-7000-8000-000000000001', correlationId: 'corr-1' };
  const now = new Date('2025-03-03T08:00:00Z');

  it('names the rule as the system actor and derives the commandId from rule and trigger', () => {
    const m = systemCommandMetadata({ policy: POLICY, trigger, now });
    expect(m).toEqual({
      commandId: systemCommandId(POLICY, trigger.eventId),
      now,
      actor: { kind: 'system', name: POLICY },
      correlationId: 'corr-1',
      causationId: trigger.eventId,
    });
    expect(m.commandId).toMatch(UUID);
    // Deterministic: the same trigger again, later, gives the same id.
    expect(systemCommandMetadata({ policy: POLICY, trigger, now: new Date() }).commandId).toBe(m.commandId);
  });

  it('gives different ids to other rules, other triggers and other steps', () => {
    const ids = new Set([
      systemCommandId(POLICY, trigger.eventId),
      systemCommandId('transfer.other-policy', trigger.eventId),
      systemCommandId(POLICY, '0190a8f2-0000-7000-8000-000000000002'),
      systemCommandId(POLICY, trigger.eventId, 'facility-1'),
      systemCommandId(POLICY, trigger.eventId, 'facility-2'),
    ]);
    expect(ids.size).toBe(5);
    // Length-prefixed parts: shifting a separator does not collide.
    expect(deterministicUuid('a:b', 'c')).not.toBe(deterministicUuid('a', 'b:c'));
    expect(() => systemCommandId('', trigger.eventId)).toThrow(/policy/);
    expect(() => systemCommandId(POLICY, '')).toThrow(/trigger/);
  });

  it('authorises the system actor by rule name (the hook point for the auth lib)', async () => {
    const authorize = allowSystemRules({ [POLICY]: ['Remind'] });
    const cmd: Remind = {
      type: 'Remind',
      data: { transferId: 't' },
      metadata: systemCommandMetadata({ policy: POLICY, trigger, now }),
    };
    await expect(authorizeSystemCommand(authorize, cmd)).resolves.toBeUndefined();
    const other = { ...cmd, metadata: systemCommandMetadata({ policy: 'transfer.rogue', trigger, now }) };
    await expect(authorizeSystemCommand(authorize, other)).rejects.toBeInstanceOf(
      SystemCommandNotAuthorizedError,
    );
    const user = {
      ...cmd,
      metadata: {
        ...cmd.metadata,
        actor: { kind: 'user' as const, userId: 'u', agencyId: 'a', jurisdiction: '310000' },
      },
    };
    await expect(authorizeSystemCommand(authorize, user)).rejects.toThrow(/user:u/);
  });
});

/** A trigger event, then the policy's reaction delivered three times (a redelivery, a relay resend). */
async function redeliveredTrigger(store: SqlEventStore): Promise<void> {
  const transferId = randomUUID();
  const triggerStream = `transfer-${transferId}`;
  const reminderStream = `reminders-${transferId}`;
  const appended = await store.append({
    streams: [
      {
        streamId: triggerStream,
        expectedVersion: 'no-stream',
        events: [{ type: 'TransferSubmitted', data: { transferId } }],
      },
    ],
    context: {
      actor: { kind: 'user', userId: 'u1', agencyId: 'a1', jurisdiction: '310000' },
      occurredAt: new Date('2025-03-03T08:00:00Z'),
      correlationId: `corr-${transferId}`,
    },
  });
  const triggerEvent = appended.events[0];

  const react = () =>
    handleCommand({
      store,
      decider: reminders,
      streamId: reminderStream,
      command: {
        type: 'Remind',
        data: { transferId },
        metadata: systemCommandMetadata({
          policy: POLICY,
          trigger: triggerOfRecorded(triggerEvent),
          now: triggerEvent.metadata.occurredAt,
        }),
      },
    });

  const first = await react();
  const again = await react();
  const concurrent = await Promise.all([react(), react()]);
  expect(first.replayed).toBe(false);
  expect(again.replayed).toBe(true);
  expect(concurrent.map((r) => r.replayed)).toEqual([true, true]);
  expect(again.events.map((e) => e.eventId)).toEqual(first.events.map((e) => e.eventId));

  // The decider would append again on every delivery: only the commandId keeps it to one event.
  const stream = await store.readStream(reminderStream);
  expect(stream.events).toHaveLength(1);
  const [event] = stream.events;
  expect(event.metadata.actor).toEqual({ kind: 'system', name: POLICY });
  expect(event.metadata.causationId).toBe(triggerEvent.eventId);
  expect(event.metadata.correlationId).toBe(`corr-${transferId}`);
  expect(event.metadata.commandId).toBe(systemCommandId(POLICY, triggerEvent.eventId));

  // A different trigger is a different command: it does append.
  const next = await handleCommand({
    store,
    decider: reminders,
    streamId: reminderStream,
    command: {
      type: 'Remind',
      data: { transferId },
      metadata: systemCommandMetadata({
        policy: POLICY,
        trigger: { eventId: randomUUID(), correlationId: `corr-${transferId}` },
        now: new Date(),
      }),
    },
  });
  expect(next.replayed).toBe(false);
  expect((await store.readStream(reminderStream)).events).toHaveLength(2);
}

describe('a redelivered trigger is a no-op (PGlite)', () => {
  it('stores the resulting event once', async () => {
    const store = await createPgliteEventStore({ schema: 'system_cmd' });
    try {
      await redeliveredTrigger(store);
    } finally {
      await store.close();
    }
  });
});

describeWithPostgres('a redelivered trigger is a no-op (PostgreSQL)', () => {
  const db = useTestDatabase('system-commands');

  it('stores the resulting event once', async () => {
    const client = createPostgresClient({ connectionString: db().url, max: 4 });
    const store = createPostgresEventStore({ client, schema: 'system_cmd', ownsClient: true });
    await store.start();
    try {
      await redeliveredTrigger(store);
    } finally {
      await store.close();
    }
  });
});
