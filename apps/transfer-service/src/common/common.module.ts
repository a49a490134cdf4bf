import { Global, Module } from '@nestjs/common';
import { timeProviders } from './time';

/** What every mechanism of the service shares: its calendar and its clock. */
@Global()
@Module({ providers: [...timeProviders], exports: [...timeProviders.map((p) => p.provide)] })
export class TransferCommonModule {}
