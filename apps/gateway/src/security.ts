import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  createIdentitySigner,
  createUserTokenVerifier,
  devIssuerJwks,
  KeyError,
  loadDirectory,
  loadOrCreateKeyPair,
  parsePrivateKey,
  type IdentitySigner,
  type UserTokenKeys,
  type UserTokenVerifier,
} from '@lianfang/auth';
import { ConfigurationError } from '@lianfang/runtime';
import { calculateJwkThumbprint, exportJWK, importJWK, type JSONWebKeySet, type KeyLike } from 'jose';
import type { GatewayConfig } from './config';

/** The name of the gateway's key pair under DATA_DIR/keys; subgraphs read `gateway.public.jwk.json`. */
export const GATEWAY_KEY_NAME = 'gateway';

export interface GatewaySecurity {
  readonly verifier: UserTokenVerifier;
  readonly signer: IdentitySigner;
  /** The public half subgraphs verify forwarded identities with. */
  readonly publicKey: KeyLike;
  readonly keyId: string;
  /** Where the user-token keys came from, for the start-up log. */
  readonly issuerKeys: string;
}

/**
 * The gateway's trust anchors: the issuer whose user tokens it accepts (checked against the agency
 * directory) and its own key for the identity it forwards. Problems name the variable at fault.
 */
export async function createGatewaySecurity(config: GatewayConfig): Promise<GatewaySecurity> {
  const directory = loadDirectory(config.DIRECTORY_FILE);
  const { keys, description } = await userTokenKeys(config);
  const verifier = createUserTokenVerifier({
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    keys,
    directory,
  });
  const signing = await signingKey(config);
  return {
    verifier,
    signer: createIdentitySigner(signing.privateKey, signing.kid),
    publicKey: signing.publicKey,
    keyId: signing.kid,
    issuerKeys: description,
  };
}

async function userTokenKeys(config: GatewayConfig): Promise<{ keys: UserTokenKeys; description: string }> {
  if (config.AUTH_JWKS_URL)
    return { keys: { jwksUrl: config.AUTH_JWKS_URL }, description: config.AUTH_JWKS_URL };
  if (config.AUTH_JWKS_FILE)
    return { keys: { jwks: await readJwksFile(config.AUTH_JWKS_FILE) }, description: config.AUTH_JWKS_FILE };
  // Outside production only (the schema requires one of the two in production).
  const dataDir = path.resolve(config.DATA_DIR);
  return {
    keys: { jwks: await devIssuerJwks(dataDir) },
    description: `the dev issuer's key in ${path.join(dataDir, 'keys')}`,
  };
}

async function readJwksFile(file: string): Promise<JSONWebKeySet> {
  const bad = (rule: string, message: string) =>
    new ConfigurationError('gateway', [{ variable: 'AUTH_JWKS_FILE', rule, message }]);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw bad(
      'file',
      `cannot read ${path.resolve(file)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}) / 无法读取该文件`,
    );
  }
  let jwks: unknown;
  try {
    jwks = JSON.parse(text);
  } catch {
    throw bad('jwks', `${path.resolve(file)} is not JSON / 不是 JSON`);
  }
  if (
    typeof jwks !== 'object' ||
    jwks === null ||
    !Array.isArray((jwks as { keys?: unknown }).keys) ||
    (jwks as { keys: unknown[] }).keys.length === 0
  )
    throw bad(
      'jwks',
      `${path.resolve(file)} must be a JWKS: { "keys": [ … ] } with at least one key / 须为含至少一个密钥的 JWKS`,
    );
  return jwks as JSONWebKeySet;
}

async function signingKey(
  config: GatewayConfig,
): Promise<{ privateKey: KeyLike; publicKey: KeyLike; kid: string }> {
  if (!config.GATEWAY_SIGNING_KEY) {
    const pair = await loadOrCreateKeyPair(path.resolve(config.DATA_DIR, 'keys'), GATEWAY_KEY_NAME);
    return { privateKey: pair.privateKey, publicKey: pair.publicKey, kid: pair.kid };
  }
  let privateKey: KeyLike;
  try {
    privateKey = await parsePrivateKey(config.GATEWAY_SIGNING_KEY);
  } catch (e) {
    if (!(e instanceof KeyError)) throw e;
    throw new ConfigurationError('gateway', [
      { variable: 'GATEWAY_SIGNING_KEY', rule: 'key', message: `${e.en} / ${e.zh}` },
    ]);
  }
  const jwk = await exportJWK(privateKey);
  const publicJwk = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
  return {
    privateKey,
    publicKey: (await importJWK(publicJwk, 'ES256')) as KeyLike,
    kid: await calculateJwkThumbprint(publicJwk),
  };
}
