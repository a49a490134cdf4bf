import type { SqlClient } from '@lianfang/eventsourcing';
import type { AgencyKind, Identity } from '../identity';
import { can, defineRule } from '../rules/rule';
import { visibilityFilter } from './filter';
import { encodeCursor, paginate, type Connection } from './paginate';
import { PageRequestError } from './page-request-error';
import {
  defineVisibilityPolicy,
  isVisible,
  visibleUnder,
  VisibilityPolicyError,
  type RecordVisibility,
} from './policy';
import { forEachSqlBackend } from './sql-backends.fixture';

const who = (agencyId: string, agencyKind: AgencyKind, jurisdiction: string): Identity => ({
  subject: `${agencyId}-person`,
  agencyId,
  agencyKind,
  jurisdiction,
  roles: ['viewer'],
});

const policy = defineVisibilityPolicy({
  party: ['generator', 'carrier', 'receiver', 'provincial-bureau', 'municipal-bureau', 'finance-office'],
  jurisdiction: ['provincial-bureau', 'municipal-bureau', 'enforcement-team'],
  region: ['regional-secretariat'],
  regionJurisdictions: ['510000', '500000'],
});

// Four kinds of transfer, in turn: n % 4 picks one.
const KINDS: RecordVisibility[] = [
  // Chengdu → Chongqing
  { agencies: ['gen-cd-1', 'car-1', 'rec-cq-1', 'sc-eeb', 'cq-eeb'], jurisdictions: ['510104', '500101'] },
  // Chengdu → Shenzhen
  { agencies: ['gen-cd-2', 'car-2', 'rec-sz-1', 'sc-eeb', 'gd-eeb'], jurisdictions: ['510104', '440300'] },
  // Mianyang → Chengdu, inside Sichuan
  { agencies: ['gen-my-1', 'car-1', 'rec-cd-1', 'sc-eeb'], jurisdictions: ['510700', '510104'] },
  // Shenzhen → Guangzhou, inside Guangdong
  { agencies: ['gen-sz-1', 'rec-gz-1', 'gd-eeb'], jurisdictions: ['440300', '440100'] },
];

interface Row {
  id: string;
  n: number;
  visibility: RecordVisibility;
  submittedAt: string;
}

// n = 1…40: the newest (40) is a Chengdu → Chongqing transfer, the three oldest are not. Rows n ≡ 0, 1
// (mod 3) share a timestamp; n ≡ 2 is one microsecond later: ties and sub-millisecond keys on every page.
const ROWS: Row[] = Array.from({ length: 40 }, (_, i) => {
  const n = i + 1;
  const minute = n - (n % 3);
  const micros = n % 3 === 2 ? '000001' : '000000';
  return {
    id: `t-${String(n).padStart(3, '0')}`,
    n,
    visibility: KINDS[n % 4],
    submittedAt: `2025-03-01 ${String(8 + Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:00.${micros}+08`,
  };
});

/** Newest first, ties broken by id: the order the list promises. */
const DESC = [...ROWS].sort((a, b) =>
  a.submittedAt === b.submittedAt ? (a.id < b.id ? 1 : -1) : a.submittedAt < b.submittedAt ? 1 : -1,
);

const generator = who('gen-cd-1', 'generator', '510100');
const IDENTITIES: [string, Identity, number][] = [
  ['the Chengdu generator (party)', generator, 10],
  ['a carrier on two kinds (party)', who('car-1', 'carrier', '510100'), 20],
  ['the Chongqing receiver (party)', who('rec-cq-1', 'receiver', '500000'), 10],
  ['the Sichuan bureau (party and province)', who('sc-eeb', 'provincial-bureau', '510000'), 30],
  ['the Guangdong bureau (party and province)', who('gd-eeb', 'provincial-bureau', '440000'), 20],
  ['the Chongqing bureau (province 50)', who('cq-eeb', 'provincial-bureau', '500000'), 10],
  ['the Chengdu bureau (its city)', who('cd-eeb', 'municipal-bureau', '510100'), 30],
  ['the Mianyang bureau (its city)', who('my-eeb', 'municipal-bureau', '510700'), 10],
  ['the Shenzhen bureau (its city)', who('sz-eeb', 'municipal-bureau', '440300'), 20],
  ['a Jinjiang district team (its county only)', who('jj-team', 'enforcement-team', '510104'), 30],
  ['a Wuhou district team (nothing there)', who('wh-team', 'enforcement-team', '510107'), 0],
  ['the Sichuan–Chongqing secretariat (its region)', who('cy-sec', 'regional-secretariat', '510000'), 30],
  ['a finance office on no transfer', who('sc-fin', 'finance-office', '510000'), 0],
  ['public security (the policy grants nothing)', who('sc-psb', 'public-security', '510000'), 0],
];

