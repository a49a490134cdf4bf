import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import {
  createIdentitySigner,
  IDENTITY_HEADER,
  parsePrivateKey,
  type AgencyKind,
  type Identity,
  type Role,
} from '@lianfang/auth';
import type { TestIssuer, UserClaims } from './issuer';
import { repoRoot } from './processes';

/**
 * What a test needs to act as the people of the demo region against the running topology: their tokens
 * (through the gateway) or the gateway-signed identity (straight to a subgraph), a correlation id per
 * request so the events a request caused can be found again on the bus and in the logs, the server's
 * own timing of a request, and a reader of a whole Kafka topic with a fresh consumer group.
 */

// ---------------------------------------------------------------------------------------------------------
// The directory

export interface DirectoryAgency {
  readonly id: string;
  readonly kind: string;
  readonly jurisdiction: string;
  readonly roles: readonly string[];
  readonly creditCode?: string;
}

export const DEMO_DIRECTORY_FILE = path.join(repoRoot, 'config/directory/demo-region.json');

export function readDirectory(file = DEMO_DIRECTORY_FILE): ReadonlyMap<string, DirectoryAgency> {
  const { agencies } = JSON.parse(readFileSync(file, 'utf8')) as { agencies: DirectoryAgency[] };
  return new Map(agencies.map((a) => [a.id, a]));
}

/** A member of staff of a directory agency, holding `roles` (default: every role the agency grants). */
export function staffOf(agency: DirectoryAgency, roles: readonly string[] = agency.roles): UserClaims {
  const unknown = roles.filter((r) => !agency.roles.includes(r));
  if (unknown.length > 0) throw new Error(`${agency.id} grants no role ${unknown.join(', ')}`);
  return {
    sub: `${agency.id}.${roles.join('-')}`,
    agency_id: agency.id,
    agency_kind: agency.kind,
    jurisdiction: agency.jurisdiction,
    roles: [...roles],
  };
}

/** The identity the gateway forwards for a user with these claims. */
export function identityOf(user: UserClaims): Identity {
  return {
    subject: user.sub,
    agencyId: user.agency_id,
    agencyKind: user.agency_kind as AgencyKind,
    jurisdiction: user.jurisdiction,
    roles: user.roles as Role[],
  };
}

// ---------------------------------------------------------------------------------------------------------
// GraphQL over HTTP

export interface GraphQLErrorBody {
  readonly message: string;
  readonly path?: readonly (string | number)[];
  readonly extensions?: Readonly<Record<string, unknown>>;
}

export interface Answer<T = Record<string, unknown>> {
  readonly status: number;
  readonly data: T | null;
  readonly errors: readonly GraphQLErrorBody[];
  /** The x-correlation-id the request was sent with. */
  readonly correlationId: string;
  /** When it was sent and when the answer was read (this process's clock, ms). */
  readonly sentAt: number;
  readonly answeredAt: number;
}

