import { ContractRegistry, type IntegrationEventEnvelope, type Source } from '@lianfang/contracts';
import type { Actor, OutboxMessage } from '@lianfang/eventsourcing';

/** What a stored domain event carries that its integration event repeats (a PendingEvent's metadata). */
export interface PublishedFrom {
  readonly metadata: {
    readonly eventId: string;
    readonly streamId: string;
    readonly streamPosition: bigint;
    readonly occurredAt: Date;
  };
}

export interface IntegrationEventOptions {
  readonly topic: string;
  readonly source: Source;
  readonly type: string;
  readonly schemaVersion?: number;
  /** The domain event it announces: its id, stream and position become the envelope's. */
  readonly from: PublishedFrom;
  readonly actor: Actor;
  readonly correlationId: string;
  readonly causationId?: string | null;
  readonly data: Record<string, unknown>;
  /** When given, the envelope is validated against its contract before it is stored: a mismatch is a bug. */
  readonly contracts?: ContractRegistry;
}

/**
 * The outbox message that publishes a domain event as an integration event (the published language):
 * stored in the same transaction as the event, relayed to Kafka with the stream id as key. The envelope
 * reuses the domain event's id, so a replay of the same append publishes the same id (consumers dedupe).
 */
export function integrationEvent(options: IntegrationEventOptions): OutboxMessage {
  const { from, actor } = options;
  const envelope: IntegrationEventEnvelope = {
    eventId: from.metadata.eventId,
    type: options.type,
    schemaVersion: options.schemaVersion ?? 1,
    source: options.source,
    streamId: from.metadata.streamId,
    streamPosition: from.metadata.streamPosition.toString(),
    occurredAt: from.metadata.occurredAt.toISOString(),
    correlationId: options.correlationId,
    causationId: options.causationId ?? null,
    actor:
      actor.kind === 'user'
        ? { kind: 'user', userId: actor.userId, agencyId: actor.agencyId, jurisdiction: actor.jurisdiction }
        : { kind: 'system', name: actor.name },
    data: options.data,
  };
  if (options.contracts) {
    const checked = options.contracts.validate(JSON.parse(JSON.stringify(envelope)));
    if (!checked.ok)
      throw new Error(
        `${options.type} does not match its contract: ${checked.violations.map((v) => `${v.field} ${v.rule}`).join('; ')}`,
      );
  }
  return {
    topic: options.topic,
    key: from.metadata.streamId,
    type: options.type,
    schemaVersion: envelope.schemaVersion,
    payload: envelope,
  };
}
