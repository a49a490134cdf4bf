import { Module } from '@nestjs/common';
import { AgreementModule } from '../agreement/agreement.module';
import { CapacityModule } from '../capacity/capacity.module';
import { TransferAttachments } from './transfer.attachments';
import { TransferCommands } from './transfer.commands';
import { TransferIntake } from './transfer.intake';
import { TransferReadModel } from './transfer.projection';
import { TransferQueries } from './transfer.queries';
import { TransferResolver } from './transfer.resolver';

/** Transfer applications: the consultation workflow, whitelist and filing paths. */
@Module({
  imports: [CapacityModule, AgreementModule],
  providers: [
    TransferAttachments,
    TransferCommands,
    TransferIntake,
    TransferQueries,
    TransferReadModel,
    TransferResolver,
  ],
  exports: [TransferCommands, TransferReadModel, TransferQueries],
})
export class TransferModule {}
