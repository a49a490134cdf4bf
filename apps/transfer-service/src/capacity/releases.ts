/**
 * Releasing what an approval still holds (expiry, withdrawal after approval, facility revocation): in
 * every ledger of the facility the approval could have reserved in (its categories × the years of its
 * validity), the reservation named by the transfer id is released, all in one atomic append. Idempotent:
 * a reservation released before records nothing, so a timer firing twice stores nothing new.
 */
import { WasteCode } from '@lianfang/domain-kernel';
import type { Aggregates, Command, DomainEvent, StreamBinding } from '@lianfang/eventsourcing';
import { transferStream, type TransferEvent } from '../transfer/decider';
import { capacityDecider, capacityStream, type CapacityEvent, type CapacityLedgerState } from './decider';
import { yearsCovered } from './plan';
import type { CapacityReleases } from './ports';

type ReleaseInput = Parameters<CapacityReleases['release']>[0];
type ReleaseCapacity = Command<
  'ReleaseCapacity',
  { transferId: string; facilityId: string; reason: ReleaseInput['reason'] }
>;
type Approved = Extract<TransferEvent, { type: 'TransferApproved' }>;
type Streams = Record<string, StreamBinding<DomainEvent, unknown>>;

/** The ledgers an approval may hold capacity in at `facilityId`. */
export function ledgersOfApproval(facilityId: string, approval: Approved['data']['approval']): string[] {
  const categories = [
    ...new Set(approval.lines.map((l) => WasteCode.parseOrThrow(l.wasteCode).category.code)),
  ];
  const years = yearsCovered(approval.validFrom, approval.validUntil);
  return categories
    .sort()
    .flatMap((category) => years.map((year) => capacityStream(facilityId, category, year)));
}

function releaseIn(ledger: CapacityLedgerState, command: ReleaseCapacity): CapacityEvent[] {
  const { transferId, reason } = command.data;
  if (ledger.status !== 'open' || !Object.prototype.hasOwnProperty.call(ledger.reservations, transferId))
    return [];
  return capacityDecider.decide(
    { type: 'Release', data: { reservationId: transferId, reason }, metadata: command.metadata },
    ledger,
  );
}

export class CapacityReleaser implements CapacityReleases {
  constructor(private readonly aggregates: Aggregates) {}

  async release(input: ReleaseInput): Promise<void> {
    const { transferId, facilityId, reason, metadata } = input;
    // The approval (validity and codes) says which ledgers it could have reserved in.
    const { events } = await this.aggregates.store.readStream(transferStream(transferId));
    const approved = events.filter((e) => e.type === 'TransferApproved').at(-1);
    if (!approved) return;
    const { approval } = (approved as unknown as Approved).data;
    const ledgers = ledgersOfApproval(facilityId, approval);
    const streams: Streams = Object.fromEntries(
      ledgers.map((streamId, i) => [`ledger${i}`, { streamId, decider: capacityDecider }]),
    );
    await this.aggregates.handleAcross<ReleaseCapacity, Streams>({
      command: { type: 'ReleaseCapacity', data: { transferId, facilityId, reason }, metadata },
      streams,
      // A ledger with nothing to release need not stay unchanged while the others are released.
      guardUnchangedStreams: false,
      decide: (command, states) =>
        Object.fromEntries(
          Object.keys(streams).map((name) => [name, releaseIn(states[name] as CapacityLedgerState, command)]),
        ),
    });
  }
}
