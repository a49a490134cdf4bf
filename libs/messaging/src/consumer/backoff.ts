import { randomInt } from 'node:crypto';

export interface BackoffPolicy {
  /** Delay before the second attempt. */
  readonly initialMs: number;
  /** Cap of any delay. */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 10_000 };

/**
 * Delay before attempt `attempt + 1` after `attempt` failures (attempt ≥ 1): exponential, capped, with
 * "equal jitter" (half fixed, half random from node:crypto) so that consumers failing together on a shared
 * dependency do not retry in lockstep, while the delay still grows.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random = randomInt): number {
  const initial = Math.max(0, Math.floor(policy.initialMs));
  const max = Math.max(initial, Math.floor(policy.maxMs));
  const exp = Math.min(max, initial * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  const half = Math.floor(exp / 2);
  return exp - half + (half > 0 ? random(0, half + 1) : 0);
}

export class StoppedError extends Error {
  override readonly name = 'StoppedError';
  constructor() {
    super('the consumer is stopping');
  }
}

/** Waits ms, or rejects with StoppedError as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new StoppedError());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new StoppedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
