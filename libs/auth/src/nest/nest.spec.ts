import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import type { INestApplication } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { Args, GraphQLModule, Query, Resolver } from '@nestjs/graphql';
import { Test } from '@nestjs/testing';
import { AuthenticationError } from '../errors';
import type { Identity, RequestContext } from '../identity';
import { AccessDenied } from '../rules/access-denied';
import { authorize, defineRule } from '../rules/rule';
import { party } from '../rules/scopes';
import { CurrentIdentity } from './current-identity';
import { ACCESS_RULE, Allow, RuleGuard } from './rule-guard';

interface Transfer {
  readonly id: string;
  readonly exportingBureau: string;
}
const TRANSFERS: Record<string, Transfer> = { 'T-1': { id: 'T-1', exportingBureau: 'sc-eeb' } };

const approveTransfer = defineRule<Transfer>({
  name: 'transfer.approve',
  description: { zh: '审批转移申请', en: 'approve a transfer application' },
  agencyKinds: ['provincial-bureau'],
  roles: ['approver'],
  scope: party((t) => [t.exportingBureau]),
});
const readDirectory = defineRule({
  name: 'directory.read',
  description: { zh: '查阅机构名录', en: 'read the agency directory' },
  agencyKinds: ['provincial-bureau', 'regional-secretariat'],
  roles: ['viewer'],
});

const IDENTITIES: Record<string, Identity> = {
  sichuan: {
    subject: 'li-na',
    agencyId: 'sc-eeb',
    agencyKind: 'provincial-bureau',
    jurisdiction: '510000',
    roles: ['approver', 'viewer'],
  },
  chongqing: {
    subject: 'chen-gang',
    agencyId: 'cq-eeb',
    agencyKind: 'provincial-bureau',
    jurisdiction: '500000',
    roles: ['approver'],
  },
  generator: {
    subject: 'zhou-yi',
    agencyId: 'gen-cd-1',
    agencyKind: 'generator',
    jurisdiction: '510100',
    roles: ['clerk'],
  },
};

@Resolver()
class TransferResolver {
  @Query(() => String)
  @Allow(approveTransfer)
  approveTransfer(@Args('id') id: string, @CurrentIdentity() who: Identity): string {
    // The guard checked kind and role; the record's scope is checked here, once it is loaded.
    authorize(who, approveTransfer, TRANSFERS[id]);
    return `approved ${id} by ${who.subject}`;
  }

  @Query(() => String)
  whoAmI(@CurrentIdentity() who: Identity): string {
    return who.agencyId;
  }

  @Query(() => String)
  greeting(@CurrentIdentity({ optional: true }) who: Identity | undefined): string {
    return who ? `hello ${who.agencyId}` : 'hello stranger';
  }
}

@Resolver()
@Allow(readDirectory)
class DirectoryResolver {
  @Query(() => [String])
  agencies(): string[] {
    return ['sc-eeb', 'cq-eeb'];
  }
}

describe('Nest glue in a GraphQL application', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          autoSchemaFile: true,
          // Stands in for the subgraph's context factory, which verifies the gateway-signed identity.
          context: ({ req }: { req: { headers: Record<string, string | undefined> } }): RequestContext => ({
            identity: IDENTITIES[req.headers['x-test-as'] ?? ''],
            correlationId: 'test',
          }),
        }),
      ],
      providers: [TransferResolver, DirectoryResolver],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = `${await app.getUrl()}/graphql`;
  });
  afterAll(async () => {
    await app?.close();
  });

  async function ask(as: string | undefined, query: string) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(as ? { 'x-test-as': as } : {}) },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as {
      data?: Record<string, unknown> | null;
      errors?: { message: string }[];
    };
  }

  it.each<[string, string | undefined, string, string | RegExp]>([
    ['the exporting bureau approves', 'sichuan', '{ approveTransfer(id: "T-1") }', 'approved T-1 by li-na'],
    [
      'the receiving bureau passes the guard, then the scope refuses',
      'chongqing',
      '{ approveTransfer(id: "T-1") }',
      /transfer\.approve.*not a party/,
    ],
    [
      'a generator is stopped by the guard (agency kind)',
      'generator',
      '{ approveTransfer(id: "T-1") }',
      /only a provincial environment bureau/,
    ],
    [
      'nobody signed in is refused before the resolver',
      undefined,
      '{ approveTransfer(id: "T-1") }',
      /needs a signed-in caller/,
    ],
    ['@CurrentIdentity gives the identity', 'generator', '{ whoAmI }', 'gen-cd-1'],
    ['@CurrentIdentity refuses a call without identity', undefined, '{ whoAmI }', /carries no identity/],
    ['@CurrentIdentity({ optional }) lets it through', undefined, '{ greeting }', 'hello stranger'],
    ['a class-level rule admits its kinds', 'sichuan', '{ agencies }', 'sc-eeb,cq-eeb'],
    ['a class-level rule checks roles too', 'chongqing', '{ agencies }', /needs one of the roles viewer/],
  ])('%s', async (...[, as, query, expected]) => {
    const result = await ask(as, query);
    if (typeof expected === 'string') {
      expect(result.errors).toBeUndefined();
      expect(String(Object.values(result.data ?? {})[0])).toBe(expected);
    } else {
      expect(result.errors?.[0]?.message).toMatch(expected);
      expect(result.data).toBeNull();
    }
  });
});

describe('RuleGuard', () => {
  const guard = new RuleGuard(new Reflector());
  class Handlers {
    @Allow(readDirectory)
    guarded(): void {}
    open(): void {}
  }
  const graphqlCall = (handler: keyof Handlers, context: Partial<RequestContext> | undefined) => {
    const host = new ExecutionContextHost([{}, {}, context, {}], Handlers, Handlers.prototype[handler]);
    host.setType('graphql');
    return host;
  };

  it('keeps the rule as metadata of the method', () => {
    expect(Reflect.getMetadata(ACCESS_RULE, Handlers.prototype.guarded)).toBe(readDirectory);
  });

  it('lets a method without a rule through, even without identity', () => {
    expect(guard.canActivate(graphqlCall('open', { correlationId: 'c' }))).toBe(true);
  });

  it('allows, refuses by kind or role, and asks for an identity', () => {
    expect(guard.canActivate(graphqlCall('guarded', { identity: IDENTITIES.sichuan }))).toBe(true);
    expect(() => guard.canActivate(graphqlCall('guarded', { identity: IDENTITIES.generator }))).toThrow(
      expect.objectContaining({ check: 'agencyKind', rule: 'directory.read' }),
    );
    expect(() => guard.canActivate(graphqlCall('guarded', { identity: IDENTITIES.chongqing }))).toThrow(
      AccessDenied,
    );
    expect(() => guard.canActivate(graphqlCall('guarded', { correlationId: 'c' }))).toThrow(
      AuthenticationError,
    );
    expect(() => guard.canActivate(graphqlCall('guarded', undefined))).toThrow(AuthenticationError);
  });

  it('says plainly that it reads GraphQL calls only', () => {
    const http = new ExecutionContextHost([{}, {}], Handlers, Handlers.prototype.guarded);
    expect(() => guard.canActivate(http)).toThrow(/GraphQL calls only/);
  });
});
