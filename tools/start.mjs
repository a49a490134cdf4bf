#!/usr/bin/env node
// The embedded platform: the gateway and every service in one process, on embedded defaults (PGlite
// under ./data, one in-process bus shared by all the apps), no database server and no broker needed.
//
//   npm start                   build, then this
//   npm start -- --reset        delete the local data first (DATA_DIR) and start afresh
//   npm start -- --no-seed      skip the apps' seeding hooks
//
// Environment: DATA_DIR (default ./data), EVENT_STORE / BUS (default pglite / memory; set them to run the
// same apps on PostgreSQL or Kafka), LIANFANG_PORT_BASE (gateway on it, the services on the next three
// ports; default 4000–4003), LOG_LEVEL=info|debug for Nest's own start-up lines.
// Seeding: an app's src/service.ts may export `seed` (EmbeddedSeed in @lianfang/runtime); it runs once
// every app listens, on every start, so it must be idempotent (commands with fixed command ids).
import { access, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '..');
const dist = (p) => path.join(root, 'dist', p);

/** Start order: the services first (the gateway composes their graphs), the gateway last. */
const APPS = [
  { name: 'transfer-service', offset: 1 },
  { name: 'compensation-service', offset: 2 },
  { name: 'enforcement-service', offset: 3 },
  { name: 'gateway', offset: 0 },
];
/** The bounded contexts whose topics the shared bus declares before any app subscribes. */
const CONTEXTS = ['transfer', 'compensation', 'enforcement'];

const say = (line = '') => process.stdout.write(`${line}\n`);
const warn = (line = '') => process.stderr.write(`${line}\n`);

function fail(title, details) {
  warn(`\n✘ ${title}`);
  for (const line of details) warn(`  ${line}`);
  warn('');
}

// ── Arguments and environment ──────────────────────────────────────────────────────────────────
const KNOWN = new Set(['--reset', '--no-seed', '--help', '-h']);
const args = process.argv.slice(2);
const unknown = args.filter((a) => !KNOWN.has(a));
if (args.includes('--help') || args.includes('-h') || unknown.length > 0) {
  if (unknown.length > 0) warn(`Unknown option / 未知选项: ${unknown.join(' ')}`);
  warn('Usage / 用法: npm start [-- --reset] [-- --no-seed]');
  warn('  --reset    delete DATA_DIR first / 先删除本地数据');
  warn('  --no-seed  do not run the seeding hooks / 不写入演示数据');
  process.exit(unknown.length > 0 ? 1 : 0);
}

const dataDir = path.resolve(process.env.DATA_DIR || path.join(root, 'data'));
process.env.EVENT_STORE ||= 'pglite';
process.env.BUS ||= 'memory';
process.env.DATA_DIR = dataDir;

let portBase;
if (process.env.LIANFANG_PORT_BASE) {
  const raw = process.env.LIANFANG_PORT_BASE;
  portBase = Number(raw);
  if (!/^\d+$/.test(raw) || portBase < 1 || portBase > 65532) {
    fail('Invalid LIANFANG_PORT_BASE / LIANFANG_PORT_BASE 无效', [
      `got "${raw}": an integer from 1 to 65532 (the gateway takes it, the services the next three)`,
      `应为 1 到 65532 之间的整数（网关占用该端口，三个服务依次占用其后三个端口）`,
    ]);
    process.exit(1);
  }
}

const exists = (p) =>
  access(p).then(
    () => true,
    () => false,
  );

if (!(await exists(dist('libs/runtime/src/index.js')))) {
  fail('The platform is not built / 尚未构建', [
    'Run `npm run build` first, or use `npm start` / 请先运行 npm run build',
  ]);
  process.exit(1);
}

if (args.includes('--reset')) {
  await rm(dataDir, { recursive: true, force: true });
  say(`reset: removed ${dataDir} / 已清除本地数据`);
}

require('reflect-metadata');
const { startService } = require(dist('libs/runtime/src/index.js'));
const { createMemoryTransport, serviceTopics } = require(dist('libs/messaging/src/index.js'));

/** The apps whose PGlite cluster is already there: what "data survives a restart" looks like. */
async function appsWithData() {
  const found = [];
  for (const { name } of APPS) {
    if (await exists(path.join(dataDir, name, 'pgdata', 'PG_VERSION'))) found.push(name);
  }
  return found;
}

function portFree(port, host) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (e) => resolve(e.code !== 'EADDRINUSE'));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

function portOf(app, def) {
  return portBase !== undefined ? portBase + app.offset : def.defaultPort;
}

const host = process.env.HOST || '127.0.0.1';
const shared = { transport: createMemoryTransport() };
const running = [];
let stopping;
/** Resolves once every app listens (and the seeds ran): a stop waits for it, then closes them all. */
let startup = Promise.resolve([]);

async function closeAll() {
  // Reverse start order: the gateway first, then the services; the shared bus once no app uses it.
  for (const r of [...running].reverse()) {
    try {
      await r.app.close();
    } catch (e) {
      warn(`${r.name}: error while closing / 关闭时出错: ${e?.message ?? e}`);
    }
  }
  running.length = 0;
  await shared.transport.close();
}