describe('isVisible (in memory)', () => {
  it.each(IDENTITIES)('%s', (_label, identity, count) => {
    expect(ROWS.filter((r) => isVisible(identity, policy, r.visibility))).toHaveLength(count);
  });

  it('a city never sees a record that touches only its province', () => {
    const provinceOnly = { agencies: [], jurisdictions: ['510000'] };
    expect(isVisible(who('cd-eeb', 'municipal-bureau', '510100'), policy, provinceOnly)).toBe(false);
    expect(isVisible(who('sc-eeb', 'provincial-bureau', '510000'), policy, provinceOnly)).toBe(true);
  });

  it('an enterprise in the same city sees only what it is party to', () => {
    const sameCity = { agencies: ['gen-cd-2'], jurisdictions: ['510100'] };
    expect(isVisible(generator, policy, sameCity)).toBe(false);
  });

  it('is the scope of a rule: authorize refuses what a list would hide', () => {
    const read = defineRule<Row>({
      name: 'transfer.read',
      description: { zh: '查阅转移记录', en: 'read a transfer' },
      agencyKinds: ['generator', 'municipal-bureau'],
      roles: ['viewer'],
      scope: visibleUnder(policy, (r) => r.visibility),
    });
    expect(can(generator, read, ROWS[3])).toBe(true); // n = 4
    expect(can(generator, read, ROWS[4])).toBe(false);
  });

  it.each([
    ['party', { party: ['bureau'] }],
    ['regionJurisdictions', { regionJurisdictions: ['51'] }],
    ['regionJurisdictions', { regionJurisdictions: [] }],
    ['columns.agencies', { columns: { agencies: 'a; DROP TABLE x' } }],
  ])('refuses a policy with a bad %s', (field, change) => {
    const bad = { ...policy, ...change } as Parameters<typeof defineVisibilityPolicy>[0];
    expect(() => defineVisibilityPolicy(bad)).toThrow(VisibilityPolicyError);
    expect(() => defineVisibilityPolicy(bad)).toThrow(field);
  });

  it('numbers its placeholders from the index it is given', () => {
    const bureau = who('sc-eeb', 'provincial-bureau', '510000');
    expect(visibilityFilter(bureau, policy, 3)).toEqual({
      sql:
        '(visible_agencies @> ARRAY[$3::text] OR EXISTS (SELECT 1 FROM unnest(visible_jurisdictions) AS visible(code)' +
        ' WHERE visible.code LIKE ANY($4::text[])))',
      params: ['sc-eeb', ['51%']],
    });
    expect(visibilityFilter(who('sc-psb', 'public-security', '510000'), policy, 1)).toEqual({
      sql: 'FALSE',
      params: [],
    });
    expect(() => visibilityFilter(bureau, policy, 0)).toThrow(RangeError);
  });
});

