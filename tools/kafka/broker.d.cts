// Types for broker.cjs (plain CommonJS, no build step): keep in step with its JSDoc.
// TypeScript callers: `import { startBroker } from '<relative path>/tools/kafka/broker.cjs';`

export type ProgressFn = (message: string) => void;

export interface StartOptions {
  /** Client port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Where the broker keeps its logs, config and log file; created if missing. Reuse it to keep the data. */
  dataDir: string;
  /** KRaft controller port; default: the one remembered in dataDir, else a free one. */
  controllerPort?: number;
  /** Maximum heap in MB (default 768). */
  heapMb?: number;
  /** Progress lines for a person watching (downloading, formatting, starting, ready). */
  onProgress?: ProgressFn;
  /** How long to wait for the broker to serve (default 90 000 ms). */
  timeoutMs?: number;
  /** Extra server.properties entries, after (so overriding) the defaults, e.g. `{ 'log.segment.bytes': 1048576 }`. */
  properties?: Record<string, string | number | boolean>;
  /** Extra JVM flags for the broker, after (so overriding) the defaults. */
  jvmOptions?: string[];
  /** Own session, outlives this process (the CLI). Default false: killed when this process exits. */
  detached?: boolean;
}

export interface BrokerHandle {
  /** '127.0.0.1:PORT', for KAFKA_BROKERS. */
  readonly brokers: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly dataDir: string;
  readonly pid: number;
  readonly heapMb: number;
  /** The broker's log4j log (INFO, in the data dir). */
  readonly logFile: string;
  /** From spawning the JVM(s) to serving, in ms. */
  readonly readyInMs: number;
  /** What it was started with (ports resolved); restartBroker reuses it. */
  readonly options: StartOptions;
  isRunning(): boolean;
  /** SIGTERM and wait for a clean exit; SIGKILL after 30 s. */
  stop(): Promise<void>;
  /** SIGKILL, no shutdown: for fault tests. */
  kill(): void;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
}

/** Formats the storage (only when not formatted yet), starts the broker, resolves once it serves. */
export function startBroker(options: StartOptions): Promise<BrokerHandle>;
/** Stops the broker if running and starts it again on the same ports and data dir: the data is kept. */
export function restartBroker(
  handle: BrokerHandle,
  options?: Partial<Omit<StartOptions, 'dataDir' | 'port' | 'controllerPort'>>,
): Promise<BrokerHandle>;
/** SIGTERM a broker by pid, SIGKILL after timeoutMs; resolves once it is gone. */
export function stopPid(pid: number, timeoutMs?: number): Promise<void>;
/** Connects and describes the cluster (deep: also creates and deletes a probe topic). Why not, or undefined. */
export function probeBrokers(
  brokers: string[] | string,
  opts?: { timeoutMs?: number; deep?: boolean },
): Promise<string | undefined>;
/** Resolves the jars with Maven (cached by the pom's hash) and returns the classpath. */
export function fetchClasspath(opts?: { onProgress?: ProgressFn; force?: boolean }): Promise<string>;
export function cachedClasspath(): string | undefined;
/** Why no broker can start here (Java missing or too old; Maven missing while the jars are not cached). */
export function prerequisitesMissing(): string | undefined;
export function javaMissing(): string | undefined;
export function mavenMissing(): string | undefined;
export function isAlive(pid: number): boolean;
export function isKafkaBroker(pid: number, dataDir?: string): boolean;
/** A fresh data dir under the OS temp dir (lianfang-kafka-*). */
export function makeTempDataDir(): string;
export function removeDataDir(dataDir: string): void;
/** Kills brokers of dead test runs and removes their temp data dirs; returns how many. */
export function reapOrphanedBrokers(): number;
/** The tail of the broker's stdout/stderr and log file, for error messages. */
export function logTail(dataDir: string, lines?: number): string;
export const RUNTIME_DIR: string;
export const INSTALL_HINT: string;
