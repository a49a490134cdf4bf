import { loadGatewayConfig } from './config';
import { SupergraphError } from './errors';
import { SupergraphStatus, subgraphUrl } from './supergraph';

describe('subgraph URLs', () => {
  const config = loadGatewayConfig({
    TRANSFER_SERVICE_URL: 'http://transfer-service:4001/graphql',
    ENFORCEMENT_SERVICE_URL: 'https://enforcement.example/graphql',
  });

  it('come from the variables for the platform’s subgraphs, whatever the supergraph says', () => {
    expect(subgraphUrl(config, 'transfer', 'http://elsewhere/graphql')).toBe(
      'http://transfer-service:4001/graphql',
    );
    expect(subgraphUrl(config, 'transfer-service', undefined)).toBe('http://transfer-service:4001/graphql');
    expect(subgraphUrl(config, 'COMPENSATION_SERVICE', undefined)).toBe('http://127.0.0.1:4002/graphql');
    expect(subgraphUrl(config, 'enforcement', undefined)).toBe('https://enforcement.example/graphql');
  });

  it('come from the supergraph for any other subgraph, and are required there', () => {
    expect(subgraphUrl(config, 'weather', 'http://weather/graphql')).toBe('http://weather/graphql');
    expect(() => subgraphUrl(config, 'weather', undefined)).toThrow(SupergraphError);
  });
});

describe('supergraph readiness', () => {
  it('fails until the schema is loaded, and again once the server stops', async () => {
    const status = new SupergraphStatus();
    await expect(status.readiness.check()).rejects.toThrow('supergraph not loaded yet');
    const listener = await status.plugin.serverWillStart!({} as never);
    await listener!.schemaDidLoadOrUpdate!({} as never);
    await expect(status.readiness.check()).resolves.toBeUndefined();
    await listener!.serverWillStop!();
    expect(status.loaded).toBe(false);
  });
});
