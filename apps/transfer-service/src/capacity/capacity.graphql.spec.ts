import type { Identity } from '@lianfang/auth';
import { CreditCode } from '@lianfang/domain-kernel';
import { Aggregates } from '@lianfang/eventsourcing';
import { useSubgraph } from '@lianfang/testing';
import { service } from '../service';
import { CapacityReadModel } from './capacity.projection';
import { TRANSFER_APPROVALS, type TransferApprovals } from './ports';
import { approvalRequest, approveCommand, transferAwaitingDecision } from './test-fixtures/approvals.fixture';

const chongqingClerk: Identity = {
  subject: 'wang.fang',
  agencyId: 'cq-eeb',
  agencyKind: 'provincial-bureau',
  jurisdiction: '500000',
  roles: ['clerk'],
};
const sichuanClerk: Identity = {
  ...chongqingClerk,
  subject: 'li.na',
  agencyId: 'sc-eeb',
  jurisdiction: '510000',
};
const generator: Identity = {
  subject: 'chen.jie',
  agencyId: 'cd-jincheng-auto',
  agencyKind: 'generator',
  jurisdiction: '510100',
  roles: ['clerk'],
};

const operator = CreditCode.withCheckCharacter('91500000MA5U12345').value;
const REGISTER = `mutation($key: String!, $input: RegisterFacilityInput!) {
  registerFacility(idempotencyKey: $key, input: $input) { id } }`;
const SUSPEND = `mutation($key: String!, $id: ID!) {
  suspendFacility(idempotencyKey: $key, facilityId: $id, reason: "整改 / rectification") { id } }`;
const CAN_TAKE = `query($code: String!, $tonnes: String!, $year: Int!, $within: JurisdictionCode,
    $near: FacilityCoordinatesInput, $first: Int) {
  facilitiesThatCanTake(wasteCode: $code, tonnes: $tonnes, year: $year, within: $within, near: $near, first: $first) {
    facility { id licenceNumber jurisdiction status } availableKg distanceKm } }`;

/** Chengdu city centre, where the generator asks from. */
const CHENGDU = { lat: '30.6586', lon: '104.0648' };

interface Candidate {
  facility: { id: string; licenceNumber: string; jurisdiction: string; status: string };
  availableKg: string;
  distanceKm: string | null;
}

