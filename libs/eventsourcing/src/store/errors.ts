import type { ExpectedVersion } from './event-store';

/** The stream was not at the version the writer expected: reload, decide again, retry. */
export class WrongExpectedVersionError extends Error {
  override readonly name = 'WrongExpectedVersionError';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    readonly actual: bigint | undefined,
  ) {
    super(
      `Stream "${streamId}" is at version ${actual === undefined ? 'none' : actual.toString()}, expected ${String(expected)}`,
    );
  }
}

/** The same commandId was used before with a different payload. */
export class IdempotencyConflictError extends Error {
  override readonly name = 'IdempotencyConflictError';
  constructor(readonly commandId: string) {
    super(`Command id "${commandId}" was already used with a different payload / 该幂等键已用于不同的请求`);
  }
}
