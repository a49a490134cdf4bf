// @ts-check
/**
 * A real single-node Apache Kafka broker (KRaft, combined broker+controller) for tests and development.
 *
 * The jars come from Maven Central through tools/kafka/pom.xml (cached in ~/.m2; the classpath is cached in
 * tools/kafka/.runtime/ keyed by the pom's hash), and the broker runs in a plain `java` process: no Docker,
 * no Kafka tarball. Types for TypeScript callers: broker.d.cts (keep it in step with this file).
 *
 *   const { startBroker, restartBroker } = require('./broker.cjs');
 *   const b = await startBroker({ dataDir });          // port 0: a free port
 *   b.brokers;                                          // '127.0.0.1:PORT'
 *   const b2 = await restartBroker(b);                  // same port, same data dir, data kept
 *   await b2.stop();
 *
 * Restarting on the same port and data dir keeps every topic and message: the storage is formatted only
 * when `<dataDir>/logs/meta.properties` does not exist yet, and the controller port is remembered in
 * `<dataDir>/broker.json`.
 */
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const KAFKA_DIR = __dirname;
const POM = path.join(KAFKA_DIR, 'pom.xml');
const RUNTIME_DIR = path.join(KAFKA_DIR, '.runtime');
const TEMP_PREFIX = 'lianfang-kafka-';
const INSTALL_HINT = 'apt-get install openjdk-17-jre-headless maven';

/**
 * @typedef {(message: string) => void} ProgressFn
 *
 * @typedef {object} StartOptions
 * @property {number} [port] client port on 127.0.0.1; 0 (default) picks a free one
 * @property {string} dataDir where the broker keeps its logs, config and own log file; created if missing
 * @property {number} [controllerPort] KRaft controller port; default: the one remembered in dataDir, else free
 * @property {number} [heapMb] maximum heap (default 768)
 * @property {ProgressFn} [onProgress] progress lines for a person watching (downloading, starting, ready)
 * @property {number} [timeoutMs] how long to wait for the broker to serve (default 90 000)
 * @property {Record<string, string | number | boolean>} [properties] extra server.properties entries, after
 *   (so overriding) the defaults, e.g. `{ 'log.segment.bytes': 1048576 }`
 * @property {string[]} [jvmOptions] extra JVM flags for the broker, after (so overriding) the defaults
 * @property {boolean} [detached] run in its own session and outlive this process (the CLI); default false,
 *   and then the broker is killed when this process exits
 *
 * @typedef {object} BrokerHandle
 * @property {string} brokers '127.0.0.1:PORT', for KAFKA_BROKERS
 * @property {number} port
 * @property {number} controllerPort
 * @property {string} dataDir
 * @property {number} pid
 * @property {number} heapMb
 * @property {string} logFile the broker's log4j log
 * @property {number} readyInMs from spawning the JVM(s) to serving
 * @property {StartOptions} options what it was started with (port and controller port resolved)
 * @property {() => boolean} isRunning
 * @property {() => Promise<void>} stop SIGTERM, wait for a clean exit; SIGKILL after 30 s
 * @property {() => void} kill SIGKILL, no shutdown: for fault tests
 * @property {Promise<number | null>} exited resolves with the exit code (null when killed by a signal)
 */

// ---------------------------------------------------------------------------------------------------------
// Prerequisites

/** @returns {string} the java executable: $JAVA_HOME/bin/java when set, else `java` from PATH */
function javaCommand() {
  const home = process.env.JAVA_HOME;
  if (home) {
    const exe = path.join(home, 'bin', 'java');
    if (fs.existsSync(exe)) return exe;
  }
  return 'java';
}

