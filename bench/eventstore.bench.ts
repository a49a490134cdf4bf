// `npm run bench -- eventstore [--rounds 3] [--seconds 8] [--warmup 2] [--writers 8] [--read-min 50000]
//  [--only ours-pg,emmett,...] [--no-write]`
//
// Appends/s with 8 writers (one ~1 KB event per durable commit) and read-all events/s (deserialised),
// for our event store on PostgreSQL and on PGlite, for Emmett's PostgreSQL store on the same server,
// and the raw ceiling (single-row INSERT commits with the same writers). Contenders are interleaved
// over rounds (order rotated each round), each run in a fresh process on a fresh schema of a database
// created for this run and dropped at the end. Writes the `eventstore` section of docs/benchmarks.md.
import { execFileSync, fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { flags, fmt, log, machine, median, spread, withDatabase, writeSection } from './report';
import type { WorkerConfig, WorkerMessage, WorkerResult } from './eventstore-worker';
import {
  CONTENDERS,
  type ContenderName,
  EVENTS_PER_STREAM,
  LABELS,
  READ_WARMUP,
  asciiPayloadBytes,
  payloadBytes,
} from './eventstore-workload';

const TARGETS = { vsEmmett: 1.0, vsEmmettAim: 1.5, vsRaw: 0.7, readAll: 50_000 };

interface Options {
  rounds: number;
  seconds: number;
  warmup: number;
  writers: number;
  readMin: number;
  readBatch: number;
  only: ContenderName[];
  write: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    rounds: 3,
    seconds: 8,
    warmup: 2,
    writers: 8,
    readMin: 50_000,
    readBatch: 1000,
    only: [...CONTENDERS],
    write: true,
  };
  for (const { name: flag, value, num } of flags(argv)) {
    if (flag === '--rounds') o.rounds = Math.floor(num());
    else if (flag === '--seconds') o.seconds = num();
    else if (flag === '--warmup') o.warmup = num();
    else if (flag === '--writers') o.writers = Math.floor(num());
    else if (flag === '--read-min') o.readMin = Math.floor(num());
    else if (flag === '--read-batch') o.readBatch = Math.floor(num());
    else if (flag === '--no-write') o.write = false;
    else if (flag === '--only') {
      const names = value().split(',');
      const unknown = names.filter((n) => !(CONTENDERS as readonly string[]).includes(n));
      if (unknown.length) throw new Error(`--only: unknown ${unknown.join(', ')} (${CONTENDERS.join(', ')})`);
      o.only = CONTENDERS.filter((c) => names.includes(c));
    } else throw new Error(`unknown option ${flag}`);
  }
  return o;
}

function runWorker(config: WorkerConfig, timeoutMs: number): Promise<WorkerResult> {
  const root = path.resolve(__dirname, '..');
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'eventstore-worker.ts'), [JSON.stringify(config)], {
      execArgv: ['--expose-gc', '-r', path.join(root, 'tools/register-ts.cjs')],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let message: WorkerMessage | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${config.contender}: no result after ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('message', (m) => (message = m as WorkerMessage));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (message?.ok) resolve(message.result);
      else if (message) reject(new Error(message.error));
      else reject(new Error(`${config.contender}: exited (${signal ?? code}) without a result`));
    });
  });
}

/**
 * What was measured: the commit, and a fingerprint of the event-store sources (they may be uncommitted),
 * so a figure can be tied to the code that produced it.
 */
async function codeVersion(): Promise<string> {
  const root = path.resolve(__dirname, '..');
  let commit = 'unknown commit';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  const hash = createHash('sha256');
  for (const dir of ['store', 'sql', 'postgres', 'pglite']) {
    const full = path.join(root, 'libs/eventsourcing/src', dir);
    const files = (await readdir(full).catch(() => [] as string[]))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
      .sort();
    for (const f of files) hash.update(`${dir}/${f}\0`).update(await readFile(path.join(full, f)));
  }
  return `commit ${commit}, event-store sources (libs/eventsourcing/src/{store,sql,postgres,pglite}) sha256 ${hash.digest('hex').slice(0, 12)}`;
}

