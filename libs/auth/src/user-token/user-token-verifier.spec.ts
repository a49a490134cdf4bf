import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  SignJWT,
  UnsecuredJWT,
  type JSONWebKeySet,
  type KeyLike,
} from 'jose';
import { loadDirectory } from '../directory/directory';
import { AuthenticationError } from '../errors';
import { createUserTokenVerifier, type UserTokenKeys } from './user-token-verifier';

const directory = loadDirectory(path.resolve(__dirname, '../../../../config/directory/demo-region.json'));
const ISSUER = 'https://idp.example.gov.cn';
const AUDIENCE = 'lianfang';
const now = () => Math.floor(Date.now() / 1000);

const claims = {
  agency_id: 'sc-eeb',
  agency_kind: 'provincial-bureau',
  jurisdiction: '510000',
  roles: ['reviewer', 'approver'],
};

let issuer: { privateKey: KeyLike; publicKey: KeyLike; kid: string; jwks: JSONWebKeySet };
let forger: { privateKey: KeyLike };

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  issuer = { ...pair, kid, jwks: { keys: [{ ...jwk, kid, alg: 'ES256', use: 'sig' }] } };
  forger = await generateKeyPair('ES256');
});

interface TokenOptions {
  payload?: Record<string, unknown>;
  key?: KeyLike;
  kid?: string;
  issuer?: string;
  audience?: string;
  exp?: number | null;
  nbf?: number;
}

function token(options: TokenOptions = {}): Promise<string> {
  const jwt = new SignJWT({ ...claims, ...options.payload })
    .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? issuer.kid })
    .setSubject('zhang.wei')
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt(now() - 60);
  if (options.exp !== null) jwt.setExpirationTime(options.exp ?? now() + 600);
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(options.key ?? issuer.privateKey);
}

function verifier(keys: UserTokenKeys = { publicKey: issuer.publicKey }, clockToleranceSeconds?: number) {
  return createUserTokenVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys,
    directory,
    clockToleranceSeconds,
  });
}

async function refusal(promise: Promise<unknown>): Promise<AuthenticationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthenticationError);
  const auth = error as AuthenticationError;
  expect(auth.zh).toMatch(/[\u4e00-\u9fff]/);
  expect(auth.en).toMatch(/[a-z]/);
  return auth;
}

