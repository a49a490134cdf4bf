import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ServiceDefinition } from '@lianfang/runtime';
import { service as compensationService } from '../../apps/compensation-service/src/service';
import { service as enforcementService } from '../../apps/enforcement-service/src/service';
import { service as gateway } from '../../apps/gateway/src/service';
import { service as transferService } from '../../apps/transfer-service/src/service';
import {
  interpolate,
  loadCompose,
  MissingVariableError,
  serviceDockerfile,
  serviceEnvironment,
  composeReferences,
  type ComposeFile,
  type Variables,
} from './compose';
import { generateDeploymentSecrets, type DeploymentSecrets } from './env';
import { APPS, composeFile, repoRoot, SERVICES, type AppName } from './processes';

// docker-compose.yml checked without Docker: each app's environment goes through that app's own
// configuration schema, and the wiring between containers (URLs, brokers, database) must agree.

const definitions: Record<AppName, ServiceDefinition> = {
  gateway,
  'transfer-service': transferService,
  'compensation-service': compensationService,
  'enforcement-service': enforcementService,
} as Record<AppName, ServiceDefinition>;

const text = readFileSync(composeFile, 'utf8');
/** Variables compose must refuse to start without: the secrets and the identity provider. */
const REQUIRED = [
  'POSTGRES_PASSWORD',
  'GATEWAY_PUBLIC_KEY',
  'GATEWAY_SIGNING_KEY',
  'PERSONAL_DATA_MASTER_KEY',
  'AUTH_ISSUER',
  'AUTH_JWKS_URL',
];

let secrets: DeploymentSecrets;
let examples: Record<string, string>;
let compose: ComposeFile;

/** A value for each `${VAR:?…}`: the schema's documented example, else a generated secret. */
function exampleFor(name: string): string {
  for (const def of Object.values(definitions)) {
    const example = (def.config.variables as Record<string, { example?: string }>)[name]?.example;
    if (example) return example;
  }
  const secret = (secrets as unknown as Record<string, string | undefined>)[name];
  if (secret) return secret;
  throw new Error(`no example value for ${name}: give its variable an \`example\` in the app's schema`);
}

beforeAll(async () => {
  secrets = await generateDeploymentSecrets();
  const required = [
    ...new Set(
      composeReferences(text)
        .filter((r) => r.operator.endsWith('?'))
        .map((r) => r.name),
    ),
  ];
  examples = Object.fromEntries(required.map((name) => [name, exampleFor(name)]));
  compose = loadCompose(composeFile, examples).file;
});

const env = (app: string) => serviceEnvironment(compose.services[app]);

describe('docker-compose.yml: variables', () => {
  it('refuses to start without each secret, naming it in English and Chinese', () => {
    const required = composeReferences(text).filter((r) => r.operator === ':?');
    expect([...new Set(required.map((r) => r.name))].sort()).toEqual([...REQUIRED].sort());
    for (const name of REQUIRED) {
      const without: Variables = { ...examples, [name]: '' };
      let error: unknown;
      try {
        loadCompose(composeFile, without);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MissingVariableError);
      expect((error as MissingVariableError).variable).toBe(name);
      expect((error as MissingVariableError).detail).toContain(name);
      expect((error as MissingVariableError).detail).toMatch(/[\u4e00-\u9fff]/);
    }
  });

  it('leaves no variable silently empty: each has a default or is required', () => {
    expect(loadCompose(composeFile, examples).unsetWithoutDefault).toEqual([]);
    const plain = composeReferences(text).filter(
      (r) => r.operator === '' || r.operator === '+' || r.operator === ':+',
    );
    expect(plain).toEqual([]);
  });

  it('interpolates as compose does', () => {
    expect(interpolate('${A:-x}/${B-y}/$$C/${D}', { A: '', B: '' }).value).toBe('x//$C/');
    expect(interpolate('${D}', {}).unsetWithoutDefault).toEqual(['D']);
    expect(() => interpolate('${A:?say why}', { A: '' })).toThrow(
      'required variable A is missing a value: say why',
    );
    expect(interpolate('${A?say why}', { A: '' }).value).toBe('');
  });
});

describe('docker-compose.yml: each app', () => {
  it('has the four apps, each built from its own Dockerfile in the repository', () => {
    for (const app of APPS) {
      const service = compose.services[app];
      expect(service).toBeDefined();
      expect(serviceDockerfile(service)).toBe(`apps/${app}/Dockerfile`);
      expect(existsSync(path.join(repoRoot, serviceDockerfile(service) as string))).toBe(true);
    }
    const built = Object.entries(compose.services)
      .filter(([, s]) => s.build !== undefined)
      .map(([name]) => name);
    expect(built.sort()).toEqual([...APPS].sort());
  });

  it.each(APPS)("%s: its environment passes the app's own configuration schema", (app) => {
    const result = definitions[app].config.parse(env(app));
    expect(result.ok ? [] : result.issues).toEqual([]);
  });

  it.each(APPS)('%s: sets only variables its schema declares (no typos, nothing read elsewhere)', (app) => {
    const declared = Object.keys(definitions[app].config.variables);
    expect(Object.keys(env(app)).filter((v) => !declared.includes(v))).toEqual([]);
  });

  it.each(APPS)('%s: runs as in production, listening on all interfaces on its own port', (app) => {
    const e = env(app);
    expect(e.NODE_ENV).toBe('production');
    expect(e.HOST).toBe('0.0.0.0');
    expect(Number(e.PORT)).toBe(definitions[app].defaultPort);
  });

  it.each(SERVICES)('%s: PostgreSQL event store, Kafka bus, the gateway key', (app) => {
    const e = env(app);
    expect(e).toMatchObject({ EVENT_STORE: 'postgres', BUS: 'kafka' });
    expect(e.GATEWAY_PUBLIC_KEY).toBe(examples.GATEWAY_PUBLIC_KEY);
    expect(definitions[app].config.parse(e)).toMatchObject({ ok: true });
  });

  it('gives each service a schema of its own', () => {
    const schemas = SERVICES.map((s) => env(s).DATABASE_SCHEMA);
    expect(schemas.every((s) => typeof s === 'string' && s !== '')).toBe(true);
    expect(new Set(schemas).size).toBe(SERVICES.length);
  });

  it('publishes only the gateway, on 4000', () => {
    const published = Object.entries(compose.services).filter(([, s]) => (s.ports ?? []).length > 0);
    expect(published.map(([name]) => name)).toEqual(['gateway']);
    expect(compose.services.gateway.ports).toEqual(['4000:4000']);
  });
});

