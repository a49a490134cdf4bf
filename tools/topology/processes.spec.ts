import { readFileSync } from 'node:fs';
import path from 'node:path';
import { generateKeyPair } from 'jose';
import {
  createIdentitySigner,
  IDENTITY_HEADER,
  parsePrivateKey,
  type AgencyKind,
  type Identity,
  type Role,
} from '@lianfang/auth';
import { describeWithKafka, kafkaBrokers, useTestDatabase } from '@lianfang/testing';
import type { UserClaims } from './issuer';
import {
  APPS,
  composeEnvironment,
  localEnvironment,
  prepareImages,
  runToExit,
  SERVICES,
  startTopology,
  type AppName,
  type Env,
  type ExitStatus,
  type PreparedImages,
  type RunResult,
  type ServiceName,
  type Topology,
} from './processes';

// The production topology run for real, without Docker: the four apps as separate processes, each from
// the files its Dockerfile puts in the image and with the environment docker-compose.yml gives it, on a
// fresh PostgreSQL database and the test run's Kafka broker.

let prepared: PreparedImages;
beforeAll(async () => {
  prepared = await prepareImages();
}, 60_000);
afterAll(() => prepared?.remove());

/** The compose environment of `app` on this machine, with example secrets: valid as it stands. */
function validEnvironment(app: AppName): Env {
  const variables = {
    GATEWAY_SIGNING_KEY: 'unused: set per test',
    GATEWAY_PUBLIC_KEY: 'unused: set per test',
    POSTGRES_PASSWORD: 'unused',
    PERSONAL_DATA_MASTER_KEY: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    AUTH_ISSUER: 'https://sso.example.gov.cn/realms/lianfang',
    AUTH_JWKS_URL: 'https://sso.example.gov.cn/realms/lianfang/certs',
  };
  const ports = Object.fromEntries(APPS.map((a) => [a, 1])) as Record<AppName, number>;
  return localEnvironment(app, composeEnvironment(app, variables), {
    ports,
    databaseUrl: 'postgres://postgres@127.0.0.1:1/never',
    kafkaBrokers: ['127.0.0.1:1'],
  });
}

/** The variables named in a ConfigurationError's lines (`  NAME: message [rule]`). */
const namedVariables = (output: string) =>
  [...output.matchAll(/^ {2}([A-Z][A-Z0-9_]*): .*\[\w+\]$/gm)].map((m) => m[1]);

describe('a misconfigured app stops before it starts, exit 78, naming the variable', () => {
  const cases: { app: AppName; what: string; change: (env: Env) => void; variable: string }[] = [
    {
      app: 'transfer-service',
      what: 'EVENT_STORE=mysql',
      change: (e) => (e.EVENT_STORE = 'mysql'),
      variable: 'EVENT_STORE',
    },
    {
      app: 'compensation-service',
      what: 'BUS=kafka without KAFKA_BROKERS',
      change: (e) => delete e.KAFKA_BROKERS,
      variable: 'KAFKA_BROKERS',
    },
    {
      app: 'enforcement-service',
      what: 'EVENT_STORE=postgres without DATABASE_URL',
      change: (e) => delete e.DATABASE_URL,
      variable: 'DATABASE_URL',
    },
    {
      app: 'transfer-service',
      what: 'production without GATEWAY_PUBLIC_KEY',
      change: (e) => delete e.GATEWAY_PUBLIC_KEY,
      variable: 'GATEWAY_PUBLIC_KEY',
    },
    {
      app: 'gateway',
      what: 'production without GATEWAY_SIGNING_KEY',
      change: (e) => delete e.GATEWAY_SIGNING_KEY,
      variable: 'GATEWAY_SIGNING_KEY',
    },
    {
      app: 'gateway',
      what: 'production without AUTH_ISSUER',
      change: (e) => delete e.AUTH_ISSUER,
      variable: 'AUTH_ISSUER',
    },
  ];

  // The processes run side by side (each loads the whole app before its configuration is read).
  let results: RunResult[];
  beforeAll(async () => {
    results = await Promise.all(
      cases.map(({ app, change }) => {
        const env = validEnvironment(app);
        change(env);
        return runToExit(prepared.images[app], env, { timeoutMs: 80_000 });
      }),
    );
  }, 90_000);

  it.each(cases.map((c, i) => ({ ...c, i })))('$app with $what', ({ variable, i }) => {
    const result = results[i];
    expect({ code: result.code, named: namedVariables(result.output) }).toEqual({
      code: 78,
      named: [variable],
    });
    expect(result.output).toContain('configuration is invalid / 配置无效');
  });
});

