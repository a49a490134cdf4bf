/**
 * Requests per agency, as a token bucket held in this gateway process's memory: a bucket of
 * `perMinute` tokens refilled continuously at `perMinute / 60` per second, so an agency may burst up
 * to a minute's allowance and then goes at the steady rate.
 *
 * Per gateway instance: with N gateway replicas an agency gets up to N × perMinute in total. That is
 * the intended trade (no shared store on the request path); a deployment that needs one global limit
 * puts it in front of the gateways.
 */
export interface RateDecision {
  readonly allowed: boolean;
  /** Whole seconds until one request would be allowed again (0 when allowed). */
  readonly retryAfterSeconds: number;
  /** Requests left in the bucket after this one. */
  readonly remaining: number;
}

export interface AgencyRateLimiter {
  take(agencyId: string): RateDecision;
}

interface Bucket {
  tokens: number;
  updatedAtMs: number;
}

export function createAgencyRateLimiter(
  perMinute: number,
  now: () => number = () => performance.now(),
): AgencyRateLimiter {
  if (!Number.isSafeInteger(perMinute) || perMinute < 1)
    throw new RangeError(`perMinute must be a positive integer, got ${perMinute}`);
  const perMs = perMinute / 60_000;
  // Bounded by the agencies in the directory: only verified identities reach the limiter.
  const buckets = new Map<string, Bucket>();
  return {
    take(agencyId) {
      const at = now();
      const bucket = buckets.get(agencyId) ?? { tokens: perMinute, updatedAtMs: at };
      bucket.tokens = Math.min(perMinute, bucket.tokens + (at - bucket.updatedAtMs) * perMs);
      bucket.updatedAtMs = at;
      buckets.set(agencyId, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true, retryAfterSeconds: 0, remaining: Math.floor(bucket.tokens) };
      }
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)),
        remaining: 0,
      };
    },
  };
}
