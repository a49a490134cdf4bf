/**
 * Who may do what on a transfer application (Measures Arts 21–26): the generator for its own credit
 * code, the exporting province's bureau for the completeness check, the review, the letter and the
 * decision, the receiving province's bureau for the reply. Clerks prepare, approvers decide, viewers read.
 */
import {
  AccessDenied,
  authorize,
  defineRule,
  defineVisibilityPolicy,
  everyParty,
  forAgencyKinds,
  party,
  withinJurisdiction,
  type AccessRule,
  type AgencyDirectory,
  type Identity,
  type RecordVisibility,
  type VisibilityPolicy,
} from '@lianfang/auth';
import { provinceOf, sharedBetween, type SharedPlaces, type SharingGrant } from '../agreement/data-sharing';
import type { Generator, TransferCommandType, TransferState } from './decider';

/** What the rules look at on a stored transfer (an application or a filing). */
export interface TransferRecord {
  readonly generator: Generator;
  readonly exportingJurisdiction: string;
  /** Absent on a filing: nobody replies to a filing. */
  readonly receivingJurisdiction?: string;
}

export function recordOf(state: TransferState): TransferRecord | undefined {
  if (state.application)
    return {
      generator: state.application.generator,
      exportingJurisdiction: state.application.exportingJurisdiction,
      receivingJurisdiction: state.application.receivingJurisdiction,
    };
  if (state.filing)
    return { generator: state.filing.generator, exportingJurisdiction: state.filing.exportingJurisdiction };
  return undefined;
}

const ofGenerator = party<TransferRecord>((r) => [r.generator.agencyId]);

/** The generator applies, files and withdraws, for itself only (Art 22). */
export const applyForTransfer = defineRule<TransferRecord>({
  name: 'transfer.apply',
  description: { zh: '申请、备案或撤回危险废物跨省转移', en: 'apply for, file or withdraw a transfer' },
  agencyKinds: ['generator'],
  roles: ['clerk', 'approver'],
  scope: ofGenerator,
});

/** The exporting province's bureau checks completeness and writes to the receiving bureau (Arts 23–24). */
export const prepareTransfer = defineRule<TransferRecord>({
  name: 'transfer.prepare',
  description: {
    zh: '受理、退回补正或发出商请函（移出地省级生态环境主管部门）',
    en: "accept, return or write the consultation letter (the exporting province's bureau)",
  },
  agencyKinds: ['provincial-bureau'],
  roles: ['clerk'],
  scope: forAgencyKinds(
    ['provincial-bureau'],
    withinJurisdiction((r) => [r.exportingJurisdiction]),
  ),
});

/** The exporting province's bureau decides: approval or refusal with reasons (Arts 24–25). */
export const decideTransfer = defineRule<TransferRecord>({
  name: 'transfer.decide',
  description: {
    zh: '批准或不予批准转移申请（移出地省级生态环境主管部门）',
    en: "approve or refuse a transfer (the exporting province's bureau)",
  },
  agencyKinds: ['provincial-bureau'],
  roles: ['approver'],
  scope: forAgencyKinds(
    ['provincial-bureau'],
    withinJurisdiction((r) => [r.exportingJurisdiction]),
  ),
});

/** The receiving province's bureau answers the consultation letter (Art 25). */
export const replyToTransferLetter = defineRule<TransferRecord>({
  name: 'transfer.reply',
  description: {
    zh: '对商请函作出复函（接受地省级生态环境主管部门）',
    en: "reply to the consultation letter (the receiving province's bureau)",
  },
  agencyKinds: ['provincial-bureau'],
  roles: ['approver'],
  scope: forAgencyKinds(
    ['provincial-bureau'],
    withinJurisdiction((r) => (r.receivingJurisdiction ? [r.receivingJurisdiction] : [])),
  ),
});

/** Reading is open to every kind: which rows each sees is the visibility policy's business. */
export const readTransfers = everyParty('transfer.read', {
  zh: '查阅危险废物转移申请',
  en: 'read transfer applications',
});

/** The rule for each command a person may send (timer commands are the system's). */
export const RULE_OF: Readonly<Partial<Record<TransferCommandType, AccessRule<TransferRecord>>>> = {
  SubmitApplication: applyForTransfer,
  SubmitFiling: applyForTransfer,
  WithdrawApplication: applyForTransfer,
  ReturnIncomplete: prepareTransfer,
  AcceptApplication: prepareTransfer,
  SendConsultationLetter: prepareTransfer,
  RefuseApplication: decideTransfer,
  ApproveTransfer: decideTransfer,
  ReplyToLetter: replyToTransferLetter,
};

/**
 * The rule of `command` on `record`, and for the generator's rule its credit code: the directory's code
 * of the caller's agency must be the one the application names (an agency id reused for another
 * enterprise acts for nobody's transfers).
 */
export function authorizeCommand(
  identity: Identity,
  command: TransferCommandType,
  record: TransferRecord,
  directory: AgencyDirectory,
): void {
  const rule = RULE_OF[command];
  if (!rule)
    throw new AccessDenied(
      'transfer.system-only',
      'scope',
      `“${command}”仅由系统计时规则发出`,
      `"${command}" is sent by the system's timers only`,
    );
  authorize(identity, rule, record);
  if (rule === applyForTransfer) {
    const own = directory.agency(identity.agencyId)?.creditCode;
    if (own !== record.generator.creditCode)
      throw new AccessDenied(
        rule.name,
        'scope',
        `无权“${rule.description.zh}”：您的机构统一社会信用代码与申请中的产废单位不符`,
        `not allowed to ${rule.description.en}: your agency's credit code is not the generator's on the application`,
      );
  }
}

