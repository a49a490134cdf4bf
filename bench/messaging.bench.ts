// `npm run bench -- messaging [--seconds 60] [--rate 1000] [--warmup 10] [--relay-rows 20000] [--rounds 3]
//  [--partitions 6] [--streams 200] [--relay-batch 500] [--no-write]`
//
// 1. Relay throughput: an outbox pre-filled with `--relay-rows` rows (not timed), then the outbox relay (its
//    own process) publishes them to Kafka; messages/s from its first acknowledgement to its last. `--rounds`
//    rounds, each on a fresh topic.
// 2. Append-to-effect latency, OPEN LOOP: appends are issued at `--rate` per second on a fixed schedule,
//    whether or not earlier ones have completed (no coordinated omission), for `--warmup` s (not counted)
//    then `--seconds` s. Each event is timed at four points: append committed (this process), published
//    (the relay's ack from Kafka, relay process), consumed (handed to the consumer, consumer process) and
//    effect committed (the consumer's transaction with the inbox row committed). p50/p99 per leg and in total.
//
// Kafka: a broker of its own (tools/kafka, temp data dir) unless KAFKA_BROKERS is set. PostgreSQL: a database
// created for the run (DATABASE_URL's server), dropped at the end. Writes the `messaging` section of
// docs/benchmarks.md after a standard run (≥ 60 s at 1,000 events/s); progress on stderr.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { createPostgresClient, createPostgresEventStore, type SqlEventStore } from '@lianfang/eventsourcing';
import { createKafkaTransport, type KafkaTransport } from '@lianfang/messaging';
import { makeTempDataDir, removeDataDir, startBroker, type BrokerHandle } from '../tools/kafka/broker.cjs';
import { flags, fmt, log, machine, median, spread, withDatabase, writeSection } from './report';
import {
  hrNow,
  pingAppend,
  pingOutbox,
  quantile,
  streamOf,
  type WorkerConfig,
  type WorkerMessage,
} from './messaging-workload';

const TARGET_P99_MS = 100;
const SRC = 'bench_src';
const DST = 'bench_dst';

interface Options {
  seconds: number;
  rate: number;
  warmup: number;
  relayRows: number;
  rounds: number;
  partitions: number;
  streams: number;
  relayBatch: number;
  write: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    seconds: 60,
    rate: 1000,
    warmup: 10,
    relayRows: 20_000,
    rounds: 3,
    partitions: 6,
    streams: 200,
    relayBatch: 500,
    write: true,
  };
  for (const { name: flag, num } of flags(argv)) {
    if (flag === '--seconds') o.seconds = num();
    else if (flag === '--rate') o.rate = num();
    else if (flag === '--warmup') o.warmup = num();
    else if (flag === '--relay-rows') o.relayRows = Math.floor(num());
    else if (flag === '--rounds') o.rounds = Math.floor(num());
    else if (flag === '--partitions') o.partitions = Math.floor(num());
    else if (flag === '--streams') o.streams = Math.floor(num());
    else if (flag === '--relay-batch') o.relayBatch = Math.floor(num());
    else if (flag === '--no-write') o.write = false;
    else throw new Error(`unknown option ${flag}`);
  }
  return o;
}

const ms = (n: number) =>
  Number.isFinite(n) ? (Math.abs(n) < 10 ? n.toFixed(1) : Math.round(n).toString()) : '—';
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

// ─── workers ──────────────────────────────────────────────────────────────────────────────

interface Worker {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  /** Resolves with the first message of this kind. */
  next<K extends WorkerMessage['kind']>(
    kind: K,
    timeoutMs: number,
  ): Promise<Extract<WorkerMessage, { kind: K }>>;
  stop(): Promise<void>;
}

