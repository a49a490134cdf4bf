import path from 'node:path';
import { describeSubgraphBasics, useSubgraph } from '@lianfang/testing';
import { service } from './service';
import { SERVICE_VERSION } from './service-info/service-info.resolver';

describe('compensation-service boots and serves its subgraph', () => {
  const subgraph = useSubgraph(service);
  describeSubgraphBasics({
    subgraph,
    service: 'compensation-service',
    infoField: 'compensationServiceInfo',
    mechanisms: ['compensation'],
    version: SERVICE_VERSION,
    appDir: path.resolve(__dirname, '..'),
  });
});
