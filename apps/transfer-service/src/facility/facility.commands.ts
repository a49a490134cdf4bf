import { Inject, Injectable } from '@nestjs/common';
import { authorize, type Identity } from '@lianfang/auth';
import { LocalDate } from '@lianfang/domain-kernel';
import {
  Aggregates,
  type Actor,
  type Decider,
  type HandleCommandResult,
  type OutboxMessage,
  type PendingEvent,
} from '@lianfang/eventsourcing';
import { userActor } from '@lianfang/graph';
import { integrationEvent } from '@lianfang/messaging';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import { PUBLISHED } from '../common/published';
import {
  facilityDecider,
  facilityStream,
  type FacilityCommand,
  type FacilityEvent,
  type FacilityState,
} from './decider';
import { manageFacilities } from './facility.rules';

/**
 * The facility decider with the caller's scope checked on the record itself, inside the load–decide
 * loop: the stored facility's jurisdiction for a change, the validated one for a registration.
 */
export const scopedFacilityDecider = (
  identity: Identity,
): Decider<FacilityCommand, FacilityEvent, FacilityState> => ({
  initialState: facilityDecider.initialState,
  evolve: facilityDecider.evolve,
  decide(command, state) {
    if (state.status !== 'unregistered')
      authorize(identity, manageFacilities, { jurisdiction: state.profile.jurisdiction });
    const events = facilityDecider.decide(command, state);
    for (const e of events)
      if (e.type === 'FacilityRegistered')
        authorize(identity, manageFacilities, { jurisdiction: e.data.profile.jurisdiction });
    return events;
  },
});

/**
 * The integration events of a facility's new events. Other services learn "no new manifests to it" from
 * FacilitySuspended; a revocation stops it for good, so it is announced the same way (the published
 * language has no revocation of its own: the reason says it was revoked).
 */
export function facilityOutbox(
  topic: string,
  actor: Actor,
  correlationId: string,
): (events: readonly PendingEvent<FacilityEvent>[], state: FacilityState) => OutboxMessage[] {
  return (events, state) =>
    events.flatMap((event) => {
      if (state.status === 'unregistered') return [];
      if (event.type !== 'FacilitySuspended' && event.type !== 'FacilityRevoked') return [];
      const reason =
        event.type === 'FacilityRevoked'
          ? `许可证吊销 / licence revoked: ${event.data.reason}`
          : event.data.reason;
      return [
        integrationEvent({
          topic,
          source: 'transfer',
          type: 'FacilitySuspended',
          from: event,
          actor,
          correlationId,
          contracts: PUBLISHED,
          data: {
            facilityId: event.data.facilityId,
            jurisdiction: state.profile.jurisdiction,
            reason,
            fromDate: LocalDate.ofInstant(event.metadata.occurredAt).toString(),
          },
        }),
      ];
    });
}

/** Facility commands from people: authorized as the caller inside the load–decide loop, with the outbox. */
@Injectable()
export class FacilityCommands {
  constructor(
    @Inject(Aggregates) private readonly aggregates: Aggregates,
    @Inject(PLATFORM) private readonly platform: Platform,
  ) {}

  handle(command: FacilityCommand, identity: Identity): Promise<HandleCommandResult<FacilityState>> {
    return this.aggregates.handle({
      decider: scopedFacilityDecider(identity),
      streamId: facilityStream(command.data.facilityId),
      command,
      outbox: facilityOutbox(this.platform.topic, userActor(identity), command.metadata.correlationId),
    });
  }
}
