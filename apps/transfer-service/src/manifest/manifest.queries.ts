import {
  isVisible,
  paginate,
  REFERENCE_DATA,
  visibilityFilter,
  type AgencyDirectory,
  type Connection,
  type Identity,
} from '@lianfang/auth';
import type { PersonalDataCodec, SqlExecutor } from '@lianfang/eventsourcing';
import {
  sharedBetween,
  visibleOrShared,
  type SharedPlaces,
  type SharingGrant,
} from '../agreement/data-sharing';
import { revealDriver, type RevealedDriver } from './drivers';
import { MANIFEST_VISIBILITY, manifestVisibility, type ReadableManifest } from './manifest.access';
import { carriersOf, type ManifestView } from './manifest.view';
import { DiscrepancyReviewDecisionEnum, ManifestStatusEnum, type ManifestNode } from './manifest.types';

interface ManifestRow extends Record<string, unknown> {
  manifest_number: string;
  manifest_view: ManifestView | string;
  visible_agencies: string[];
}

export interface ManifestListFilter {
  readonly status?: ManifestStatusEnum | null;
  readonly transferId?: string | null;
  readonly facilityId?: string | null;
  readonly generator?: string | null;
  readonly overdueOnly?: boolean | null;
  readonly discrepancyOnly?: boolean | null;
}

const viewOf = (row: ManifestRow): ManifestView =>
  (typeof row.manifest_view === 'string' ? JSON.parse(row.manifest_view) : row.manifest_view) as ManifestView;

/** The generator's and the receiver's places, for a 'manifests' grant (the table's own columns). */
const MANIFEST_PLACES: SharedPlaces = { from: 'from_jurisdiction', to: 'to_jurisdiction' };

const dateOrNull = (iso: string | null) => (iso === null ? null : new Date(iso));

/** The node of a view; drivers are given only to the manifest's parties (undefined: not shown). */
export function manifestNode(
  view: ManifestView,
  drivers: ReadonlyMap<string, RevealedDriver> | undefined,
): ManifestNode {
  const { state } = view;
  const { opened } = state;
  return {
    number: opened.manifestNumber,
    status: state.status as ManifestStatusEnum,
    authorizationKind: opened.authorization.kind,
    transferId: opened.authorization.id,
    facilityId: opened.receiver.facilityId,
    generator: { creditCode: opened.generator.creditCode, jurisdiction: opened.generator.jurisdiction },
    receiver: { creditCode: opened.receiver.creditCode, jurisdiction: opened.receiver.jurisdiction },
    carrierCreditCode: state.currentCarrierCreditCode,
    consignor: opened.consignor,
    waste: {
      wasteClass: opened.waste.wasteClass,
      wasteCode: opened.waste.wasteCode,
      name: opened.waste.name,
      declaredKg: opened.waste.declaredKg,
      hazardCharacteristics: [...opened.waste.hazardCharacteristics],
      packaging: opened.waste.packaging,
      form: opened.waste.form,
      emergencyMeasures: opened.waste.emergencyMeasures,
    },
    fromJurisdiction: opened.fromJurisdiction,
    toJurisdiction: opened.toJurisdiction,
    acceptedKg: state.acceptedKg,
    legs: view.legs.map((l) => ({
      kind: l.kind,
      carrierCreditCode: l.carrierCreditCode,
      vehiclePlate: l.vehiclePlate,
      operatingLicence: l.operatingLicence,
      at: new Date(l.at),
      place: l.place,
      driver: drivers ? (drivers.get(l.driverSubjectId) ?? null) : null,
    })),
    pickedUpAt: dateOrNull(state.pickedUpAt),
    transitDueAt: dateOrNull(state.transitDueAt),
    deliveredAt: dateOrNull(state.deliveredAt),
    receiptDueAt: dateOrNull(state.receiptDueAt),
    receiptDueProvisional: state.receiptDueProvisional,
    receipt: view.receipt && {
      acceptance: view.receipt.acceptance,
      acceptedKg: view.receipt.acceptedKg,
      rejectedKg: view.receipt.rejectedKg,
      method: view.receipt.method,
      receiptDate: view.receipt.receiptDate,
      at: new Date(view.receipt.at),
      onTime: view.receipt.onTime,
      reasons: [...view.receipt.reasons],
      disposition: view.receipt.disposition,
    },
    corrections: view.corrections.map((c) => ({ ...c, at: new Date(c.at) })),
    disposal: view.disposal && { method: view.disposal.method, at: new Date(view.disposal.at) },
    discrepancies: view.discrepancies.map((d) => ({ ...d })),
    openDiscrepancies: [...state.openDiscrepancies],
    discrepancyReviews: view.discrepancyReviews.map((r) => ({
      decision: r.decision as DiscrepancyReviewDecisionEnum,
      note: r.note,
      kinds: [...r.kinds],
      reviewedBy: r.reviewedBy,
      at: new Date(r.at),
    })),
    overdue: [...state.overdue],
    paperReference: state.paperReference,
    openedAt: new Date(view.openedAt),
    updatedAt: new Date(view.updatedAt),
    view,
  };
}

