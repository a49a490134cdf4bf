import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ApolloFederationDriver, type ApolloFederationDriverConfig } from '@nestjs/apollo';
import { GraphQLModule, GraphQLSchemaHost } from '@nestjs/graphql';
import { createIdentitySigner, IDENTITY_HEADER, loadOrCreateKeyPair, type Identity } from '@lianfang/auth';
import { serviceConfigSchema, type Env } from '@lianfang/runtime';
import { exportSPKI, generateKeyPair, type KeyLike } from 'jose';
import { PLATFORM_SCALAR_PROVIDERS } from '../scalars/scalar-providers';
import { subgraphSdlOf } from './sdl';
import { SubgraphModule } from './subgraph.module';
import {
  AlphaEntity,
  AlphaEntityResolver,
  AlphaResolver,
  BetaResolver,
} from './test-fixtures/subgraphs.fixture';

const identity: Identity = {
  subject: 'li.na',
  agencyId: 'sc-eeb',
  agencyKind: 'provincial-bureau',
  jurisdiction: '510000',
  roles: ['clerk'],
};

function configFor(name: string, env: Env) {
  return serviceConfigSchema({ name, defaultPort: 0, schema: name }).load(env, name);
}

@Module({})
class AlphaApp {
  static register(env: Env): DynamicModule {
    return {
      module: AlphaApp,
      imports: [
        SubgraphModule.forService({
          service: 'alpha',
          config: configFor('alpha', env),
          resolvers: [AlphaResolver, AlphaEntityResolver],
          orphanedTypes: [AlphaEntity],
        }),
      ],
    };
  }
}

@Module({})
class BetaApp {
  static register(env: Env): DynamicModule {
    return {
      module: BetaApp,
      imports: [
        SubgraphModule.forService({
          service: 'beta',
          config: configFor('beta', env),
          resolvers: [BetaResolver],
        }),
      ],
    };
  }
}

/** Beta built the way @nestjs/graphql does it out of the box: the control that shows the hazard. */
@Module({
  imports: [
    GraphQLModule.forRoot<ApolloFederationDriverConfig>({
      driver: ApolloFederationDriver,
      autoSchemaFile: { federation: 2 },
      path: '/plain',
      plugins: [ApolloServerPluginInlineTraceDisabled()],
    }),
  ],
  providers: [BetaResolver, ...PLATFORM_SCALAR_PROVIDERS],
})
class PlainBetaApp {}

