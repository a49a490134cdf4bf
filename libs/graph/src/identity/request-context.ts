import * as path from 'node:path';
import {
  AuthenticationError,
  CORRELATION_HEADER,
  createForwardedIdentityVerifier,
  IDENTITY_HEADER,
  loadPublicKeyFile,
  parsePublicKey,
  type ForwardedIdentityVerifier,
  type RequestContext,
} from '@lianfang/auth';
import type { ServiceConfig } from '@lianfang/runtime';
import type { GraphQLError } from 'graphql';
import type { KeyLike } from 'jose';
import { v7 as uuidv7 } from 'uuid';
import { typedGraphQLError } from '../errors/describe-error';

/** Where the gateway's public key comes from: given (GATEWAY_PUBLIC_KEY) or read when first needed. */
export interface GatewayKeySource {
  verifier(): Promise<ForwardedIdentityVerifier>;
}

/**
 * GATEWAY_PUBLIC_KEY when set (parsed now: a bad key stops the service at start). Otherwise, outside
 * production, the key the embedded gateway writes to `${DATA_DIR}/keys`, read at the first request (the
 * gateway may start after the service) and retried on the next request while it is not there.
 */
export async function gatewayKeySource(
  config: Pick<ServiceConfig, 'NODE_ENV' | 'GATEWAY_PUBLIC_KEY' | 'DATA_DIR'>,
): Promise<GatewayKeySource> {
  if (config.GATEWAY_PUBLIC_KEY) {
    const verifier = createForwardedIdentityVerifier(await parsePublicKey(config.GATEWAY_PUBLIC_KEY));
    return { verifier: async () => verifier };
  }
  if (config.NODE_ENV === 'production')
    // The configuration schema requires it in production; this guards a hand-built config.
    throw new Error('GATEWAY_PUBLIC_KEY is required in production / 生产环境必须设置 GATEWAY_PUBLIC_KEY');
  const dir = path.join(config.DATA_DIR ?? './data', 'keys');
  let loading: Promise<ForwardedIdentityVerifier> | undefined;
  return {
    verifier() {
      loading ??= loadPublicKeyFile(dir, 'gateway').then(
        (key: KeyLike) => createForwardedIdentityVerifier(key),
        (e: unknown) => {
          loading = undefined; // not there yet: try again on the next request
          throw e;
        },
      );
      return loading;
    },
  };
}

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

type HeaderBag = { headers?: Record<string, string | string[] | undefined>; body?: unknown };

/** What `@apollo/gateway`'s IntrospectAndCompose asks each subgraph (the gateway's dev-only live mode). */
const SERVICE_DEFINITION_QUERY =
  /^\s*query\s+__ApolloGetServiceDefinition__\s*\{\s*_service\s*\{\s*sdl\s*\}\s*\}\s*$/;

function asksOnlyForSdl(req: HeaderBag): boolean {
  const body = req.body as { query?: unknown } | undefined;
  return typeof body?.query === 'string' && SERVICE_DEFINITION_QUERY.test(body.query);
}

function header(req: HeaderBag | undefined, name: string): string | undefined {
  const value = req?.headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The caller's correlation id when it is a sane token (it ends up in logs), else a new UUIDv7. */
export function correlationIdOf(req: HeaderBag | undefined): string {
  const given = header(req, CORRELATION_HEADER);
  return given && CORRELATION_ID.test(given) ? given : uuidv7();
}

/**
 * Apollo's context function for a subgraph: every request carries the gateway-signed identity, or is
 * refused with HTTP 401 before anything runs (`_service` and `_entities` included).
 */
export function createRequestContextFactory(
  keys: GatewayKeySource,
  options: {
    /**
     * Outside production the gateway may compose live (SUPERGRAPH_MODE=live) before anyone signed in:
     * the SDL query alone is then answered without identity. The SDL is committed in the repository anyway.
     */
    allowServiceDefinitionWithoutIdentity?: boolean;
  } = {},
): (args: { req: HeaderBag }) => Promise<RequestContext> {
  return async ({ req }) => {
    const correlationId = correlationIdOf(req);
    if (options.allowServiceDefinitionWithoutIdentity && !header(req, IDENTITY_HEADER) && asksOnlyForSdl(req))
      return { correlationId };
    let verifier: ForwardedIdentityVerifier;
    try {
      verifier = await keys.verifier();
    } catch (e) {
      throw keyUnavailable(e, correlationId);
    }
    try {
      const identity = await verifier.verify(header(req, IDENTITY_HEADER));
      return { identity, correlationId };
    } catch (e) {
      if (e instanceof AuthenticationError) throw refusal(e, correlationId);
      throw e;
    }
  };
}

function refusal(e: AuthenticationError, correlationId: string): GraphQLError {
  const missing = e.code === 'IDENTITY_MISSING';
  return typedGraphQLError(
    {
      code: missing ? 'IDENTITY_MISSING' : 'IDENTITY_INVALID',
      category: 'UNAUTHENTICATED',
      field: e.field ?? IDENTITY_HEADER,
      rule: e.code,
      messages: e.messages,
      correlationId,
    },
    { httpStatus: 401, originalError: e },
  );
}

function keyUnavailable(e: unknown, correlationId: string): GraphQLError {
  const reason = e as { zh?: unknown; en?: unknown; message?: string };
  return typedGraphQLError(
    {
      code: 'GATEWAY_KEY_UNAVAILABLE',
      category: 'UNAVAILABLE',
      field: null,
      rule: null,
      messages: {
        zh: `无法核验网关签发的身份：${typeof reason.zh === 'string' ? reason.zh : '网关公钥不可用'}`,
        en: `cannot verify the gateway-signed identity: ${typeof reason.en === 'string' ? reason.en : (reason.message ?? 'the gateway public key is unavailable')}`,
      },
      correlationId,
    },
    { httpStatus: 503, originalError: e instanceof Error ? e : undefined },
  );
}