/** @returns {string | undefined} why Java cannot run Kafka 3.9, or undefined */
function javaMissing() {
  const r = spawnSync(javaCommand(), ['-version'], { encoding: 'utf8' });
  if (r.error) {
    return `Java was not found (${javaCommand()}: ${r.error.message}). Install a JRE 17: ${INSTALL_HINT} (or set JAVA_HOME)`;
  }
  const m = /version "(?:1\.)?(\d+)/.exec(`${r.stderr}${r.stdout}`);
  const major = m ? Number(m[1]) : 0;
  if (major < 11) {
    return `Java ${major || '?'} is too old for Kafka 3.9 (needs 11+, 17 recommended): ${INSTALL_HINT}`;
  }
  return undefined;
}

/** @returns {string | undefined} why Maven cannot run, or undefined */
function mavenMissing() {
  const r = spawnSync('mvn', ['-v'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    return `Maven was not found (mvn: ${r.error ? r.error.message : `exit ${r.status}`}); it fetches the Kafka jars from Maven Central: ${INSTALL_HINT}`;
  }
  return undefined;
}

/**
 * Why a broker cannot be started here, or undefined. Maven is needed only while the jars are not cached.
 * @returns {string | undefined}
 */
function prerequisitesMissing() {
  return javaMissing() ?? (cachedClasspath() ? undefined : mavenMissing());
}

// ---------------------------------------------------------------------------------------------------------
// Classpath (Maven)

function classpathFile() {
  const hash = crypto.createHash('sha256').update(fs.readFileSync(POM)).digest('hex').slice(0, 16);
  return path.join(RUNTIME_DIR, `classpath-${hash}.txt`);
}

/** @returns {string | undefined} the cached classpath when it exists and every jar is still in ~/.m2 */
function cachedClasspath() {
  let cp;
  try {
    cp = fs.readFileSync(classpathFile(), 'utf8').trim();
  } catch {
    return undefined;
  }
  const jars = cp.split(path.delimiter).filter(Boolean);
  if (jars.length === 0 || !jars.every((j) => fs.existsSync(j))) return undefined;
  return cp;
}

/**
 * Resolves the broker's jars with Maven (downloading them on the first run) and returns the classpath.
 * Fast when cached: no Maven run at all.
 * @param {{ onProgress?: ProgressFn, force?: boolean }} [opts]
 * @returns {Promise<string>}
 */
async function fetchClasspath(opts = {}) {
  const progress = opts.onProgress ?? (() => undefined);
  if (!opts.force) {
    const cached = cachedClasspath();
    if (cached) return cached;
  }
  const missing = mavenMissing();
  if (missing) throw new Error(missing);
  fs.mkdirSync(RUNTIME_DIR, { recursive: true });
  const target = classpathFile();
  const tmp = `${target}.${process.pid}.tmp`;
  progress(
    `resolving the Kafka jars with Maven (${path.relative(process.cwd(), POM) || POM}); the first run downloads ~50 MB of jars into ~/.m2`,
  );
  const started = Date.now();
  const args = [
    '-B',
    '-Dstyle.color=never',
    '-f',
    POM,
    'dependency:build-classpath',
    `-Dmdep.outputFile=${tmp}`,
    '-Dmdep.includeScope=runtime',
  ];
  /** @type {string[]} */
  const output = [];
  let downloaded = 0;
  const code = await new Promise((resolve, reject) => {
    const child = spawn('mvn', args, { cwd: KAFKA_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    /** @param {Buffer} chunk */
    const onData = (chunk) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        output.push(line);
        if (output.length > 400) output.shift();
        const m = /Downloaded from [^:]+: (\S+) \(([^)]*)\)/.exec(line);
        if (m) {
          downloaded += 1;
          if (m[1].endsWith('.jar')) progress(`downloaded ${path.basename(m[1])} (${m[2].split(' at ')[0]})`);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0 || !fs.existsSync(tmp)) {
    fs.rmSync(tmp, { force: true });
    const tail = output.filter((l) => /ERROR|WARN|Could not|Failed/.test(l)).slice(-15);
    throw new Error(
      `Maven could not resolve the Kafka jars (exit ${code}). Maven Central must be reachable, or the jars already in ~/.m2.\n` +
        `  mvn ${args.join(' ')}\n  ${(tail.length ? tail : output.slice(-15)).join('\n  ')}`,
    );
  }
  fs.renameSync(tmp, target);
  const cp = fs.readFileSync(target, 'utf8').trim();
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  progress(
    `classpath ready: ${cp.split(path.delimiter).length} jars, ${downloaded} files downloaded, ${secs} s`,
  );
  return cp;
}

// ---------------------------------------------------------------------------------------------------------
// Ports and processes

/** @returns {Promise<number>} a port that was free a moment ago on 127.0.0.1 */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** @param {number} port @returns {Promise<boolean>} */
function portIsFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Waits (up to waitMs) for a port to become free: a broker that just stopped may hold it a moment longer.
 * @param {number} port @param {string} what @param {number} waitMs
 */
async function requireFreePort(port, what, waitMs = 10_000) {
  const deadline = Date.now() + waitMs;
  while (!(await portIsFree(port))) {
    if (Date.now() > deadline) {
      throw new Error(
        `${what} port ${port} on 127.0.0.1 is in use (another broker? \`node tools/kafka/kafka.mjs status\`)`,
      );
    }
    await sleep(200);
  }
}

/** @param {number} ms */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** @param {number} pid */
function isAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return /** @type {NodeJS.ErrnoException} */ (e).code === 'EPERM';
  }
  // A zombie has exited: it only waits for its parent (init, for the detached CLI broker) to reap it,
  // which some container inits do only every second or two.
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc (macOS)
  }
}

/**
 * Whether pid is a Kafka broker JVM (guards against pid reuse before signalling a pid from a file).
 * @param {number} pid @param {string} [dataDir] when given, the broker must run from that data dir
 */
function isKafkaBroker(pid, dataDir) {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (!cmdline.includes('kafka.Kafka')) return false;
    return dataDir ? cmdline.includes(path.join(path.resolve(dataDir), 'server.properties')) : true;
  } catch {
    return isAlive(pid); // no /proc (macOS): trust the pid file
  }
}

