import { Module } from '@nestjs/common';
import { HealthModule } from '@lianfang/runtime';

/** gateway: the one GraphQL endpoint for every agency (federation lands with the gateway issue). */
@Module({
  imports: [HealthModule.forService('gateway')],
})
export class AppModule {}
