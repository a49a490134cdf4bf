import { createHash, randomBytes } from 'node:crypto';
import * as testing from '@lianfang/testing';
import { fold } from '../decider/decider';
import { defineProjection, rebuildProjection, startProjection, type TableNames } from '../projections/index';
import type { SqlExecutor } from '../sql/sql-client';
import { systemActor } from '../store/actor';
import type { AppendContext, AppendResult, EventStore } from '../store/event-store';
import type { RecordedEvent } from '../store/events';
import { countingClient, forEachBackend, MASTER_KEY, STORE_SCHEMA, type Backend } from './backends.fixture';
import { PersonalDataCodec, withPersonalData, type PersonalDataRules } from './codec';
import { SubjectKeyStore } from './key-store';
import {
  ERASED,
  ERASED_LABEL,
  PersonalDataIntegrityError,
  displayPersonal,
  isPersonalDataEnvelope,
  type Personal,
  type PersonalDataEnvelope,
} from './personal-data';

// ─── a toy transfer: a driver, contacts, and non-personal facts ───────────────────────────────

interface Driver {
  readonly subjectId: string;
  readonly name: Personal<string>;
  readonly phone: Personal<string>;
}
interface Contact {
  readonly subjectId: string;
  readonly name: Personal<string>;
  readonly phone: Personal<string>;
}
type TransferEvent =
  | { type: 'TransferRegistered'; data: { transferId: string; quantityKg: bigint; registeredOn: Date } }
  | { type: 'DriverAssigned'; data: { transferId: string; plate: string; driver: Driver } }
  | { type: 'ContactsUpdated'; data: { transferId: string; contacts: Contact[] } };

interface TransferState {
  readonly quantityKg: bigint;
  readonly driverName?: Personal<string>;
  readonly driverPhone?: Personal<string>;
  readonly plate?: string;
  readonly contacts: readonly string[];
}

const transfer = {
  initialState: (): TransferState => ({ quantityKg: 0n, contacts: [] }),
  evolve(state: TransferState, event: TransferEvent): TransferState {
    switch (event.type) {
      case 'TransferRegistered':
        return { ...state, quantityKg: event.data.quantityKg };
      case 'DriverAssigned':
        return {
          ...state,
          driverName: event.data.driver.name,
          driverPhone: event.data.driver.phone,
          plate: event.data.plate,
        };
      case 'ContactsUpdated':
        return { ...state, contacts: event.data.contacts.map((c) => displayPersonal(c.name)) };
    }
  },
};

const context = (): AppendContext => ({
  actor: systemActor('personal-data.spec'),
  occurredAt: new Date('2025-05-06T07:08:09.000Z'),
  correlationId: randomBytes(8).toString('hex'),
});

const id = (prefix: string) => `${prefix}-${randomBytes(5).toString('hex')}`;

/** Registers a transfer and assigns its driver, protecting the driver's fields before the append. */
async function registerWithDriver(
  store: EventStore,
  codec: PersonalDataCodec,
  transferId: string,
  driver: { subjectId: string; name: string; phone: string },
  contacts: ReadonlyArray<{ subjectId: string; name: string; phone: string }> = [],
): Promise<AppendResult> {
  const assigned = await codec.protect({ transferId, plate: '粤B·12345', driver }, driver.subjectId, [
    'driver.name',
    'driver.phone',
  ]);
  let contactsData: unknown = { transferId, contacts };
  for (let i = 0; i < contacts.length; i++) {
    contactsData = await codec.protect(contactsData, contacts[i].subjectId, [
      `contacts.${i}.name`,
      `contacts.${i}.phone`,
    ]);
  }
  return store.append({
    streams: [
      {
        streamId: `transfer-${transferId}`,
        expectedVersion: 'no-stream',
        events: [
          {
            type: 'TransferRegistered',
            data: {
              transferId,
              quantityKg: 12_500_000_000_000_000_001n,
              registeredOn: new Date('2025-05-01T00:00:00Z'),
            },
          },
          { type: 'DriverAssigned', data: assigned },
          ...(contacts.length > 0 ? [{ type: 'ContactsUpdated', data: contactsData }] : []),
        ],
      },
    ],
    context: context(),
  });
}

