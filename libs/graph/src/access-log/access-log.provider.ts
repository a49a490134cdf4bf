import type { Provider } from '@nestjs/common';
import { createAccessLog, type AccessLog } from '@lianfang/auth';
import type { SqlClient } from '@lianfang/eventsourcing';
import { SERVICE_CONFIG, SQL_CLIENT, type ServiceConfig } from '@lianfang/runtime';

/** The service's access log (`AccessLog` from @lianfang/auth), its table migrated before first use. */
export const ACCESS_LOG = 'lianfang.ACCESS_LOG';

export const accessLogProvider: Provider = {
  provide: ACCESS_LOG,
  inject: [SQL_CLIENT, SERVICE_CONFIG],
  useFactory: async (client: SqlClient, config: ServiceConfig): Promise<AccessLog> => {
    const log = createAccessLog({ client, schema: config.DATABASE_SCHEMA });
    await log.migrate();
    return log;
  },
};
