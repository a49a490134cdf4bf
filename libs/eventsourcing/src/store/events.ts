import type { Actor } from './actor';

/**
 * Where an event stands in the log of all streams, ordered by (commit, position).
 * PostgreSQL: commit = the writing transaction's id (xid8), position = a sequence value; ordering by
 * the pair is what lets a tailing reader never skip a late commit. EventStoreDB/KurrentDB maps its
 * own (commit, prepare) positions here. Positions need not be contiguous.
 */
export interface LogPosition {
  readonly commit: bigint;
  readonly position: bigint;
}

/** Before the first event of the log: read-all from here reads everything. */
export const LOG_START: LogPosition = Object.freeze({ commit: 0n, position: 0n });

export function compareLogPositions(a: LogPosition, b: LogPosition): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.position !== b.position) return a.position < b.position ? -1 : 1;
  return 0;
}

/** Checkpoints are stored as text `commit:position`; never as a JS number. */
export function formatLogPosition(p: LogPosition): string {
  return `${p.commit}:${p.position}`;
}

export function parseLogPosition(text: string): LogPosition {
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m) throw new Error(`Not a log position: "${text}" (expected "commit:position")`);
  return { commit: BigInt(m[1]), position: BigInt(m[2]) };
}

/** Metadata every stored event carries (architecture.md "Write side"). */
export interface RecordedEventMetadata {
  /** Business time, from the command: when it happened in the world. */
  readonly occurredAt: Date;
  /** Store time: when the store committed it. */
  readonly recordedAt: Date;
  readonly actor: Actor;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly commandId: string | null;
}

/** An event as the store returns it. */
export interface RecordedEvent<Type extends string = string, Data = unknown> {
  /** UUIDv7. */
  readonly eventId: string;
  readonly type: Type;
  /** The schema version of `data` as read (after upcasting). */
  readonly schemaVersion: number;
  readonly data: Data;
  readonly streamId: string;
  /** 0 for the first event of a stream; contiguous within a stream. */
  readonly streamPosition: bigint;
  /** Unique, increasing per append; not contiguous, not the read order on its own (see LogPosition). */
  readonly globalPosition: bigint;
  readonly logPosition: LogPosition;
  readonly metadata: RecordedEventMetadata;
}

/** An event to append. The store stamps ids, positions and times. */
export interface NewEvent<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
  /** Defaults to the version registered for `type`, else 1. */
  readonly schemaVersion?: number;
  /** Defaults to a new UUIDv7. */
  readonly eventId?: string;
}
