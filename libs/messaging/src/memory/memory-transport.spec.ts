import { Partitioners } from 'kafkajs';
import type { IncomingMessage, OutgoingMessage } from '../transport/transport';
import { createMemoryTransport, type MemoryTransport } from './memory-transport';

/** Polls until `check` returns true (no timed assertions: the deadline only bounds a hang). */
async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const msg = (topic: string, key: string, value: string): OutgoingMessage => ({
  topic,
  key,
  value,
  headers: { 'lf-type': 'Test', n: value },
});

describe('memory transport', () => {
  let transport: MemoryTransport;

  beforeEach(() => {
    transport = createMemoryTransport({ partitions: 3, redelivery: { initialDelayMs: 1, maxDelayMs: 5 } });
  });

  afterEach(async () => {
    await transport.close();
  });

  it('puts a key on the same partition as Kafka (murmur2) and keeps per-key order with string offsets', async () => {
    await transport.ensureTopics([{ name: 't.events', partitions: 4, replicationFactor: 1 }]);
    const publisher = await transport.createPublisher();
    const sent = Array.from({ length: 200 }, (_, i) => msg('t.events', `stream-${i % 17}`, String(i)));
    await publisher.send(sent.slice(0, 100));
    await publisher.send(sent.slice(100));

    const stored = transport.messages('t.events');
    expect(stored).toHaveLength(200);
    const kafkaPartitioner = Partitioners.DefaultPartitioner();
    const metadata = [0, 1, 2, 3].map((partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
      offlineReplicas: [],
    }));
    for (const m of stored) {
      expect(m.partition).toBe(
        kafkaPartitioner({
          topic: 't.events',
          partitionMetadata: metadata,
          message: { key: m.key, value: null },
        }),
      );
    }
    expect(new Set(stored.map((m) => m.partition)).size).toBeGreaterThan(1);
    for (let p = 0; p < 4; p++) {
      const offsets = stored.filter((m) => m.partition === p).map((m) => m.offset);
      expect(offsets).toEqual(offsets.map((_, i) => String(i)));
    }
    for (let k = 0; k < 17; k++) {
      const values = stored.filter((m) => m.key === `stream-${k}`).map((m) => Number(m.value));
      expect(values).toEqual([...values].sort((a, b) => a - b));
      expect(new Set(stored.filter((m) => m.key === `stream-${k}`).map((m) => m.partition)).size).toBe(1);
    }
    expect(await transport.topicOffsets('t.events')).toEqual(
      [0, 1, 2, 3].map((partition) => ({
        partition,
        low: '0',
        high: String(stored.filter((m) => m.partition === partition).length),
      })),
    );
  });

  it('never runs a handler inside send, and delivers every message with its headers', async () => {
    const publisher = await transport.createPublisher();
    let insideSend = false;
    const calledInsideSend: boolean[] = [];
    const received: IncomingMessage[] = [];
    const sub = await transport.subscribe({
      groupId: 'g',
      topics: ['t.async'],
      handle: async (m) => {
        calledInsideSend.push(insideSend);
        received.push(m);
      },
    });
    insideSend = true;
    const sending = publisher.send([msg('t.async', 'a', '1'), msg('t.async', 'b', '2')]);
    insideSend = false;
    await sending;
    await until(() => received.length === 2, 'two deliveries');
    expect(calledInsideSend).toEqual([false, false]);
    expect(received.map((m) => [m.key, m.value, m.headers])).toEqual(
      expect.arrayContaining([
        ['a', '1', { 'lf-type': 'Test', n: '1' }],
        ['b', '2', { 'lf-type': 'Test', n: '2' }],
      ]),
    );
    expect(received.every((m) => m.timestamp instanceof Date)).toBe(true);
    await sub.stop();
  });

  it('gives each group every message and keeps a committed offset per group and partition', async () => {
    await transport.ensureTopics([{ name: 't.groups', partitions: 1, replicationFactor: 1 }]);
    const publisher = await transport.createPublisher();
    await publisher.send(['1', '2', '3'].map((v) => msg('t.groups', 'k', v)));
    const a: string[] = [];
    const b: string[] = [];
    const subA = await transport.subscribe({
      groupId: 'a',
      topics: ['t.groups'],
      handle: async (m) => void a.push(m.value),
    });
    const subB = await transport.subscribe({
      groupId: 'b',
      topics: ['t.groups'],
      handle: async (m) => void b.push(m.value),
    });
    await until(() => a.length === 3 && b.length === 3, 'both groups');
    expect(a).toEqual(['1', '2', '3']);
    expect(b).toEqual(['1', '2', '3']);
    expect(transport.committedOffset('a', 't.groups', 0)).toBe('3');
    await subA.stop();
    await publisher.send([msg('t.groups', 'k', '4')]);
    await until(() => b.length === 4, 'group b gets the 4th');
    expect(transport.committedOffset('a', 't.groups', 0)).toBe('3');
    expect(transport.committedOffset('b', 't.groups', 0)).toBe('4');

    // Group a comes back: it resumes after its committed offset, nothing handled twice.
    const again: string[] = [];
    const subA2 = await transport.subscribe({
      groupId: 'a',
      topics: ['t.groups'],
      handle: async (m) => void again.push(m.value),
    });
    await until(() => again.length === 1, 'group a resumes');
    expect(again).toEqual(['4']);
    await Promise.all([subA2.stop(), subB.stop()]);
  });

  it('redelivers a rejected message before anything after it in its partition, while other partitions flow', async () => {
    await transport.ensureTopics([{ name: 't.retry', partitions: 3, replicationFactor: 1 }]);
    const publisher = await transport.createPublisher();
    const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
    const poisonKey = 'k0';
    const partitionOf = new Map<string, number>();
    const events: string[] = [];
    let failuresLeft = 3;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const sub = await transport.subscribe({
      groupId: 'g',
      topics: ['t.retry'],
      handle: async (m) => {
        partitionOf.set(m.key, m.partition);
        if (m.key === poisonKey && m.value === '0') {
          if (failuresLeft > 0) {
            failuresLeft--;
            events.push(`fail ${m.key}/${m.value}`);
            // Keep failing until messages of the other partitions got through.
            if (failuresLeft === 0) await released;
            throw new Error('transient');
          }
        }
        events.push(`ok ${m.key}/${m.value}`);
      },
    });
    await publisher.send(keys.flatMap((k) => ['0', '1', '2'].map((v) => msg('t.retry', k, v))));
    const poisonPartition = () => partitionOf.get(poisonKey);
    // Other partitions deliver everything while the poison message keeps failing.
    await until(
      () =>
        partitionOf.size > 0 &&
        keys
          .filter((k) => partitionOf.has(k) && partitionOf.get(k) !== poisonPartition())
          .every((k) => events.includes(`ok ${k}/2`)) &&
        keys.some((k) => partitionOf.has(k) && partitionOf.get(k) !== poisonPartition()),
      'other partitions flow',
    );
    expect(events).not.toContain(`ok ${poisonKey}/0`);
    release();
    await until(() => events.includes(`ok ${poisonKey}/2`), 'poison partition resumes');
    await until(
      () =>
        keys.every((k) => !partitionOf.has(k) || events.includes(`ok ${k}/2`)) &&
        partitionOf.size === keys.length,
      'everything',
    );
    expect(events.filter((e) => e === `fail ${poisonKey}/0`)).toHaveLength(3);
    // In the poison's partition, nothing was handled between its failures and its success.
    const samePartition = keys.filter((k) => partitionOf.get(k) === poisonPartition());
    const inPartition = events.filter((e) => samePartition.some((k) => e.includes(` ${k}/`)));
    const firstOk = inPartition.findIndex((e) => e.startsWith('ok'));
    expect(inPartition.slice(0, firstOk)).toEqual([
      `fail ${poisonKey}/0`,
      `fail ${poisonKey}/0`,
      `fail ${poisonKey}/0`,
    ]);
    expect(inPartition[firstOk]).toBe(`ok ${poisonKey}/0`);
    // Every message exactly once successfully, per key in order.
    for (const k of keys) {
      expect(events.filter((e) => e.startsWith(`ok ${k}/`))).toEqual([`ok ${k}/0`, `ok ${k}/1`, `ok ${k}/2`]);
    }
    await sub.stop();
  });

  it('shares partitions among the subscriptions of a group, never handling one partition twice at once', async () => {
    await transport.ensureTopics([{ name: 't.share', partitions: 4, replicationFactor: 1 }]);
    const publisher = await transport.createPublisher();
    const active = new Map<number, number>();
    let overlap = false;
    const byMember: Record<string, string[]> = { one: [], two: [] };
    const handler = (name: string) => async (m: IncomingMessage) => {
      active.set(m.partition, (active.get(m.partition) ?? 0) + 1);
      if ((active.get(m.partition) ?? 0) > 1) overlap = true;
      await new Promise((r) => setTimeout(r, 1));
      active.set(m.partition, (active.get(m.partition) ?? 1) - 1);
      byMember[name].push(`${m.key}/${m.value}`);
    };
    const one = await transport.subscribe({ groupId: 'shared', topics: ['t.share'], handle: handler('one') });
    const keys = Array.from({ length: 12 }, (_, i) => `s${i}`);
    await publisher.send(keys.map((k) => msg('t.share', k, '0')));
    // A second member joins while the first is busy: the partitions are split between them.
    const two = await transport.subscribe({ groupId: 'shared', topics: ['t.share'], handle: handler('two') });
    const assignment = transport.assignments('shared');
    expect(assignment.map((a) => a.partitions.length)).toEqual([2, 2]);
    expect(new Set(assignment.flatMap((a) => a.partitions))).toEqual(new Set([0, 1, 2, 3]));
    for (let round = 1; round <= 5; round++)
      await publisher.send(keys.map((k) => msg('t.share', k, String(round))));
    await until(() => byMember.one.length + byMember.two.length >= 72, 'all 72 handled');
    expect(byMember.two.length).toBeGreaterThan(0);
    expect(overlap).toBe(false);
    const all = [...byMember.one, ...byMember.two];
    // Committed after each message, so a handover repeats nothing here.
    expect(all).toHaveLength(72);
    for (const k of keys) {
      const seen = all.filter((v) => v.startsWith(`${k}/`));
      expect(new Set(seen).size).toBe(6);
    }
    // One leaves: the other gets every partition and what follows.
    await one.stop();
    expect(transport.assignments('shared')).toEqual([
      { member: expect.any(Number), topic: 't.share', partitions: [0, 1, 2, 3] },
    ]);
    await publisher.send(keys.map((k) => msg('t.share', k, '6')));
    await until(() => byMember.two.filter((v) => v.endsWith('/6')).length === 12, 'after the leave');
    await two.stop();
  });

  it('delivers again after a simulated crash before commit (duplicateEvery), so consumers must deduplicate', async () => {
    const dup = createMemoryTransport({ partitions: 1, duplicateEvery: 2 });
    try {
      const publisher = await dup.createPublisher();
      const seen: string[] = [];
      const sub = await dup.subscribe({
        groupId: 'g',
        topics: ['t.dup'],
        handle: async (m) => void seen.push(m.value),
      });
      await publisher.send(['a', 'b', 'c', 'd'].map((v) => msg('t.dup', 'k', v)));
      await until(() => seen.length === 6, 'four messages, two of them twice');
      expect(seen).toEqual(['a', 'b', 'b', 'c', 'd', 'd']);
      await sub.stop();
    } finally {
      await dup.close();
    }
  });

  it('starts a new group at the end when fromBeginning is false', async () => {
    const publisher = await transport.createPublisher();
    await publisher.send([msg('t.end', 'k', 'old')]);
    const seen: string[] = [];
    const sub = await transport.subscribe({
      groupId: 'late',
      topics: ['t.end'],
      fromBeginning: false,
      handle: async (m) => void seen.push(m.value),
    });
    await new Promise((r) => setImmediate(r));
    await publisher.send([msg('t.end', 'k', 'new')]);
    await until(() => seen.length === 1, 'the new message');
    expect(seen).toEqual(['new']);
    await sub.stop();
  });

  it('rejects bad topic specs and use after close', async () => {
    await expect(
      transport.ensureTopics([{ name: 'bad topic', partitions: 1, replicationFactor: 1 }]),
    ).rejects.toThrow(/Invalid topic name/);
    await expect(
      transport.ensureTopics([{ name: 't.x', partitions: 0, replicationFactor: 1 }]),
    ).rejects.toThrow(/partitions must be a positive integer/);
    const publisher = await transport.createPublisher();
    await transport.close();
    await expect(publisher.send([msg('t.x', 'k', 'v')])).rejects.toThrow(/closed/);
    await expect(transport.createPublisher()).rejects.toThrow(/closed/);
  });
});
