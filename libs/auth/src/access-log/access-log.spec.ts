import { DomainValidationError } from '@lianfang/domain-kernel';
import type { SqlExecutor } from '@lianfang/eventsourcing';
import type { AgencyKind, Identity } from '../identity';
import { PageRequestError } from '../visibility/page-request-error';
import { forEachSqlBackend } from '../visibility/sql-backends.fixture';
import { createAccessLog, type AccessLog, type RecordReadInput } from './access-log';

const who = (
  agencyId: string,
  agencyKind: AgencyKind,
  jurisdiction: string,
  subject = `${agencyId}-1`,
): Identity => ({
  subject,
  agencyId,
  agencyKind,
  jurisdiction,
  roles: ['viewer'],
});

const sichuan = who('sc-eeb', 'provincial-bureau', '510000');
const chongqing = who('cq-eeb', 'provincial-bureau', '500000');
const chengdu = who('cd-eeb', 'municipal-bureau', '510100', 'wang-li');
const secretariat = who('cy-sec', 'regional-secretariat', '510000', 'zhao-min');
const guangdong = who('gd-eeb', 'provincial-bureau', '440000');

const minute = (m: number) => new Date(Date.UTC(2025, 2, 3, 1, m, 0, 0));

// Transfer T-1 is Sichuan's and Chongqing's; T-2 only Sichuan's; M-9 (a manifest) Guangdong's.
const T1 = { recordType: 'transfer', recordId: 'T-1', ownerAgencies: ['sc-eeb', 'cq-eeb'] };
const T2 = { recordType: 'transfer', recordId: 'T-2', ownerAgencies: ['sc-eeb'] };
const M9 = { recordType: 'manifest', recordId: 'M-9', ownerAgencies: ['gd-eeb'] };

