import { generateKeyPairSync } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  jwtVerify,
  SignJWT,
} from 'jose';
import {
  KeyError,
  loadOrCreateKeyPair,
  loadPublicKeyFile,
  parsePrivateKey,
  parsePublicKey,
  privateKeyFile,
  publicKeyFile,
} from './keys';

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lianfang-keys-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(tempDirs.map((d) => fs.rm(d, { recursive: true, force: true })));
});

async function signed(privateKey: Parameters<SignJWT['sign']>[0]): Promise<string> {
  return new SignJWT({ x: 1 }).setProtectedHeader({ alg: 'ES256' }).setExpirationTime('1m').sign(privateKey);
}

describe('loadOrCreateKeyPair', () => {
  it('creates the directory and an ES256 pair, private file readable by the owner only', async () => {
    const dir = path.join(await tempDir(), 'nested', 'keys');
    const pair = await loadOrCreateKeyPair(dir, 'gateway');
    const privateStat = await fs.stat(privateKeyFile(dir, 'gateway'));
    expect(privateStat.mode & 0o777).toBe(0o600);
    const publicJson = JSON.parse(await fs.readFile(publicKeyFile(dir, 'gateway'), 'utf8'));
    expect(publicJson).toEqual(pair.publicJwk);
    expect(publicJson).not.toHaveProperty('d');
    expect(pair.publicJwk).toMatchObject({
      kty: 'EC',
      crv: 'P-256',
      alg: 'ES256',
      use: 'sig',
      kid: pair.kid,
    });
    expect(pair.kid).toBe(
      await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: publicJson.x, y: publicJson.y }),
    );
    await expect(jwtVerify(await signed(pair.privateKey), pair.publicKey)).resolves.toBeDefined();
  });

  it('returns the same key on the next start', async () => {
    const dir = await tempDir();
    const first = await loadOrCreateKeyPair(dir, 'dev-issuer');
    const second = await loadOrCreateKeyPair(dir, 'dev-issuer');
    expect(second.kid).toBe(first.kid);
    await expect(jwtVerify(await signed(first.privateKey), second.publicKey)).resolves.toBeDefined();
  });

  it('gives every racing caller the same key and leaves no temporary files', async () => {
    const dir = await tempDir();
    const pairs = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKeyPair(dir, 'gateway')));
    expect(new Set(pairs.map((p) => p.kid)).size).toBe(1);
    expect((await fs.readdir(dir)).sort()).toEqual(['gateway.private.jwk.json', 'gateway.public.jwk.json']);
    const onDisk = await loadPublicKeyFile(dir, 'gateway');
    await expect(jwtVerify(await signed(pairs[3].privateKey), onDisk)).resolves.toBeDefined();
  });

  it('rewrites a missing public file from the private one', async () => {
    const dir = await tempDir();
    const pair = await loadOrCreateKeyPair(dir, 'gateway');
    await fs.rm(publicKeyFile(dir, 'gateway'));
    await loadOrCreateKeyPair(dir, 'gateway');
    expect(JSON.parse(await fs.readFile(publicKeyFile(dir, 'gateway'), 'utf8')).kid).toBe(pair.kid);
  });

  it('refuses a corrupt private file, naming it and telling how to recover', async () => {
    const dir = await tempDir();
    await fs.writeFile(
      privateKeyFile(dir, 'gateway'),
      JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }),
    );
    const error = await loadOrCreateKeyPair(dir, 'gateway').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyError);
    expect(error).toMatchObject({ code: 'KEY_FILE_INVALID', file: privateKeyFile(dir, 'gateway') });
    expect((error as KeyError).en).toContain('delete it');
    expect((error as KeyError).zh).toContain('删除');
  });
});

