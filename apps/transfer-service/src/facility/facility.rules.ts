import { defineRule, everyParty, withinJurisdiction } from '@lianfang/auth';

/** Published licences are reference data: any authenticated party of the region may read them. */
export const readFacilities = everyParty('facility.read', {
  zh: '查阅设施经营许可',
  en: 'read facility licences',
});

/** The provincial bureau that licenses a facility keeps its licence on the platform. */
export const manageFacilities = defineRule<{ jurisdiction: string }>({
  name: 'facility.manage',
  description: {
    zh: '登记、变更、暂停、恢复或吊销危险废物经营设施',
    en: 'register, update, suspend, reinstate or revoke a hazardous-waste facility',
  },
  agencyKinds: ['provincial-bureau'],
  roles: ['clerk', 'approver', 'admin'],
  // The facility lies within the caller's province (a province holds its cities and counties).
  scope: withinJurisdiction((facility) => [facility.jurisdiction]),
});
