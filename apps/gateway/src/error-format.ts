import type { ApolloServerPlugin } from '@apollo/server';
import { Logger } from '@nestjs/common';
import type { GraphQLFormattedError } from 'graphql';
import type { GatewayContext } from './gateway-context';

const logger = new Logger('gateway');

/** Codes that say nothing about what went wrong: in production their details are hidden. */
const UNKNOWN_CODES = new Set([undefined, 'INTERNAL_SERVER_ERROR', 'DOWNSTREAM_SERVICE_ERROR']);

function isUnknown(code: unknown): boolean {
  return UNKNOWN_CODES.has(code as string | undefined);
}

/**
 * Apollo's `formatError`. In production an error without a meaningful code (a bug, a subgraph's
 * unexpected failure) keeps only a generic bilingual message and the correlation id: its text could
 * leak internals. Stack traces are never sent in production (this also drops any a subgraph sent);
 * outside production only unexpected errors keep theirs: a coded error's stack explains nothing.
 */
export function formatGatewayError(production: boolean) {
  return (formatted: GraphQLFormattedError): GraphQLFormattedError => {
    const { stacktrace, exception: _exception, ...extensions } = formatted.extensions ?? {};
    const unknown = isUnknown(extensions.code);
    if (!production)
      return { ...formatted, extensions: unknown && stacktrace ? { ...extensions, stacktrace } : extensions };
    if (!unknown) return { ...formatted, extensions };
    const correlationId = typeof extensions.correlationId === 'string' ? extensions.correlationId : undefined;
    return {
      message: maskedMessage(correlationId),
      ...(formatted.path ? { path: formatted.path } : {}),
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      extensions: {
        code: 'INTERNAL_SERVER_ERROR',
        messages: maskedMessages(correlationId),
        ...(correlationId ? { correlationId } : {}),
      },
    };
  };
}

function maskedMessages(correlationId: string | undefined): { zh: string; en: string } {
  return correlationId
    ? {
        zh: `内部错误。请向运维提供关联编号 ${correlationId}`,
        en: `internal error. Give operations the correlation id ${correlationId}`,
      }
    : {
        zh: '内部错误。请向运维提供响应头 x-correlation-id 中的关联编号',
        en: 'internal error. Give operations the correlation id from the x-correlation-id response header',
      };
}

function maskedMessage(correlationId: string | undefined): string {
  const m = maskedMessages(correlationId);
  return `${m.en} / ${m.zh}`;
}

/**
 * Puts the correlation id on every error of an answer (so a person can quote it) and, in production,
 * into the masked message; logs unknown errors with it, so operations can find the cause.
 */
export function correlationPlugin(production: boolean): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors)
            if (isUnknown(error.extensions.code))
              logger.error(
                `[${contextValue.correlationId}] ${error.message}${error.path ? ` at ${error.path.join('.')}` : ''}`,
                error.originalError?.stack ?? error.stack,
              );
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (!result.errors) return;
          const correlationId = contextValue.correlationId;
          const withId = result.errors.map((error) => {
            const masked = production && error.extensions?.code === 'INTERNAL_SERVER_ERROR';
            return {
              ...error,
              ...(masked ? { message: maskedMessage(correlationId) } : {}),
              extensions: {
                ...error.extensions,
                ...(masked ? { messages: maskedMessages(correlationId) } : {}),
                correlationId,
              },
            };
          });
          // Apollo serializes this result object after the hook.
          (result as { errors?: readonly GraphQLFormattedError[] }).errors = withId;
        },
      };
    },
  };
}
