import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { LocalDate, type WorkingDayCalendar } from '@lianfang/domain-kernel';
import { systemActor, type LogPosition } from '@lianfang/eventsourcing';
import {
  deterministicUuid,
  migrateTimers,
  timerCommandMetadata,
  timerHandlers,
  TimerRunner,
  type TickResult,
  type Timer,
  type TimerHandler,
} from '@lianfang/messaging';
import { PLATFORM, ServiceMetrics, ServiceProjection, type Platform } from '@lianfang/runtime';
import { Counter } from 'prom-client';
import { CAPACITY_RELEASES, type CapacityReleases } from '../capacity/ports';
import { CLOCK, WORKING_DAY_CALENDAR, type Clock } from '../common/time';
import { ManifestCommands } from '../manifest/manifest.commands';
import type { OverdueStep } from '../transfer/decider';
import { TransferCommands } from '../transfer/transfer.commands';
import {
  DEADLINE_TARGETS,
  deadlineSchedule,
  type ApprovalExpiryPayload,
  type ManifestTimerPayload,
  type TransferStepPayload,
} from './deadline-schedule';

/** How often the runner looks for due timers, in real milliseconds. */
export const DEADLINE_POLL_INTERVAL_MS = 'transfer-service.DEADLINE_POLL_INTERVAL_MS';
export const DEFAULT_DEADLINE_POLL_INTERVAL_MS = 1000;

/** The system actor of the start-up recomputation of provisional deadlines. */
export const CALENDAR_RECOMPUTE = 'transfer.calendar-recompute';

/**
 * Every deadline of transfers and manifests as a persisted timer: scheduled from the events (the
 * `deadline-timers` projection), fired with the service's CLOCK through the same command paths people
 * use, as system actors with a commandId derived from the timer (a double firing is one command).
 * A deadline is never dropped: a failing fire is retried with backoff for as long as it takes.
 */
