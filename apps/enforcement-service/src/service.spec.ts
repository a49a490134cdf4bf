import path from 'node:path';
import { describeSubgraphBasics, useSubgraph } from '@lianfang/testing';
import { service } from './service';
import { SERVICE_VERSION } from './service-info/service-info.resolver';

describe('enforcement-service boots and serves its subgraph', () => {
  const subgraph = useSubgraph(service);
  describeSubgraphBasics({
    subgraph,
    service: 'enforcement-service',
    infoField: 'enforcementServiceInfo',
    mechanisms: ['joint-enforcement', 'emergency-response'],
    version: SERVICE_VERSION,
    appDir: path.resolve(__dirname, '..'),
  });
});
