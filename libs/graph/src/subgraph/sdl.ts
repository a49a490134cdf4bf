import type { INestApplicationContext } from '@nestjs/common';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { graphql, parse, print, type GraphQLSchema } from 'graphql';

/** The subgraph's SDL exactly as it serves it to composition (`{ _service { sdl } }`). */
export async function serviceSdl(schema: GraphQLSchema): Promise<string> {
  const result = await graphql({ schema, source: '{ _service { sdl } }' });
  if (result.errors?.length)
    throw new Error(`_service { sdl } failed: ${result.errors.map((e) => e.message).join('; ')}`);
  return (result.data as { _service: { sdl: string } })._service.sdl;
}

/** The SDL of an initialised app's subgraph (no HTTP, no identity: straight on the schema). */
export function subgraphSdlOf(app: INestApplicationContext): Promise<string> {
  return serviceSdl(app.get(GraphQLSchemaHost).schema);
}

/** SDL without its layout and comments: two texts are the same schema iff their normal forms are equal. */
export function normalizeSdl(sdl: string): string {
  return print(parse(sdl));
}
