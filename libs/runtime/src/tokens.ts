/**
 * Injection tokens that PlatformModule provides globally to a service's modules.
 *
 * - SERVICE_CONFIG: the validated `ServiceConfig`.
 * - SQL_CLIENT: the service's `SqlClient` (PostgreSQL pool or PGlite), the one its event store uses; read
 *   models, idempotency records and the access log live beside the events, in DATABASE_SCHEMA.
 * - TRANSPORT: the bus (`Transport` from @lianfang/messaging): Kafka or the in-process one.
 * - EVENT_STORE is exported by @lianfang/eventsourcing.
 */
export const SERVICE_CONFIG = 'lianfang.SERVICE_CONFIG';
export const SQL_CLIENT = 'lianfang.SQL_CLIENT';
export const TRANSPORT = 'lianfang.TRANSPORT';
/** The deployment's agency directory (DIRECTORY_FILE), loaded and validated when the service starts. */
export const AGENCY_DIRECTORY = 'lianfang.AGENCY_DIRECTORY';
