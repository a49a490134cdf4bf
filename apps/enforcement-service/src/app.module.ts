import { Module } from '@nestjs/common';
import { HealthModule } from '@lianfang/runtime';

/** enforcement-service: joint enforcement cases and emergency incidents. */
@Module({
  imports: [HealthModule.forService('enforcement-service')],
})
export class AppModule {}
