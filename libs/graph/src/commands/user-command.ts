import type { Identity, RequestContext } from '@lianfang/auth';
import type { Actor, CommandMetadata } from '@lianfang/eventsourcing';
import { deterministicUuid } from '@lianfang/messaging';

/** The person acting, as history records them: who, for which agency, in which jurisdiction. */
export function userActor(identity: Identity): Actor {
  return {
    kind: 'user',
    userId: identity.subject,
    agencyId: identity.agencyId,
    jurisdiction: identity.jurisdiction,
  };
}

export interface UserCommandInput {
  readonly identity: Identity;
  readonly context: Pick<RequestContext, 'correlationId'>;
  /** The command family, e.g. `transfer-service.transfer`: keys of different families never collide. */
  readonly scope: string;
  /** The client's idempotency key: a retry of the same request gets the same commandId. */
  readonly idempotencyKey: string;
  /** Business time; the request's arrival by default (the only place a user command reads the clock). */
  readonly now?: Date;
}

/** Metadata of a command a person sends through the graph: commandId derived from agency and key. */
export function userCommandMetadata(input: UserCommandInput): CommandMetadata {
  return {
    commandId: deterministicUuid(input.scope, input.identity.agencyId, input.idempotencyKey),
    now: input.now ?? new Date(),
    actor: userActor(input.identity),
    correlationId: input.context.correlationId,
  };
}
