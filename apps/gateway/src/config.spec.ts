import { DEV_AUDIENCE, DEV_ISSUER } from '@lianfang/auth';
import { ConfigurationError } from '@lianfang/runtime';
import { gatewayConfigSchema, loadGatewayConfig } from './config';

const PRODUCTION = {
  NODE_ENV: 'production',
  AUTH_ISSUER: 'https://sso.example.gov.cn/realms/lianfang',
  AUTH_JWKS_URL: 'https://sso.example.gov.cn/realms/lianfang/certs',
  GATEWAY_SIGNING_KEY: '-----BEGIN PRIVATE KEY-----\\n…\\n-----END PRIVATE KEY-----',
};

function issuesOf(env: Record<string, string>) {
  const result = gatewayConfigSchema.parse(env);
  if (result.ok) throw new Error('expected configuration issues');
  return result.issues;
}

describe('gateway configuration', () => {
  it('starts from an empty environment outside production, every defaulted variable set', () => {
    expect(loadGatewayConfig({})).toEqual({
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: 4000,
      LOG_LEVEL: 'info',
      DATA_DIR: './data',
      DIRECTORY_FILE: 'config/directory/demo-region.json',
      AUTH_ISSUER: DEV_ISSUER,
      AUTH_AUDIENCE: DEV_AUDIENCE,
      AUTH_JWKS_URL: undefined,
      AUTH_JWKS_FILE: undefined,
      GATEWAY_SIGNING_KEY: undefined,
      SUPERGRAPH_FILE: 'apps/gateway/supergraph.graphql',
      SUPERGRAPH_MODE: 'file',
      TRANSFER_SERVICE_URL: 'http://127.0.0.1:4001/graphql',
      COMPENSATION_SERVICE_URL: 'http://127.0.0.1:4002/graphql',
      ENFORCEMENT_SERVICE_URL: 'http://127.0.0.1:4003/graphql',
      SUBGRAPH_TIMEOUT_MS: 30_000,
      MAX_QUERY_DEPTH: 10,
      MAX_QUERY_COMPLEXITY: 1000,
      MAX_REQUEST_BYTES: 8 * 1024 * 1024,
      RATE_LIMIT_PER_MINUTE: 600,
    });
  });

  it('requires the trust anchors in production, naming each variable', () => {
    let error: unknown;
    try {
      loadGatewayConfig({ NODE_ENV: 'production' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const issues = (error as ConfigurationError).issues;
    expect(issues.map((i) => [i.variable, i.rule])).toEqual([
      ['AUTH_ISSUER', 'required'],
      ['AUTH_JWKS_URL', 'required'],
      ['GATEWAY_SIGNING_KEY', 'required'],
    ]);
    expect((error as Error).message).toContain('AUTH_ISSUER: is required');
  });

  it('accepts production with the issuer, its JWKS (URL or file) and the signing key', () => {
    expect(loadGatewayConfig(PRODUCTION)).toMatchObject({ NODE_ENV: 'production', SUPERGRAPH_MODE: 'file' });
    const { AUTH_JWKS_URL: _url, ...withoutUrl } = PRODUCTION;
    expect(loadGatewayConfig({ ...withoutUrl, AUTH_JWKS_FILE: '/etc/lianfang/jwks.json' })).toMatchObject({
      AUTH_JWKS_FILE: '/etc/lianfang/jwks.json',
    });
  });

  it('refuses live composition in production', () => {
    expect(issuesOf({ ...PRODUCTION, SUPERGRAPH_MODE: 'live' })).toEqual([
      expect.objectContaining({ variable: 'SUPERGRAPH_MODE', rule: 'production' }),
    ]);
    expect(loadGatewayConfig({ SUPERGRAPH_MODE: 'live' }).SUPERGRAPH_MODE).toBe('live');
  });

  it('refuses both AUTH_JWKS_URL and AUTH_JWKS_FILE', () => {
    expect(issuesOf({ ...PRODUCTION, AUTH_JWKS_FILE: 'jwks.json' })).toEqual([
      expect.objectContaining({ variable: 'AUTH_JWKS_FILE', rule: 'exclusive' }),
    ]);
  });

  it('names every bad variable with its rule', () => {
    const issues = issuesOf({
      NODE_ENV: 'staging',
      PORT: '70000',
      SUPERGRAPH_MODE: 'uplink',
      TRANSFER_SERVICE_URL: 'transfer:4001',
      ENFORCEMENT_SERVICE_URL: 'ftp://x/graphql',
      MAX_QUERY_DEPTH: 'ten',
      MAX_QUERY_COMPLEXITY: '0',
      MAX_REQUEST_BYTES: '2gb',
      RATE_LIMIT_PER_MINUTE: '-5',
      LOG_LEVEL: 'verbose',
    });
    expect(issues.map((i) => [i.variable, i.rule])).toEqual([
      ['NODE_ENV', 'oneOf'],
      ['PORT', 'port'],
      ['LOG_LEVEL', 'oneOf'],
      ['SUPERGRAPH_MODE', 'oneOf'],
      ['TRANSFER_SERVICE_URL', 'url'],
      ['ENFORCEMENT_SERVICE_URL', 'url'],
      ['MAX_QUERY_DEPTH', 'integer'],
      ['MAX_QUERY_COMPLEXITY', 'min'],
      ['MAX_REQUEST_BYTES', 'bytes'],
      ['RATE_LIMIT_PER_MINUTE', 'min'],
    ]);
  });

  it('reads MAX_REQUEST_BYTES in bytes, kb or mb, from 1 kb to 100 mb', () => {
    expect(loadGatewayConfig({ MAX_REQUEST_BYTES: '65536' }).MAX_REQUEST_BYTES).toBe(65_536);
    expect(loadGatewayConfig({ MAX_REQUEST_BYTES: '512kb' }).MAX_REQUEST_BYTES).toBe(524_288);
    expect(loadGatewayConfig({ MAX_REQUEST_BYTES: '2MB' }).MAX_REQUEST_BYTES).toBe(2_097_152);
    expect(issuesOf({ MAX_REQUEST_BYTES: '100' })).toEqual([
      expect.objectContaining({ variable: 'MAX_REQUEST_BYTES', rule: 'min' }),
    ]);
    expect(issuesOf({ MAX_REQUEST_BYTES: '101mb' })).toEqual([
      expect.objectContaining({ variable: 'MAX_REQUEST_BYTES', rule: 'max' }),
    ]);
  });
});
