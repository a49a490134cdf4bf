import { Inject, Injectable } from '@nestjs/common';
import type { Identity, RequestContext } from '@lianfang/auth';
import {
  Aggregates,
  compareLogPositions,
  type Command,
  type LogPosition,
  type StreamBinding,
} from '@lianfang/eventsourcing';
import { describeError, userCommandMetadata } from '@lianfang/graph';
import { deterministicUuid } from '@lianfang/messaging';
import {
  facilityStream,
  type FacilityCommand,
  type FacilityEvent,
  type FacilityProfileInput,
  type FacilityState,
} from '../decider';
import { scopedFacilityDecider } from '../facility.commands';
import { FacilityReadModel } from '../facility.projection';
import { FacilityQueries } from '../facility.queries';
import { readLicenceCsv, type ImportProblem, type LicenceColumn, type LicenceGroup } from './licence-csv';

export type ImportOutcome = 'registered' | 'updated' | 'unchanged';

export interface FacilityImportReport {
  readonly dryRun: boolean;
  readonly accepted: boolean;
  readonly rows: number;
  readonly facilities: number;
  readonly registered: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly problems: readonly ImportProblem[];
  readonly entries: readonly {
    licenceNumber: string;
    facilityId: string;
    outcome: ImportOutcome;
    lines: number[];
  }[];
}

/** Facilities per atomic append: large enough to import 10,000 rows in seconds, small enough to retry. */
export const IMPORT_BATCH = 100;

const IMPORT_REASON = '许可证批量导入 / licence import';

/** A facility imported from its licence has an id derived from the licence number: a re-import finds it. */
export function licenceFacilityId(licenceNumber: string): string {
  return deterministicUuid('transfer-service.facility-licence', licenceNumber);
}

/** The registration of a new licence, or the licence as it now stands for a recorded one. */
function commandFor(
  state: FacilityState,
  facilityId: string,
  profile: FacilityProfileInput,
  metadata: FacilityCommand['metadata'],
): FacilityCommand {
  return state.status === 'unregistered'
    ? { type: 'RegisterFacility', data: { facilityId, profile }, metadata }
    : { type: 'UpdateFacility', data: { facilityId, changes: profile, reason: IMPORT_REASON }, metadata };
}

const outcomeOf = (events: readonly { type: string }[]): ImportOutcome =>
  events.some((e) => e.type === 'FacilityRegistered')
    ? 'registered'
    : events.some((e) => e.type === 'FacilityUpdated')
      ? 'updated'
      : 'unchanged';

type ImportBatch = Command<
  'ImportFacilityLicences',
  { facilities: { facilityId: string; profile: FacilityProfileInput }[] }
>;

interface Planned {
  readonly group: LicenceGroup;
  readonly facilityId: string;
  readonly outcome: ImportOutcome;
}

/**
 * Bulk import of existing licences (the CSV of licence-csv.ts). All or nothing at validation: every bad
 * row is reported and nothing is stored while any row is bad. Then batches of facilities, each one
 * atomic append across their streams, every facility decided by the same scoped decider as the
 * mutations (so the caller's province is checked on every record). A re-import of the same file
 * decides nothing new: unchanged licences record no event.
 */
@Injectable()
export class FacilityImport {
  constructor(
    @Inject(Aggregates) private readonly aggregates: Aggregates,
    @Inject(FacilityQueries) private readonly queries: FacilityQueries,
    @Inject(FacilityReadModel) private readonly readModel: FacilityReadModel,
  ) {}