function startWorker(config: WorkerConfig, onMessage: (m: WorkerMessage) => void = () => undefined): Worker {
  const root = path.resolve(__dirname, '..');
  const child = fork(path.join(__dirname, 'messaging-worker.ts'), [JSON.stringify(config)], {
    execArgv: ['-r', path.join(root, 'tools/register-ts.cjs')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<string, (m: WorkerMessage) => void>();
  let failure: string | undefined;
  child.on('message', (raw) => {
    const m = raw as WorkerMessage;
    if (m.kind === 'error') failure = m.error;
    onMessage(m);
    waiting.get(m.kind)?.(m);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    next(kind, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${config.role}: no ${kind} after ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiting.set(kind, (m) => {
          clearTimeout(timer);
          resolve(m as never);
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${config.role} exited (${code}) before ${kind}${failure ? `: ${failure}` : ''}`));
        });
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.send({ kind: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ─── relay throughput ───────────────────────────────────────────────────────────────────────

/** Fills the outbox with `rows` messages (100 events and their messages per append, 8 writers). */
async function fillOutbox(
  store: SqlEventStore,
  topic: string,
  rows: number,
  run: string,
  round: number,
): Promise<void> {
  let next = 0;
  const writer = async (w: number) => {
    for (let batch = 0; next < rows; batch++) {
      const n = Math.min(100, rows - next);
      const from = next;
      next += n;
      const streamId = `fill-${run}-${round}-${w}-${batch}`;
      const at = new Date();
      const ids = Array.from({ length: n }, () => uuidv7());
      await store.append({
        streams: [
          {
            streamId,
            expectedVersion: 'no-stream',
            events: ids.map((eventId, i) => ({ type: 'BenchPinged', data: { seq: from + i }, eventId })),
          },
        ],
        outbox: ids.map((eventId, i) => pingOutbox(topic, streamId, from + i, eventId, at)),
        context: {
          actor: { kind: 'system', name: 'bench.messaging' },
          occurredAt: at,
          correlationId: streamId,
        },
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
}

// ─── latency ────────────────────────────────────────────────────────────────────────────────

interface Sample {
  readonly scheduled: number;
  issued: number;
  committed: number;
  published: number;
  consumed: number;
  effect: number;
  failed?: string;
}

interface LatencyResult {
  readonly measured: number;
  readonly complete: number;
  readonly failedAppends: number;
  readonly achievedRate: number;
  readonly maxIssueLagMs: number;
  readonly maxInFlight: number;
  readonly legs: ReadonlyArray<{
    readonly name: string;
    readonly p50: number;
    readonly p99: number;
    readonly max: number;
  }>;
  readonly workerStats: Record<string, number>;
}

async function latencyRun(
  options: Options,
  store: SqlEventStore,
  base: Omit<WorkerConfig, 'role' | 'schema'>,
): Promise<LatencyResult> {
  const samples = new Map<string, Sample>();
  const workerStats: Record<string, number> = {};
  const onMessage = (m: WorkerMessage) => {
    if (m.kind === 'published') {
      m.ids.forEach((id, i) => {
        const s = samples.get(id);
        if (s && !s.published) s.published = m.at[i];
      });
    } else if (m.kind === 'consumed') {
      m.ids.forEach((id, i) => {
        const s = samples.get(id);
        if (s && !s.consumed) {
          s.consumed = m.consumedAt[i];
          s.effect = m.effectAt[i];
        }
      });
    } else if (m.kind === 'stats') Object.assign(workerStats, m.stats);
  };
  const consumer = startWorker({ ...base, role: 'consumer', schema: DST }, onMessage);
  await consumer.next('ready', 120_000);
  const relay = startWorker({ ...base, role: 'relay', schema: SRC }, onMessage);
  await relay.next('ready', 120_000);

  try {
    // The consumer's group join and first fetch happen after it started: wait until events flow end to
    // end before the clock starts (the warm-up then settles JIT, pools and batching).
    const primed: Sample[] = [];
    for (let seq = 0; seq < 20; seq++) {
      const eventId = uuidv7();
      const sample: Sample = {
        scheduled: hrNow(),
        issued: hrNow(),
        committed: 0,
        published: 0,
        consumed: 0,
        effect: 0,
      };
      samples.set(eventId, sample);
      primed.push(sample);
      await store.append(pingAppend(base.topic, streamOf(seq, options.streams), seq, eventId));
    }
    const primeDeadline = Date.now() + 120_000;
    while (primed.some((p) => p.effect === 0)) {
      if (Date.now() > primeDeadline) throw new Error('no events reached the consumer within 120 s');
      await sleep(50);
    }
    log('events flow end to end');

    const interval = 1000 / options.rate;
    const warmupCount = Math.round(options.warmup * options.rate);
    const total = warmupCount + Math.round(options.seconds * options.rate);
    const order: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    let maxIssueLag = 0;
    let failedAppends = 0;
    const t0 = hrNow() + 200;
    const progress = setInterval(() => {
      const done = order.filter((id) => samples.get(id)!.effect > 0).length;
      log(
        `  ${((hrNow() - t0) / 1000).toFixed(0).padStart(3)} s: ${fmt(order.length)} appends issued, ${fmt(inFlight)} in flight, ${fmt(done)} effects`,
      );
    }, 10_000);
    log(
      `open loop: ${fmt(options.rate)} appends/s, ${options.warmup} s warm-up + ${options.seconds} s measured (${fmt(total)} events)`,
    );
    for (let i = 0; i < total;) {
      const now = hrNow();
      while (i < total && t0 + i * interval <= now) {
        const seq = i++;
        const eventId = uuidv7();
        const sample: Sample = {
          scheduled: t0 + seq * interval,
          issued: hrNow(),
          committed: 0,
          published: 0,
          consumed: 0,
          effect: 0,
        };
        maxIssueLag = Math.max(maxIssueLag, sample.issued - sample.scheduled);
        samples.set(eventId, sample);
        order.push(eventId);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        store
          .append(pingAppend(base.topic, streamOf(seq, options.streams), seq, eventId))
          .then(
            () => void (sample.committed = hrNow()),
            (error: unknown) => {
              failedAppends++;
              sample.failed = String(error);
            },
          )
          .finally(() => inFlight--);
      }
      const wait = t0 + i * interval - hrNow();
      await sleep(Math.max(0, Math.min(wait, 5)));
    }
    clearInterval(progress);
    const measuredIds = order.slice(warmupCount);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (inFlight === 0 && measuredIds.every((id) => samples.get(id)!.effect > 0 || samples.get(id)!.failed))
        break;
      await sleep(100);
    }
    await relay.stop();
    await consumer.stop();

    const measured = measuredIds.map((id) => samples.get(id)!);
    const complete = measured.filter((s) => s.effect > 0 && s.committed > 0 && s.published > 0);
    const leg = (name: string, f: (s: Sample) => number) => {
      const xs = complete.map(f).sort((a, b) => a - b);
      return { name, p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), max: xs[xs.length - 1] ?? Number.NaN };
    };
    const first = measured[0]?.issued ?? 0;
    const last = measured[measured.length - 1]?.issued ?? 0;
    return {
      measured: measured.length,
      complete: complete.length,
      failedAppends,
      achievedRate: measured.length > 1 ? ((measured.length - 1) * 1000) / (last - first) : 0,
      maxIssueLagMs: maxIssueLag,
      maxInFlight,
      workerStats,
      legs: [
        leg('append (issued → committed)', (s) => s.committed - s.scheduled),
        leg('relay (committed → published, Kafka ack)', (s) => s.published - s.committed),
        leg('delivery (published → consumed)', (s) => s.consumed - s.published),
        leg('effect (consumed → effect committed)', (s) => s.effect - s.consumed),
        leg('**total (issued → effect committed)**', (s) => s.effect - s.scheduled),
        leg('after the commit (committed → effect committed)', (s) => s.effect - s.committed),
      ],
    };
  } finally {
    await Promise.allSettled([relay.stop(), consumer.stop()]);
  }
}

// ─── main ───────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const started = new Date();
  const run = randomBytes(3).toString('hex');
  const loadBefore = os.loadavg()[0];
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse())
      await c().catch((e: unknown) => log(`cleanup: ${String(e)}`));
  };
  process.once('SIGINT', () => {
    log('\ninterrupted: cleaning up');
    void cleanup().finally(() => process.exit(130));
  });

  try {
    // Kafka
    let brokers = process.env.KAFKA_BROKERS;
    let brokerNote = `KAFKA_BROKERS=${brokers ?? ''} (given)`;
    if (!brokers) {
      const dataDir = makeTempDataDir();
      log('starting a Kafka broker (tools/kafka) for this run');
      let broker: BrokerHandle;
      try {
        broker = await startBroker({ port: 0, dataDir, onProgress: (m) => log(`  ${m}`) });
      } catch (error) {
        removeDataDir(dataDir);
        throw error;
      }
      cleanups.push(async () => {
        await broker.stop();
        removeDataDir(dataDir);
      });
      brokers = broker.brokers;
      brokerNote = `a single-node Kafka 3.9.2 broker (KRaft, tools/kafka, heap ${broker.heapMb} MB) started for the run`;
    }

    // PostgreSQL
    const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const database = `lf_bench_msg_${run}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    const version = (await admin.query<{ v: string }>(`SELECT current_setting('server_version') AS v`))
      .rows[0].v;
    const syncCommit = (await admin.query<{ v: string }>(`SELECT current_setting('synchronous_commit') AS v`))
      .rows[0].v;
    await admin.query(`CREATE DATABASE "${database}"`);
    cleanups.push(async () => {
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.end();
    });
    const url = withDatabase(serverUrl, database);
    const client = createPostgresClient({
      connectionString: url,
      max: 16,
      applicationName: 'lf-bench-appender',
    });
    const store = createPostgresEventStore({ client, schema: SRC });
    await store.start();
    cleanups.push(async () => {
      await store.close();
      await client.close();
    });
    const transport: KafkaTransport = createKafkaTransport({
      brokers,
      clientId: 'lf-bench-admin',
      kafkaLogLevel: 'error',
      logger: { warn: () => undefined, error: (m: string) => log(`  kafka: ${m}`) },
    });
    const topics: string[] = [];
    cleanups.push(async () => {
      await transport.deleteTopics(topics);
      await transport.close();
    });
    const newTopic = async (name: string) => {
      topics.push(name);
      await transport.ensureTopics([{ name, partitions: options.partitions, replicationFactor: 1 }]);
      return name;
    };
    log(`messaging benchmark: database ${database}, Kafka ${brokers}, load average ${loadBefore.toFixed(1)}`);

    // 1. Relay throughput
    const throughput: number[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      const topic = await newTopic(`lf-bench.relay.${run}.r${round}`);
      log(
        `relay throughput, round ${round}/${options.rounds}: filling the outbox with ${fmt(options.relayRows)} rows`,
      );
      await fillOutbox(store, topic, options.relayRows, run, round);
      await client.query('CHECKPOINT');
      const worker = startWorker({
        role: 'relay-throughput',
        databaseUrl: url,
        schema: SRC,
        brokers,
        topic,
        groupId: '',
        relayBatchSize: options.relayBatch,
        expected: options.relayRows,
      });
      const result = await worker.next('throughput', 300_000);
      await worker.exited;
      const rate = (result.messages * 1000) / result.ms;
      throughput.push(rate);
      log(
        `  ${fmt(rate)} messages/s (${fmt(result.messages)} in ${(result.ms / 1000).toFixed(2)} s, ${result.batches} batches)`,
      );
    }

    // 2. Latency, open loop
    const topic = await newTopic(`lf-bench.latency.${run}`);
    const latency = await latencyRun(options, store, {
      databaseUrl: url,
      brokers,
      topic,
      groupId: `lf-bench.latency.${run}`,
      relayBatchSize: options.relayBatch,
    });
    const total = latency.legs.find((l) => l.name.includes('total'))!;
    log(
      `latency: total p50 ${ms(total.p50)} ms, p99 ${ms(total.p99)} ms; ${fmt(latency.complete)}/${fmt(latency.measured)} events complete`,
    );

    const markdown = report(options, {
      started,
      brokerNote,
      pg: `PostgreSQL ${version} (synchronous_commit=${syncCommit})`,
      loadBefore,
      loadAfter: os.loadavg()[0],
      throughput,
      latency,
    });
    process.stdout.write(`\n${markdown}\n`);
    const standard = options.seconds >= 60 && options.rate === 1000;
    if (!options.write) log('\n--no-write: docs/benchmarks.md left as it is');
    else if (!standard)
      log('\nnot a standard run (≥ 60 s at 1,000 events/s): docs/benchmarks.md left as it is');
    else {
      await writeSection('messaging', markdown);
      log('\nwritten to docs/benchmarks.md (section "messaging")');
    }
    if (latency.complete < latency.measured) process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

function report(
  options: Options,
  env: {
    started: Date;
    brokerNote: string;
    pg: string;
    loadBefore: number;
    loadAfter: number;
    throughput: number[];
    latency: LatencyResult;
  },
): string {
  const { latency } = env;
  const total = latency.legs.find((l) => l.name.includes('total'))!;
  const pass = latency.complete === latency.measured && total.p99 <= TARGET_P99_MS;
  const missing = latency.measured - latency.complete;
  const slowest = latency.legs.slice(0, 4).reduce((a, b) => (b.p99 > a.p99 ? b : a));
  const stats = Object.entries(latency.workerStats)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ');
  return [
    '## Messaging',
    '',
    `Measured ${env.started.toISOString()} on ${machine()}.`,
    '',
    `${env.brokerNote}; ${env.pg} on 127.0.0.1, a database created for the run. Everything on the same machine: ` +
      `broker, database, appender, relay and consumer compete for the same ${os.cpus().length} cores. ` +
      `1-minute load average ${env.loadBefore.toFixed(1)} before the run, ${env.loadAfter.toFixed(1)} after` +
      (env.loadBefore > 1 ? ' ⚠ other work was competing for the CPUs.' : '.'),
    '',
    `Method: \`npm run bench -- messaging\`. Topics with ${options.partitions} partitions, replication 1. ` +
      `The relay (idempotent producer, acks = all, one request in flight, batches of up to ${options.relayBatch} rows, woken by LISTEN/NOTIFY) ` +
      `and the consumer (consecutive messages of a partition that are at hand applied in one transaction with their inbox rows and one-row effects, else one transaction per message; offsets committed after) each run in a process of their own, as services do. ` +
      `**Relay throughput**: ${fmt(options.relayRows)} outbox rows written beforehand (not timed), then published by a fresh relay; ` +
      `messages/s from its first Kafka acknowledgement to its last (reading, sending and marking sent included; producer connection excluded), ${options.rounds} round(s) on fresh topics. ` +
      `**Latency**: an open-loop scheduler issues one append (one event + its outbox message, ${options.streams} streams round-robin) every ${(1000 / options.rate).toFixed(1)} ms ` +
      `whatever the state of earlier ones, ${options.warmup} s of warm-up then ${options.seconds} s measured. ` +
      `Each event is timed when its append was due (issued), committed, acknowledged by Kafka to the relay (published), handed to the consumer (consumed), and when the consumer's transaction with the effect and inbox row committed (effect). ` +
      `Clocks: \`performance.timeOrigin + performance.now()\` in each process (one machine, one clock); published → consumed can be slightly negative (the broker serves a message to consumers as it acknowledges it).`,
    '',
    '| relay throughput | median | spread |',
    '| --- | ---: | ---: |',
    `| messages/s | ${fmt(median(env.throughput))} | ${spread(env.throughput)} |`,
    '',
    `Latency at ${fmt(options.rate)} events/s (achieved ${fmt(latency.achievedRate)}/s, latest issue ${ms(latency.maxIssueLagMs)} ms behind schedule, at most ${fmt(latency.maxInFlight)} appends in flight); ` +
      `${fmt(latency.complete)} of ${fmt(latency.measured)} measured events reached their effect${missing ? ` ⚠ ${fmt(missing)} did not within 60 s` : ''}` +
      `${latency.failedAppends ? `, ${fmt(latency.failedAppends)} appends failed` : ''}. Workers: ${stats}.`,
    '',
    '| leg | p50 ms | p99 ms | max ms |',
    '| --- | ---: | ---: | ---: |',
    ...latency.legs.map((l) => `| ${l.name} | ${ms(l.p50)} | ${ms(l.p99)} | ${ms(l.max)} |`),
    '',
    `Largest leg at p99: ${slowest.name} (${ms(slowest.p99)} ms of ${ms(total.p99)} ms).`,
    '',
    '| check | measured | target | result |',
    '| --- | ---: | ---: | --- |',
    `| append-to-effect p99 at ${fmt(options.rate)} events/s | ${ms(total.p99)} ms | ≤ ${TARGET_P99_MS} ms | ${pass ? '**PASS**' : '**MISS**'} |`,
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
