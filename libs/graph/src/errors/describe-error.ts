import { DomainValidationError, type BilingualText } from '@lianfang/domain-kernel';
import { DomainError } from '@lianfang/eventsourcing';
import { ValidationError as ClassValidatorError } from 'class-validator';
import { GraphQLError } from 'graphql';
import { InputError, PlatformError, type ErrorExtensions } from './graph-errors';

/** AuthenticationError (libs/auth) and the access-denied errors of guards: recognised by shape. */
interface AuthFailureLike {
  readonly kind: 'authentication' | 'authorization';
  readonly code: string;
  readonly zh: string;
  readonly en: string;
  readonly field?: string;
  /** AccessDenied: the rule that refused (e.g. `transfer.approve`) and which check failed. */
  readonly rule?: string;
  readonly check?: string;
}

function isAuthFailure(error: unknown): error is AuthFailureLike {
  if (!(error instanceof Error)) return false;
  const e = error as unknown as Record<string, unknown>;
  return (
    (e.kind === 'authentication' || e.kind === 'authorization') &&
    typeof e.code === 'string' &&
    typeof e.zh === 'string' &&
    typeof e.en === 'string'
  );
}

/** Chinese for the class-validator constraints we use; others fall back to a generic sentence. */
const CONSTRAINT_ZH: Readonly<Record<string, string>> = {
  isDefined: '必须填写',
  isNotEmpty: '不能为空',
  isString: '须为字符串',
  isBoolean: '须为布尔值',
  isInt: '须为整数',
  isEnum: '不在允许的取值范围内',
  isIn: '不在允许的取值范围内',
  isUUID: '须为 UUID',
  isLength: '长度不符合要求',
  minLength: '太短',
  maxLength: '太长',
  arrayNotEmpty: '至少需要一项',
  arrayMinSize: '项数太少',
  arrayMaxSize: '项数太多',
  matches: '格式不正确',
  min: '太小',
  max: '太大',
  whitelistValidation: '不是允许的字段',
};

interface Failure {
  readonly field: string;
  readonly rule: string;
  readonly en: string;
}

function flattenClassValidator(errors: readonly ClassValidatorError[], prefix = ''): Failure[] {
  const out: Failure[] = [];
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    for (const [rule, en] of Object.entries(e.constraints ?? {})) out.push({ field, rule, en });
    if (e.children?.length) out.push(...flattenClassValidator(e.children, field));
  }
  return out;
}

function isClassValidatorErrors(error: unknown): error is ClassValidatorError[] {
  return Array.isArray(error) && error.length > 0 && error.every((e) => e instanceof ClassValidatorError);
}

/** class-validator's result as one typed input error: the first failure leads, all are in `details`. */
export function classValidatorError(errors: readonly ClassValidatorError[]): InputError {
  const failures = flattenClassValidator(errors);
  const first = failures[0] ?? { field: 'input', rule: 'invalid', en: 'the input is invalid' };
  const messages: BilingualText = {
    zh: `字段 ${first.field} ${CONSTRAINT_ZH[first.rule] ?? `不符合规则 ${first.rule}`}`,
    en: first.en,
  };
  return new InputError({
    field: first.field,
    rule: first.rule,
    messages,
    details: { failures: failures.map(({ field, rule }) => ({ field, rule })) },
  });
}

/**
 * The typed description of a failure the platform knows, or undefined for anything else (a bug, a crashed
 * dependency: masked in production). Looks through GraphQL's wrapping (`originalError`) and through
 * Nest's (a class-validator error list inside a BadRequestException's response).
 */
export function describeError(error: unknown): ErrorExtensions | undefined {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    const found = describeOne(e);
    if (found) return found;
    e = (e as { originalError?: unknown }).originalError;
  }
  return undefined;
}

const CATEGORIES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'BUSINESS_RULE',
  'CONFLICT',
  'UNAVAILABLE',
  'INTERNAL_SERVER_ERROR',
]);

