import { Inject, Injectable } from '@nestjs/common';
import {
  Aggregates,
  type Decider,
  type HandleCommandResult,
  type PendingEvent,
} from '@lianfang/eventsourcing';
import { integrationEvent } from '@lianfang/messaging';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import { PUBLISHED } from '../common/published';
import {
  agreementDecider,
  agreementStream,
  type AgreementCommand,
  type AgreementEvent,
  type AgreementState,
} from './decider';

/** The published text of an agreement: the decider's agreed clauses, copied into the contract's shape. */
function publishedText(
  state: Exclude<AgreementState, { status: 'none' }>,
  text: Extract<AgreementEvent, { type: 'AgreementAdopted' | 'AgreementAmended' }>['data'],
) {
  return {
    agreementId: state.agreementId,
    title: { zh: state.title.zh, en: state.title.en },
    members: [...text.members],
    // The term starts with the agreement; an amendment changes the clauses from its own date.
    effectiveFrom: state.effectiveFrom,
    effectiveTo: text.validUntil,
    whitelist: text.clauses.whitelist,
    rateSchedules: text.clauses.compensationRates,
    discrepancyTolerance: text.clauses.tolerance,
    maxTransitDays: text.clauses.maxTransitDays,
  };
}

/**
 * The agreement's write side: load, check the caller on the stored record (`check`, inside the
 * load–decide loop), decide, append with the published language in the same transaction. The
 * compensation service settles by adopted rates: adoption and amendment are published.
 */
@Injectable()
export class AgreementCommands {
  constructor(
    @Inject(Aggregates) private readonly aggregates: Aggregates,
    @Inject(PLATFORM) private readonly platform: Platform,
  ) {}

  handle(
    command: AgreementCommand,
    check: (state: AgreementState) => void = () => undefined,
  ): Promise<HandleCommandResult<AgreementState>> {
    const decider: Decider<AgreementCommand, AgreementEvent, AgreementState> = {
      initialState: agreementDecider.initialState,
      evolve: agreementDecider.evolve,
      decide(c, state) {
        check(state);
        return agreementDecider.decide(c, state);
      },
    };
    return this.aggregates.handle({
      decider,
      streamId: agreementStream(command.data.agreementId),
      command,
      outbox: (events, state) =>
        state.status === 'none'
          ? []
          : events.flatMap((event: PendingEvent<AgreementEvent>) => {
              if (event.type === 'AgreementAdopted')
                return [this.published('AgreementAdopted', event, publishedText(state, event.data), command)];
              if (event.type === 'AgreementAmended')
                return [
                  this.published(
                    'AgreementAmended',
                    event,
                    {
                      ...publishedText(state, event.data),
                      amendmentId: event.data.amendmentId,
                      amendmentEffectiveDate: event.data.effectiveFrom,
                    },
                    command,
                  ),
                ];
              return [];
            }),
    });
  }

  private published(
    type: 'AgreementAdopted' | 'AgreementAmended',
    event: PendingEvent<AgreementEvent>,
    data: Record<string, unknown>,
    command: AgreementCommand,
  ) {
    return integrationEvent({
      topic: this.platform.topic,
      source: 'transfer',
      type,
      from: event,
      actor: command.metadata.actor,
      correlationId: command.metadata.correlationId,
      contracts: PUBLISHED,
      data,
    });
  }
}
