import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadOrCreateKeyPair } from '@lianfang/auth';
import { ConfigurationError, type RunningService } from '@lianfang/runtime';
import {
  gatewayEnv,
  startGateway,
  startTestSubgraphs,
  tempDir,
  type TestSubgraphs,
} from '../test-fixtures/test-platform';
import { SupergraphError } from './errors';

describe('gateway boots', () => {
  let dataDir: string;
  let subgraphs: TestSubgraphs;
  let running: RunningService;

  beforeAll(async () => {
    dataDir = await tempDir('gateway-boot');
    const keys = await loadOrCreateKeyPair(path.join(dataDir, 'keys'), 'gateway');
    subgraphs = await startTestSubgraphs(dataDir, keys.publicKey);
    running = await startGateway(gatewayEnv(dataDir, subgraphs));
  });

  afterAll(async () => {
    await running?.app.close();
    await subgraphs?.stop();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('answers /health with its name', async () => {
    const res = await fetch(`${running.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', service: 'gateway' });
  });

  it('is ready once the supergraph is loaded, even with a subgraph down', async () => {
    const res = await fetch(`${running.url}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      service: 'gateway',
      checks: { supergraph: 'ok' },
    });
  });

  it('serves its metrics at /metrics', async () => {
    const res = await fetch(`${running.url}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('service="gateway"');
  });

  it('does not need a token for /health and /ready', async () => {
    const res = await fetch(`${running.url}/ready`, { headers: { authorization: 'Bearer nonsense' } });
    expect(res.status).toBe(200);
  });

  it('refuses to start without the supergraph file, naming it and `npm run schema`', async () => {
    const missing = path.join(dataDir, 'no-such-supergraph.graphql');
    const start = startGateway(gatewayEnv(dataDir, subgraphs, { SUPERGRAPH_FILE: missing }));
    await expect(start).rejects.toBeInstanceOf(SupergraphError);
    await expect(start).rejects.toThrow(missing);
    await expect(start).rejects.toThrow('npm run schema');
  });

  it('refuses to start with an unusable GATEWAY_SIGNING_KEY, naming the variable', async () => {
    const start = startGateway(gatewayEnv(dataDir, subgraphs, { GATEWAY_SIGNING_KEY: '{"kty":"RSA"}' }));
    await expect(start).rejects.toBeInstanceOf(ConfigurationError);
    await expect(start).rejects.toThrow(/GATEWAY_SIGNING_KEY: only ES256 keys are accepted/);
  });

  it('refuses to start with an AUTH_JWKS_FILE that is not a JWKS, naming the variable', async () => {
    const file = path.join(dataDir, 'not-a-jwks.json');
    await fs.writeFile(file, '{"keys": []}');
    const start = startGateway(gatewayEnv(dataDir, subgraphs, { AUTH_JWKS_FILE: file }));
    await expect(start).rejects.toBeInstanceOf(ConfigurationError);
    await expect(start).rejects.toThrow(/AUTH_JWKS_FILE: .*must be a JWKS/);
  });
});
