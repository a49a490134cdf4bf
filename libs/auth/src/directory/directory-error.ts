import { AuthenticationError } from '../errors';

/** One thing wrong in a directory file: where (`agencies[3].jurisdiction`), which rule, and why. */
export interface DirectoryProblem {
  readonly path: string;
  readonly rule: string;
  readonly message: { readonly zh: string; readonly en: string };
}

/**
 * The directory file cannot be used. Lists every problem at once so the person editing the file can fix
 * them in one pass instead of one restart per mistake.
 */
export class DirectoryError extends Error {
  readonly kind = 'directory' as const;
  constructor(
    /** The file (or the caller's name for the JSON) the problems are in. */
    readonly source: string,
    readonly problems: readonly DirectoryProblem[],
  ) {
    super(DirectoryError.describe(source, problems));
    this.name = 'DirectoryError';
  }

  private static describe(source: string, problems: readonly DirectoryProblem[]): string {
    const header =
      `机构名录 ${source} 有 ${problems.length} 处错误，请逐条修正后重新启动 / ` +
      `agency directory ${source} has ${problems.length} problem(s); fix each one listed below and start again:`;
    const lines = problems.map(
      (p) => `  ${p.path || '(file)'}: ${p.rule}: ${p.message.zh} / ${p.message.en}`,
    );
    return [header, ...lines].join('\n');
  }
}

/** A token or a caller names an agency the directory does not list (401-like at the gateway). */
export class UnknownAgencyError extends AuthenticationError {
  constructor(
    readonly agencyId: string,
    source: string,
  ) {
    super(
      'AGENCY_UNKNOWN',
      `机构名录 ${source} 中没有机构 ${agencyId}`,
      `agency ${agencyId} is not in the agency directory ${source}`,
      'agency_id',
    );
    this.name = 'UnknownAgencyError';
  }
}
