/**
 * Who you are could not be established (401-like). Codes: TOKEN_MISSING, TOKEN_EXPIRED, TOKEN_INVALID,
 * TOKEN_CLAIMS_INVALID, AGENCY_UNKNOWN, IDENTITY_MISSING, IDENTITY_INVALID.
 */
export class AuthenticationError extends Error {
  readonly kind = 'authentication' as const;
  constructor(
    readonly code: string,
    readonly zh: string,
    readonly en: string,
    /** The claim or header at fault, when there is one. */
    readonly field?: string,
  ) {
    super(`${en} / ${zh}`);
    this.name = 'AuthenticationError';
  }

  get messages(): { zh: string; en: string } {
    return { zh: this.zh, en: this.en };
  }
}
