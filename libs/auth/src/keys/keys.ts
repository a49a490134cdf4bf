import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  importPKCS8,
  importSPKI,
  type JWK,
  type KeyLike,
} from 'jose';

/**
 * ES256 signing keys kept as JWK files: the gateway's key for forwarded identities and the dev issuer's
 * key for local user tokens. The first process to need a key creates it; others read it.
 */
export interface KeyPair {
  readonly privateKey: KeyLike;
  readonly publicKey: KeyLike;
  /** Public half as published in a JWKS (`kid`, `alg`, `use` set). */
  readonly publicJwk: JWK;
  /** RFC 7638 thumbprint of the public key. */
  readonly kid: string;
}

export type KeyErrorCode = 'KEY_FORMAT' | 'KEY_ALGORITHM' | 'KEY_FILE_MISSING' | 'KEY_FILE_INVALID';

/** A key could not be read: names the file or the text at fault and what to do. */
export class KeyError extends Error {
  readonly kind = 'key' as const;
  constructor(
    readonly code: KeyErrorCode,
    readonly zh: string,
    readonly en: string,
    /** The file at fault, when the key came from a file. */
    readonly file?: string,
  ) {
    super(`${en} / ${zh}`);
    this.name = 'KeyError';
  }

  get messages(): { zh: string; en: string } {
    return { zh: this.zh, en: this.en };
  }
}

const ALG = 'ES256';

export function privateKeyFile(dir: string, name: string): string {
  return path.join(dir, `${name}.private.jwk.json`);
}

export function publicKeyFile(dir: string, name: string): string {
  return path.join(dir, `${name}.public.jwk.json`);
}

/**
 * Reads the key pair `name` from `dir`, creating it (and `dir`) when absent. Two processes starting
 * together end up with the same key: the private file appears atomically (hard link of a complete
 * temporary file, which fails with EEXIST for the loser, who then reads the winner's file).
 */
export async function loadOrCreateKeyPair(dir: string, name: string): Promise<KeyPair> {
  await fs.mkdir(dir, { recursive: true });
  const file = privateKeyFile(dir, name);
  let text = await readIfExists(file);
  if (text === undefined) {
    const generated = await generateKeyPair(ALG, { extractable: true });
    const jwk = await exportJWK(generated.privateKey);
    const kid = await calculateJwkThumbprint(publicPart(jwk));
    const candidate = JSON.stringify({ ...jwk, kid, alg: ALG, use: 'sig' }, null, 2) + '\n';
    const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
    await fs.writeFile(temp, candidate, { mode: 0o600, flag: 'wx' });
    try {
      await fs.link(temp, file);
      text = candidate;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      text = await fs.readFile(file, 'utf8');
    } finally {
      await fs.rm(temp, { force: true });
    }
  }
  const pair = await keyPairFromPrivateJwk(parseJson(text, file), file);
  await writePublicFileIfStale(publicKeyFile(dir, name), pair.publicJwk);
  return pair;
}

/**
 * Reads only the public key `name` from `dir` (a subgraph verifying the gateway's forwarded identity
 * never needs the private half).
 */
export async function loadPublicKeyFile(dir: string, name: string): Promise<KeyLike> {
  const file = publicKeyFile(dir, name);
  const text = await readIfExists(file);
  if (text === undefined)
    throw new KeyError(
      'KEY_FILE_MISSING',
      `公钥文件 ${file} 不存在：请先启动网关（网关首次启动时生成密钥），或设置 GATEWAY_PUBLIC_KEY（PEM 或 JWK）`,
      `public key file ${file} does not exist: start the gateway first (it creates the key on first start), or set GATEWAY_PUBLIC_KEY (PEM or JWK)`,
      file,
    );
  try {
    return await parsePublicKey(text);
  } catch (e) {
    if (e instanceof KeyError) throw new KeyError(e.code, `${file}：${e.zh}`, `${file}: ${e.en}`, file);
    throw e;
  }
}

/** An ES256 public key from PEM (SPKI, `BEGIN PUBLIC KEY`) or JWK JSON (EC P-256, no `d`). */
export async function parsePublicKey(text: string): Promise<KeyLike> {
  const trimmed = unescapeNewlines(text.trim());
  if (trimmed.startsWith('-----BEGIN')) {
    if (!trimmed.startsWith('-----BEGIN PUBLIC KEY-----'))
      throw formatError(
        'PEM 公钥必须是 SPKI 格式（-----BEGIN PUBLIC KEY-----）',
        'a PEM public key must be SPKI (-----BEGIN PUBLIC KEY-----)',
      );
    return importPem(() => importSPKI(trimmed, ALG), 'SPKI');
  }
  const jwk = parseJson(trimmed);
  checkEcJwk(jwk);
  if ('d' in jwk)
    throw formatError(
      '这是私钥（含 d）：此处只应提供公钥',
      'this is a private key (it has `d`): only the public key belongs here',
    );
  return importJwkKey(publicPart(jwk));
}