  async run(input: {
    readonly identity: Identity;
    readonly context: Pick<RequestContext, 'correlationId'>;
    readonly idempotencyKey: string;
    readonly csv: string;
    readonly dryRun: boolean;
  }): Promise<FacilityImportReport> {
    const { identity, dryRun } = input;
    const file = readLicenceCsv(input.csv);
    const problems: ImportProblem[] = [...file.problems];
    const heading = (c: LicenceColumn) => file.headings[c] ?? c;
    const now = new Date();
    // One commandId per batch: a retried request (same key) replays what was stored, never twice.
    const metadata = (step: string) =>
      userCommandMetadata({
        identity,
        context: input.context,
        scope: 'transfer-service.facility-import',
        idempotencyKey: `${input.idempotencyKey}#${step}`,
        now,
      });

    // Where each licence lives now: a facility registered by hand keeps its id.
    const recorded = await this.queries.statesByLicence(file.groups.map((g) => g.licenceNumber));
    const byLicence = new Map<string, { facilityId: string; state: FacilityState }[]>();
    for (const r of recorded) byLicence.set(r.licenceNumber, [...(byLicence.get(r.licenceNumber) ?? []), r]);

    // The decider's verdict on every licence, before anything is stored (the append decides again).
    const check = metadata('check');
    const planned: Planned[] = [];
    for (const group of file.groups) {
      const found = byLicence.get(group.licenceNumber) ?? [];
      if (found.length > 1) {
        problems.push({
          line: group.lines[0],
          column: heading('licenceNumber'),
          field: 'licenceNumber',
          rule: 'facility-import.licence-ambiguous',
          message: {
            en: `licence ${group.licenceNumber} is recorded for ${found.length} facilities; correct them by hand first`,
            zh: `许可证 ${group.licenceNumber} 登记在 ${found.length} 个设施下，请先逐一更正`,
          },
          value: group.licenceNumber,
        });
        continue;
      }
      const facilityId = found[0]?.facilityId ?? licenceFacilityId(group.licenceNumber);
      const state = found[0]?.state ?? { status: 'unregistered' };
      try {
        const events = scopedFacilityDecider(identity).decide(
          commandFor(state, facilityId, group.profile, check),
          state,
        );
        planned.push({ group, facilityId, outcome: outcomeOf(events) });
      } catch (error) {
        problems.push(refusalProblem(group, error, heading));
      }
    }

    const base = { dryRun, rows: file.rows, facilities: file.groups.length };
    if (problems.length > 0 || file.rows === 0) {
      problems.sort((a, b) => a.line - b.line);
      return { ...base, accepted: false, registered: 0, updated: 0, unchanged: 0, problems, entries: [] };
    }

    const outcomes = new Map<string, ImportOutcome>(planned.map((p) => [p.facilityId, p.outcome]));
    if (!dryRun) {
      let last: LogPosition | undefined;
      for (let i = 0; i < planned.length; i += IMPORT_BATCH) {
        const batch = planned.slice(i, i + IMPORT_BATCH);
        const result = await this.importBatch(identity, batch, metadata(`batch-${i / IMPORT_BATCH}`));
        for (const p of batch)
          outcomes.set(
            p.facilityId,
            outcomeOf(result.events.filter((e) => e.streamId === facilityStream(p.facilityId))),
          );
        if (!last || compareLogPositions(result.lastLogPosition, last) > 0) last = result.lastLogPosition;
      }
      // Read-your-writes: the facilities list shows the import when the mutation answers.
      if (last) await this.readModel.waitFor(last);
    }

    const entries = planned.map((p) => ({
      licenceNumber: p.group.licenceNumber,
      facilityId: p.facilityId,
      outcome: outcomes.get(p.facilityId) ?? p.outcome,
      lines: [...p.group.lines],
    }));
    const count = (o: ImportOutcome) => entries.filter((e) => e.outcome === o).length;
    return {
      ...base,
      accepted: true,
      registered: count('registered'),
      updated: count('updated'),
      unchanged: count('unchanged'),
      problems: [],
      entries,
    };
  }

  /** One atomic append over the batch's facility streams, each decided from its own loaded state. */
  private importBatch(identity: Identity, batch: readonly Planned[], metadata: ImportBatch['metadata']) {
    const decider = scopedFacilityDecider(identity);
    const streams: Record<string, StreamBinding<FacilityEvent, FacilityState>> = {};
    batch.forEach((p, i) => {
      streams[`f${i}`] = { streamId: facilityStream(p.facilityId), decider };
    });
    const command: ImportBatch = {
      type: 'ImportFacilityLicences',
      data: { facilities: batch.map((p) => ({ facilityId: p.facilityId, profile: p.group.profile })) },
      metadata,
    };
    return this.aggregates.handleAcross({
      command,
      streams,
      // Unchanged licences need not hold the batch back if they moved meanwhile.
      guardUnchangedStreams: false,
      decide: (cmd, states) => {
        const decided: Record<string, FacilityEvent[]> = {};
        cmd.data.facilities.forEach(({ facilityId, profile }, i) => {
          const state = (states as Record<string, FacilityState>)[`f${i}`];
          decided[`f${i}`] = decider.decide(commandFor(state, facilityId, profile, cmd.metadata), state);
        });
        return decided;
      },
    });
  }
}

const FIELD_COLUMNS: Readonly<Record<string, LicenceColumn>> = {
  name: 'nameZh',
  licenceNumber: 'licenceNumber',
  facilityId: 'licenceNumber',
  operatorCreditCode: 'operatorCreditCode',
  jurisdiction: 'jurisdiction',
  'coordinates.lat': 'lat',
  'coordinates.lon': 'lon',
  validFrom: 'validFrom',
  validTo: 'validTo',
};

/** A refusal of the decider (or of the caller's scope) for a licence, placed at its line and column. */
function refusalProblem(
  group: LicenceGroup,
  error: unknown,
  heading: (c: LicenceColumn) => string,
): ImportProblem {
  const described = describeError(error);
  if (!described) throw error;
  const field = described.field ?? '';
  const entry = /^licensed\[(\d+)\]\.(category|annualCapacityTonnes|wasteCodes)/.exec(field);
  const column: LicenceColumn | undefined = entry
    ? (entry[2] as LicenceColumn)
    : described.category === 'FORBIDDEN'
      ? 'jurisdiction'
      : FIELD_COLUMNS[field];
  const line = entry ? (group.categoryLines[Number(entry[1])] ?? group.lines[0]) : group.lines[0];
  return {
    line,
    column: column ? heading(column) : null,
    field: column ?? (described.field || null),
    rule: described.rule ?? described.code,
    message: { en: described.messages.en, zh: described.messages.zh },
    value: null,
  };
}