/**
 * Reads of the manifests read model: visibility in SQL (the policy, or the caller's 'manifests' grants,
 * passed in by the resolver), drivers revealed for the parties only.
 */
export class ManifestQueries {
  constructor(
    private readonly sql: SqlExecutor,
    private readonly schema: string,
    private readonly directory: AgencyDirectory,
    private readonly personalData: PersonalDataCodec,
  ) {}

  private get table() {
    return `${this.schema}.manifests`;
  }

  /** Who sees the view's manifest (the same lists as the row's visibility columns). */
  visibilityOf(view: ManifestView) {
    const { opened } = view.state;
    return manifestVisibility(this.directory, {
      creditCodes: [opened.generator.creditCode, opened.receiver.creditCode, ...carriersOf(view)],
      fromJurisdiction: opened.fromJurisdiction,
      toJurisdiction: opened.toJurisdiction,
    });
  }

  /** Whether one of `grants` opens the view's manifest: generator's and receiver's provinces two members. */
  sharedUnder(grants: readonly SharingGrant[], view: ManifestView): boolean {
    const { opened } = view.state;
    return sharedBetween(grants, opened.fromJurisdiction, opened.toJurisdiction);
  }

  /** The view as `readManifests` judges it. */
  readable(view: ManifestView, grants: readonly SharingGrant[]): ReadableManifest {
    return { ...this.visibilityOf(view), shared: this.sharedUnder(grants, view) };
  }

  /** The parties whose record it is (generator, receiver, every carrier): they see who read it. */
  owners(view: ManifestView): string[] {
    return [...this.visibilityOf(view).agencies];
  }

  /** The stored view, whoever may see it (the caller authorizes on it). */
  async view(manifestNumber: string): Promise<ManifestView | null> {
    const { rows } = await this.sql.query<ManifestRow>(
      `SELECT manifest_number, manifest_view, visible_agencies FROM ${this.table} WHERE manifest_number = $1`,
      [manifestNumber],
    );
    return rows[0] ? viewOf(rows[0]) : null;
  }

  /** Newest first; only rows the caller may see (policy OR grant) reach a page, a count or a cursor. */
  async list(
    identity: Identity,
    filter: ManifestListFilter,
    page: { first?: number | null; after?: string | null },
    grants: readonly SharingGrant[] = [],
  ): Promise<Connection<ManifestNode>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (filter.status) add((p) => `status = ${p}`, filter.status);
    if (filter.transferId) add((p) => `transfer_id = ${p}`, filter.transferId);
    if (filter.facilityId) add((p) => `facility_id = ${p}`, filter.facilityId);
    if (filter.generator) add((p) => `generator_credit_code = ${p}`, filter.generator.trim().toUpperCase());
    if (filter.overdueOnly) where.push('overdue');
    if (filter.discrepancyOnly) where.push('discrepancy');
    // Visibility is part of the list's own condition, so the grant reaches the page, the count and the
    // cursor alike; paginate adds nothing more (REFERENCE_DATA).
    const visible = visibleOrShared(
      visibilityFilter(identity, MANIFEST_VISIBILITY, params.length + 1),
      params.length + 1,
      grants,
      MANIFEST_PLACES,
    );
    where.push(visible.sql);
    params.push(...visible.params);
    const connection = await paginate<{ view: ManifestView; agencies: string[] }, ManifestRow>({
      client: this.sql,
      from: this.table,
      where: where.join(' AND '),
      params,
      orderBy: { column: 'opened_at', direction: 'DESC' },
      idColumn: 'manifest_number',
      first: page.first,
      after: page.after,
      identity,
      policy: REFERENCE_DATA,
      map: (row) => ({ view: viewOf(row), agencies: row.visible_agencies }),
    });
    const edges = await Promise.all(
      connection.edges.map(async (e) => ({
        cursor: e.cursor,
        node: await this.node(identity, e.node.view),
      })),
    );
    return { ...connection, edges };
  }

  /** Whether the row is visible to the identity by the policy alone (a grant aside). */
  visibleTo(identity: Identity, view: ManifestView): boolean {
    return isVisible(identity, MANIFEST_VISIBILITY, this.visibilityOf(view));
  }

  /**
   * The node for this caller: drivers revealed only when the caller's agency is a party; a bureau or a
   * grantee sees the legs without them.
   */
  async node(identity: Identity, view: ManifestView): Promise<ManifestNode> {
    const party =
      MANIFEST_VISIBILITY.party.includes(identity.agencyKind) &&
      this.visibilityOf(view).agencies.includes(identity.agencyId);
    if (!party) return manifestNode(view, undefined);
    const subjects = [...new Set(view.legs.map((l) => l.driverSubjectId))];
    const drivers = new Map<string, RevealedDriver>();
    if (subjects.length > 0) {
      const { rows } = await this.sql.query<{ subject_id: string; details: unknown }>(
        `SELECT subject_id, details FROM ${this.schema}.manifest_drivers WHERE subject_id = ANY($1::text[])`,
        [subjects],
      );
      for (const row of rows) {
        const details = typeof row.details === 'string' ? JSON.parse(row.details) : row.details;
        drivers.set(row.subject_id, await revealDriver(this.personalData, details));
      }
    }
    return manifestNode(view, drivers);
  }
}
