import { randomUUID } from 'node:crypto';
import { type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ContractRegistry } from '@lianfang/contracts';
import {
  Aggregates,
  createPgliteClient,
  createPostgresEventStore,
  DomainError,
  EventSourcingModule,
  systemActor,
  type Decider,
  type PgliteSqlClient,
  type SqlEventStore,
} from '@lianfang/eventsourcing';
import {
  createMemoryTransport,
  startConsumer,
  type Consumer,
  type MemoryTransport,
} from '@lianfang/messaging';
import { consumerLagCollector, deadLetterCollector, outboxBacklogCollector } from './collectors';
import { ServiceMetrics } from './metrics';
import { ObservabilityModule } from './observability.module';

/** A facility register: open once, with a positive capacity. */
type OpenFacility = {
  type: 'OpenFacility';
  data: { capacityKg: number };
  metadata: { commandId: string; now: Date; actor: ReturnType<typeof systemActor>; correlationId: string };
};
type FacilityOpened = { type: 'FacilityOpened'; data: { capacityKg: number } };
const facilityDecider: Decider<OpenFacility, FacilityOpened, { open: boolean }> = {
  initialState: () => ({ open: false }),
  evolve: () => ({ open: true }),
  decide: (command, state) => {
    if (state.open || command.data.capacityKg <= 0) {
      throw new DomainError({
        code: 'facility.cannot-open',
        message: { en: 'The facility cannot be opened', zh: '无法登记该设施' },
      });
    }
    return [{ type: 'FacilityOpened', data: command.data }];
  },
};
const open = (capacityKg: number, commandId = randomUUID()): OpenFacility => ({
  type: 'OpenFacility',
  data: { capacityKg },
  metadata: { commandId, now: new Date(), actor: systemActor('metrics-spec'), correlationId: 'c' },
});

/** The samples of an exposition, keyed by name and label set (label order does not matter). */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(key(line.slice(0, at)), Number(line.slice(at + 1)));
  }
  return out;
}

