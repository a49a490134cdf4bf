import { Inject, Injectable } from '@nestjs/common';
import {
  isVisible,
  paginate,
  REFERENCE_DATA,
  visibilityFilter,
  type AgencyDirectory,
  type Connection,
  type Identity,
  type SqlFragment,
} from '@lianfang/auth';
import type { BilingualText } from '@lianfang/domain-kernel';
import { AGENCY_DIRECTORY, PLATFORM, type Platform } from '@lianfang/runtime';
import { AgreementDataSharing, visibleOrShared } from '../agreement/data-sharing';
import {
  nextActions,
  type OverdueStep,
  type TransferCommandType,
  type TransferState,
  type TransferStep,
} from './decider';
import {
  mayCommand,
  recordOf,
  sharedUnder,
  TRANSFER_PLACES,
  transferVisibility,
  visibilityOf,
} from './transfer.rules';
import {
  TransferAttachmentKindEnum,
  TransferRouteEnum,
  TransferStatusEnum,
  type TransferNode,
} from './transfer.types';

/** Each person's command as the mutation that sends it, with its label (the console and worklist show it). */
export const TRANSFER_ACTIONS: Readonly<
  Partial<Record<TransferCommandType, { code: string; label: BilingualText }>>
> = {
  ReturnIncomplete: {
    code: 'returnTransferIncomplete',
    label: { zh: '退回补正', en: 'return as incomplete' },
  },
  AcceptApplication: { code: 'acceptTransferApplication', label: { zh: '受理', en: 'accept' } },
  SendConsultationLetter: {
    code: 'sendConsultationLetter',
    label: { zh: '发出商请函', en: 'send the consultation letter' },
  },
  RefuseApplication: {
    code: 'refuseTransferApplication',
    label: { zh: '不予批准', en: 'refuse' },
  },
  ReplyToLetter: { code: 'replyToConsultationLetter', label: { zh: '复函', en: 'reply to the letter' } },
  ApproveTransfer: { code: 'approveTransfer', label: { zh: '批准转移', en: 'approve the transfer' } },
  WithdrawApplication: {
    code: 'withdrawTransferApplication',
    label: { zh: '撤回申请', en: 'withdraw the application' },
  },
};

/** What a row adds to the folded state. */
export interface TransferMeta {
  readonly submittedAt: Date;
  readonly updatedAt: Date;
}

/** The transfer as `identity` sees it at `now`: next actions are only those it may take. */
export function transferNode(
  id: string,
  state: TransferState,
  meta: TransferMeta,
  identity: Identity,
  directory: AgencyDirectory,
  now: Date,
): TransferNode {
  const app = state.application;
  const filing = state.filing;
  const record = recordOf(state);
  const generator = (app ?? filing)?.generator;
  const receiver = app?.receiver ?? filing?.receiver;
  const passed = (step: TransferStep, dueAt: string) =>
    step !== 'completeness' &&
    (state.overdue.includes(step as OverdueStep) || now.getTime() >= Date.parse(dueAt));
  const dueDates = Object.values(state.dueDates).map((d) => ({
    step: d.step,
    workingDays: d.workingDays,
    lastDay: d.lastDay,
    dueAt: new Date(d.dueAt),
    provisional: d.provisional,
    responsibleJurisdiction: d.responsibleJurisdiction,
    overdue: passed(d.step, d.dueAt),
  }));
  const actions = record
    ? nextActions(state, now).flatMap((a) => {
        const action = TRANSFER_ACTIONS[a.command];
        if (!action || !mayCommand(identity, a.command, record, directory)) return [];
        return [
          {
            code: action.code,
            label: { ...action.label },
            dueAt: a.dueAt ? new Date(a.dueAt) : null,
            overdue: a.overdue,
          },
        ];
      })
    : [];
  return {
    id,
    status: state.status as TransferStatusEnum,
    path: filing ? 'filing' : state.whitelist ? 'whitelist' : 'letter',
    route: (state.route as TransferRouteEnum | undefined) ?? null,
    generator: {
      agencyId: generator?.agencyId ?? '',
      creditCode: generator?.creditCode ?? '',
      jurisdiction: generator?.jurisdiction ?? null,
    },
    exportingJurisdiction: app?.exportingJurisdiction ?? filing?.exportingJurisdiction ?? '',
    receivingJurisdiction: app?.receivingJurisdiction ?? null,
    receivingCity: filing?.receivingCity ?? null,
    receiver: {
      facilityId: receiver?.facilityId ?? '',
      licenceValidUntil: app?.receiver.licenceValidUntil ?? null,
      jurisdiction: receiver?.jurisdiction ?? null,
      operatorAgencyId: receiver?.operatorAgencyId ?? null,
    },
    lines: (app?.lines ?? []).map((l) => ({ ...l })),
    filingLines: (filing?.lines ?? []).map((l) => ({ ...l })),
    totalKg: app?.totalKg ?? filing?.totalKg ?? '0.000',
    method: app?.method ?? null,
    window: { ...(app?.window ?? filing?.window ?? { from: '', to: '' }) },
    attachments: (app?.attachments ?? filing?.attachments ?? []).map((a) => ({
      ...a,
      kind: a.kind as TransferAttachmentKindEnum,
    })),
    whitelist: state.whitelist
      ? {
          entryId: state.whitelist.entryId,
          agreementId: state.whitelist.agreementId ?? null,
          remainingKg: state.whitelist.remainingKg,
          withinEntry: state.whitelist.withinEntry,
        }
      : null,
    acceptedOn: state.acceptedOn ?? null,
    reply: state.reply ? { consent: state.reply.consent, reasons: [...state.reply.reasons] } : null,
    approval: state.approval
      ? { ...state.approval, lines: state.approval.lines.map((l) => ({ ...l })) }
      : null,
    dueDates,
    overdue: dueDates.filter((d) => d.overdue).map((d) => d.step),
    nextActions: actions,
    submittedAt: meta.submittedAt,
    updatedAt: meta.updatedAt,
  };
}

