import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  DEV_AUDIENCE,
  DEV_ISSUER,
  devIssuerJwks,
  devIssuerKeys,
  IDENTITY_CLAIMS,
  issueDevToken,
  loadDirectory,
  loadOrCreateKeyPair,
} from '@lianfang/auth';
import type { RunningService } from '@lianfang/runtime';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import {
  CORRELATION_HEADER,
  gatewayEnv,
  IDENTITY_HEADER,
  post,
  releaseHangingFields,
  SECRET,
  startGateway,
  startTestSubgraphs,
  tempDir,
  TEST_DIRECTORY_FILE,
  type TestSubgraphs,
} from '../test-fixtures/test-platform';

/**
 * The gateway over real HTTP: test subgraphs on free ports, composed into a supergraph file, behind a
 * gateway started from its configuration like any deployment.
 */
describe('gateway', () => {
  const directory = loadDirectory(TEST_DIRECTORY_FILE);
  const scEeb = directory.requireAgency('sc-eeb');
  const cqEeb = directory.requireAgency('cq-eeb');
  let dataDir: string;
  let subgraphs: TestSubgraphs;
  let gateway: RunningService;
  let token: string;

  beforeAll(async () => {
    dataDir = await tempDir('gateway');
    // The key the gateway will sign with (it loads the same file): the test subgraphs verify with its public half.
    const gatewayKeys = await loadOrCreateKeyPair(path.join(dataDir, 'keys'), 'gateway');
    subgraphs = await startTestSubgraphs(dataDir, gatewayKeys.publicKey);
    gateway = await startGateway(gatewayEnv(dataDir, subgraphs, { MAX_REQUEST_BYTES: '1mb' }));
    token = await issueDevToken({ dataDir, agency: scEeb, roles: ['viewer', 'clerk'] });
  });

  afterAll(async () => {
    releaseHangingFields();
    await gateway?.app.close();
    await subgraphs?.stop();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  describe('forwarded identity', () => {
    it('reaches each subgraph signed by the gateway, with the correlation id and a traceparent', async () => {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const answer = await post(
        gateway,
        '{ whoAmI { subject agencyId agencyKind jurisdiction roles } transfer(id: "t-1") { id compensationFen } }',
        {
          token,
          headers: {
            [CORRELATION_HEADER]: 'client-req-42',
            traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
          },
        },
      );

      expect(answer.status).toBe(200);
      expect(answer.body.errors).toBeUndefined();
      expect(answer.body.data).toEqual({
        whoAmI: {
          subject: 'dev-sc-eeb',
          agencyId: 'sc-eeb',
          agencyKind: 'provincial-bureau',
          jurisdiction: '510000',
          roles: ['viewer', 'clerk'],
        },
        transfer: { id: 't-1', compensationFen: 125_000 },
      });
      expect(answer.headers.get(CORRELATION_HEADER)).toBe('client-req-42');
      for (const subgraph of [subgraphs.transfer, subgraphs.compensation]) {
        const seen = subgraph.received.at(-1)!;
        expect(seen.identity).toEqual({
          subject: 'dev-sc-eeb',
          agencyId: 'sc-eeb',
          agencyKind: 'provincial-bureau',
          jurisdiction: '510000',
          roles: ['viewer', 'clerk'],
        });
        expect(seen.headers[CORRELATION_HEADER]).toBe('client-req-42');
        expect(seen.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
        expect(seen.headers.traceparent).not.toContain('00f067aa0ba902b7');
        // The user's own token stays at the gateway.
        expect(seen.headers.authorization).toBeUndefined();
      }
    });

    it('generates a UUIDv7 correlation id when the caller sends none, and returns it', async () => {
      const answer = await post(gateway, '{ accrualCount }', { token });
      const id = answer.headers.get(CORRELATION_HEADER);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(subgraphs.compensation.received.at(-1)!.headers[CORRELATION_HEADER]).toBe(id);
    });

    it('is required by a subgraph called directly, without the gateway', async () => {
      const res = await fetch(subgraphs.transfer.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ whoAmI { agencyId } }' }),
      });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0].extensions.code).toBe('IDENTITY_MISSING');
    });

    it('signed by another key is refused by the subgraph', async () => {
      const other = await generateKeyPair('ES256');
      const forged = await new SignJWT({
        [IDENTITY_CLAIMS.agencyId]: 'sc-eeb',
        [IDENTITY_CLAIMS.agencyKind]: 'provincial-bureau',
        [IDENTITY_CLAIMS.jurisdiction]: '510000',
        [IDENTITY_CLAIMS.roles]: ['approver'],
      })
        .setProtectedHeader({ alg: 'ES256' })
        .setSubject('intruder')
        .setIssuer('lianfang-gateway')
        .setAudience('lianfang-subgraph')
        .setExpirationTime('1m')
        .sign(other.privateKey);
      const res = await fetch(subgraphs.transfer.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: forged },
        body: JSON.stringify({ query: '{ whoAmI { agencyId } }' }),
      });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0].extensions.code).toBe('IDENTITY_INVALID');
    });
  });

  describe('user token', () => {
    const claimsOf = (agency: typeof scEeb) => ({
      [IDENTITY_CLAIMS.agencyId]: agency.id,
      [IDENTITY_CLAIMS.agencyKind]: agency.kind,
      [IDENTITY_CLAIMS.jurisdiction]: agency.jurisdiction,
      [IDENTITY_CLAIMS.roles]: ['viewer'],
    });
    const sign = (key: KeyLike, options: { issuer?: string; expiresAt?: number } = {}): Promise<string> => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT(claimsOf(scEeb))
        .setProtectedHeader({ alg: 'ES256' })
        .setSubject('someone')
        .setIssuer(options.issuer ?? DEV_ISSUER)
        .setAudience(DEV_AUDIENCE)
        .setIssuedAt(now - 3600)
        .setExpirationTime(options.expiresAt ?? now + 600)
        .sign(key);
    };

    async function expectRefused(authorization: string | undefined, code: string) {
      const received = subgraphs.transfer.received.length;
      const answer = await post(gateway, '{ whoAmI { agencyId } }', {
        headers: authorization === undefined ? {} : { authorization },
      });
      expect(answer.status).toBe(401);
      expect(answer.body.data).toBeUndefined();
      expect(answer.body.errors).toHaveLength(1);
      const [error] = answer.body.errors!;
      expect(error.extensions).toMatchObject({
        code,
        messages: { zh: expect.any(String), en: expect.any(String) },
        correlationId: answer.headers.get(CORRELATION_HEADER),
      });
      expect(error.extensions!.stacktrace).toBeUndefined();
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer realm="lianfang"/);
      // Refused at the gateway: no subgraph was asked anything.
      expect(subgraphs.transfer.received.length).toBe(received);
      return error;
    }

    it('missing is refused with 401 TOKEN_MISSING, in both languages', async () => {
      const error = await expectRefused(undefined, 'TOKEN_MISSING');
      expect(error.message).toContain('Authorization');
      expect((error.extensions!.messages as { zh: string }).zh).toMatch(/令牌/);
    });

    it('expired is refused with 401 TOKEN_EXPIRED', async () => {
      const { privateKey } = await devIssuerKeys(dataDir);
      const expired = await sign(privateKey, { expiresAt: Math.floor(Date.now() / 1000) - 120 });
      await expectRefused(`Bearer ${expired}`, 'TOKEN_EXPIRED');
    });

    it('forged (signed by a key the issuer does not have) is refused with 401 TOKEN_INVALID', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      await expectRefused(`Bearer ${await sign(privateKey)}`, 'TOKEN_INVALID');
    });

    it('from another issuer is refused with 401 TOKEN_INVALID', async () => {
      const { privateKey } = await devIssuerKeys(dataDir);
      const foreign = await sign(privateKey, { issuer: 'https://someone-else.example' });
      const error = await expectRefused(`Bearer ${foreign}`, 'TOKEN_INVALID');
      expect(error.extensions!.field).toBe('iss');
    });

    it('that is not a JWT is refused with 401 TOKEN_INVALID', async () => {
      await expectRefused('Bearer not-a-token', 'TOKEN_INVALID');
    });
  });

  describe('a subgraph that is down', () => {
    it('gives the other subgraphs’ data and an error naming the unavailable service', async () => {
      const answer = await post(gateway, '{ whoAmI { agencyId } openCases }', { token });

      expect(answer.status).toBe(200);
      expect(answer.body.data).toEqual({ whoAmI: { agencyId: 'sc-eeb' }, openCases: null });
      expect(answer.body.errors).toHaveLength(1);
      const [error] = answer.body.errors!;
      expect(error.extensions).toMatchObject({
        code: 'SUBGRAPH_UNAVAILABLE',
        service: 'enforcement',
        correlationId: answer.headers.get(CORRELATION_HEADER),
      });
      const messages = error.extensions!.messages as { zh: string; en: string };
      expect(messages.en).toContain('service enforcement is unavailable');
      expect(messages.zh).toContain('服务 enforcement 暂不可用');
      expect(error.extensions!.stacktrace).toBeUndefined();
      expect(JSON.stringify(error)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
    });
  });

  describe('a subgraph that hangs or refuses the gateway', () => {
    it('is reported unavailable after SUBGRAPH_TIMEOUT_MS', async () => {
      const impatient = await startGateway(gatewayEnv(dataDir, subgraphs, { SUBGRAPH_TIMEOUT_MS: '300' }));
      try {
        const answer = await post(impatient, '{ hang }', { token });
        expect(answer.body.data).toEqual({ hang: null });
        expect(answer.body.errors![0].extensions).toMatchObject({
          code: 'SUBGRAPH_UNAVAILABLE',
          service: 'transfer',
        });
      } finally {
        await impatient.app.close();
      }
    });

    it('that does not trust the gateway’s key gives SUBGRAPH_REFUSED, naming the keys', async () => {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const otherKey = JSON.stringify(await exportJWK(privateKey));
      const misconfigured = await startGateway(
        gatewayEnv(dataDir, subgraphs, { GATEWAY_SIGNING_KEY: otherKey }),
      );
      try {
        const answer = await post(misconfigured, '{ whoAmI { agencyId } accrualCount }', { token });
        expect(answer.body.data).toBeNull();
        expect(answer.body.errors!.map((e) => e.extensions!.code)).toEqual([
          'SUBGRAPH_REFUSED',
          'SUBGRAPH_REFUSED',
        ]);
        expect(answer.body.errors![0].message).toContain('GATEWAY_PUBLIC_KEY');
      } finally {
        await misconfigured.app.close();
      }
    });
  });

  describe('limits', () => {
    it('refuses an operation deeper than MAX_QUERY_DEPTH, naming the limit and the depth', async () => {
      // transfer(1) next×10 id = 12 levels
      const deep = `{ transfer(id: "t") { ${'next { '.repeat(10)}id${' }'.repeat(10)} } }`;
      const received = subgraphs.transfer.received.length;
      const answer = await post(gateway, deep, { token });
      expect(answer.status).toBe(400);
      expect(answer.body.errors![0].extensions).toMatchObject({
        code: 'QUERY_TOO_DEEP',
        limit: 10,
        depth: 12,
      });
      expect(answer.body.errors![0].message).toContain('MAX_QUERY_DEPTH');
      expect(subgraphs.transfer.received.length).toBe(received);
    });

    it('accepts an operation at the depth limit', async () => {
      const atLimit = `{ transfer(id: "t") { ${'next { '.repeat(8)}id${' }'.repeat(8)} } }`;
      const answer = await post(gateway, atLimit, { token });
      expect(answer.body.errors).toBeUndefined();
    });

    it('refuses an operation costlier than MAX_QUERY_COMPLEXITY, naming the limit and the cost', async () => {
      const answer = await post(
        gateway,
        'query ($n: Int) { transfers(first: $n) { id wasteCode next { id } } }',
        {
          token,
          variables: { n: 400 },
        },
      );
      expect(answer.status).toBe(400);
      // 1 + 400 × (id + wasteCode + next(1 + id)) = 1 + 400 × 4
      expect(answer.body.errors![0].extensions).toMatchObject({
        code: 'QUERY_TOO_COMPLEX',
        limit: 1000,
        complexity: 1601,
      });
      expect(answer.body.errors![0].message).toContain('MAX_QUERY_COMPLEXITY');
    });

    it('refuses a request body larger than MAX_REQUEST_BYTES with 413', async () => {
      const body = JSON.stringify({ query: `{ accrualCount }`, variables: { pad: 'x'.repeat(1024 * 1024) } });
      const res = await fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
      });
      expect(res.status).toBe(413);
      const answer = (await res.json()) as { errors: { extensions: Record<string, unknown> }[] };
      expect(answer.errors[0].extensions).toMatchObject({
        code: 'REQUEST_TOO_LARGE',
        limit: 1024 * 1024,
        size: Buffer.byteLength(body),
        correlationId: res.headers.get(CORRELATION_HEADER),
      });
    });

    it('counts a body sent without Content-Length as it arrives', async () => {
      const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent === 0) controller.enqueue(new TextEncoder().encode('{"query":"{ accrualCount }","pad":"'));
          if (sent >= 20) return controller.close();
          sent++;
          controller.enqueue(chunk);
        },
      });
      const res = await fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(413);
      const answer = (await res.json()) as { errors: { extensions: Record<string, unknown> }[] };
      expect(answer.errors[0].extensions).toMatchObject({ code: 'REQUEST_TOO_LARGE', limit: 1024 * 1024 });
    });

    it('accepts a body under the limit that Nest’s own parser (100 kb) would refuse', async () => {
      const answer = await post(gateway, '{ accrualCount }', {
        token,
        variables: { pad: 'x'.repeat(300 * 1024) },
      });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ data: { accrualCount: 2 } });
    });

    it('refuses a form-encoded body with 415: the endpoint speaks JSON', async () => {
      const res = await fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${token}` },
        body: 'query=%7B%20accrualCount%20%7D',
      });
      expect(res.status).toBe(415);
      const answer = (await res.json()) as { errors: { extensions: Record<string, unknown> }[] };
      expect(answer.errors[0].extensions.code).toBe('REQUEST_MALFORMED');
    });

    it('answers a body that is not JSON with 400 REQUEST_MALFORMED', async () => {
      const res = await fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: '{"query": ',
      });
      expect(res.status).toBe(400);
      const answer = (await res.json()) as { errors: { extensions: Record<string, unknown> }[] };
      expect(answer.errors[0].extensions.code).toBe('REQUEST_MALFORMED');
    });
  });

  describe('outside production', () => {
    it('answers introspection (not counted against the depth limit)', async () => {
      const answer = await post(
        gateway,
        '{ __schema { types { name fields { name type { name ofType { name ofType { name ofType { name ofType { name ofType { name ofType { name ofType { name } } } } } } } } } } } }',
        { token },
      );
      expect(answer.body.errors).toBeUndefined();
      expect(JSON.stringify(answer.body.data)).toContain('Transfer');
    });

    it('serves the sandbox landing page to a browser', async () => {
      const res = await fetch(`${gateway.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/sandbox/i);
    });

    it('shows an unexpected error’s message (development)', async () => {
      const answer = await post(gateway, '{ boom }', { token });
      expect(answer.body.errors![0].message).toContain('connection refused');
    });
  });

  describe('rate limit (per agency, per gateway instance)', () => {
    let limited: RunningService;
    beforeAll(async () => {
      limited = await startGateway(gatewayEnv(dataDir, subgraphs, { RATE_LIMIT_PER_MINUTE: '3' }));
    });
    afterAll(async () => {
      await limited?.app.close();
    });

    it('refuses an agency over its allowance with 429 RATE_LIMITED and retryAfterSeconds; other agencies go on', async () => {
      for (let i = 0; i < 3; i++) {
        const ok = await post(limited, '{ accrualCount }', { token });
        expect(ok.status).toBe(200);
      }
      const refused = await post(limited, '{ accrualCount }', { token });
      expect(refused.status).toBe(429);
      const error = refused.body.errors![0];
      expect(error.extensions).toMatchObject({ code: 'RATE_LIMITED', agencyId: 'sc-eeb' });
      const retryAfter = error.extensions!.retryAfterSeconds as number;
      // 3 per minute refill one request every 20 s
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(20);
      expect(refused.headers.get('retry-after')).toBe(String(retryAfter));
      expect(error.message).toContain('per gateway instance');

      const other = await post(limited, '{ accrualCount }', {
        token: await issueDevToken({ dataDir, agency: cqEeb }),
      });
      expect(other.status).toBe(200);
    });
  });

  describe('in production', () => {
    let production: RunningService;
    beforeAll(async () => {
      const jwksFile = path.join(dataDir, 'issuer-jwks.json');
      await fs.writeFile(jwksFile, JSON.stringify(await devIssuerJwks(dataDir)));
      const signingKey = await fs.readFile(path.join(dataDir, 'keys', 'gateway.private.jwk.json'), 'utf8');
      production = await startGateway(
        gatewayEnv(path.join(dataDir, 'unused'), subgraphs, {
          NODE_ENV: 'production',
          AUTH_ISSUER: DEV_ISSUER,
          AUTH_JWKS_FILE: jwksFile,
          GATEWAY_SIGNING_KEY: signingKey,
        }),
      );
    });
    afterAll(async () => {
      await production?.app.close();
    });

    it('masks an unexpected error behind the correlation id, without a stack trace', async () => {
      const answer = await post(production, '{ whoAmI { agencyId } boom }', { token });
      expect(answer.status).toBe(200);
      expect(answer.body.data).toEqual({ whoAmI: { agencyId: 'sc-eeb' }, boom: null });
      const correlationId = answer.headers.get(CORRELATION_HEADER)!;
      const [error] = answer.body.errors!;
      expect(error.extensions).toEqual({
        code: 'INTERNAL_SERVER_ERROR',
        messages: { zh: expect.stringContaining(correlationId), en: expect.stringContaining(correlationId) },
        correlationId,
      });
      expect(error.message).toContain(correlationId);
      expect(JSON.stringify(answer.body)).not.toContain('hunter2');
      expect(JSON.stringify(answer.body)).not.toContain(SECRET);
    });

    it('still shows the gateway’s own errors, without stack traces', async () => {
      const answer = await post(production, '{ whoAmI { agencyId } openCases }', { token });
      expect(answer.body.errors![0].extensions).toMatchObject({
        code: 'SUBGRAPH_UNAVAILABLE',
        service: 'enforcement',
      });
      expect(answer.body.errors![0].extensions!.stacktrace).toBeUndefined();
      const refused = await post(production, '{ accrualCount }');
      expect(refused.status).toBe(401);
      expect(refused.body.errors![0].extensions!.stacktrace).toBeUndefined();
    });

    it('refuses introspection', async () => {
      const answer = await post(production, '{ __schema { types { name } } }', { token });
      expect(answer.status).toBe(400);
      expect(answer.body.errors![0].extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(answer.body.errors![0].message).toMatch(/introspection/i);
    });

    it('serves no sandbox', async () => {
      const res = await fetch(`${production.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await res.text()).not.toMatch(/sandbox/i);
    });

    it('signs with the key given in GATEWAY_SIGNING_KEY (the subgraphs accept it), creating no key files', async () => {
      const answer = await post(production, '{ whoAmI { agencyId } }', { token });
      expect(answer.body).toEqual({ data: { whoAmI: { agencyId: 'sc-eeb' } } });
      await expect(fs.stat(path.join(dataDir, 'unused'))).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });
});
