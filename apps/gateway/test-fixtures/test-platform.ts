import { promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import {
  AuthenticationError,
  CORRELATION_HEADER,
  createForwardedIdentityVerifier,
  IDENTITY_HEADER,
  type Identity,
} from '@lianfang/auth';
import { startService, type RunningService } from '@lianfang/runtime';
import { GraphQLError, parse } from 'graphql';
import type { KeyLike } from 'jose';
import { service } from '../src/service';

/**
 * Small subgraphs standing in for the platform's services, composed into a supergraph the way
 * `npm run schema` composes the real ones. Each verifies the gateway-forwarded identity exactly as a
 * real subgraph must, and remembers what it was sent.
 */

const FEDERATION = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])';

export const TRANSFER_SDL = `${FEDERATION}
  type Query {
    whoAmI: Caller!
    transfer(id: ID!): Transfer
    transfers(first: Int): [Transfer!]!
    "Fails with an unexpected error whose text must never reach a production caller."
    boom: String
    "Answers only once the test releases it: a subgraph that hangs."
    hang: String
  }
  type Caller {
    subject: String!
    agencyId: String!
    agencyKind: String!
    jurisdiction: String!
    roles: [String!]!
  }
  type Transfer @key(fields: "id") {
    id: ID!
    wasteCode: String!
    next: Transfer
  }
`;

export const COMPENSATION_SDL = `${FEDERATION}
  type Query {
    accrualCount: Int!
  }
  type Transfer @key(fields: "id") {
    id: ID!
    compensationFen: Int!
  }
`;

export const ENFORCEMENT_SDL = `${FEDERATION}
  type Query {
    openCases: Int
  }
`;

