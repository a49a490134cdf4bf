import { createPgliteClient, type PgliteSqlClient } from '../sql/pglite-client';
import { createSqlSnapshotStore, SqlSnapshotStore } from './snapshot-store';

describe('SqlSnapshotStore (PGlite)', () => {
  let sql: PgliteSqlClient;
  let store: SqlSnapshotStore;

  beforeAll(async () => {
    sql = await createPgliteClient();
    store = await createSqlSnapshotStore({ sql, schema: 'es' });
  });
  afterAll(() => sql.close());

  const snap = (
    streamVersion: bigint,
    snapshotVersion = 1,
    state: unknown = { n: Number(streamVersion) },
  ) => ({
    streamId: 'facility-1',
    snapshotVersion,
    streamVersion,
    state,
    takenAt: new Date('2025-03-01T00:00:00Z'),
  });

  it('creates its table idempotently, in the given schema', async () => {
    await store.migrate();
    await store.migrate();
    const { rows } = await sql.query<{ table_schema: string }>(
      `SELECT table_schema FROM information_schema.tables WHERE table_name = 'snapshots'`,
    );
    expect(rows.map((r) => r.table_schema)).toEqual(['es']);
  });

  it('has nothing for an unknown stream', async () => {
    expect(await store.load('nope')).toBeUndefined();
  });

  it('saves and loads a snapshot, exactly', async () => {
    const big = 9_007_199_254_740_993n; // beyond Number.MAX_SAFE_INTEGER
    await store.save(snap(big, 1, { nested: { list: [1, 'two'] }, text: '联防' }));
    expect(await store.load('facility-1')).toEqual(
      snap(big, 1, { nested: { list: [1, 'two'] }, text: '联防' }),
    );
    await store.delete('facility-1');
  });

  it('never moves a snapshot backwards; another schema version replaces it', async () => {
    await store.save(snap(20n));
    await store.save(snap(10n));
    expect((await store.load('facility-1'))?.streamVersion).toBe(20n);
    await store.save(snap(30n));
    expect((await store.load('facility-1'))?.streamVersion).toBe(30n);
    await store.save(snap(5n, 2));
    expect(await store.load('facility-1')).toMatchObject({ streamVersion: 5n, snapshotVersion: 2 });
  });

  it('forgets a snapshot', async () => {
    await store.delete('facility-1');
    expect(await store.load('facility-1')).toBeUndefined();
  });

  it('refuses a schema name that is not a plain identifier', () => {
    expect(() => new SqlSnapshotStore({ sql, schema: 'x; drop table y' })).toThrow(/Invalid schema name/);
  });
});
