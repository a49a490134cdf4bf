import type {
  AppendRequest,
  AppendResult,
  EventStore,
  ReadAllOptions,
  ReadAllResult,
  ReadStreamOptions,
  ReadStreamResult,
  TailAllOptions,
} from '../store/event-store';
import type { NewEvent, RecordedEvent } from '../store/events';
import { SubjectKeyMissingError, type SubjectKeyLookup, type SubjectKeyStore } from './key-store';
import {
  ERASED,
  assertEnvelope,
  decryptPersonalValue,
  encryptPersonalValue,
  isErased,
  isPersonalDataEnvelope,
  PersonalDataIntegrityError,
  type PersonalDataEnvelope,
} from './personal-data';

/**
 * Protecting and revealing the personal data inside event data.
 *
 * Write side, explicit: the command handler builds the events with plain values, then, before append,
 * `codec.protect(data, subjectId, ['driver.name', 'driver.phone'])` replaces those fields with envelopes
 * encrypted with the subject's key. Call it once per subject when an event carries several people's data.
 * The store is never asked to guess what is personal. Where the append is not in the handler's hands
 * (`handleCommand`, whose `toEvents` is synchronous), declare per event type which fields are whose
 * (`PersonalDataRules`) and give them to `withPersonalData(store, codec, { protect: rules })`.
 *
 * Protect events, never commands: the idempotency hash of a command must not see random nonces.
 * With PGlite (one connection), protect before opening a transaction (`appendIn`): a key-store query
 * inside the caller's transaction cannot run.
 *
 * Read side, automatic: `withPersonalData(store, codec)` returns an EventStore whose reads hand back data
 * with every envelope replaced by its value, or by `{ erased: true }` when the subject has been erased.
 * Keys are looked up once per batch of events (one query per 1000 uncached subjects), so reading 10 000
 * events costs a handful of key queries, not 10 000.
 *
 * Field paths: dot-separated property names; `*` matches every element of an array (or every property
 * of an object); a number indexes an array. `contacts.*.phone`, `driver` (a whole object). A path that
 * does not exist in the data, or leads to null/undefined, is skipped (optional fields), and so is a value
 * that is already the erased marker (copied from an earlier, erased event).
 */
export class PersonalDataCodec {
  constructor(readonly keys: SubjectKeyStore) {}

  /** The event with its data protected by the rules for its type (unchanged when there are none). */
  async protectEvent<E extends NewEvent>(event: E, rules: PersonalDataRules): Promise<E> {
    const forType = Object.prototype.hasOwnProperty.call(rules, event.type) ? rules[event.type] : undefined;
    if (!forType || forType.length === 0) return event;
    let data: unknown = event.data;
    for (const rule of forType) {
      const subject = rule.subject(data);
      if (subject === undefined || subject === null || subject === '') continue;
      data = await this.protect(data, subject, rule.paths);
    }
    return data === event.data ? event : { ...event, data };
  }

  /**
   * A copy of `data` with the fields at `paths` encrypted for `subjectId`. Returns the same type for the
   * convenience of handlers: the values are envelopes now, and read back as `Personal<…>` through
   * `reveal`. Throws SubjectErasedError when the subject has been erased.
   */
  async protect<T>(data: T, subjectId: string, paths: readonly string[]): Promise<T> {
    if (!subjectId) throw new Error('protect: a subject id is required');
    if (paths.length === 0) return data;
    const key = await this.keys.getOrCreateKey(subjectId);
    let out: unknown = data;
    for (const path of paths) {
      const segments = parsePath(path);
      out = updateAt(out, segments, (value) => {
        if (value === undefined || value === null || isErased(value)) return value;
        if (isPersonalDataEnvelope(value)) {
          const envelope = assertEnvelope(value);
          if (envelope.subject !== subjectId) {
            throw new Error(
              `protect: "${path}" is already protected for subject "${envelope.subject}", not "${subjectId}"`,
            );
          }
          return value;
        }
        return encryptPersonalValue(value, key, path);
      });
    }
    return out as T;
  }

  /** `data` with every envelope revealed (or `{ erased: true }`); the input is not modified. */
  async reveal<T = unknown>(data: unknown): Promise<T> {
    const envelopes: PersonalDataEnvelope[] = [];
    collectEnvelopes(data, envelopes);
    if (envelopes.length === 0) return data as T;
    const keys = await this.keys.getKeys(envelopes.map((e) => e.subject));
    return revealWith(data, keys) as T;
  }

