import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  type KeyLike,
} from 'jose';
import type { AgencyDirectory } from '../directory/directory';
import { AuthenticationError } from '../errors';
import { identityFromClaims } from '../forwarded/forwarded-identity';
import { IDENTITY_CLAIMS, type Identity } from '../identity';

/** Where the issuer's public keys come from: its JWKS endpoint, a JWKS in hand, or one key. */
export type UserTokenKeys = { jwksUrl: string } | { jwks: JSONWebKeySet } | { publicKey: KeyLike };

export interface UserTokenVerifierOptions {
  /** Expected `iss`. */
  issuer: string;
  /** Expected `aud`. */
  audience: string;
  keys: UserTokenKeys;
  /** Tokens are checked against it: the agency must exist, with that kind, jurisdiction and roles. */
  directory: AgencyDirectory;
  /** Clock skew allowed between issuer and verifier for exp/nbf; default 30 s. */
  clockToleranceSeconds?: number;
}

export interface UserTokenVerifier {
  /**
   * The identity of an `Authorization: Bearer <token>` header, or throws `AuthenticationError` with
   * TOKEN_MISSING, TOKEN_EXPIRED, TOKEN_INVALID, TOKEN_CLAIMS_INVALID, AGENCY_UNKNOWN, AGENCY_MISMATCH,
   * ROLE_NOT_GRANTED or ISSUER_UNAVAILABLE (the JWKS endpoint could not be fetched).
   */
  verify(authorization: string | undefined): Promise<Identity>;
}

export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;

/** Verifies the user tokens of an external issuer (ES256 only) and checks them against the directory. */
export function createUserTokenVerifier(options: UserTokenVerifierOptions): UserTokenVerifier {
  const { issuer, audience, directory } = options;
  const getKey = keySource(options.keys);
  const clockTolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  return {
    async verify(authorization) {
      const token = bearerToken(authorization);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          issuer,
          audience,
          algorithms: ['ES256'],
          clockTolerance,
          requiredClaims: ['exp'],
        }));
      } catch (e) {
        throw tokenError(e, issuer, audience);
      }
      const identity = identityFromClaims(payload);
      checkAgainstDirectory(identity, directory);
      return identity;
    },
  };
}

function keySource(keys: UserTokenKeys): JWTVerifyGetKey {
  if ('jwksUrl' in keys) {
    let url: URL;
    try {
      url = new URL(keys.jwksUrl);
    } catch {
      throw new Error(
        `JWKS 地址无效：${keys.jwksUrl}（须为 http(s) URL） / invalid JWKS URL: ${keys.jwksUrl} (must be an http(s) URL)`,
      );
    }
    return createRemoteJWKSet(url);
  }
  if ('jwks' in keys) return createLocalJWKSet(keys.jwks);
  const { publicKey } = keys;
  return async () => publicKey;
}

function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '')
    throw new AuthenticationError(
      'TOKEN_MISSING',
      '缺少登录令牌：请在 Authorization 头中提供 Bearer 令牌（开发环境可用 npm run -s token -- --agency <机构标识> 获取）',
      'no token: send Authorization: Bearer <token> (in development, get one with npm run -s token -- --agency <agency id>)',
      'authorization',
    );
  const match = /^Bearer[ \t]+([^\s]+)\s*$/i.exec(authorization.trim());
  if (!match)
    throw new AuthenticationError(
      'TOKEN_INVALID',
      'Authorization 头须为 "Bearer <令牌>"',
      'the Authorization header must be "Bearer <token>"',
      'authorization',
    );
  return match[1];
}

function tokenError(e: unknown, issuer: string, audience: string): AuthenticationError {
  const invalid = (zh: string, en: string, field?: string) =>
    new AuthenticationError('TOKEN_INVALID', zh, en, field);
  if (e instanceof errors.JWTExpired)
    return new AuthenticationError(
      'TOKEN_EXPIRED',
      '令牌已过期，请重新登录获取新令牌',
      'the token has expired: sign in again for a new one',
      'exp',
    );
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.reason === 'missing')
      return new AuthenticationError(
        'TOKEN_CLAIMS_INVALID',
        `令牌缺少声明 ${e.claim}`,
        `the token lacks the ${e.claim} claim`,
        e.claim,
      );
    if (e.claim === 'iss')
      return invalid(
        `令牌不是受信任的签发方 ${issuer} 签发的`,
        `the token was not issued by the trusted issuer ${issuer}`,
        'iss',
      );
    if (e.claim === 'aud')
      return invalid(`令牌的受众不是 ${audience}`, `the token's audience is not ${audience}`, 'aud');
    if (e.claim === 'nbf')
      return invalid(
        '令牌尚未生效（nbf 在将来）',
        'the token is not valid yet (nbf is in the future)',
        'nbf',
      );
    return invalid(
      `令牌声明 ${e.claim} 无效`,
      `the token's ${e.claim} claim is invalid (${e.reason})`,
      e.claim,
    );
  }
  if (e instanceof errors.JOSEAlgNotAllowed)
    return invalid(
      '令牌签名算法不被接受：只接受 ES256',
      'the token signing algorithm is not accepted: only ES256 is',
      'alg',
    );
  if (e instanceof errors.JWSSignatureVerificationFailed || e instanceof errors.JWKSNoMatchingKey)
    return invalid(
      '令牌签名无效：不是受信任的签发方密钥签发的',
      "the token's signature is invalid: it was not signed by the trusted issuer's key",
    );
  // a generic JOSEError comes from fetching the JWKS (non-200 response, body not JSON)
  if (
    e instanceof errors.JWKSTimeout ||
    e instanceof errors.JWKSInvalid ||
    !(e instanceof errors.JOSEError) ||
    e.code === errors.JOSEError.code
  )
    return new AuthenticationError(
      'ISSUER_UNAVAILABLE',
      `暂时无法取得签发方公钥，请稍后重试（${(e as Error).message}）`,
      `the issuer's public keys cannot be fetched right now; try again later (${(e as Error).message})`,
    );
  return invalid(`令牌格式无效（${e.message}）`, `the token is malformed (${e.message})`);
}

function checkAgainstDirectory(identity: Identity, directory: AgencyDirectory): void {
  const agency = directory.requireAgency(identity.agencyId);
  const mismatch = (claim: string, claimed: string, listed: string) =>
    new AuthenticationError(
      'AGENCY_MISMATCH',
      `令牌声明 ${claim} 为 ${claimed}，但机构名录中 ${agency.id} 为 ${listed}`,
      `token claim ${claim} says ${claimed}, but the directory lists ${agency.id} as ${listed}`,
      claim,
    );
  if (identity.agencyKind !== agency.kind)
    throw mismatch(IDENTITY_CLAIMS.agencyKind, identity.agencyKind, agency.kind);
  if (identity.jurisdiction !== agency.jurisdiction)
    throw mismatch(IDENTITY_CLAIMS.jurisdiction, identity.jurisdiction, agency.jurisdiction);
  const notGranted = identity.roles.filter((r) => !agency.roles.includes(r));
  if (notGranted.length > 0)
    throw new AuthenticationError(
      'ROLE_NOT_GRANTED',
      `机构 ${agency.id} 的人员不能担任角色 ${notGranted.join('、')}（可担任：${agency.roles.join('、')}）`,
      `staff of ${agency.id} cannot hold role(s) ${notGranted.join(', ')} (they may hold: ${agency.roles.join(', ')})`,
      IDENTITY_CLAIMS.roles,
    );
}