/**
 * Stops a broker by pid (one this process did not spawn, e.g. from the CLI's pid file): SIGTERM, then
 * SIGKILL after timeoutMs. Resolves once the process is gone.
 * @param {number} pid @param {number} [timeoutMs]
 */
async function stopPid(pid, timeoutMs = 30_000) {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      await sleep(200);
      return;
    }
    await sleep(100);
  }
}

/** Children that must not outlive this process (non-detached brokers). */
/** @type {Set<import('node:child_process').ChildProcess>} */
const liveChildren = new Set();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// Files in the data dir

/** @param {string} file @param {number} lines */
function tail(file, lines) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  } catch {
    return '';
  }
}

/** @param {string} dataDir */
function logTail(dataDir, lines = 40) {
  const parts = [];
  const out = tail(path.join(dataDir, 'broker.out'), 15);
  if (out) parts.push(`--- ${path.join(dataDir, 'broker.out')} (tail) ---\n${out}`);
  const log = tail(path.join(dataDir, 'broker.log'), lines);
  if (log) parts.push(`--- ${path.join(dataDir, 'broker.log')} (tail) ---\n${log}`);
  return parts.join('\n') || '(the broker wrote no log)';
}

/**
 * A KRaft cluster id: 16 random bytes in URL-safe base64 without padding, as Kafka's Uuid prints it.
 * (Kafka rejects ids that start with '-', which its own Uuid.randomUuid avoids too.)
 */
