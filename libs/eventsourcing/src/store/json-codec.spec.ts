import fc from 'fast-check';
import { asciiJson, decodeJson, encodeJson, toPublishedJson } from './json-codec';

describe('event data JSON encoding', () => {
  it('round-trips bigints of any size and sign, Dates, and nesting', () => {
    const value = {
      a: 123_456_789_012_345_678_901_234_567_890n,
      b: -1n,
      c: [0n, new Date('2024-01-02T03:04:05.678Z'), { d: [1n] }],
      e: 'plain',
      f: 1.5,
      g: null,
      h: true,
    };
    expect(decodeJson(encodeJson(value))).toEqual(value);
  });

  it('stores tagged values readable from SQL', () => {
    expect(JSON.parse(encodeJson({ q: 5n, t: new Date(0) }))).toEqual({
      q: { $bigint: '5' },
      t: { $date: '1970-01-01T00:00:00.000Z' },
    });
  });

  it('escapes user objects that look like tags, so they come back as they were', () => {
    const value = {
      lookAlike: { $bigint: '1' },
      date: { $date: 'x' },
      wrapped: { $object: { $bigint: 2n } },
      shared: undefined as unknown,
    };
    const shared = { $bigint: 'shared' };
    value.shared = [shared, shared];
    expect(decodeJson(encodeJson(value))).toEqual(value);
  });

  it('follows JSON for undefined, NaN and toJSON', () => {
    const value = { u: undefined, n: NaN, j: { toJSON: () => 'custom' }, arr: [undefined] };
    expect(decodeJson(encodeJson(value))).toEqual({ n: null, j: 'custom', arr: [null] });
  });

  it('refuses an invalid Date and undefined data', () => {
    expect(() => encodeJson({ d: new Date('nope') })).toThrow(RangeError);
    expect(() => encodeJson(undefined)).toThrow(TypeError);
  });

  it('round-trips arbitrary JSON-like values with bigints (property)', () => {
    const leaf = fc.oneof(
      fc.bigInt(),
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.date({ noInvalidDate: true }),
    );
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node')),
        fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('$bigint', '$date', '$object')), tie('node')),
      ),
    })).node;
    fc.assert(fc.property(tree, (v) => expect(decodeJson(encodeJson(v))).toEqual(v)));
  });

  it('writes non-ASCII characters as escapes meaning the same (ASCII JSON, as the store stores it)', () => {
    const value = {
      name: '含有毒性危险废物',
      plate: '川A·D12345',
      é: 'é\u0100\u0fff\u1000',
      truck: '🚛',
      n: 1,
    };
    const text = asciiJson(encodeJson(value));
    expect(text).toMatch(/^[\x20-\x7e]*$/);
    expect(text).toContain('"\\u542b\\u6709');
    expect(text).toContain('"\\ud83d\\ude9b"'); // beyond the BMP: a surrogate pair
    expect(text).toContain('"\\u00e9":"\\u00e9\\u0100\\u0fff\\u1000"');
    expect(decodeJson(text)).toEqual(value);
    const plain = encodeJson({ a: 'ascii only', b: [1, 2n] });
    expect(asciiJson(plain)).toBe(plain);
  });

  it('ASCII JSON parses to the same value as the JSON it came from (property)', () => {
    const text = fc.string({ unit: 'binary' });
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        text,
        fc.integer(),
        fc.constant(null),
        fc.array(tie('node')),
        fc.dictionary(text, tie('node')),
      ),
    })).node;
    fc.assert(
      fc.property(tree, (v) => {
        const json = encodeJson(v);
        const ascii = asciiJson(json);
        expect([...ascii].every((c) => c.charCodeAt(0) < 0x80)).toBe(true);
        expect(JSON.parse(ascii)).toEqual(JSON.parse(json));
      }),
    );
  });

  it('publishes bigints as decimal strings', () => {
    expect(JSON.parse(toPublishedJson({ grams: 10n ** 20n, at: new Date(0) }))).toEqual({
      grams: '100000000000000000000',
      at: '1970-01-01T00:00:00.000Z',
    });
  });
});
