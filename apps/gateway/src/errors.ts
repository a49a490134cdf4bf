import { GraphQLError } from 'graphql';

/**
 * The codes the gateway itself answers with. Every error it makes carries `extensions.code`,
 * `extensions.messages` ({ zh, en }) and the correlation id; the message is `en / zh`.
 */
export type GatewayErrorCode =
  | 'QUERY_TOO_DEEP'
  | 'QUERY_TOO_COMPLEX'
  | 'REQUEST_TOO_LARGE'
  | 'REQUEST_MALFORMED'
  | 'RATE_LIMITED'
  | 'SUBGRAPH_UNAVAILABLE'
  | 'SUBGRAPH_REFUSED'
  | 'SUBGRAPH_FAILED'
  | 'AUTHENTICATION_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

export interface Bilingual {
  readonly zh: string;
  readonly en: string;
}

export function gatewayError(
  code: string,
  messages: Bilingual,
  options: {
    readonly status?: number;
    readonly headers?: Readonly<Record<string, string>>;
    readonly extensions?: Readonly<Record<string, unknown>>;
    readonly originalError?: Error;
  } = {},
): GraphQLError {
  return new GraphQLError(`${messages.en} / ${messages.zh}`, {
    originalError: options.originalError,
    extensions: {
      code,
      messages: { zh: messages.zh, en: messages.en },
      ...options.extensions,
      // Apollo Server reads `http` to set the status and headers, then removes it from the response.
      ...(options.status !== undefined
        ? { http: { status: options.status, headers: new Map(Object.entries(options.headers ?? {})) } }
        : {}),
    },
  });
}

/** The same error as a plain JSON body, for answers sent before Apollo Server runs (size, body parsing). */
export function errorBody(
  code: GatewayErrorCode,
  messages: Bilingual,
  extensions: Readonly<Record<string, unknown>>,
): { errors: { message: string; extensions: Record<string, unknown> }[] } {
  return {
    errors: [
      {
        message: `${messages.en} / ${messages.zh}`,
        extensions: { code, messages: { zh: messages.zh, en: messages.en }, ...extensions },
      },
    ],
  };
}

/** The supergraph could not be read or served: names the file and what to do. */
export class SupergraphError extends Error {
  readonly code = 'SUPERGRAPH_UNAVAILABLE' as const;
  constructor(
    readonly file: string,
    readonly zh: string,
    readonly en: string,
  ) {
    super(`${en} / ${zh}`);
    this.name = 'SupergraphError';
  }
}
