/** A message a person reads: officials read Chinese, foreign partners and logs read English. */
export interface BilingualText {
  readonly zh: string;
  readonly en: string;
}

/**
 * Why an input was refused. `rule` is a stable machine code (e.g. 'jurisdiction.format') that
 * clients and tests match on; `message` is for people; `field` is the caller's name for the input.
 */
export interface ValidationError {
  readonly field: string;
  readonly rule: string;
  readonly message: BilingualText;
  readonly value?: unknown;
}

export type Success<T> = { readonly ok: true; readonly value: T };
export type Failure = { readonly ok: false; readonly error: ValidationError };
/** Parsing bad input is an expected outcome, not an exception: callers must look at `ok`. */
export type Result<T> = Success<T> | Failure;

export function ok<T>(value: T): Success<T> {
  return { ok: true, value };
}

export function fail(field: string, rule: string, message: BilingualText, value?: unknown): Failure {
  const error: ValidationError =
    value === undefined
      ? { field, rule, message }
      : // bigint would make JSON.stringify throw when the error is sent back to a client.
        { field, rule, message, value: typeof value === 'bigint' ? value.toString() : value };
  return { ok: false, error: Object.freeze(error) };
}

/** Thrown only by the *OrThrow / unwrap variants, for trusted input (tests, seeding, constants). */
export class DomainValidationError extends Error {
  readonly error: ValidationError;

  constructor(error: ValidationError) {
    super(`${error.field}: ${error.message.en} / ${error.message.zh} [${error.rule}]`);
    this.name = 'DomainValidationError';
    this.error = error;
  }
}

export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new DomainValidationError(result.error);
}

export function isValidationError(value: unknown): value is ValidationError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const message = v['message'] as Record<string, unknown> | null | undefined;
  return (
    typeof v['field'] === 'string' &&
    typeof v['rule'] === 'string' &&
    typeof message === 'object' &&
    message !== null &&
    typeof message['zh'] === 'string' &&
    typeof message['en'] === 'string'
  );
}

/** Shared guard: parse functions are typed `string`, but untyped JSON can still hand them a number. */
export function requireString(input: unknown, field: string, rulePrefix: string): Failure | undefined {
  if (typeof input === 'string') return undefined;
  return fail(
    field,
    `${rulePrefix}.type`,
    { zh: '须为字符串', en: 'must be a string' },
    typeof input === 'bigint' ? input.toString() : input,
  );
}
