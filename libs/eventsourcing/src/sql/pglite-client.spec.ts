import { setTimeout as sleep } from 'node:timers/promises';
import { createPgliteClient, type PgliteSqlClient } from './pglite-client';

describe('PGlite SqlClient', () => {
  let client: PgliteSqlClient;
  beforeAll(async () => {
    client = await createPgliteClient();
  });
  afterAll(async () => {
    await client?.close();
  });

  it('lets timers and I/O run while writers keep it busy', async () => {
    // Four writers query back to back until a 1 ms timer has fired (or a cap is reached). Without a
    // macrotask turn per query the timer could only fire once every writer had stopped at the cap.
    const cap = 2000;
    let fired = false;
    let queries = 0;
    setTimeout(() => (fired = true), 1);
    const writer = async () => {
      while (!fired && queries < cap) {
        queries++;
        await client.query('SELECT 1');
      }
    };
    await Promise.all([writer(), writer(), writer(), writer()]);
    expect(fired).toBe(true);
    expect(queries).toBeLessThan(cap);
  });

  it('returns int8 as bigint, exactly, arrays included', async () => {
    const r = await client.query<{ big: unknown; small: unknown; arr: unknown[] }>(
      `SELECT 9223372036854775807::int8 AS big, 5::int8 AS small, ARRAY[9007199254740993::int8, 1] AS arr`,
    );
    expect(r.rows[0]).toEqual({ big: 9223372036854775807n, small: 5n, arr: [9007199254740993n, 1n] });
  });

  it('supports what the event store needs: xid8, pg_current_xact_id, pg_snapshot_xmin, advisory locks', async () => {
    const r = await client.query<{ xid: string; xmin: string; locked: boolean }>(
      `SELECT pg_current_xact_id()::text AS xid, pg_snapshot_xmin(pg_current_snapshot())::text AS xmin,
              pg_try_advisory_xact_lock(1) AS locked`,
    );
    expect(BigInt(r.rows[0].xid)).toBeGreaterThan(0n);
    expect(r.rows[0].locked).toBe(true);
  });

  it('runs several statements without parameters (migrations)', async () => {
    const r = await client.query<{ n: number }>(
      'CREATE TABLE multi (n int); INSERT INTO multi VALUES (1), (2); SELECT count(*)::int AS n FROM multi',
    );
    expect(r.rows).toEqual([{ n: 2 }]);
  });

  it('never lets a query from outside run inside a transaction', async () => {
    await client.query('CREATE TABLE iso (n int)');
    let started!: () => void;
    const transactionStarted = new Promise<void>((r) => (started = r));
    // Another task, issuing its query while the transaction is open: it must wait for the transaction,
    // neither see its rows nor be rolled back with it.
    const outside = transactionStarted.then(() =>
      client.query<{ n: number }>(
        'INSERT INTO iso VALUES (2) RETURNING (SELECT count(*)::int FROM iso) AS n',
      ),
    );
    await expect(
      client.transaction(async (tx) => {
        await tx.query('INSERT INTO iso VALUES (1)');
        started();
        await sleep(50);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await outside).rows).toEqual([{ n: 0 }]);
    expect((await client.query('SELECT n FROM iso')).rows).toEqual([{ n: 2 }]);
  });

  it('throws instead of hanging when the client is used inside its own transaction', async () => {
    await expect(client.transaction(() => client.query('SELECT 1'))).rejects.toThrow(/wait forever/);
    expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('delivers notifications to listeners, including from inside transactions at commit', async () => {
    const heard: string[] = [];
    const stop = await client.listen('pglite_probe', (p) => heard.push(p));
    await client.query(`SELECT pg_notify('pglite_probe', 'a')`);
    await client.transaction(async (tx) => {
      await tx.query(`SELECT pg_notify('pglite_probe', 'b')`);
    });
    await sleep(20);
    expect(heard).toEqual(['a', 'b']);
    await stop();
  });
});
