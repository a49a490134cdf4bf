import { createHash } from 'node:crypto';

function canonical(value: unknown): unknown {
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new RangeError('hashCommand: invalid Date');
    return { $date: value.toISOString() };
  }
  if (value instanceof Map || value instanceof Set) {
    // JSON would turn both into {}: two different commands would hash the same.
    throw new TypeError('hashCommand: Map and Set are not supported; use arrays or plain objects');
  }
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : canonical(v)));
  if (value !== null && typeof value === 'object') {
    const withJson = value as { toJSON?: () => unknown };
    if (typeof withJson.toJSON === 'function') return canonical(withJson.toJSON());
    const record = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(record).sort()) {
      const v = record[key];
      if (v !== undefined && typeof v !== 'function' && typeof v !== 'symbol') out[key] = canonical(v);
    }
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}

/**
 * Stable JSON of a value: object keys sorted at every depth, `undefined` properties dropped, bigints as
 * `{"$bigint":"…"}`, Dates as `{"$date":"…"}` (so `1n`, `"1"` and `1` never collide).
 */
export function stableStringify(value: unknown): string {
  return JSON.stringify(canonical(value)) ?? 'null';
}

/**
 * The idempotency hash of a command payload: SHA-256 (hex) of its stable JSON. Pass what identifies the
 * request (type and data), not its metadata (ids, times, actor), so a retry of the same request matches.
 */
export function hashCommand(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex');
}
