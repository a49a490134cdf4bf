import { Module } from '@nestjs/common';
import { CapacityModule } from '../capacity/capacity.module';
import { ManifestModule } from '../manifest/manifest.module';
import { TransferModule } from '../transfer/transfer.module';
import {
  DEADLINE_POLL_INTERVAL_MS,
  DeadlineTimers,
  DEFAULT_DEADLINE_POLL_INTERVAL_MS,
} from './deadline-timers';

/** Persisted timers for every deadline of transfers and manifests. */
@Module({
  imports: [TransferModule, ManifestModule, CapacityModule],
  providers: [
    { provide: DEADLINE_POLL_INTERVAL_MS, useValue: DEFAULT_DEADLINE_POLL_INTERVAL_MS },
    DeadlineTimers,
  ],
  exports: [DeadlineTimers],
})
export class DeadlinesModule {}
