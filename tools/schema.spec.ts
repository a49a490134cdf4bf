import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { normalizeSdl } from '@lianfang/graph';
import { parse, type DefinitionNode } from 'graphql';
import {
  buildSubgraphs,
  composeSupergraph,
  main,
  schemaFileOf,
  SUPERGRAPH_FILE,
  type BuiltSubgraph,
  type SchemaToolDeps,
} from './schema';

const root = path.resolve(__dirname, '..');

/** Types every subgraph defines on purpose: the platform scalars, shareable value types, federation's own. */
const SHARED = new Set([
  'Money',
  'Kilograms',
  'LogPosition',
  'DateTime',
  'LocalDate',
  'JurisdictionCode',
  'BilingualText',
  'Mechanism',
  'EventStoreKind',
  'BusKind',
  'Query',
  '_Service',
  '_Any',
  '_Entity',
  'link__Import',
  'link__Purpose',
  'federation__FieldSet',
  'federation__Scope',
  'federation__Policy',
  'federation__ContextFieldValue',
]);

function typeNames(sdl: string): string[] {
  return parse(sdl)
    .definitions.filter(
      (d: DefinitionNode): d is DefinitionNode & { name: { value: string } } =>
        'name' in d && !!d.name && d.kind !== 'DirectiveDefinition',
    )
    .map((d) => d.name.value);
}

describe('npm run schema', () => {
  let built: BuiltSubgraph[];

  beforeAll(async () => {
    // The three subgraph apps in ONE process, as in the embedded mode.
    built = await buildSubgraphs({});
  }, 240_000);

  it('builds each subgraph with only its own types, though all three share the process', () => {
    const byName = new Map(built.map((s) => [s.name, new Set(typeNames(s.sdl))]));
    expect([...byName.keys()]).toEqual(['transfer', 'compensation', 'enforcement']);
    expect(byName.get('transfer')).toContain('TransferServiceInfo');
    expect(byName.get('compensation')).toContain('CompensationServiceInfo');
    expect(byName.get('enforcement')).toContain('EnforcementServiceInfo');
    // A type defined in two subgraphs is either meant to be shared or has leaked from one into the other.
    for (const [name, types] of byName)
      for (const [other, otherTypes] of byName) {
        if (name === other) continue;
        const common = [...types].filter((t) => otherTypes.has(t) && !SHARED.has(t));
        expect({ subgraphs: [name, other], common }).toEqual({ subgraphs: [name, other], common: [] });
      }
  });

  it('matches the committed SDL files and supergraph (else: run `npm run schema`)', async () => {
    const stale: string[] = [];
    for (const s of built) {
      const committed = await readFile(path.join(root, schemaFileOf(s.name)), 'utf8');
      if (normalizeSdl(committed) !== normalizeSdl(s.sdl)) stale.push(schemaFileOf(s.name));
    }
    const composed = composeSupergraph(built);
    expect(composed.ok).toBe(true);
    if (composed.ok) {
      const committed = await readFile(path.join(root, SUPERGRAPH_FILE), 'utf8');
      if (normalizeSdl(committed) !== normalizeSdl(composed.supergraphSdl)) stale.push(SUPERGRAPH_FILE);
    }
    if (stale.length > 0)
      throw new Error(`stale: ${stale.join(', ')}: run \`npm run schema\` and commit the result`);
  });

  it('puts each subgraph at its URL, from the environment or the embedded default', async () => {
    const composed = composeSupergraph(
      built.map((s) => (s.name === 'compensation' ? { ...s, url: 'http://compensation:4002/graphql' } : s)),
    );
    expect(composed.ok && composed.supergraphSdl).toContain(
      '@join__graph(name: "compensation", url: "http://compensation:4002/graphql")',
    );
    expect(built.find((s) => s.name === 'transfer')?.url).toBe('http://127.0.0.1:4001/graphql');
  });
});

describe('schema tool, checks and failures', () => {
  const sdl = (field: string) => `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.12", import: ["@key", "@shareable"])
    type Query { ${field}: String }
  `;
  const subgraphs: BuiltSubgraph[] = [
    { name: 'transfer', url: 'http://t/graphql', sdl: sdl('transferPing') },
    { name: 'compensation', url: 'http://c/graphql', sdl: sdl('compensationPing') },
  ];
  let dir: string;
  let lines: string[];
  const deps = (build: BuiltSubgraph[]): SchemaToolDeps => ({
    build: async () => build,
    format: async (text) => text,
    log: (line) => lines.push(line),
  });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lf-schema-tool-'));
    for (const d of ['apps/transfer-service', 'apps/compensation-service', 'apps/gateway'])
      await mkdir(path.join(dir, d), { recursive: true });
    lines = [];
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports every composition error and fails', async () => {
    // Both subgraphs resolve Query.ping without @shareable: Federation 2 refuses that.
    const conflicting = subgraphs.map((s) => ({ ...s, sdl: sdl('ping') }));
    const composed = composeSupergraph(conflicting);
    expect(composed.ok).toBe(false);
    expect(!composed.ok && composed.errors.join('\n')).toMatch(/INVALID_FIELD_SHARING: .*Query\.ping/);
    expect(await main(['--root', dir], deps(conflicting))).toBe(1);
    expect(lines.join('\n')).toMatch(/do not compose[\s\S]*INVALID_FIELD_SHARING/);
  });

  it('writes the files, then --check passes; a stale file fails --check naming it and the fix', async () => {
    expect(await main(['--root', dir], deps(subgraphs))).toBe(0);
    const supergraph = await readFile(path.join(dir, SUPERGRAPH_FILE), 'utf8');
    expect(supergraph).toContain('transferPing');
    expect(await main(['--check', '--root', dir], deps(subgraphs))).toBe(0);

    await writeFile(path.join(dir, 'apps/transfer-service/schema.graphql'), sdl('oldPing'));
    lines = [];
    expect(await main(['--check', '--root', dir], deps(subgraphs))).toBe(1);
    expect(lines.join('\n')).toContain(
      'apps/transfer-service/schema.graphql is stale or missing: run `npm run schema`',
    );
    // --check writes nothing.
    expect(await readFile(path.join(dir, 'apps/transfer-service/schema.graphql'), 'utf8')).toContain(
      'oldPing',
    );
  });
});