describe('transfer-service: facilitiesThatCanTake through GraphQL', () => {
  const subgraph = useSubgraph(service);
  const ids: Record<string, string> = {};

  const register = async (
    key: string,
    who: Identity,
    input: { jurisdiction: string; lat: string; lon: string; licensed: unknown[]; validTo?: string },
  ) => {
    const { body } = await subgraph.post<{ registerFacility: { id: string } }>(REGISTER, {
      identity: who,
      variables: {
        key,
        input: {
          name: { zh: `设施${key}`, en: `Facility ${key}` },
          licenceNumber: `LIC-${key}`,
          operatorCreditCode: operator,
          jurisdiction: input.jurisdiction,
          coordinates: { lat: input.lat, lon: input.lon },
          licensed: input.licensed,
          validFrom: '2024-01-01',
          validTo: input.validTo ?? '2099-12-31',
        },
      },
    });
    expect(body.errors).toBeUndefined();
    ids[key] = body.data!.registerFacility.id;
  };

  const canTake = async (variables: Record<string, unknown>, identity: Identity = generator) => {
    const { body } = await subgraph.post<{ facilitiesThatCanTake: Candidate[] }>(CAN_TAKE, {
      identity,
      variables,
    });
    return body;
  };
  const licences = (body: { data?: { facilitiesThatCanTake: Candidate[] } | null }) =>
    body.data?.facilitiesThatCanTake.map((c) => c.facility.licenceNumber);

  beforeAll(async () => {
    // Chongqing, Yubei: HW08 10 t, the whole category.
    await register('cq-yubei', chongqingClerk, {
      jurisdiction: '500112',
      lat: '29.718',
      lon: '106.63',
      licensed: [{ category: 'HW08', annualCapacityTonnes: '10' }],
    });
    // Chengdu, Longquanyi: HW08 6 t, only 900-249-08.
    await register('cd-longquan', sichuanClerk, {
      jurisdiction: '510112',
      lat: '30.5603',
      lon: '104.2746',
      licensed: [{ category: 'HW08', annualCapacityTonnes: '6', wasteCodes: ['900-249-08'] }],
    });
    // Deyang: HW49 only.
    await register('dy-hw49', sichuanClerk, {
      jurisdiction: '510600',
      lat: '31.1270',
      lon: '104.3979',
      licensed: [{ category: 'HW49', annualCapacityTonnes: '50' }],
    });
    // Chengdu, close by, big, but suspended.
    await register('cd-suspended', sichuanClerk, {
      jurisdiction: '510107',
      lat: '30.6422',
      lon: '104.0434',
      licensed: [{ category: 'HW08', annualCapacityTonnes: '100' }],
    });
    const suspended = await subgraph.post(SUSPEND, {
      identity: sichuanClerk,
      variables: { key: 'susp-cd', id: ids['cd-suspended'] },
    });
    expect(suspended.body.errors).toBeUndefined();
    // Mianyang: HW08, licence ending this year.
    await register('my-ending', sichuanClerk, {
      jurisdiction: '510700',
      lat: '31.4675',
      lon: '104.6796',
      licensed: [{ category: 'HW08', annualCapacityTonnes: '30' }],
      validTo: '2026-12-31',
    });
  });

  it('answers active, licensed facilities with enough left that year, nearest first, with distance and capacity', async () => {
    const body = await canTake({ code: '900-249-08', tonnes: '5', year: 2026, near: CHENGDU });
    expect(body.errors).toBeUndefined();
    const found = body.data!.facilitiesThatCanTake;
    expect(found.map((c) => c.facility.licenceNumber)).toEqual([
      'LIC-cd-longquan',
      'LIC-my-ending',
      'LIC-cq-yubei',
    ]);
    expect(found.map((c) => c.availableKg)).toEqual(['6000.000', '30000.000', '10000.000']);
    for (const c of found) expect(c.distanceKm).toMatch(/^\d+\.\d$/);
    // Chengdu → Yubei (Chongqing) is some 270 km as the crow flies.
    const toChongqing = Number(found[2].distanceKm);
    expect(toChongqing).toBeGreaterThan(240);
    expect(toChongqing).toBeLessThan(300);
  });

  it('filters by code scope, quantity, year and region; without `near` ranks by what is left', async () => {
    // Another HW08 code: the Longquanyi licence covers only 900-249-08.
    expect(licences(await canTake({ code: '900-200-08', tonnes: '5', year: 2026 }))).toEqual([
      'LIC-my-ending',
      'LIC-cq-yubei',
    ]);
    expect(
      licences(await canTake({ code: '900-249-08', tonnes: '6.000001', year: 2026, near: CHENGDU })),
    ).toEqual(['LIC-my-ending', 'LIC-cq-yubei']);
    // 2027: the Mianyang licence has ended.
    expect(licences(await canTake({ code: '900-249-08', tonnes: '1', year: 2027, near: CHENGDU }))).toEqual([
      'LIC-cd-longquan',
      'LIC-cq-yubei',
    ]);
    expect(
      licences(await canTake({ code: '900-249-08', tonnes: '1', year: 2026, within: '510000', first: 1 })),
    ).toEqual(['LIC-my-ending']);
    const noNear = await canTake({ code: '900-041-49', tonnes: '1', year: 2026 });
    expect(noNear.data?.facilitiesThatCanTake).toEqual([
      expect.objectContaining({ availableKg: '50000.000', distanceKm: null }),
    ]);
  });

  it("counts what approvals reserved in that year's ledger", async () => {
    const app = subgraph.running().app;
    const aggregates = app.get(Aggregates, { strict: false });
    await transferAwaitingDecision(aggregates, 'gql-t-1', {
      facilityId: ids['cq-yubei'],
      lines: [{ wasteCode: '900-249-08', quantityKg: '6500' }],
    });
    const outcome = await app
      .get<TransferApprovals>(TRANSFER_APPROVALS, { strict: false })
      .approve(approvalRequest(approveCommand('gql-t-1')));
    await app.get(CapacityReadModel, { strict: false }).waitFor(outcome.lastLogPosition);

    const left = await canTake({ code: '900-249-08', tonnes: '3.5', year: 2026, within: '500000' });
    expect(left.data?.facilitiesThatCanTake.map((c) => [c.facility.licenceNumber, c.availableKg])).toEqual([
      ['LIC-cq-yubei', '3500.000'],
    ]);
    expect(
      licences(await canTake({ code: '900-249-08', tonnes: '3.501', year: 2026, within: '500000' })),
    ).toEqual([]);
    // Another year's ledger is untouched.
    expect(
      (await canTake({ code: '900-249-08', tonnes: '10', year: 2027, within: '500000' })).data
        ?.facilitiesThatCanTake[0]?.availableKg,
    ).toBe('10000.000');
  });

  it('refuses bad input with a typed error naming the field', async () => {
    for (const [variables, field] of [
      [{ code: 'HW08', tonnes: '1', year: 2026 }, 'wasteCode'],
      [{ code: '900-249-08', tonnes: '0', year: 2026 }, 'tonnes'],
      [{ code: '900-249-08', tonnes: 'ten', year: 2026 }, 'tonnes'],
      [{ code: '900-249-08', tonnes: '1', year: 26 }, 'year'],
      [{ code: '900-249-08', tonnes: '1', year: 2026, first: 0 }, 'first'],
      [{ code: '900-249-08', tonnes: '1', year: 2026, near: { lat: '91', lon: '104' } }, 'near.lat'],
    ] as const) {
      const body = await canTake(variables);
      expect(body.data).toBeNull();
      expect(body.errors?.[0].extensions).toMatchObject({ field });
      expect(body.errors?.[0].extensions.messages).toMatchObject({
        zh: expect.any(String),
        en: expect.any(String),
      });
    }
  });

  it('is reference data: a bureau of another province reads it too, an anonymous caller does not', async () => {
    const body = await canTake({ code: '900-249-08', tonnes: '1', year: 2026 }, chongqingClerk);
    expect(body.errors).toBeUndefined();
    expect(body.data?.facilitiesThatCanTake.length).toBeGreaterThan(0);
    const anonymous = await subgraph.post(CAN_TAKE, {
      identity: null,
      variables: { code: '900-249-08', tonnes: '1', year: 2026 },
    });
    expect(anonymous.status).toBe(401);
  });
});