/** Extensions already in the platform's shape (a GraphQLError built by `typedGraphQLError`). */
function typedExtensions(error: GraphQLError): ErrorExtensions | undefined {
  const x = error.extensions as Record<string, unknown>;
  const messages = x.messages as Record<string, unknown> | undefined;
  if (
    typeof x.code !== 'string' ||
    typeof x.category !== 'string' ||
    !CATEGORIES.has(x.category) ||
    typeof messages?.zh !== 'string' ||
    typeof messages?.en !== 'string'
  )
    return undefined;
  // The HTTP status is for the server only.
  const { http, ...rest } = x;
  return rest as unknown as ErrorExtensions;
}

function describeOne(error: unknown): ErrorExtensions | undefined {
  if (error instanceof GraphQLError) return typedExtensions(error);
  if (error instanceof PlatformError) return error.toExtensions();
  if (error instanceof DomainError) {
    return {
      code: error.code,
      category: 'BUSINESS_RULE',
      field: error.field ?? null,
      // A domain code names the business rule that refused the command (`<aggregate>.<rule>`).
      rule: error.code,
      messages: error.messages,
      ...(error.details ? { details: error.details } : {}),
    };
  }
  if (error instanceof DomainValidationError) {
    // The refused value is left out: it may be personal data, and the client sent it anyway.
    return {
      code: 'INPUT_INVALID',
      category: 'BAD_USER_INPUT',
      field: error.error.field,
      rule: error.error.rule,
      messages: error.error.message,
    };
  }
  if (isAuthFailure(error)) {
    return {
      code: error.code,
      category: error.kind === 'authentication' ? 'UNAUTHENTICATED' : 'FORBIDDEN',
      field: error.field ?? null,
      // The access rule that said no, so a client can tell which permission is missing.
      rule: typeof error.rule === 'string' ? error.rule : error.code,
      messages: { zh: error.zh, en: error.en },
      ...(typeof error.check === 'string' ? { details: { check: error.check } } : {}),
    };
  }
  if (isClassValidatorErrors(error)) return classValidatorError(error).toExtensions();
  return describeHttpException(error);
}

const HTTP_CATEGORIES: Readonly<Record<number, { category: ErrorExtensions['category']; zh: string }>> = {
  400: { category: 'BAD_USER_INPUT', zh: '请求无效' },
  401: { category: 'UNAUTHENTICATED', zh: '未能确认身份' },
  403: { category: 'FORBIDDEN', zh: '无权执行此操作' },
  404: { category: 'BAD_USER_INPUT', zh: '未找到' },
  409: { category: 'CONFLICT', zh: '与现有数据冲突' },
  422: { category: 'BAD_USER_INPUT', zh: '请求无法处理' },
};

/** Nest's HttpException (thrown by guards and pipes): typed by its status, for the statuses clients act on. */
function describeHttpException(error: unknown): ErrorExtensions | undefined {
  const e = error as { getStatus?: () => unknown; getResponse?: () => unknown; message?: unknown };
  if (typeof e?.getStatus !== 'function' || typeof e.getResponse !== 'function') return undefined;
  const response = e.getResponse();
  // Nest's ValidationPipe set up with `exceptionFactory: (errors) => new BadRequestException(errors)`.
  const listed = isClassValidatorErrors(response) ? response : (response as { message?: unknown })?.message;
  if (isClassValidatorErrors(listed)) return classValidatorError(listed).toExtensions();
  const status = e.getStatus();
  const known = typeof status === 'number' ? HTTP_CATEGORIES[status] : undefined;
  if (!known) return undefined;
  return {
    code: known.category === 'BAD_USER_INPUT' ? 'INPUT_INVALID' : known.category,
    category: known.category,
    field: null,
    rule: `http.${String(status)}`,
    messages: { zh: known.zh, en: typeof e.message === 'string' ? e.message : known.category },
  };
}

/** `"<en> / <zh>"`: the GraphQL error message of a typed failure. */
export function bilingualMessage(messages: BilingualText): string {
  return `${messages.en} / ${messages.zh}`;
}

/** A GraphQLError carrying a typed failure, e.g. to throw from an Apollo context function. */
export function typedGraphQLError(
  extensions: ErrorExtensions,
  options: { httpStatus?: number; originalError?: Error } = {},
): GraphQLError {
  return new GraphQLError(bilingualMessage(extensions.messages), {
    originalError: options.originalError,
    extensions: {
      ...extensions,
      ...(options.httpStatus ? { http: { status: options.httpStatus } } : {}),
    },
  });
}
