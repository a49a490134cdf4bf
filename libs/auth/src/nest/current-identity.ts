import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import { AuthenticationError } from '../errors';
import type { Identity, RequestContext } from '../identity';

/** The request context of a GraphQL resolver call (Apollo's context is the `RequestContext`). */
export function requestContextOf(context: ExecutionContext): RequestContext | undefined {
  if (context.getType<string>() !== 'graphql') {
    throw new Error(`@lianfang/auth reads the identity of GraphQL calls only, not of "${context.getType()}"`);
  }
  return GqlExecutionContext.create(context).getContext<RequestContext | undefined>();
}

export interface CurrentIdentityOptions {
  /** Give `undefined` instead of refusing when nobody is signed in. */
  readonly optional?: boolean;
}

/** The identity from the context, or `AuthenticationError` (IDENTITY_MISSING) unless `optional`. */
export function identityFromContext(
  context: ExecutionContext,
  options: CurrentIdentityOptions = {},
): Identity | undefined {
  const identity = requestContextOf(context)?.identity;
  if (!identity && !options.optional) {
    throw new AuthenticationError(
      'IDENTITY_MISSING',
      '请求未携带身份：请登录后通过网关访问',
      'the request carries no identity: sign in and call the platform through the gateway',
    );
  }
  return identity;
}

/**
 * The caller's identity as a resolver parameter: `@CurrentIdentity() who: Identity`. Refuses a call
 * without one; `@CurrentIdentity({ optional: true })` gives `undefined` instead.
 */
export const CurrentIdentity = createParamDecorator(
  (options: CurrentIdentityOptions | undefined, context: ExecutionContext) =>
    identityFromContext(context, options),
);