forEachSqlBackend('visibility in SQL', (client) => {
  const db = (): SqlClient => client();
  beforeAll(async () => {
    await db().query(`CREATE TABLE transfer_view (
      id text PRIMARY KEY,
      n int NOT NULL,
      submitted_at timestamptz NOT NULL,
      visible_agencies text[] NOT NULL,
      visible_jurisdictions text[] NOT NULL
    )`);
    for (const r of ROWS) {
      await db().query(
        `INSERT INTO transfer_view (id, n, submitted_at, visible_agencies, visible_jurisdictions)
         VALUES ($1, $2, $3, $4::text[], $5::text[])`,
        [r.id, r.n, r.submittedAt, r.visibility.agencies, r.visibility.jurisdictions],
      );
    }
  });

  const list = (identity: Identity, more: { first?: number | null; after?: string | null } = {}) =>
    paginate<{ id: string; n: number }>({
      client: db(),
      from: 'transfer_view',
      select: 'id, n',
      orderBy: { column: 'submitted_at', direction: 'DESC' },
      idColumn: 'id',
      identity,
      policy,
      ...more,
    });

  /** Walks a list to its end, page by page, checking each page's count and flags on the way. */
  async function walk(
    identity: Identity,
    first: number,
  ): Promise<{ ids: string[]; pages: Connection<{ id: string }>[] }> {
    const pages: Connection<{ id: string }>[] = [];
    let after: string | null = null;
    for (;;) {
      const page: Connection<{ id: string; n: number }> = await list(identity, { first, after });
      pages.push(page);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
      if (pages.length > 50) throw new Error('runaway pagination');
    }
    return { ids: pages.flatMap((p) => p.edges.map((e) => e.node.id)), pages };
  }

  it.each(IDENTITIES)(
    'the SQL filter shows %s exactly what isVisible shows',
    async (_label, identity, count) => {
      const filter = visibilityFilter(identity, policy, 1);
      const { rows } = await db().query<{ id: string }>(
        `SELECT id FROM transfer_view WHERE ${filter.sql} ORDER BY id`,
        filter.params,
      );
      const expected = ROWS.filter((r) => isVisible(identity, policy, r.visibility)).map((r) => r.id);
      expect(rows.map((r) => r.id)).toEqual(expected.sort());
      expect(rows).toHaveLength(count);
    },
  );

  it.each([1, 3, 5, 7, 100])('pages of %i walk exactly the visible rows, newest first', async (first) => {
    const { ids, pages } = await walk(generator, first);
    const visible = DESC.filter((r) => isVisible(generator, policy, r.visibility)).map((r) => r.id);
    expect(ids).toEqual(visible);
    // Counts and flags know only visible rows: 10, whatever the page; the last page says "no more" even
    // though three hidden rows sort after it.
    for (const page of pages) expect(page.totalCount).toBe(10);
    expect(pages).toHaveLength(Math.ceil(10 / first));
    expect(pages.slice(0, -1).every((p) => p.pageInfo.hasNextPage)).toBe(true);
    expect(pages[pages.length - 1].pageInfo.hasNextPage).toBe(false);
  });

  it('walks ties and microsecond neighbours one row at a time, for a wide view too', async () => {
    const chengdu = who('cd-eeb', 'municipal-bureau', '510100');
    const { ids, pages } = await walk(chengdu, 1);
    expect(ids).toEqual(DESC.filter((r) => isVisible(chengdu, policy, r.visibility)).map((r) => r.id));
    expect(new Set(ids).size).toBe(30);
    expect(pages.every((p) => p.totalCount === 30)).toBe(true);
  });

  it('sorts ascending as asked, with its own cursors', async () => {
    const asc = (after?: string | null) =>
      paginate<{ id: string }>({
        client: db(),
        from: 'transfer_view',
        select: 'id',
        orderBy: { column: 'submitted_at', direction: 'ASC' },
        idColumn: 'id',
        first: 4,
        after,
        identity: generator,
        policy,
      });
    const one = await asc();
    const two = await asc(one.pageInfo.endCursor);
    const expected = [...DESC].reverse().filter((r) => isVisible(generator, policy, r.visibility));
    expect([...one.edges, ...two.edges].map((e) => e.node.id)).toEqual(expected.slice(0, 8).map((r) => r.id));
    // A cursor of the descending list does not continue the ascending one.
    const desc = await list(generator, { first: 1 });
    await expect(asc(desc.pageInfo.endCursor)).rejects.toMatchObject({ field: 'after' });
  });

  it('a cursor crafted from a hidden row reveals nothing: the visible rows after that position, as for any position', async () => {
    const hidden = DESC.find((r) => !isVisible(generator, policy, r.visibility) && r.n === 21);
    if (!hidden) throw new Error('fixture: row 21 is hidden from the generator');
    const { rows } = await db().query<{ key: string }>(
      `SELECT submitted_at::text AS key FROM transfer_view WHERE id = $1`,
      [hidden.id],
    );
    const at = (id: string) => encodeCursor({ c: 'submitted_at', d: 'DESC', k: rows[0].key, i: id });
    const crafted = await list(generator, { first: 100, after: at(hidden.id) });
    // The same position with an id nobody has: the same answer, so the cursor is no oracle for existence.
    const invented = await list(generator, { first: 100, after: at('t-020z') });
    const position = DESC.findIndex((r) => r.id === hidden.id);
    const expected = DESC.slice(position + 1)
      .filter((r) => isVisible(generator, policy, r.visibility))
      .map((r) => r.id);
    expect(crafted.edges.map((e) => e.node.id)).toEqual(expected);
    expect(crafted.edges.map((e) => e.node.id)).not.toContain(hidden.id);
    expect(crafted.totalCount).toBe(10);
    expect({ ...invented, edges: invented.edges.map((e) => e.node.id) }).toEqual({
      ...crafted,
      edges: crafted.edges.map((e) => e.node.id),
    });
  });

  it('puts the list’s own condition first and numbers the filter’s parameters after it', async () => {
    const page = await paginate<{ id: string; n: number }>({
      client: db(),
      from: 'transfer_view',
      select: 'id, n',
      where: 'n > $1 AND n <= $2',
      params: [10, 30],
      orderBy: { column: 'submitted_at', direction: 'DESC' },
      idColumn: 'id',
      first: 3,
      identity: generator,
      policy,
    });
    expect(page.totalCount).toBe(5); // 12, 16, 20, 24, 28
    expect(page.edges.map((e) => e.node)).toEqual([
      { id: 't-028', n: 28 },
      { id: 't-024', n: 24 },
      { id: 't-020', n: 20 },
    ]);
    expect(page.pageInfo.hasNextPage).toBe(true);
  });

  it('gives an empty page, not an error, to someone who sees nothing', async () => {
    const page = await list(who('sc-psb', 'public-security', '510000'), { first: 10 });
    expect(page).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 0 });
  });

  it.each<[string, unknown]>([
    ['0', 0],
    ['101', 101],
    ['1.5', 1.5],
    ['-1', -1],
    ['a string', '10'],
    ['NaN', Number.NaN],
  ])('refuses first = %s naming `first`', async (_label, first) => {
    const error = await list(generator, { first: first as number }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PageRequestError);
    expect(error).toMatchObject({
      field: 'first',
      rule: 'page.first.range',
      kind: 'validation',
      code: 'BAD_USER_INPUT',
      error: {
        field: 'first',
        message: { zh: expect.stringMatching(/每页条数/), en: expect.stringMatching(/1 to 100/) },
      },
    });
  });

  it('takes 20 when first is absent', async () => {
    const page = await list(who('cd-eeb', 'municipal-bureau', '510100'), { first: null });
    expect(page.edges).toHaveLength(20);
    expect(page.pageInfo.hasNextPage).toBe(true);
  });

  it.each<[string, string]>([
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('{nope').toString('base64url')],
    ['the wrong shape', Buffer.from('{"k":"x"}').toString('base64url')],
    ['another column', encodeCursor({ c: 'id', d: 'DESC', k: 't-001', i: 't-001' })],
    [
      'a key that is no timestamp',
      encodeCursor({ c: 'submitted_at', d: 'DESC', k: 'yesterday-ish', i: 't-001' }),
    ],
    [
      'a padded variant of a good cursor',
      `${encodeCursor({ c: 'submitted_at', d: 'DESC', k: '2025-03-01 08:00:00+08', i: 't-001' })}A`,
    ],
    ['empty', ''],
  ])('refuses a cursor that is %s, naming `after`', async (_label, after) => {
    const error = await list(generator, { first: 5, after }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PageRequestError);
    expect(error).toMatchObject({ field: 'after', rule: 'page.after.invalid' });
    expect((error as PageRequestError).error.message.zh).toMatch(/游标/);
  });
});
