import { Directive, Field, ID, ObjectType } from '@nestjs/graphql';
import type {
  DomainEvent,
  EventStore,
  LogPosition,
  RecordedEvent,
  StreamModel,
} from '@lianfang/eventsourcing';
import { LogPositionRef } from '../scalars/scalar-providers';

/**
 * A record's history as every subgraph serves it (`history(id)`): one entry per stored event, oldest
 * first, with who acted, when it happened (business time) and when it was recorded. @shareable, so the
 * services' histories compose into one type.
 */
@ObjectType('HistoryActor', { description: 'Who acted: a person for an agency, or a named rule. 行为人。' })
@Directive('@shareable')
export class HistoryActorType {
  @Field({ description: 'user or system. 人员或系统规则。' })
  kind!: string;

  @Field(() => String, { nullable: true, description: 'The person (token subject). 人员。' })
  userId!: string | null;

  @Field(() => String, { nullable: true, description: 'The agency they acted for. 所属机构。' })
  agencyId!: string | null;

  @Field(() => String, { nullable: true })
  jurisdiction!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The rule or timer that acted, e.g. transfer.deadline-timer. 系统规则名称。',
  })
  name!: string | null;
}

@ObjectType('HistoryEntry', { description: 'One fact in a record’s history. 记录历史中的一项事实。' })
@Directive('@shareable')
export class HistoryEntryType {
  @Field(() => ID)
  eventId!: string;

  @Field({ description: 'The fact, e.g. TransferApproved. 事实类型。' })
  type!: string;

  @Field({ description: 'Its position in the record’s stream, from 0. 在记录中的序号。' })
  streamPosition!: string;

  @Field(() => LogPositionRef, { description: 'Its position in the service’s log. 全局位置。' })
  logPosition!: LogPosition;

  @Field({ description: 'When it happened (business time). 发生时间。' })
  occurredAt!: Date;

  @Field({ description: 'When the platform recorded it. 记录时间。' })
  recordedAt!: Date;

  @Field(() => HistoryActorType)
  actor!: HistoryActorType;

  @Field()
  correlationId!: string;

  @Field(() => String, { nullable: true })
  causationId!: string | null;

  @Field(() => String, { nullable: true })
  commandId!: string | null;

  @Field({ description: 'The fact’s data as JSON (schema version as read). 事实内容（JSON）。' })
  data!: string;

  @Field()
  schemaVersion!: number;
}

export function historyEntryOf(event: RecordedEvent): HistoryEntryType {
  const actor = event.metadata.actor;
  return {
    eventId: event.eventId,
    type: event.type,
    streamPosition: event.streamPosition.toString(),
    logPosition: event.logPosition,
    occurredAt: event.metadata.occurredAt,
    recordedAt: event.metadata.recordedAt,
    actor:
      actor.kind === 'user'
        ? {
            kind: 'user',
            userId: actor.userId,
            agencyId: actor.agencyId,
            jurisdiction: actor.jurisdiction,
            name: null,
          }
        : { kind: 'system', userId: null, agencyId: null, jurisdiction: null, name: actor.name },
    correlationId: event.metadata.correlationId,
    causationId: event.metadata.causationId,
    commandId: event.metadata.commandId,
    data: JSON.stringify(event.data, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    ),
    schemaVersion: event.schemaVersion,
  };
}

const PAGE = 1000;

/** Every event of a stream, oldest first (all pages). Empty when the stream does not exist. */
export async function readWholeStream(store: EventStore, streamId: string): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for (let from = 0n; ;) {
    const page = await store.readStream(streamId, { from, maxCount: PAGE });
    events.push(...page.events);
    if (page.events.length < PAGE) return events;
    from = page.events[page.events.length - 1]!.streamPosition + 1n;
  }
}

/** A record's history: every event of its stream, oldest first; `[]` for a stream that does not exist. */
export async function historyOf(store: EventStore, streamId: string): Promise<HistoryEntryType[]> {
  return (await readWholeStream(store, streamId)).map(historyEntryOf);
}

export interface StateAsOf<S> {
  readonly state: S;
  /** Events folded (recorded at or before `asOf`); 0 when the record did not exist yet. */
  readonly events: number;
  /** The last folded event's recording time. */
  readonly lastRecordedAt: Date | null;
}

/**
 * A record as the platform knew it at `asOf`: the stream folded over the events RECORDED at or before
 * that instant (store time, not business time: a backfilled paper manifest was not known before it was
 * entered). The caller authorizes on the state it gets, exactly as for the current record.
 */
export async function stateAsOf<E extends DomainEvent, S>(
  store: EventStore,
  streamId: string,
  model: StreamModel<E, S>,
  asOf: Date,
  fromRecorded: (event: RecordedEvent) => E = (event) =>
    ({ type: event.type, data: event.data, metadata: event.metadata }) as unknown as E,
): Promise<StateAsOf<S>> {
  let state = model.initialState();
  let events = 0;
  let lastRecordedAt: Date | null = null;
  for (const event of await readWholeStream(store, streamId)) {
    if (event.metadata.recordedAt.getTime() > asOf.getTime()) break;
    state = model.evolve(state, fromRecorded(event));
    events += 1;
    lastRecordedAt = event.metadata.recordedAt;
  }
  return { state, events, lastRecordedAt };
}
