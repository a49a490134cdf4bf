import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createIdentitySigner, IDENTITY_HEADER } from '@lianfang/auth';
import { normalizeSdl } from '@lianfang/graph';
import { startService, type RunningService } from '@lianfang/runtime';
import { exportSPKI, generateKeyPair } from 'jose';
import { service } from '../service';
import { SERVICE_VERSION } from './service-info.resolver';

const appDir = path.resolve(__dirname, '../..');

interface ServiceInfoBody {
  name: string;
  version: string;
  mechanisms: { code: string; name: { zh: string; en: string } }[];
  eventStore: string;
  bus: string;
}

interface GraphQLBody {
  data?: { compensationServiceInfo?: ServiceInfoBody; _service?: { sdl: string } };
  errors?: { message: string; extensions: Record<string, unknown> }[];
}

describe('compensation-service GraphQL subgraph', () => {
  let running: RunningService;
  let dataDir: string;
  let token: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'lf-compensation-graph-'));
    const gateway = await generateKeyPair('ES256', { extractable: true });
    token = await createIdentitySigner(gateway.privateKey).sign({
      subject: 'li.na',
      agencyId: 'sc-eeb',
      agencyKind: 'provincial-bureau',
      jurisdiction: '510000',
      roles: ['viewer'],
    });
    running = await startService(service, {
      port: 0,
      logLevels: ['error', 'warn'],
      env: {
        ...process.env,
        NODE_ENV: 'test',
        EVENT_STORE: 'pglite',
        BUS: 'memory',
        DATA_DIR: dataDir,
        GATEWAY_PUBLIC_KEY: await exportSPKI(gateway.publicKey),
      },
    });
    // Boots the real app (PGlite, bus, relay): slow on a loaded machine.
  }, 180_000);

  afterAll(async () => {
    await running?.app.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const post = async (query: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${running.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
    return { status: res.status, body: (await res.json()) as GraphQLBody };
  };

  it('refuses /graphql without the gateway-signed identity (401)', async () => {
    const { status, body } = await post('{ compensationServiceInfo { name } }');
    expect(status).toBe(401);
    expect(body.errors?.[0].extensions).toMatchObject({
      code: 'IDENTITY_MISSING',
      category: 'UNAUTHENTICATED',
    });
  });

  it('answers compensationServiceInfo with a signed identity', async () => {
    const { status, body } = await post(
      '{ compensationServiceInfo { name version mechanisms { code name { zh en } } eventStore bus } }',
      { [IDENTITY_HEADER]: token },
    );
    expect(status).toBe(200);
    expect(body.data?.compensationServiceInfo).toMatchObject({
      name: 'compensation-service',
      version: SERVICE_VERSION,
      eventStore: 'PGLITE',
      bus: 'MEMORY',
    });
    const mechanisms = body.data?.compensationServiceInfo?.mechanisms ?? [];
    expect(mechanisms.map((m) => m.code)).toEqual(['compensation']);
    for (const m of mechanisms) {
      expect(m.name.zh).toMatch(/[\u4e00-\u9fff]/);
      expect(m.name.en).toMatch(/[a-z]/);
    }
  });

  it('serves the SDL committed in apps/compensation-service/schema.graphql', async () => {
    const { body } = await post('{ _service { sdl } }', { [IDENTITY_HEADER]: token });
    const served = normalizeSdl(body.data?._service?.sdl ?? '');
    const committed = normalizeSdl(await readFile(path.join(appDir, 'schema.graphql'), 'utf8'));
    if (served !== committed)
      throw new Error(
        'apps/compensation-service/schema.graphql differs from the schema the service serves: run `npm run schema` and commit the result / schema.graphql 已过期：请运行 npm run schema',
      );
    expect(served).toContain('type CompensationServiceInfo');
  });

  it('reports the version of its package.json', async () => {
    const pkg = JSON.parse(await readFile(path.join(appDir, 'package.json'), 'utf8')) as { version: string };
    expect(SERVICE_VERSION).toBe(pkg.version);
  });
});
