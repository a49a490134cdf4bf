import type { IncomingMessage } from 'node:http';
import { Logger } from '@nestjs/common';
import {
  AuthenticationError,
  CORRELATION_HEADER,
  type Identity,
  type IdentitySigner,
  type RequestContext,
  type UserTokenVerifier,
} from '@lianfang/auth';
import type { GraphQLError } from 'graphql';
import type { TraceContext } from '@lianfang/messaging';
import { correlationIdFrom, traceOfRequest } from './correlation';
import { gatewayError } from './errors';
import type { AgencyRateLimiter } from './rate-limit';

/** The GraphQL context of one request at the gateway: a verified caller, within its agency's rate. */
export interface GatewayContext extends RequestContext {
  readonly identity: Identity;
  readonly correlationId: string;
  readonly trace: TraceContext;
  /** The identity signed by the gateway for the subgraphs; signed once per request, on first use. */
  forwardedIdentity(): Promise<string>;
}

const logger = new Logger('gateway');

/**
 * Builds the context, or refuses the request before anything is parsed or planned: 401 for a missing,
 * expired, forged or foreign token (503 while the issuer's keys cannot be fetched), 429 once the
 * agency's rate is used up.
 */
export function createContextFactory(deps: {
  verifier: UserTokenVerifier;
  signer: IdentitySigner;
  limiter: AgencyRateLimiter;
}): (args: { req: IncomingMessage }) => Promise<GatewayContext> {
  return async ({ req }) => {
    // The edge middleware has already put an acceptable id on the request; this only re-reads it.
    const correlationId = correlationIdFrom(req.headers[CORRELATION_HEADER]);
    const trace = traceOfRequest(correlationId, req.headers.traceparent);
    let identity: Identity;
    try {
      identity = await deps.verifier.verify(req.headers.authorization);
    } catch (e) {
      throw authenticationFailure(e, correlationId);
    }
    const decision = deps.limiter.take(identity.agencyId);
    if (!decision.allowed) throw rateLimited(identity.agencyId, decision.retryAfterSeconds, correlationId);
    let signed: Promise<string> | undefined;
    return {
      identity,
      correlationId,
      trace,
      forwardedIdentity: () => (signed ??= deps.signer.sign(identity, { correlationId })),
    };
  };
}

function authenticationFailure(e: unknown, correlationId: string): GraphQLError {
  if (e instanceof AuthenticationError) {
    const unavailable = e.code === 'ISSUER_UNAVAILABLE';
    // RFC 6750: no error attribute when no token was sent at all.
    const challenge =
      e.code === 'TOKEN_MISSING'
        ? 'Bearer realm="lianfang"'
        : 'Bearer realm="lianfang", error="invalid_token"';
    return gatewayError(e.code, e.messages, {
      status: unavailable ? 503 : 401,
      headers: unavailable ? {} : { 'www-authenticate': challenge },
      extensions: { correlationId, ...(e.field ? { field: e.field } : {}) },
    });
  }
  logger.error(
    `token verification failed unexpectedly [${correlationId}]: ${(e as Error).message}`,
    (e as Error).stack,
  );
  return gatewayError(
    'AUTHENTICATION_UNAVAILABLE',
    {
      zh: `暂时无法核验身份，请稍后重试；如持续出现，请向运维提供关联编号 ${correlationId}`,
      en: `your identity cannot be checked right now; try again later, and if it persists give operations the correlation id ${correlationId}`,
    },
    { status: 503, extensions: { correlationId } },
  );
}

function rateLimited(agencyId: string, retryAfterSeconds: number, correlationId: string): GraphQLError {
  return gatewayError(
    'RATE_LIMITED',
    {
      zh: `机构 ${agencyId} 的请求过于频繁，请在 ${retryAfterSeconds} 秒后重试（RATE_LIMIT_PER_MINUTE，按网关实例计）`,
      en: `too many requests from agency ${agencyId}: try again in ${retryAfterSeconds} s (RATE_LIMIT_PER_MINUTE, per gateway instance)`,
    },
    {
      status: 429,
      headers: { 'retry-after': String(retryAfterSeconds) },
      extensions: { correlationId, retryAfterSeconds, agencyId },
    },
  );
}
