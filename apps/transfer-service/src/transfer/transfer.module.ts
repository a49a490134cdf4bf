import { Module } from '@nestjs/common';

/** Transfer applications: the consultation workflow, whitelist and filing paths. */
@Module({ providers: [], exports: [] })
export class TransferModule {}
