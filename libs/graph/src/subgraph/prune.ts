import {
  Kind,
  type DefinitionNode,
  type DocumentNode,
  type TypeDefinitionNode,
  type TypeExtensionNode,
  type TypeNode,
} from 'graphql';

type TypeDefOrExt = TypeDefinitionNode | TypeExtensionNode;

const TYPE_KINDS: ReadonlySet<string> = new Set([
  Kind.OBJECT_TYPE_DEFINITION,
  Kind.INTERFACE_TYPE_DEFINITION,
  Kind.UNION_TYPE_DEFINITION,
  Kind.ENUM_TYPE_DEFINITION,
  Kind.INPUT_OBJECT_TYPE_DEFINITION,
  Kind.SCALAR_TYPE_DEFINITION,
  Kind.OBJECT_TYPE_EXTENSION,
  Kind.INTERFACE_TYPE_EXTENSION,
  Kind.UNION_TYPE_EXTENSION,
  Kind.ENUM_TYPE_EXTENSION,
  Kind.INPUT_OBJECT_TYPE_EXTENSION,
  Kind.SCALAR_TYPE_EXTENSION,
]);

function isTypeDef(def: DefinitionNode): def is TypeDefOrExt {
  return TYPE_KINDS.has(def.kind);
}

function namedType(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedType(type.type);
}

function references(def: TypeDefOrExt): string[] {
  const out: string[] = [];
  if ('interfaces' in def) for (const i of def.interfaces ?? []) out.push(i.name.value);
  if ('types' in def) for (const t of def.types ?? []) out.push(t.name.value);
  if ('fields' in def)
    for (const f of def.fields ?? []) {
      out.push(namedType(f.type));
      if ('arguments' in f) for (const a of f.arguments ?? []) out.push(namedType(a.type));
    }
  return out;
}

export const ROOT_TYPES = ['Query', 'Mutation', 'Subscription'] as const;

/**
 * Keeps only the types a subgraph serves: those reachable from its root operations, plus `keep` (types no
 * field reaches but the subgraph still owns: entities reached only through `_entities`, implementations of
 * an interface, the platform scalars). Types are then sorted by name so that the SDL does not depend on
 * the order in which classes were loaded.
 *
 * Why: @nestjs/graphql keeps code-first metadata in one process-wide store and adds every type that any
 * loaded class's field refers to as an "orphaned type". With the three subgraphs in one process (the
 * embedded mode), a service's schema would also carry the others' types, and `_entities` their entities.
 */
export function pruneSubgraphDocument(doc: DocumentNode, keep: Iterable<string>): DocumentNode {
  const byName = new Map<string, TypeDefOrExt[]>();
  const others: DefinitionNode[] = [];
  for (const def of doc.definitions) {
    if (isTypeDef(def)) {
      const list = byName.get(def.name.value) ?? [];
      list.push(def);
      byName.set(def.name.value, list);
    } else others.push(def);
  }
  const reached = new Set<string>();
  const queue: string[] = [...ROOT_TYPES, ...keep];
  // Types named by directive definitions' arguments belong to the schema's machinery: keep them too.
  for (const def of others)
    if (def.kind === Kind.DIRECTIVE_DEFINITION)
      for (const a of def.arguments ?? []) queue.push(namedType(a.type));
  while (queue.length > 0) {
    const name = queue.pop() as string;
    if (reached.has(name)) continue;
    const defs = byName.get(name);
    if (!defs) continue; // a built-in scalar, or a type the federation library adds itself
    reached.add(name);
    for (const def of defs) queue.push(...references(def));
  }
  const kept = [...reached].sort().flatMap((name) => byName.get(name) ?? []);
  return { ...doc, definitions: [...others, ...kept] };
}
