import path from 'node:path';
import { describeSubgraphBasics, useSubgraph } from '@lianfang/testing';
import { service } from './service';
import { SERVICE_VERSION } from './service-info/service-info.resolver';

describe('transfer-service boots and serves its subgraph', () => {
  const subgraph = useSubgraph(service);
  describeSubgraphBasics({
    subgraph,
    service: 'transfer-service',
    infoField: 'transferServiceInfo',
    mechanisms: ['consultation', 'resource-sharing', 'manifests'],
    version: SERVICE_VERSION,
    appDir: path.resolve(__dirname, '..'),
  });
});
