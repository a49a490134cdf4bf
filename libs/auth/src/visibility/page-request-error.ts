import { DomainValidationError, type BilingualText } from '@lianfang/domain-kernel';

/** A list asked for with a bad `first` or `after`: a validation error naming the argument and the rule. */
export class PageRequestError extends DomainValidationError {
  readonly kind = 'validation' as const;
  readonly code = 'BAD_USER_INPUT' as const;
  constructor(
    readonly field: 'first' | 'after',
    readonly rule: 'page.first.range' | 'page.after.invalid',
    message: BilingualText,
    value?: unknown,
  ) {
    super(value === undefined ? { field, rule, message } : { field, rule, message, value });
    this.name = 'PageRequestError';
  }
}