interface Row {
  appends: number[];
  reads: number[];
  /** The same figures by round, to pair contenders that ran in the same round. */
  byRound: Map<number, { appends: number; reads: number | null }>;
  /** Read-all anomalies, per round: events delivered more than once, events never delivered. */
  anomalies: string[];
  failures: string[];
  settings: Record<string, string>;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const started = new Date();
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const database = `lf_bench_${randomBytes(4).toString('hex')}`;
  const url = withDatabase(serverUrl, database);
  const run = randomBytes(3).toString('hex');

  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const { rows: settingRows } = await admin.query<{ name: string; setting: string; unit: string | null }>(
    `SELECT name, setting, unit FROM pg_settings
      WHERE name IN ('server_version', 'synchronous_commit', 'fsync', 'wal_sync_method', 'full_page_writes',
                     'commit_delay', 'shared_buffers', 'max_wal_size', 'max_connections')`,
  );
  const setting = Object.fromEntries(
    settingRows.map((r) => [r.name, r.unit && r.unit !== 's' ? `${r.setting} × ${r.unit}` : r.setting]),
  );
  const { rows: busy } = await admin.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_stat_activity
      WHERE backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid()`,
  );
  const otherActive = Number(busy[0].n);
  await admin.query(`CREATE DATABASE "${database}"`);

  const bench = new pg.Client({ connectionString: url });
  await bench.connect();
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await bench.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
  };
  process.once('SIGINT', () => {
    log(`\ninterrupted: dropping ${database}`);
    void drop().finally(() => process.exit(130));
  });

  const rows = new Map<ContenderName, Row>(
    options.only.map((c) => [
      c,
      { appends: [], reads: [], byRound: new Map(), anomalies: [], failures: [], settings: {} },
    ]),
  );
  // Interference: the load before we start, and other sessions busy on the server while we run.
  const loadBefore = os.loadavg()[0];
  const others = { samples: 0, busy: 0, max: 0 };
  const sampler = setInterval(() => {
    admin
      .query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity
          WHERE backend_type = 'client backend' AND state <> 'idle' AND pid <> pg_backend_pid()
            AND datname IS DISTINCT FROM $1`,
        [database],
      )
      .then(({ rows: [r] }) => {
        const n = Number(r.n);
        others.samples += 1;
        if (n > 0) others.busy += 1;
        others.max = Math.max(others.max, n);
      })
      .catch(() => undefined);
  }, 1000);
  log(
    `event-store benchmark: database ${database}, ${options.rounds} round(s) of ${options.only.join(', ')}`,
  );
  log(
    `PostgreSQL ${setting.server_version}: synchronous_commit=${setting.synchronous_commit}, fsync=${setting.fsync}, wal_sync_method=${setting.wal_sync_method}`,
  );
  if (otherActive > 0)
    log(`⚠ ${otherActive} other session(s) active on the server: figures may be disturbed`);
  if (loadBefore > os.cpus().length / 2)
    log(`⚠ load average ${loadBefore.toFixed(1)} before the run: other work competes for the CPUs`);
  log(
    `${options.writers} writers, one ${payloadBytes()}-byte event per append, ${options.warmup} s warm-up + ${options.seconds} s per contender; read-all ≥ ${fmt(options.readMin)} events in batches of ${options.readBatch}`,
  );

  // PGlite's initdb takes seconds: done once here, each round then starts from a copy of it.
  let pgliteTemplate = '';
  try {
    if (options.only.includes('ours-pglite')) {
      pgliteTemplate = await mkdtemp(path.join(os.tmpdir(), 'lf-bench-pglite-template-'));
      log('initialising a PGlite data directory (copied fresh for each round)');
      await (await PGlite.create({ dataDir: pgliteTemplate })).close();
    }
    for (let round = 1; round <= options.rounds; round++) {
      const order = options.only.map((_, i) => options.only[(i + round - 1) % options.only.length]);
      log(`\nround ${round}/${options.rounds}: ${order.join(' → ')}`);
      for (const contender of order) {
        const schema = `${contender.replace('-', '_')}_r${round}`;
        const pglite = contender === 'ours-pglite';
        const dataDir = pglite ? await mkdtemp(path.join(os.tmpdir(), 'lf-bench-pglite-')) : '';
        if (pglite) await cp(pgliteTemplate, dataDir, { recursive: true });
        else await bench.query(`CREATE SCHEMA "${schema}"`);
        // Every contender starts from a clean slate: no dirty buffers of the previous one to flush.
        await bench.query('CHECKPOINT');
        const row = rows.get(contender)!;
        try {
          const result = await runWorker(
            {
              contender,
              label: contender,
              run,
              url,
              schema,
              dataDir,
              writers: options.writers,
              warmupSeconds: options.warmup,
              seconds: options.seconds,
              readMin: options.readMin,
              readBatch: options.readBatch,
            },
            (options.warmup + options.seconds + 180) * 1000,
          );
          row.appends.push(result.appendsPerSecond);
          row.byRound.set(round, { appends: result.appendsPerSecond, reads: result.readPerSecond });
          if (result.readPerSecond !== null) row.reads.push(result.readPerSecond);
          Object.assign(row.settings, result.settings);
          if (result.duplicates || result.missing)
            row.anomalies.push(
              `round ${round}: ${fmt(result.duplicates)} delivered more than once, ${fmt(result.missing)} never delivered, of ${fmt(result.total)}`,
            );
        } catch (error) {
          const text = error instanceof Error ? error.message : String(error);
          row.failures.push(`round ${round}: ${text.split('\n')[0]}`);
          log(`  ${contender.padEnd(14)} FAILED: ${text}`);
        } finally {
          if (pglite) await rm(dataDir, { recursive: true, force: true });
          else await bench.query(`DROP SCHEMA "${schema}" CASCADE`);
        }
      }
    }
  } finally {
    clearInterval(sampler);
    await drop();
    if (pgliteTemplate) await rm(pgliteTemplate, { recursive: true, force: true });
  }

  const markdown = report(options, rows, {
    started,
    setting,
    otherActive,
    loadBefore,
    others,
    code: await codeVersion(),
  });
  process.stdout.write(`\n${markdown}\n`);
  const complete = options.only.length === CONTENDERS.length;
  const failed = [...rows.values()].some((r) => r.failures.length > 0);
  if (!options.write) log('\n--no-write: docs/benchmarks.md left as it is');
  else if (complete) {
    await writeSection('eventstore', markdown);
    log('\nwritten to docs/benchmarks.md (section "eventstore")');
  } else log('\n--only: a partial run, docs/benchmarks.md left as it is');
  if (failed) process.exitCode = 1;
}

