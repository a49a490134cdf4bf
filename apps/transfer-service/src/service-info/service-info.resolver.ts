import { serviceInfoResolver, type MechanismDescription } from '@lianfang/graph';

/** Released version of transfer-service (kept equal to its package.json by service.spec.ts). */
export const SERVICE_VERSION = '0.1.0';

/** The joint mechanisms transfer-service runs: consultation, resource sharing, transfers and manifests. */
export const MECHANISMS: readonly MechanismDescription[] = [
  {
    code: 'consultation',
    name: { zh: '协商（跨省转移审批）', en: 'consultation (inter-provincial transfer approval)' },
  },
  { code: 'resource-sharing', name: { zh: '资源优化共享', en: 'resource sharing' } },
  { code: 'manifests', name: { zh: '电子转移联单', en: 'electronic transfer manifests' } },
];

export const TransferServiceInfoResolver = serviceInfoResolver({
  name: 'transfer-service',
  version: SERVICE_VERSION,
  typePrefix: 'Transfer',
  description: {
    zh: '协商、资源优化共享、转移与电子联单',
    en: 'consultation, resource sharing, transfers and manifests',
  },
  mechanisms: MECHANISMS,
});
