import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { issueDevToken, loadDirectory, loadOrCreateKeyPair } from '@lianfang/auth';
import type { RunningService } from '@lianfang/runtime';
import {
  gatewayEnv,
  post,
  startGateway,
  startTestSubgraphs,
  tempDir,
  TEST_DIRECTORY_FILE,
  type TestSubgraphs,
} from '../test-fixtures/test-platform';

describe('SUPERGRAPH_MODE=live (development)', () => {
  let dataDir: string;
  let subgraphs: TestSubgraphs;
  let gateway: RunningService;

  beforeAll(async () => {
    dataDir = await tempDir('gateway-live');
    const keys = await loadOrCreateKeyPair(path.join(dataDir, 'keys'), 'gateway');
    subgraphs = await startTestSubgraphs(dataDir, keys.publicKey, { publicSdl: true });
    gateway = await startGateway(
      gatewayEnv(dataDir, subgraphs, {
        SUPERGRAPH_MODE: 'live',
        // No file: live composition reads the running subgraphs at the configured URLs.
        SUPERGRAPH_FILE: path.join(dataDir, 'absent.graphql'),
        ENFORCEMENT_SERVICE_URL: subgraphs.enforcement.url,
      }),
    );
  });

  afterAll(async () => {
    await gateway?.app.close();
    await subgraphs?.stop();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('composes the running subgraphs and answers across all three', async () => {
    const agency = loadDirectory(TEST_DIRECTORY_FILE).requireAgency('cq-eeb');
    const token = await issueDevToken({ dataDir, agency });
    const answer = await post(gateway, '{ whoAmI { agencyId } accrualCount openCases }', { token });
    expect(answer.body).toEqual({ data: { whoAmI: { agencyId: 'cq-eeb' }, accrualCount: 2, openCases: 7 } });
    expect(subgraphs.enforcement.received.at(-1)!.identity.agencyId).toBe('cq-eeb');
    const ready = await fetch(`${gateway.url}/ready`);
    expect(ready.status).toBe(200);
  });

  it('says what to do when the subgraphs refuse the schema request without an identity', async () => {
    const keys = await loadOrCreateKeyPair(path.join(dataDir, 'keys'), 'gateway');
    const strict = await startTestSubgraphs(dataDir, keys.publicKey);
    try {
      const start = startGateway(
        gatewayEnv(dataDir, strict, {
          SUPERGRAPH_MODE: 'live',
          ENFORCEMENT_SERVICE_URL: strict.enforcement.url,
        }),
      );
      await expect(start).rejects.toThrow(
        /service transfer refused the gateway's schema request \(HTTP 401\): live composition .* run `npm run schema` and use SUPERGRAPH_MODE=file/,
      );
    } finally {
      await strict.stop();
    }
  });
});
