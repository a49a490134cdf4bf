import { Module } from '@nestjs/common';

/** Capacity ledgers: reservations on approval, consumption on receipt, release; who can take a waste. */
@Module({ providers: [], exports: [] })
export class CapacityModule {}
