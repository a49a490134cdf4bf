import { createPostgresClient, type PostgresSqlClient } from '@lianfang/eventsourcing';
import { describeWithPostgres, useTestDatabase } from '@lianfang/testing';
import { startConsumer, type Consumer, type ConsumerOptions } from '../consumer/consumer';
import type { MessageHandler } from '../consumer/processing';
import {
  counterEffect,
  counterEnvelope,
  createEffectTables,
  effectState,
  eventually,
  publish,
  testContracts,
  toOutgoing,
  type CounterEffect,
} from '../consumer/test-fixtures/counter.fixture';
import { createMemoryTransport, type MemoryTransport } from '../memory/memory-transport';
import {
  DeadLetterError,
  listDeadLetters,
  requestRedrive,
  requestSkip,
  showDeadLetter,
  waitForRequest,
  type DeadLetter,
} from './dead-letters';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

describeWithPostgres('dead letters: redrive, skip, requests (memory transport, real PostgreSQL)', () => {
  const db = useTestDatabase('dead_letters');
  let client: PostgresSqlClient;
  let transport: MemoryTransport;
  let schemaSeq = 0;
  const running: Consumer[] = [];

  beforeAll(() => {
    client = createPostgresClient({ pool: db().pool({ max: 6 }) });
  });
  beforeEach(() => {
    transport = createMemoryTransport({ logger: quiet });
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.stop()));
    await transport.close();
  });
  afterAll(() => client.close());

  interface Setup {
    schema: string;
    topic: string;
    groupId: string;
    effect: CounterEffect;
    start(overrides?: Partial<ConsumerOptions>): Promise<Consumer>;
  }

  async function setup(): Promise<Setup> {
    const schema = `dl_${++schemaSeq}`;
    const topic = `lianfang.dl${schemaSeq}.v1`;
    await createEffectTables(client, schema);
    await transport.ensureTopics([{ name: topic, partitions: 3, replicationFactor: 1 }]);
    const effect = counterEffect(schema);
    const groupId = `${schema}.group`;
    return {
      schema,
      topic,
      groupId,
      effect,
      async start(overrides = {}) {
        const c = await startConsumer({
          transport,
          client,
          schema,
          groupId,
          topics: [topic],
          contracts: testContracts(),
          handle: effect.handle,
          maxAttempts: 2,
          backoff: { initialMs: 5, maxMs: 10 },
          requestPollMs: false,
          inboxRetention: false,
          logger: quiet,
          ...overrides,
        });
        running.push(c);
        return c;
      },
    };
  }

  /** A/1 fails (while `broken`), A/2 and A/3 park behind it; B/1 flows. Returns the open letters. */
  async function poisonA(s: Setup, consumer: Consumer, isBroken: () => boolean): Promise<DeadLetter[]> {
    s.effect.fail = (stream, seq) =>
      isBroken() && stream === 'A' && seq === 1 ? new Error('poison A/1') : undefined;
    await publish(transport, [
      toOutgoing(s.topic, counterEnvelope('A', 1)),
      toOutgoing(s.topic, counterEnvelope('A', 2)),
      toOutgoing(s.topic, counterEnvelope('B', 1)),
      toOutgoing(s.topic, counterEnvelope('A', 3)),
    ]);
    await eventually('A parked, B applied', async () => {
      const m = consumer.metrics();
      return m.deadLettered === 1 && m.parked === 2 && m.processed === 1;
    });
    return listDeadLetters(client, s.schema, { status: ['parked-head', 'parked'] });
  }

  it('skips the head (never applied, recorded with the reason), then redrives the rest in order', async () => {
    const s = await setup();
    const consumer = await s.start();
    const [head, ...behind] = await poisonA(s, consumer, () => true);

    const outcome = await consumer.skip(head.id, {
      by: 'operator-wang',
      reason: 'sent by mistake, see ticket 42',
    });
    expect(outcome).toMatchObject({ finished: true, skipped: [head.id], unparked: true, failed: undefined });
    expect(outcome.redriven).toEqual(behind.map((l) => ({ id: l.id, duplicate: false })));
    expect(await effectState(client, s.schema)).toEqual({ total: 3, log: { A: [2, 3], B: [1] } });
    expect((await listDeadLetters(client, s.schema)).map((l) => l.status)).toEqual([
      'skipped',
      'redriven',
      'redriven',
    ]);

    // The skipped event is in the inbox as handled-without-effect: a resend of it stays skipped.
    const inbox = await client.query(`SELECT applied FROM ${s.schema}.inbox WHERE event_id = $1`, [
      head.eventId,
    ]);
    expect(inbox.rows).toEqual([{ applied: false }]);
    await publish(transport, [toOutgoing(s.topic, JSON.parse(head.value))]);
    await eventually('the resend seen', async () => consumer.metrics().duplicates === 1);
    expect((await effectState(client, s.schema)).log.A).toEqual([2, 3]);

    const actions = (await showDeadLetter(client, s.schema, head.id))?.actions ?? [];
    expect(actions.map((a) => [a.action, a.actor, a.deadLetterId])).toEqual([
      ['dead-lettered', s.groupId, head.id],
      ['skip-requested', 'operator-wang', head.id],
      ['skipped', 'operator-wang', head.id],
      ['redriven', 'operator-wang', behind[0].id],
      ['redriven', 'operator-wang', behind[1].id],
      ['unparked', 'operator-wang', null],
    ]);
    expect(actions[1].reason).toBe('sent by mistake, see ticket 42');
    expect(actions[2].reason).toBe('sent by mistake, see ticket 42');
  });

  it('stops a redrive at the first message that fails again: it stays the head with the new error', async () => {
    const s = await setup();
    const consumer = await s.start();
    const [head, second, third] = await poisonA(s, consumer, () => true);

    // Not fixed yet: the head fails again.
    s.effect.fail = (stream, seq) => (stream === 'A' && seq === 1 ? new Error('still broken') : undefined);
    const again = await consumer.redrive('A', { by: 'ops' });
    expect(again).toMatchObject({ finished: true, redriven: [], unparked: false, failed: { id: head.id } });
    expect(again.failed?.error).toContain('still broken');
    let open = await listDeadLetters(client, s.schema, { status: ['parked-head', 'parked'] });
    expect(open.map((l) => [l.id, l.status])).toEqual([
      [head.id, 'parked-head'],
      [second.id, 'parked'],
      [third.id, 'parked'],
    ]);
    expect(open[0]).toMatchObject({ attempts: 4, error: expect.stringContaining('still broken') });
    expect((await consumer.status()).pendingRequests).toBe(0);

    // Head fixed, but A/2 breaks: A/1 is applied, A/2 becomes the head, A/3 waits behind it.
    s.effect.fail = (stream, seq) => (stream === 'A' && seq === 2 ? new Error('A/2 broken now') : undefined);
    const partly = await consumer.redrive(head.id, { by: 'ops' });
    expect(partly).toMatchObject({
      redriven: [{ id: head.id, duplicate: false }],
      failed: { id: second.id },
      unparked: false,
    });
    open = await listDeadLetters(client, s.schema, { status: ['parked-head', 'parked'] });
    expect(open.map((l) => [l.id, l.status])).toEqual([
      [second.id, 'parked-head'],
      [third.id, 'parked'],
    ]);
    expect(open[0].error).toContain('A/2 broken now');
    expect((await effectState(client, s.schema)).log.A).toEqual([1]);

    s.effect.fail = () => undefined;
    const done = await consumer.redrive(third.id, { by: 'ops' });
    expect(done).toMatchObject({ unparked: true, failed: undefined });
    expect(done.redriven.map((r) => r.id)).toEqual([second.id, third.id]);
    expect(await effectState(client, s.schema)).toEqual({ total: 4, log: { A: [1, 2, 3], B: [1] } });
  });

  it('does not apply twice a resend parked behind its original', async () => {
    const s = await setup();
    const consumer = await s.start();
    let broken = true;
    s.effect.fail = (stream, seq) =>
      broken && stream === 'A' && seq === 1 ? new Error('poison') : undefined;
    const a1 = counterEnvelope('A', 1);
    const a2 = counterEnvelope('A', 2);
    await publish(
      transport,
      [a1, a2, a1, a2].map((e) => toOutgoing(s.topic, e)),
    );
    await eventually('all parked', async () => consumer.metrics().parked === 3);
    broken = false;
    const outcome = await consumer.redrive('A', { by: 'ops' });
    expect(outcome.redriven.map((r) => r.duplicate)).toEqual([false, false, true, true]);
    expect(await effectState(client, s.schema)).toEqual({ total: 2, log: { A: [1, 2] } });
  });

  it('queues a message arriving during a redrive behind the redriven ones (it never overtakes)', async () => {
    const s = await setup();
    let release!: () => void;
    const gate = { armed: false, entered: false, released: new Promise<void>((r) => (release = r)) };
    const handle: MessageHandler = async (envelope, tx, message) => {
      const data = envelope.data as { stream: string; seq: number };
      if (gate.armed && data.stream === 'A' && data.seq === 1) {
        gate.entered = true;
        await gate.released;
      }
      await s.effect.handle(envelope, tx, message);
    };
    const consumer = await s.start({ handle });
    let broken = true;
    const [head] = await poisonA(s, consumer, () => broken);
    broken = false;

    gate.armed = true;
    const redriving = consumer.redrive(head.id, { by: 'ops' });
    await eventually('the redrive is applying the head', async () => gate.entered);

    // A/4 arrives now: its transaction must wait on the stream's lock, behind the redrive step.
    await publish(transport, [toOutgoing(s.topic, counterEnvelope('A', 4))]);
    await eventually('A/4 waiting on the parked stream lock', async () => {
      const r = await client.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      return r.rows[0].n !== '0';
    });
    release();
    const outcome = await redriving;
    expect(outcome).toMatchObject({ finished: true, failed: undefined, unparked: true });

    await eventually('A/4 applied', async () => (await effectState(client, s.schema)).log.A?.length === 4);
    expect(await effectState(client, s.schema)).toEqual({ total: 5, log: { A: [1, 2, 3, 4], B: [1] } });
    expect(await listDeadLetters(client, s.schema, { status: ['parked-head', 'parked'] })).toEqual([]);
    expect((await client.query(`SELECT 1 FROM ${s.schema}.parked_streams`)).rowCount).toBe(0);
  });

  it('lets the operator request a redrive; the running consumer applies it (LISTEN), or applies it when it starts', async () => {
    const s = await setup();
    let consumer = await s.start();
    let broken = true;
    const [head] = await poisonA(s, consumer, () => broken);
    await consumer.stop();
    broken = false;

    // Requested while the service is down: nothing happens until it runs.
    const request = await requestRedrive(client, s.schema, head.id, { by: 'ops', reason: 'fixed in 1.4.2' });
    expect(request).toMatchObject({
      action: 'redrive',
      groupId: s.groupId,
      streamId: 'A',
      deadLetterId: head.id,
    });
    const notYet = await waitForRequest(client, s.schema, request, { timeoutMs: 300, pollMs: 50 });
    expect(notYet).toMatchObject({ finished: false, redriven: [], unparked: false });
    expect((await showDeadLetter(client, s.schema, head.id))?.pendingRequest).toMatchObject({
      action: 'redrive',
      by: 'ops',
      reason: 'fixed in 1.4.2',
    });

    consumer = await s.start();
    const done = await waitForRequest(client, s.schema, request, { timeoutMs: 30_000 });
    expect(done).toMatchObject({ finished: true, unparked: true });
    expect(done.redriven).toHaveLength(3);
    expect(await effectState(client, s.schema)).toEqual({ total: 4, log: { A: [1, 2, 3], B: [1] } });

    // Running, no poll: a request reaches it by NOTIFY.
    broken = true;
    s.effect.fail = (stream, seq) => (broken && stream === 'C' ? new Error(`C/${seq} broken`) : undefined);
    await publish(transport, [toOutgoing(s.topic, counterEnvelope('C', 1))]);
    await eventually('C dead-lettered', async () => consumer.metrics().deadLettered === 1);
    broken = false;
    const other = createPostgresClient({ connectionString: db().url, max: 1 });
    try {
      const viaNotify = await requestRedrive(other, s.schema, 'C', { by: 'ops' });
      expect(await waitForRequest(other, s.schema, viaNotify, { timeoutMs: 30_000 })).toMatchObject({
        finished: true,
        unparked: true,
        redriven: [{ duplicate: false }],
      });
    } finally {
      await other.close();
    }
    expect((await effectState(client, s.schema)).log.C).toEqual([1]);
  });

  it('tells the operator what is wrong: unknown id, not parked, not the head, no reason, pending, ambiguous', async () => {
    const s = await setup();
    const consumer = await s.start();
    const [head, second] = await poisonA(s, consumer, () => true);
    // Requests wait while the service is down: the pending ones below stay pending.
    await consumer.stop();
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (e: unknown) => (e instanceof DeadLetterError ? e.code : String(e)),
      );

    await expect(code(requestRedrive(client, s.schema, 999n, { by: 'ops' }))).resolves.toBe('unknown-id');
    await expect(code(requestRedrive(client, s.schema, 'no-such-stream', { by: 'ops' }))).resolves.toBe(
      'unknown-stream',
    );
    await expect(code(requestSkip(client, s.schema, second.id, { by: 'ops', reason: 'x' }))).resolves.toBe(
      'not-head',
    );
    await expect(code(requestSkip(client, s.schema, head.id, { by: 'ops', reason: ' ' }))).resolves.toBe(
      'reason',
    );

    const first = await requestRedrive(client, s.schema, head.id, { by: 'ops' });
    // The same redrive again is the same request; a skip meanwhile is refused.
    expect((await requestRedrive(client, s.schema, 'A', { by: 'ops' })).requestId).toBe(first.requestId);
    await expect(code(requestSkip(client, s.schema, head.id, { by: 'ops', reason: 'x' }))).resolves.toBe(
      'pending',
    );

    // The same stream id parked in a second group of the schema.
    await client.query(
      `INSERT INTO ${s.schema}.parked_streams (consumer_group, stream_id, parked_at) VALUES ('other.group', 'A', now())`,
    );
    await expect(code(requestRedrive(client, s.schema, 'A', { by: 'ops' }))).resolves.toBe('ambiguous');
    await client.query(`DELETE FROM ${s.schema}.parked_streams WHERE consumer_group = 'other.group'`);

    s.effect.fail = () => undefined;
    await s.start();
    expect(await waitForRequest(client, s.schema, first, { timeoutMs: 30_000 })).toMatchObject({
      unparked: true,
    });
    const err = await requestRedrive(client, s.schema, head.id, { by: 'ops' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadLetterError);
    expect((err as DeadLetterError).code).toBe('not-parked');
    expect((err as DeadLetterError).message).toMatch(
      new RegExp(`dead letter ${head.id} is already redriven \\(by ops`),
    );
  });
});
