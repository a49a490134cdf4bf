import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { LogLevel } from '@nestjs/common';
import {
  createKafkaTransport,
  createMemoryTransport,
  HEADERS,
  serviceTopics,
  type KafkaTransport,
} from '@lianfang/messaging';
import { describeWithKafka, describeWithPostgres, kafkaBrokers, useTestDatabase } from '@lianfang/testing';
import { startService, type RunningService } from '../service';
import { TRANSPORT } from '../tokens';
import { PlatformStartError } from './errors';
import { PLATFORM, type Platform } from './platform';
import { counterService, Counters, subscribe, until } from './platform.fixture';
import { sqlReadinessCheck } from './readiness';

/** A URL to the test database through another host:port (a proxy, or nothing at all). */
function via(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

/** A port nobody listens on (bound, then freed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP proxy to PostgreSQL that can be cut: the database becoming unreachable under a running app. */
async function startProxy(target: URL): Promise<{ port: number; cut(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    async cut() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

describeWithPostgres('PlatformModule on PostgreSQL', () => {
  const db = useTestDatabase('platform');
  const env = (url: string) => ({
    NODE_ENV: 'test',
    EVENT_STORE: 'postgres',
    DATABASE_URL: url,
    DATABASE_SCHEMA: 'counter',
    BUS: 'memory',
  });
  const start = (url: string, shared = {}, logLevels: LogLevel[] = ['error']) =>
    startService(counterService('counter-service'), { env: env(url), port: 0, shared, logLevels });

  it('appends through Aggregates in DATABASE_SCHEMA and relays the outbox to the in-process bus', async () => {
    const transport = createMemoryTransport();
    await transport.ensureTopics(serviceTopics('counter'));
    const subscriber = await subscribe(transport, 'lianfang.counter.v1');
    const running = await start(db().url, { transport });
    try {
      const platform = running.app.get<Platform>(PLATFORM);
      expect(platform.sql.dialect).toBe('postgres');
      expect(platform.pglite).toBeUndefined();
      const result = await running.app.get(Counters).count('pg', 4);
      await until(() => subscriber.received.length === 1, 'the integration event on the bus');
      expect(subscriber.received[0].headers[HEADERS.eventId]).toBe(result.events[0].eventId);
      // The store is in the configured schema, on the test database.
      const pool = db().pool();
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM counter.outbox`);
      expect(rows[0].n).toBe(1);
      await until(async () => (await platform.relay()?.backlog()) === 0, 'the outbox row marked sent');

      const ready = await fetch(`${running.url}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ checks: { postgres: 'ok', 'memory-bus': 'ok' } });
    } finally {
      await running.app.close();
      await subscriber.stop();
      await transport.close();
    }
  });

  it('fails fast with a clear message when DATABASE_URL points where no PostgreSQL answers', async () => {
    const port = await closedPort();
    const url = via('postgres://postgres:secret@127.0.0.1:5432/nowhere', port);
    const started = start(url, {}, ['fatal']);
    await expect(started).rejects.toBeInstanceOf(PlatformStartError);
    await expect(started).rejects.toMatchObject({
      dependency: 'postgres',
      variable: 'DATABASE_URL',
      message: expect.stringContaining(
        `counter-service: cannot reach PostgreSQL at postgres://postgres:***@127.0.0.1:${port}/nowhere (DATABASE_URL) / 无法连接 PostgreSQL: `,
      ),
    });
    await expect(started).rejects.toThrow(/ECONNREFUSED/);
    // The password never appears.
    await expect(started).rejects.not.toThrow(/secret/);
  });

  it('turns /ready to 503 naming PostgreSQL when the server becomes unreachable; /health stays 200', async () => {
    const proxy = await startProxy(new URL(db().url));
    let running: RunningService | undefined;
    try {
      // The relay and the listener log their reconnect attempts once the proxy is cut: expected here.
      running = await start(via(db().url, proxy.port), {}, ['fatal']);
      expect((await fetch(`${running.url}/ready`)).status).toBe(200);

      await proxy.cut();
      const down = await fetch(`${running.url}/ready`);
      expect(down.status).toBe(503);
      const body = (await down.json()) as { status: string; checks: Record<string, string> };
      expect(body.status).toBe('unavailable');
      expect(body.checks.postgres).toMatch(/^PostgreSQL does not answer \/ 数据库无响应: /);
      expect(body.checks['memory-bus']).toBe('ok');
      expect((await fetch(`${running.url}/health`)).status).toBe(200);
    } finally {
      await running?.app.close();
    }
  });

  it('the store check fails once the pool is closed', async () => {
    const running = await start(db().url);
    const platform = running.app.get<Platform>(PLATFORM);
    try {
      await expect(sqlReadinessCheck(platform.sql).check()).resolves.toBeUndefined();
      await platform.sql.close();
      await expect(sqlReadinessCheck(platform.sql).check()).rejects.toThrow(
        'PostgreSQL does not answer / 数据库无响应: SqlClient is closed',
      );
    } finally {
      await running.app.close();
    }
  });
});

describeWithKafka('PlatformModule on PostgreSQL and Kafka', () => {
  const db = useTestDatabase('platform_kafka');
  // A context of its own: this file's topics never meet another file's on the shared broker.
  const context = `platform-${randomBytes(4).toString('hex')}`;
  const topic = `lianfang.${context}.v1`;
  let subscriberTransport: KafkaTransport;

  beforeAll(() => {
    subscriberTransport = createKafkaTransport({ brokers: kafkaBrokers(), clientId: 'platform-spec' });
  });
  afterAll(async () => {
    await subscriberTransport.deleteTopics([topic, `${topic}.dlq`]).catch(() => undefined);
    await subscriberTransport.close();
  });

  it('declares the topics at start, relays the outbox to Kafka, and reports the broker in /ready', async () => {
    const running = await startService(counterService('counter-service', { context }), {
      env: {
        NODE_ENV: 'test',
        EVENT_STORE: 'postgres',
        DATABASE_URL: db().url,
        DATABASE_SCHEMA: 'counter',
        BUS: 'kafka',
        KAFKA_BROKERS: kafkaBrokers().join(','),
      },
      port: 0,
      logLevels: ['error'],
    });
    try {
      const platform = running.app.get<Platform>(PLATFORM);
      expect(platform.topic).toBe(topic);
      expect(running.app.get(TRANSPORT).kind).toBe('kafka');
      // Declared at start, with the configured partitions (another client's metadata may lag a moment).
      const { partitions } = serviceTopics(context)[0];
      const partitionsOf = (t: string) =>
        subscriberTransport.topicOffsets(t).then(
          (o) => o.length,
          () => 0,
        );
      await until(
        async () => (await partitionsOf(topic)) === partitions,
        `${topic} with ${partitions} partitions`,
      );
      await until(async () => (await partitionsOf(`${topic}.dlq`)) === partitions, `${topic}.dlq`);

      const subscriber = await subscribe(subscriberTransport, topic);
      const result = await running.app.get(Counters).count('k', 7);
      await until(() => subscriber.received.length >= 1, 'the integration event from Kafka', 60_000);
      expect(subscriber.received[0]).toMatchObject({ topic, key: 'counter-k' });
      expect(subscriber.received[0].headers[HEADERS.eventId]).toBe(result.events[0].eventId);
      await subscriber.stop();

      const ready = await fetch(`${running.url}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ checks: { postgres: 'ok', kafka: 'ok' } });
    } finally {
      await running.app.close();
    }
  });

  it('fails fast naming KAFKA_BROKERS when no broker answers', async () => {
    const port = await closedPort();
    const started = startService(counterService('counter-service', { context }), {
      env: {
        NODE_ENV: 'test',
        EVENT_STORE: 'postgres',
        DATABASE_URL: db().url,
        DATABASE_SCHEMA: 'counter_nokafka',
        BUS: 'kafka',
        KAFKA_BROKERS: `127.0.0.1:${port}`,
      },
      port: 0,
      logLevels: ['fatal'],
    });
    await expect(started).rejects.toMatchObject({
      dependency: 'kafka',
      variable: 'KAFKA_BROKERS',
      message: expect.stringContaining(
        `cannot reach Kafka at 127.0.0.1:${port} (KAFKA_BROKERS) / 无法连接 Kafka`,
      ),
    });
  });
});
