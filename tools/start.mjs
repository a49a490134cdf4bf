#!/usr/bin/env node
// The embedded platform: the gateway and every service in one process, on embedded defaults
// (PGlite under ./data, the in-process bus), no database server and no broker needed.
// `npm start -- --reset` starts afresh.
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '..');
const dist = (p) => path.join(root, 'dist', p);
require('reflect-metadata');

const args = new Set(process.argv.slice(2));
const dataDir = process.env.DATA_DIR ?? path.join(root, 'data');
if (args.has('--reset')) {
  await rm(dataDir, { recursive: true, force: true });
  console.error(`reset: removed ${dataDir} / 已清除本地数据`);
}
process.env.EVENT_STORE ??= 'pglite';
process.env.BUS ??= 'memory';
process.env.DATA_DIR = dataDir;

const { startService } = require(dist('libs/runtime/src/index.js'));
const apps = ['transfer-service', 'compensation-service', 'enforcement-service', 'gateway'];
const running = [];
try {
  for (const app of apps) {
    const { service } = require(dist(`apps/${app}/src/service.js`));
    running.push(await startService(service));
  }
} catch (e) {
  console.error(`\nCould not start the platform / 平台启动失败: ${e.message}`);
  if (e.code === 'EADDRINUSE')
    console.error('A port is taken: stop the other process, or set the ports free (4000–4003).');
  await Promise.all(running.map((r) => r.app.close()));
  process.exit(1);
}

console.log('\nLianfang 联防 is running (embedded mode: no database server, no broker needed)');
for (const r of running) console.log(`  ${r.name.padEnd(22)} ${r.url}/health`);
console.log(`  data: ${dataDir}\n  Ctrl-C to stop / 按 Ctrl-C 停止\n`);

let stopping = false;
const stop = async (signal) => {
  if (stopping) return;
  stopping = true;
  console.error(`\n${signal}: stopping / 正在停止…`);
  for (const r of running.reverse()) await r.app.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
