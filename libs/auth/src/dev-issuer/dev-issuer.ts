import * as path from 'node:path';
import { SignJWT, type JSONWebKeySet } from 'jose';
import type { DirectoryAgency } from '../directory/directory';
import { IDENTITY_CLAIMS, ROLES, type Role } from '../identity';
import { loadOrCreateKeyPair, type KeyPair } from '../keys/keys';

/**
 * The development stand-in for the real identity provider: it signs user tokens for any agency of the
 * directory with a key kept under DATA_DIR/keys. The embedded gateway trusts it (through
 * `devIssuerJwks`); a production gateway trusts the real issuer instead.
 */
export const DEV_ISSUER = 'https://dev-issuer.lianfang.local';
export const DEV_AUDIENCE = 'lianfang';
export const DEV_TOKEN_TTL_SECONDS = 12 * 60 * 60;
/** A development token never outlives a month, so a leaked one does not stay useful. */
export const DEV_TOKEN_MAX_TTL_SECONDS = 31 * 24 * 60 * 60;
export const DEV_ISSUER_KEY_NAME = 'dev-issuer';

export class DevTokenError extends Error {
  readonly kind = 'dev-token' as const;
  constructor(
    readonly code: 'ROLE_NOT_GRANTED' | 'ROLES_EMPTY' | 'TTL_INVALID' | 'SUBJECT_INVALID',
    readonly zh: string,
    readonly en: string,
    readonly field: 'roles' | 'ttlSeconds' | 'subject',
  ) {
    super(`${en} / ${zh}`);
    this.name = 'DevTokenError';
  }
}

/** The dev issuer's key pair: `${dataDir}/keys/dev-issuer.{private,public}.jwk.json`, created on first use. */
export function devIssuerKeys(dataDir: string): Promise<KeyPair> {
  return loadOrCreateKeyPair(path.join(dataDir, 'keys'), DEV_ISSUER_KEY_NAME);
}

/** The JWKS a gateway trusts to accept dev tokens. */
export async function devIssuerJwks(dataDir: string): Promise<JSONWebKeySet> {
  const { publicJwk } = await devIssuerKeys(dataDir);
  return { keys: [publicJwk] };
}

export interface IssueDevTokenOptions {
  dataDir: string;
  agency: DirectoryAgency;
  /** The person (`sub`); default `dev-<agency id>`. */
  subject?: string;
  /** A subset of the agency's roles; default all of them. */
  roles?: readonly Role[];
  /** Default 12 hours. */
  ttlSeconds?: number;
}

/** A user token for `agency`, as the real issuer would sign it (ES256, the claims of IDENTITY_CLAIMS). */
export async function issueDevToken(options: IssueDevTokenOptions): Promise<string> {
  const { agency } = options;
  const subject = options.subject ?? `dev-${agency.id}`;
  if (subject.trim() === '' || subject.length > 200)
    throw new DevTokenError(
      'SUBJECT_INVALID',
      '用户标识须为 1–200 个字符',
      'the subject must have 1–200 characters',
      'subject',
    );
  const roles = [...new Set(options.roles ?? agency.roles)];
  if (roles.length === 0)
    throw new DevTokenError('ROLES_EMPTY', '至少需要一个角色', 'at least one role is needed', 'roles');
  const notGranted = roles.filter((r) => !agency.roles.includes(r) || !ROLES.includes(r));
  if (notGranted.length > 0)
    throw new DevTokenError(
      'ROLE_NOT_GRANTED',
      `机构 ${agency.id} 的人员不能担任角色 ${notGranted.join('、')}（可担任：${agency.roles.join('、')}）`,
      `staff of ${agency.id} cannot hold role(s) ${notGranted.join(', ')} (they may hold: ${agency.roles.join(', ')})`,
      'roles',
    );
  const ttl = options.ttlSeconds ?? DEV_TOKEN_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > DEV_TOKEN_MAX_TTL_SECONDS)
    throw new DevTokenError(
      'TTL_INVALID',
      `有效期须为 1 至 ${DEV_TOKEN_MAX_TTL_SECONDS} 秒之间的整数`,
      `the lifetime must be a whole number of seconds from 1 to ${DEV_TOKEN_MAX_TTL_SECONDS}`,
      'ttlSeconds',
    );
  const { privateKey, kid } = await devIssuerKeys(options.dataDir);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    [IDENTITY_CLAIMS.agencyId]: agency.id,
    [IDENTITY_CLAIMS.agencyKind]: agency.kind,
    [IDENTITY_CLAIMS.jurisdiction]: agency.jurisdiction,
    [IDENTITY_CLAIMS.roles]: roles,
  })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setSubject(subject)
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + ttl)
    .sign(privateKey);
}