@Injectable()
export class DeadlineTimers implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('DeadlineTimers');
  readonly schedule: ReturnType<typeof deadlineSchedule>;
  private readonly readModel: ServiceProjection;
  private readonly runner: TimerRunner;
  private readonly fired: Counter<'target' | 'outcome'>;
  private startup: Promise<number> | undefined;
  /** Timers whose command the rule refused (settled) in the fire in flight: counted apart. */
  private readonly refused = new Set<string>();

  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(WORKING_DAY_CALENDAR) private readonly calendar: WorkingDayCalendar,
    @Inject(DEADLINE_POLL_INTERVAL_MS) pollIntervalMs: number,
    @Inject(TransferCommands) private readonly transfers: TransferCommands,
    @Inject(ManifestCommands) private readonly manifests: ManifestCommands,
    @Inject(CAPACITY_RELEASES) private readonly releases: CapacityReleases,
  ) {
    this.schedule = deadlineSchedule(platform.schema);
    this.readModel = new ServiceProjection(this.schedule.projection);
    this.fired = new Counter({
      name: 'lianfang_deadline_timers_fired_total',
      help: 'Deadline timers fired, by target and outcome (done, refused: the rule found it moot, failed: retried)',
      labelNames: ['target', 'outcome'],
      registers: [metrics.registry],
    });
    this.runner = new TimerRunner({
      client: platform.sql,
      schema: platform.schema,
      clock: { now: () => this.clock() },
      pollMs: pollIntervalMs,
      // A deadline must be recorded eventually: never give up (the backoff caps at 5 minutes).
      maxAttempts: Number.MAX_SAFE_INTEGER,
      fire: this.instrumented(
        timerHandlers(this.handlers(), {
          onSettledByRefusal: (timer, e) => {
            this.refused.add(timer.id);
            this.log.warn(`timer ${timer.key} (${timer.name}) refused, settled: ${String(e)}`);
          },
        }),
      ),
      onError: (e, timer) =>
        this.log.error(
          `timer ${timer ? `${timer.key} (${timer.name})` : 'round'} failed, retrying: ${String(e)}`,
        ),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await migrateTimers(this.platform.sql, this.platform.schema);
    await this.readModel.start(this.platform, this.metrics);
    await this.runner.start();
    // In the background: the schedule catches up first (a long log must not hold the service's start).
    this.startup = this.readModel
      .caughtUp()
      .then(() => this.recomputeProvisionalDeadlines())
      .catch((e: unknown) => {
        this.log.error(`provisional deadlines not recomputed at start: ${String(e)}`);
        return 0;
      });
  }

  async onModuleDestroy(): Promise<void> {
    await this.runner.stop();
    await this.startup;
    await this.readModel.stop();
  }

  /** Fires everything due by the CLOCK now (tests; the running loop does the same every poll). */
  runDue(): Promise<TickResult> {
    return this.runner.tick();
  }

  /** Look for due timers now (the clock moved). */
  wake(): void {
    this.runner.wake();
  }

  /** Until the timers of every event up to `position` are scheduled. */
  waitFor(position: LogPosition): Promise<void> {
    return this.readModel.waitFor(position);
  }

  /** The start-up recomputation (resolves with the number of transfers and manifests it asked to recompute). */
  startupRecomputation(): Promise<number> {
    return this.startup ?? Promise.resolve(0);
  }

  /**
   * Transfers and manifests whose open deadline was counted provisionally (a year without its holiday
   * notice) while the calendar now has every year it spans: RecomputeProvisionalDeadlines (a transfer's
   * steps) and RecomputeProvisionalReceiptDeadline (a manifest's receipt) move their timers.
   */
  async recomputeProvisionalDeadlines(): Promise<number> {
    return (await this.recomputeTransfers()) + (await this.recomputeManifests());
  }

  /** Once per provisional timer: the recomputed one is a new timer, never provisional again. */
  private recomputeMetadata(slot: { readonly timerKey: string; readonly cause: string }) {
    return {
      commandId: deterministicUuid(CALENDAR_RECOMPUTE, slot.timerKey),
      now: this.clock(),
      actor: systemActor(CALENDAR_RECOMPUTE),
      correlationId: slot.cause,
      causationId: slot.cause,
    };
  }

  private async recomputeTransfers(): Promise<number> {
    const open = [
      ...(await this.schedule.open(this.platform.sql, DEADLINE_TARGETS.completeness)),
      ...(await this.schedule.open(this.platform.sql, DEADLINE_TARGETS.step)),
    ];
    const asked = new Set<string>();
    for (const slot of open) {
      const { transferId, deadline } = slot.payload as TransferStepPayload;
      if (!deadline.provisional || asked.has(transferId)) continue;
      const now = this.calendar.addWorkingDays(LocalDate.parseOrThrow(deadline.from), deadline.workingDays);
      if (now.provisional) continue;
      asked.add(transferId);
      await this.transfers.handle({
        type: 'RecomputeProvisionalDeadlines',
        data: { transferId },
        metadata: this.recomputeMetadata(slot),
      });
    }
    return asked.size;
  }

  private async recomputeManifests(): Promise<number> {
    let asked = 0;
    for (const slot of await this.schedule.open(this.platform.sql, DEADLINE_TARGETS.receipt)) {
      const { manifestNumber, receipt } = slot.payload as ManifestTimerPayload;
      if (!receipt?.provisional) continue;
      const now = this.calendar.addWorkingDays(new Date(receipt.deliveredAt), receipt.workingDays);
      if (now.provisional) continue;
      asked += 1;
      await this.manifests.handle({
        type: 'RecomputeProvisionalReceiptDeadline',
        data: { manifestNumber },
        metadata: this.recomputeMetadata(slot),
      });
    }
    return asked;
  }

  private handlers(): Record<string, TimerHandler> {
    const metadata = (timer: Timer, now: Date) => timerCommandMetadata(timer, { now });
    return {
      [DEADLINE_TARGETS.completeness]: async (timer, { now }) => {
        const { transferId } = timer.payload as TransferStepPayload;
        await this.transfers.handle({
          type: 'CompletenessTimerFired',
          data: { transferId },
          metadata: metadata(timer, now),
        });
      },
      [DEADLINE_TARGETS.step]: async (timer, { now }) => {
        const { transferId, deadline } = timer.payload as TransferStepPayload;
        await this.transfers.handle({
          type: 'DeadlineTimerFired',
          data: { transferId, step: deadline.step as OverdueStep },
          metadata: metadata(timer, now),
        });
      },
      [DEADLINE_TARGETS.approvalExpiry]: async (timer, { now }) => {
        const { transferId, facilityId } = timer.payload as ApprovalExpiryPayload;
        await this.releases.release({
          transferId,
          facilityId,
          reason: 'expiry',
          metadata: metadata(timer, now),
        });
      },
      [DEADLINE_TARGETS.transit]: async (timer, { now }) => {
        const { manifestNumber } = timer.payload as ManifestTimerPayload;
        await this.manifests.handle({
          type: 'TransitTimerFired',
          data: { manifestNumber },
          metadata: metadata(timer, now),
        });
      },
      [DEADLINE_TARGETS.receipt]: async (timer, { now }) => {
        const { manifestNumber } = timer.payload as ManifestTimerPayload;
        await this.manifests.handle({
          type: 'ReceiptTimerFired',
          data: { manifestNumber },
          metadata: metadata(timer, now),
        });
      },
    };
  }

  private instrumented(fire: TimerHandler): TimerHandler {
    return async (timer, context) => {
      try {
        await fire(timer, context);
        const outcome = this.refused.delete(timer.id) ? 'refused' : 'done';
        this.fired.inc({ target: timer.name, outcome });
      } catch (e) {
        this.fired.inc({ target: timer.name, outcome: 'failed' });
        throw e;
      }
    };
  }
}
