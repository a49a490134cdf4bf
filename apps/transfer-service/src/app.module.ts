import { Module } from '@nestjs/common';
import { HealthModule } from '@lianfang/runtime';

/** transfer-service: consultation, resource sharing, transfers and manifests. */
@Module({
  imports: [HealthModule.forService('transfer-service')],
})
export class AppModule {}
