import { paginate, REFERENCE_DATA, type Connection, type Identity } from '@lianfang/auth';
import { LocalDate, type BilingualText } from '@lianfang/domain-kernel';
import type { SqlExecutor } from '@lianfang/eventsourcing';
import type { WorkItemType } from './work-item.types';

/**
 * Who must act on an item: one agency by its directory id, an enterprise by its unified social credit
 * code (manifests name carriers and receivers by code), or whichever agency of a kind answers for the
 * item's jurisdiction (bureaus are named by province on a transfer, not by id).
 */
export type WorkItemResponsible =
  { readonly agencyId: string } | { readonly creditCode: string } | { readonly agencyKind: string };

/** An open item as a service's projection writes it. */
export interface WorkItemInput {
  readonly recordType: string;
  readonly recordId: string;
  readonly action: string;
  readonly label: BilingualText;
  readonly party: string;
  readonly jurisdiction: string;
  readonly responsible: WorkItemResponsible;
  /** ISO instant; null: no deadline. */
  readonly dueAt: string | null;
  /** Recorded as missed (a timer or a late act said so). */
  readonly overdue: boolean;
  /**
   * Whether passing `dueAt` makes it overdue. False where the period lapses instead: silence at the
   * completeness check accepts the application (Art 23), so nobody is late.
   */
  readonly overdueAtDue: boolean;
  /** ISO instant the item first appeared; kept while the same item stays open. */
  readonly since: string;
}

/** The agency reading its worklist, with everything an item may name it by. */
export interface WorkItemHolder {
  readonly agencyId: string;
  readonly creditCode: string | null;
  readonly agencyKind: string;
  /** The jurisdictions it answers for (a province's own code; a regional body's member provinces). */
  readonly jurisdictions: readonly string[];
}

/** The columns of a `work_items` table. Create it with `createWorkItemsTable` in a projection's setup. */
export interface WorkItemRow extends Record<string, unknown> {
  item_id: string;
  source: string;
  record_type: string;
  record_id: string;
  action: string;
  label_zh: string;
  label_en: string;
  party: string;
  jurisdiction: string;
  responsible_agency_id: string | null;
  responsible_credit_code: string | null;
  responsible_kind: string | null;
  due_at: Date | string | null;
  due_day_text: string | null;
  recorded_overdue: boolean;
  overdue_at_due: boolean;
  overdue_now: boolean;
  since: Date | string;
}

/**
 * The table and its indexes. `due_sort` is the due time or +infinity: the keyset sort key is NOT NULL,
 * so "no deadline" sorts last and still pages by cursor.
 */
export async function createWorkItemsTable(tx: SqlExecutor, table: string): Promise<void> {
  await tx.query(`CREATE TABLE ${table} (
    item_id text PRIMARY KEY,
    source text NOT NULL,
    record_type text NOT NULL,
    record_id text NOT NULL,
    action text NOT NULL,
    label_zh text NOT NULL,
    label_en text NOT NULL,
    party text NOT NULL,
    jurisdiction text NOT NULL,
    responsible_agency_id text,
    responsible_credit_code text,
    responsible_kind text,
    due_at timestamptz,
    due_day date,
    due_sort timestamptz NOT NULL,
    recorded_overdue boolean NOT NULL,
    overdue_at_due boolean NOT NULL,
    since timestamptz NOT NULL,
    CHECK (num_nonnulls(responsible_agency_id, responsible_credit_code, responsible_kind) = 1)
  )`);
  await tx.query(`CREATE INDEX ON ${table} (source)`);
  await tx.query(`CREATE INDEX ON ${table} (responsible_agency_id) WHERE responsible_agency_id IS NOT NULL`);
  await tx.query(
    `CREATE INDEX ON ${table} (responsible_credit_code) WHERE responsible_credit_code IS NOT NULL`,
  );
  await tx.query(
    `CREATE INDEX ON ${table} (responsible_kind, jurisdiction) WHERE responsible_kind IS NOT NULL`,
  );
  await tx.query(`CREATE INDEX ON ${table} (due_sort, item_id)`);
}

/** One id per (record, action, party, who): the same work keeps its id, and its `since`, across events. */
export function workItemId(item: WorkItemInput): string {
  const r = item.responsible;
  const who =
    'agencyId' in r
      ? `agency:${r.agencyId}`
      : 'creditCode' in r
        ? `code:${r.creditCode}`
        : `${r.agencyKind}:${item.jurisdiction}`;
  return [item.recordType, item.recordId, item.action, item.party, who].join('|');
}

/** The last day to act: deadlines end at 24:00 Asia/Shanghai, i.e. at the start of the next day. */
export function dueDayOf(dueAt: string): string {
  return LocalDate.ofInstant(new Date(Date.parse(dueAt) - 1)).toString();
}

