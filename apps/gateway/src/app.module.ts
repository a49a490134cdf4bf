import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloGatewayDriver, type ApolloGatewayDriverConfig } from '@nestjs/apollo';
import { Global, Logger, Module, type DynamicModule } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { HealthModule, ObservabilityModule, READINESS_CHECKS } from '@lianfang/runtime';
import type { GatewayConfig } from './config';
import { correlationPlugin, formatGatewayError } from './error-format';
import { createContextFactory } from './gateway-context';
import { edgeMiddleware } from './http-edge';
import { queryLimitsPlugin } from './limits';
import { createAgencyRateLimiter } from './rate-limit';
import { createGatewaySecurity, type GatewaySecurity } from './security';
import { apolloGatewayOptions, SupergraphStatus } from './supergraph';

export const GATEWAY_CONFIG = 'lianfang.GATEWAY_CONFIG';
export const GATEWAY_SECURITY = 'lianfang.GATEWAY_SECURITY';
const EDGE_MIDDLEWARE = 'lianfang.GATEWAY_EDGE_MIDDLEWARE';

/**
 * What the gateway holds for every request: its configuration, its trust anchors, the supergraph
 * status. Global so that the health controller sees the readiness check.
 */
@Global()
@Module({})
class GatewayCoreModule {
  static register(config: GatewayConfig): DynamicModule {
    const status = new SupergraphStatus();
    return {
      module: GatewayCoreModule,
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: SupergraphStatus, useValue: status },
        { provide: READINESS_CHECKS, useValue: [status.readiness] },
        { provide: GATEWAY_SECURITY, useFactory: () => createGatewaySecurity(config) },
        {
          // Runs while the module graph is built, i.e. before Nest installs its body parsers (see
          // http-edge.ts): the gateway's own parser and size limit take their place.
          provide: EDGE_MIDDLEWARE,
          inject: [HttpAdapterHost],
          useFactory: (host: HttpAdapterHost) => {
            for (const middleware of edgeMiddleware(config.MAX_REQUEST_BYTES))
              host.httpAdapter.use(middleware);
            return true;
          },
        },
      ],
      exports: [GATEWAY_CONFIG, GATEWAY_SECURITY, SupergraphStatus, READINESS_CHECKS],
    };
  }
}

/** gateway: the one GraphQL endpoint for every agency (Apollo Federation 2). */
@Module({})
export class AppModule {
  static register(config: GatewayConfig): DynamicModule {
    const production = config.NODE_ENV === 'production';
    return {
      module: AppModule,
      imports: [
        GatewayCoreModule.register(config),
        // Request logs (LOG_LEVEL) and /metrics; it reads the correlation id the edge middleware settled.
        ObservabilityModule.forService('gateway', { logLevel: config.LOG_LEVEL, nodeEnv: config.NODE_ENV }),
        HealthModule.forService('gateway'),
        GraphQLModule.forRootAsync<ApolloGatewayDriverConfig>({
          driver: ApolloGatewayDriver,
          inject: [GATEWAY_SECURITY, SupergraphStatus],
          useFactory: async (security: GatewaySecurity, status: SupergraphStatus) => {
            const gateway = await apolloGatewayOptions(config);
            new Logger('gateway').log(
              `user tokens: issuer ${config.AUTH_ISSUER}, keys from ${security.issuerKeys}; forwarded identity key ${security.keyId}`,
            );
            return {
              gateway,
              server: {
                path: '/graphql',
                // Nest's legacy playground off; the sandbox (below) only outside production.
                playground: false,
                introspection: !production,
                nodeEnv: config.NODE_ENV,
                includeStacktraceInErrorResponses: !production,
                hideSchemaDetailsFromClientErrors: production,
                csrfPrevention: true,
                formatError: formatGatewayError(production),
                context: createContextFactory({
                  verifier: security.verifier,
                  signer: security.signer,
                  limiter: createAgencyRateLimiter(config.RATE_LIMIT_PER_MINUTE),
                }),
                plugins: [
                  status.plugin,
                  queryLimitsPlugin({
                    maxDepth: config.MAX_QUERY_DEPTH,
                    maxComplexity: config.MAX_QUERY_COMPLEXITY,
                  }),
                  correlationPlugin(production),
                  ...(production
                    ? []
                    : [ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false })]),
                ],
              },
            };
          },
        }),
      ],
    };
  }
}