/** What must not change when a subject is erased: every stored event row, byte for byte, and the streams. */
async function storedFacts(b: Backend) {
  const events = await b.client.query<Record<string, unknown>>(
    `SELECT event_id::text AS event_id, stream_id, stream_position::text AS stream_position,
            global_position::text AS global_position, transaction_id::text AS transaction_id,
            type, schema_version, data::text AS data, metadata::text AS metadata
       FROM ${STORE_SCHEMA}.events ORDER BY global_position`,
  );
  const streams = await b.client.query(
    `SELECT stream_id, version::text AS version FROM ${STORE_SCHEMA}.streams ORDER BY stream_id`,
  );
  return {
    events: events.rows.map(({ data, ...rest }) => ({
      ...rest,
      dataSha256: createHash('sha256').update(String(data)).digest('hex'),
    })),
    streams: streams.rows,
  };
}

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('waitUntil: timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const foldStream = (events: readonly RecordedEvent[]) => fold(transfer, events as unknown as TransferEvent[]);

// ─── a read model of drivers, for the rebuild ───────────────────────────────────────────────

const driversProjection = (version: number) =>
  defineProjection({
    name: 'drivers',
    version,
    tables: ['drivers'],
    handles: ['DriverAssigned'],
    async setup(tx: SqlExecutor, names: TableNames) {
      await tx.query(`CREATE TABLE ${names.drivers} (
        transfer_id text PRIMARY KEY, driver_subject text NOT NULL, driver_name text NOT NULL, driver_phone text NOT NULL
      )`);
    },
    async apply(tx: SqlExecutor, events: RecordedEvent[], names: TableNames) {
      for (const e of events) {
        const d = e.data as { transferId: string; driver: Driver };
        await tx.query(
          `INSERT INTO ${names.drivers} (transfer_id, driver_subject, driver_name, driver_phone) VALUES ($1, $2, $3, $4)
           ON CONFLICT (transfer_id) DO UPDATE SET driver_subject = $2, driver_name = $3, driver_phone = $4`,
          [d.transferId, d.driver.subjectId, displayPersonal(d.driver.name), displayPersonal(d.driver.phone)],
        );
      }
    },
  });

forEachBackend(testing, 'personal data: protect, reveal, erase', (backend) => {
  let keys: SubjectKeyStore;
  let codec: PersonalDataCodec;
  let store: EventStore;

  beforeAll(async () => {
    keys = await SubjectKeyStore.open(backend().client, { masterKey: MASTER_KEY, schema: STORE_SCHEMA });
    codec = new PersonalDataCodec(keys);
    store = withPersonalData(backend().store, codec);
  });

  it('stores envelopes, never the plaintext, and reads the values back', async () => {
    const transferId = id('t');
    const driver = { subjectId: id('driver'), name: '王建国', phone: '+86 138 0013 8000' };
    const appended = await registerWithDriver(store, codec, transferId, driver);
    // The append result reads like any other read: revealed.
    expect(appended.events[1].data).toEqual({ transferId, plate: '粤B·12345', driver });

    const raw = await backend().client.query<{ data: string }>(
      `SELECT data::text AS data FROM ${STORE_SCHEMA}.events WHERE stream_id = $1 ORDER BY stream_position`,
      [`transfer-${transferId}`],
    );
    const stored = raw.rows.map((r) => r.data).join('\n');
    // Stored JSON is ASCII (non-ASCII as \u escapes): look for the name in both spellings.
    expect(stored).not.toContain('王建国');
    expect(stored).not.toContain('\\u738b\\u5efa\\u56fd');
    expect(JSON.stringify(raw.rows.map((r) => JSON.parse(r.data) as unknown))).not.toContain('王建国');
    expect(stored).not.toContain('0013');
    const rawEvents = (await backend().store.readStream(`transfer-${transferId}`)).events;
    const rawDriver = (rawEvents[1].data as { driver: Record<string, unknown> }).driver;
    expect(rawDriver.subjectId).toBe(driver.subjectId);
    expect(rawDriver.name).toMatchObject({
      $pd: 1,
      subject: driver.subjectId,
      field: 'driver.name',
      alg: 'A256GCM',
    });

    const read = await store.readStream(`transfer-${transferId}`);
    expect(read.events.map((e) => e.data)).toEqual([
      { transferId, quantityKg: 12_500_000_000_000_000_001n, registeredOn: new Date('2025-05-01T00:00:00Z') },
      { transferId, plate: '粤B·12345', driver },
    ]);
    // Events without personal data come back as the very same objects.
    expect(read.events[0].data).toEqual(rawEvents[0].data);
  });

  it('an envelope moved to another subject does not decrypt (the AAD binds it to its subject)', async () => {
    const alice = { subjectId: id('alice'), name: 'Alice 李', phone: '13900000001' };
    const bob = { subjectId: id('bob'), name: 'Bob 王', phone: '13900000002' };
    const t1 = id('t');
    const t2 = id('t');
    await registerWithDriver(store, codec, t1, alice);
    await registerWithDriver(store, codec, t2, bob);
    const aliceEnvelope = (await backend().store.readStream(`transfer-${t1}`)).events[1].data as {
      driver: { name: PersonalDataEnvelope };
    };
    const bobEnvelope = (await backend().store.readStream(`transfer-${t2}`)).events[1].data as {
      driver: { name: PersonalDataEnvelope };
    };
    const moved = aliceEnvelope.driver.name;
    // Relabelled as Bob's (his subject, or his subject and key id): authentication fails, nothing leaks.
    await expect(codec.reveal({ name: { ...moved, subject: bob.subjectId } })).rejects.toThrow(
      PersonalDataIntegrityError,
    );
    await expect(
      codec.reveal({ name: { ...moved, subject: bob.subjectId, kid: bobEnvelope.driver.name.kid } }),
    ).rejects.toThrow(/failed authentication/);
    // Untouched, it still reads as Alice's.
    expect(await codec.reveal({ name: moved })).toEqual({ name: alice.name });
  });

  it('erasing a subject: its fields read as erased; streams, positions, ids and stored bytes are unchanged', async () => {
    const alice = { subjectId: id('alice'), name: '李娜', phone: '13900000011' };
    const bob = { subjectId: id('bob'), name: '张伟', phone: '13900000012' };
    const t1 = id('t');
    const t2 = id('t');
    await registerWithDriver(store, codec, t1, alice, [alice, bob]);
    await registerWithDriver(store, codec, t2, bob, [bob]);
    const before = await storedFacts(backend());
    const readBefore = await store.readAll();

    const erasure = await keys.erase(alice.subjectId, {
      by: 'user:dpo-1',
      reason: 'PIPL Art. 47 request #42',
    });
    expect(erasure).toMatchObject({ subject: alice.subjectId, alreadyErased: false, hadKey: true });

    // Nothing in the event tables moved: same rows, same positions, same ids, same bytes.
    expect(await storedFacts(backend())).toEqual(before);

    const s1 = (await store.readStream(`transfer-${t1}`)).events;
    expect(s1[1].data).toEqual({
      transferId: t1,
      plate: '粤B·12345',
      driver: { subjectId: alice.subjectId, name: { erased: true }, phone: { erased: true } },
    });
    expect(s1[2].data).toEqual({
      transferId: t1,
      contacts: [
        { subjectId: alice.subjectId, name: ERASED, phone: ERASED },
        { subjectId: bob.subjectId, name: '张伟', phone: '13900000012' },
      ],
    });
    // Bob's data is untouched.
    expect((await store.readStream(`transfer-${t2}`)).events[1].data).toEqual({
      transferId: t2,
      plate: '粤B·12345',
      driver: bob,
    });

    // The all-stream reads the same events at the same positions; only Alice's fields differ.
    const readAfter = await store.readAll();
    expect(readAfter.next).toEqual(readBefore.next);
    const strip = (events: readonly RecordedEvent[]) =>
      events.map(({ data: _data, ...rest }) => rest as Omit<RecordedEvent, 'data'>);
    expect(strip(readAfter.events)).toEqual(strip(readBefore.events));
    expect(
      JSON.stringify(
        readAfter.events.map((e) => e.data),
        (_k, v) => (typeof v === 'bigint' ? `${v}` : v),
      ),
    ).not.toContain('李娜');
  });

  it('replays (folds) a stream after erasure', async () => {
    const driver = { subjectId: id('driver'), name: '陈晓', phone: '13900000021' };
    const transferId = id('t');
    await registerWithDriver(store, codec, transferId, driver, [driver]);
    expect(foldStream((await store.readStream(`transfer-${transferId}`)).events)).toEqual({
      quantityKg: 12_500_000_000_000_000_001n,
      driverName: '陈晓',
      driverPhone: '13900000021',
      plate: '粤B·12345',
      contacts: ['陈晓'],
    });

    await keys.erase(driver.subjectId, { by: 'user:dpo-1', reason: 'request' });

    const state = foldStream((await store.readStream(`transfer-${transferId}`)).events);
    expect(state).toEqual({
      quantityKg: 12_500_000_000_000_000_001n,
      driverName: ERASED,
      driverPhone: ERASED,
      plate: '粤B·12345',
      contacts: [ERASED_LABEL],
    });
    expect(displayPersonal(state.driverName as Personal<string>)).toBe('已删除 / erased');
  });

  it('rebuilds a read model after erasure: the erased driver shows as erased, the others as before', async () => {
    const readSchema = 'transfer_read';
    const erasedDriver = { subjectId: id('driver'), name: '周敏', phone: '13900000031' };
    const keptDriver = { subjectId: id('driver'), name: '吴强', phone: '13900000032' };
    const t1 = id('t');
    const t2 = id('t');
    await registerWithDriver(store, codec, t1, erasedDriver);
    const last = await registerWithDriver(store, codec, t2, keptDriver);

    // The running projection (v1) builds from the log, with the names.
    const runner = await startProjection({
      client: backend().client,
      store,
      projection: driversProjection(1),
      schema: readSchema,
      idleWaitMs: 20,
    });
    await runner.waitFor(last.lastLogPosition, 20_000);
    await runner.stop();
    const row = async (transferId: string) =>
      (
        await backend().client.query(
          `SELECT driver_subject, driver_name, driver_phone FROM ${readSchema}.drivers WHERE transfer_id = $1`,
          [transferId],
        )
      ).rows[0];
    expect(await row(t1)).toEqual({
      driver_subject: erasedDriver.subjectId,
      driver_name: '周敏',
      driver_phone: '13900000031',
    });

    await keys.erase(erasedDriver.subjectId, { by: 'user:dpo-1', reason: 'request' });

    // A read model keeps what it was told: after an erasure it is rebuilt from the log.
    const result = await rebuildProjection({
      client: backend().client,
      store,
      projection: driversProjection(2),
      schema: readSchema,
      batchSize: 7,
    });
    expect(result.switched).toBe(true);
    expect(await row(t1)).toEqual({
      driver_subject: erasedDriver.subjectId,
      driver_name: ERASED_LABEL,
      driver_phone: ERASED_LABEL,
    });
    expect(await row(t2)).toEqual({
      driver_subject: keptDriver.subjectId,
      driver_name: '吴强',
      driver_phone: '13900000032',
    });
    const all = await backend().client.query<{ driver_name: string }>(
      `SELECT driver_name FROM ${readSchema}.drivers`,
    );
    expect(all.rows.map((r) => r.driver_name)).not.toContain('周敏');
  });

  it('tails the log revealed, with erased subjects erased', async () => {
    const erased = { subjectId: id('driver'), name: '郑洁', phone: '13900000041' };
    const kept = { subjectId: id('driver'), name: '孙磊', phone: '13900000042' };
    const t1 = id('t');
    await registerWithDriver(store, codec, t1, erased);
    await keys.erase(erased.subjectId, { by: 'user:dpo-1', reason: 'request' });

    const controller = new AbortController();
    const seen = new Map<string, unknown>();
    const t2 = id('t');
    // The wrapper catches up in revealed readAll batches, then follows the inner store's live tail.
    const innerTail = jest.spyOn(backend().store, 'tailAll');
    try {
      const tail = (async () => {
        for await (const event of store.tailAll({ signal: controller.signal, idleWaitMs: 20, maxCount: 5 })) {
          if (event.type === 'DriverAssigned') {
            const d = event.data as { transferId: string; driver: Driver };
            seen.set(d.transferId, d.driver.name);
            if (d.transferId === t2) controller.abort();
          }
        }
      })();
      await waitUntil(() => innerTail.mock.calls.length > 0);
      expect(seen.get(t1)).toEqual(ERASED);
      // Appended once the tail is live: it arrives through the inner tail, revealed.
      await registerWithDriver(store, codec, t2, kept);
      await tail;
    } finally {
      innerTail.mockRestore();
    }
    expect(seen.get(t2)).toBe('孙磊');
    for (const value of seen.values()) expect(isPersonalDataEnvelope(value)).toBe(false);
  });

  it('looks keys up per batch of events, not per event', async () => {
    const subjects = Array.from({ length: 120 }, (_, i) => ({
      subjectId: id(`bulk${i}`),
      name: `司机${i}`,
      phone: `1390000${String(i).padStart(4, '0')}`,
    }));
    const streamId = `transfer-${id('bulk')}`;
    const events = [];
    for (const s of subjects) {
      events.push({
        type: 'DriverAssigned',
        data: await codec.protect({ transferId: streamId, plate: 'P', driver: s }, s.subjectId, [
          'driver.name',
          'driver.phone',
        ]),
      });
    }
    await backend().store.append({
      streams: [{ streamId, expectedVersion: 'no-stream', events }],
      context: context(),
    });
    await keys.erase(subjects[7].subjectId, { by: 'user:dpo-1', reason: 'request' });

    // A fresh key store (cold cache), counting its queries.
    const counted = countingClient(backend().client);
    const coldKeys = new SubjectKeyStore(counted, { masterKey: MASTER_KEY, schema: STORE_SCHEMA });
    const coldStore = withPersonalData(backend().store, new PersonalDataCodec(coldKeys));
    const read = await coldStore.readStream(streamId);
    expect(counted.queries).toHaveLength(1);
    expect(read.events.map((e) => (e.data as { driver: Driver }).driver.name)).toEqual(
      subjects.map((s, i) => (i === 7 ? ERASED : s.name)),
    );
    // Read again: every key is cached.
    await coldStore.readStream(streamId);
    expect(counted.queries).toHaveLength(1);
  });

  it('protects on append by declared rules (for handlers whose append is not in their hands)', async () => {
    const rules: PersonalDataRules = {
      DriverAssigned: [{ subject: (d) => d.driver?.subjectId, paths: ['driver.name', 'driver.phone'] }],
    };
    const protecting = withPersonalData(backend().store, codec, { protect: rules });
    const driver = { subjectId: id('driver'), name: '何静', phone: '13900000051' };
    const streamId = `transfer-${id('t')}`;
    const result = await protecting.append({
      streams: [
        {
          streamId,
          expectedVersion: 'no-stream',
          events: [{ type: 'DriverAssigned', data: { transferId: streamId, plate: 'P', driver } }],
        },
      ],
      context: context(),
    });
    expect(result.events[0].data).toEqual({ transferId: streamId, plate: 'P', driver });
    const raw = (await backend().store.readStream(streamId)).events[0].data as {
      driver: Record<string, unknown>;
    };
    expect(isPersonalDataEnvelope(raw.driver.name)).toBe(true);
    expect(isPersonalDataEnvelope(raw.driver.phone)).toBe(true);
    expect(raw.driver.subjectId).toBe(driver.subjectId);
    // The wrapper keeps the adapter's extras (the projections look for them).
    expect((protecting as unknown as { schema: string }).schema).toBe(STORE_SCHEMA);
    expect(typeof (protecting as unknown as { backlog: unknown }).backlog).toBe('function');
  });
});
