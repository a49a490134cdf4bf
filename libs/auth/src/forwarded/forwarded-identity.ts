import { jwtVerify, SignJWT, type KeyLike } from 'jose';
import {
  AGENCY_KINDS,
  FORWARDED_IDENTITY_AUDIENCE,
  FORWARDED_IDENTITY_ISSUER,
  IDENTITY_CLAIMS,
  ROLES,
  type AgencyKind,
  type Identity,
  type Role,
} from '../identity';
import { AuthenticationError } from '../errors';

/**
 * The gateway re-signs the identity it verified and sends it to each subgraph in `x-lianfang-identity`;
 * a subgraph accepts a request only with that token, so calling a subgraph directly gets nothing.
 * Short-lived: it covers one request's fan-out, not a session.
 */
export interface IdentitySigner {
  sign(identity: Identity, options?: { correlationId?: string }): Promise<string>;
}

export interface ForwardedIdentityVerifier {
  /** The identity, or throws `AuthenticationError` (IDENTITY_MISSING / IDENTITY_INVALID). */
  verify(token: string | undefined): Promise<Identity>;
}

export const FORWARDED_IDENTITY_TTL_SECONDS = 60;

export function createIdentitySigner(privateKey: KeyLike, keyId?: string): IdentitySigner {
  return {
    async sign(identity, options = {}) {
      return new SignJWT({
        [IDENTITY_CLAIMS.agencyId]: identity.agencyId,
        [IDENTITY_CLAIMS.agencyKind]: identity.agencyKind,
        [IDENTITY_CLAIMS.jurisdiction]: identity.jurisdiction,
        [IDENTITY_CLAIMS.roles]: [...identity.roles],
        ...(options.correlationId ? { correlation_id: options.correlationId } : {}),
      })
        .setProtectedHeader({ alg: 'ES256', ...(keyId ? { kid: keyId } : {}) })
        .setSubject(identity.subject)
        .setIssuer(FORWARDED_IDENTITY_ISSUER)
        .setAudience(FORWARDED_IDENTITY_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${FORWARDED_IDENTITY_TTL_SECONDS}s`)
        .sign(privateKey);
    },
  };
}

export function createForwardedIdentityVerifier(publicKey: KeyLike): ForwardedIdentityVerifier {
  return {
    async verify(token) {
      if (!token)
        throw new AuthenticationError(
          'IDENTITY_MISSING',
          '请求缺少网关签发的身份：请通过网关访问',
          'the request carries no gateway-signed identity: call the platform through the gateway',
        );
      try {
        const { payload } = await jwtVerify(token, publicKey, {
          issuer: FORWARDED_IDENTITY_ISSUER,
          audience: FORWARDED_IDENTITY_AUDIENCE,
          algorithms: ['ES256'],
        });
        return identityFromClaims(payload);
      } catch (e) {
        if (e instanceof AuthenticationError) throw e;
        throw new AuthenticationError(
          'IDENTITY_INVALID',
          '网关签发的身份无效或已过期',
          `the gateway-signed identity is invalid or expired (${(e as Error).message})`,
        );
      }
    },
  };
}

/** Reads and checks the identity claims shared by user tokens and forwarded tokens. */
export function identityFromClaims(payload: Record<string, unknown>): Identity {
  const bad = (claim: string, rule: string) =>
    new AuthenticationError(
      'TOKEN_CLAIMS_INVALID',
      `令牌声明 ${claim} 无效：${rule}`,
      `token claim ${claim} is invalid: ${rule}`,
      claim,
    );
  const subject = payload.sub;
  const agencyId = payload[IDENTITY_CLAIMS.agencyId];
  const agencyKind = payload[IDENTITY_CLAIMS.agencyKind];
  const jurisdiction = payload[IDENTITY_CLAIMS.jurisdiction];
  const roles = payload[IDENTITY_CLAIMS.roles];
  if (typeof subject !== 'string' || subject === '') throw bad('sub', 'a non-empty string');
  if (typeof agencyId !== 'string' || agencyId === '')
    throw bad(IDENTITY_CLAIMS.agencyId, 'a non-empty string');
  if (typeof agencyKind !== 'string' || !(AGENCY_KINDS as readonly string[]).includes(agencyKind))
    throw bad(IDENTITY_CLAIMS.agencyKind, `one of ${AGENCY_KINDS.join(', ')}`);
  if (typeof jurisdiction !== 'string' || !/^\d{6}$/.test(jurisdiction))
    throw bad(IDENTITY_CLAIMS.jurisdiction, 'a six-digit GB/T 2260 code');
  if (
    !Array.isArray(roles) ||
    roles.length === 0 ||
    !roles.every((r) => typeof r === 'string' && (ROLES as readonly string[]).includes(r))
  )
    throw bad(IDENTITY_CLAIMS.roles, `a non-empty list of ${ROLES.join(', ')}`);
  return {
    subject,
    agencyId,
    agencyKind: agencyKind as AgencyKind,
    jurisdiction,
    roles: [...new Set(roles as Role[])],
  };
}
