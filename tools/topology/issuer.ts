import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';

/**
 * A stand-in for the organisation's identity provider: an ES256 key whose JWKS is served over HTTP
 * (AUTH_JWKS_URL) and written to a file (AUTH_JWKS_FILE), and user tokens signed with it.
 */
export interface UserClaims {
  readonly sub: string;
  readonly agency_id: string;
  readonly agency_kind: string;
  readonly jurisdiction: string;
  readonly roles: readonly string[];
}

export interface TokenOptions {
  /** Seconds from now; negative for a token that has already expired. Default 300. */
  readonly expiresInSeconds?: number;
  readonly issuer?: string;
  readonly audience?: string;
}

export interface TestIssuer {
  /** AUTH_ISSUER */
  readonly issuer: string;
  /** AUTH_AUDIENCE */
  readonly audience: string;
  /** AUTH_JWKS_URL: served by a local HTTP server. */
  readonly jwksUrl: string;
  /** AUTH_JWKS_FILE: the same JWKS as a file. */
  readonly jwksFile: string;
  readonly publicJwk: JWK;
  /** A user token this issuer signed. */
  token(claims: UserClaims, options?: TokenOptions): Promise<string>;
  /** The same token signed by a key the issuer never published: a forgery. */
  forgedToken(claims: UserClaims, options?: TokenOptions): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIssuer(options: { dir: string; audience?: string }): Promise<TestIssuer> {
  const [real, forger] = await Promise.all([keyPair(), keyPair()]);
  const jwks = JSON.stringify({ keys: [real.publicJwk] });
  const jwksFile = path.join(options.dir, 'issuer-jwks.json');
  writeFileSync(jwksFile, jwks);
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${base}/realms/lianfang-test`;
  const audience = options.audience ?? 'lianfang';

  const sign =
    (key: { privateKey: KeyLike; kid: string }) =>
    (claims: UserClaims, o: TokenOptions = {}) =>
      new SignJWT({
        agency_id: claims.agency_id,
        agency_kind: claims.agency_kind,
        jurisdiction: claims.jurisdiction,
        roles: [...claims.roles],
      })
        .setProtectedHeader({ alg: 'ES256', kid: key.kid })
        .setSubject(claims.sub)
        .setIssuer(o.issuer ?? issuer)
        .setAudience(o.audience ?? audience)
        .setJti(randomUUID())
        .setIssuedAt(Math.floor(Date.now() / 1000) - Math.max(0, -(o.expiresInSeconds ?? 300)) - 60)
        .setExpirationTime(Math.floor(Date.now() / 1000) + (o.expiresInSeconds ?? 300))
        .sign(key.privateKey);

  return {
    issuer,
    audience,
    jwksUrl: `${base}/.well-known/jwks.json`,
    jwksFile,
    publicJwk: real.publicJwk,
    token: sign(real),
    // Same kid as the real key: the gateway must check the signature, not just find a key by id.
    forgedToken: sign({ privateKey: forger.privateKey, kid: real.kid }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function keyPair(): Promise<{ privateKey: KeyLike; publicJwk: JWK; kid: string }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { privateKey, publicJwk: { ...jwk, kid, alg: 'ES256', use: 'sig' }, kid };
}
