import { setTimeout as sleep } from 'node:timers/promises';
import {
  createPgliteClient,
  createPostgresClient,
  DomainError,
  type SqlClient,
} from '@lianfang/eventsourcing';
import { describeWithPostgres, useTestDatabase } from '@lianfang/testing';
import { describeError } from '../errors/describe-error';
import { createIdempotencyStore, validateIdempotencyKey, type IdempotencyStore } from './idempotency';

const clerk = { agencyId: 'sc-eeb', subject: 'li.na' };
const otherAgency = { agencyId: 'cq-eeb', subject: 'wang.fang' };

function failure(promise: Promise<unknown>) {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => describeError(e),
  );
}

/** The behaviour every SqlClient must give; `sql()` is the client of the suite. */
function behaves(sql: () => SqlClient) {
  let store: IdempotencyStore;
  let n = 0;
  const fresh = () => `key-${++n}`;
  beforeAll(() => {
    store = createIdempotencyStore(sql(), { schema: 'transfer' });
  });

  it('runs once and returns the first result to a retry, bigints intact', async () => {
    const key = fresh();
    let runs = 0;
    const execute = async () => ({ transferId: 't-1', version: BigInt(++runs) * 10n });
    const request = { identity: clerk, key, operation: 'approveTransfer', payload: { transferId: 't-1' } };
    expect(await store.runIdempotent(request, execute)).toEqual({ transferId: 't-1', version: 10n });
    expect(await store.runIdempotent(request, execute)).toEqual({ transferId: 't-1', version: 10n });
    expect(runs).toBe(1);
  });

  it('replays the first typed failure, without running again', async () => {
    const key = fresh();
    let runs = 0;
    const execute = async () => {
      runs++;
      throw new DomainError({
        code: 'transfer.not-pending',
        field: 'transferId',
        message: { zh: '转移申请不在待审状态', en: 'the transfer is not pending' },
      });
    };
    const request = { identity: clerk, key, operation: 'approveTransfer', payload: { transferId: 't-2' } };
    const first = await failure(store.runIdempotent(request, execute));
    const replay = await failure(store.runIdempotent(request, execute));
    expect(first).toMatchObject({ code: 'transfer.not-pending', field: 'transferId' });
    expect(replay).toEqual(first);
    expect(runs).toBe(1);
  });

  it('refuses the same key with a different payload or operation: IDEMPOTENCY_CONFLICT naming the field', async () => {
    const key = fresh();
    await store.runIdempotent(
      { identity: clerk, key, operation: 'approveTransfer', payload: { transferId: 't-3' } },
      async () => 1,
    );
    const conflict = {
      code: 'IDEMPOTENCY_CONFLICT',
      category: 'CONFLICT',
      field: 'idempotencyKey',
      messages: { zh: expect.any(String), en: expect.any(String) },
    };
    expect(
      await failure(
        store.runIdempotent(
          { identity: clerk, key, operation: 'approveTransfer', payload: { transferId: 't-4' } },
          async () => 2,
        ),
      ),
    ).toMatchObject(conflict);
    expect(
      await failure(
        store.runIdempotent(
          { identity: clerk, key, operation: 'rejectTransfer', payload: { transferId: 't-3' } },
          async () => 2,
        ),
      ),
    ).toMatchObject(conflict);
  });

  it('scopes keys per agency', async () => {
    const key = fresh();
    const payload = { transferId: 't-5' };
    expect(
      await store.runIdempotent({ identity: clerk, key, operation: 'op', payload }, async () => 'sichuan'),
    ).toBe('sichuan');
    expect(
      await store.runIdempotent(
        { identity: otherAgency, key, operation: 'op', payload },
        async () => 'chongqing',
      ),
    ).toBe('chongqing');
  });

  it('runs again after an unexpected error (an outage is not an outcome)', async () => {
    const key = fresh();
    const request = { identity: clerk, key, operation: 'op', payload: {} };
    await expect(
      store.runIdempotent(request, async () => Promise.reject(new Error('connection reset'))),
    ).rejects.toThrow('connection reset');
    expect(await store.runIdempotent(request, async () => 'second try')).toBe('second try');
  });

  it('validates the key, naming the field and the rule', async () => {
    const run = (key: unknown) =>
      failure(store.runIdempotent({ identity: clerk, key, operation: 'op', payload: {} }, async () => 1));
    expect(await run('')).toMatchObject({
      code: 'INPUT_INVALID',
      field: 'idempotencyKey',
      rule: 'idempotencyKey.length',
    });
    expect(await run('k'.repeat(129))).toMatchObject({ rule: 'idempotencyKey.length' });
    expect(await run(42)).toMatchObject({ rule: 'idempotencyKey.length' });
    expect(await run('with space')).toMatchObject({ field: 'idempotencyKey', rule: 'idempotencyKey.format' });
    expect(validateIdempotencyKey('k'.repeat(128))).toHaveLength(128);
  });

  it('takes over a claim whose holder died once its lease has run out', async () => {
    const key = fresh();
    const short = createIdempotencyStore(sql(), { schema: 'transfer', leaseMs: 50 });
    const request = { identity: clerk, key, operation: 'op', payload: {} };
    // A holder that never finishes (a crashed process).
    void short.runIdempotent(request, () => new Promise(() => undefined));
    await sleep(100);
    expect(await short.runIdempotent(request, async () => 'taken over')).toBe('taken over');
  });
}

describe('idempotent mutations on PGlite', () => {
  let client: SqlClient;
  beforeAll(async () => {
    client = await createPgliteClient();
  });
  afterAll(async () => {
    await client?.close();
  });
  behaves(() => client);
});

describeWithPostgres('idempotent mutations on PostgreSQL', () => {
  const db = useTestDatabase('graph_idempotency');
  let a: SqlClient;
  let b: SqlClient;
  beforeAll(() => {
    a = createPostgresClient({ connectionString: db().url, max: 2 });
    b = createPostgresClient({ connectionString: db().url, max: 2 });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });
  behaves(() => a);

  it('concurrent first calls on two connections execute once and get the same result', async () => {
    const one = createIdempotencyStore(a, { schema: 'transfer' });
    const two = createIdempotencyStore(b, { schema: 'transfer' });
    await Promise.all([one.migrate(), two.migrate()]);
    for (let round = 0; round < 5; round++) {
      let runs = 0;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const execute = async () => {
        runs++;
        await gate; // hold the claim until both calls are under way
        return { round, runs };
      };
      const request = {
        identity: clerk,
        key: `race-${round}`,
        operation: 'approveTransfer',
        payload: { round },
      };
      const results = Promise.all([one.runIdempotent(request, execute), two.runIdempotent(request, execute)]);
      while (runs === 0) await sleep(5);
      await sleep(30);
      release();
      const [x, y] = await results;
      expect(runs).toBe(1);
      expect(x).toEqual({ round, runs: 1 });
      expect(y).toEqual(x);
    }
  });
});