/** What a subgraph received with one request. */
export interface ReceivedRequest {
  readonly identity: Identity;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

interface SubgraphContext {
  readonly identity?: Identity;
}

export interface TestSubgraph {
  readonly name: string;
  readonly url: string;
  readonly received: ReceivedRequest[];
  stop(): Promise<void>;
}

const SECRET = 'password=hunter2 at db.internal:5432';

async function startSubgraph(
  name: string,
  sdl: string,
  resolvers: GraphQLResolverMap<SubgraphContext>,
  gatewayPublicKey: KeyLike,
  options: SubgraphOptions,
): Promise<TestSubgraph> {
  const verifier = createForwardedIdentityVerifier(gatewayPublicKey);
  const received: ReceivedRequest[] = [];
  const server = new ApolloServer<SubgraphContext>({
    // buildSubgraphSchema types the context as unknown; these resolvers read the context built below.
    schema: buildSubgraphSchema({
      typeDefs: parse(sdl),
      resolvers: resolvers as GraphQLResolverMap<unknown>,
    }),
    // Like a careless subgraph in development: stack traces in its answers. The gateway must drop them.
    includeStacktraceInErrorResponses: true,
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => {
      const query = (req as { body?: { query?: unknown } }).body?.query;
      if (options.publicSdl && typeof query === 'string' && query.includes(SDL_OPERATION)) return {};
      const header = req.headers[IDENTITY_HEADER];
      try {
        const identity = await verifier.verify(Array.isArray(header) ? header[0] : header);
        received.push({ identity, headers: { ...req.headers } });
        return { identity };
      } catch (e) {
        if (!(e instanceof AuthenticationError)) throw e;
        throw new GraphQLError(e.message, {
          extensions: { code: e.code, messages: e.messages, http: { status: 401 } },
        });
      }
    },
  });
  return { name, url, received, stop: () => server.stop() };
}

export interface SubgraphOptions {
  /**
   * Answer the gateway's composition query (`__ApolloGetServiceDefinition__`) without an identity, which
   * SUPERGRAPH_MODE=live needs: the gateway has no caller to forward while it loads the schema.
   */
  readonly publicSdl?: boolean;
}

const SDL_OPERATION = '__ApolloGetServiceDefinition__';

export interface TestSubgraphs {
  readonly transfer: TestSubgraph;
  readonly compensation: TestSubgraph;
  readonly enforcement: TestSubgraph;
  /** A URL where nothing listens: the gateway is told enforcement is there, so it is "down". */
  readonly enforcementDownUrl: string;
  /** The supergraph of the three, written to a file. */
  readonly supergraphFile: string;
  stop(): Promise<void>;
}

/** Pending `hang` fields answer when this resolves (the suites release it before stopping). */
const hanging: { promise: Promise<string>; release: (value: string) => void } = (() => {
  let release: (value: string) => void = () => undefined;
  const promise = new Promise<string>((resolve) => (release = resolve));
  return { promise, release };
})();

export function releaseHangingFields(): void {
  hanging.release('released');
}

export async function startTestSubgraphs(
  dir: string,
  gatewayPublicKey: KeyLike,
  options: SubgraphOptions = {},
): Promise<TestSubgraphs> {
  const transfer = await startSubgraph(
    'transfer',
    TRANSFER_SDL,
    {
      Query: {
        whoAmI: (_: unknown, __: unknown, ctx: SubgraphContext) => ctx.identity,
        transfer: (_: unknown, args: { id: string }) => ({ id: args.id, wasteCode: 'HW08' }),
        transfers: (_: unknown, args: { first?: number }) =>
          Array.from({ length: Math.min(args.first ?? 3, 3) }, (_x, i) => ({
            id: `t-${i}`,
            wasteCode: 'HW08',
          })),
        hang: () => hanging.promise,
        boom: () => {
          throw new Error(`connection refused: ${SECRET}`);
        },
      },
      Transfer: {
        __resolveReference: (ref: { id: string }) => ({ id: ref.id, wasteCode: 'HW08' }),
        next: (t: { id: string }) => ({ id: `${t.id}+`, wasteCode: 'HW08' }),
      },
    },
    gatewayPublicKey,
    options,
  );
  const compensation = await startSubgraph(
    'compensation',
    COMPENSATION_SDL,
    {
      Query: { accrualCount: () => 2 },
      Transfer: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, compensationFen: 125_000 }) },
    },
    gatewayPublicKey,
    options,
  );
  const enforcement = await startSubgraph(
    'enforcement',
    ENFORCEMENT_SDL,
    { Query: { openCases: () => 7 } },
    gatewayPublicKey,
    options,
  );
  const enforcementDownUrl = `http://127.0.0.1:${await closedPort()}/graphql`;
  const composed = composeServices([
    // The URLs in the supergraph are placeholders: the gateway's *_SERVICE_URL variables override them.
    { name: 'transfer', url: 'http://transfer.invalid/graphql', typeDefs: parse(TRANSFER_SDL) },
    { name: 'compensation', url: 'http://compensation.invalid/graphql', typeDefs: parse(COMPENSATION_SDL) },
    { name: 'enforcement', url: 'http://enforcement.invalid/graphql', typeDefs: parse(ENFORCEMENT_SDL) },
  ]);
  if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
  const supergraphFile = path.join(dir, 'supergraph.graphql');
  await fs.writeFile(supergraphFile, composed.supergraphSdl);
  return {
    transfer,
    compensation,
    enforcement,
    enforcementDownUrl,
    supergraphFile,
    stop: async () => {
      await Promise.all([transfer.stop(), compensation.stop(), enforcement.stop()]);
    },
  };
}

/** A port that was free a moment ago and has nothing listening now. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const TEST_DIRECTORY_FILE = path.join(__dirname, 'directory.json');

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `lianfang-${prefix}-`));
}

/** The environment of a development gateway wired to the test subgraphs. */
export function gatewayEnv(
  dataDir: string,
  subgraphs: TestSubgraphs,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    NODE_ENV: 'development',
    DATA_DIR: dataDir,
    DIRECTORY_FILE: TEST_DIRECTORY_FILE,
    SUPERGRAPH_FILE: subgraphs.supergraphFile,
    TRANSFER_SERVICE_URL: subgraphs.transfer.url,
    COMPENSATION_SERVICE_URL: subgraphs.compensation.url,
    ENFORCEMENT_SERVICE_URL: subgraphs.enforcementDownUrl,
    ...overrides,
  };
}

export function startGateway(env: Record<string, string>): Promise<RunningService> {
  return startService(service, { env, port: 0, host: '127.0.0.1', logLevels: ['error'] });
}

export interface GraphQLAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  };
}

/** POSTs an operation to the gateway as a client would. */
export async function post(
  gateway: RunningService,
  query: string,
  options: { token?: string; headers?: Record<string, string>; variables?: Record<string, unknown> } = {},
): Promise<GraphQLAnswer> {
  const res = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ query, variables: options.variables }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as GraphQLAnswer['body'] };
}

export { CORRELATION_HEADER, IDENTITY_HEADER, SECRET };