interface TransferRow extends Record<string, unknown> {
  transfer_id: string;
  state: TransferState | string;
  submitted_at: Date | string;
  updated_at: Date | string;
}

export interface TransferFilter {
  readonly status?: string | null;
  readonly route?: string | null;
  readonly exportingJurisdiction?: string | null;
  readonly receivingJurisdiction?: string | null;
  readonly facilityId?: string | null;
  readonly wasteCode?: string | null;
  readonly overdueOnly?: boolean | null;
}

/** Reads of the transfers read model, always through the caller's visibility (in SQL). */
@Injectable()
export class TransferQueries {
  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(AGENCY_DIRECTORY) private readonly directory: AgencyDirectory,
    @Inject(AgreementDataSharing) private readonly sharing: AgreementDataSharing,
  ) {}

  private get table() {
    return `${this.platform.schema}.transfers`;
  }

  private node(row: TransferRow, identity: Identity, now: Date): TransferNode {
    // Drivers differ: jsonb may arrive parsed or as text.
    const state = (typeof row.state === 'string' ? JSON.parse(row.state) : row.state) as TransferState;
    return transferNode(
      row.transfer_id,
      state,
      { submittedAt: new Date(row.submitted_at), updatedAt: new Date(row.updated_at) },
      identity,
      this.directory,
      now,
    );
  }

  /**
   * Who sees which rows, in SQL: the visibility policy, or a data-sharing grant of an agreement in force
   * today (transfer.rules.ts, "Shared under a regional agreement").
   */
  private async readable(identity: Identity, firstParamIndex: number): Promise<SqlFragment> {
    const visible = visibilityFilter(identity, transferVisibility(identity, this.directory), firstParamIndex);
    const grants = await this.sharing.grantsFor(identity, 'transfers');
    return visibleOrShared(visible, firstParamIndex, grants, TRANSFER_PLACES);
  }

  /** The transfer, or null when it does not exist or the caller may not see it (the same answer). */
  async byId(identity: Identity, id: string, now = new Date()): Promise<TransferNode | null> {
    const visible = await this.readable(identity, 2);
    const { rows } = await this.platform.sql.query<TransferRow>(
      `SELECT transfer_id, state, submitted_at, updated_at FROM ${this.table}
       WHERE transfer_id = $1 AND ${visible.sql}`,
      [id, ...visible.params],
    );
    return rows[0] ? this.node(rows[0], identity, now) : null;
  }

  /** Newest first; only rows the caller may see reach a page, a count or a cursor. */
  async list(
    identity: Identity,
    filter: TransferFilter,
    page: { first?: number | null; after?: string | null },
    now = new Date(),
  ): Promise<Connection<TransferNode>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const eq = (column: string, value: string | null | undefined) => {
      if (value === null || value === undefined || value === '') return;
      params.push(value);
      where.push(`${column} = $${params.length}`);
    };
    eq('status', filter.status);
    eq('route', filter.route);
    eq('exporting_jurisdiction', filter.exportingJurisdiction);
    eq('receiving_jurisdiction', filter.receivingJurisdiction);
    eq('facility_id', filter.facilityId);
    if (filter.wasteCode) {
      params.push(filter.wasteCode.trim());
      where.push(`$${params.length} = ANY(waste_codes)`);
    }
    if (filter.overdueOnly) {
      // Recorded misses, and open steps past their due time that no timer has recorded yet.
      params.push(now.toISOString());
      where.push(`(cardinality(overdue_steps) > 0 OR EXISTS (
        SELECT 1 FROM jsonb_each(due_dates) AS d(step, due)
        WHERE d.step <> 'completeness' AND (d.due->>'dueAt')::timestamptz <= $${params.length}::timestamptz))`);
    }
    // Visibility (policy OR grant) is part of the list's own condition, so it reaches the page, the
    // count and the cursor alike; paginate adds nothing more (REFERENCE_DATA).
    const visible = await this.readable(identity, params.length + 1);
    where.push(visible.sql);
    params.push(...visible.params);
    return paginate<TransferNode, TransferRow>({
      client: this.platform.sql,
      from: this.table,
      select: 'transfer_id, state, submitted_at, updated_at',
      where: where.join(' AND '),
      params,
      orderBy: { column: 'submitted_at', direction: 'DESC' },
      idColumn: 'transfer_id',
      first: page.first,
      after: page.after,
      identity,
      policy: REFERENCE_DATA,
      map: (row) => this.node(row, identity, now),
    });
  }

  /**
   * Whether `identity` may see a transfer in this state (history, asOf: read from the stream): the same
   * decision as the SQL, the grant judged today.
   */
  async canSee(identity: Identity, state: TransferState): Promise<boolean> {
    const policy = transferVisibility(identity, this.directory);
    const v = visibilityOf(state);
    const jurisdictions = identity.agencyKind === 'transport-department' ? v.notified : v.jurisdictions;
    if (isVisible(identity, policy, { agencies: v.agencies, jurisdictions })) return true;
    return sharedUnder(await this.sharing.grantsFor(identity, 'transfers'), state);
  }

  /** The parties whose record it is, for the access log. */
  owners(state: TransferState): string[] {
    return [...visibilityOf(state).agencies];
  }

  get agencyDirectory(): AgencyDirectory {
    return this.directory;
  }
}
