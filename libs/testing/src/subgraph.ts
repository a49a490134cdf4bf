import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createIdentitySigner, IDENTITY_HEADER, type Identity } from '@lianfang/auth';
import { normalizeSdl } from '@lianfang/graph';
import type { RunningService, ServiceDefinition } from '@lianfang/runtime';
import { exportSPKI, generateKeyPair, type KeyLike } from 'jose';
import { useRunningService, type ProviderOverrides } from './service';

export interface GraphQLAnswer<D = Record<string, unknown>> {
  readonly status: number;
  readonly body: { data?: D | null; errors?: { message: string; extensions: Record<string, unknown> }[] };
}

/** A provincial bureau's clerk-reviewer, the caller of `useSubgraph` unless a test names another. */
export const SICHUAN_BUREAU: Identity = {
  subject: 'li.na',
  agencyId: 'sc-eeb',
  agencyKind: 'provincial-bureau',
  jurisdiction: '510000',
  roles: ['viewer'],
};

/**
 * Boots a service as `useRunningService` does and plays the gateway in front of it: a key pair of its own
 * (GATEWAY_PUBLIC_KEY), and `post` signs the identity the way the gateway forwards it.
 */
export function useSubgraph<C>(
  def: ServiceDefinition<C>,
  options: {
    /** More environment, read when the suite starts (e.g. a test database's URL, the test broker). */
    env?: () => Record<string, string>;
    /**
     * Providers replaced before the app starts, e.g. `[{ provide: CLOCK, useValue: clock.read }]`; a
     * function is read when the suite starts (values made in an earlier beforeAll).
     */
    overrides?: ProviderOverrides;
  } = {},
) {
  let key: KeyLike | undefined;
  // Filled before useRunningService's beforeAll reads it (hooks run in the order they are declared).
  const env: Record<string, string> = {};
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    key = pair.privateKey;
    env.GATEWAY_PUBLIC_KEY = await exportSPKI(pair.publicKey);
    Object.assign(env, options.env?.() ?? {});
  });
  const running = useRunningService(def, {
    env,
    ...(options.overrides ? { overrides: options.overrides } : {}),
  });

  async function post<D = Record<string, unknown>>(
    query: string,
    options: { identity?: Identity | null; variables?: Record<string, unknown> } = {},
  ): Promise<GraphQLAnswer<D>> {
    const identity = options.identity === undefined ? SICHUAN_BUREAU : options.identity;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (identity) {
      if (!key) throw new Error('useSubgraph: the gateway key is made in beforeAll');
      headers[IDENTITY_HEADER] = await createIdentitySigner(key).sign(identity);
    }
    const res = await fetch(`${running().url}/graphql`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables: options.variables ?? {} }),
    });
    return { status: res.status, body: (await res.json()) as GraphQLAnswer<D>['body'] };
  }

  return { running: running as () => RunningService, post };
}

/**
 * What every subgraph must do, whatever its domain: health and readiness, refusing a caller without the
 * gateway's identity, answering its service-info field, serving exactly its committed SDL, and
 * reporting its package's version.
 */
export function describeSubgraphBasics(options: {
  subgraph: ReturnType<typeof useSubgraph>;
  service: string;
  /** e.g. `transferServiceInfo` */
  infoField: string;
  mechanisms: readonly string[];
  version: string;
  /** The app's folder (holding schema.graphql and package.json). */
  appDir: string;
}): void {
  const { subgraph, service, infoField } = options;

  it('answers /health, and /ready with its store and bus', async () => {
    const health = await fetch(`${subgraph.running().url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', service });
    const ready = await fetch(`${subgraph.running().url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      service,
      checks: { pglite: 'ok', 'memory-bus': 'ok' },
    });
  });

  it('refuses /graphql without the gateway-signed identity (401)', async () => {
    const { status, body } = await subgraph.post(`{ ${infoField} { name } }`, { identity: null });
    expect(status).toBe(401);
    expect(body.errors?.[0].extensions).toMatchObject({
      code: 'IDENTITY_MISSING',
      category: 'UNAUTHENTICATED',
    });
  });

  it(`answers ${infoField} with a signed identity`, async () => {
    type Info = {
      name: string;
      version: string;
      mechanisms: { code: string; name: { zh: string; en: string } }[];
    };
    const { status, body } = await subgraph.post<Record<string, Info>>(
      `{ ${infoField} { name version mechanisms { code name { zh en } } eventStore bus } }`,
    );
    expect(status).toBe(200);
    const info = body.data?.[infoField];
    expect(info).toMatchObject({
      name: service,
      version: options.version,
      eventStore: 'PGLITE',
      bus: 'MEMORY',
    });
    expect(info?.mechanisms.map((m) => m.code)).toEqual(options.mechanisms);
    for (const m of info?.mechanisms ?? []) {
      expect(m.name.zh).toMatch(/[\u4e00-\u9fff]/);
      expect(m.name.en).toMatch(/[a-z]/);
    }
  });

  it(`serves the SDL committed in apps/${service}/schema.graphql`, async () => {
    const { body } = await subgraph.post<{ _service: { sdl: string } }>('{ _service { sdl } }');
    const served = normalizeSdl(body.data?._service.sdl ?? '');
    const committed = normalizeSdl(await readFile(path.join(options.appDir, 'schema.graphql'), 'utf8'));
    if (served !== committed)
      throw new Error(
        `apps/${service}/schema.graphql differs from the schema the service serves: run \`npm run schema\` and commit the result / schema.graphql 已过期：请运行 npm run schema`,
      );
    expect(served).toContain(`${infoField}:`);
  });

  it('reports the version of its package.json', async () => {
    const pkg = JSON.parse(await readFile(path.join(options.appDir, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(options.version).toBe(pkg.version);
  });
}
