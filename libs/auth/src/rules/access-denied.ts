import type { BilingualText } from '@lianfang/domain-kernel';

/** Which check of a rule refused: the agency's kind, the person's roles, or the record's scope. */
export type AccessCheck = 'agencyKind' | 'role' | 'scope';

/**
 * Who you are is known, and you may not do this (403-like). Names the rule and the check that failed;
 * the messages say what was missing. Never carries the record itself.
 */
export class AccessDenied extends Error {
  readonly kind = 'authorization' as const;
  readonly code = 'FORBIDDEN' as const;
  constructor(
    /** The rule's stable name, e.g. `transfer.approve`. */
    readonly rule: string,
    readonly check: AccessCheck,
    readonly zh: string,
    readonly en: string,
  ) {
    super(`${en} / ${zh}`);
    this.name = 'AccessDenied';
  }

  get messages(): BilingualText {
    return { zh: this.zh, en: this.en };
  }
}
