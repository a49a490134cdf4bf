import type { ApolloServerPlugin } from '@apollo/server';
import {
  GraphQLError,
  Kind,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { gatewayError } from './errors';

/**
 * Limits on what one operation may ask for, checked at the gateway before any subgraph is called, so
 * one deep or wide query cannot fan out into thousands of subgraph fetches.
 */

/** Fields the platform's list queries use to say how many items they want. */
const PAGE_SIZE_ARGUMENTS = ['first', 'last', 'limit'] as const;

/**
 * 1 per field; a field with a page size argument costs its children that many times (100 transfers each
 * with their manifests cost 100 × the manifest's fields). Introspection fields cost nothing: they are
 * answered by the gateway itself and only outside production.
 */
export const fieldCostEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  if (field.name.startsWith('__')) return 0;
  const sizes = PAGE_SIZE_ARGUMENTS.map((name) => args[name] as unknown).filter(
    (value): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value > 0,
  );
  const multiplier = sizes.length > 0 ? Math.max(...sizes) : 1;
  return 1 + childComplexity * multiplier;
};

/** Estimated cost of the operation to run (`operationName` picks one of several). */
export function operationComplexity(options: {
  schema: GraphQLSchema;
  document: DocumentNode;
  variables?: Record<string, unknown>;
  operationName?: string | null;
  maxNodes?: number;
}): number {
  return getComplexity({
    schema: options.schema,
    query: options.document,
    variables: options.variables ?? {},
    operationName: options.operationName ?? undefined,
    estimators: [fieldCostEstimator],
    maxQueryNodes: options.maxNodes,
  });
}

/**
 * Depth of the deepest field of each operation (`{ a { b } }` is 2), through fragments; fields whose
 * name starts with `__` (introspection, `__typename`) do not count.
 */
export function operationDepths(document: DocumentNode, context?: ValidationContext): Map<string, number> {
  const fragments = new Map(
    document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d]] : [])),
  );
  const fragmentDepth = new Map<string, number>();
  const depthOf = (set: SelectionSetNode, visiting: Set<string>): number => {
    let deepest = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value.startsWith('__')) continue;
        deepest = Math.max(
          deepest,
          1 + (selection.selectionSet ? depthOf(selection.selectionSet, visiting) : 0),
        );
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        deepest = Math.max(deepest, depthOf(selection.selectionSet, visiting));
      } else {
        const name = selection.name.value;
        const fragment = context?.getFragment(name) ?? fragments.get(name);
        // A cycle is reported by the standard NoFragmentCycles rule; here it just stops.
        if (!fragment || visiting.has(name)) continue;
        let depth = fragmentDepth.get(name);
        if (depth === undefined) {
          visiting.add(name);
          depth = depthOf(fragment.selectionSet, visiting);
          visiting.delete(name);
          fragmentDepth.set(name, depth);
        }
        deepest = Math.max(deepest, depth);
      }
    }
    return deepest;
  };
  const depths = new Map<string, number>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.OPERATION_DEFINITION)
      depths.set(definition.name?.value ?? '', depthOf(definition.selectionSet, new Set()));
  return depths;
}

/** A validation rule refusing operations deeper than `maxDepth`, naming the limit and the depth. */
export function maxDepthRule(maxDepth: number): ValidationRule {
  return (context) => ({
    Document(document) {
      for (const [name, depth] of operationDepths(document, context))
        if (depth > maxDepth) context.reportError(tooDeep(depth, maxDepth, name));
      return false;
    },
  });
}

function tooDeep(depth: number, maxDepth: number, operationName: string): GraphQLError {
  const which = operationName ? ` ${operationName}` : '';
  return gatewayError(
    'QUERY_TOO_DEEP',
    {
      zh: `查询${which}嵌套深度为 ${depth}，超过上限 ${maxDepth}（MAX_QUERY_DEPTH）：请拆分查询或减少嵌套`,
      en: `operation${which} is nested ${depth} levels deep, more than the limit of ${maxDepth} (MAX_QUERY_DEPTH): split it or nest less`,
    },
    { status: 400, extensions: { limit: maxDepth, depth } },
  );
}

function tooComplex(complexity: number | undefined, maxComplexity: number): GraphQLError {
  const value = complexity === undefined ? 'too many fields to count' : String(complexity);
  return gatewayError(
    'QUERY_TOO_COMPLEX',
    {
      zh: `查询的估算开销为 ${complexity ?? '（字段过多，无法计算）'}，超过上限 ${maxComplexity}（MAX_QUERY_COMPLEXITY）：请减少字段或分页大小（first/limit）`,
      en: `the operation's estimated cost is ${value}, more than the limit of ${maxComplexity} (MAX_QUERY_COMPLEXITY): ask for fewer fields or smaller pages (first/limit)`,
    },
    { status: 400, extensions: { limit: maxComplexity, complexity: complexity ?? null } },
  );
}

/**
 * Runs both limits once the operation is known (complexity needs the variables, which a plain
 * validation rule does not see). Thrown errors end the request with HTTP 400 before any subgraph call.
 */
export function queryLimitsPlugin(limits: { maxDepth: number; maxComplexity: number }): ApolloServerPlugin {
  const depthRule = maxDepthRule(limits.maxDepth);
  // Evaluating more nodes than this is already far over any sensible cost.
  const maxNodes = Math.max(10_000, limits.maxComplexity * 10);
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, schema, request, operationName }) {
          const [depthError] = validate(schema, document, [depthRule]);
          if (depthError) throw depthError;
          let complexity: number | undefined;
          try {
            complexity = operationComplexity({
              schema,
              document,
              variables: request.variables,
              operationName,
              maxNodes,
            });
          } catch (e) {
            if (e instanceof GraphQLError && /maximum allowed number of nodes/.test(e.message))
              throw tooComplex(undefined, limits.maxComplexity);
            throw e;
          }
          if (complexity > limits.maxComplexity) throw tooComplex(complexity, limits.maxComplexity);
        },
      };
    },
  };
}
