// A process of `npm run bench -- messaging` (forked by messaging.bench.ts): the outbox relay of the
// producing service, or the consumer of the consuming service, as they run in production: each in a
// process of its own. Reports timestamps back over IPC in small batches.
import { createPostgresClient } from '@lianfang/eventsourcing';
import {
  createKafkaTransport,
  HEADERS,
  startConsumer,
  startOutboxRelay,
  type Transport,
} from '@lianfang/messaging';
import { benchContracts, hrNow, type WorkerConfig, type WorkerMessage } from './messaging-workload';

const send = (m: WorkerMessage) => process.send?.(m);
const errorsOnly = (prefix: string) => ({
  log: () => undefined,
  warn: () => undefined,
  error: (m: string) => process.stderr.write(`  ${prefix}: ${m}\n`),
});

/** Wraps a transport so each message handed to the consumer is timed: received, and its effect committed. */
function timedTransport(
  inner: Transport,
  record: (eventId: string, consumedAt: number, effectAt: number) => void,
): Transport {
  return {
    kind: inner.kind,
    ensureTopics: (topics) => inner.ensureTopics(topics),
    createPublisher: () => inner.createPublisher(),
    close: () => inner.close(),
    subscribe: (options) =>
      inner.subscribe({
        ...options,
        handle: async (message) => {
          const consumedAt = hrNow();
          // Resolves once the consumer committed the effect and its inbox row (the offset comes after).
          await options.handle(message);
          record(message.headers[HEADERS.eventId] ?? '', consumedAt, hrNow());
        },
        handleBatch:
          options.handleBatch &&
          (async (messages) => {
            const consumedAt = hrNow();
            // Resolves once the whole run's effects and inbox rows committed, in one transaction.
            await options.handleBatch?.(messages);
            const effectAt = hrNow();
            for (const m of messages) record(m.headers[HEADERS.eventId] ?? '', consumedAt, effectAt);
          }),
      }),
  };
}

async function main(config: WorkerConfig): Promise<void> {
  const client = createPostgresClient({ connectionString: config.databaseUrl, max: 8 });
  const kafka = createKafkaTransport({
    brokers: config.brokers,
    clientId: `lf-bench-${config.role}`,
    kafkaLogLevel: 'error',
    logger: errorsOnly(config.role),
    consumer: { maxWaitTimeMs: 100 },
  });
  const stops: Array<() => Promise<void>> = [];

  if (config.role === 'relay-throughput') {
    const expected = config.expected ?? 0;
    let messages = 0;
    let batches = 0;
    let firstAck = 0;
    let firstBatch = 0;
    let lastAck = 0;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const relay = await startOutboxRelay({
      client,
      schema: config.schema,
      transport: kafka,
      batchSize: config.relayBatchSize,
      logger: errorsOnly('relay'),
      metrics: {
        onPublished: (info) => {
          const now = hrNow();
          if (batches === 0) {
            firstAck = now;
            firstBatch = info.ids.length;
          }
          batches++;
          messages += info.ids.length;
          lastAck = now;
          if (messages >= expected) done();
        },
      },
    });
    await finished;
    await relay.stop();
    // From the first acknowledgement to the last: the producer's connection set-up is not counted.
    send({
      kind: 'throughput',
      messages: messages - firstBatch,
      batches: batches - 1,
      ms: lastAck - firstAck,
    });
  } else if (config.role === 'relay') {
    let ids: string[] = [];
    let at: number[] = [];
    const relay = await startOutboxRelay({
      client,
      schema: config.schema,
      transport: kafka,
      batchSize: config.relayBatchSize,
      logger: errorsOnly('relay'),
      metrics: {
        onPublished: (info) => {
          const now = hrNow();
          for (const id of info.eventIds) {
            ids.push(id);
            at.push(now);
          }
        },
      },
    });
    const flush = setInterval(() => {
      if (ids.length === 0) return;
      send({ kind: 'published', ids, at });
      ids = [];
      at = [];
    }, 50);
    stops.push(async () => {
      await relay.stop();
      clearInterval(flush);
      if (ids.length) send({ kind: 'published', ids, at });
      const s = relay.status();
      send({
        kind: 'stats',
        stats: { published: s.published, batches: s.batches, publisherRecreations: s.publisherRecreations },
      });
    });
    send({ kind: 'ready' });
  } else {
    let ids: string[] = [];
    let consumedAt: number[] = [];
    let effectAt: number[] = [];
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${config.schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${config.schema}.bench_effects (event_id text NOT NULL, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    );
    const consumer = await startConsumer({
      transport: timedTransport(kafka, (id, c, e) => {
        ids.push(id);
        consumedAt.push(c);
        effectAt.push(e);
      }),
      client,
      schema: config.schema,
      groupId: config.groupId,
      topics: [config.topic],
      contracts: benchContracts(),
      deadLetterTopics: false,
      inboxRetention: false,
      logger: errorsOnly('consumer'),
      handle: async (envelope, tx) => {
        await tx.query(`INSERT INTO ${config.schema}.bench_effects (event_id) VALUES ($1)`, [
          envelope.eventId,
        ]);
      },
    });
    const flush = setInterval(() => {
      if (ids.length === 0) return;
      send({ kind: 'consumed', ids, consumedAt, effectAt });
      ids = [];
      consumedAt = [];
      effectAt = [];
    }, 50);
    stops.push(async () => {
      const m = consumer.metrics();
      await consumer.stop();
      clearInterval(flush);
      if (ids.length) send({ kind: 'consumed', ids, consumedAt, effectAt });
      send({
        kind: 'stats',
        stats: {
          processed: m.processed,
          duplicates: m.duplicates,
          retries: m.retries,
          deadLettered: m.deadLettered,
        },
      });
    });
    send({ kind: 'ready' });
  }

  const stop = async () => {
    for (const s of stops) await s();
    await kafka.close();
    await client.close();
    process.exit(0);
  };
  if (stops.length === 0) return stop();
  process.on('message', (m: { kind?: string }) => {
    if (m?.kind === 'stop') void stop();
  });
  process.on('disconnect', () => void stop());
}

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
main(config).catch((error: unknown) => {
  send({ kind: 'error', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});
