import { LocalDate, Money, Quantity } from '@lianfang/domain-kernel';
import type { SqlExecutor } from '@lianfang/eventsourcing';
import {
  paginate,
  visibilityFilter,
  type Connection,
  type Identity,
  type VisibilityPolicy,
} from '@lianfang/auth';
import type { AgreementRecord } from './agreement.record';
import {
  AgreementStatusEnum,
  type AgreementClausesType,
  type AgreementNode,
  type AgreementSignatureType,
} from './agreement.types';
import type { AgreementClauses } from './clauses';

const STATUSES: Readonly<Record<string, AgreementStatusEnum>> = {
  proposed: AgreementStatusEnum.PROPOSED,
  adopted: AgreementStatusEnum.ADOPTED,
  rejected: AgreementStatusEnum.REJECTED,
  expired: AgreementStatusEnum.EXPIRED,
};

export function clausesOut(clauses: AgreementClauses): AgreementClausesType {
  return {
    whitelist: clauses.whitelist.map((e) => ({
      entryId: e.entryId,
      exportingMember: e.exportingMember,
      receivingFacilityId: e.receivingFacilityId,
      wasteCodes: [...e.wasteCodes],
      quantityKg: e.quantityKg,
      tonnes: Quantity.parseOrThrow(e.quantityKg).toTonnesString(),
      year: e.year,
    })),
    compensationRates: clauses.compensationRates.map((r) => ({
      wasteClassOrCategory: r.wasteClassOrCategory,
      fenPerTonne: r.fenPerTonne,
      yuanPerTonne: Money.fromFen(BigInt(r.fenPerTonne)).toYuanString(),
      payer: r.payer,
      payees: r.payees.map((p) => ({ jurisdiction: p.jurisdiction, shareBasisPoints: p.shareBasisPoints })),
      from: r.from,
      to: r.to,
    })),
    tolerance: { percentBasisPoints: clauses.tolerance.percentBasisPoints, kg: clauses.tolerance.kg },
    maxTransitDays: clauses.maxTransitDays,
    dataSharing: clauses.dataSharing.map((d) => ({
      member: d.member,
      agencyKind: d.agencyKind,
      scope: d.scope,
    })),
  };
}

const signaturesOf = (
  members: readonly string[],
  signedBy: readonly string[],
  times: Readonly<Record<string, string>>,
): AgreementSignatureType[] =>
  members.map((member) => ({
    member,
    signed: signedBy.includes(member),
    signedAt: times[member] ? new Date(times[member]) : null,
  }));

/** The node people read, from the folded record; null for an agreement never proposed. */
export function agreementNodeOf(record: AgreementRecord): AgreementNode | null {
  const s = record.state;
  if (s.status === 'none') return null;
  return {
    id: s.agreementId,
    title: { zh: s.title.zh, en: s.title.en },
    status: STATUSES[s.status] ?? AgreementStatusEnum.PROPOSED,
    secretariatId: s.secretariatId,
    members: [...s.members],
    effectiveFrom: s.effectiveFrom,
    validUntil: s.validUntil,
    signatures: signaturesOf(s.members, s.signedBy, record.signedAt),
    rejection: s.rejection
      ? {
          member: s.rejection.member,
          reason: s.rejection.reason,
          rejectedAt: record.rejectedAt ? new Date(record.rejectedAt) : null,
        }
      : null,
    proposedClauses: clausesOut(s.proposedClauses),
    versions: s.versions.map((v) => ({
      effectiveFrom: v.effectiveFrom,
      amendmentId: v.amendmentId,
      clauses: clausesOut(v.clauses),
    })),
    pendingAmendment: s.pendingAmendment
      ? {
          amendmentId: s.pendingAmendment.amendmentId,
          effectiveFrom: s.pendingAmendment.effectiveFrom,
          validUntil: s.pendingAmendment.validUntil,
          clauses: clausesOut(s.pendingAmendment.clauses),
          signatures: signaturesOf(s.members, s.pendingAmendment.signedBy, record.amendmentSignedAt),
        }
      : null,
    proposedAt: record.proposedAt ? new Date(record.proposedAt) : null,
    updatedAt: record.updatedAt ? new Date(record.updatedAt) : null,
    record,
  };
}

interface AgreementRow extends Record<string, unknown> {
  agreement_id: string;
  record: unknown;
}

const json = <T>(value: unknown): T => (typeof value === 'string' ? JSON.parse(value) : value) as T;

const toNode = (row: AgreementRow): AgreementNode => {
  const node = agreementNodeOf(json<AgreementRecord>(row.record));
  if (!node) throw new Error(`agreement row ${row.agreement_id} holds no agreement / 协议读模型行为空`);
  return node;
};

export interface AgreementFilter {
  readonly status?: AgreementStatusEnum | null;
  /** A member province: agreements it is party to. */
  readonly member?: string | null;
  /** In force on that day: adopted (or since expired) and the day within its term. */
  readonly onDate?: LocalDate | null;
}

/** Reads of the agreements read model; every read filtered by the caller's visibility in SQL. */
export class AgreementQueries {
  constructor(
    private readonly sql: SqlExecutor,
    private readonly schema: string,
  ) {}

  private get table() {
    return `${this.schema}.agreements`;
  }

  /** The agreement if the caller may see it; null otherwise (a hidden agreement is not told apart). */
  async visibleById(identity: Identity, policy: VisibilityPolicy, id: string): Promise<AgreementNode | null> {
    const visible = visibilityFilter(identity, policy, 2);
    const { rows } = await this.sql.query<AgreementRow>(
      `SELECT agreement_id, record FROM ${this.table} WHERE agreement_id = $1 AND ${visible.sql}`,
      [id, ...visible.params],
    );
    return rows[0] ? toNode(rows[0]) : null;
  }

  /** The agreement whatever the caller: only after the caller was authorized on it (its own write). */
  async byId(id: string): Promise<AgreementNode | null> {
    const { rows } = await this.sql.query<AgreementRow>(
      `SELECT agreement_id, record FROM ${this.table} WHERE agreement_id = $1`,
      [id],
    );
    return rows[0] ? toNode(rows[0]) : null;
  }

  list(
    identity: Identity,
    policy: VisibilityPolicy,
    filter: AgreementFilter,
    page: { first?: number | null; after?: string | null },
  ): Promise<Connection<AgreementNode>> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status) {
      params.push(filter.status);
      where.push(`status = $${params.length}`);
    }
    if (filter.member) {
      params.push(filter.member);
      where.push(`members @> ARRAY[$${params.length}::text]`);
    }
    if (filter.onDate) {
      params.push(filter.onDate.toString());
      const day = `$${params.length}::date`;
      where.push(
        `status IN ('adopted', 'expired') AND effective_from <= ${day} AND (valid_until IS NULL OR valid_until >= ${day})`,
      );
    }
    return paginate<AgreementNode, AgreementRow>({
      client: this.sql,
      from: this.table,
      select:
        'agreement_id, record, status, members, effective_from, valid_until, visible_agencies, visible_jurisdictions',
      where: where.join(' AND '),
      params,
      orderBy: { column: 'agreement_id', direction: 'ASC' },
      idColumn: 'agreement_id',
      first: page.first,
      after: page.after,
      identity,
      policy,
      map: toNode,
    });
  }
}
