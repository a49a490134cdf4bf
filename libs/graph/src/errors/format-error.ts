import type { ApolloServerPlugin } from '@apollo/server';
import { Logger } from '@nestjs/common';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { RequestContext } from '@lianfang/auth';
import { bilingualMessage, describeError } from './describe-error';
import type { ErrorExtensions } from './graph-errors';

/** Errors Apollo and graphql-js raise about the request itself: safe to show, never masked. */
const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

export const INTERNAL_ERROR_MESSAGES = {
  zh: '内部错误：请凭关联编号（correlationId）联系运维',
  en: 'internal error: quote the correlationId to the operators',
} as const;

export interface ErrorFormatterOptions {
  /** Production: unknown errors are masked and no stack trace leaves the server. */
  readonly production: boolean;
}

/**
 * Apollo's `formatError`: every error leaves in the platform's shape (see ErrorExtensions). Known
 * failures keep their code, field, rule and messages; GraphQL's own request errors (a parse or validation
 * failure) keep their message; anything else is a bug or an outage, masked in production.
 */
export function createErrorFormatter(
  options: ErrorFormatterOptions,
): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => {
    const base = { locations: formatted.locations, path: formatted.path };
    const stacktrace = options.production ? undefined : formatted.extensions?.stacktrace;
    const typed = describeError(error);
    if (typed) {
      return {
        ...base,
        message: bilingualMessage(typed.messages),
        extensions: { ...typed, ...(stacktrace ? { stacktrace } : {}) },
      };
    }
    const apolloCode = formatted.extensions?.code;
    if (typeof apolloCode === 'string' && REQUEST_ERROR_CODES.has(apolloCode) && !isUnexpected(error)) {
      const extensions: ErrorExtensions = {
        code: apolloCode,
        category: 'BAD_USER_INPUT',
        field: null,
        rule: null,
        messages: { zh: `GraphQL 请求无效：${formatted.message}`, en: formatted.message },
      };
      return { ...base, message: formatted.message, extensions: { ...extensions } };
    }
    const extensions: ErrorExtensions = {
      code: 'INTERNAL_SERVER_ERROR',
      category: 'INTERNAL_SERVER_ERROR',
      field: null,
      rule: null,
      messages: INTERNAL_ERROR_MESSAGES,
    };
    return options.production
      ? { ...base, message: bilingualMessage(INTERNAL_ERROR_MESSAGES), extensions: { ...extensions } }
      : {
          ...base,
          message: formatted.message,
          extensions: { ...extensions, ...(stacktrace ? { stacktrace } : {}) },
        };
  };
}

/** A request error code on top of a plain error thrown by code (a scalar, a resolver) is still unexpected. */
function isUnexpected(error: unknown): boolean {
  let cause = (error as { originalError?: unknown } | undefined)?.originalError;
  while (cause instanceof GraphQLError) cause = cause.originalError;
  return cause instanceof Error;
}

/**
 * Stamps the request's correlation id on every error (formatError cannot see the context) and logs the
 * unexpected ones with it, stack included, since the client sees only "internal error".
 */
export function errorReportingPlugin(service: string): ApolloServerPlugin<RequestContext> {
  const logger = new Logger(`${service}/graphql`);
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ contextValue, errors }) {
          for (const error of errors) {
            if (describeError(error) || isRequestError(error)) continue;
            const cause = (error.originalError ?? error) as Error;
            logger.error(
              `unexpected error [correlationId ${contextValue?.correlationId ?? '-'}] at ${error.path?.join('.') ?? '-'}: ${cause.message}`,
              cause.stack,
            );
          }
        },
        async willSendResponse({ contextValue, response }) {
          if (response.body.kind !== 'single' || !response.body.singleResult.errors) return;
          const correlationId = contextValue?.correlationId;
          if (!correlationId) return;
          response.body.singleResult.errors = response.body.singleResult.errors.map((e) => ({
            ...e,
            extensions: { ...e.extensions, correlationId },
          }));
        },
      };
    },
  };
}

function isRequestError(error: { extensions?: Record<string, unknown>; originalError?: unknown }): boolean {
  const code = error.extensions?.code;
  return typeof code === 'string' && REQUEST_ERROR_CODES.has(code) && !isUnexpected(error);
}
