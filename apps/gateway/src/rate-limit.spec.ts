import { createAgencyRateLimiter } from './rate-limit';

describe('per-agency rate limit (token bucket)', () => {
  function clock() {
    let ms = 1_000_000;
    return { now: () => ms, advance: (by: number) => (ms += by) };
  }

  it('allows a minute’s allowance at once, then refuses with the wait until the next request', () => {
    const time = clock();
    const limiter = createAgencyRateLimiter(60, time.now);
    for (let i = 0; i < 60; i++) expect(limiter.take('sc-eeb').allowed).toBe(true);
    expect(limiter.take('sc-eeb')).toEqual({ allowed: false, retryAfterSeconds: 1, remaining: 0 });
  });

  it('refills at the steady rate', () => {
    const time = clock();
    const limiter = createAgencyRateLimiter(6, time.now); // one every 10 s
    for (let i = 0; i < 6; i++) limiter.take('sc-eeb');
    expect(limiter.take('sc-eeb')).toMatchObject({ allowed: false, retryAfterSeconds: 10 });
    time.advance(4_000);
    expect(limiter.take('sc-eeb')).toMatchObject({ allowed: false, retryAfterSeconds: 6 });
    time.advance(6_000);
    expect(limiter.take('sc-eeb')).toMatchObject({ allowed: true, remaining: 0 });
    expect(limiter.take('sc-eeb').allowed).toBe(false);
  });

  it('never stores more than a minute’s allowance', () => {
    const time = clock();
    const limiter = createAgencyRateLimiter(3, time.now);
    limiter.take('sc-eeb');
    time.advance(3_600_000);
    expect([1, 2, 3, 4].map(() => limiter.take('sc-eeb').allowed)).toEqual([true, true, true, false]);
  });

  it('keeps one bucket per agency', () => {
    const time = clock();
    const limiter = createAgencyRateLimiter(1, time.now);
    expect(limiter.take('sc-eeb').allowed).toBe(true);
    expect(limiter.take('sc-eeb').allowed).toBe(false);
    expect(limiter.take('cq-eeb').allowed).toBe(true);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => createAgencyRateLimiter(0)).toThrow(RangeError);
    expect(() => createAgencyRateLimiter(1.5)).toThrow(RangeError);
  });
});
