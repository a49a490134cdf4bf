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
import { PLATFORM, ServiceMetrics, ServiceProjection, type Platform } from '@lianfang/runtime';
import { CAPACITY_RELEASES, type CapacityReleases } from '../../capacity/ports';
import { revocationHoldsProjection } from './revocation.projection';

/** The rule's name: the system actor of its releases, and the root of their commandIds. */
export const REVOCATION_RELEASES_POLICY = 'facility.revocation-releases';

/** How often the pending releases are looked for besides the nudge after a revocation. */
const POLL_MS = 2_000;
const MAX_BACKOFF_MS = 60_000;
const SETTLE_MS = 30_000;

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
 * A policy over persisted facts, not the command's aftermath: its own projection records revocations
 * and holds from the log, and the work is every hold of a revoked facility not yet released. A crash
 * between the revocation and the releases (or in the middle of them) loses nothing: the next pass — at
 * start, every POLL_MS, or nudged after a revocation — finds what is left. Each release carries the
 * system actor and a commandId derived from the FacilityRevoked event and the transfer, so a second pass
 * (another instance, a retry) stores nothing twice.
 */
@Injectable()
export class FacilityRevocationReleases implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly readModel = new ServiceProjection(revocationHoldsProjection);
  private readonly logger = new Logger('FacilityRevocationReleases');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  /** Per hold that failed: not before this time (ms), and how many failures. */
  private readonly backoff = new Map<string, { until: number; failures: number }>();

  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
    @Optional() @Inject(CAPACITY_RELEASES) private readonly releases?: CapacityReleases,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.readModel.start(this.platform, this.metrics);
    if (!this.releases) {
      // The holds are still recorded: they are released once the capacity ledgers are wired.
      this.logger.warn('CAPACITY_RELEASES is not provided: revocations release no capacity yet');
      return;
    }
    this.timer = setInterval(() => void this.drain(), POLL_MS);
    this.timer.unref();
    void this.drain();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.readModel.stop();
  }

  /** After a revocation: release as soon as the projection has seen it (no wait for the next poll). */
  afterRevocation(position: LogPosition): void {
    this.readModel.waitFor(position).then(
      () => this.drain(),
      (error: unknown) => this.logger.warn(`revocation releases wait: ${String(error)}`),
    );
  }

  /** Until the policy's projection has applied the log up to `position` (tests, read-your-writes). */
  waitFor(position: LogPosition): Promise<void> {
    return this.readModel.waitFor(position);
  }

  /** The holds still to release: each (facility, transfer) once, whatever the number of ledgers. */
  async pending(): Promise<PendingRelease[]> {
    const s = this.platform.schema;
    const { rows } = await this.platform.sql.query<PendingRelease>(
      `SELECT DISTINCT h.facility_id, h.reservation_id, r.event_id, r.correlation_id, r.occurred_at
       FROM ${s}.facility_holds h JOIN ${s}.revoked_facilities r ON r.facility_id = h.facility_id
       WHERE NOT h.released AND h.reserved_kg > h.consumed_kg
       ORDER BY h.facility_id, h.reservation_id
       LIMIT 500`,
    );
    return rows;
  }

  /** One pass at a time; a nudge during a pass runs one more. */
  drain(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.pass();
        } while (this.again && !this.stopped);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async pass(): Promise<void> {
    const releases = this.releases;
    if (!releases || this.stopped) return;
    let pending: PendingRelease[];
    try {
      pending = await this.pending();
    } catch (error) {
      this.logger.warn(`revocation releases: cannot read pending holds: ${String(error)}`);
      return;
    }
    const keys = new Set(pending.map((h) => `${h.facility_id}/${h.reservation_id}`));
    for (const key of this.backoff.keys()) if (!keys.has(key)) this.backoff.delete(key);
    for (const hold of pending) {
      if (this.stopped) return;
      const key = `${hold.facility_id}/${hold.reservation_id}`;
      const wait = this.backoff.get(key);
      if (wait && wait.until > Date.now()) continue;
      try {
        await releases.release({
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
        // Released: the projection drops it shortly. Should it stay (nothing to release where the
        // approval says), look again later rather than every poll.
        this.backoff.set(key, { failures: 0, until: Date.now() + SETTLE_MS });
      } catch (error) {
        const failures = (wait?.failures ?? 0) + 1;
        this.backoff.set(key, {
          failures,
          until: Date.now() + Math.min(MAX_BACKOFF_MS, POLL_MS * 2 ** failures),
        });
        this.logger.warn(
          `revocation release of ${hold.reservation_id} at facility ${hold.facility_id} failed (${failures}): ${String(error)}`,
        );
      }
    }
  }
}
