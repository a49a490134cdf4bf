import { Module } from '@nestjs/common';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import { AgreementCommands } from './agreement.commands';
import { AgreementReadModel } from './agreement.projection';
import { AgreementQueries } from './agreement.queries';
import { AgreementResolver } from './agreement.resolver';
import { AgreementTerms } from './agreement.terms';
import { AgreementDataSharing } from './data-sharing';

/** Regional agreements (consultation): proposal, signatures, amendments, expiry; whitelists and rates. */
@Module({
  providers: [
    {
      provide: AgreementQueries,
      inject: [PLATFORM],
      useFactory: (p: Platform) => new AgreementQueries(p.sql, p.schema),
    },
    AgreementCommands,
    AgreementReadModel,
    AgreementTerms,
    AgreementDataSharing,
    AgreementResolver,
  ],
  exports: [AgreementTerms, AgreementCommands, AgreementDataSharing],
})
export class AgreementModule {}
