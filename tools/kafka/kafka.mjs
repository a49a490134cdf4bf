#!/usr/bin/env node
// A single-node Kafka broker for development: `npm run kafka -- <command>` (or `node tools/kafka/kafka.mjs`).
//
//   fetch                      resolve the jars from Maven Central into ~/.m2 (start does this too)
//   start [--port 9092] [--data DIR] [--heap 768] [--timeout 90]
//                              start in the background, wait until it serves, print KAFKA_BROKERS=...
//   stop                       stop the background broker (SIGTERM, SIGKILL after 30 s)
//   status                     is it running and serving?
//
// The data dir (default tools/kafka/.runtime/data) survives stop/start; delete it for a clean slate.
// Progress goes to stderr, the KAFKA_BROKERS=... line to stdout: `eval "$(node tools/kafka/kafka.mjs start)"`.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import broker from './broker.cjs';

const PID_FILE = path.join(broker.RUNTIME_DIR, 'kafka.pid');
const INFO_FILE = path.join(broker.RUNTIME_DIR, 'kafka.json');
const DEFAULT_DATA = path.join(broker.RUNTIME_DIR, 'data');

const USAGE = `usage: node tools/kafka/kafka.mjs <fetch|start|stop|status> [options]
  fetch   [--force]                    resolve the Kafka jars (Maven Central -> ~/.m2)
  start   [--port 9092] [--data DIR] [--heap 768] [--timeout 90]
  stop
  status`;

/** @param {string} message */
const say = (message) => process.stderr.write(`[kafka] ${message}\n`);

function readInfo() {
  try {
    return JSON.parse(fs.readFileSync(INFO_FILE, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The background broker recorded in the pid file, when it is still running. */
function running() {
  const info = readInfo();
  let pid;
  try {
    pid = Number(fs.readFileSync(PID_FILE, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!pid || !broker.isAlive(pid) || !broker.isKafkaBroker(pid, info?.dataDir)) return undefined;
  return { ...info, pid };
}

function forget() {
  fs.rmSync(PID_FILE, { force: true });
  fs.rmSync(INFO_FILE, { force: true });
}

/** @param {string | undefined} value @param {string} name @param {number} fallback */
function intOption(value, name, fallback) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`--${name} must be a non-negative integer, not ${value}`);
  return n;
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      data: { type: 'string' },
      heap: { type: 'string' },
      timeout: { type: 'string' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }

  switch (command) {
    case 'fetch': {
      const missing = broker.javaMissing();
      if (missing) say(`warning: ${missing}`);
      const started = Date.now();
      const cp = await broker.fetchClasspath({ onProgress: say, force: values.force });
      say(`${cp.split(path.delimiter).length} jars ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return 0;
    }

    case 'start': {
      const port = intOption(values.port, 'port', 9092);
      const dataDir = path.resolve(values.data ?? DEFAULT_DATA);
      const current = running();
      if (current) {
        say(`already running: pid ${current.pid} on ${current.brokers} (data ${current.dataDir})`);
        if (current.port !== port) say(`warning: it listens on ${current.port}, not ${port}; stop it first`);
        process.stdout.write(`KAFKA_BROKERS=${current.brokers}\n`);
        return 0;
      }
      forget();
      // Ctrl-C while waiting: do not leave a half-started background broker behind.
      process.once('SIGINT', () => {
        try {
          const info = JSON.parse(fs.readFileSync(path.join(dataDir, 'broker.json'), 'utf8'));
          if (info.pid && broker.isKafkaBroker(info.pid, dataDir)) process.kill(info.pid, 'SIGKILL');
        } catch {
          // nothing started yet
        }
        process.exit(130);
      });
      const handle = await broker.startBroker({
        port,
        dataDir,
        heapMb: intOption(values.heap, 'heap', 768),
        timeoutMs: intOption(values.timeout, 'timeout', 90) * 1000,
        detached: true,
        onProgress: say,
      });
      fs.mkdirSync(broker.RUNTIME_DIR, { recursive: true });
      fs.writeFileSync(PID_FILE, `${handle.pid}\n`);
      const info = {
        pid: handle.pid,
        brokers: handle.brokers,
        port: handle.port,
        dataDir,
        logFile: handle.logFile,
      };
      fs.writeFileSync(INFO_FILE, `${JSON.stringify(info, null, 2)}\n`);
      say(`log: ${handle.logFile}`);
      say(`stop it with: npm run kafka -- stop`);
      process.stdout.write(`KAFKA_BROKERS=${handle.brokers}\n`);
      return 0;
    }

    case 'stop': {
      const current = running();
      if (!current) {
        say('no broker running (no live pid in tools/kafka/.runtime/kafka.pid)');
        forget();
        return 0;
      }
      say(`stopping pid ${current.pid} (${current.brokers})`);
      const started = Date.now();
      await broker.stopPid(current.pid);
      forget();
      say(`stopped in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return 0;
    }

    case 'status': {
      const current = running();
      if (!current) {
        say('not running');
        return 1;
      }
      const problem = await broker.probeBrokers(current.brokers, { timeoutMs: 3000 });
      say(`pid ${current.pid}, ${problem ? `NOT serving (${problem})` : 'serving'}; data ${current.dataDir}`);
      say(`log: ${current.logFile}`);
      process.stdout.write(`KAFKA_BROKERS=${current.brokers}\n`);
      return problem ? 1 : 0;
    }

    default:
      process.stderr.write(`unknown command: ${command}\n${USAGE}\n`);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    say(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
