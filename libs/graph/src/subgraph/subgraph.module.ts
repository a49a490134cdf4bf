import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import {
  Global,
  Inject,
  Injectable,
  Module,
  Optional,
  type DynamicModule,
  type Provider,
  type Type,
} from '@nestjs/common';
import type { ApolloFederationDriverConfig } from '@nestjs/apollo';
import { APP_FILTER } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import type { RequestContext } from '@lianfang/auth';
import type { SqlClient } from '@lianfang/eventsourcing';
import { SQL_CLIENT, type ServiceConfig } from '@lianfang/runtime';
import { createErrorFormatter, errorReportingPlugin } from '../errors/format-error';
import { GraphqlErrorPassThrough } from '../errors/pass-through.filter';
import {
  createIdempotencyStore,
  type IdempotencyStore,
  type IdempotentRequest,
} from '../idempotency/idempotency';
import { createRequestContextFactory, gatewayKeySource } from '../identity/request-context';
import { PLATFORM_SCALAR_PROVIDERS } from '../scalars/scalar-providers';
import { PLATFORM_SCALARS } from '../scalars/scalars';
import { graphqlTypeName, subgraphDriver } from './subgraph-driver';

export interface SubgraphOptions {
  /** e.g. `transfer-service`: names the logger of unexpected errors. */
  readonly service: string;
  readonly config: ServiceConfig;
  /** Resolver classes this module provides (they may inject SERVICE_CONFIG, SQL_CLIENT, SUBGRAPH_OPTIONS…). */
  readonly resolvers?: readonly Type<unknown>[];
  /**
   * Types the subgraph owns although no field of its Query or Mutation reaches them: entities reached only
   * through `_entities`, implementations of an interface. Everything else is kept only when reachable.
   */
  readonly orphanedTypes?: readonly Type<unknown>[];
}

/** The options given to `SubgraphModule.forService`, injectable in resolvers. */
export const SUBGRAPH_OPTIONS = 'lianfang.SUBGRAPH_OPTIONS';

/** The GraphQL endpoint path of every subgraph. */
export const SUBGRAPH_PATH = '/graphql';

/** Idempotent mutations (see IdempotencyStore) on the service's SqlClient, in its DATABASE_SCHEMA. */
@Injectable()
export class Idempotency implements IdempotencyStore {
  private store?: IdempotencyStore;

  constructor(
    @Inject(SUBGRAPH_OPTIONS) private readonly options: SubgraphOptions,
    @Optional() @Inject(SQL_CLIENT) private readonly sql?: SqlClient,
  ) {}

  private get idempotency(): IdempotencyStore {
    if (!this.sql)
      throw new Error(
        'Idempotency needs SQL_CLIENT: import PlatformModule, which provides it / 需要 PlatformModule 提供 SQL_CLIENT',
      );
    // Always set once the configuration is loaded (it has a default); typed optional by the config DSL.
    const schema = this.options.config.DATABASE_SCHEMA;
    if (!schema) throw new Error('Idempotency needs DATABASE_SCHEMA / 需要 DATABASE_SCHEMA');
    this.store ??= createIdempotencyStore(this.sql, { schema });
    return this.store;
  }

  runIdempotent<T>(request: IdempotentRequest, execute: () => Promise<T>): Promise<T> {
    return this.idempotency.runIdempotent(request, execute);
  }

  migrate(): Promise<void> {
    return this.idempotency.migrate();
  }
}

/**
 * A service's Apollo Federation 2 subgraph at `/graphql`, code first:
 *
 *   SubgraphModule.forService({ service: 'transfer-service', config, resolvers: [TransferServiceInfoResolver] })
 *
 * - Every request carries the gateway-signed identity (`x-lianfang-identity`), or gets HTTP 401 and an
 *   UNAUTHENTICATED error; the context is a RequestContext (identity, correlationId).
 * - Errors leave in the shape of ErrorExtensions; in production unknown errors are masked, stack traces
 *   stay on the server, introspection and the landing page are off.
 * - The platform scalars (Money, Kilograms, LogPosition, DateTime, LocalDate, JurisdictionCode) are in
 *   every schema; `Date` fields are DateTime, `Money` fields Money, `Quantity` fields Kilograms,
 *   `LogPositionRef` fields LogPosition.
 * - The schema holds only this subgraph's types, even with other subgraphs in the same process.
 */
@Global()
@Module({})
export class SubgraphModule {
  static forService(options: SubgraphOptions): DynamicModule {
    const production = options.config.NODE_ENV === 'production';
    const keep = () => [
      ...PLATFORM_SCALARS.map((s) => s.name),
      ...(options.orphanedTypes ?? []).map(graphqlTypeName),
    ];
    const optionsProvider: Provider = { provide: SUBGRAPH_OPTIONS, useValue: options };
    return {
      module: SubgraphModule,
      imports: [
        GraphQLModule.forRootAsync<ApolloFederationDriverConfig>({
          driver: subgraphDriver(keep),
          useFactory: async (): Promise<ApolloFederationDriverConfig> => {
            const keys = await gatewayKeySource(options.config);
            const plugins: ApolloServerPlugin<RequestContext>[] = [
              errorReportingPlugin(options.service),
              // Per-request traces for Apollo Studio: not used, and they would show resolver timings.
              ApolloServerPluginInlineTraceDisabled(),
            ];
            if (!production)
              plugins.push(ApolloServerPluginLandingPageLocalDefault({ embed: true, footer: false }));
            return {
              path: SUBGRAPH_PATH,
              autoSchemaFile: { federation: 2 },
              // The scalars come from PLATFORM_SCALAR_PROVIDERS (the federation build ignores a scalarsMap here).
              buildSchemaOptions: { orphanedTypes: [...(options.orphanedTypes ?? [])] },
              context: createRequestContextFactory(keys, {
                allowServiceDefinitionWithoutIdentity: !production,
              }),
              introspection: !production,
              // Nest then installs "landing page disabled"; outside production ours takes precedence.
              playground: false,
              plugins,
              includeStacktraceInErrorResponses: !production,
              hideSchemaDetailsFromClientErrors: production,
              // Our formatter reads Nest's HttpExceptions itself; Nest's rewrite would drop the original.
              autoTransformHttpErrors: false,
              formatError: createErrorFormatter({ production }),
            };
          },
        }),
      ],
      providers: [
        optionsProvider,
        Idempotency,
        { provide: APP_FILTER, useClass: GraphqlErrorPassThrough },
        ...PLATFORM_SCALAR_PROVIDERS,
        ...(options.resolvers ?? []),
      ],
      exports: [SUBGRAPH_OPTIONS, Idempotency],
    };
  }
}
