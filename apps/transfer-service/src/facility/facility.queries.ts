import type { JurisdictionCode } from '@lianfang/domain-kernel';
import type { SqlExecutor } from '@lianfang/eventsourcing';
import { paginate, REFERENCE_DATA, type Connection, type Identity, containmentPattern } from '@lianfang/auth';
import type { FacilityState, LicensedCategory } from './decider';
import { FacilityStatusEnum, type FacilityNode } from './facility.types';

interface FacilityRow extends Record<string, unknown> {
  facility_id: string;
  name_zh: string | null;
  name_en: string | null;
  licence_number: string;
  operator_credit_code: string;
  jurisdiction: string;
  lat: string;
  lon: string;
  licensed_categories: string[];
  status: string;
  status_reason: string | null;
  valid_from_text: string;
  valid_to_text: string;
  capacity: LicensedCategory[] | string;
  updated_at: Date | string;
}

const STATUSES: Readonly<Record<string, FacilityStatusEnum>> = {
  active: FacilityStatusEnum.ACTIVE,
  suspended: FacilityStatusEnum.SUSPENDED,
  revoked: FacilityStatusEnum.REVOKED,
};

const toNode = (r: FacilityRow): FacilityNode => {
  // Drivers differ: jsonb may arrive parsed or as text.
  const licensed = (
    typeof r.capacity === 'string' ? JSON.parse(r.capacity) : r.capacity
  ) as LicensedCategory[];
  return {
    id: r.facility_id,
    name: r.name_zh !== null && r.name_en !== null ? { zh: r.name_zh, en: r.name_en } : null,
    licenceNumber: r.licence_number,
    operatorCreditCode: r.operator_credit_code,
    jurisdiction: r.jurisdiction,
    coordinates: { lat: r.lat, lon: r.lon },
    licensedCategories: [...r.licensed_categories],
    licensed: licensed.map((l) => ({
      category: l.category,
      annualCapacityKg: l.annualCapacityKg,
      wasteCodes: l.wasteCodes ? [...l.wasteCodes] : null,
    })),
    status: STATUSES[r.status] ?? FacilityStatusEnum.ACTIVE,
    statusReason: r.status_reason,
    validFrom: r.valid_from_text,
    validTo: r.valid_to_text,
    updatedAt: new Date(r.updated_at),
  };
};

const toState = (r: FacilityRow): FacilityState => {
  const licensed = (
    typeof r.capacity === 'string' ? JSON.parse(r.capacity) : r.capacity
  ) as LicensedCategory[];
  const status = r.status === 'suspended' || r.status === 'revoked' ? r.status : 'active';
  return {
    status,
    facilityId: r.facility_id,
    ...(r.status_reason !== null ? { reason: r.status_reason } : {}),
    profile: {
      ...(r.name_zh !== null && r.name_en !== null ? { name: { zh: r.name_zh, en: r.name_en } } : {}),
      licenceNumber: r.licence_number,
      operatorCreditCode: r.operator_credit_code,
      jurisdiction: r.jurisdiction,
      coordinates: { lat: r.lat, lon: r.lon },
      // jsonb reorders keys: rebuild each entry in the decider's order.
      licensed: licensed.map((l) => ({
        category: l.category,
        annualCapacityKg: l.annualCapacityKg,
        ...(l.wasteCodes ? { wasteCodes: [...l.wasteCodes] } : {}),
      })),
      validFrom: r.valid_from_text,
      validTo: r.valid_to_text,
    },
  };
};

/** Reads of the facility licences: reference data, every authenticated party may read them. */
export class FacilityQueries {
  constructor(
    private readonly sql: SqlExecutor,
    private readonly schema: string,
  ) {}

  private get table() {
    return `${this.schema}.facilities`;
  }

  // Dates as text: YYYY-MM-DD whatever the driver's date parsing.
  private get from() {
    return `(SELECT *, valid_from::text AS valid_from_text, valid_to::text AS valid_to_text FROM ${this.table}) f`;
  }

  /**
   * The recorded facilities holding these licence numbers, as decider states (canonical key order, so
   * an unchanged licence compares equal): what the licence import checks its rows against.
   */
  async statesByLicence(
    licenceNumbers: readonly string[],
  ): Promise<{ facilityId: string; licenceNumber: string; state: FacilityState }[]> {
    if (licenceNumbers.length === 0) return [];
    const { rows } = await this.sql.query<FacilityRow>(
      `SELECT * FROM ${this.from} WHERE licence_number = ANY($1::text[]) ORDER BY facility_id`,
      [licenceNumbers],
    );
    return rows.map((r) => ({
      facilityId: r.facility_id,
      licenceNumber: r.licence_number,
      state: toState(r),
    }));
  }

  async byId(id: string): Promise<FacilityNode | null> {
    const { rows } = await this.sql.query<FacilityRow>(`SELECT * FROM ${this.from} WHERE facility_id = $1`, [
      id,
    ]);
    return rows[0] ? toNode(rows[0]) : null;
  }

  /** Filtered by licensed category and by jurisdiction (the facilities within it), by id, paged by cursor. */
  list(
    identity: Identity,
    filter: { category?: string | null; jurisdiction?: JurisdictionCode | null },
    page: { first?: number | null; after?: string | null },
  ): Promise<Connection<FacilityNode>> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.category) {
      params.push(filter.category.trim().toUpperCase());
      where.push(`$${params.length} = ANY(licensed_categories)`);
    }
    if (filter.jurisdiction) {
      // Within it: a province holds its cities and counties, a city its counties.
      params.push(containmentPattern(filter.jurisdiction));
      where.push(`jurisdiction LIKE $${params.length}`);
    }
    return paginate<FacilityNode, FacilityRow>({
      client: this.sql,
      from: this.from,
      where: where.join(' AND '),
      params,
      orderBy: { column: 'facility_id', direction: 'ASC' },
      idColumn: 'facility_id',
      first: page.first,
      after: page.after,
      identity,
      policy: REFERENCE_DATA,
      map: toNode,
    });
  }
}
