import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { describeWithPostgres, useTestDatabase } from '@lianfang/testing';
import { createPostgresClient, type PostgresSqlClient } from './postgres-client';
import { toBigInt } from './sql-client';

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await sleep(10);
}

describeWithPostgres('PostgreSQL SqlClient', () => {
  const db = useTestDatabase('pg_client');
  let client: PostgresSqlClient;
  beforeAll(() => {
    client = createPostgresClient({
      connectionString: db().url,
      max: 4,
      reconnect: { minDelayMs: 20, maxDelayMs: 200 },
    });
  });
  afterAll(async () => {
    await client?.close();
  });

  it('returns int8 exactly (never through a JS number)', async () => {
    const r = await client.query<{ big: unknown; arr: unknown[] }>(
      `SELECT 9223372036854775807::int8 AS big, ARRAY[9007199254740993::int8] AS arr`,
    );
    expect(toBigInt(r.rows[0].big)).toBe(9223372036854775807n);
    expect(r.rows[0].arr.map(toBigInt)).toEqual([9007199254740993n]);
  });

  it('caps its own pool at max', () => {
    expect(client.pool.options.max).toBe(4);
    expect(createPostgresClient({ connectionString: db().url }).pool.options.max).toBe(10);
  });

  it('runs a transaction on one connection: commits, or rolls back and rethrows', async () => {
    await client.query('CREATE TABLE tx_probe (id int PRIMARY KEY)');
    const pids = await client.transaction(async (tx) => {
      const a = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await tx.query('INSERT INTO tx_probe VALUES (1)');
      const b = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      return [a.rows[0].pid, b.rows[0].pid];
    });
    expect(pids[0]).toBe(pids[1]);
    await expect(
      client.transaction(async (tx) => {
        await tx.query('INSERT INTO tx_probe VALUES (2)');
        throw new Error('nope');
      }),
    ).rejects.toThrow('nope');
    expect((await client.query('SELECT id FROM tx_probe ORDER BY id')).rows).toEqual([{ id: 1 }]);
  });

  it('prepares named statements once per connection and reuses them', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await client.query<{ n: number }>('SELECT $1::int + 1 AS n', [i], { name: 'probe_plus_one' });
      expect(r.rows[0].n).toBe(i + 1);
    }
  });

  it('listens, stops listening, and refuses channel names that would need quoting', async () => {
    const heard: string[] = [];
    const stop = await client.listen('probe_channel', (p) => heard.push(p));
    await client.query(`SELECT pg_notify('probe_channel', 'one')`);
    await until(() => heard.length === 1);
    await stop();
    await client.query(`SELECT pg_notify('probe_channel', 'two')`);
    await sleep(100);
    expect(heard).toEqual(['one']);
    await expect(client.listen('Bad Channel', () => undefined)).rejects.toThrow(/Invalid channel name/);
  });

  it('reconnects the listener when its connection is killed, and says so with an empty payload', async () => {
    const heard: string[] = [];
    const stop = await client.listen('probe_reconnect', (p) => heard.push(p));
    try {
      const admin = new Client({ connectionString: db().url });
      await admin.connect();
      try {
        const killed = await admin.query(
          `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
            WHERE datname = current_database() AND query ILIKE 'LISTEN probe_reconnect%'`,
        );
        expect(killed.rows).toHaveLength(1);
        // The wake-up after reconnecting: '' (whatever was notified meanwhile is lost).
        await until(() => heard.includes(''));
        expect(heard).toContain('');
        await admin.query(`SELECT pg_notify('probe_reconnect', 'after')`);
        await until(() => heard.includes('after'));
        expect(heard).toContain('after');
      } finally {
        await admin.end();
      }
    } finally {
      await stop();
    }
  });
});
