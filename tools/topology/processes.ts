import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadCompose, serviceEnvironment, type Variables } from './compose';
import {
  readDockerfile,
  removeStaged,
  runBuildStage,
  stageImage,
  type StageFilesystem,
  type StagedImage,
} from './dockerfile';
import { generateDeploymentSecrets, type DeploymentSecrets } from './env';
import { startTestIssuer, type TestIssuer } from './issuer';

/**
 * The production topology as separate processes, without Docker: each app runs from the files its
 * Dockerfile copies into the image (laid out by `stageImage`), with the command, working directory and
 * ENV of the image and the environment docker-compose.yml gives it, pointed at a real PostgreSQL and
 * Kafka. Only what cannot be the same outside containers is replaced:
 *
 * - host names of compose services become 127.0.0.1 and their ports free local ports (HOST=127.0.0.1);
 * - DATABASE_URL becomes the test database, KAFKA_BROKERS the test broker;
 * - the secrets compose asks for are generated (ES256 gateway key pair, a password) and the identity
 *   provider is a local test issuer (AUTH_ISSUER, AUTH_JWKS_URL).
 */
export const SERVICES = ['transfer-service', 'compensation-service', 'enforcement-service'] as const;
export const APPS = [...SERVICES, 'gateway'] as const;
export type ServiceName = (typeof SERVICES)[number];
export type AppName = (typeof APPS)[number];
export type Env = Record<string, string>;

export const repoRoot = path.resolve(__dirname, '../..');
export const composeFile = path.join(repoRoot, 'docker-compose.yml');
export const dockerfileOf = (app: AppName) => path.join(repoRoot, 'apps', app, 'Dockerfile');

// ---------------------------------------------------------------------------------------------------------
// Build and images

export interface PreparedImages {
  /** The temporary directory holding the build stage and one laid-out image per app. */
  readonly dir: string;
  readonly images: Readonly<Record<AppName, StagedImage>>;
  remove(): void;
}

/**
 * Carries out each app's Dockerfile on this machine, under a temporary directory: the build stage for
 * real (its COPY lines, `node tools/build.mjs`, `rm -rf`; once when the four share it word for word),
 * then the runtime stage laid out from it. The repository's own dist/ is neither used nor touched, so
 * builds running elsewhere at the same time cannot disturb it. A runtime COPY source that does not exist
 * is collected in `images[app].missing` rather than thrown, for a test to name.
 */
export async function prepareImages(): Promise<PreparedImages> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lianfang-topology-'));
  const nodeModules = path.join(repoRoot, 'node_modules');
  try {
    const built = new Map<string, Map<string, StageFilesystem>>();
    const images = {} as Record<AppName, StagedImage>;
    for (const app of APPS) {
      const dockerfile = readDockerfile(dockerfileOf(app));
      const buildStages = dockerfile.stages.slice(0, -1);
      const key = JSON.stringify(
        buildStages.map((s) => [s.name, s.base, s.instructions.map((i) => [i.keyword, i.args])]),
      );
      let stages = built.get(key);
      if (!stages) {
        stages = new Map();
        for (const stage of buildStages) {
          if (!stage.name) continue;
          const into = path.join(dir, `stage-${built.size}-${stage.name}`);
          stages.set(
            stage.name,
            await runBuildStage({ dockerfile, stage: stage.name, contextDir: repoRoot, into, nodeModules }),
          );
        }
        built.set(key, stages);
      }
      images[app] = stageImage({
        dockerfile,
        contextDir: repoRoot,
        stages,
        into: path.join(dir, app),
        nodeModules,
        onMissing: 'collect',
      });
    }
    return { dir, images, remove: () => removeStaged(dir) };
  } catch (e) {
    removeStaged(dir);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Processes

/** Ports the system has just handed out as free (closed again at once: the child binds them). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface AppProcess {
  readonly app: AppName;
  readonly pid: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The environment it was started with (besides PATH and the image's ENV). */
  readonly env: Readonly<Env>;
  /** Its stdout and stderr so far, interleaved (the last 256 kB). */
  output(): string;
  readonly exited: Promise<ExitStatus>;
  isRunning(): boolean;
  /** Resolves once GET /ready answers 200; rejects with its output if it exits or the time runs out. */
  waitUntilReady(timeoutMs?: number): Promise<void>;
  /** SIGTERM and wait; SIGKILL after `timeoutMs` (the status then shows the signal). */
  stop(timeoutMs?: number): Promise<ExitStatus>;
}