function stop(signal) {
  if (stopping) {
    warn(`\n${signal} again: exiting without closing / 再次收到 ${signal}，强制退出`);
    process.exit(1);
  }
  warn(`\n${signal}: stopping / 正在停止…`);
  stopping = (async () => {
    await startup.catch(() => undefined);
    const force = setTimeout(() => {
      warn('Still closing after 30 s: exiting anyway / 30 秒内未能关闭，强制退出');
      process.exit(1);
    }, 30_000);
    force.unref();
    await closeAll();
    say(`stopped; data kept in ${dataDir} / 已停止，数据保存在 ${dataDir}`);
    process.exit(0);
  })();
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

// ── Start ──────────────────────────────────────────────────────────────────────────────────────
let current;
startup = (async () => {
  const reused = await appsWithData();
  const defs = APPS.map((app) => {
    const module = require(dist(`apps/${app.name}/src/service.js`));
    return { ...app, def: module.service, seed: module.seed, port: portOf(app, module.service) };
  });
  // A port taken is the commonest failure: say so before spending seconds opening databases.
  for (const app of defs) {
    if (!(await portFree(app.port, host))) {
      const error = new Error(`port ${app.port} is taken`);
      error.code = 'EADDRINUSE';
      error.port = app.port;
      current = app.name;
      throw error;
    }
  }
  await shared.transport.ensureTopics(CONTEXTS.flatMap((c) => serviceTopics(c)));
  // The gateway finds the services where this process put them.
  const serviceUrls = {};
  for (const app of defs) {
    if (stopping) return;
    current = app.name;
    const env = { ...process.env };
    if (app.name === 'gateway') for (const [k, v] of Object.entries(serviceUrls)) env[k] ??= v;
    const verbose = ['info', 'debug', 'trace'].includes(process.env.LOG_LEVEL ?? '');
    const started = await startService(app.def, {
      env,
      port: app.port,
      shared,
      logLevels: verbose ? ['error', 'warn', 'log'] : ['error', 'warn'],
    });
    // This script closes the apps itself, in order; Nest's per-app signal hooks would close them all
    // at once and re-raise the signal.
    started.app.unsubscribeFromProcessSignals?.();
    running.push({ ...started, seed: app.seed });
    serviceUrls[`${app.name.toUpperCase().replace(/-/g, '_')}_URL`] = `${started.url}/graphql`;
  }
  current = undefined;
  if (!args.includes('--no-seed')) {
    const apps = new Map(running.map((r) => [r.name, { url: r.url, app: r.app }]));
    for (const r of running) {
      if (typeof r.seed !== 'function' || stopping) continue;
      current = `${r.name} (seed)`;
      await r.seed(r.app, { apps, dataDir, log: (line) => say(`  [${r.name}] ${line}`) });
    }
    current = undefined;
  }
  return reused;
})();

let reused;
try {
  reused = await startup;
} catch (e) {
  const where = current ? ` (${current})` : '';
  if (e?.code === 'EADDRINUSE') {
    const port = e.port ?? '?';
    fail(
      `Could not start the platform: port ${port} is taken${where} / 平台启动失败: 端口 ${port} 已被占用`,
      [
        `Stop the program using it (\`lsof -i :${port}\` shows it), or move the platform to other ports:`,
        `请停止占用该端口的程序（可用 \`lsof -i :${port}\` 查看），或换用其他端口:`,
        '  LIANFANG_PORT_BASE=5000 npm start     (gateway 5000, services 5001–5003)',
      ],
    );
  } else if (e?.code === 'CONFIGURATION_INVALID') {
    fail(`Could not start the platform: configuration error${where} / 平台启动失败: 配置错误`, [
      ...String(e.message).split('\n'),
      'Fix or unset these variables, then start again / 请修正或取消这些环境变量后重试',
    ]);
  } else if (e?.code === 'PLATFORM_START_FAILED') {
    fail(`Could not start the platform${where} / 平台启动失败`, String(e.message).split('\n'));
  } else {
    // An error with a code of its own carries a message meant for people; anything else is a bug: the stack.
    const text =
      typeof e?.code === 'string' && e.message && process.env.LOG_LEVEL !== 'debug'
        ? e.message
        : (e?.stack ?? e);
    fail(`Could not start the platform${where} / 平台启动失败`, [
      ...String(text).split('\n'),
      'If the local data is damaged: `npm start -- --reset` (deletes it) / 若本地数据损坏: npm start -- --reset（会删除数据）',
    ]);
  }
  await closeAll().catch(() => undefined);
  process.exit(1);
}
if (stopping) await stopping;

const gateway = running.find((r) => r.name === 'gateway');
const gatewayPort = new URL(gateway.url).port;
const graphql = `http://localhost:${gatewayPort}/graphql`;
say('');
say('Lianfang 联防 is running / 已启动 — embedded mode: no database server, no broker');
say('');
say(`  GraphQL   ${graphql}`);
for (const r of running) say(`  ${r.name.padEnd(22)}${r.url}/health`);
say(
  `  data      ${dataDir} ${
    reused.length > 0 ? '(reused from an earlier run / 沿用已有数据)' : '(new / 新建)'
  }`,
);
say('');
say('Get a token / 获取令牌:');
say('  npm run -s token -- --list              # the demo agencies / 演示机构列表');
say('  npm run -s token -- --agency sc-eeb     # a token for one agency / 某机构的令牌');
say('');
say('First query / 第一个查询:');
say('  TOKEN=$(npm run -s token -- --agency sc-eeb)');
say(`  curl -s ${graphql} -H 'content-type: application/json' \\`);
say(
  `    -H "authorization: Bearer $TOKEN" -d '{"query":"{ whoami { subject agency { id name { zh en } } } }"}'`,
);
say('');
say('Ctrl-C to stop (data is kept) / 按 Ctrl-C 停止（数据保留）; `npm start -- --reset` starts afresh');
