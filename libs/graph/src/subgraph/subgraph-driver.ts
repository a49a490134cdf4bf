import { buildSubgraphSchema } from '@apollo/subgraph';
import { Injectable, type Type } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { ApolloFederationDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLFederationFactory, type BuildFederatedSchemaOptions } from '@nestjs/graphql';
// The one place that knows code-first type names; not re-exported from the package root.
import { TypeMetadataStorage } from '@nestjs/graphql/dist/schema-builder/storages/type-metadata.storage.js';
import type { GraphQLSchema } from 'graphql';
import { pruneSubgraphDocument } from './prune';

/** The GraphQL name of a code-first class (`@ObjectType('Name')`, an interface or an input), else its class name. */
export function graphqlTypeName(type: Type<unknown>): string {
  return (
    TypeMetadataStorage.getObjectTypeMetadataByTarget(type)?.name ??
    TypeMetadataStorage.getInterfaceMetadataByTarget(type)?.name ??
    TypeMetadataStorage.getInputTypeMetadataByTarget(type)?.name ??
    type.name
  );
}

/**
 * ApolloFederationDriver that builds the subgraph from only its own types (see `pruneSubgraphDocument`).
 * `keep` is resolved at schema-build time, when every decorator has run.
 */
export function subgraphDriver(keep: () => readonly string[]): Type<ApolloFederationDriver> {
  @Injectable()
  class SubgraphDriver extends ApolloFederationDriver {
    constructor(
      private readonly federation: GraphQLFederationFactory,
      modulesContainer: ModulesContainer,
    ) {
      super(federation, modulesContainer);
    }

    override generateSchema(options: ApolloDriverConfig): Promise<GraphQLSchema> {
      return this.federation.generateSchema(options, ({ typeDefs, resolvers }: BuildFederatedSchemaOptions) =>
        buildSubgraphSchema({ typeDefs: pruneSubgraphDocument(typeDefs, keep()), resolvers }),
      );
    }
  }
  return SubgraphDriver;
}