/**
 * Whether outside work likely disturbed the figures: a busy machine before we started (the 1-minute
 * average still carries the last minute, so only well above idle counts), or other sessions busy on the
 * server in more than 5 % of the samples.
 */
function disturbed(loadBefore: number, others: { samples: number; busy: number }): boolean {
  return loadBefore > os.cpus().length / 2 || others.busy > others.samples * 0.05;
}

function report(
  options: Options,
  rows: Map<ContenderName, Row>,
  env: {
    started: Date;
    setting: Record<string, string>;
    otherActive: number;
    loadBefore: number;
    others: { samples: number; busy: number; max: number };
    code: string;
  },
): string {
  const { setting } = env;
  const cell = (xs: number[]) => (xs.length ? [fmt(median(xs)), spread(xs)] : ['—', '—']);
  const table = [...rows].map(([name, row]) => {
    const [a, as] = cell(row.appends);
    const [r, rs] =
      name === 'raw' && row.reads.length ? cell(row.reads).map((x) => `(${x})`) : cell(row.reads);
    const failed = row.failures.length ? ` ⚠ ${row.failures.length} failed` : '';
    const anomalous = row.anomalies.length ? ' ⚠ (see below)' : '';
    return `| ${LABELS[name]}${failed} | ${a} | ${as} | ${r}${anomalous} | ${rs} |`;
  });

  /**
   * The median of the per-round ratios (the two ran in the same round, close in time, so load from
   * outside hits both alike more often than not), with their range.
   */
  const ratio = (a: ContenderName, b: ContenderName, figure: 'appends' | 'reads') => {
    const perRound: number[] = [];
    for (const [round, x] of rows.get(a)?.byRound ?? []) {
      const y = rows.get(b)?.byRound.get(round);
      if (x[figure] && y?.[figure]) perRound.push((x[figure] as number) / (y[figure] as number));
    }
    if (!perRound.length) return undefined;
    return {
      value: median(perRound),
      range: `${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)}×`,
    };
  };
  const reads = (c: ContenderName) => rows.get(c)?.reads ?? [];
  const verdict = (ok: boolean) => (ok ? '**PASS**' : '**MISS**');
  const checks: string[] = [];
  const vsEmmett = ratio('ours-pg', 'emmett', 'appends');
  if (vsEmmett)
    checks.push(
      `| appends/s, ours (PostgreSQL) ÷ Emmett | ${vsEmmett.value.toFixed(2)}× (per round ${vsEmmett.range}) | ≥ ${TARGETS.vsEmmett.toFixed(1)}× (aim ${TARGETS.vsEmmettAim}×) | ${verdict(vsEmmett.value >= TARGETS.vsEmmett)}${vsEmmett.value >= TARGETS.vsEmmettAim ? ', aim reached' : ', aim not reached'} |`,
    );
  const vsRaw = ratio('ours-pg', 'raw', 'appends');
  if (vsRaw)
    checks.push(
      `| appends/s, ours (PostgreSQL) ÷ raw ceiling | ${vsRaw.value.toFixed(2)}× (per round ${vsRaw.range}) | ≥ ${TARGETS.vsRaw}× | ${verdict(vsRaw.value >= TARGETS.vsRaw)} |`,
    );
  for (const c of ['ours-pg', 'ours-pglite'] as const) {
    const xs = reads(c);
    if (xs.length)
      checks.push(
        `| read-all events/s, ${LABELS[c].replace('Lianfang store, ', 'ours, ')} | ${fmt(median(xs))} | ≥ ${fmt(TARGETS.readAll)} | ${verdict(median(xs) >= TARGETS.readAll)} |`,
      );
  }
  for (const c of ['ours-pg', 'ours-pglite'] as const) {
    const row = rows.get(c);
    if (row?.reads.length)
      checks.push(
        `| read-all delivers every event exactly once, ${LABELS[c].replace('Lianfang store, ', 'ours, ')} | ${row.anomalies.length ? `${row.anomalies.length} round(s) not` : `all ${row.reads.length} rounds`} | every round | ${row.anomalies.length ? '**FAIL**' : '**PASS**'} |`,
      );
  }
  const readVsEmmett = ratio('ours-pg', 'emmett', 'reads');
  if (readVsEmmett)
    checks.push(
      `| read-all, ours (PostgreSQL) ÷ Emmett (for information) | ${readVsEmmett.value.toFixed(2)}× (per round ${readVsEmmett.range}) | — | — |`,
    );

  const pgliteSettings = rows.get('ours-pglite')?.settings ?? {};
  const pgliteNote = Object.keys(pgliteSettings).length
    ? `; PGlite (its own defaults): ${Object.entries(pgliteSettings)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}` +
      (pgliteSettings.fsync === 'off'
        ? ' — its commits reach the OS page cache but are never flushed to disk, so its appends/s are not durable commits and not comparable with the PostgreSQL rows'
        : '')
    : '';
  const anomalies = [...rows].flatMap(([name, r]) => r.anomalies.map((a) => `- ${LABELS[name]}, ${a}`));
  const failures = [...rows].flatMap(([name, r]) => r.failures.map((f) => `- ${LABELS[name]}, ${f}`));

  return [
    '## Event store',
    '',
    `Measured ${env.started.toISOString()} on ${machine()}; ${env.code}.`,
    '',
    `PostgreSQL ${setting.server_version} on 127.0.0.1, server defaults: **synchronous_commit=${setting.synchronous_commit}, fsync=${setting.fsync}** (durable commits), wal_sync_method=${setting.wal_sync_method}, full_page_writes=${setting.full_page_writes}, commit_delay=${setting.commit_delay}, shared_buffers=${setting.shared_buffers}${pgliteNote}.` +
      ` Interference: 1-minute load average ${env.loadBefore.toFixed(1)} on ${os.cpus().length} cores before the run; ` +
      `other sessions busy on the server in ${env.others.busy} of ${env.others.samples} one-second samples during the run (at most ${env.others.max} at once)` +
      (disturbed(env.loadBefore, env.others) ? ' ⚠ other work competed with the benchmark.' : '.'),
    '',
    `Method: \`npm run bench -- eventstore\` (${options.rounds} round${options.rounds === 1 ? '' : 's'}, ${options.seconds} s measured after ${options.warmup} s warm-up). ` +
      `A database created for the run (dropped at the end); each contender, each round, runs in a fresh Node process on a fresh schema ` +
      `(PGlite: a fresh data directory in the OS temp dir), after a CHECKPOINT; the order of contenders rotates each round. ` +
      `Appends: ${options.writers} concurrent writers on a pool of ${options.writers} connections (PGlite: its one connection), each awaiting one append at a time: ` +
      `one event per append, a ${payloadBytes()}-byte JSON transfer manifest (with Chinese text) plus actor, occurrence time and correlation id, committed durably ` +
      `(our store writes its JSON with non-ASCII characters as \\u escapes, ${asciiPayloadBytes()} bytes, which reads several times faster from UTF-8; Emmett and the raw ceiling store it as given); ` +
      `each writer appends to streams of its own with the exact expected version, ${EVENTS_PER_STREAM} events per stream then a new stream ` +
      `(so both creating and extending streams are measured; no idempotency key, as Emmett has none). ` +
      `Appends/s counts appends completed in the measured window. The raw ceiling is autocommit \`INSERT INTO t (stream_id, data) VALUES ($1, $2)\` ` +
      `of the same payload with the same writers into a table with a bigserial primary key. ` +
      `Read-all: after the appends the log is topped up (not timed) to ${fmt(options.readMin)} events by appends of 500 events (Emmett: 50, its literal-SQL append slows down with size), then, after an untimed read of the first ${fmt(READ_WARMUP)}, read from the start ` +
      `in batches of ${options.readBatch} through the store's read-all (Emmett: \`readMessagesBatch\`, what its consumers poll with), every payload ` +
      `deserialised and used; every event's position is recorded, so events delivered twice or never are caught (events/s counts distinct events). The raw read-all (keyset pages by id) is a reference, shown in parentheses. Ratios: the median of the per-round ratios (both contenders ran in the same round), with their range.`,
    '',
    '| contender | appends/s median | spread | read-all events/s median | spread |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...table,
    '',
    '| check | measured | target | result |',
    '| --- | ---: | ---: | --- |',
    ...checks,
    ...(anomalies.length
      ? [
          '',
          'Read-all anomalies (events/s above count each event once; Emmett resumes after the last global_position while it orders by transaction id, so with concurrent writers a batch boundary can repeat or skip events):',
          '',
          ...anomalies,
        ]
      : []),
    ...(failures.length ? ['', 'Failures:', '', ...failures] : []),
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
