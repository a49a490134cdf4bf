import { Quantity, WasteCode, type JurisdictionCode } from '@lianfang/domain-kernel';
import type { SqlExecutor } from '@lianfang/eventsourcing';
import { containmentPattern } from '@lianfang/auth';
import { InputError } from '@lianfang/graph';
import { parseCoordinates, type Coordinates } from '../facility/coordinates';
import type { FacilityQueries } from '../facility/facility.queries';
import type { FacilityNode } from '../facility/facility.types';
import { distanceKm, formatKm } from './distance';

/** A facility that can take the waste, with what is left for it that year and how far it is. */
export interface Candidate {
  readonly facility: FacilityNode;
  readonly availableKg: Quantity;
  /** Kilometres with one decimal; null without a point to measure from. */
  readonly distanceKm: string | null;
}

export interface CanTakeQuery {
  readonly wasteCode: string;
  /** Tonnes, exact decimal text. */
  readonly tonnes: string;
  readonly year: number;
  readonly within?: JurisdictionCode | null;
  readonly near?: Coordinates | null;
  readonly first?: number | null;
}

interface CandidateRow extends Record<string, unknown> {
  facility_id: string;
  lat: string;
  lon: string;
  available_kg: string;
}

const DEFAULT_FIRST = 10;
const MAX_FIRST = 100;

const invalid = (field: string, rule: string, en: string, zh: string, value: unknown) =>
  new InputError({ field, rule, messages: { en, zh }, details: { value } });

function parseQuery(query: CanTakeQuery) {
  const code = WasteCode.parse(query.wasteCode, 'wasteCode');
  if (!code.ok)
    throw new InputError({ field: 'wasteCode', rule: code.error.rule, messages: code.error.message });
  const quantity = Quantity.fromTonnes(query.tonnes, 'tonnes');
  if (!quantity.ok)
    throw new InputError({ field: 'tonnes', rule: quantity.error.rule, messages: quantity.error.message });
  if (quantity.value.isZero())
    throw invalid(
      'tonnes',
      'quantity.positive',
      'the quantity must be more than zero',
      '数量须大于零',
      query.tonnes,
    );
  const year = query.year;
  if (!Number.isInteger(year) || year < 2000 || year > 9999)
    throw invalid(
      'year',
      'year.range',
      'the year is a whole number from 2000 to 9999',
      '年份须为 2000 至 9999 之间的整数',
      year,
    );
  const first = query.first ?? DEFAULT_FIRST;
  if (!Number.isInteger(first) || first < 1 || first > MAX_FIRST)
    throw invalid(
      'first',
      'first.range',
      `first is from 1 to ${MAX_FIRST}`,
      `first 须在 1 至 ${MAX_FIRST} 之间`,
      first,
    );
  const near = query.near ? parseCoordinates(query.near, 'near') : null;
  return { code: code.value, quantity: quantity.value, year, first, near };
}

/**
 * Who can take waste code X, Q tonnes, in year Y (资源优化共享): active facilities licensed for the code
 * (its whole category, or that very code), whose licence is in force on some day of the year, with at
 * least Q left in that year's ledger (a ledger not opened yet has the full licensed capacity). The
 * capacity test is exact, in SQL numeric; the ranking (nearest first, then most left) is in TypeScript.
 * Reference data: every authenticated party may ask.
 */
export class CapacityQueries {
  constructor(
    private readonly sql: SqlExecutor,
    private readonly schema: string,
    private readonly facilities: FacilityQueries,
  ) {}

  async facilitiesThatCanTake(query: CanTakeQuery): Promise<Candidate[]> {
    const { code, quantity, year, first, near } = parseQuery(query);
    const params: unknown[] = [
      code.category.code,
      code.value,
      year,
      `${year}-12-31`,
      `${year}-01-01`,
      quantity.toKgString(),
    ];
    let within = '';
    if (query.within) {
      // Within it: a province holds its cities and counties, a city its counties.
      params.push(containmentPattern(query.within));
      within = `AND f.jurisdiction LIKE $${params.length}`;
    }
    const { rows } = await this.sql.query<CandidateRow>(
      `SELECT f.facility_id, f.lat, f.lon, COALESCE(l.available_kg, lic.capacity_kg)::text AS available_kg
         FROM ${this.schema}.facilities f
         CROSS JOIN LATERAL (
           SELECT (c->>'annualCapacityKg')::numeric AS capacity_kg
             FROM jsonb_array_elements(f.capacity) c
            WHERE c->>'category' = $1 AND (NOT (c ? 'wasteCodes') OR (c->'wasteCodes') ? $2)
         ) lic
         LEFT JOIN ${this.schema}.capacity_ledgers l
           ON l.facility_id = f.facility_id AND l.category = $1 AND l.year = $3
        WHERE f.status = 'active' AND f.valid_from <= $4::date AND f.valid_to >= $5::date
          AND COALESCE(l.available_kg, lic.capacity_kg) >= $6::numeric
          ${within}`,
      params,
    );
    const ranked = rows
      .map((r) => ({
        id: r.facility_id,
        availableKg: Quantity.ofKg(r.available_kg),
        km: near ? distanceKm(near, { lat: r.lat, lon: r.lon }) : null,
      }))
      .sort(
        (a, b) =>
          (a.km !== null && b.km !== null ? a.km - b.km : 0) ||
          b.availableKg.compare(a.availableKg) ||
          a.id.localeCompare(b.id),
      )
      .slice(0, first);
    const candidates: Candidate[] = [];
    for (const r of ranked) {
      const facility = await this.facilities.byId(r.id);
      if (facility)
        candidates.push({
          facility,
          availableKg: r.availableKg,
          distanceKm: r.km === null ? null : formatKm(r.km),
        });
    }
    return candidates;
  }
}