/** `name{b="2",a="1"}` → `name{a="1",b="2"}`. */
function key(series: string): string {
  const brace = series.indexOf('{');
  if (brace < 0) return series;
  const labels = [...series.slice(brace).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(
    (m) => `${m[1]}="${m[2]}"`,
  );
  return `${series.slice(0, brace)}{${labels.sort().join(',')}}`;
}

describe('/metrics after real commands (PGlite, memory transport)', () => {
  let client: PgliteSqlClient;
  let store: SqlEventStore;
  let transport: MemoryTransport;
  let consumer: Consumer;
  let app: INestApplication;
  let base = '';
  const topic = 'lianfang.transfer.v1';

  beforeAll(async () => {
    client = await createPgliteClient();
    store = createPostgresEventStore({ client, schema: 'transfer' });
    await store.start();
    transport = createMemoryTransport({ partitions: 2 });
    await transport.ensureTopics([{ name: topic, partitions: 2, replicationFactor: 1 }]);
    const moduleRef = await Test.createTestingModule({
      imports: [
        ObservabilityModule.forService('transfer-service', {
          destination: { write: () => undefined },
          collectTimeoutMs: 200,
        }),
        EventSourcingModule.forRoot({ store: () => store, closeOnShutdown: false }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await consumer?.stop();
    await app.close();
    await transport.close();
    await store.close();
    await client.close();
  });

  async function scrape(): Promise<{ text: string; values: Map<string, number> }> {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    return { text, values: samples(text) };
  }

  it('counts commands by type and outcome, with their durations', async () => {
    const aggregates = app.get(Aggregates);
    const streamId = `facility-${randomUUID()}`;
    const first = open(100);
    await aggregates.handle({ decider: facilityDecider, streamId, command: first });
    await aggregates.handle({ decider: facilityDecider, streamId, command: first }); // replayed
    await expect(aggregates.handle({ decider: facilityDecider, streamId, command: open(5) })).rejects.toThrow(
      DomainError,
    );
    await expect(
      aggregates.handle({ decider: facilityDecider, streamId: `facility-${randomUUID()}`, command: open(0) }),
    ).rejects.toThrow(DomainError);

    const { text, values } = await scrape();
    const s = 'service="transfer-service"';
    expect(values.get(key(`lianfang_commands_total{command="OpenFacility",outcome="accepted",${s}}`))).toBe(
      1,
    );
    expect(values.get(key(`lianfang_commands_total{command="OpenFacility",outcome="replayed",${s}}`))).toBe(
      1,
    );
    expect(values.get(key(`lianfang_commands_total{command="OpenFacility",outcome="rejected",${s}}`))).toBe(
      2,
    );
    expect(
      values.get(
        key(`lianfang_command_duration_seconds_count{command="OpenFacility",outcome="rejected",${s}}`),
      ),
    ).toBe(2);
    expect(
      values.get(
        key(
          `lianfang_command_duration_seconds_bucket{le="+Inf",command="OpenFacility",outcome="accepted",${s}}`,
        ),
      ),
    ).toBe(1);
    expect(text).toContain('# TYPE lianfang_command_duration_seconds histogram');
    // Default process metrics, in this app's registry.
    expect(text).toMatch(/^process_cpu_user_seconds_total\{service="transfer-service"\} \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="transfer-service"\}/m);
  });

  it('reports outbox backlog, projection lag, consumer lag and dead letters from the collectors', async () => {
    // Two integration events appended, no relay running: two unsent outbox rows.
    for (let i = 0; i < 2; i++) {
      const streamId = `transfer-${randomUUID()}`;
      await store.append({
        streams: [{ streamId, expectedVersion: 'no-stream', events: [{ type: 'Submitted', data: {} }] }],
        outbox: [{ topic, key: streamId, type: 'TransferSubmitted', schemaVersion: 1, payload: { i } }],
        context: { actor: systemActor('metrics-spec'), occurredAt: new Date(), correlationId: 'c' },
      });
    }
    // A consumer dead-letters a message that is not even JSON; a second group never consumed.
    const groupId = 'compensation.transfer-events';
    consumer = await startConsumer({
      transport,
      client,
      schema: 'compensation',
      groupId,
      topics: [topic],
      contracts: new ContractRegistry([]),
      handle: async () => undefined,
      deadLetterTopics: { partitions: 2, replicationFactor: 1 },
    });
    const publisher = await transport.createPublisher();
    await publisher.send([{ topic, key: 'transfer-x', value: 'not json', headers: {} }]);
    await publisher.close();
    for (let i = 0; consumer.metrics().deadLettered < 1; i++) {
      if (i > 2000) throw new Error('the message was not dead-lettered');
      await new Promise((r) => setTimeout(r, 10));
    }
    for (let i = 0; (await transport.consumerLag(groupId, [topic])).some((l) => l.lag > 0); i++) {
      if (i > 2000) throw new Error('the consumer did not commit');
      await new Promise((r) => setTimeout(r, 10));
    }

    const metrics = app.get(ServiceMetrics);
    metrics.addCollectors({
      outboxBacklog: outboxBacklogCollector(client, 'transfer'),
      projections: () => [
        { name: 'transfer-list', lagEvents: 3, lagMs: 1500 },
        { name: 'not-started', lagEvents: undefined, lagMs: undefined },
      ],
      consumerLag: consumerLagCollector(transport, [
        { groupId, topics: [topic] },
        { groupId: 'enforcement.transfer-events', topics: [topic] },
      ]),
      deadLetters: deadLetterCollector(client, 'compensation'),
    });

    const { values } = await scrape();
    const s = 'service="transfer-service"';
    expect(values.get(key(`lianfang_outbox_backlog{${s}}`))).toBe(2);
    expect(values.get(key(`lianfang_projection_lag_events{projection="transfer-list",${s}}`))).toBe(3);
    expect(values.get(key(`lianfang_projection_lag_seconds{projection="transfer-list",${s}}`))).toBe(1.5);
    expect([...values.keys()].some((k) => k.includes('not-started'))).toBe(false);
    const partition = (await transport.consumerLag(groupId, [topic])).find(
      (l) => l.committed === '1',
    )!.partition;
    expect(
      values.get(
        key(
          `lianfang_consumer_lag_messages{group="${groupId}",topic="${topic}",partition="${partition}",${s}}`,
        ),
      ),
    ).toBe(0);
    const idle = [...values.entries()].filter(([k]) => k.includes('group="enforcement.transfer-events"'));
    expect(idle).toHaveLength(2); // both partitions
    expect(idle.reduce((n, [, v]) => n + v, 0)).toBe(1); // the one message it never read
    expect(values.get(key(`lianfang_dlq_messages{group="${groupId}",topic="${topic}.dlq",${s}}`))).toBe(1);
  });

  it('answers the scrape when a collector fails or hangs, and counts it', async () => {
    const metrics = app.get(ServiceMetrics);
    metrics.addCollectors({ outboxBacklog: () => Promise.reject(new Error('database down')) });
    metrics.addCollectors({ projections: () => new Promise<never>(() => undefined) });
    const { values } = await scrape();
    const s = 'service="transfer-service"';
    expect(values.get(key(`lianfang_metrics_collect_errors_total{collector="outboxBacklog",${s}}`))).toBe(1);
    // Both projection gauges ran the hanging collector.
    expect(values.get(key(`lianfang_metrics_collect_errors_total{collector="projections",${s}}`))).toBe(2);
    // The working collectors of the same kind still report.
    expect(values.get(key(`lianfang_outbox_backlog{${s}}`))).toBe(2);
    expect(values.get(key(`lianfang_projection_lag_events{projection="transfer-list",${s}}`))).toBe(3);
  });
});

describe('ServiceMetrics registries', () => {
  it('keeps the apps of one process apart (never the global registry)', async () => {
    const a = new ServiceMetrics({ service: 'transfer-service', defaultMetrics: true });
    const b = new ServiceMetrics({ service: 'gateway', defaultMetrics: true });
    a.observe({
      command: 'Approve',
      outcome: 'accepted',
      durationSeconds: 0.01,
      retries: 0,
      events: 1,
      correlationId: 'c',
    });
    const [ta, tb] = await Promise.all([a.metrics(), b.metrics()]);
    expect(ta).toContain(
      'lianfang_commands_total{command="Approve",outcome="accepted",service="transfer-service"} 1',
    );
    expect(tb).not.toContain('command="Approve"');
    expect(tb).toContain('process_cpu_user_seconds_total{service="gateway"}');
    a.registry.clear();
    b.registry.clear();
  });
});

describe('ServiceMetrics counts retried version conflicts', () => {
  it('adds each command’s retries under its type, and nothing for a command that did not retry', async () => {
    const metrics = new ServiceMetrics({ service: 'transfer-service', defaultMetrics: false });
    const seen = { outcome: 'accepted', durationSeconds: 0.01, events: 2, correlationId: 'c' } as const;
    metrics.observe({ ...seen, command: 'ApproveTransfer', retries: 2 });
    metrics.observe({ ...seen, command: 'ApproveTransfer', retries: 1 });
    metrics.observe({ ...seen, command: 'SubmitApplication', retries: 0 });
    const text = await metrics.metrics();
    expect(text).toContain(
      'lianfang_command_retries_total{command="ApproveTransfer",service="transfer-service"} 3',
    );
    expect(text).not.toContain('lianfang_command_retries_total{command="SubmitApplication"');
    metrics.registry.clear();
  });
});
