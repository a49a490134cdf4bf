import type { JurisdictionCode } from '@lianfang/domain-kernel';
import type { SqlExecutor } from '@lianfang/eventsourcing';
import { paginate, REFERENCE_DATA, type Connection, type Identity, containmentPattern } from '@lianfang/auth';
import { AgencyStatus, type AgencyNode } from './agency.types';

interface AgencyRow extends Record<string, unknown> {
  agency_id: string;
  kind: string;
  name_zh: string;
  name_en: string;
  jurisdiction: string;
  level: string;
  roles: string[];
  credit_code: string | null;
  status: string;
  registered_at: Date | string;
  updated_at: Date | string;
}

const toNode = (r: AgencyRow): AgencyNode => ({
  id: r.agency_id,
  kind: r.kind,
  name: { zh: r.name_zh, en: r.name_en },
  jurisdiction: r.jurisdiction,
  level: r.level,
  roles: r.roles,
  creditCode: r.credit_code,
  status: r.status === 'retired' ? AgencyStatus.RETIRED : AgencyStatus.ACTIVE,
  registeredAt: new Date(r.registered_at),
  updatedAt: new Date(r.updated_at),
});

/** Reads of the register. The directory is reference data: every authenticated party may read it. */
export class AgencyQueries {
  constructor(
    private readonly sql: SqlExecutor,
    private readonly schema: string,
  ) {}

  private get table() {
    return `${this.schema}.agencies`;
  }

  async byId(id: string): Promise<AgencyNode | null> {
    const { rows } = await this.sql.query<AgencyRow>(`SELECT * FROM ${this.table} WHERE agency_id = $1`, [
      id,
    ]);
    return rows[0] ? toNode(rows[0]) : null;
  }

  async activeIds(): Promise<string[]> {
    const { rows } = await this.sql.query<{ agency_id: string }>(
      `SELECT agency_id FROM ${this.table} WHERE status = 'active' ORDER BY agency_id`,
    );
    return rows.map((r) => r.agency_id);
  }

  /**
   * Filtered by kind, and by jurisdiction (the agencies sitting within it: 510000 lists Sichuan's and its
   * cities'), ordered by id, paged by cursor.
   */
  list(
    identity: Identity,
    filter: { kind?: string | null; jurisdiction?: JurisdictionCode | null; includeRetired?: boolean | null },
    page: { first?: number | null; after?: string | null },
  ): Promise<Connection<AgencyNode>> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (!filter.includeRetired) where.push(`status = 'active'`);
    if (filter.kind) {
      params.push(filter.kind);
      where.push(`kind = $${params.length}`);
    }
    if (filter.jurisdiction) {
      // Within it: a province holds its cities and counties, a city its counties.
      params.push(containmentPattern(filter.jurisdiction));
      where.push(`jurisdiction LIKE $${params.length}`);
    }
    return paginate<AgencyNode, AgencyRow>({
      client: this.sql,
      from: this.table,
      where: where.join(' AND '),
      params,
      orderBy: { column: 'agency_id', direction: 'ASC' },
      idColumn: 'agency_id',
      first: page.first,
      after: page.after,
      identity,
      policy: REFERENCE_DATA,
      map: toNode,
    });
  }
}
