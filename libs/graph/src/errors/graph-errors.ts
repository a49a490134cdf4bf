import type { BilingualText } from '@lianfang/domain-kernel';

/**
 * The shape of every error the platform's GraphQL API returns, in `errors[].extensions`:
 *
 *   {
 *     code: string,              what clients switch on: a domain rule (`transfer.not-pending`), an
 *                                authentication or authorization code (`IDENTITY_MISSING`, `ACCESS_DENIED`),
 *                                INPUT_INVALID, IDEMPOTENCY_CONFLICT, INTERNAL_SERVER_ERROR…
 *     category: ErrorCategory,   the class of failure, for generic handling (UNAUTHENTICATED → sign in again)
 *     field: string | null,      the input at fault (`idempotencyKey`, `quantity`, a header), when one is
 *     rule: string | null,       the machine name of the rule that refused it (`money.format`, `isLength`)
 *     messages: { zh, en },      for people: Chinese for officials, English for partners and logs
 *     details?: object,          JSON-safe facts that explain a refusal
 *     correlationId?: string,    the request's correlation id (x-correlation-id), to find it in the logs
 *   }
 *
 * `message` (the GraphQL error's own) is `"<en> / <zh>"`.
 */
export type ErrorCategory =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'BUSINESS_RULE'
  | 'CONFLICT'
  | 'UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

export interface ErrorExtensions {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly field: string | null;
  readonly rule: string | null;
  readonly messages: BilingualText;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly correlationId?: string;
}

export interface PlatformErrorInit {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly messages: BilingualText;
  readonly field?: string;
  readonly rule?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * A typed failure raised by the GraphQL layer itself (bad input, an idempotency conflict) or replayed from
 * an idempotency record. Rendered as is by the error formatter.
 */
export class PlatformError extends Error {
  override readonly name: string = 'PlatformError';
  readonly code: string;
  readonly category: ErrorCategory;
  readonly messages: BilingualText;
  readonly field?: string;
  readonly rule?: string;
  readonly details?: Readonly<Record<string, unknown>>;

  constructor(init: PlatformErrorInit) {
    super(`${init.messages.en} / ${init.messages.zh}`);
    this.code = init.code;
    this.category = init.category;
    this.messages = init.messages;
    if (init.field !== undefined) this.field = init.field;
    if (init.rule !== undefined) this.rule = init.rule;
    if (init.details !== undefined) this.details = init.details;
  }

  /** The error again from its extensions (e.g. an idempotency record of the first call's failure). */
  static fromExtensions(x: ErrorExtensions): PlatformError {
    return new PlatformError({
      code: x.code,
      category: x.category,
      messages: x.messages,
      ...(x.field !== null ? { field: x.field } : {}),
      ...(x.rule !== null ? { rule: x.rule } : {}),
      ...(x.details ? { details: x.details } : {}),
    });
  }

  toExtensions(): ErrorExtensions {
    return {
      code: this.code,
      category: this.category,
      field: this.field ?? null,
      rule: this.rule ?? null,
      messages: this.messages,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/** Input refused before any business rule ran: a scalar that does not parse, a field that breaks a rule. */
export class InputError extends PlatformError {
  override readonly name = 'InputError';
  constructor(init: {
    field?: string;
    rule: string;
    messages: BilingualText;
    details?: Record<string, unknown>;
  }) {
    super({ code: 'INPUT_INVALID', category: 'BAD_USER_INPUT', ...init });
  }
}
