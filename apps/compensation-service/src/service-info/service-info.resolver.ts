import { serviceInfoResolver, type MechanismDescription } from '@lianfang/graph';

/** Released version of compensation-service (kept equal to its package.json by service.spec.ts). */
export const SERVICE_VERSION = '0.1.0';

/** The joint mechanisms compensation-service runs: compensation agreements, accruals and settlements. */
export const MECHANISMS: readonly MechanismDescription[] = [
  { code: 'compensation', name: { zh: '区域补偿', en: 'regional compensation' } },
];

export const CompensationServiceInfoResolver = serviceInfoResolver({
  name: 'compensation-service',
  version: SERVICE_VERSION,
  typePrefix: 'Compensation',
  description: { zh: '区域补偿协议、计提与结算', en: 'compensation agreements, accruals and settlements' },
  mechanisms: MECHANISMS,
});
