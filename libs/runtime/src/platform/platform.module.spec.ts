import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LogLevel } from '@nestjs/common';
import { EVENT_STORE } from '@lianfang/eventsourcing';
import { createMemoryTransport, HEADERS, serviceTopics } from '@lianfang/messaging';
import { startService, type RunningService } from '../service';
import { SERVICE_CONFIG, SQL_CLIENT, TRANSPORT } from '../tokens';
import { PlatformStartError } from './errors';
import { PLATFORM, type Platform } from './platform';
import { counterService, Counters, subscribe, until } from './platform.fixture';

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

describe('PlatformModule on PGlite and the in-process bus', () => {
  let dataDir: string;
  const env = () => ({ NODE_ENV: 'test', EVENT_STORE: 'pglite', BUS: 'memory', DATA_DIR: dataDir });
  const start = (name: string, shared = {}, logLevels: LogLevel[] = ['error']) =>
    startService(counterService(name), { env: env(), port: 0, shared, logLevels });

  // One DATA_DIR for the file: the first service pays PGlite's initdb (seconds), the others copy it.
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'lf-platform-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('appends through Aggregates, relays the outbox to the shared bus, and keeps the data across a restart', async () => {
    const transport = createMemoryTransport();
    // As the embedded platform does: the shared bus declares the topics before anyone subscribes.
    await transport.ensureTopics(serviceTopics('counter'));
    const subscriber = await subscribe(transport, 'lianfang.counter.v1');
    let running: RunningService = await start('counter-service', { transport });
    let firstEventId: string;
    try {
      const platform = running.app.get<Platform>(PLATFORM);
      expect(platform.topic).toBe('lianfang.counter.v1');
      expect(platform.schema).toBe('counter');
      expect(platform.pglite).toEqual({
        dir: path.join(dataDir, 'counter-service', 'pgdata'),
        existed: false,
      });
      expect(running.app.get(TRANSPORT)).toBe(transport);
      expect(running.app.get(SQL_CLIENT)).toBe(platform.sql);
      expect(running.app.get(EVENT_STORE)).toBe(platform.store);
      expect(running.app.get(SERVICE_CONFIG)).toMatchObject({ EVENT_STORE: 'pglite', DATA_DIR: dataDir });
      expect(await readFile(path.join(dataDir, 'counter-service', 'lock'), 'utf8')).toBe(`${process.pid}\n`);

      const result = await running.app.get(Counters).count('a', 2);
      firstEventId = result.events[0].eventId;
      await until(() => subscriber.received.length >= 1, 'the integration event on the bus');
      const [message] = subscriber.received;
      expect(message.topic).toBe('lianfang.counter.v1');
      expect(message.key).toBe('counter-a');
      expect(message.headers[HEADERS.eventId]).toBe(firstEventId);
      expect(message.headers[HEADERS.type]).toBe('CounterCounted');
      expect(JSON.parse(message.value)).toMatchObject({ data: { by: 2, total: 2 } });
      await until(async () => (await platform.relay()?.backlog()) === 0, 'the outbox row marked sent');
    } finally {
      await running.app.close();
    }
    // Closed: the lock is gone; the shared bus is its owner's and stays open.
    expect(await exists(path.join(dataDir, 'counter-service', 'lock'))).toBe(false);
    await expect(transport.createPublisher()).resolves.toBeDefined();

    running = await start('counter-service', { transport });
    try {
      const platform = running.app.get<Platform>(PLATFORM);
      expect(platform.pglite?.existed).toBe(true);
      const stream = await platform.store.readStream('counter-a');
      expect(stream.events.map((e) => [e.eventId, e.data])).toEqual([[firstEventId, { by: 2, total: 2 }]]);
      const again = await running.app.get(Counters).count('a', 3);
      expect(again.state).toEqual({ total: 5 });
      await until(() => subscriber.received.length >= 2, 'the second integration event');
      // What was marked sent before the restart is not published again.
      expect(subscriber.received.map((m) => m.headers[HEADERS.eventId])).toEqual([
        firstEventId,
        again.events[0].eventId,
      ]);
    } finally {
      await running.app.close();
      await subscriber.stop();
      await transport.close();
    }
  });

  it('runs on a private in-process bus without shared.transport, and closes it on shutdown', async () => {
    const running = await start('private-bus-service');
    const transport = running.app.get(TRANSPORT);
    try {
      expect(running.app.get<Platform>(PLATFORM).sharedTransport).toBe(false);
      const subscriber = await subscribe(transport, 'lianfang.private-bus.v1');
      const result = await running.app.get(Counters).count('b', 1);
      await until(() => subscriber.received.length === 1, 'the integration event on the private bus');
      expect(subscriber.received[0].headers[HEADERS.eventId]).toBe(result.events[0].eventId);
    } finally {
      await running.app.close();
    }
    await expect(transport.createPublisher()).rejects.toThrow(/closed/);
  });

  it('refuses a second app on the same data directory, and the first one keeps running', async () => {
    const first = await start('locked-service');
    try {
      // Nest logs the failed start at error level: expected here.
      const second = start('locked-service', {}, ['fatal']);
      await expect(second).rejects.toBeInstanceOf(PlatformStartError);
      await expect(second).rejects.toMatchObject({
        dependency: 'pglite',
        variable: 'DATA_DIR',
        message: expect.stringMatching(/in use by process \d+ \/ 数据目录正被进程 \d+ 使用/),
      });
      const res = await fetch(`${first.url}/ready`);
      expect(res.status).toBe(200);
    } finally {
      await first.app.close();
    }
  });

  it('answers /ready from the store and the bus, and 503 naming the store once it stops answering', async () => {
    const running = await start('ready-service');
    try {
      const ready = await fetch(`${running.url}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        status: 'ok',
        service: 'ready-service',
        checks: { pglite: 'ok', 'memory-bus': 'ok' },
      });

      // The database goes away under the running app.
      await running.app.get<Platform>(PLATFORM).sql.close();
      const down = await fetch(`${running.url}/ready`);
      expect(down.status).toBe(503);
      const body = (await down.json()) as { status: string; checks: Record<string, string> };
      expect(body.status).toBe('unavailable');
      expect(body.checks.pglite).toMatch(/PGlite does not answer \/ 数据库无响应: SqlClient is closed/);
      expect(body.checks['memory-bus']).toBe('ok');
      // Liveness does not look at dependencies.
      expect((await fetch(`${running.url}/health`)).status).toBe(200);
    } finally {
      await running.app.close();
    }
  });
});
