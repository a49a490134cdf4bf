/**
 * The agency register: every party that acts on the platform, as the deployment's directory names it
 * (regions, jurisdictions, agencies). The directory file is the source; it reaches the platform through
 * these commands, so each agency has a history (when it was registered, revised, retired, and by whom).
 */
import { assertNever, DomainError, type Command, type DomainEvent } from '@lianfang/eventsourcing';
import type { AgencyKind, AgencyLevel, Role } from '@lianfang/auth';

export interface AgencyProfile {
  readonly kind: AgencyKind;
  readonly name: { readonly zh: string; readonly en: string };
  readonly jurisdiction: string;
  readonly level: AgencyLevel;
  readonly roles: readonly Role[];
  /** Enterprises (generator, carrier, receiver): unified social credit code. */
  readonly creditCode?: string;
}

export type AgencyCommand =
  | Command<'RegisterAgency', { agencyId: string; profile: AgencyProfile }>
  | Command<'ReviseAgency', { agencyId: string; profile: AgencyProfile }>
  | Command<'RetireAgency', { agencyId: string; reason: string }>;

export type AgencyEvent =
  | DomainEvent<'AgencyRegistered', { agencyId: string; profile: AgencyProfile }>
  | DomainEvent<'AgencyRevised', { agencyId: string; profile: AgencyProfile; changed: string[] }>
  | DomainEvent<'AgencyRetired', { agencyId: string; reason: string }>;

export type AgencyState =
  | { readonly status: 'unregistered' }
  | { readonly status: 'active' | 'retired'; readonly agencyId: string; readonly profile: AgencyProfile };

export const agencyStream = (agencyId: string) => `agency-${agencyId}`;

/** Field names whose values differ, in a stable order (what a revision changed). */
export function changedFields(before: AgencyProfile, after: AgencyProfile): string[] {
  const keys: (keyof AgencyProfile)[] = ['kind', 'name', 'jurisdiction', 'level', 'roles', 'creditCode'];
  return keys.filter((k) => JSON.stringify(before[k] ?? null) !== JSON.stringify(after[k] ?? null));
}

const refuse = (code: string, en: string, zh: string, field?: string) =>
  new DomainError({ code: `agency.${code}`, message: { en, zh }, ...(field ? { field } : {}) });

export const agencyDecider = {
  initialState: (): AgencyState => ({ status: 'unregistered' }),

  decide(command: AgencyCommand, state: AgencyState): AgencyEvent[] {
    switch (command.type) {
      case 'RegisterAgency':
        if (state.status !== 'unregistered')
          throw refuse(
            'already-registered',
            `agency ${command.data.agencyId} is already registered`,
            `机构 ${command.data.agencyId} 已登记`,
            'agencyId',
          );
        return [{ type: 'AgencyRegistered', data: command.data }];
      case 'ReviseAgency': {
        if (state.status === 'unregistered')
          throw refuse(
            'not-registered',
            `agency ${command.data.agencyId} is not registered`,
            `机构 ${command.data.agencyId} 未登记`,
            'agencyId',
          );
        const changed = changedFields(state.profile, command.data.profile);
        // A revision that changes nothing records nothing: syncing the same directory twice is silent.
        if (changed.length === 0 && state.status === 'active') return [];
        return [{ type: 'AgencyRevised', data: { ...command.data, changed } }];
      }
      case 'RetireAgency':
        if (state.status === 'unregistered')
          throw refuse(
            'not-registered',
            `agency ${command.data.agencyId} is not registered`,
            `机构 ${command.data.agencyId} 未登记`,
            'agencyId',
          );
        if (state.status === 'retired') return [];
        return [{ type: 'AgencyRetired', data: command.data }];
      default:
        return assertNever(command);
    }
  },

  evolve(state: AgencyState, event: AgencyEvent): AgencyState {
    switch (event.type) {
      case 'AgencyRegistered':
        return { status: 'active', agencyId: event.data.agencyId, profile: event.data.profile };
      case 'AgencyRevised':
        // A revision of a retired agency (it is back in the directory) reactivates it.
        return { status: 'active', agencyId: event.data.agencyId, profile: event.data.profile };
      case 'AgencyRetired':
        return state.status === 'unregistered' ? state : { ...state, status: 'retired' };
      default:
        return assertNever(event);
    }
  },
};
