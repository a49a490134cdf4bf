import { systemActor } from '@lianfang/eventsourcing';
import { given } from '@lianfang/testing';
import { agencyDecider, type AgencyCommand, type AgencyEvent, type AgencyProfile } from './decider';

const metadata = {
  commandId: 'cmd-1',
  now: new Date('2026-11-28T02:00:00Z'),
  actor: systemActor('directory-sync'),
  correlationId: 'corr-1',
};
const profile: AgencyProfile = {
  kind: 'provincial-bureau',
  name: { zh: '四川省生态环境厅', en: 'Sichuan Department of Ecology and Environment' },
  jurisdiction: '510000',
  level: 'provincial',
  roles: ['viewer', 'clerk', 'reviewer', 'approver', 'admin'],
};
const register: AgencyCommand = { type: 'RegisterAgency', data: { agencyId: 'sc-eeb', profile }, metadata };
const registered: AgencyEvent = { type: 'AgencyRegistered', data: { agencyId: 'sc-eeb', profile } };
const revise = (p: AgencyProfile): AgencyCommand => ({
  type: 'ReviseAgency',
  data: { agencyId: 'sc-eeb', profile: p },
  metadata,
});
const retire: AgencyCommand = {
  type: 'RetireAgency',
  data: { agencyId: 'sc-eeb', reason: 'merged' },
  metadata,
};

describe('agency register', () => {
  it('registers an agency once', () => {
    given(agencyDecider).when(register).then(registered);
    given(agencyDecider, registered)
      .when(register)
      .thenThrows({ code: 'agency.already-registered', field: 'agencyId' });
  });

  it('records a revision with the fields it changed, and nothing when nothing changed', () => {
    const renamed = {
      ...profile,
      name: { ...profile.name, en: 'Sichuan Ecology and Environment Department' },
    };
    given(agencyDecider, registered)
      .when(revise(renamed))
      .then({ type: 'AgencyRevised', data: { agencyId: 'sc-eeb', profile: renamed, changed: ['name'] } });
    given(agencyDecider, registered).when(revise(profile)).thenNothing();
  });

  it('refuses to revise or retire an agency that was never registered', () => {
    given(agencyDecider).when(revise(profile)).thenThrows('agency.not-registered');
    given(agencyDecider).when(retire).thenThrows('agency.not-registered');
  });

  it('retires once; back in the directory, a revision reactivates it', () => {
    const retired: AgencyEvent = { type: 'AgencyRetired', data: { agencyId: 'sc-eeb', reason: 'merged' } };
    given(agencyDecider, registered).when(retire).then(retired);
    given(agencyDecider, registered, retired).when(retire).thenNothing();
    given(agencyDecider, registered, retired)
      .when(revise(profile))
      .then({ type: 'AgencyRevised', data: { agencyId: 'sc-eeb', profile, changed: [] } });
    given(agencyDecider, registered, retired)
      .when(revise(profile))
      .thenState({ status: 'active', agencyId: 'sc-eeb', profile });
  });
});