  /** The events with their data revealed; one key lookup for the whole batch. */
  async revealEvents<E extends RecordedEvent>(events: readonly E[]): Promise<E[]> {
    const envelopes: PersonalDataEnvelope[] = [];
    for (const event of events) collectEnvelopes(event.data, envelopes);
    if (envelopes.length === 0) return [...events];
    const keys = await this.keys.getKeys(envelopes.map((e) => e.subject));
    return events.map((event) => {
      try {
        const data = revealWith(event.data, keys);
        return data === event.data ? event : { ...event, data };
      } catch (e) {
        if (e instanceof Error)
          e.message = `${e.message} (event ${event.eventId} in stream "${event.streamId}")`;
        throw e;
      }
    });
  }
}

/**
 * Which fields of an event type hold whose personal data, for protection at append:
 *
 * ```ts
 * const rules: PersonalDataRules = {
 *   DriverAssigned: [{ subject: (d) => d.driver.subjectId, paths: ['driver.name', 'driver.phone'] }],
 *   ContactsUpdated: [...] // one rule per subject; `*` paths for arrays of one subject's data
 * };
 * ```
 * A rule whose `subject` returns nothing is skipped.
 */
export interface PersonalFieldRule {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- event data is untyped at the store
  readonly subject: (data: any) => string | null | undefined;
  readonly paths: readonly string[];
}
export type PersonalDataRules = Readonly<Record<string, readonly PersonalFieldRule[]>>;

export interface WithPersonalDataOptions {
  /** Protect appended events by these rules. Without it, appends store the data exactly as given. */
  readonly protect?: PersonalDataRules;
}

/**
 * The store, with reads that reveal personal data: `readStream`, `readAll`, `tailAll` and the events of an
 * `append` result. Appends store the data exactly as given (protect before appending), unless
 * `options.protect` declares rules: then each appended event is protected by the rules of its type.
 *
 * `tailAll` catches up through `readAll` batches (revealed a batch at a time), then follows the inner
 * store's live tail from where the batches ended, revealing each event (keys are cached, see
 * SubjectKeyStore).
 *
 * Everything else of the inner store is forwarded as is (a Proxy), so adapter extras keep working: the
 * projections find `schema`, `eventsChannel` and `backlog`. `appendIn` (the SQL adapters' append inside
 * the caller's transaction) is forwarded too; with rules it protects first, and its result is NOT
 * revealed (a key lookup cannot run inside the caller's transaction on PGlite's single connection).
 */