forEachSqlBackend('access log', (client) => {
  let log: AccessLog;
  beforeAll(async () => {
    log = createAccessLog({ client: client(), schema: 'transfer' });
    // Twice at once: two replicas starting together.
    await Promise.all([log.migrate(), log.migrate()]);
    await log.migrate();
    await log.recordRead({ identity: chengdu, ...T1, operation: 'read', at: minute(1) });
    await log.recordRead({ identity: secretariat, ...T1, operation: 'history', at: minute(2) });
    await log.recordRead({ identity: chengdu, ...T2, operation: 'asOf', at: minute(3) });
    await log.recordRead({ identity: sichuan, ...M9, operation: 'read', at: minute(4) });
    // A list page: three records read at the same moment, in one statement.
    await log.recordReads(
      [T1, T2, M9].map((r) => ({ identity: guangdong, ...r, operation: 'list' as const, at: minute(5) })),
    );
  });

  it('shows an owner who read its records, newest first, with reader, record, operation and time', async () => {
    const page = await log.readsOf(sichuan, { first: 10 });
    expect(page.totalCount).toBe(5);
    expect(
      page.edges.map(({ node }) => [
        node.reader.agencyId,
        node.recordId,
        node.operation,
        node.at.toISOString(),
      ]),
    ).toEqual([
      // Same time: the later write first (T-2 after T-1 in the list page).
      ['gd-eeb', 'T-2', 'list', minute(5).toISOString()],
      ['gd-eeb', 'T-1', 'list', minute(5).toISOString()],
      ['cd-eeb', 'T-2', 'asOf', minute(3).toISOString()],
      ['cy-sec', 'T-1', 'history', minute(2).toISOString()],
      ['cd-eeb', 'T-1', 'read', minute(1).toISOString()],
    ]);
    expect(page.edges[4].node.reader).toEqual({
      subject: 'wang-li',
      agencyId: 'cd-eeb',
      agencyKind: 'municipal-bureau',
      jurisdiction: '510100',
    });
    expect(page.edges[4].node.recordType).toBe('transfer');
  });

  it('shows each owner only its own records', async () => {
    const cq = await log.readsOf(chongqing, { first: 10 });
    expect(cq.edges.map((e) => [e.node.reader.agencyId, e.node.recordId])).toEqual([
      ['gd-eeb', 'T-1'],
      ['cy-sec', 'T-1'],
      ['cd-eeb', 'T-1'],
    ]);
    const gd = await log.readsOf(guangdong, {});
    expect(gd.edges.map((e) => [e.node.reader.agencyId, e.node.recordId])).toEqual([
      ['gd-eeb', 'M-9'],
      ['sc-eeb', 'M-9'],
    ]);
  });

  it('gives a reader that owns nothing an empty page, even when it names a record it read', async () => {
    const nothing = { edges: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 0 };
    expect(await log.readsOf(chengdu, { first: 10 })).toEqual(nothing);
    expect(await log.readsOf(chengdu, { recordId: 'T-1' })).toEqual(nothing);
    // Guangdong read T-1, but does not own it: the same answer as for a record nobody read.
    expect(await log.readsOf(guangdong, { recordId: 'T-1' })).toEqual(nothing);
    expect(await log.readsOf(guangdong, { recordId: 'T-404' })).toEqual(nothing);
  });

  it('narrows to one record and one record type', async () => {
    const t1 = await log.readsOf(sichuan, { recordId: 'T-1' });
    expect(t1.totalCount).toBe(3);
    expect(t1.edges.every((e) => e.node.recordId === 'T-1')).toBe(true);
    expect((await log.readsOf(sichuan, { recordType: 'manifest' })).totalCount).toBe(0);
    expect((await log.readsOf(guangdong, { recordType: 'manifest', recordId: 'M-9' })).totalCount).toBe(2);
  });

  it('pages with cursors and validates them', async () => {
    const one = await log.readsOf(sichuan, { first: 2 });
    const two = await log.readsOf(sichuan, { first: 2, after: one.pageInfo.endCursor });
    const three = await log.readsOf(sichuan, { first: 2, after: two.pageInfo.endCursor });
    expect([one, two, three].map((p) => p.pageInfo.hasNextPage)).toEqual([true, true, false]);
    expect([...one.edges, ...two.edges, ...three.edges].map((e) => e.node.id)).toEqual(
      (await log.readsOf(sichuan, { first: 10 })).edges.map((e) => e.node.id),
    );
    await expect(log.readsOf(sichuan, { first: 101 })).rejects.toBeInstanceOf(PageRequestError);
    await expect(log.readsOf(sichuan, { after: 'garbage!' })).rejects.toMatchObject({ field: 'after' });
  });

  it('writes a list page in one statement, inside the caller’s transaction when given one', async () => {
    const statements: string[] = [];
    await client()
      .transaction(async (tx) => {
        const counting: SqlExecutor = {
          query: (text, params, options) => {
            statements.push(text);
            return tx.query(text, params, options);
          },
        };
        await log.recordReads(
          ['T-7', 'T-8', 'T-9'].map((recordId) => ({
            identity: chengdu,
            recordType: 'transfer',
            recordId,
            ownerAgencies: ['sc-eeb'],
            operation: 'list' as const,
            at: minute(9),
          })),
          counting,
        );
        throw new Error('roll back');
      })
      .catch((e: Error) => expect(e.message).toBe('roll back'));
    expect(statements).toHaveLength(1);
    // Rolled back with the caller's transaction: no trace of T-7…T-9.
    expect((await log.readsOf(sichuan, { recordId: 'T-8' })).totalCount).toBe(0);
    await log.recordReads([]);
    expect((await log.readsOf(sichuan, {})).totalCount).toBe(5);
  });

  const good: RecordReadInput = { identity: chengdu, ...T1, operation: 'read', at: minute(1) };
  it.each<[string, Partial<RecordReadInput> | Record<string, unknown>]>([
    ['recordId', { recordId: '' }],
    ['recordType', { recordType: 42 }],
    ['operation', { operation: 'write' }],
    ['at', { at: new Date('nope') }],
    ['at', { at: '2025-03-03' }],
    ['ownerAgencies', { ownerAgencies: [] }],
    ['ownerAgencies[1]', { ownerAgencies: ['sc-eeb', ' '] }],
    ['identity', { identity: undefined }],
    ['identity.agencyId', { identity: { ...chengdu, agencyId: '' } }],
  ])('refuses a read with a bad %s, naming it', async (field, change) => {
    const bad = { ...good, ...change } as RecordReadInput;
    const error = await log.recordRead(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainValidationError);
    expect((error as DomainValidationError).error.field).toBe(field);
    expect((error as DomainValidationError).error.message.zh).toMatch(/[\u4e00-\u9fff]/);
    const inList = await log.recordReads([good, bad]).catch((e: unknown) => e);
    expect((inList as DomainValidationError).error.field).toBe(`reads[1].${field}`);
    expect((await log.readsOf(sichuan, {})).totalCount).toBe(5);
  });

  it('records downloads in a table made before downloads existed (its check is widened once)', async () => {
    const sql = client();
    await sql.query('DROP SCHEMA IF EXISTS older CASCADE');
    await sql.query('CREATE SCHEMA older');
    // The table as the first version made it: its check knows four operations.
    await sql.query(`CREATE TABLE older.access_log (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, read_at timestamptz NOT NULL,
      reader_subject text NOT NULL, reader_agency_id text NOT NULL, reader_agency_kind text NOT NULL,
      reader_jurisdiction text NOT NULL, record_type text NOT NULL, record_id text NOT NULL,
      operation text NOT NULL CHECK (operation IN ('read', 'history', 'asOf', 'list')),
      owner_agencies text[] NOT NULL CHECK (cardinality(owner_agencies) > 0))`);
    await sql.query(
      `INSERT INTO older.access_log (read_at, reader_subject, reader_agency_id, reader_agency_kind,
         reader_jurisdiction, record_type, record_id, operation, owner_agencies)
       VALUES ('2025-03-03T00:00:00Z', 'wang-li', 'cd-eeb', 'municipal-bureau', '510100', 'transfer', 'T-0', 'read', '{sc-eeb}')`,
    );
    const older = createAccessLog({ client: sql, schema: 'older' });
    await Promise.all([older.migrate(), older.migrate()]);
    await older.migrate();
    await older.recordRead({ identity: chengdu, ...T1, operation: 'download', at: minute(7) });
    const page = await older.readsOf(sichuan, {});
    expect(page.edges.map((e) => `${e.node.recordId}:${e.node.operation}`)).toEqual([
      'T-1:download',
      'T-0:read',
    ]);
    // Still a check: an operation it does not know is refused by the table itself.
    await expect(
      sql.query(`UPDATE older.access_log SET operation = 'write' WHERE record_id = 'T-0'`),
    ).rejects.toThrow(/access_log_operation_check/);
    await sql.query('DROP SCHEMA older CASCADE');
  });

  it('refuses a schema name that is not a plain identifier', () => {
    expect(() => createAccessLog({ client: client(), schema: 'transfer; DROP' })).toThrow(/schema name/);
  });
});
