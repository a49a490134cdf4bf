import { serviceInfoResolver, type MechanismDescription } from '@lianfang/graph';

/** Released version of enforcement-service (kept equal to its package.json by service.spec.ts). */
export const SERVICE_VERSION = '0.1.0';

/** The joint mechanisms enforcement-service runs: joint enforcement cases and emergency incidents. */
export const MECHANISMS: readonly MechanismDescription[] = [
  { code: 'joint-enforcement', name: { zh: '执法监管合作', en: 'joint enforcement' } },
  { code: 'emergency-response', name: { zh: '污染事件联合应对', en: 'joint emergency response' } },
];

export const EnforcementServiceInfoResolver = serviceInfoResolver({
  name: 'enforcement-service',
  version: SERVICE_VERSION,
  typePrefix: 'Enforcement',
  description: { zh: '联合执法案件与突发污染事件', en: 'joint enforcement cases and emergency incidents' },
  mechanisms: MECHANISMS,
});
