import {
  fold,
  handleCommand,
  systemActor,
  type EventStore,
  type RecordedEvent,
} from '@lianfang/eventsourcing';
import { deterministicUuid } from '@lianfang/messaging';
import {
  agencyDecider,
  agencyStream,
  type AgencyCommand,
  type AgencyEvent,
  type AgencyProfile,
} from './decider';

export interface DirectoryEntry {
  readonly agencyId: string;
  readonly profile: AgencyProfile;
}

export interface DirectorySyncResult {
  readonly registered: number;
  readonly revised: number;
  readonly retired: number;
  readonly unchanged: number;
}

const ACTOR = 'directory-sync';

/**
 * Brings the register in line with the deployment's directory, through commands: register the new,
 * revise the changed, retire those no longer listed. Command ids are derived from the stream's version
 * and the entry, so a sync interrupted and run again (or run by two instances at once) records each
 * change once.
 */
export async function syncAgencyDirectory(options: {
  store: EventStore;
  entries: readonly DirectoryEntry[];
  /** Agencies currently active in the register (its read model), for retirement. */
  activeAgencyIds: readonly string[];
  now: Date;
  correlationId: string;
  onProgress?: (done: number, total: number) => void;
}): Promise<DirectorySyncResult> {
  const { store, entries, now, correlationId } = options;
  const counts = { registered: 0, revised: 0, retired: 0, unchanged: 0 };
  const listed = new Set(entries.map((e) => e.agencyId));
  const toRetire = options.activeAgencyIds.filter((id) => !listed.has(id));
  const total = entries.length + toRetire.length;
  let done = 0;

  const run = async (agencyId: string, build: (version: bigint | undefined) => AgencyCommand) => {
    const { events, version } = await store.readStream(agencyStream(agencyId));
    const command = build(version);
    if (command) {
      const result = await handleCommand({
        store,
        decider: agencyDecider,
        streamId: agencyStream(agencyId),
        command,
      });
      return result.replayed ? 'unchanged' : result.events.length === 0 ? 'unchanged' : command.type;
    }
    void events;
    return 'unchanged';
  };
  const metadata = (agencyId: string, version: bigint | undefined, what: string) => ({
    commandId: deterministicUuid('lianfang.directory-sync.v1', agencyId, String(version ?? -1n), what),
    now,
    actor: systemActor(ACTOR),
    correlationId,
  });

  for (const entry of entries) {
    const outcome = await run(entry.agencyId, (version) => {
      const what = JSON.stringify(entry.profile);
      return version === undefined
        ? { type: 'RegisterAgency', data: entry, metadata: metadata(entry.agencyId, version, what) }
        : { type: 'ReviseAgency', data: entry, metadata: metadata(entry.agencyId, version, what) };
    });
    if (outcome === 'RegisterAgency') counts.registered++;
    else if (outcome === 'ReviseAgency') counts.revised++;
    else counts.unchanged++;
    options.onProgress?.(++done, total);
  }
  for (const agencyId of toRetire) {
    const reason = 'no longer listed in the directory / 已不在机构名录中';
    const outcome = await run(agencyId, (version) => ({
      type: 'RetireAgency',
      data: { agencyId, reason },
      metadata: metadata(agencyId, version, 'retire'),
    }));
    if (outcome === 'RetireAgency') counts.retired++;
    else counts.unchanged++;
    options.onProgress?.(++done, total);
  }
  return counts;
}

/** The profile an agency's stream holds now (for tests and the history view). */
export function profileOf(events: readonly RecordedEvent[]): AgencyProfile | undefined {
  const state = fold(
    agencyDecider,
    events.map((e) => ({ type: e.type, data: e.data }) as AgencyEvent),
  );
  return state.status === 'unregistered' ? undefined : state.profile;
}
