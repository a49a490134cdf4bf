/** Which dependency a service could not start on: named so that the person starting it knows where to look. */
export type PlatformDependency = 'postgres' | 'pglite' | 'kafka' | 'memory-bus' | 'outbox-relay';

/**
 * A service could not open what its configuration names (database, data directory, broker). Thrown while
 * the app is created, before it listens: the message says what failed, in Chinese and English, and what to
 * do; `variable` names the configuration variable to check.
 */
export class PlatformStartError extends Error {
  readonly code = 'PLATFORM_START_FAILED';
  constructor(
    readonly service: string,
    readonly dependency: PlatformDependency,
    /** The variable to check (DATABASE_URL, DATA_DIR, KAFKA_BROKERS), when one is to blame. */
    readonly variable: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PlatformStartError';
  }
}

/** The text of an error and of its causes, on one line (driver errors often say the useful part last). */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    if (current instanceof Error || (typeof current === 'object' && 'message' in current)) {
      const e = current as Error & { code?: unknown; errors?: unknown };
      const text = e.message || (typeof e.code === 'string' ? e.code : '');
      // AggregateError (Node's connect to localhost tries ::1 and 127.0.0.1) has an empty message.
      if (!text && Array.isArray(e.errors) && e.errors.length > 0) {
        parts.push(describeError(e.errors[0]));
      } else if (text && !parts.includes(text)) parts.push(text);
      current = e.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(': ') || 'unknown error';
}

/** A connection URL without its password, to print. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