describe('loadPublicKeyFile', () => {
  it('tells the user to start the gateway or set GATEWAY_PUBLIC_KEY when the file is missing', async () => {
    const dir = await tempDir();
    const error = await loadPublicKeyFile(dir, 'gateway').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KEY_FILE_MISSING', file: publicKeyFile(dir, 'gateway') });
    expect((error as KeyError).en).toMatch(/start the gateway.*GATEWAY_PUBLIC_KEY/);
    expect((error as KeyError).zh).toMatch(/启动网关.*GATEWAY_PUBLIC_KEY/);
  });

  it('refuses a public file that holds a private key', async () => {
    const dir = await tempDir();
    await loadOrCreateKeyPair(dir, 'gateway');
    await fs.copyFile(privateKeyFile(dir, 'gateway'), publicKeyFile(dir, 'gateway'));
    await expect(loadPublicKeyFile(dir, 'gateway')).rejects.toMatchObject({
      code: 'KEY_FORMAT',
      file: publicKeyFile(dir, 'gateway'),
    });
  });
});

describe('parsePublicKey / parsePrivateKey', () => {
  it('read PEM (SPKI, PKCS#8, also with escaped newlines) and JWK JSON of one pair', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const spki = await exportSPKI(publicKey);
    const pkcs8 = await exportPKCS8(privateKey);
    const privateJwk = await exportJWK(privateKey);
    const { d: _d, ...publicJwk } = privateJwk;
    const publics = [
      await parsePublicKey(spki),
      await parsePublicKey(spki.replace(/\n/g, '\\n')),
      await parsePublicKey(JSON.stringify(publicJwk)),
    ];
    const privates = [await parsePrivateKey(pkcs8), await parsePrivateKey(JSON.stringify(privateJwk))];
    for (const signer of privates) {
      const token = await signed(signer);
      for (const verifier of publics) await expect(jwtVerify(token, verifier)).resolves.toBeDefined();
    }
  });

  it.each([
    ['text that is neither PEM nor JSON', async () => 'not a key', 'KEY_FORMAT'],
    [
      'a private JWK',
      async () =>
        JSON.stringify(await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey)),
      'KEY_FORMAT',
    ],
    [
      'a PKCS#8 private PEM',
      async () => exportPKCS8((await generateKeyPair('ES256', { extractable: true })).privateKey),
      'KEY_FORMAT',
    ],
    [
      'a P-384 JWK',
      async () =>
        JSON.stringify(await exportJWK((await generateKeyPair('ES384', { extractable: true })).publicKey)),
      'KEY_ALGORITHM',
    ],
    [
      'an RSA SPKI PEM',
      async () =>
        generateKeyPairSync('rsa', { modulusLength: 2048 })
          .publicKey.export({ type: 'spki', format: 'pem' })
          .toString(),
      'KEY_ALGORITHM',
    ],
  ])('parsePublicKey refuses %s', async (_label, text, code) => {
    const error = await parsePublicKey(await text()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyError);
    expect(error).toMatchObject({ code });
    expect((error as KeyError).zh).toMatch(/[\u4e00-\u9fff]/);
  });

  it.each([
    [
      'a public JWK',
      async () => {
        const { d: _d, ...pub } = await exportJWK(
          (await generateKeyPair('ES256', { extractable: true })).privateKey,
        );
        return JSON.stringify(pub);
      },
      'KEY_FORMAT',
    ],
    [
      'a SEC1 "EC PRIVATE KEY" PEM',
      async () =>
        generateKeyPairSync('ec', { namedCurve: 'P-256' })
          .privateKey.export({ type: 'sec1', format: 'pem' })
          .toString(),
      'KEY_FORMAT',
    ],
    [
      'an RSA PKCS#8 PEM',
      async () =>
        generateKeyPairSync('rsa', { modulusLength: 2048 })
          .privateKey.export({ type: 'pkcs8', format: 'pem' })
          .toString(),
      'KEY_ALGORITHM',
    ],
    ['a JSON array', async () => '[]', 'KEY_FORMAT'],
  ])('parsePrivateKey refuses %s', async (_label, text, code) => {
    await expect(parsePrivateKey(await text())).rejects.toMatchObject({ name: 'KeyError', code });
  });
});
