import type { Actor } from '../store/actor';
import type { LogPosition, RecordedEvent } from '../store/events';
import { decodeJson } from '../store/json-codec';
import type { UpcasterChain } from '../store/upcasting';

/**
 * How events come out of the database: ONE text per event, its "record", not one column per field.
 * Reads are where the store spends its time on big logs, and every column of every row costs the
 * drivers something of its own: PGlite copies each field out of its buffer and decodes it separately
 * (measured: the 6-column rows took twice the query time of one record), `pg` decodes each too.
 *
 * A record is ten fields joined by U+001F (unit separator):
 *   global_position, transaction_id, stream_position, schema_version, recorded_at (ms since the epoch),
 *   event_id, stream_id, type, metadata (JSON), data (JSON).
 * U+001F cannot occur in numbers, a uuid, or JSON (control characters must be escaped inside strings,
 * and only space, tab, CR and LF may separate tokens). Stream ids and types are free text: one that
 * contains U+001F or starts with `"` comes as a JSON string (to_json), any other as it is, so a field
 * starting with `"` is always JSON. Not to_json for all: it looks its types up on every call, a quarter
 * of the query's time on PGlite. Data comes last, so it is found without scanning it. recorded_at is
 * converted with the formula the appends return, so an append's result equals what reads give back.
 * Appends store data and metadata as ASCII JSON (`asciiJson`), so a record is usually all ASCII: cheap to
 * decode from UTF-8 and a one-byte string (events stored before that, with raw UTF-8, read the same).
 * `e` is the alias of the events table in the statement.
 */
export const EVENT_RECORD = `concat_ws(E'\\x1f', e.global_position, e.transaction_id, e.stream_position,
    e.schema_version, floor(extract(epoch FROM e.recorded_at) * 1000)::int8, e.event_id,
    ${freeTextSql('e.stream_id')}, ${freeTextSql('e.type')}, e.metadata, e.data) AS event`;

function freeTextSql(column: string): string {
  return `CASE WHEN strpos(${column}, E'\\x1f') > 0 OR starts_with(${column}, '"') THEN to_json(${column})::text
    ELSE ${column} END`;
}

const SEPARATOR = '\x1f';

/** Metadata as the appends store it, next to each event. */
export interface StoredMetadata {
  readonly actor: Actor;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly commandId: string | null;
  readonly occurredAt: string;
}

interface ParsedMetadata {
  readonly text: string;
  readonly actor: Actor;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly commandId: string | null;
  readonly occurredMs: number;
}

/** Distinct event types remembered (their decoded names); more than this and the cache starts over. */
const TYPE_CACHE_SIZE = 512;

/**
 * V8 makes a slice of 13 characters or more a view into the string it was cut from: an event id cut
 * from its record would keep the whole record (data included) alive as long as the event lives.
 * Shorter slices are copies, and joining copies makes a string of its own.
 */
const SLICE_MIN = 13;

function detached(text: string, from: number, to: number): string {
  if (to - from < SLICE_MIN) return text.slice(from, to);
  let copy = '';
  for (let i = from; i < to; i += SLICE_MIN - 1) copy += text.slice(i, Math.min(i + SLICE_MIN - 1, to));
  return copy;
}

/** A stream id or type (see EVENT_RECORD): a JSON string if it starts with a quote, else as it is. */
function freeText(text: string, from: number, to: number): string {
  return text.charCodeAt(from) === 0x22
    ? (JSON.parse(text.slice(from, to)) as string)
    : detached(text, from, to);
}

/** Event data: tags (json-codec) are keys starting with "$"; text without any "$" is plain JSON. */
function decodeData(text: string): unknown {
  // A one-character search is several times faster than decodeJson's two-character one on long texts.
  return text.indexOf('$') < 0 ? JSON.parse(text) : decodeJson(text);
}

/** A result row (array mode) holding a record (EVENT_RECORD). */
export type EventRecordRow = readonly unknown[];