export function withPersonalData<S extends EventStore>(
  store: S,
  codec: PersonalDataCodec,
  options: WithPersonalDataOptions = {},
): S {
  const rules = options.protect;
  const overrides: Partial<Record<PropertyKey, unknown>> = {
    async append(request: AppendRequest): Promise<AppendResult> {
      const result = await store.append(rules ? await protectRequest(request, codec, rules) : request);
      return { ...result, events: await codec.revealEvents(result.events) };
    },
    async readStream(streamId: string, readOptions?: ReadStreamOptions): Promise<ReadStreamResult> {
      const result = await store.readStream(streamId, readOptions);
      return { ...result, events: await codec.revealEvents(result.events) };
    },
    async readAll(readOptions?: ReadAllOptions): Promise<ReadAllResult> {
      const result = await store.readAll(readOptions);
      return { ...result, events: await codec.revealEvents(result.events) };
    },
    tailAll(tailOptions: TailAllOptions = {}): AsyncIterable<RecordedEvent> {
      return { [Symbol.asyncIterator]: () => tailRevealed(store, codec, tailOptions) };
    },
  };
  const appendIn = (store as { appendIn?: unknown }).appendIn;
  if (rules && typeof appendIn === 'function') {
    overrides.appendIn = async (tx: unknown, request: AppendRequest) =>
      appendIn.call(store, tx, await protectRequest(request, codec, rules));
  }
  return new Proxy(store, {
    get(target, property) {
      if (Object.prototype.hasOwnProperty.call(overrides, property)) return overrides[property];
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function protectRequest(
  request: AppendRequest,
  codec: PersonalDataCodec,
  rules: PersonalDataRules,
): Promise<AppendRequest> {
  const streams = [];
  for (const stream of request.streams) {
    const events = [];
    for (const event of stream.events) events.push(await codec.protectEvent(event, rules));
    streams.push({ ...stream, events });
  }
  return { ...request, streams };
}

async function* tailRevealed(
  store: EventStore,
  codec: PersonalDataCodec,
  options: TailAllOptions,
): AsyncGenerator<RecordedEvent> {
  let after = options.after;
  // Catch up in batches, so the key lookups are batched too.
  for (;;) {
    if (options.signal?.aborted) return;
    const batch = await store.readAll({ after, maxCount: options.maxCount });
    if (batch.events.length === 0) break;
    for (const event of await codec.revealEvents(batch.events)) {
      if (options.signal?.aborted) return;
      yield event;
    }
    after = batch.next;
  }
  for await (const event of store.tailAll({ ...options, after })) {
    const [revealed] = await codec.revealEvents([event]);
    yield revealed;
  }
}

// ---- paths -------------------------------------------------------------------------------------------

type Segment = string | number | '*';

function parsePath(path: string): Segment[] {
  if (!path) throw new Error('protect: empty field path');
  return path.split('.').map((s) => {
    if (s === '') throw new Error(`protect: malformed field path "${path}"`);
    if (s === '*') return '*';
    return /^\d+$/.test(s) ? Number(s) : s;
  });
}

/** Copy-on-write update of every value matched by `segments`. */
function updateAt(node: unknown, segments: readonly Segment[], fn: (value: unknown) => unknown): unknown {
  if (segments.length === 0) return fn(node);
  if (node === null || typeof node !== 'object' || isPersonalDataEnvelope(node)) return node;
  const [head, ...rest] = segments;
  if (Array.isArray(node)) {
    if (head === '*')
      return copyIfChanged(
        node,
        node.map((v) => updateAt(v, rest, fn)),
      );
    if (typeof head === 'number' && head < node.length) {
      const next = updateAt(node[head], rest, fn);
      if (next === node[head]) return node;
      const copy = [...node];
      copy[head] = next;
      return copy;
    }
    return node;
  }
  const obj = node as Record<string, unknown>;
  const keys = head === '*' ? Object.keys(obj) : [String(head)];
  let copy: Record<string, unknown> | undefined;
  for (const k of keys) {
    if (!Object.prototype.hasOwnProperty.call(obj, k)) continue;
    const next = updateAt(obj[k], rest, fn);
    if (next !== obj[k]) {
      copy ??= { ...obj };
      copy[k] = next;
    }
  }
  return copy ?? node;
}

function copyIfChanged(original: unknown[], mapped: unknown[]): unknown[] {
  return mapped.some((v, i) => v !== original[i]) ? mapped : original;
}

// ---- reveal ------------------------------------------------------------------------------------------

function collectEnvelopes(node: unknown, into: PersonalDataEnvelope[]): void {
  if (node === null || typeof node !== 'object') return;
  if (isPersonalDataEnvelope(node)) {
    into.push(assertEnvelope(node));
    return;
  }
  if (Array.isArray(node)) {
    for (const v of node) collectEnvelopes(v, into);
    return;
  }
  for (const v of Object.values(node)) collectEnvelopes(v, into);
}

/** Copy-on-write: subtrees without envelopes are shared, not copied. */
function revealWith(node: unknown, keys: ReadonlyMap<string, SubjectKeyLookup>): unknown {
  if (node === null || typeof node !== 'object') return node;
  if (isPersonalDataEnvelope(node)) {
    const envelope = assertEnvelope(node);
    const lookup = keys.get(envelope.subject);
    if (!lookup)
      throw new PersonalDataIntegrityError(`No key looked up for "${envelope.subject}"`, envelope.subject);
    if (lookup.state === 'erased') return ERASED;
    if (lookup.state === 'missing') throw new SubjectKeyMissingError(envelope.subject);
    return decryptPersonalValue(envelope, lookup.key);
  }
  if (Array.isArray(node))
    return copyIfChanged(
      node,
      node.map((v) => revealWith(v, keys)),
    );
  const obj = node as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(obj)) {
    const next = revealWith(v, keys);
    if (next !== v) {
      copy ??= { ...obj };
      copy[k] = next;
    }
  }
  return copy ?? node;
}
