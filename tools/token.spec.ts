import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeJwt } from 'jose';
import {
  createUserTokenVerifier,
  DEV_AUDIENCE,
  DEV_ISSUER,
  devIssuerJwks,
  loadDirectory,
  parseDirectory,
} from '@lianfang/auth';
import { runTokenCli } from './token';

const ROOT = path.resolve(__dirname, '..');
const DEMO = path.join(ROOT, 'config/directory/demo-region.json');
const directory = loadDirectory(DEMO);

let dataDir: string;
beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lianfang-token-'));
});
afterAll(async () => {
  await fs.rm(dataDir, { recursive: true, force: true });
});

// the child must use its default directory (config/directory/demo-region.json from the root)
const { DIRECTORY_FILE: _outer, ...inherited } = process.env;

/** `npm run -s token -- …` as a real process, from the repository root. */
async function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(
    process.execPath,
    ['-r', path.join(ROOT, 'tools/register-ts.cjs'), 'tools/token.ts', ...args],
    {
      cwd: ROOT,
      env: { ...inherited, DATA_DIR: dataDir, ...env },
      stdio: 'pipe',
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

async function runInProcess(args: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runTokenCli(args, {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    env: { DATA_DIR: dataDir, ...env },
  });
  return { code, out, err };
}

const verifier = async () =>
  createUserTokenVerifier({
    issuer: DEV_ISSUER,
    audience: DEV_AUDIENCE,
    keys: { jwks: await devIssuerJwks(dataDir) },
    directory,
  });

describe('npm run token (child process)', () => {
  it('prints only a token that verifies against the dev issuer JWKS, creating the key', async () => {
    const result = await run([
      '--agency',
      'cq-eeb',
      '--roles',
      'reviewer,approver',
      '--subject',
      'chen.jing',
    ]);
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    await expect((await verifier()).verify(`Bearer ${result.stdout.trim()}`)).resolves.toEqual({
      subject: 'chen.jing',
      agencyId: 'cq-eeb',
      agencyKind: 'provincial-bureau',
      jurisdiction: '500000',
      roles: ['reviewer', 'approver'],
    });
    expect(await fs.readdir(path.join(dataDir, 'keys'))).toContain('dev-issuer.private.jwk.json');
  });

  it('lists every agency of the directory, one per line, id first', async () => {
    const result = await run(['--list']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(directory.agencies.map((a) => a.id));
    expect(lines[0]).toMatch(
      /^sc-eeb\s+provincial-bureau\s+510000\s+viewer,clerk,reviewer,approver,admin\s+四川省生态环境厅\s+Department/,
    );
  });

  it.each([
    ['an unknown agency', ['--agency', 'xz-eeb']],
    ['an unknown option', ['--agency', 'sc-eeb', '--role', 'viewer']],
  ])('exits 2 on %s, with a bilingual hint on stderr and nothing on stdout', async (_label, args) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('npm run -s token -- --list');
    expect(result.stderr).toMatch(/错误：/);
    expect(result.stderr).toMatch(/error: /);
  });
});

describe('runTokenCli', () => {
  it('issues a token with the asked lifetime', async () => {
    const { code, out } = await runInProcess(['--agency', 'sc-eeb', '--ttl', '90m']);
    expect(code).toBe(0);
    const payload = decodeJwt(out[0]);
    expect(payload.exp! - payload.iat!).toBe(5400);
    expect(payload.roles).toEqual(directory.requireAgency('sc-eeb').roles);
  });

  it.each([
    ['a bad lifetime', ['--agency', 'sc-eeb', '--ttl', 'forever'], '--ttl'],
    ['an unknown role', ['--agency', 'sc-eeb', '--roles', 'viewer,boss'], '--roles'],
    ['a role the agency does not grant', ['--agency', 'sc-transport', '--roles', 'approver'], 'approver'],
    ['both --list and --agency', ['--list', '--agency', 'sc-eeb'], '--list'],
    ['no agency', [], '--agency'],
    ['a positional argument', ['sc-eeb'], 'sc-eeb'],
  ])('exits 2 on %s', async (_label, args, mentioned) => {
    const { code, out, err } = await runInProcess(args);
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join('\n')).toContain(mentioned);
  });

  it('reads the directory from --directory, else DIRECTORY_FILE', async () => {
    const file = path.join(dataDir, 'other.json');
    const json = JSON.parse(await fs.readFile(DEMO, 'utf8'));
    json.agencies = json.agencies.filter((a: { id: string }) => a.id === 'cd-eeb');
    parseDirectory(json, 'check');
    await fs.writeFile(file, JSON.stringify(json));
    expect((await runInProcess(['--list', '--directory', file])).out).toHaveLength(1);
    expect((await runInProcess(['--list'], { DIRECTORY_FILE: file })).out).toHaveLength(1);
    expect((await runInProcess(['--agency', 'sc-eeb'], { DIRECTORY_FILE: file })).code).toBe(2);
  });

  it('exits 1 with the directory problems when the directory is broken', async () => {
    const file = path.join(dataDir, 'broken.json');
    await fs.writeFile(file, JSON.stringify({ jurisdictions: [], regions: [], agencies: [{ id: 'x' }] }));
    const { code, err } = await runInProcess(['--list', '--directory', file]);
    expect(code).toBe(1);
    expect(err.join('\n')).toContain('agencies[0].kind');
  });

  it('prints the usage on --help', async () => {
    const { code, out } = await runInProcess(['--help']);
    expect(code).toBe(0);
    expect(out.join('\n')).toContain('--agency');
  });
});
