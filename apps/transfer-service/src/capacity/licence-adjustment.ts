/**
 * A licence change as one capacity ledger follows it: the ledger of a (facility, category, year) takes
 * the licensed annual capacity the facility's licence now states (FacilityUpdated.capacityChanges).
 *
 * Below what the ledger already holds (approvals reserved, receipts consumed), the capacity decider
 * refuses an ordinary adjustment. The licence is a legal fact all the same: the licensing authority has
 * withdrawn part of the facility's scale, a partial revocation. So the ledger takes the licensed figure
 * through the decider's revocation path, which records the shortfall explicitly (资源优化共享: capacity is
 * never overbooked, so nothing new can be reserved until the shortfall is absorbed). The approvals
 * already granted are acts of the bureaus: they stay, and the bureaus decide which to withdraw or move
 * (the shortfall is their work item). Pure: the decision is made on the ledger's state inside the
 * load–decide–append loop, never on a read model.
 */
import { Quantity } from '@lianfang/domain-kernel';
import type { Command, Decider } from '@lianfang/eventsourcing';
import {
  capacityDecider,
  ledgerTotals,
  type CapacityCommand,
  type CapacityEvent,
  type CapacityLedgerState,
} from './decider';

export type FollowLicence = Command<
  'FollowLicence',
  {
    facilityId: string;
    category: string;
    /** What the licence now allows a year for the category, kg ('0.000': the category was dropped). */
    capacityKg: string;
    /** The licence's figure before the change, kg (for the record). */
    licensedFromKg: string;
    /** Why the licence changed, as the update said. */
    reason?: string;
  }
>;

const kgOf = (kg: string) => Quantity.ofKg(kg).toKgString();

/** The AdjustCapacity this ledger needs to follow the licence: plain, or a partial revocation. */
export function licenceAdjustment(command: FollowLicence, state: CapacityLedgerState): CapacityCommand {
  const { category, capacityKg, licensedFromKg, reason } = command.data;
  const target = Quantity.ofKg(capacityKg);
  const { committed } = ledgerTotals(state);
  const why = reason?.trim() ? `: ${reason.trim()}` : '';
  const moved = `${category} ${kgOf(licensedFromKg)} kg → ${kgOf(capacityKg)} kg`;
  const belowCommitted = committed.isGreaterThan(target);
  return {
    type: 'AdjustCapacity',
    data: {
      capacityKg: target.toKgString(),
      ...(belowCommitted
        ? {
            revocation: true,
            reason: `许可证核减至已占用量以下（部分吊销）/ licence reduced below what approvals hold (partial revocation), ${moved}, ${committed.toKgString()} kg committed${why}`,
          }
        : { reason: `许可证变更 / licence amended, ${moved}${why}` }),
    },
    metadata: command.metadata,
  };
}

/**
 * The capacity ledger's own decider, fed with the adjustment the licence calls for. A ledger not
 * opened yet needs nothing: it opens later from the licence as it then stands.
 */
export const licenceFollowingDecider: Decider<FollowLicence, CapacityEvent, CapacityLedgerState> = {
  initialState: capacityDecider.initialState,
  evolve: capacityDecider.evolve,
  snapshot: capacityDecider.snapshot,
  decide: (command, state) =>
    state.status === 'open' ? capacityDecider.decide(licenceAdjustment(command, state), state) : [],
};
