import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { loadDirectory } from '../directory/directory';
import { createUserTokenVerifier } from '../user-token/user-token-verifier';
import {
  DEV_AUDIENCE,
  DEV_ISSUER,
  DEV_TOKEN_TTL_SECONDS,
  DevTokenError,
  devIssuerJwks,
  devIssuerKeys,
  issueDevToken,
} from './dev-issuer';

const directory = loadDirectory(path.resolve(__dirname, '../../../../config/directory/demo-region.json'));
let dataDir: string;

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lianfang-dev-issuer-'));
});
afterAll(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

describe('dev issuer', () => {
  it('issues a token the gateway accepts when it trusts the dev issuer JWKS', async () => {
    const token = await issueDevToken({ dataDir, agency: directory.requireAgency('cd-eeb') });
    const verifier = createUserTokenVerifier({
      issuer: DEV_ISSUER,
      audience: DEV_AUDIENCE,
      keys: { jwks: await devIssuerJwks(dataDir) },
      directory,
    });
    await expect(verifier.verify(`Bearer ${token}`)).resolves.toEqual({
      subject: 'dev-cd-eeb',
      agencyId: 'cd-eeb',
      agencyKind: 'municipal-bureau',
      jurisdiction: '510100',
      roles: ['viewer', 'clerk', 'reviewer', 'approver', 'admin'],
    });
  });

  it('keeps its key under DATA_DIR/keys and names it in the token header', async () => {
    const token = await issueDevToken({ dataDir, agency: directory.requireAgency('sc-eeb') });
    const { kid } = await devIssuerKeys(dataDir);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', kid });
    expect((await devIssuerJwks(dataDir)).keys.map((k) => k.kid)).toEqual([kid]);
    expect((await fs.readdir(path.join(dataDir, 'keys'))).sort()).toEqual([
      'dev-issuer.private.jwk.json',
      'dev-issuer.public.jwk.json',
    ]);
  });

  it('lasts 12 hours by default, or as asked', async () => {
    const agency = directory.requireAgency('cq-yuhuan-disposal');
    const standard = decodeJwt(await issueDevToken({ dataDir, agency }));
    expect(standard.exp! - standard.iat!).toBe(DEV_TOKEN_TTL_SECONDS);
    expect(DEV_TOKEN_TTL_SECONDS).toBe(43_200);
    const short = decodeJwt(await issueDevToken({ dataDir, agency, ttlSeconds: 90 }));
    expect(short.exp! - short.iat!).toBe(90);
  });

  it('carries the chosen subject and a subset of the roles', async () => {
    const payload = decodeJwt(
      await issueDevToken({
        dataDir,
        agency: directory.requireAgency('sc-finance'),
        subject: 'li.na',
        roles: ['viewer', 'approver', 'viewer'],
      }),
    );
    expect(payload).toMatchObject({
      sub: 'li.na',
      iss: DEV_ISSUER,
      aud: DEV_AUDIENCE,
      agency_id: 'sc-finance',
      agency_kind: 'finance-office',
      jurisdiction: '510000',
      roles: ['viewer', 'approver'],
    });
  });

  it.each([
    [
      'a role the agency does not grant',
      { roles: ['viewer', 'reviewer'] as const },
      'ROLE_NOT_GRANTED',
      'roles',
    ],
    ['no roles', { roles: [] as const }, 'ROLES_EMPTY', 'roles'],
    ['a zero lifetime', { ttlSeconds: 0 }, 'TTL_INVALID', 'ttlSeconds'],
    ['a lifetime over a month', { ttlSeconds: 32 * 86_400 }, 'TTL_INVALID', 'ttlSeconds'],
    ['a fractional lifetime', { ttlSeconds: 1.5 }, 'TTL_INVALID', 'ttlSeconds'],
    ['an empty subject', { subject: ' ' }, 'SUBJECT_INVALID', 'subject'],
  ])('refuses %s', async (_label, options, code, field) => {
    const error = await issueDevToken({
      dataDir,
      agency: directory.requireAgency('sc-finance'),
      ...options,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DevTokenError);
    expect(error).toMatchObject({ code, field });
    expect((error as DevTokenError).zh).toMatch(/[\u4e00-\u9fff]/);
  });
});
