// The workload of the event-store benchmark, identical for every contender: the event payload, the
// metadata, how writers choose streams, and the timed writer loop. See eventstore.bench.ts.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { asciiJson } from '@lianfang/eventsourcing';

export const CONTENDERS = ['ours-pg', 'ours-pglite', 'emmett', 'raw'] as const;
export type ContenderName = (typeof CONTENDERS)[number];

export const LABELS: Record<ContenderName, string> = {
  'ours-pg': 'Lianfang store, PostgreSQL',
  'ours-pglite': 'Lianfang store, PGlite (file-backed)',
  emmett: 'Emmett 0.42 (emmett-postgresql)',
  raw: 'Raw ceiling: single-row INSERT',
};

/** Events read, untimed, before the timed read-all. */
export const READ_WARMUP = 10_000;

/** Each writer appends to streams of its own: EVENTS_PER_STREAM events each, then a new stream. */
export const EVENTS_PER_STREAM = 10;

/** Where one writer is: stream `bench-<run>-w<writer>-<stream>`, `version` events already in it. */
export interface WriterCursor {
  readonly writer: number;
  stream: number;
  /** Events already in the current stream (0: the next append creates it). */
  version: number;
  /** Events this writer appended, over all its streams: numbers the payloads. */
  seq: number;
}

export function streamName(run: string, cursor: WriterCursor): string {
  return `bench-${run}-w${cursor.writer}-${cursor.stream}`;
}

export function advance(cursor: WriterCursor, events = 1): void {
  cursor.seq += events;
  cursor.version += events;
  if (cursor.version >= EVENTS_PER_STREAM) {
    cursor.stream += 1;
    cursor.version = 0;
  }
}

export const EVENT_TYPE = 'ManifestSubmitted';

export const ACTOR = {
  kind: 'user',
  userId: 'user-0f8e2a9c-bench',
  agencyId: 'agency-320115-epb',
  jurisdiction: '320115',
} as const;

/**
 * A transfer manifest (转移联单) as submitted: ~1 KB of JSON, nested objects, an array, some CJK text,
 * numbers and timestamps: what the platform actually stores, not a padded string.
 */
export function manifest(writer: number, seq: number): Record<string, unknown> {
  const n = writer * 1_000_000 + seq;
  const departAt = new Date(Date.UTC(2025, 0, 1) + n * 60_000);
  return {
    manifestNo: `HW-320115-2025-${String(n).padStart(9, '0')}`,
    waste: {
      code: '900-041-49',
      category: 'HW49',
      name: '含有或沾染毒性危险废物的废弃包装物、容器',
      characteristics: ['T', 'In'],
      form: 'solid',
      quantity: { value: 1000 + (n % 997) / 4, unit: 'kg' },
      packaging: { type: 'drum-200l', count: 4 + (n % 9) },
    },
    generator: {
      agencyId: 'agency-320115-epb',
      uscc: '91320115MA1MXXXX7Q',
      name: '南京江宁精细化工有限公司',
      jurisdiction: '320115',
      address: 'No. 18 Jiangjun Avenue, Jiangning District, Nanjing',
      contact: { name: 'Wang Lei', phone: '+86 25 5210 0000' },
    },
    carrier: {
      uscc: '91320100MA1NYYYY2K',
      licenceNo: 'JS-DLYS-320100-0042',
      vehiclePlate: '苏A·D' + String(10_000 + (n % 89_999)),
      driver: { name: 'Zhao Min', licenceNo: '320121198801012233' },
    },
    receiver: {
      uscc: '91321000MA1PZZZZ3H',
      permitNo: 'JS3210OOD042',
      name: 'Yangzhou Hazardous Waste Disposal Centre',
      jurisdiction: '321012',
    },
    route: { departAt: departAt.toISOString(), distanceKm: 96.4, crossesJurisdiction: true },
    containers: [
      { id: `C-${n}-1`, sealNo: `S${n}01`, grossKg: 251.5 },
      { id: `C-${n}-2`, sealNo: `S${n}02`, grossKg: 249.0 },
    ],
    declaredBy: 'user-0f8e2a9c-bench',
  };
}

export function payloadBytes(): number {
  return Buffer.byteLength(JSON.stringify(manifest(7, 123_456)));
}

/** The same payload as our store stores it (non-ASCII characters as \\u escapes). */
export function asciiPayloadBytes(): number {
  return Buffer.byteLength(asciiJson(JSON.stringify(manifest(7, 123_456))));
}

/** What every contender stores next to the payload: our store's context, Emmett's message metadata. */
export function context(): { actor: typeof ACTOR; occurredAt: Date; correlationId: string } {
  return { actor: ACTOR, occurredAt: new Date(), correlationId: randomUUID() };
}

export interface WriteResult {
  /** Appends per second in the measured window (after the warm-up). */
  readonly perSecond: number;
  /** Appends over the whole run, warm-up included: the number of events now in the store. */
  readonly total: number;
  readonly cursors: WriterCursor[];
}

/**
 * `writers` concurrent loops, each awaiting one append at a time, for `warmupMs` then `measureMs`;
 * counts the appends that completed inside the measured window. The loops read the clock themselves
 * after every append rather than wait for a timer: PGlite runs queries synchronously in WebAssembly, and
 * writers that never wait for I/O would starve timers (and so never stop).
 */
export async function runWriters(
  writers: number,
  appendOne: (cursor: WriterCursor) => Promise<void>,
  warmupMs: number,
  measureMs: number,
  tick: (phase: 'warm-up' | 'measure', elapsedMs: number, appends: number) => void,
): Promise<WriteResult> {
  const start = performance.now();
  const warmEnd = start + warmupMs;
  const end = warmEnd + measureMs;
  let nextTick = start + 1000;
  let completed = 0;
  let window: { c0: number; t0: number; c1?: number; t1?: number } | undefined;
  let stop = false;
  let failure: unknown;
  const cursors: WriterCursor[] = Array.from({ length: writers }, (_, writer) => ({
    writer,
    stream: 0,
    version: 0,
    seq: 0,
  }));
  const loops = cursors.map(async (cursor) => {
    try {
      while (!stop) {
        await appendOne(cursor);
        advance(cursor);
        completed += 1;
        const now = performance.now();
        if (!window && now >= warmEnd) window = { c0: completed, t0: now };
        if (window && now >= end) {
          window.c1 = completed;
          window.t1 = now;
          stop = true;
        }
        if (now >= nextTick) {
          nextTick += 1000;
          if (window) tick('measure', now - window.t0, completed - window.c0);
          else tick('warm-up', now - start, completed);
        }
      }
    } catch (error) {
      failure ??= error;
      stop = true;
    }
  });
  await Promise.all(loops);
  if (failure) throw failure;
  if (!window || window.c1 === undefined || window.t1 === undefined) throw new Error('the run ended early');
  return { perSecond: ((window.c1 - window.c0) * 1000) / (window.t1 - window.t0), total: completed, cursors };
}
