import { defineConfig, variable, type ConfigOf } from '@lianfang/runtime';

/** The gateway's variables (the gateway issue completes this list: issuer, keys, limits, subgraphs). */
export const gatewayConfigSchema = defineConfig({
  NODE_ENV: variable.oneOf(['production', 'development', 'test'] as const, {
    default: 'development',
    description: 'production hides introspection, the sandbox and error details',
  }),
  HOST: variable.string({
    default: '127.0.0.1',
    description: 'address to listen on (0.0.0.0 in a container)',
  }),
  PORT: variable.port({ default: '4000', description: 'HTTP port (/graphql, /health)' }),
});

export type GatewayConfig = ConfigOf<typeof gatewayConfigSchema.variables>;