export async function postGraphQL<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Readonly<Record<string, unknown>>,
  headers: Readonly<Record<string, string>> & { 'x-correlation-id': string },
): Promise<Answer<T>> {
  const sentAt = Date.now();
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  const answeredAt = Date.now();
  let body: { data?: T | null; errors?: GraphQLErrorBody[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(
      `${url}/graphql answered HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 500)}`,
    );
  }
  return {
    status: res.status,
    data: body.data ?? null,
    errors: body.errors ?? [],
    correlationId: headers['x-correlation-id'],
    sentAt,
    answeredAt,
  };
}

/** Correlation ids `<prefix>-<n>`: everything one test run caused carries its prefix. */
export class Correlations {
  private next = 0;
  constructor(readonly prefix: string) {}
  id(what: string): string {
    return `${this.prefix}-${++this.next}-${what.replace(/[^A-Za-z0-9._-]/g, '')}`.slice(0, 128);
  }
  owns(correlationId: unknown): boolean {
    return typeof correlationId === 'string' && correlationId.startsWith(`${this.prefix}-`);
  }
}

export type Caller = <T = Record<string, unknown>>(
  query: string,
  variables?: Readonly<Record<string, unknown>>,
) => Promise<Answer<T>>;

/** A person calling the gateway with a token of the test issuer. */
export function throughGateway(
  gatewayUrl: string,
  issuer: TestIssuer,
  user: UserClaims,
  correlations: Correlations,
): Caller {
  let token: { value: Promise<string>; until: number } | undefined;
  const bearer = () => {
    // A fresh token well before the last one expires (each lives 10 minutes).
    if (!token || Date.now() > token.until)
      token = { value: issuer.token(user, { expiresInSeconds: 600 }), until: Date.now() + 300_000 };
    return token.value;
  };
  return async (query, variables = {}) =>
    postGraphQL(gatewayUrl, query, variables, {
      authorization: `Bearer ${await bearer()}`,
      'x-correlation-id': correlations.id(operationName(query)),
    });
}

/** A person calling a subgraph directly, with the identity signed by the gateway's key (as the gateway would). */
export async function straightToSubgraph(
  subgraphUrl: string,
  gatewaySigningKey: string,
  user: UserClaims,
  correlations: Correlations,
): Promise<Caller> {
  const signer = createIdentitySigner(await parsePrivateKey(gatewaySigningKey));
  const identity = identityOf(user);
  return async (query, variables = {}) => {
    const correlationId = correlations.id(operationName(query));
    return postGraphQL(subgraphUrl, query, variables, {
      [IDENTITY_HEADER]: await signer.sign(identity, { correlationId }),
      'x-correlation-id': correlationId,
    });
  };
}

/** The first root field of an operation, to make correlation ids readable in the logs. */
function operationName(query: string): string {
  return /\{\s*(\w+)/.exec(query)?.[1] ?? 'op';
}

// ---------------------------------------------------------------------------------------------------------
// The server's own account of a request

export interface ServerTiming {
  /** When the service's HTTP middleware saw the request (ms since the epoch, the service's clock). */
  readonly receivedAt: number;
  /** When it finished answering. */
  readonly answeredAt: number;
}

/**
 * The timing of the request with `correlationId` from an app's JSON log (the pino-http completion line:
 * `time` when the response finished, `responseTime` in ms since the request arrived); undefined when the
 * line is not (yet) in the output.
 */
export function serverTiming(output: string, correlationId: string): ServerTiming | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes(correlationId) || !line.includes('responseTime')) continue;
    let entry: { time?: string | number; responseTime?: number; correlationId?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (entry.correlationId !== correlationId || typeof entry.responseTime !== 'number') continue;
    const answeredAt = typeof entry.time === 'number' ? entry.time : Date.parse(entry.time ?? '');
    if (!Number.isFinite(answeredAt)) continue;
    return { receivedAt: answeredAt - entry.responseTime, answeredAt };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Kafka

export interface TopicMessage {
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  /** The parsed value, or the raw text when it is not JSON. */
  readonly value: unknown;
}

/**
 * Reads `topic` from the beginning with a consumer group of its own until `enough(messages)` holds and,
 * from then on, every partition has been read up to the end it had at that moment: so the result is the
 * whole topic as of then, not just the messages looked for. Rejects after `timeoutMs`.
 */
export async function readWholeTopic(options: {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly groupId: string;
  readonly enough: (messages: readonly TopicMessage[]) => boolean;
  readonly timeoutMs?: number;
}): Promise<TopicMessage[]> {
  const kafka = new Kafka({
    clientId: options.groupId,
    brokers: [...options.brokers],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  const consumer = kafka.consumer({ groupId: options.groupId });
  const messages: TopicMessage[] = [];
  const lastOffset = new Map<number, bigint>();
  await Promise.all([admin.connect(), consumer.connect()]);
  try {
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const text = message.value?.toString('utf8') ?? '';
        let value: unknown = text;
        try {
          value = JSON.parse(text);
        } catch {
          // kept as text: the contract check names it
        }
        messages.push({
          partition,
          offset: message.offset,
          key: message.key?.toString('utf8') ?? null,
          value,
        });
        lastOffset.set(partition, BigInt(message.offset));
      },
    });
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    let ends: { partition: number; low: bigint; high: bigint }[] | undefined;
    for (;;) {
      if (Date.now() > deadline)
        throw new Error(
          `${options.topic}: ${ends ? 'not read to its end' : 'the awaited messages did not arrive'} within ${options.timeoutMs ?? 60_000} ms (${messages.length} read)`,
        );
      if (!ends && options.enough(messages))
        ends = (await admin.fetchTopicOffsets(options.topic)).map((p) => ({
          partition: p.partition,
          low: BigInt(p.low),
          high: BigInt(p.high),
        }));
      if (ends?.every((p) => p.high <= p.low || (lastOffset.get(p.partition) ?? -1n) + 1n >= p.high))
        return messages;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await consumer.disconnect();
    await admin.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------------------

/** Polls `probe` until it returns something other than undefined; rejects with `describe()` after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  describe: () => string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${describe()}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