/** Turns records (EVENT_RECORD) into recorded events, upcast. One per store: it caches type names. */
export class EventRecordDecoder {
  private readonly types = new Map<string, string>();

  constructor(private readonly upcasters: UpcasterChain) {}

  /** The log position of a record, without decoding the rest (where the next batch starts). */
  logPosition(row: EventRecordRow, column = 0): LogPosition {
    const r = row[column];
    if (typeof r !== 'string') throw new Error(`Malformed event record: ${String(r)}`);
    const p0 = field(r, 0);
    return { commit: BigInt(r.slice(p0 + 1, field(r, p0 + 1))), position: BigInt(r.slice(0, p0)) };
  }

  /**
   * The events of `rows[i][column]`, in order. Consecutive events of one transaction (one append)
   * share their metadata text and transaction id, and usually their stream: each is parsed once.
   */
  decode(rows: readonly EventRecordRow[], column = 0): RecordedEvent[] {
    const out: RecordedEvent[] = new Array(rows.length);
    let meta: ParsedMetadata | undefined;
    let commitText = '';
    let commit = 0n;
    let streamText = '';
    let streamId = '';
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i][column];
      if (typeof r !== 'string') throw new Error(`Malformed event record: ${String(r)}`);
      const p0 = field(r, 0);
      const p1 = field(r, p0 + 1);
      const p2 = field(r, p1 + 1);
      const p3 = field(r, p2 + 1);
      const p4 = field(r, p3 + 1);
      const p5 = field(r, p4 + 1);
      const p6 = field(r, p5 + 1);
      const p7 = field(r, p6 + 1);
      const p8 = field(r, p7 + 1);

      if (p1 - p0 - 1 !== commitText.length || !r.startsWith(commitText, p0 + 1)) {
        commitText = r.slice(p0 + 1, p1);
        commit = BigInt(commitText);
      }
      if (p6 - p5 - 1 !== streamText.length || !r.startsWith(streamText, p5 + 1)) {
        streamText = r.slice(p5 + 1, p6);
        streamId = freeText(r, p5 + 1, p6);
      }
      const typeText = r.slice(p6 + 1, p7);
      let type = this.types.get(typeText);
      if (type === undefined) {
        type = freeText(r, p6 + 1, p7);
        if (this.types.size >= TYPE_CACHE_SIZE) this.types.clear();
        this.types.set(detached(typeText, 0, typeText.length), type);
      }
      if (!meta || p8 - p7 - 1 !== meta.text.length || !r.startsWith(meta.text, p7 + 1)) {
        const text = r.slice(p7 + 1, p8);
        const m = JSON.parse(text) as StoredMetadata;
        meta = {
          text,
          actor: m.actor,
          correlationId: m.correlationId,
          causationId: m.causationId ?? null,
          commandId: m.commandId ?? null,
          occurredMs: Date.parse(m.occurredAt),
        };
      }

      const globalPosition = BigInt(r.slice(0, p0));
      const up = this.upcasters.upcast(type, Number(r.slice(p2 + 1, p3)), decodeData(r.slice(p8 + 1)));
      out[i] = {
        eventId: detached(r, p4 + 1, p5),
        type,
        schemaVersion: up.schemaVersion,
        data: up.data,
        streamId,
        streamPosition: BigInt(r.slice(p1 + 1, p2)),
        globalPosition,
        logPosition: { commit, position: globalPosition },
        metadata: {
          occurredAt: new Date(meta.occurredMs),
          recordedAt: new Date(Number(r.slice(p3 + 1, p4))),
          actor: meta.actor,
          correlationId: meta.correlationId,
          causationId: meta.causationId,
          commandId: meta.commandId,
        },
      };
    }
    return out;
  }
}

/** The position of the separator ending the field that starts at `from`. */
function field(record: string, from: number): number {
  const at = record.indexOf(SEPARATOR, from);
  if (at < 0) throw new Error(`Malformed event record: ${record.slice(0, 80)}`);
  return at;
}