/** Whether `identity` may send `command` on `record` now (for nextActions). */
export function mayCommand(
  identity: Identity,
  command: TransferCommandType,
  record: TransferRecord,
  directory: AgencyDirectory,
): boolean {
  try {
    authorizeCommand(identity, command, record, directory);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------
// Visibility

/**
 * Parties (the generator, the receiving facility's operator) see their transfers; provincial and
 * municipal bureaus see those touching their jurisdiction (exporting and receiving provinces, the
 * generator's and the facility's cities); the secretariat sees its region's.
 */
const BASE = {
  party: ['generator', 'receiver'],
  jurisdiction: ['provincial-bureau', 'municipal-bureau'],
} as const;

/**
 * Transport departments see what they were notified of (Art 26), by the notified jurisdictions: a
 * column of its own, so a transport department does not see every application of its province.
 */
const TRANSPORT: VisibilityPolicy = defineVisibilityPolicy({
  party: [],
  jurisdiction: ['transport-department'],
  region: [],
  regionJurisdictions: [],
  columns: { jurisdictions: 'notified_jurisdictions' },
});

const WITHOUT_REGION: VisibilityPolicy = defineVisibilityPolicy({
  ...BASE,
  region: [],
  regionJurisdictions: [],
});

/** The policy that applies to `identity`; the secretariat's region comes from the directory. */
export function transferVisibility(identity: Identity, directory: AgencyDirectory): VisibilityPolicy {
  if (identity.agencyKind === 'transport-department') return TRANSPORT;
  if (identity.agencyKind === 'regional-secretariat') {
    const regionId = directory.agency(identity.agencyId)?.region;
    const region = regionId ? directory.region(regionId) : undefined;
    if (region && region.jurisdictions.length > 0)
      return defineVisibilityPolicy({
        ...BASE,
        region: ['regional-secretariat'],
        regionJurisdictions: region.jurisdictions,
      });
  }
  return WITHOUT_REGION;
}

/** Who sees a transfer, from its state alone (the projection writes the same lists). */
export interface TransferVisibility extends RecordVisibility {
  /** Jurisdictions whose transport department was notified of the approval. */
  readonly notified: readonly string[];
}

export function visibilityOf(state: TransferState): TransferVisibility {
  const agencies = new Set<string>();
  const jurisdictions = new Set<string>();
  const notified = new Set<string>();
  const app = state.application;
  const filing = state.filing;
  const generator = app?.generator ?? filing?.generator;
  if (generator) {
    agencies.add(generator.agencyId);
    if (generator.jurisdiction) jurisdictions.add(generator.jurisdiction);
  }
  const receiver = app?.receiver ?? filing?.receiver;
  if (receiver?.operatorAgencyId) agencies.add(receiver.operatorAgencyId);
  if (receiver?.jurisdiction) jurisdictions.add(receiver.jurisdiction);
  if (app) {
    jurisdictions.add(app.exportingJurisdiction);
    jurisdictions.add(app.receivingJurisdiction);
  }
  if (filing) {
    jurisdictions.add(filing.exportingJurisdiction);
    jurisdictions.add(filing.receivingCity);
  }
  for (const n of state.notified ?? []) if (n.department === 'transport') notified.add(n.jurisdiction);
  return {
    agencies: [...agencies].sort(),
    jurisdictions: [...jurisdictions].sort(),
    notified: [...notified].sort(),
  };
}

// ---------------------------------------------------------------------------------------------------
// Shared under a regional agreement

/*
 * An adopted agreement in force today whose data-sharing clause names the caller's kind for scope
 * 'transfers' (see agreement/data-sharing.ts for who holds a grant) opens, for reading only, the transfers
 * BETWEEN two different member provinces: exporting and receiving province both members of that
 * agreement. An intra-province transfer, or one touching a non-member, stays as the policy above says.
 * Commands still go by RULE_OF alone: a grant adds no write right and no next action.
 */

/**
 * The exporting and receiving provinces of a transfer: an application names both; a filing names the
 * generator's seat and the receiving city.
 */
export function provincesOf(state: TransferState): { exporting?: string; receiving?: string } {
  const app = state.application;
  const filing = state.filing;
  if (app)
    return {
      exporting: provinceOf(app.exportingJurisdiction),
      receiving: provinceOf(app.receivingJurisdiction),
    };
  if (filing)
    return {
      exporting: provinceOf(filing.exportingJurisdiction),
      receiving: provinceOf(filing.receivingCity),
    };
  return {};
}

/** Whether one of `grants` opens a transfer in this state (history, asOf: read from the stream). */
export function sharedUnder(grants: readonly SharingGrant[], state: TransferState): boolean {
  const { exporting, receiving } = provincesOf(state);
  return sharedBetween(grants, exporting, receiving);
}

/**
 * The same places for `sharedFilter` over the transfers read model: the existing jurisdiction columns
 * serve, a filing's receiving province coming from its receiving city.
 */
export const TRANSFER_PLACES: SharedPlaces = {
  from: 'exporting_jurisdiction',
  to: 'COALESCE(receiving_jurisdiction, receiving_city)',
};
