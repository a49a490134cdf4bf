import { hashCommand, stableStringify } from './hash-command';

describe('hashCommand', () => {
  it('does not depend on key order, at any depth', () => {
    expect(hashCommand({ a: 1, b: { c: 2, d: [1, { e: 1, f: 2 }] } })).toBe(
      hashCommand({ b: { d: [1, { f: 2, e: 1 }], c: 2 }, a: 1 }),
    );
  });

  it('tells bigints, numbers and strings apart', () => {
    const hashes = new Set([hashCommand({ q: 1n }), hashCommand({ q: 1 }), hashCommand({ q: '1' })]);
    expect(hashes.size).toBe(3);
  });

  it('handles bigints beyond 2^53 exactly and Dates', () => {
    expect(hashCommand({ q: 2n ** 64n })).not.toBe(hashCommand({ q: 2n ** 64n + 1n }));
    expect(stableStringify({ t: new Date(0), q: 2n ** 64n })).toBe(
      '{"q":{"$bigint":"18446744073709551616"},"t":{"$date":"1970-01-01T00:00:00.000Z"}}',
    );
  });

  it('ignores undefined properties, like JSON', () => {
    expect(hashCommand({ a: 1, b: undefined })).toBe(hashCommand({ a: 1 }));
  });

  it('is a SHA-256 hex digest', () => {
    expect(hashCommand({})).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses Map and Set, which JSON would flatten to {}', () => {
    expect(() => hashCommand({ m: new Map([[1, 2]]) })).toThrow(TypeError);
    expect(() => hashCommand({ s: new Set([1]) })).toThrow(TypeError);
  });
});