const OUTPUT_LIMIT = 256 * 1024;

/** The image's CMD, in its WORKDIR, with PATH, the image's ENV and `env` (nothing else inherited). */
export function spawnImage(image: StagedImage, env: Env, command = image.image.cmd): ChildProcess {
  const [exe, ...args] = command;
  return spawn(exe === 'node' ? process.execPath : exe, args, {
    cwd: image.workdir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...image.image.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function startApp(app: AppName, image: StagedImage, env: Env): AppProcess {
  const port = Number(env.PORT ?? image.image.env.PORT);
  const child = spawnImage(image, env);
  let output = '';
  const collect = (d: Buffer) => {
    output += d.toString();
    if (output.length > OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let running = true;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.on('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
    child.on('error', (e) => {
      running = false;
      output += `\n[harness] could not start: ${e.message}\n`;
      resolve({ code: null, signal: null });
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const describe = (what: string) =>
    `${app} (pid ${child.pid}) ${what}\n----- ${app} output -----\n${output.slice(-8000)}\n----- end of ${app} output -----`;

  return {
    app,
    pid: child.pid ?? -1,
    url,
    env,
    output: () => output,
    exited,
    isRunning: () => running,
    async waitUntilReady(timeoutMs = 45_000) {
      const deadline = Date.now() + timeoutMs;
      let last = 'no answer yet';
      while (Date.now() < deadline) {
        if (!running) {
          const status = await exited;
          throw new Error(
            describe(`exited before it was ready (code ${status.code}, signal ${status.signal})`),
          );
        }
        try {
          const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2000) });
          if (res.status === 200) return;
          last = `GET /ready ${res.status}: ${(await res.text()).slice(0, 500)}`;
        } catch (e) {
          last = `GET /ready: ${(e as Error).message}`;
        }
        await new Promise((r) => setTimeout(r, 150));
      }
      throw new Error(describe(`was not ready within ${timeoutMs} ms (${last})`));
    },
    async stop(timeoutMs = 15_000) {
      if (!running) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const status = await exited;
      clearTimeout(timer);
      return status;
    },
  };
}

export interface RunResult extends ExitStatus {
  readonly output: string;
}

/** Runs a command of the image (its CMD by default) until it exits by itself; SIGKILL after `timeoutMs`. */
export async function runToExit(
  image: StagedImage,
  env: Env,
  options: { command?: readonly string[]; timeoutMs?: number } = {},
): Promise<RunResult> {
  const child = spawnImage(image, env, options.command);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => {
    output += `\n[harness] still running after ${options.timeoutMs ?? 30_000} ms: killed\n`;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 30_000);
  const status = await new Promise<ExitStatus>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  clearTimeout(timer);
  return { ...status, output };
}

// ---------------------------------------------------------------------------------------------------------
// Environments from docker-compose.yml

export interface LocalPlacement {
  readonly ports: Readonly<Record<AppName, number>>;
  readonly databaseUrl: string;
  readonly kafkaBrokers: readonly string[];
}

/** An app's environment exactly as docker-compose.yml gives it, with `variables` for `${…}`. */
export function composeEnvironment(app: AppName, variables: Variables): Env {
  const service = loadCompose(composeFile, variables).file.services[app];
  if (!service) throw new Error(`docker-compose.yml has no service ${app}`);
  return serviceEnvironment(service);
}

/** The compose environment moved onto this machine (see the module comment for what changes). */
export function localEnvironment(app: AppName, composeEnv: Env, placement: LocalPlacement): Env {
  const env: Env = { ...composeEnv, HOST: '127.0.0.1', PORT: String(placement.ports[app]) };
  for (const [name, value] of Object.entries(env)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      continue;
    }
    const target = APPS.find((a) => a === url.hostname);
    if (target && /^https?:$/.test(url.protocol)) {
      url.hostname = '127.0.0.1';
      url.port = String(placement.ports[target]);
      env[name] = url.toString();
    }
  }
  if ('DATABASE_URL' in env) env.DATABASE_URL = placement.databaseUrl;
  if ('KAFKA_BROKERS' in env) env.KAFKA_BROKERS = placement.kafkaBrokers.join(',');
  return env;
}

// ---------------------------------------------------------------------------------------------------------
// The whole topology

export interface TopologyOptions {
  readonly databaseUrl: string;
  readonly kafkaBrokers: readonly string[];
  /** Laid-out images to run (default: `prepareImages()`, removed again by `stop`). */
  readonly images?: PreparedImages;
  /** Variables added to (or replacing) an app's environment after the compose one. */
  readonly overrides?: Partial<Record<AppName, Env>>;
  readonly readyTimeoutMs?: number;
  /**
   * true (default): an app that is not ready fails the start (everything is stopped again). false: the
   * start resolves anyway and `notReady` says which app failed and why, so that each test can report
   * its own app.
   */
  readonly requireReady?: boolean;
}

export interface Topology {
  readonly apps: Readonly<Record<AppName, AppProcess>>;
  /** Why an app did not become ready (with its output); empty when all are. */
  readonly notReady: Readonly<Partial<Record<AppName, Error>>>;
  readonly issuer: TestIssuer;
  /** What `.env` would hold: the gateway's key pair (PEM, one line) and the database password. */
  readonly secrets: DeploymentSecrets;
  readonly images: PreparedImages;
  /** The variables docker-compose.yml was interpolated with. */
  readonly variables: Variables;
  url(app: AppName): string;
  /** SIGTERM to every app (gateway first), then closes the issuer and removes images it prepared. */
  stop(): Promise<Record<AppName, ExitStatus>>;
}

/** Starts the three services, waits until each is ready, then the gateway. */
export async function startTopology(options: TopologyOptions): Promise<Topology> {
  const ownImages = !options.images;
  const images = options.images ?? (await prepareImages());
  const issuer = await startTestIssuer({ dir: images.dir });
  const secrets = await generateDeploymentSecrets();
  const variables: Variables = {
    ...secrets,
    AUTH_ISSUER: issuer.issuer,
    AUTH_AUDIENCE: issuer.audience,
    AUTH_JWKS_URL: issuer.jwksUrl,
  };
  const ports = await freePorts(APPS.length);
  const placement: LocalPlacement = {
    ports: Object.fromEntries(APPS.map((a, i) => [a, ports[i]])) as Record<AppName, number>,
    databaseUrl: options.databaseUrl,
    kafkaBrokers: options.kafkaBrokers,
  };
  const envOf = (app: AppName): Env => ({
    ...localEnvironment(app, composeEnvironment(app, variables), placement),
    ...(options.overrides?.[app] ?? {}),
  });

  const started: AppProcess[] = [];
  const notReady: Partial<Record<AppName, Error>> = {};
  let stopped: Promise<Record<AppName, ExitStatus>> | undefined;
  const stopAll = () =>
    (stopped ??= (async () => {
      const statuses = {} as Record<AppName, ExitStatus>;
      // The gateway first: it is the one calling the others.
      for (const p of [...started].reverse()) statuses[p.app] = await p.stop();
      await issuer.close();
      if (ownImages) images.remove();
      return statuses;
    })());
  const ready = (p: AppProcess) =>
    p.waitUntilReady(options.readyTimeoutMs).catch((e: Error) => {
      notReady[p.app] = e;
    });
  try {
    const services = SERVICES.map((s) => startApp(s, images.images[s], envOf(s)));
    started.push(...services);
    await Promise.all(services.map(ready));
    const gateway = startApp('gateway', images.images.gateway, envOf('gateway'));
    started.push(gateway);
    await ready(gateway);
  } catch (e) {
    await stopAll();
    throw e;
  }
  const failed = Object.values(notReady);
  if (failed.length > 0 && options.requireReady !== false) {
    await stopAll();
    throw new Error(failed.map((e) => e.message).join('\n\n'));
  }
  const apps = Object.fromEntries(started.map((p) => [p.app, p])) as Record<AppName, AppProcess>;
  return {
    apps,
    notReady,
    issuer,
    secrets,
    images,
    variables,
    url: (app) => apps[app].url,
    stop: stopAll,
  };
}
