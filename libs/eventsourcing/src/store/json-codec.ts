/**
 * How event data is stored: JSON (a jsonb column) with a tagged encoding for what JSON cannot hold,
 * so that what `decide` produced is exactly what `evolve` gets back, without the store knowing schemas.
 *
 *   bigint            → {"$bigint": "-123"}              (quantities in grams, money in fen: any size)
 *   Date              → {"$date": "2024-05-01T08:00:00.000Z"}  (millisecond precision, as Date has)
 *   a plain object whose only key is "$bigint", "$date" or "$object"
 *                     → {"$object": {...}}               (escaped, so user data can never be taken for a tag)
 *
 * Everything else is plain JSON, with JSON's rules: `undefined` properties are dropped, `NaN`/`Infinity`
 * become null, objects with `toJSON` (other than Date) are stored as what `toJSON` returns, and class
 * instances come back as plain objects (their own enumerable properties). In SQL, a tagged bigint reads as
 * `(data->'quantity'->>'$bigint')::numeric`.
 */
const TAGS = new Set(['$bigint', '$date', '$object']);

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function singleKey(value: Record<string, unknown>): string | undefined {
  let only: string | undefined;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    if (only !== undefined) return undefined;
    only = key;
  }
  return only;
}

/**
 * Whether `value` holds anything the tagged encoding changes (a bigint, a Date or other `toJSON`, a tag
 * look-alike): when not, plain JSON.stringify gives the same text, several times faster than a replacer.
 */
function needsReplacer(value: unknown, depth: number): boolean {
  if (typeof value === 'bigint') return true;
  if (typeof value !== 'object' || value === null) return false;
  // Very deep (or cyclic) data: let the replacer path handle it (and JSON.stringify report a cycle).
  if (depth > 200) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (needsReplacer(value[i], depth + 1)) return true;
    return false;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return true;
  let count = 0;
  let first = '';
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    if (count++ === 0) first = key;
    if (needsReplacer((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return count === 1 && TAGS.has(first);
}

/** Serialises event data to JSON text with the tagged encoding above. */
export function encodeJson(value: unknown): string {
  if (!needsReplacer(value, 0)) {
    const plain = JSON.stringify(value);
    if (plain === undefined) throw new TypeError('Event data must be JSON-serialisable (got undefined)');
    return plain;
  }
  const wrappers = new WeakSet<object>();
  const text = JSON.stringify(value, function (this: Record<string, unknown>, key: string, current: unknown) {
    const raw = this[key];
    if (typeof current === 'bigint') return { $bigint: current.toString() };
    if (raw instanceof Date) {
      if (Number.isNaN(raw.getTime())) throw new RangeError(`Invalid Date in event data at "${key}"`);
      return { $date: raw.toISOString() };
    }
    if (isPlainRecord(current) && !(key === '$object' && wrappers.has(this))) {
      const only = singleKey(current);
      if (only !== undefined && TAGS.has(only)) {
        const wrapper = { $object: current };
        wrappers.add(wrapper);
        return wrapper;
      }
    }
    return current;
  });
  if (text === undefined) throw new TypeError('Event data must be JSON-serialisable (got undefined)');
  return text;
}

function revive(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revive(value[i]);
    return value;
  }
  if (!isPlainRecord(value)) return value;
  const only = singleKey(value);
  if (only === '$bigint' && typeof value.$bigint === 'string') return BigInt(value.$bigint);
  if (only === '$date' && typeof value.$date === 'string') return new Date(value.$date);
  if (only === '$object' && isPlainRecord(value.$object)) {
    const inner = value.$object;
    for (const key of Object.keys(inner)) inner[key] = revive(inner[key]);
    return inner;
  }
  for (const key of Object.keys(value)) value[key] = revive(value[key]);
  return value;
}

/** Parses JSON text written by `encodeJson`, reviving bigints and Dates. */
export function decodeJson(text: string): unknown {
  const parsed: unknown = JSON.parse(text);
  // Fast path: no tag anywhere, nothing to revive.
  return text.includes('"$') ? revive(parsed) : parsed;
}

/**
 * JSON for other services (outbox payloads, headers): bigints become decimal strings, Dates ISO strings,
 * as the published language says. Not reversible, on purpose: consumers parse by schema.
 */
export function toPublishedJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, current: unknown) =>
    typeof current === 'bigint' ? current.toString() : current,
  );
  if (text === undefined) throw new TypeError('Outbox payload must be JSON-serialisable (got undefined)');
  return text;
}

const NON_ASCII = /[\u0080-\uffff]/;
const EACH_NON_ASCII = /[\u0080-\uffff]/g;
/** `\uXXXX` by UTF-16 unit, made once each (text in one language reuses a few hundred characters). */
const UNICODE_ESCAPES: string[] = [];

function unicodeEscape(char: string): string {
  const unit = char.charCodeAt(0);
  return (UNICODE_ESCAPES[unit] ??= `\\u${unit.toString(16).padStart(4, '0')}`);
}

/**
 * The same JSON with every non-ASCII character written as a `\uXXXX` escape (one per UTF-16 unit: a
 * pair for a character beyond the BMP): the same value for every JSON reader, PostgreSQL's included
 * (`->>` gives the characters back in a UTF-8 database). The event store stores event data and metadata
 * this way because reading is where it spends its time: ASCII text is decoded from UTF-8 several times
 * faster, and becomes a one-byte string in V8, half the memory of the two-byte string that a single CJK
 * character turns a whole record into (measured on the benchmark's manifests: a quarter less client CPU
 * per event read). It costs 3 more bytes per such character stored and a few µs per append. Outside
 * strings JSON is ASCII already, and inside them an escape means the character itself.
 */
export function asciiJson(json: string): string {
  return NON_ASCII.test(json) ? json.replace(EACH_NON_ASCII, unicodeEscape) : json;
}
