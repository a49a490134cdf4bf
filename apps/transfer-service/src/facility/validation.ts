import { DomainError } from '@lianfang/eventsourcing';
import type { Result, ValidationError } from '@lianfang/domain-kernel';

/** 'creditCode.checkCharacter' → 'credit-code-check-character': a kernel rule as a DomainError code part. */
export function kebabRule(rule: string): string {
  return rule
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/\./g, '-')
    .toLowerCase();
}

/**
 * A kernel validation failure as the refusal of an aggregate: `<aggregate>.<kernel-rule>`, naming the
 * field and keeping the kernel's bilingual message, so bad input reads the same everywhere.
 */
export function invalidInput(aggregate: string, error: ValidationError): DomainError {
  return new DomainError({
    code: `${aggregate}.${kebabRule(error.rule)}`,
    field: error.field,
    message: error.message,
    details: { rule: error.rule, ...(error.value !== undefined ? { value: error.value } : {}) },
  });
}

/** The value of a kernel Result, or the refusal of `aggregate`. */
export function required<T>(aggregate: string, result: Result<T>): T {
  if (result.ok) return result.value;
  throw invalidInput(aggregate, result.error);
}