describe('user token verifier', () => {
  it('returns the identity of a valid token', async () => {
    await expect(verifier().verify(`Bearer ${await token()}`)).resolves.toEqual({
      subject: 'zhang.wei',
      agencyId: 'sc-eeb',
      agencyKind: 'provincial-bureau',
      jurisdiction: '510000',
      roles: ['reviewer', 'approver'],
    });
  });

  it('accepts the scheme in any case and surrounding spaces', async () => {
    await expect(verifier().verify(`  bearer   ${await token()} `)).resolves.toMatchObject({
      agencyId: 'sc-eeb',
    });
  });

  it.each([undefined, '', '   '])('refuses a missing token (%j) with TOKEN_MISSING', async (header) => {
    const error = await refusal(verifier().verify(header));
    expect(error.code).toBe('TOKEN_MISSING');
    expect(error.en).toContain('npm run -s token');
  });

  it.each(['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b'])(
    'refuses the header %j with TOKEN_INVALID',
    async (header) => {
      expect(await refusal(verifier().verify(header))).toMatchObject({
        code: 'TOKEN_INVALID',
        field: 'authorization',
      });
    },
  );

  it('refuses a token that is not a JWT', async () => {
    expect((await refusal(verifier().verify('Bearer not.a.jwt'))).code).toBe('TOKEN_INVALID');
  });

  it('refuses a token forged with another key', async () => {
    const forged = await token({ key: forger.privateKey });
    expect((await refusal(verifier().verify(`Bearer ${forged}`))).code).toBe('TOKEN_INVALID');
  });

  it('refuses a token whose payload was altered after signing', async () => {
    const [header, , signature] = (await token()).split('.');
    const payload = Buffer.from(
      JSON.stringify({ ...claims, roles: ['admin'], sub: 'x', iss: ISSUER, aud: AUDIENCE, exp: now() + 600 }),
    ).toString('base64url');
    expect((await refusal(verifier().verify(`Bearer ${header}.${payload}.${signature}`))).code).toBe(
      'TOKEN_INVALID',
    );
  });

  it('refuses an expired token with TOKEN_EXPIRED, allowing the configured clock skew', async () => {
    const expired = await token({ exp: now() - 10 });
    await expect(verifier().verify(`Bearer ${expired}`)).resolves.toMatchObject({ agencyId: 'sc-eeb' });
    expect(await refusal(verifier(undefined, 0).verify(`Bearer ${expired}`))).toMatchObject({
      code: 'TOKEN_EXPIRED',
      field: 'exp',
    });
    const long = await token({ exp: now() - 3600 });
    expect((await refusal(verifier().verify(`Bearer ${long}`))).code).toBe('TOKEN_EXPIRED');
  });

  it('refuses a token without expiry', async () => {
    expect(await refusal(verifier().verify(`Bearer ${await token({ exp: null })}`))).toMatchObject({
      code: 'TOKEN_CLAIMS_INVALID',
      field: 'exp',
    });
  });

  it('refuses a token not valid yet', async () => {
    expect(await refusal(verifier().verify(`Bearer ${await token({ nbf: now() + 3600 })}`))).toMatchObject({
      code: 'TOKEN_INVALID',
      field: 'nbf',
    });
  });

  it.each([
    ['issuer', { issuer: 'https://evil.example' }, 'iss'],
    ['audience', { audience: 'someone-else' }, 'aud'],
  ])('refuses a token for the wrong %s', async (_label, options, field) => {
    expect(await refusal(verifier().verify(`Bearer ${await token(options)}`))).toMatchObject({
      code: 'TOKEN_INVALID',
      field,
    });
  });

  it('refuses an unsigned token (alg none)', async () => {
    const unsigned = new UnsecuredJWT({ ...claims })
      .setSubject('zhang.wei')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('10m')
      .encode();
    expect(await refusal(verifier().verify(`Bearer ${unsigned}`))).toMatchObject({
      code: 'TOKEN_INVALID',
      field: 'alg',
    });
  });

  it('refuses an HS256 token, even one keyed with the public key bytes', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(issuer.jwks.keys[0]));
    const hs = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('zhang.wei')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('10m')
      .sign(secret);
    for (const keys of [{ publicKey: issuer.publicKey }, { jwks: issuer.jwks }])
      expect(await refusal(verifier(keys).verify(`Bearer ${hs}`))).toMatchObject({
        code: 'TOKEN_INVALID',
        field: 'alg',
      });
  });

  it('refuses malformed identity claims, naming the claim', async () => {
    expect(
      await refusal(verifier().verify(`Bearer ${await token({ payload: { roles: [] } })}`)),
    ).toMatchObject({
      code: 'TOKEN_CLAIMS_INVALID',
      field: 'roles',
    });
  });

  it('refuses an agency the directory does not list', async () => {
    const unknown = await token({ payload: { agency_id: 'xz-eeb' } });
    expect(await refusal(verifier().verify(`Bearer ${unknown}`))).toMatchObject({
      code: 'AGENCY_UNKNOWN',
      field: 'agency_id',
    });
  });

  it.each([
    ['agency_kind', { agency_kind: 'municipal-bureau' }],
    ['jurisdiction', { jurisdiction: '510100' }],
  ])('refuses a token whose %s contradicts the directory', async (field, payload) => {
    const error = await refusal(verifier().verify(`Bearer ${await token({ payload })}`));
    expect(error).toMatchObject({ code: 'AGENCY_MISMATCH', field });
    expect(error.en).toContain(field);
  });

  it('refuses roles the agency does not grant, naming them', async () => {
    const transport = {
      agency_id: 'sc-transport',
      agency_kind: 'transport-department',
      jurisdiction: '510000',
    };
    const ok = await token({ payload: { ...transport, roles: ['viewer'] } });
    await expect(verifier().verify(`Bearer ${ok}`)).resolves.toMatchObject({ roles: ['viewer'] });
    const error = await refusal(
      verifier().verify(
        `Bearer ${await token({ payload: { ...transport, roles: ['viewer', 'approver'] } })}`,
      ),
    );
    expect(error).toMatchObject({ code: 'ROLE_NOT_GRANTED', field: 'roles' });
    expect(error.en).toContain('approver');
  });

  it('verifies against a JWKS in hand, refusing a key id it does not hold', async () => {
    const keys = { jwks: issuer.jwks };
    await expect(verifier(keys).verify(`Bearer ${await token()}`)).resolves.toMatchObject({
      agencyId: 'sc-eeb',
    });
    const forged = await token({ key: forger.privateKey, kid: 'forger' });
    expect((await refusal(verifier(keys).verify(`Bearer ${forged}`))).code).toBe('TOKEN_INVALID');
    const sameKid = await token({ key: forger.privateKey });
    expect((await refusal(verifier(keys).verify(`Bearer ${sameKid}`))).code).toBe('TOKEN_INVALID');
  });

  it('refuses to start with a JWKS URL that is not a URL', () => {
    expect(() => verifier({ jwksUrl: 'not a url' })).toThrow(/JWKS/);
  });
});

describe('user token verifier with a JWKS endpoint', () => {
  let server: Server;
  let url: string;
  let requests = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests++;
      if (req.url !== '/.well-known/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(issuer.jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('fetches the keys over HTTP and verifies tokens with them', async () => {
    const v = verifier({ jwksUrl: url });
    await expect(v.verify(`Bearer ${await token()}`)).resolves.toMatchObject({ agencyId: 'sc-eeb' });
    await expect(
      v.verify(`Bearer ${await token({ payload: { roles: ['viewer'] } })}`),
    ).resolves.toMatchObject({ roles: ['viewer'] });
    expect(requests).toBeGreaterThanOrEqual(1);
  });

  it('refuses a forged token', async () => {
    const forged = await token({ key: forger.privateKey });
    expect((await refusal(verifier({ jwksUrl: url }).verify(`Bearer ${forged}`))).code).toBe('TOKEN_INVALID');
  });

  it('reports ISSUER_UNAVAILABLE when the endpoint cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await refusal(
      verifier({ jwksUrl: `http://127.0.0.1:${port}/jwks.json` }).verify(`Bearer ${await token()}`),
    );
    expect(error.code).toBe('ISSUER_UNAVAILABLE');
  });

  it('reports ISSUER_UNAVAILABLE when the endpoint does not serve a JWKS', async () => {
    const error = await refusal(
      verifier({ jwksUrl: url.replace('jwks.json', 'nothing') }).verify(`Bearer ${await token()}`),
    );
    expect(error.code).toBe('ISSUER_UNAVAILABLE');
  });
});
