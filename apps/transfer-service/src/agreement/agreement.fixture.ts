// Test fixtures: the Sichuan–Chongqing–Yunnan agreement in the shapes commands and events carry.
import { systemActor, type CommandMetadata } from '@lianfang/eventsourcing';
import type { AgreementClauses, AgreementClausesInput } from './clauses';
import type { AgreementCommand, AgreementEvent } from './decider';

export const SICHUAN = '510000';
export const CHONGQING = '500000';
export const YUNNAN = '530000';
export const MEMBERS = [SICHUAN, CHONGQING, YUNNAN];

export const metadata = (now = '2025-12-10T02:00:00Z'): CommandMetadata => ({
  commandId: 'cmd-1',
  now: new Date(now),
  actor: systemActor('agreement-spec'),
  correlationId: 'corr-1',
});

export const title = {
  zh: '川渝滇危险废物跨省转移合作协议',
  en: 'Sichuan–Chongqing–Yunnan hazardous waste transfer agreement',
};

export const clausesInput: AgreementClausesInput = {
  whitelist: [
    {
      entryId: 'wl-2026-1',
      exportingMember: SICHUAN,
      receivingFacilityId: 'fac-cq-1',
      wasteCodes: ['900-249-08', '90021408'],
      tonnes: '1200.5',
      year: 2026,
    },
    {
      entryId: 'wl-2026-2',
      exportingMember: CHONGQING,
      receivingFacilityId: 'fac-sc-1',
      wasteCodes: ['772-002-18'],
      tonnes: '300',
      year: 2026,
    },
  ],
  compensationRates: [
    {
      wasteClassOrCategory: 'HW08',
      yuanPerTonne: '100',
      payer: SICHUAN,
      payees: [{ jurisdiction: CHONGQING, shareBasisPoints: 10_000 }],
      from: '2026-01-01',
      to: '2026-06-30',
    },
    {
      wasteClassOrCategory: 'hw08',
      yuanPerTonne: '150.50',
      payer: SICHUAN,
      payees: [{ jurisdiction: CHONGQING, shareBasisPoints: 10_000 }],
      from: '2026-07-01',
    },
    {
      wasteClassOrCategory: 'construction',
      yuanPerTonne: '12.34',
      payer: '510100',
      payees: [
        { jurisdiction: '500000', shareBasisPoints: 1000 },
        { jurisdiction: '530100', shareBasisPoints: 9000 },
      ],
      from: '2026-01-01',
      to: null,
    },
  ],
  tolerance: { percent: '2.5', kg: '50' },
  maxTransitDays: 2,
  dataSharing: [
    { agencyKind: 'transport-department', scope: 'manifests' },
    { member: YUNNAN, agencyKind: 'public-security', scope: 'vehicle-tracks' },
  ],
};

export const clauses: AgreementClauses = {
  whitelist: [
    {
      entryId: 'wl-2026-1',
      exportingMember: SICHUAN,
      receivingFacilityId: 'fac-cq-1',
      wasteCodes: ['900-249-08', '900-214-08'],
      quantityKg: '1200500.000',
      year: 2026,
    },
    {
      entryId: 'wl-2026-2',
      exportingMember: CHONGQING,
      receivingFacilityId: 'fac-sc-1',
      wasteCodes: ['772-002-18'],
      quantityKg: '300000.000',
      year: 2026,
    },
  ],
  compensationRates: [
    {
      wasteClassOrCategory: 'HW08',
      fenPerTonne: '10000',
      payer: SICHUAN,
      payees: [{ jurisdiction: CHONGQING, shareBasisPoints: 10_000 }],
      from: '2026-01-01',
      to: '2026-06-30',
    },
    {
      wasteClassOrCategory: 'HW08',
      fenPerTonne: '15050',
      payer: SICHUAN,
      payees: [{ jurisdiction: CHONGQING, shareBasisPoints: 10_000 }],
      from: '2026-07-01',
      to: null,
    },
    {
      wasteClassOrCategory: 'construction',
      fenPerTonne: '1234',
      payer: '510100',
      payees: [
        { jurisdiction: '500000', shareBasisPoints: 1000 },
        { jurisdiction: '530100', shareBasisPoints: 9000 },
      ],
      from: '2026-01-01',
      to: null,
    },
  ],
  tolerance: { percentBasisPoints: 250, kg: '50.000' },
  maxTransitDays: 2,
  dataSharing: [
    { member: null, agencyKind: 'transport-department', scope: 'manifests' },
    { member: YUNNAN, agencyKind: 'public-security', scope: 'vehicle-tracks' },
  ],
};

type ProposeData = Extract<AgreementCommand, { type: 'ProposeAgreement' }>['data'];

export const proposeData: ProposeData = {
  agreementId: 'ag-1',
  secretariatId: 'secretariat-sw',
  title,
  members: MEMBERS,
  effectiveFrom: '2026-01-01',
  validUntil: '2026-12-31',
  clauses: clausesInput,
};

export const propose = (data: Partial<ProposeData> = {}): AgreementCommand => ({
  type: 'ProposeAgreement',
  data: { ...proposeData, ...data },
  metadata: metadata(),
});

/** ProposeAgreement with one clause section replaced (invalid on purpose in the validation specs). */
export const proposeClauses = (
  patch: Partial<Record<keyof AgreementClausesInput, unknown>>,
): AgreementCommand => propose({ clauses: { ...clausesInput, ...patch } as AgreementClausesInput });

export type AgreementProposed = Extract<AgreementEvent, { type: 'AgreementProposed' }>;
export type AgreementAdopted = Extract<AgreementEvent, { type: 'AgreementAdopted' }>;

export const proposed: AgreementProposed = {
  type: 'AgreementProposed',
  data: {
    agreementId: 'ag-1',
    secretariatId: 'secretariat-sw',
    title,
    members: MEMBERS,
    effectiveFrom: '2026-01-01',
    validUntil: '2026-12-31',
    clauses,
  },
};

export const sign = (member: string): AgreementCommand => ({
  type: 'SignAgreement',
  data: { agreementId: 'ag-1', member },
  metadata: metadata(),
});
export const signed = (member: string): AgreementEvent => ({
  type: 'AgreementSigned',
  data: { agreementId: 'ag-1', member },
});
export const adopted: AgreementAdopted = {
  type: 'AgreementAdopted',
  data: {
    agreementId: 'ag-1',
    title,
    members: MEMBERS,
    effectiveFrom: '2026-01-01',
    validUntil: '2026-12-31',
    clauses,
  },
};
/** The history of an agreement all three members signed. */
export const adoptedHistory: AgreementEvent[] = [
  proposed,
  signed(SICHUAN),
  signed(CHONGQING),
  signed(YUNNAN),
  adopted,
];
