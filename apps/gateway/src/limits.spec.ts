import { buildSchema, parse, validate } from 'graphql';
import { maxDepthRule, operationComplexity, operationDepths } from './limits';

const schema = buildSchema(`
  type Query { transfer(id: ID!): Transfer, transfers(first: Int, limit: Int): [Transfer!]! }
  type Transfer { id: ID!, wasteCode: String!, next: Transfer, manifests(first: Int): [Manifest!]! }
  type Manifest { id: ID!, quantityKg: String! }
`);

describe('operation depth', () => {
  it('counts nested fields, through inline and named fragments', () => {
    const document = parse(`
      query A { transfer(id: "t") { id next { ...N } } }
      query B { transfers { ... on Transfer { next { next { id } } } } }
      fragment N on Transfer { next { id } }
    `);
    expect(operationDepths(document)).toEqual(
      new Map([
        ['A', 4],
        ['B', 4],
      ]),
    );
  });

  it('does not count introspection or __typename', () => {
    const document = parse(
      '{ __typename transfer(id: "t") { __typename } __schema { types { fields { name } } } }',
    );
    expect(operationDepths(document).get('')).toBe(1);
  });

  it('stops at a fragment cycle instead of looping', () => {
    const document = parse('{ transfer(id: "t") { ...F } } fragment F on Transfer { next { ...F } }');
    expect(operationDepths(document).get('')).toBe(2);
  });

  it('is a validation rule naming the limit and the depth', () => {
    const errors = validate(schema, parse('query Deep { transfer(id: "t") { next { next { id } } } }'), [
      maxDepthRule(3),
    ]);
    expect(errors).toHaveLength(1);
    expect(errors[0].extensions).toMatchObject({ code: 'QUERY_TOO_DEEP', limit: 3, depth: 4 });
    expect(errors[0].message).toContain('operation Deep is nested 4 levels deep, more than the limit of 3');
    expect(validate(schema, parse('{ transfer(id: "t") { next { id } } }'), [maxDepthRule(3)])).toEqual([]);
  });
});

describe('operation complexity', () => {
  const cost = (query: string, variables?: Record<string, unknown>) =>
    operationComplexity({ schema, document: parse(query), variables });

  it('costs 1 per field', () => {
    expect(cost('{ transfer(id: "t") { id wasteCode next { id } } }')).toBe(5);
  });

  it('multiplies a list’s children by its page size, from literals or variables', () => {
    expect(cost('{ transfers(first: 10) { id wasteCode } }')).toBe(21);
    expect(cost('query ($n: Int) { transfers(limit: $n) { id } }', { n: 50 })).toBe(51);
    expect(cost('{ transfers(first: 10) { manifests(first: 5) { id } } }')).toBe(1 + 10 * (1 + 5));
  });

  it('costs nothing for introspection', () => {
    expect(cost('{ __typename __schema { types { name } } }')).toBe(0);
  });
});