/** An ES256 private key from PEM (PKCS#8, `BEGIN PRIVATE KEY`) or JWK JSON (EC P-256 with `d`). */
export async function parsePrivateKey(text: string): Promise<KeyLike> {
  const trimmed = unescapeNewlines(text.trim());
  if (trimmed.startsWith('-----BEGIN')) {
    if (!trimmed.startsWith('-----BEGIN PRIVATE KEY-----'))
      throw formatError(
        'PEM 私钥必须是 PKCS#8 格式（-----BEGIN PRIVATE KEY-----）；EC 格式可用 openssl pkcs8 -topk8 -nocrypt 转换',
        'a PEM private key must be PKCS#8 (-----BEGIN PRIVATE KEY-----); convert an EC key with openssl pkcs8 -topk8 -nocrypt',
      );
    return importPem(() => importPKCS8(trimmed, ALG), 'PKCS#8');
  }
  const jwk = parseJson(trimmed);
  checkEcJwk(jwk);
  if (typeof jwk.d !== 'string')
    throw formatError(
      '这是公钥（缺少 d）：此处需要私钥',
      'this is a public key (no `d`): a private key is needed here',
    );
  return importJwkKey(jwk);
}

async function keyPairFromPrivateJwk(jwk: JWK, file: string): Promise<KeyPair> {
  try {
    checkEcJwk(jwk);
    if (typeof jwk.d !== 'string')
      throw formatError('缺少私钥分量 d', 'the private component `d` is missing');
    const pub = publicPart(jwk);
    const kid = await calculateJwkThumbprint(pub);
    return {
      privateKey: await importJwkKey(jwk),
      publicKey: await importJwkKey(pub),
      publicJwk: { ...pub, kid, alg: ALG, use: 'sig' },
      kid,
    };
  } catch (e) {
    if (e instanceof KeyError)
      throw new KeyError(
        'KEY_FILE_INVALID',
        `密钥文件 ${file} 无效：${e.zh}；删除该文件（及对应的 .public.jwk.json）后重启即会生成新密钥`,
        `key file ${file} is invalid: ${e.en}; delete it (and its .public.jwk.json) and restart to create a new key`,
        file,
      );
    throw e;
  }
}

async function writePublicFileIfStale(file: string, publicJwk: JWK): Promise<void> {
  const text = JSON.stringify(publicJwk, null, 2) + '\n';
  if ((await readIfExists(file)) === text) return;
  // rename is atomic, so a reader never sees half a file
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  await fs.writeFile(temp, text, { mode: 0o644 });
  await fs.rename(temp, file);
}

function publicPart(jwk: JWK): JWK {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}

function checkEcJwk(jwk: JWK): void {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256')
    throw new KeyError(
      'KEY_ALGORITHM',
      `只接受 ES256 密钥（kty EC，crv P-256），收到 kty ${String(jwk.kty)}、crv ${String(jwk.crv)}`,
      `only ES256 keys are accepted (kty EC, crv P-256), got kty ${String(jwk.kty)}, crv ${String(jwk.crv)}`,
    );
  if (jwk.alg !== undefined && jwk.alg !== ALG)
    throw new KeyError(
      'KEY_ALGORITHM',
      `只接受 ES256 密钥，JWK 的 alg 为 ${jwk.alg}`,
      `only ES256 keys are accepted, the JWK's alg is ${jwk.alg}`,
    );
  if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string')
    throw formatError('JWK 缺少坐标 x 或 y', 'the JWK lacks coordinate x or y');
}

async function importJwkKey(jwk: JWK): Promise<KeyLike> {
  try {
    // with an EC JWK importJWK always returns a key object, never raw bytes
    return (await importJWK(jwk, ALG)) as KeyLike;
  } catch (e) {
    throw formatError(
      `JWK 无法导入（${(e as Error).message}）`,
      `the JWK cannot be imported (${(e as Error).message})`,
    );
  }
}

async function importPem(load: () => Promise<KeyLike>, format: string): Promise<KeyLike> {
  let key: KeyLike;
  try {
    key = await load();
  } catch (e) {
    throw new KeyError(
      'KEY_ALGORITHM',
      `PEM（${format}）无法作为 ES256（P-256）密钥导入：${(e as Error).message}`,
      `the PEM (${format}) cannot be imported as an ES256 (P-256) key: ${(e as Error).message}`,
    );
  }
  // On Node, jose imports any PEM whatever the algorithm named and only fails when signing: check the curve now
  checkEcJwk(await exportJWK(key));
  return key;
}

function parseJson(text: string, file?: string): JWK {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KeyError(
      file ? 'KEY_FILE_INVALID' : 'KEY_FORMAT',
      '密钥既不是 PEM 也不是 JWK JSON',
      'the key is neither PEM nor JWK JSON',
      file,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new KeyError('KEY_FORMAT', 'JWK 必须是 JSON 对象', 'a JWK must be a JSON object', file);
  return value as JWK;
}

function formatError(zh: string, en: string): KeyError {
  return new KeyError('KEY_FORMAT', zh, en);
}

/** Environment variables often carry a PEM on one line with literal `\n`. */
function unescapeNewlines(text: string): string {
  return text.startsWith('-----BEGIN') ? text.replace(/\\n/g, '\n') : text;
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