describeWithKafka('the production topology, one process per app', () => {
  const db = useTestDatabase('topology');
  let topology: Topology;
  let stopped: Record<AppName, ExitStatus> | undefined;

  beforeAll(async () => {
    topology = await startTopology({
      databaseUrl: db().url,
      kafkaBrokers: kafkaBrokers(),
      images: prepared,
      requireReady: false,
      readyTimeoutMs: 30_000,
    });
  }, 60_000);

  afterAll(async () => {
    if (!stopped) await topology?.stop();
  });

  /** Fails with the app's own output when it did not come up. */
  const up = (app: AppName) => {
    const failure = topology.notReady[app];
    if (failure) throw failure;
    return topology.apps[app];
  };

  it.each(APPS)('%s answers /health and /ready', async (app) => {
    const p = up(app);
    for (const probe of ['health', 'ready']) {
      const res = await fetch(`${p.url}/${probe}`);
      expect([probe, res.status]).toEqual([probe, 200]);
      expect(await res.json()).toMatchObject({ status: 'ok', service: app });
    }
  });

  it.each(APPS)("%s passes its image's HEALTHCHECK", async (app) => {
    const p = up(app);
    const image = prepared.images[app];
    const result = await runToExit(
      image,
      { PORT: p.env.PORT },
      { command: image.image.healthcheck, timeoutMs: 10_000 },
    );
    expect({ code: result.code, output: result.output }).toEqual({ code: 0, output: '' });
  });

  it('keeps each service in its own PostgreSQL schema of the one database', async () => {
    for (const s of SERVICES) up(s);
    const { rows } = await db()
      .pool({ max: 1 })
      .query<{ schema: string }>(
        `SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'schema_migrations' ORDER BY 1`,
      );
    const expected = SERVICES.map((s) => topology.apps[s].env.DATABASE_SCHEMA).sort();
    expect(rows.map((r) => r.schema)).toEqual(expected);
  });

  // ----- identity: these need the gateway (issuer, signing, /graphql) and the subgraphs' /graphql -----

  /** A member of the deployment's directory, as the organisation's identity provider would name them. */
  function directoryUser(): UserClaims {
    const image = prepared.images.gateway;
    const file = path.resolve(image.workdir, topology.apps.gateway.env.DIRECTORY_FILE);
    const directory = JSON.parse(readFileSync(file, 'utf8')) as {
      agencies: { id: string; kind: string; jurisdiction: string; roles: string[] }[];
    };
    const agency = directory.agencies[0];
    return {
      sub: 'topology-test-user',
      agency_id: agency.id,
      agency_kind: agency.kind,
      jurisdiction: agency.jurisdiction,
      roles: [agency.roles[0]],
    };
  }

  /** Each subgraph owns one root field, named after it: `transfer-service` → `transferServiceInfo`. */
  const infoField = (service: ServiceName) =>
    `${service.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())}Info`;
  const infoQuery = (services: readonly ServiceName[]) =>
    `{ ${services.map((s) => `${infoField(s)} { name eventStore bus }`).join(' ')} }`;

  interface Answer {
    status: number;
    text: string;
    body: {
      data?: Record<string, { name: string; eventStore: string; bus: string } | null> | null;
      errors?: unknown[];
    };
  }

  async function graphql(url: string, query: string, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
    const text = await res.text();
    let body: Answer['body'] = {};
    try {
      body = JSON.parse(text) as Answer['body'];
    } catch {
      // not JSON: kept as text for the failure message
    }
    return { status: res.status, text, body };
  }

  /** Refused: no data, and the authentication code in the answer. */
  function expectRefused(answer: Answer, code: string) {
    const data = Object.values(answer.body.data ?? {}).filter((v) => v !== null);
    expect({ status: answer.status < 500, data }).toEqual({ status: true, data: [] });
    expect(answer.text).toContain(code);
  }

  async function gatewayIdentity(identity: Identity, signingKey: string): Promise<string> {
    return createIdentitySigner(await parsePrivateKey(signingKey)).sign(identity);
  }

  function identityOf(user: UserClaims): Identity {
    return {
      subject: user.sub,
      agencyId: user.agency_id,
      agencyKind: user.agency_kind as AgencyKind,
      jurisdiction: user.jurisdiction,
      roles: user.roles as Role[],
    };
  }

  it("carries a user's token through the gateway to every subgraph", async () => {
    up('gateway');
    const token = await topology.issuer.token(directoryUser());
    const answer = await graphql(topology.url('gateway'), infoQuery(SERVICES), {
      authorization: `Bearer ${token}`,
    });
    expect({ status: answer.status, errors: answer.body.errors ?? [] }).toEqual({ status: 200, errors: [] });
    // Each field is resolved by its own subgraph, which answers only the gateway's signed identity.
    for (const s of SERVICES)
      expect(answer.body.data?.[infoField(s)]).toEqual({ name: s, eventStore: 'POSTGRES', bus: 'KAFKA' });
    // And the identity that arrives is the user's: transfer-service says whom it took the caller for.
    const user = directoryUser();
    const who = await graphql(topology.url('gateway'), '{ whoami { subject roles agency { id } } }', {
      authorization: `Bearer ${token}`,
    });
    expect(who.body.data?.whoami).toEqual({
      subject: user.sub,
      roles: user.roles.map((r) => r.toUpperCase()),
      agency: { id: user.agency_id },
    });
  });

  it('refuses at the gateway a request without a token', async () => {
    up('gateway');
    expectRefused(await graphql(topology.url('gateway'), infoQuery(SERVICES)), 'TOKEN_MISSING');
  });

  it('refuses at the gateway an expired token', async () => {
    up('gateway');
    const token = await topology.issuer.token(directoryUser(), { expiresInSeconds: -120 });
    const answer = await graphql(topology.url('gateway'), infoQuery(SERVICES), {
      authorization: `Bearer ${token}`,
    });
    expectRefused(answer, 'TOKEN_EXPIRED');
  });

  it('refuses at the gateway a token the issuer did not sign', async () => {
    up('gateway');
    const token = await topology.issuer.forgedToken(directoryUser());
    const answer = await graphql(topology.url('gateway'), infoQuery(SERVICES), {
      authorization: `Bearer ${token}`,
    });
    expectRefused(answer, 'TOKEN_INVALID');
  });

  it.each(SERVICES)('%s answers a request the gateway signed', async (service: ServiceName) => {
    const p = up(service);
    const identity = await gatewayIdentity(identityOf(directoryUser()), topology.secrets.GATEWAY_SIGNING_KEY);
    const answer = await graphql(p.url, infoQuery([service]), { [IDENTITY_HEADER]: identity });
    expect({ status: answer.status, errors: answer.body.errors ?? [] }).toEqual({ status: 200, errors: [] });
    expect(answer.body.data?.[infoField(service)]).toEqual({
      name: service,
      eventStore: 'POSTGRES',
      bus: 'KAFKA',
    });
  });

  it.each(SERVICES)(
    '%s refuses a direct call without the gateway-signed identity',
    async (service: ServiceName) => {
      const p = up(service);
      expectRefused(await graphql(p.url, infoQuery([service])), 'IDENTITY_MISSING');
      const { privateKey } = await generateKeyPair('ES256');
      const forged = await createIdentitySigner(privateKey).sign(identityOf(directoryUser()));
      expectRefused(
        await graphql(p.url, infoQuery([service]), { [IDENTITY_HEADER]: forged }),
        'IDENTITY_INVALID',
      );
    },
  );

  // Last: stopping is part of running for real. (An app that never came up has failed its own tests.)
  it('stops every app cleanly on SIGTERM: exit code 0', async () => {
    const cameUp = APPS.filter((a) => !topology.notReady[a]);
    expect(cameUp.length).toBeGreaterThan(0);
    stopped = await topology.stop();
    const statuses = Object.fromEntries(
      cameUp.map((app) => {
        const { code, signal } = stopped?.[app] as ExitStatus;
        // The output only when it did not exit cleanly, to show why.
        return [
          app,
          { code, signal, ...(code === 0 ? {} : { output: topology.apps[app].output().slice(-1500) }) },
        ];
      }),
    );
    expect(statuses).toEqual(Object.fromEntries(cameUp.map((app) => [app, { code: 0, signal: null }])));
  });
});
