import {
  createPgliteEventStore,
  createPostgresClient,
  createPostgresEventStore,
  type SqlEventStore,
} from '@lianfang/eventsourcing';
import { describeWithPostgres, useTestDatabase } from '@lianfang/testing';
import type { AgencyProfile } from './decider';
import { agencyStream } from './decider';
import { profileOf, syncAgencyDirectory, type DirectoryEntry } from './directory-sync';

const bureau: DirectoryEntry = {
  agencyId: 'sc-eeb',
  profile: {
    kind: 'provincial-bureau',
    name: { zh: '四川省生态环境厅', en: 'Sichuan Department of Ecology and Environment' },
    jurisdiction: '510000',
    level: 'provincial',
    roles: ['viewer', 'reviewer', 'approver'],
  },
};
const generator: DirectoryEntry = {
  agencyId: 'cd-chem',
  profile: {
    kind: 'generator',
    name: { zh: '成都某化工有限公司', en: 'Chengdu Chemical Co., Ltd.' },
    jurisdiction: '510100',
    level: 'enterprise',
    roles: ['viewer', 'clerk'],
    creditCode: '91510100MA6CGUGA1W',
  },
};
const now = new Date('2026-11-28T02:00:00Z');

async function eventsOf(store: SqlEventStore, id: string) {
  return (await store.readStream(agencyStream(id))).events;
}

describe('directory sync (PGlite)', () => {
  let store: SqlEventStore;
  beforeEach(async () => {
    store = await createPgliteEventStore({ memory: true, schema: 'transfer' });
  });
  afterEach(async () => store.close());

  it('registers every listed agency through commands, and a second run records nothing', async () => {
    const progress: string[] = [];
    const first = await syncAgencyDirectory({
      store,
      entries: [bureau, generator],
      activeAgencyIds: [],
      now,
      correlationId: 'sync-1',
      onProgress: (done, total) => progress.push(`${done}/${total}`),
    });
    expect(first).toEqual({ registered: 2, revised: 0, retired: 0, unchanged: 0 });
    expect(progress).toEqual(['1/2', '2/2']);
    const again = await syncAgencyDirectory({
      store,
      entries: [bureau, generator],
      activeAgencyIds: ['sc-eeb', 'cd-chem'],
      now,
      correlationId: 'sync-2',
    });
    expect(again).toEqual({ registered: 0, revised: 0, retired: 0, unchanged: 2 });
    expect(await eventsOf(store, 'sc-eeb')).toHaveLength(1);
    const [registered] = await eventsOf(store, 'sc-eeb');
    expect(registered.metadata.actor).toEqual({ kind: 'system', name: 'directory-sync' });
  });

  it('revises what changed and retires what is no longer listed; back and forth changes each count', async () => {
    await syncAgencyDirectory({
      store,
      entries: [bureau, generator],
      activeAgencyIds: [],
      now,
      correlationId: 'a',
    });
    const renamed: AgencyProfile = { ...bureau.profile, roles: ['viewer'] };
    const result = await syncAgencyDirectory({
      store,
      entries: [{ agencyId: 'sc-eeb', profile: renamed }],
      activeAgencyIds: ['sc-eeb', 'cd-chem'],
      now,
      correlationId: 'b',
    });
    expect(result).toEqual({ registered: 0, revised: 1, retired: 1, unchanged: 0 });
    expect(profileOf(await eventsOf(store, 'sc-eeb'))).toEqual(renamed);
    expect((await eventsOf(store, 'cd-chem')).map((e) => e.type)).toEqual([
      'AgencyRegistered',
      'AgencyRetired',
    ]);

    // Back to the first profile, then to the second again: three revisions, none swallowed.
    for (const profile of [bureau.profile, renamed]) {
      await syncAgencyDirectory({
        store,
        entries: [{ agencyId: 'sc-eeb', profile }],
        activeAgencyIds: ['sc-eeb'],
        now,
        correlationId: 'c',
      });
    }
    expect((await eventsOf(store, 'sc-eeb')).map((e) => e.type)).toEqual([
      'AgencyRegistered',
      'AgencyRevised',
      'AgencyRevised',
      'AgencyRevised',
    ]);
  });
});

describeWithPostgres('directory sync on PostgreSQL: two instances at once', () => {
  const db = useTestDatabase('agency-sync');

  it('records each agency once when two services sync the same directory concurrently', async () => {
    const stores = [0, 1].map(() =>
      createPostgresEventStore({
        client: createPostgresClient({ connectionString: db().url }),
        ownsClient: true,
        schema: 'transfer',
      }),
    );
    try {
      await stores[0].start();
      await stores[1].start();
      const results = await Promise.all(
        stores.map((store, i) =>
          syncAgencyDirectory({
            store,
            entries: [bureau, generator],
            activeAgencyIds: [],
            now,
            correlationId: `p${i}`,
          }),
        ),
      );
      expect(results[0].registered + results[1].registered).toBe(2);
      expect(await eventsOf(stores[0], 'sc-eeb')).toHaveLength(1);
      expect(await eventsOf(stores[0], 'cd-chem')).toHaveLength(1);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
