import { Module } from '@nestjs/common';

/** Regional agreements (consultation): proposal, signatures, amendments, expiry; whitelists and rates. */
@Module({ providers: [], exports: [] })
export class AgreementModule {}
