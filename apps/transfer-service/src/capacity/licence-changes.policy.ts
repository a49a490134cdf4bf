import {
  Inject,
  Injectable,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Aggregates, type LogPosition } from '@lianfang/eventsourcing';
import { systemCommandMetadata } from '@lianfang/messaging';
import { PLATFORM, ReactivePolicy, ServiceMetrics, type Platform } from '@lianfang/runtime';
import { licenceFollowingDecider, type FollowLicence } from './licence-adjustment';
import { licenceChangesProjection } from './licence-changes.projection';

/** The rule's name: the system actor of its adjustments, and the root of their commandIds. */
export const LICENCE_ADJUSTMENTS_POLICY = 'capacity.licence-adjustments';

/** How often pending adjustments are looked for (a licence change is rare; a few seconds is prompt). */
export const LICENCE_ADJUSTMENTS_DEFAULT_POLL_MS = 2_000;
const POLL_MS = LICENCE_ADJUSTMENTS_DEFAULT_POLL_MS;
/** The poll interval, ms, as a provider: tests that run the passes themselves set it very long. */
export const LICENCE_ADJUSTMENTS_POLL_MS = 'transfer-service.LICENCE_ADJUSTMENTS_POLL_MS';

export interface PendingAdjustment extends Record<string, unknown> {
  stream_id: string;
  facility_id: string;
  category: string;
  year: number;
  capacity_kg: string;
  from_kg: string;
  to_kg: string;
  reason: string | null;
  event_id: string;
  correlation_id: string;
  occurred_at: Date | string;
}

/**
 * A licence change reaches the capacity ledgers already open for that facility and category, this year
 * and the years after: each takes the new licensed capacity (AdjustCapacity), below what is committed as
 * a partial revocation with its shortfall recorded (see licence-adjustment.ts).
 *
 * A ReactivePolicy. Why a projection and a pass rather than a messaging timer: the trigger is a stored fact
 * (FacilityUpdated), not a moment in the future, and which ledgers are open is itself only known from
 * the log. A timer would have to be scheduled in the update's own transaction (the facility slice's
 * append) to survive a crash; the projection reads the same facts with a checkpoint, so a crash
 * between the update and the adjustments (or in the middle of them) loses nothing: the next pass, at
 * start (once its projection has caught up) or every POLL_MS, finds what is left. Each adjustment
 * carries the system actor and a commandId derived from the FacilityUpdated event and the ledger, so a
 * second pass (another instance, a retry) stores nothing twice; the ledger decider also records nothing
 * when the capacity already matches.
 */
@Injectable()
export class LicenceCapacityAdjustments implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly policy: ReactivePolicy<PendingAdjustment>;

  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
    @Inject(Aggregates) private readonly aggregates: Aggregates,
    @Optional() @Inject(LICENCE_ADJUSTMENTS_POLL_MS) pollMs: number = POLL_MS,
  ) {
    this.policy = new ReactivePolicy({
      name: 'LicenceCapacityAdjustments',
      projection: licenceChangesProjection,
      pending: pendingAdjustments,
      // Per ledger and licence change: a later change is new work, whatever the backoff of the last.
      keyOf: (ledger) => `${ledger.stream_id}/${ledger.event_id}`,
      perform: (ledger) => this.adjust(ledger),
      describe: (ledger) => `licence adjustment of ${ledger.stream_id} to ${ledger.to_kg} kg`,
      pollMs,
    });
  }

  onApplicationBootstrap(): Promise<void> {
    return this.policy.start(this.platform, this.metrics);
  }

  /** Until the pass at start (over what the log held then) is done. */
  started(): Promise<void> {
    return this.policy.started();
  }

  onModuleDestroy(): Promise<void> {
    return this.policy.stop();
  }

  /** After a licence update: adjust as soon as the projection has seen it (no wait for the next poll). */
  afterLicenceChange(position: LogPosition): void {
    this.policy.nudgeAfter(position);
  }

  /** Until the policy's projection has applied the log up to `position` (tests, read-your-writes). */
  waitFor(position: LogPosition): Promise<void> {
    return this.policy.waitFor(position);
  }

  /** Open ledgers whose capacity differs from the latest licence change that applies to their year. */
  pending(): Promise<PendingAdjustment[]> {
    return this.policy.pending();
  }

  /** One pass now (what the next poll would do). */
  drain(): Promise<void> {
    return this.policy.drain();
  }

  private async adjust(ledger: PendingAdjustment): Promise<void> {
    await this.aggregates.handle({
      decider: licenceFollowingDecider,
      streamId: ledger.stream_id,
      command: followLicenceCommand(ledger),
    });
  }
}

async function pendingAdjustments({ sql, schema: s }: Pick<Platform, 'sql' | 'schema'>) {
  const { rows } = await sql.query<PendingAdjustment>(
    `SELECT l.stream_id, l.facility_id, l.category, l.year, l.capacity_kg::text AS capacity_kg,
            c.from_kg::text AS from_kg, c.to_kg::text AS to_kg, c.reason, c.event_id, c.correlation_id,
            c.occurred_at
     FROM ${s}.licence_ledgers l
     JOIN LATERAL (
       SELECT * FROM ${s}.licence_changes c
       WHERE c.facility_id = l.facility_id AND c.category = l.category AND c.effective_year <= l.year
       ORDER BY c.seq DESC LIMIT 1
     ) c ON true
     WHERE l.capacity_kg <> c.to_kg
     ORDER BY l.facility_id, l.category, l.year
     LIMIT 500`,
  );
  return rows;
}

/** The command the policy issues for a pending ledger: the same whenever and however often it is built. */
export function followLicenceCommand(ledger: PendingAdjustment): FollowLicence {
  return {
    type: 'FollowLicence',
    data: {
      facilityId: ledger.facility_id,
      category: ledger.category,
      capacityKg: ledger.to_kg,
      licensedFromKg: ledger.from_kg,
      ...(ledger.reason ? { reason: ledger.reason } : {}),
    },
    metadata: systemCommandMetadata({
      policy: LICENCE_ADJUSTMENTS_POLICY,
      trigger: { eventId: ledger.event_id, correlationId: ledger.correlation_id },
      // Business time of the licence change: the same command however late or often it is issued.
      now: new Date(ledger.occurred_at),
      step: ledger.stream_id,
    }),
  };
}
