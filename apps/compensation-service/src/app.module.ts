import { Module } from '@nestjs/common';
import { HealthModule } from '@lianfang/runtime';

/** compensation-service: compensation agreements, accruals and settlements. */
@Module({
  imports: [HealthModule.forService('compensation-service')],
})
export class AppModule {}
