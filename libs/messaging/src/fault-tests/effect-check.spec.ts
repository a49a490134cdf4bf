import { createPostgresClient, type SqlClient } from '@lianfang/eventsourcing';
import { describeWithPostgres, useTestDatabase } from '@lianfang/testing';
import { applyIncrement, checkEffects, createEffectTables, exactlyOnce } from './fixtures/counter';

/** The fault tests are only as good as their check: it must see a double, a loss and a swap. */
describeWithPostgres('fault tests: the exactly-once-in-order check', () => {
  const db = useTestDatabase('fault-effect-check');
  let client: SqlClient;
  let n = 0;

  beforeAll(() => {
    client = createPostgresClient({ connectionString: db().url, max: 2 });
  });
  afterAll(async () => {
    await client?.close();
  });

  async function effects(seqs: Record<string, number[]>): Promise<string> {
    const schema = `check_${++n}`;
    await createEffectTables(client, schema);
    for (const [streamId, list] of Object.entries(seqs)) {
      for (const seq of list)
        await applyIncrement(client, schema, { streamId, seq, eventId: `${streamId}/${seq}` });
    }
    return schema;
  }

  const expected = new Map([
    ['a', 3],
    ['b', 2],
  ]);

  it('passes a complete, ordered, single application', async () => {
    const schema = await effects({ a: [0, 1, 2], b: [0, 1] });
    expect(await checkEffects(client, schema, expected)).toEqual(exactlyOnce(5));
  });

  it('catches a double application', async () => {
    const report = await checkEffects(client, await effects({ a: [0, 1, 1, 2], b: [0, 1] }), expected);
    expect(report.duplicates).toBe(1);
    expect(report.wrongCounts).toEqual(['a: 4/3']);
    expect(report.outOfOrder).toEqual(['a: at 2: 0,1,1,2']);
  });

  it('catches a loss', async () => {
    const report = await checkEffects(client, await effects({ a: [0, 2], b: [0, 1] }), expected);
    expect(report.wrongCounts).toEqual(['a: 2/3']);
    expect(report.outOfOrder).toEqual(['a: at 1: 0,2']);
    expect(report.total).toBe(4);
  });

  it('catches a reordering within a stream (not across streams)', async () => {
    const report = await checkEffects(client, await effects({ b: [0, 1], a: [0, 2, 1] }), expected);
    expect(report.wrongCounts).toEqual([]);
    expect(report.duplicates).toBe(0);
    expect(report.outOfOrder).toEqual(['a: at 1: 0,2,1']);
  });
});
