import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { LogPosition } from '@lianfang/eventsourcing';
import { systemCommandMetadata } from '@lianfang/messaging';
import { PLATFORM, ReactivePolicy, ServiceMetrics, type Platform } from '@lianfang/runtime';
import { CAPACITY_RELEASES, type CapacityReleases } from '../../capacity/ports';
import { revocationHoldsProjection } from './revocation.projection';

/** The rule's name: the system actor of its releases, and the root of their commandIds. */
export const REVOCATION_RELEASES_POLICY = 'facility.revocation-releases';

/** How often the pending releases are looked for besides the nudge after a revocation. */
const POLL_MS = 2_000;

interface PendingRelease extends Record<string, unknown> {
  facility_id: string;
  reservation_id: string;
  event_id: string;
  correlation_id: string;
  occurred_at: Date | string;
}

/**
 * When a facility's licence is revoked, what approvals hold at it is released (reason 'revocation').
 *
 * A ReactivePolicy: its own projection records revocations and holds from the log, and the work is every
 * hold of a revoked facility not yet released. A crash between the revocation and the releases (or in
 * the middle of them) loses nothing: the next pass — at start, every POLL_MS, or nudged after a
 * revocation — finds what is left. Each release carries the system actor and a commandId derived from
 * the FacilityRevoked event and the transfer, so a second pass (another instance, a retry) stores nothing
 * twice.
 */
@Injectable()
export class FacilityRevocationReleases implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly policy: ReactivePolicy<PendingRelease>;

  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
    @Optional() @Inject(CAPACITY_RELEASES) private readonly releases?: CapacityReleases,
  ) {
    this.policy = new ReactivePolicy({
      name: 'FacilityRevocationReleases',
      projection: revocationHoldsProjection,
      pending: pendingReleases,
      keyOf: (hold) => `${hold.facility_id}/${hold.reservation_id}`,
      perform: (hold) => this.release(hold),
      describe: (hold) => `revocation release of ${hold.reservation_id} at facility ${hold.facility_id}`,
      pollMs: POLL_MS,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    // Without the capacity ledgers the holds are still recorded: released once they are wired.
    await this.policy.start(this.platform, this.metrics, { passes: this.releases !== undefined });
    if (!this.releases)
      new Logger('FacilityRevocationReleases').warn(
        'CAPACITY_RELEASES is not provided: revocations release no capacity yet',
      );
  }

  onModuleDestroy(): Promise<void> {
    return this.policy.stop();
  }

  /** After a revocation: release as soon as the projection has seen it (no wait for the next poll). */
  afterRevocation(position: LogPosition): void {
    if (this.releases) this.policy.nudgeAfter(position);
  }

  /** Until the policy's projection has applied the log up to `position` (tests, read-your-writes). */
  waitFor(position: LogPosition): Promise<void> {
    return this.policy.waitFor(position);
  }

  /** The holds still to release: each (facility, transfer) once, whatever the number of ledgers. */
  pending(): Promise<PendingRelease[]> {
    return this.policy.pending();
  }

  /** One pass now (what the next poll would do). */
  drain(): Promise<void> {
    return this.releases ? this.policy.drain() : Promise.resolve();
  }

  private async release(hold: PendingRelease): Promise<void> {
    await this.releases?.release({
      transferId: hold.reservation_id,
      facilityId: hold.facility_id,
      reason: 'revocation',
      metadata: systemCommandMetadata({
        policy: REVOCATION_RELEASES_POLICY,
        trigger: { eventId: hold.event_id, correlationId: hold.correlation_id },
        // Business time of the revocation: the same command however late or often it is issued.
        now: new Date(hold.occurred_at),
        step: hold.reservation_id,
      }),
    });
  }
}

async function pendingReleases({ sql, schema: s }: Pick<Platform, 'sql' | 'schema'>) {
  const { rows } = await sql.query<PendingRelease>(
    `SELECT DISTINCT h.facility_id, h.reservation_id, r.event_id, r.correlation_id, r.occurred_at
     FROM ${s}.facility_holds h JOIN ${s}.revoked_facilities r ON r.facility_id = h.facility_id
     WHERE NOT h.released AND h.reserved_kg > h.consumed_kg
     ORDER BY h.facility_id, h.reservation_id
     LIMIT 500`,
  );
  return rows;
}