async function start(
  module: DynamicModule | typeof PlainBetaApp,
): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(module, { logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}` };
}

async function post(url: string, query: string, headers: Record<string, string> = {}, variables?: object) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return {
    status: res.status,
    body: (await res.json()) as GraphQLBody,
  };
}

interface GraphQLBody {
  data?: Record<string, unknown>;
  errors?: { message: string; path?: unknown; extensions: Record<string, unknown> }[];
}

const typeNames = (app: INestApplication) => Object.keys(app.get(GraphQLSchemaHost).schema.getTypeMap());

describe('SubgraphModule', () => {
  let privateKey: KeyLike;
  let env: Env;
  let alpha: { app: INestApplication; url: string };
  let beta: { app: INestApplication; url: string };
  let token: string;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    env = { GATEWAY_PUBLIC_KEY: await exportSPKI(pair.publicKey), NODE_ENV: 'test' };
    alpha = await start(AlphaApp.register(env));
    beta = await start(BetaApp.register(env));
    token = await createIdentitySigner(privateKey).sign(identity);
  });

  afterAll(async () => {
    await alpha?.app.close();
    await beta?.app.close();
  });

  describe('two subgraphs in one process', () => {
    it('would leak types without the fix (the hazard is real)', async () => {
      const plain = await NestFactory.create(PlainBetaApp, { logger: false });
      await plain.init();
      try {
        expect(typeNames(plain)).toEqual(expect.arrayContaining(['BetaThing', 'AlphaDetail']));
      } finally {
        await plain.close();
      }
    });

    it('each schema holds only its own types', () => {
      const a = typeNames(alpha.app);
      const b = typeNames(beta.app);
      expect(a).toEqual(expect.arrayContaining(['AlphaThing', 'AlphaDetail', 'AlphaEntity', '_Entity']));
      expect(a.filter((t) => t.startsWith('Beta'))).toEqual([]);
      expect(b).toEqual(expect.arrayContaining(['BetaThing', 'BetaDetail']));
      expect(b.filter((t) => t.startsWith('Alpha'))).toEqual([]);
      // Beta has no entity of its own, so no `_entities` (a leaked AlphaEntity would have brought one).
      expect(b).not.toContain('_Entity');
    });

    it('each serves the platform scalars, string-encoded', async () => {
      const sdl = await subgraphSdlOf(beta.app);
      for (const s of ['Money', 'Kilograms', 'LogPosition', 'DateTime', 'LocalDate', 'JurisdictionCode'])
        expect(sdl).toContain(`scalar ${s}`);
      const { body } = await post(
        beta.url,
        'query($a: Money!) { betaNextFen(amount: $a) }',
        { [IDENTITY_HEADER]: token },
        { a: '9007199254740993' },
      );
      expect(body.data).toEqual({ betaNextFen: '9007199254740994' });
    });
  });

  describe('identity', () => {
    it.each([
      ['a query', '{ alphaThing { id } }'],
      ['_service', '{ _service { sdl } }'],
      [
        '_entities',
        '{ _entities(representations: [{ __typename: "AlphaEntity", id: "e-1" }]) { ... on AlphaEntity { label } } }',
      ],
    ])('refuses %s without the gateway-signed identity: 401 UNAUTHENTICATED', async (_what, query) => {
      const { status, body } = await post(alpha.url, query, { 'x-correlation-id': 'corr-1' });
      expect(status).toBe(401);
      expect(body.data).toBeUndefined();
      expect(body.errors?.[0].extensions).toMatchObject({
        code: 'IDENTITY_MISSING',
        category: 'UNAUTHENTICATED',
        field: IDENTITY_HEADER,
        correlationId: 'corr-1',
        messages: { zh: expect.stringContaining('网关'), en: expect.stringContaining('gateway') },
      });
    });

    it('refuses an identity signed by another key: 401 IDENTITY_INVALID', async () => {
      const forger = await generateKeyPair('ES256');
      const forged = await createIdentitySigner(forger.privateKey).sign(identity);
      const { status, body } = await post(alpha.url, '{ alphaThing { id } }', { [IDENTITY_HEADER]: forged });
      expect(status).toBe(401);
      expect(body.errors?.[0].extensions).toMatchObject({
        code: 'IDENTITY_INVALID',
        category: 'UNAUTHENTICATED',
      });
    });

    it('serves a signed request, _entities included', async () => {
      const q = await post(alpha.url, '{ alphaThing { id detail { note } } }', { [IDENTITY_HEADER]: token });
      expect(q).toEqual({
        status: 200,
        body: { data: { alphaThing: { id: 'a-1', detail: { note: 'alpha' } } } },
      });
      const e = await post(
        alpha.url,
        '{ _entities(representations: [{ __typename: "AlphaEntity", id: "e-1" }]) { ... on AlphaEntity { label } } }',
        { [IDENTITY_HEADER]: token },
      );
      expect(e.body.data).toEqual({ _entities: [{ label: 'entity e-1' }] });
    });

    it('reads the embedded gateway key from DATA_DIR at the first request, once it exists', async () => {
      const dataDir = await mkdtemp(path.join(tmpdir(), 'lf-graph-keys-'));
      const lazy = await start(AlphaApp.register({ DATA_DIR: dataDir, NODE_ENV: 'development' }));
      try {
        const before = await post(lazy.url, '{ alphaThing { id } }', { [IDENTITY_HEADER]: token });
        expect(before.status).toBe(503);
        expect(before.body.errors?.[0].extensions).toMatchObject({ code: 'GATEWAY_KEY_UNAVAILABLE' });
        const gateway = await loadOrCreateKeyPair(path.join(dataDir, 'keys'), 'gateway');
        const signed = await createIdentitySigner(gateway.privateKey).sign(identity);
        const after = await post(lazy.url, '{ alphaThing { id } }', { [IDENTITY_HEADER]: signed });
        expect(after).toEqual({ status: 200, body: { data: { alphaThing: { id: 'a-1' } } } });
      } finally {
        await lazy.app.close();
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  });

  describe('typed errors', () => {
    const fail = (kind: string) =>
      post(
        beta.url,
        'mutation($k: String!) { betaFail(kind: $k) }',
        { [IDENTITY_HEADER]: token, 'x-correlation-id': 'c-42' },
        { k: kind },
      );

    it('a DomainError keeps its code, field, rule, details and bilingual messages', async () => {
      const { body } = await fail('domain');
      expect(body.errors?.[0]).toMatchObject({
        message: 'the matter is not open / 该事项未开放',
        path: ['betaFail'],
        extensions: {
          code: 'beta.not-open',
          category: 'BUSINESS_RULE',
          field: 'betaId',
          rule: 'beta.not-open',
          messages: { zh: '该事项未开放', en: 'the matter is not open' },
          details: { status: 'closed' },
          correlationId: 'c-42',
        },
      });
    });

    it('an authorization failure is FORBIDDEN, an authentication failure UNAUTHENTICATED', async () => {
      expect((await fail('denied')).body.errors?.[0].extensions).toMatchObject({
        code: 'ACCESS_DENIED',
        category: 'FORBIDDEN',
        messages: { zh: '无权操作', en: 'not allowed' },
      });
      expect((await fail('authentication')).body.errors?.[0].extensions).toMatchObject({
        code: 'TOKEN_EXPIRED',
        category: 'UNAUTHENTICATED',
      });
    });

    it('class-validator failures name the field and the rule', async () => {
      expect((await fail('validation')).body.errors?.[0].extensions).toMatchObject({
        code: 'INPUT_INVALID',
        category: 'BAD_USER_INPUT',
        field: 'name',
        rule: 'isLength',
        messages: { zh: expect.stringContaining('name'), en: expect.stringContaining('name') },
      });
    });

    it('a scalar that does not parse names the scalar and the rule', async () => {
      const { status, body } = await post(
        beta.url,
        'query($a: Money!) { betaNextFen(amount: $a) }',
        { [IDENTITY_HEADER]: token },
        { a: '12.50' },
      );
      expect(status).toBe(400);
      expect(body.errors?.[0].extensions).toMatchObject({
        code: 'INPUT_INVALID',
        category: 'BAD_USER_INPUT',
        rule: 'Money.format',
        messages: { en: expect.stringContaining('Money') },
      });
      const literal = await post(beta.url, '{ betaNextFen(amount: 1250) }', { [IDENTITY_HEADER]: token });
      expect(literal.body.errors?.[0].extensions).toMatchObject({ rule: 'Money.type' });
    });

    it('outside production, an unknown error keeps its message and stack', async () => {
      const error = (await fail('unknown')).body.errors?.[0];
      expect(error?.message).toContain('database connection refused');
      expect(error?.extensions).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', correlationId: 'c-42' });
      expect(error?.extensions.stacktrace).toBeDefined();
    });

    it('outside production, introspection and the landing page are on', async () => {
      const { body } = await post(beta.url, '{ __schema { queryType { name } } }', {
        [IDENTITY_HEADER]: token,
      });
      expect(body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
      const page = await fetch(`${beta.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');
    });
  });

  describe('in production', () => {
    let prod: { app: INestApplication; url: string };
    beforeAll(async () => {
      prod = await start(
        BetaApp.register({ ...env, NODE_ENV: 'production', PERSONAL_DATA_MASTER_KEY: 'A'.repeat(43) + '=' }),
      );
    });
    afterAll(async () => {
      await prod?.app.close();
    });

    it('masks unknown errors, with the correlation id and no stack trace', async () => {
      const { body } = await post(prod.url, 'mutation { betaFail(kind: "unknown") }', {
        [IDENTITY_HEADER]: token,
        'x-correlation-id': 'c-7',
      });
      expect(body.errors).toEqual([
        {
          message:
            'internal error: quote the correlationId to the operators / 内部错误：请凭关联编号（correlationId）联系运维',
          locations: expect.any(Array),
          path: ['betaFail'],
          extensions: {
            code: 'INTERNAL_SERVER_ERROR',
            category: 'INTERNAL_SERVER_ERROR',
            field: null,
            rule: null,
            messages: expect.objectContaining({ en: expect.stringContaining('internal error') }),
            correlationId: 'c-7',
          },
        },
      ]);
      expect(JSON.stringify(body)).not.toContain('10.0.0.7');
    });

    it('still returns typed failures, without stack traces', async () => {
      const { body } = await post(prod.url, 'mutation { betaFail(kind: "domain") }', {
        [IDENTITY_HEADER]: token,
      });
      expect(body.errors?.[0].extensions).toMatchObject({ code: 'beta.not-open' });
      expect(body.errors?.[0].extensions.stacktrace).toBeUndefined();
    });

    it('refuses introspection and serves no landing page', async () => {
      const { body } = await post(prod.url, '{ __schema { queryType { name } } }', {
        [IDENTITY_HEADER]: token,
      });
      expect(body.data).toBeUndefined();
      expect(body.errors?.[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const page = await fetch(`${prod.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toContain('<html');
    });
  });
});
