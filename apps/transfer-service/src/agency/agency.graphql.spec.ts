import { loadDirectory, type Identity } from '@lianfang/auth';
import { useSubgraph, type GraphQLAnswer } from '@lianfang/testing';
import { service } from '../service';

type Body = GraphQLAnswer['body'];

const directory = loadDirectory('config/directory/demo-region.json');
const bureau: Identity = {
  subject: 'li.na',
  agencyId: 'sc-eeb',
  agencyKind: 'provincial-bureau',
  jurisdiction: '510000',
  roles: ['viewer'],
};

describe('transfer-service: the agency register through GraphQL', () => {
  const subgraph = useSubgraph(service);
  const query = (q: string, variables: Record<string, unknown> = {}, identity: Identity | null = bureau) =>
    subgraph.post(q, { variables, identity });

  it('holds every agency of the directory, registered through commands at start', async () => {
    const { body } = await query('{ agencies(first: 100) { totalCount edges { node { id kind status } } } }');
    expect(body.errors).toBeUndefined();
    const page = body.data?.agencies as {
      totalCount: number;
      edges: { node: { id: string; status: string } }[];
    };
    expect(page.totalCount).toBe(directory.agencies.length);
    expect(page.edges.map((e) => e.node.id).sort()).toEqual(directory.agencies.map((a) => a.id).sort());
    expect(new Set(page.edges.map((e) => e.node.status))).toEqual(new Set(['ACTIVE']));
  });

  it('filters by kind and by jurisdiction (a province holds its cities), and pages by cursor', async () => {
    const sichuan = await query(
      '{ agencies(jurisdiction: "510000", kind: MUNICIPAL_BUREAU) { edges { node { id jurisdiction } } } }',
    );
    const expected = directory.agencies
      .filter((a) => a.kind === 'municipal-bureau' && a.jurisdiction.startsWith('51'))
      .map((a) => a.id)
      .sort();
    const got = (sichuan.body.data?.agencies as { edges: { node: { id: string } }[] }).edges.map(
      (e) => e.node.id,
    );
    expect(got).toEqual(expected);
    expect(got.length).toBeGreaterThan(0);

    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { body }: { body: Body } = await query(
        'query($after: String) { agencies(first: 7, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }',
        { after },
      );
      const page = body.data?.agencies as {
        edges: { node: { id: string } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
      ids.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(ids).toEqual(directory.agencies.map((a) => a.id).sort());
  });

  it('answers one agency, the caller itself, and `_entities` for other subgraphs', async () => {
    const { body } = await query(`{
      agency(id: "cq-eeb") { id kind level jurisdiction name { zh en } roles }
      whoami { subject roles agency { id name { zh } } }
      _entities(representations: [{ __typename: "Agency", id: "sc-eeb" }]) { ... on Agency { id kind } }
    }`);
    expect(body.errors).toBeUndefined();
    expect(body.data?.agency).toMatchObject({
      id: 'cq-eeb',
      kind: 'PROVINCIAL_BUREAU',
      jurisdiction: '500000',
    });
    expect(body.data?.whoami).toEqual({
      subject: 'li.na',
      roles: ['VIEWER'],
      agency: { id: 'sc-eeb', name: { zh: directory.requireAgency('sc-eeb').name.zh } },
    });
    expect(body.data?._entities).toEqual([{ id: 'sc-eeb', kind: 'PROVINCIAL_BUREAU' }]);
    const unknown = await query('{ agency(id: "nobody") { id } }');
    expect(unknown.body.data?.agency).toBeNull();
  });

  it('refuses a caller without the gateway-signed identity, and names a bad page size', async () => {
    const anonymous = await query('{ agencies { totalCount } }', {}, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.errors?.[0].extensions.code).toBe('IDENTITY_MISSING');
    const tooMany = await query('{ agencies(first: 1000) { totalCount } }');
    expect(tooMany.body.errors?.[0].extensions).toMatchObject({ field: 'first' });
  });

  it("answers the gateway's live-composition SDL query without identity outside production, and nothing more", async () => {
    const sdl = await query('query __ApolloGetServiceDefinition__ { _service { sdl } }', {}, null);
    expect(sdl.status).toBe(200);
    expect((sdl.body.data?._service as { sdl: string }).sdl).toContain('type Agency');
    const more = await query(
      'query __ApolloGetServiceDefinition__ { _service { sdl } agencies { totalCount } }',
      {},
      null,
    );
    expect(more.status).toBe(401);
  });

  it('logs each read of an agency entry; the agency, and only it, sees who read it', async () => {
    const chongqing: Identity = {
      subject: 'wang.fang',
      agencyId: 'cq-eeb',
      agencyKind: 'provincial-bureau',
      jurisdiction: '500000',
      roles: ['viewer'],
    };
    await query('{ agency(id: "sc-eeb") { id } }', {}, chongqing);
    const reads =
      '{ transferRecordReads(recordId: "sc-eeb") { totalCount edges { node { subject agencyId recordType operation } } } }';
    const own = await query(reads);
    expect(own.body.errors).toBeUndefined();
    const page = own.body.data?.transferRecordReads as {
      totalCount: number;
      edges: { node: Record<string, string> }[];
    };
    expect(page.edges[0].node).toEqual({
      subject: 'wang.fang',
      agencyId: 'cq-eeb',
      recordType: 'agency',
      operation: 'read',
    });
    expect(page.totalCount).toBeGreaterThanOrEqual(1);
    // Chongqing read Sichuan's entry: it cannot see who else did.
    const other = await query(reads, {}, chongqing);
    expect(other.body.data?.transferRecordReads).toEqual({ totalCount: 0, edges: [] });
  });
});