function newClusterId() {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * @param {{ port: number, controllerPort: number, dataDir: string, extra: Record<string, string | number | boolean> }} o
 * @returns {string}
 */
function serverProperties({ port, controllerPort, dataDir, extra }) {
  return [
    '# Written by tools/kafka/broker.cjs on every start; edits are overwritten.',
    '# KRaft combined mode: this one process is the broker and the (only) controller.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${path.join(dataDir, 'logs')}`,
    '',
    '# One node: every internal topic has replication factor 1.',
    'num.partitions=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    '# 50 partitions each by default: slow to create on the first consumer group / transaction, pointless here.',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.num.partitions=4',
    '',
    '# Tests: a consumer group is ready at once instead of waiting 3 s for more members.',
    'group.initial.rebalance.delay.ms=0',
    "# Kafka's own default, kept for convenience (a producer may write to a topic nobody created).",
    '# Tests that must prove topics are declared should create them with the admin client anyway.',
    'auto.create.topics.enable=true',
    'delete.topic.enable=true',
    '',
    '# A 2-core box: fewer threads, smaller buffers, quicker start and shutdown.',
    'num.network.threads=2',
    'num.io.threads=4',
    'background.threads=4',
    'num.recovery.threads.per.data.dir=1',
    'log.cleaner.threads=1',
    'log.cleaner.dedupe.buffer.size=16777216',
    '',
    "# After a SIGKILL the restarted controller keeps the dead incarnation's session alive for",
    '# broker.session.timeout.ms and rejects the new one (DUPLICATE_BROKER_REGISTRATION) until then:',
    '# 9 s by default. Heartbeats stay inside this one process, so 3 s (6 heartbeats) is ample.',
    'broker.heartbeat.interval.ms=500',
    'broker.session.timeout.ms=3000',
    ...Object.entries(extra).map(([k, v]) => `${k}=${v}`),
    '',
  ].join('\n');
}

/** @param {string} dataDir */
function log4jProperties(dataDir) {
  const file = path.join(dataDir, 'broker.log').replace(/\\/g, '/');
  return [
    '# Broker logs go to a file in the data dir, never to stdout.',
    'log4j.rootLogger=INFO, file',
    'log4j.appender.file=org.apache.log4j.RollingFileAppender',
    `log4j.appender.file.File=${file}`,
    'log4j.appender.file.MaxFileSize=20MB',
    'log4j.appender.file.MaxBackupIndex=1',
    'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
    '# Chatty at INFO and of no use here.',
    'log4j.logger.kafka.request.logger=WARN',
    'log4j.logger.state.change.logger=WARN',
    'log4j.logger.kafka.log.LogCleaner=WARN',
    'log4j.logger.org.apache.kafka.storage.internals.log=WARN',
    'log4j.logger.kafka.log.LogManager=WARN',
    'log4j.logger.org.apache.zookeeper=WARN',
    'log4j.logger.org.apache.kafka.clients=WARN',
    '',
  ].join('\n');
}

/** log4j for the one-shot StorageTool run: warnings to stderr (shown when formatting fails), nothing else. */
const TOOL_LOG4J = [
  'log4j.rootLogger=WARN, stderr',
  'log4j.appender.stderr=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stderr.Target=System.err',
  'log4j.appender.stderr.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n',
  '',
].join('\n');

/** JVM flags for a quick start on a small box: C1 only, serial GC, no perf data file. */
function jvmFlags(/** @type {number} */ heapMb) {
  return [
    `-Xmx${heapMb}m`,
    `-Xms${Math.min(256, heapMb)}m`,
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-XX:-UsePerfData',
    '-XX:+ExitOnOutOfMemoryError',
    '-Xshare:auto',
    '-Djava.awt.headless=true',
  ];
}

/** @param {string} dataDir */
function readBrokerJson(dataDir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dataDir, 'broker.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Readiness

/**
 * One kafkajs admin client that connects, describes the cluster and, when deep, creates and deletes a
 * probe topic (which proves that the broker is registered, unfenced and serving, not just listening).
 * @param {string[] | string} brokers
 * @param {{ timeoutMs?: number, deep?: boolean }} [opts]
 * @returns {Promise<string | undefined>} why the broker is not serving, or undefined
 */
async function probeBrokers(brokers, opts = {}) {
  const { Kafka, logLevel } = require('kafkajs');
  const timeoutMs = opts.timeoutMs ?? 3000;
  const list = Array.isArray(brokers) ? brokers : brokers.split(',').map((b) => b.trim());
  const kafka = new Kafka({
    clientId: 'lianfang-broker-probe',
    brokers: list,
    connectionTimeout: Math.min(timeoutMs, 3000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([
      (async () => {
        await admin.connect();
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length === 0) throw new Error('the cluster has no brokers yet');
        if (opts.deep) {
          const topic = `lf-broker-probe.${crypto.randomBytes(4).toString('hex')}`;
          await admin.createTopics({
            topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
            waitForLeaders: true,
            timeout: timeoutMs,
          });
          await admin.deleteTopics({ topics: [topic], timeout: timeoutMs });
        }
      })(),
      timeout,
    ]);
    return undefined;
  } catch (e) {
    return /** @type {Error} */ (e).message || String(e);
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * First-use work a fresh (or restarted) broker does lazily, done before anyone else needs it: a producer id
 * block from the controller (the first InitProducerId answers COORDINATOR_LOAD_IN_PROGRESS until then) and
 * __consumer_offsets (created and loaded on the first FindCoordinator). kafkajs retries both but logs every
 * retriable error at ERROR level, which would otherwise land in the first test that produces or consumes.
 * @param {string} brokers
 * @param {number} timeoutMs
 */
async function warmUp(brokers, timeoutMs) {
  const { Kafka, logLevel, Partitioners } = require('kafkajs');
  const retry = { retries: 100, initialRetryTime: 50, maxRetryTime: 300 };
  const kafka = new Kafka({
    clientId: 'lianfang-broker-warmup',
    brokers: [brokers],
    retry,
    requestTimeout: timeoutMs,
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    retry,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const admin = kafka.admin({ retry });
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  try {
    await Promise.race([
      (async () => {
        await producer.connect(); // InitProducerId
        await admin.connect();
        await admin.describeGroups(['lianfang-broker-warmup']); // FindCoordinator: __consumer_offsets
      })(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`warm-up took over ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

/** @param {number} port @returns {Promise<boolean>} whether something accepts TCP connections there */
function tcpOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

// ---------------------------------------------------------------------------------------------------------
// Start / stop

/**
 * Formats the storage (only when not formatted yet) and starts the broker; resolves once it serves.
 * @param {StartOptions} options
 * @returns {Promise<BrokerHandle>}
 */
async function startBroker(options) {
  const { port: wantedPort = 0, heapMb = 768, timeoutMs = 90_000, detached = false } = options;
  const progress = options.onProgress ?? (() => undefined);
  if (!options.dataDir) throw new Error('startBroker: dataDir is required');
  const dataDir = path.resolve(options.dataDir);

  const javaProblem = javaMissing();
  if (javaProblem) throw new Error(javaProblem);
  const classpath = await fetchClasspath({ onProgress: progress });
  const java = javaCommand();

  fs.mkdirSync(dataDir, { recursive: true });
  const previous = readBrokerJson(dataDir);
  if (previous?.pid && isAlive(previous.pid) && isKafkaBroker(previous.pid, dataDir)) {
    throw new Error(`a broker (pid ${previous.pid}) is already running on ${dataDir}; stop it first`);
  }

  const port = wantedPort || (await freePort());
  if (wantedPort) await requireFreePort(port, 'Kafka');
  let controllerPort = options.controllerPort ?? previous?.controllerPort ?? 0;
  if (controllerPort && controllerPort !== options.controllerPort && !(await portIsFree(controllerPort))) {
    controllerPort = 0; // the remembered one is taken: any other works, the quorum has one voter
  }
  if (controllerPort) await requireFreePort(controllerPort, 'KRaft controller');
  else {
    do controllerPort = await freePort();
    while (controllerPort === port);
  }

  const propsFile = path.join(dataDir, 'server.properties');
  const log4jFile = path.join(dataDir, 'log4j.properties');
  fs.writeFileSync(
    propsFile,
    serverProperties({ port, controllerPort, dataDir, extra: options.properties ?? {} }),
  );
  fs.writeFileSync(log4jFile, log4jProperties(dataDir));
  const common = [`-Dkafka.logs.dir=${dataDir}`, '-cp', classpath];

  const started = Date.now();
  if (!fs.existsSync(path.join(dataDir, 'logs', 'meta.properties'))) {
    progress(`formatting storage in ${dataDir}`);
    const toolLog4j = path.join(dataDir, 'log4j-tool.properties');
    fs.writeFileSync(toolLog4j, TOOL_LOG4J);
    const fmt = spawnSync(
      java,
      [
        ...jvmFlags(256),
        `-Dlog4j.configuration=file:${toolLog4j}`,
        ...common,
        'kafka.tools.StorageTool',
        'format',
        '--ignore-formatted',
        '-t',
        newClusterId(),
        '-c',
        propsFile,
      ],
      { cwd: dataDir, encoding: 'utf8' },
    );
    if (fmt.status !== 0) {
      throw new Error(
        `formatting the Kafka storage failed (exit ${fmt.status ?? fmt.signal}):\n${fmt.stdout}${fmt.stderr}`,
      );
    }
  }

  progress(`starting Kafka on 127.0.0.1:${port} (controller ${controllerPort}, data ${dataDir})`);
  const out = fs.openSync(path.join(dataDir, 'broker.out'), 'a');
  const child = spawn(
    java,
    [
      ...jvmFlags(heapMb),
      ...(options.jvmOptions ?? []),
      `-Dlog4j.configuration=file:${log4jFile}`,
      ...common,
      'kafka.Kafka',
      propsFile,
    ],
    {
      cwd: dataDir,
      stdio: ['ignore', out, out],
      detached,
    },
  );
  fs.closeSync(out);
  /** @type {Promise<number | null>} */
  const exited = new Promise((resolve) => {
    child.once('exit', (code) => {
      liveChildren.delete(child);
      resolve(code);
    });
    child.once('error', () => {
      liveChildren.delete(child);
      resolve(-1);
    });
  });
  let running = true;
  void exited.then(() => {
    running = false;
  });
  if (detached) child.unref();
  else {
    installExitHook();
    liveChildren.add(child);
  }
  const pid = child.pid ?? -1;
  fs.writeFileSync(
    path.join(dataDir, 'broker.json'),
    JSON.stringify(
      {
        pid,
        port,
        controllerPort,
        heapMb,
        ownerPid: detached ? null : process.pid,
        startedAt: new Date().toISOString(),
      },
      null,
      2,
    ) + '\n',
  );

  /** @param {'SIGTERM' | 'SIGKILL'} signal */
  const signal = (signal) => {
    if (running) {
      try {
        child.kill(signal);
      } catch {
        // gone already
      }
    }
  };
  /** @type {BrokerHandle} */
  const handle = {
    brokers: `127.0.0.1:${port}`,
    port,
    controllerPort,
    dataDir,
    pid,
    heapMb,
    logFile: path.join(dataDir, 'broker.log'),
    readyInMs: 0,
    options: { ...options, dataDir, port, controllerPort, heapMb },
    isRunning: () => running,
    exited,
    kill: () => signal('SIGKILL'),
    async stop() {
      if (!running) return;
      signal('SIGTERM');
      /** @type {NodeJS.Timeout | undefined} */
      let timer;
      const late = new Promise((resolve) => {
        timer = setTimeout(() => resolve('late'), 30_000);
      });
      const outcome = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (outcome === 'late') {
        progress(`broker pid ${pid} did not stop within 30 s: SIGKILL`);
        signal('SIGKILL');
        await exited;
      }
    },
  };

  // Wait until it serves: the port accepts connections, then a real admin round trip with a probe topic.
  const deadline = started + timeoutMs;
  let lastProblem = 'not listening yet';
  let lastReport = Date.now();
  for (;;) {
    if (!running) {
      throw new Error(
        `the Kafka broker exited (code ${await exited}) before it was ready\n${logTail(dataDir)}`,
      );
    }
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(
        `the Kafka broker did not become ready within ${timeoutMs / 1000} s (last: ${lastProblem})\n${logTail(dataDir)}`,
      );
    }
    if (await tcpOpen(port)) {
      // Raced with the exit: a broker that dies mid-probe is reported at once, not after the probe's timeout.
      const problem = await Promise.race([
        probeBrokers([handle.brokers], {
          deep: true,
          timeoutMs: Math.max(1000, Math.min(10_000, deadline - Date.now())),
        }),
        exited.then(() => 'exited'),
      ]);
      if (!running) continue;
      if (!problem) {
        try {
          await warmUp(handle.brokers, Math.max(1000, deadline - Date.now()));
          break;
        } catch (e) {
          lastProblem = `warm-up: ${/** @type {Error} */ (e).message}`;
        }
      } else {
        lastProblem = problem;
      }
    }
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      progress(`still waiting for Kafka (${Math.round((Date.now() - started) / 1000)} s; ${lastProblem})`);
    }
    await sleep(200);
  }
  handle.readyInMs = Date.now() - started;
  progress(`Kafka ready on ${handle.brokers} in ${(handle.readyInMs / 1000).toFixed(1)} s (pid ${pid})`);
  return handle;
}

/**
 * Stops a broker (when still running) and starts it again on the same port, controller port and data dir:
 * every topic and committed message is still there.
 * @param {BrokerHandle} handle
 * @param {Partial<Omit<StartOptions, 'dataDir' | 'port' | 'controllerPort'>>} [options]
 * @returns {Promise<BrokerHandle>}
 */
async function restartBroker(handle, options = {}) {
  await handle.stop();
  return startBroker({
    ...handle.options,
    ...options,
    port: handle.port,
    controllerPort: handle.controllerPort,
    dataDir: handle.dataDir,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Throw-away data dirs (tests)

/** A fresh data dir under the OS temp dir; reapOrphanedBrokers() finds it again if its owner dies. */
function makeTempDataDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), TEMP_PREFIX));
}

/** Removes a data dir (the broker must be stopped). */
function removeDataDir(/** @type {string} */ dataDir) {
  fs.rmSync(dataDir, { recursive: true, force: true });
}

/**
 * Kills the brokers of dead test runs (a jest run that was SIGKILLed cannot stop its broker) and removes
 * their temp data dirs. Only touches `${os.tmpdir()}/lianfang-kafka-*` dirs whose owner process is gone.
 * @returns {number} how many dirs were reaped
 */
function reapOrphanedBrokers() {
  let reaped = 0;
  let entries;
  try {
    entries = fs.readdirSync(os.tmpdir()).filter((e) => e.startsWith(TEMP_PREFIX));
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const dir = path.join(os.tmpdir(), entry);
    const info = readBrokerJson(dir);
    let orphaned;
    if (info) orphaned = info.ownerPid && !isAlive(info.ownerPid);
    else {
      // No broker.json: abandoned before the broker started, or being set up right now.
      try {
        orphaned = Date.now() - fs.statSync(dir).mtimeMs > 3_600_000;
      } catch {
        orphaned = false;
      }
    }
    if (!orphaned) continue;
    if (info?.pid && isAlive(info.pid) && isKafkaBroker(info.pid, dir)) {
      try {
        process.kill(info.pid, 'SIGKILL');
      } catch {
        // raced with its exit
      }
    }
    removeDataDir(dir);
    reaped += 1;
  }
  return reaped;
}

module.exports = {
  startBroker,
  restartBroker,
  stopPid,
  probeBrokers,
  fetchClasspath,
  cachedClasspath,
  prerequisitesMissing,
  javaMissing,
  mavenMissing,
  isAlive,
  isKafkaBroker,
  makeTempDataDir,
  removeDataDir,
  reapOrphanedBrokers,
  logTail,
  RUNTIME_DIR,
  INSTALL_HINT,
};
