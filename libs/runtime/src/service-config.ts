import { assertHostPort, defineConfig, variable, type ConfigOf, type Env } from './config';

const isProduction = (env: Env) => env.NODE_ENV === 'production';

/**
 * The variables every domain service (transfer, compensation, enforcement) reads. The gateway has its
 * own schema (apps/gateway/src/config.ts). Defaults are the embedded ones: PGlite under ./data and the
 * in-process bus, so that a service starts with nothing set.
 */
export function serviceConfigSchema(service: { name: string; defaultPort: number; schema: string }) {
  return defineConfig({
    NODE_ENV: variable.oneOf(['production', 'development', 'test'] as const, {
      default: 'development',
      description: 'production hides introspection, the sandbox and error details',
    }),
    HOST: variable.string({
      default: '127.0.0.1',
      description: 'address to listen on (0.0.0.0 in a container)',
    }),
    PORT: variable.port({
      default: String(service.defaultPort),
      description: 'HTTP port (/graphql, /health)',
    }),
    LOG_LEVEL: variable.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const, {
      default: 'info',
      description: 'log level',
    }),
    EVENT_STORE: variable.oneOf(['postgres', 'pglite'] as const, {
      default: 'pglite',
      description: 'event store adapter: postgres (servers) or pglite (embedded, under DATA_DIR)',
    }),
    DATABASE_URL: variable.url({
      protocols: ['postgres', 'postgresql'],
      required: (env) => (env.EVENT_STORE ?? 'pglite') === 'postgres',
      description: 'PostgreSQL connection URL, required when EVENT_STORE=postgres',
      example: 'postgres://postgres@127.0.0.1:5432/lianfang',
    }),
    DATABASE_SCHEMA: variable.string({
      default: service.schema,
      pattern: /^[a-z_][a-z0-9_]{0,40}$/,
      rule: 'identifier',
      description: "PostgreSQL schema holding this service's events, outbox and read models",
    }),
    DATA_DIR: variable.string({
      default: './data',
      description: 'directory for PGlite data and the embedded keys',
    }),
    BUS: variable.oneOf(['kafka', 'memory'] as const, {
      default: 'memory',
      description: 'integration-event bus: kafka (servers) or memory (embedded, one process)',
    }),
    KAFKA_BROKERS: variable.list({
      item: assertHostPort,
      required: (env) => env.BUS === 'kafka',
      description: 'comma-separated host:port list, required when BUS=kafka',
      example: '127.0.0.1:9092',
    }),
    KAFKA_TOPIC_PARTITIONS: variable.int({
      min: 1,
      max: 10_000,
      description: "partitions of the service's topics when it creates them (default 6)",
    }),
    KAFKA_REPLICATION_FACTOR: variable.int({
      min: 1,
      max: 10,
      description: "replication factor of the service's topics when it creates them (default 1)",
    }),
    GATEWAY_PUBLIC_KEY: variable.string({
      required: isProduction,
      description:
        "the gateway's identity-signing public key (PEM or JWK JSON); subgraphs refuse requests not signed with it. Outside production it defaults to the key the embedded gateway generates under DATA_DIR/keys",
    }),
    DIRECTORY_FILE: variable.string({
      default: 'config/directory/demo-region.json',
      description: "the deployment's agency directory (regions, jurisdictions, agencies)",
    }),
    MAX_REQUEST_BYTES: variable.int({
      default: String(8 * 1024 * 1024),
      min: 1024,
      // The body is held in memory while it is parsed.
      max: 100 * 1024 * 1024,
      description:
        "largest JSON request body in bytes (attachments travel base64 in GraphQL); keep the gateway's at least as large",
    }),
    PERSONAL_DATA_MASTER_KEY: variable.string({
      required: isProduction,
      secret: true,
      // 32 random bytes in base64 (`openssl rand -base64 32`).
      pattern: /^[A-Za-z0-9+/]{43}=$/,
      rule: 'base64-32-bytes',
      description:
        'wraps the per-person keys of personal data (drivers, contacts); 32 random bytes in base64 (openssl rand -base64 32). Outside production a public development key stands in',
    }),
  });
}

export type ServiceConfig = ConfigOf<ReturnType<typeof serviceConfigSchema>['variables']>;