describe('docker-compose.yml: wiring between containers', () => {
  const urlVariables = ['TRANSFER_SERVICE_URL', 'COMPENSATION_SERVICE_URL', 'ENFORCEMENT_SERVICE_URL'];

  it("points the gateway's subgraph URLs at the services' compose names and ports", () => {
    const gatewayEnv = env('gateway');
    const targets = urlVariables.map((name) => {
      const url = new URL(gatewayEnv[name]);
      const target = url.hostname;
      expect(SERVICES).toContain(target);
      expect(url.protocol).toBe('http:');
      expect(url.port).toBe(env(target).PORT);
      expect(url.pathname).toBe('/graphql');
      return target;
    });
    expect(targets.sort()).toEqual([...SERVICES].sort());
  });

  it('starts the gateway after every service is healthy, and the services after PostgreSQL and Kafka', () => {
    const healthyDeps = (app: string) =>
      Object.entries((compose.services[app].depends_on ?? {}) as Record<string, { condition?: string }>)
        .filter(([, d]) => d.condition === 'service_healthy')
        .map(([name]) => name)
        .sort();
    expect(healthyDeps('gateway')).toEqual([...SERVICES].sort());
    for (const s of SERVICES) expect(healthyDeps(s)).toEqual(['kafka', 'postgres']);
    for (const infra of ['kafka', 'postgres'])
      expect(compose.services[infra].healthcheck?.test).toBeDefined();
  });

  it("gives the services the kafka service's advertised listener as KAFKA_BROKERS", () => {
    const kafka = env('kafka');
    const advertised = kafka.KAFKA_ADVERTISED_LISTENERS.split(',').map(
      (l) => new URL(l.replace(/^\w+:/, 'x:')),
    );
    expect(advertised).toHaveLength(1);
    const broker = `${advertised[0].hostname}:${advertised[0].port}`;
    expect(broker).toBe('kafka:9092');
    for (const s of SERVICES) expect(env(s).KAFKA_BROKERS).toBe(broker);
    // The advertised port is one the broker listens on, and the controller quorum is this one node.
    const listeners = kafka.KAFKA_LISTENERS.split(',');
    expect(listeners).toContain(`PLAINTEXT://:${advertised[0].port}`);
    const controller = listeners.find((l) => l.startsWith(`${kafka.KAFKA_CONTROLLER_LISTENER_NAMES}://`));
    expect(kafka.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe(
      `${kafka.KAFKA_NODE_ID}@kafka:${(controller as string).split(':').pop()}`,
    );
    expect(kafka.KAFKA_PROCESS_ROLES.split(',').sort()).toEqual(['broker', 'controller']);
  });

  it('runs the Kafka version the tests run (tools/kafka/pom.xml)', () => {
    const pom = readFileSync(path.join(repoRoot, 'tools/kafka/pom.xml'), 'utf8');
    const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
    expect(compose.services.kafka.image).toBe(`apache/kafka:${version}`);
  });

  it("gives the services PostgreSQL 15's database, user and password", () => {
    const pg = env('postgres');
    expect(compose.services.postgres.image).toMatch(/^postgres:15(\.|-|$)/);
    for (const s of SERVICES) {
      const url = new URL(env(s).DATABASE_URL);
      expect(url.host).toBe('postgres:5432');
      expect(url.username).toBe(pg.POSTGRES_USER);
      expect(decodeURIComponent(url.password)).toBe(pg.POSTGRES_PASSWORD);
      expect(url.pathname).toBe(`/${pg.POSTGRES_DB}`);
    }
  });

  it('keeps the data of PostgreSQL and Kafka in named volumes', () => {
    const mounts = (name: string) => (compose.services[name].volumes ?? []) as string[];
    expect(mounts('postgres')).toContain('postgres-data:/var/lib/postgresql/data');
    expect(mounts('kafka')).toContain('kafka-data:/var/lib/kafka/data');
    expect(env('kafka').KAFKA_LOG_DIRS).toBe('/var/lib/kafka/data');
    expect(Object.keys(compose.volumes ?? {})).toEqual(
      expect.arrayContaining(['postgres-data', 'kafka-data']),
    );
  });

  it('keeps KurrentDB under the eventstoredb profile, needed by no app yet', () => {
    expect(compose.services.kurrentdb.profiles).toEqual(['eventstoredb']);
    for (const app of APPS)
      expect(Object.keys(compose.services[app].depends_on ?? {})).not.toContain('kurrentdb');
  });
});