/**
 * Makes `items` the open items of `source` (a record, or whatever else raised them): the others of that
 * source go, new ones come, and an item already open keeps its `since`. Inside the projection's batch.
 */
export async function replaceWorkItems(
  tx: SqlExecutor,
  table: string,
  source: string,
  items: readonly WorkItemInput[],
): Promise<void> {
  const ids = items.map(workItemId);
  await tx.query(`DELETE FROM ${table} WHERE source = $1 AND NOT (item_id = ANY($2::text[]))`, [source, ids]);
  for (const [i, item] of items.entries()) {
    const r = item.responsible;
    await tx.query(
      `INSERT INTO ${table} (item_id, source, record_type, record_id, action, label_zh, label_en, party,
         jurisdiction, responsible_agency_id, responsible_credit_code, responsible_kind, due_at, due_day,
         due_sort, recorded_overdue, overdue_at_due, since)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::timestamptz, $14::date,
         COALESCE($13::timestamptz, 'infinity'::timestamptz), $15, $16, $17)
       ON CONFLICT (item_id) DO UPDATE SET source = $2, label_zh = $6, label_en = $7, due_at = $13::timestamptz,
         due_day = $14::date, due_sort = COALESCE($13::timestamptz, 'infinity'::timestamptz),
         recorded_overdue = $15, overdue_at_due = $16`,
      [
        ids[i],
        source,
        item.recordType,
        item.recordId,
        item.action,
        item.label.zh,
        item.label.en,
        item.party,
        item.jurisdiction,
        'agencyId' in r ? r.agencyId : null,
        'creditCode' in r ? r.creditCode : null,
        'agencyKind' in r ? r.agencyKind : null,
        item.dueAt,
        item.dueAt === null ? null : dueDayOf(item.dueAt),
        item.overdue,
        item.overdueAtDue,
        item.since,
      ],
    );
  }
}

/** Drops every open item of `source` (the record closed, or what raised them is over). */
export async function clearWorkItems(tx: SqlExecutor, table: string, source: string): Promise<void> {
  await tx.query(`DELETE FROM ${table} WHERE source = $1`, [source]);
}

export interface WorkItemPageRequest {
  readonly client: SqlExecutor;
  /** The table (or its view) created by `createWorkItemsTable`: trusted SQL, schema-qualified. */
  readonly table: string;
  readonly holder: WorkItemHolder;
  /** The request's time: what is past due now is overdue. */
  readonly now: Date;
  readonly overdueOnly?: boolean | null;
  readonly first?: number | null;
  readonly after?: string | null;
  /** The caller, already authorized to read the holder's worklist. */
  readonly identity: Identity;
}

const toWorkItem = (r: WorkItemRow): WorkItemType => ({
  id: r.item_id,
  recordType: r.record_type,
  recordId: r.record_id,
  action: r.action,
  label: { zh: r.label_zh, en: r.label_en },
  dueAt: r.due_at === null ? null : new Date(r.due_at),
  dueDay: r.due_day_text,
  overdue: r.overdue_now,
  since: new Date(r.since),
  party: r.party,
  jurisdiction: r.jurisdiction,
});

/**
 * One page of the holder's open items, by due date (no deadline last), then id. The holder condition
 * is the whole row filter, in SQL before ORDER BY, LIMIT and count: items of other agencies never reach
 * a page, a count or a cursor. Authorize the caller for the holder first (only the agency itself reads
 * its worklist); the rows carry no visibility columns of their own for that reason.
 */
export function workItemPage(request: WorkItemPageRequest): Promise<Connection<WorkItemType>> {
  const { holder } = request;
  const params: unknown[] = [
    holder.agencyId,
    holder.creditCode,
    holder.agencyKind,
    [...holder.jurisdictions],
  ];
  // The select list and the count share no parameter list, so the request's time is a literal: an ISO
  // string made by Date (digits, '-', ':', '.', 'T', 'Z'), never caller text.
  const now = `'${request.now.toISOString()}'::timestamptz`;
  const overdueNow = `(recorded_overdue OR (overdue_at_due AND due_at < ${now}))`;
  const where = [
    `(responsible_agency_id = $1 OR responsible_credit_code = $2 OR
      (responsible_kind = $3 AND jurisdiction = ANY($4::text[])))`,
    ...(request.overdueOnly ? [overdueNow] : []),
  ].join(' AND ');
  return paginate<WorkItemType, WorkItemRow>({
    client: request.client,
    from: request.table,
    select: `*, due_day::text AS due_day_text, ${overdueNow} AS overdue_now`,
    where,
    params,
    orderBy: { column: 'due_sort', direction: 'ASC' },
    idColumn: 'item_id',
    first: request.first,
    after: request.after,
    identity: request.identity,
    // The holder condition above is the filter: see the doc comment.
    policy: REFERENCE_DATA,
    map: toWorkItem,
  });
}
