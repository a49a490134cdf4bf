import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { access, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

// `npm start` as a person runs it: tools/start.mjs in a process of its own, on the built dist/.
const root = path.resolve(__dirname, '..');
const SERVICES = ['transfer-service', 'compensation-service', 'enforcement-service'];

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Four consecutive free ports (gateway, then the three services), away from the defaults 4000–4003. */
async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = randomInt(20_000, 60_000);
    const free = await Promise.all([0, 1, 2, 3].map((i) => portFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no four consecutive free ports found');
}

interface Platform {
  readonly child: ChildProcess;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
  waitFor(pattern: RegExp, what: string): Promise<void>;
}

function startPlatform(env: Record<string, string>, args: string[] = []): Platform {
  const base = { ...process.env };
  // The embedded defaults are what is under test: nothing from the test run's own environment.
  for (const name of ['EVENT_STORE', 'BUS', 'DATABASE_URL', 'KAFKA_BROKERS', 'PORT', 'HOST', 'LOG_LEVEL'])
    delete base[name];
  const child = spawn(process.execPath, [path.join(root, 'tools/start.mjs'), ...args], {
    cwd: root,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    exit,
    stdout: () => out,
    stderr: () => err,
    async waitFor(pattern, what) {
      let exited = false;
      void exit.then(() => (exited = true));
      // The deadline only bounds a hang (the first start creates PGlite's cluster: seconds of CPU).
      const deadline = Date.now() + 100_000;
      while (!pattern.test(out)) {
        if (exited || Date.now() > deadline)
          throw new Error(`${what}: not printed${exited ? ' (the platform exited)' : ''}\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

async function firstQuery(graphql: string, token: string): Promise<{ data?: unknown; errors?: unknown }> {
  const res = await fetch(graphql, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: `{ whoami { agency { id } } agencies { totalCount } transfers { totalCount }
        agency(id: "sc-eeb") { transferWorklist { totalCount } }
        transferServiceInfo { name eventStore bus } compensationServiceInfo { name } enforcementServiceInfo { name } }`,
    }),
  });
  return (await res.json()) as { data?: unknown; errors?: unknown };
}

describe('npm start (tools/start.mjs): the embedded platform', () => {
  let dataDir: string;

  beforeAll(async () => {
    // What `npm start` does first: the apps run from dist/ (swc, no type check).
    execFileSync(process.execPath, [path.join(root, 'tools/build.mjs')], { cwd: root, stdio: 'pipe' });
    dataDir = await mkdtemp(path.join(tmpdir(), 'lf-start-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts the four apps on PGlite and one in-process bus, stops on Ctrl-C with exit 0, and keeps its data', async () => {
    const base = await freePortBase();
    const env = { DATA_DIR: dataDir, LIANFANG_PORT_BASE: String(base) };
    const graphql = `http://localhost:${base}/graphql`;
    const apps: Array<[string, number]> = [
      ['gateway', base],
      ['transfer-service', base + 1],
      ['compensation-service', base + 2],
      ['enforcement-service', base + 3],
    ];

    let token = '';
    let agencies = 0;
    type Seeded = { transfers: { totalCount: number }; agency: { transferWorklist: { totalCount: number } } };
    let seeded: Seeded | undefined;
    const first = startPlatform(env);
    try {
      // The banner's last line: everything above it has been printed (stdout arrives in chunks).
      await first.waitFor(/Ctrl-C to stop/, 'the whole banner');
      expect(first.stdout()).toContain(`GraphQL   ${graphql}`);
      expect(first.stdout()).toContain(`${dataDir} (new / 新建)`);
      expect(first.stdout()).toContain('npm run -s token -- --list');
      expect(first.stdout()).toContain('npm run -s token -- --agency sc-eeb');
      expect(first.stdout()).toContain(`curl -s ${graphql} -H 'content-type: application/json'`);
      for (const [name, port] of apps) {
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ status: 'ok', service: name });
      }
      for (const service of SERVICES) {
        const res = await fetch(`http://127.0.0.1:${apps.find(([n]) => n === service)?.[1]}/ready`);
        expect(await res.json()).toMatchObject({ checks: { pglite: 'ok', 'memory-bus': 'ok' } });
      }
      // What the printed instructions promise: a demo token works through the gateway, on every subgraph.
      token = execFileSync(
        process.execPath,
        [
          '-r',
          path.join(root, 'tools/register-ts.cjs'),
          path.join(root, 'tools/token.ts'),
          '--agency',
          'sc-eeb',
        ],
        { cwd: root, env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8' },
      ).trim();
      const body = await firstQuery(graphql, token);
      expect(body.errors).toBeUndefined();
      expect(body.data).toMatchObject({
        whoami: { agency: { id: 'sc-eeb' } },
        compensationServiceInfo: { name: 'compensation-service' },
        enforcementServiceInfo: { name: 'enforcement-service' },
        transferServiceInfo: { name: 'transfer-service', eventStore: 'PGLITE', bus: 'MEMORY' },
      });
      agencies = (body.data as { agencies: { totalCount: number } }).agencies.totalCount;
      expect(agencies).toBeGreaterThan(10);
      // The demo data, seeded through commands: Sichuan's bureau sees its transfers and has work waiting.
      seeded = body.data as Seeded;
      expect(seeded.transfers.totalCount).toBeGreaterThan(5);
      expect(seeded.agency.transferWorklist.totalCount).toBeGreaterThan(0);
    } finally {
      first.child.kill('SIGINT');
    }
    expect(await first.exit).toEqual({ code: 0, signal: null });
    expect(first.stdout()).toContain(`stopped; data kept in ${dataDir}`);
    for (const service of SERVICES) {
      expect(await exists(path.join(dataDir, service, 'pgdata', 'PG_VERSION'))).toBe(true);
      // Closed cleanly: every lock released.
      expect(await exists(path.join(dataDir, service, 'lock'))).toBe(false);
    }

    const second = startPlatform(env);
    try {
      await second.waitFor(/Ctrl-C to stop/, 'the whole banner again');
      expect(second.stdout()).toContain(`${dataDir} (reused from an earlier run / 沿用已有数据)`);
      expect((await fetch(`http://127.0.0.1:${base + 1}/health`)).status).toBe(200);
      // The same token (the issuer's key was kept), the same register: a restart seeds nothing twice.
      const body = await firstQuery(graphql, token);
      expect(body.errors).toBeUndefined();
      expect((body.data as { agencies: { totalCount: number } }).agencies.totalCount).toBe(agencies);
      expect((body.data as Seeded).transfers.totalCount).toBe(seeded?.transfers.totalCount);
    } finally {
      second.child.kill('SIGINT');
    }
    expect(await second.exit).toEqual({ code: 0, signal: null });
  }, 240_000);

  it('names a port that is taken, in both languages, and exits 1 before opening any database', async () => {
    const base = await freePortBase();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(base + 2, '127.0.0.1', resolve));
    const emptyDir = path.join(dataDir, 'port-taken');
    try {
      const run = startPlatform({ DATA_DIR: emptyDir, LIANFANG_PORT_BASE: String(base) });
      expect(await run.exit).toEqual({ code: 1, signal: null });
      expect(run.stderr()).toContain(
        `Could not start the platform: port ${base + 2} is taken (compensation-service) / 平台启动失败: 端口 ${base + 2} 已被占用`,
      );
      expect(run.stderr()).toContain('LIANFANG_PORT_BASE=5000 npm start');
      expect(await exists(emptyDir)).toBe(false);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('prints the configuration error and exits 1', async () => {
    const base = await freePortBase();
    const run = startPlatform({
      DATA_DIR: path.join(dataDir, 'bad-config'),
      LIANFANG_PORT_BASE: String(base),
      EVENT_STORE: 'postgres',
    });
    expect(await run.exit).toEqual({ code: 1, signal: null });
    expect(run.stderr()).toContain(
      'Could not start the platform: configuration error (transfer-service) / 平台启动失败: 配置错误',
    );
    expect(run.stderr()).toContain('transfer-service: configuration is invalid / 配置无效');
    expect(run.stderr()).toMatch(/DATABASE_URL: is required: .* \[required\]/);
  });
});
