/**
 * What `npm start` seeds (issue 6 item 9): the Sichuan–Chongqing region with three licensed facilities, an
 * adopted agreement (whitelist, rates, tolerance), transfers in every state and manifests on the road,
 * dated relative to today. Pure data: the seeder (demo-seed.ts) sends it through the services' commands.
 *
 * The dates are chosen for the deadline timers, which fire in the embedded mode too. A step opens a
 * deadline of n working days (completeness 5, review 5, reply 10, decision 5); a step taken k working days
 * ago with n ≥ k opens a deadline that ends tonight at the earliest. So no timer is already due between two
 * steps the seeder sends (it could otherwise fire first and move the transfer on), and every transfer
 * stays in the state it was seeded in for a few working days. One transfer is left alone on purpose:
 * submitted 12 working days ago, the timers accept it by silence (Art 23) and then record its review as
 * overdue, escalated to the secretariat, never as consent. Manifests are picked up at most two calendar
 * days ago, inside the agreement's three days of transit.
 */
import type { FacilityProfileInput } from '../facility/decider';
import type { AgreementClausesInput } from '../agreement/clauses';
import type { ManifestWaste } from '../manifest/decider';
import type { FilingLine, OverdueStep, TransferStatus, WasteLine } from '../transfer/decider';
import { DemoDays, type When } from './demo-days';

/** The namespace of every id and command id the demo derives: fixed, so a second start adds nothing. */
export const DEMO_SEED = 'transfer-service.demo-seed';

export const SICHUAN = '510000';
export const CHONGQING = '500000';

/** The demo's facilities (ids of the register), run by the directory's receivers. */
export const FACILITY = {
  yuhuan: 'fac-cq-yuhuan',
  lvyuan: 'fac-dy-lvyuan',
  rongqing: 'fac-cd-rongqing',
} as const;

export const AGREEMENT_ID = 'chengyu-hw-whitelist';

export interface DemoFacility {
  readonly facilityId: string;
  /** The provincial bureau licensing it (registers it on the platform). */
  readonly bureau: string;
  /** The directory's receiver running it. */
  readonly operator: string;
  readonly profile: FacilityProfileInput;
  readonly registeredAt: When;
}

export interface DemoAgreement {
  readonly agreementId: string;
  readonly secretariat: string;
  /** Provincial bureaus, in signing order. */
  readonly signers: readonly string[];
  readonly title: { readonly zh: string; readonly en: string };
  readonly members: readonly string[];
  readonly effectiveFrom: string;
  readonly validUntil: string;
  readonly clauses: AgreementClausesInput;
  /** When the secretariat proposed it, and when each signer signed (in `signers` order). */
  readonly proposedAt: When;
  readonly signedAt: readonly When[];
}

export type DemoTransferStep =
  | { readonly kind: 'submit'; readonly at: When }
  | { readonly kind: 'file'; readonly at: When }
  | { readonly kind: 'accept'; readonly at: When }
  | { readonly kind: 'return'; readonly at: When; readonly missing: readonly string[] }
  | { readonly kind: 'letter'; readonly at: When }
  | {
      readonly kind: 'reply';
      readonly at: When;
      readonly consent: boolean;
      readonly reasons?: readonly string[];
    }
  | { readonly kind: 'approve'; readonly at: When }
  | { readonly kind: 'refuse'; readonly at: When; readonly reasons: readonly string[] }
  | { readonly kind: 'withdraw'; readonly at: When; readonly reason: string };

export interface DemoApplication {
  readonly path: 'letter' | 'whitelist';
  readonly receiverFacilityId: string;
  readonly lines: readonly WasteLine[];
  readonly method: string;
  readonly whitelistEntryId?: string;
}

export interface DemoFiling {
  readonly receiverFacilityId: string;
  readonly lines: readonly FilingLine[];
}

export interface DemoTransfer {
  /** The demo's name for it; the transfer id is derived from it. */
  readonly key: string;
  readonly label: { readonly zh: string; readonly en: string };
  /** The applying generator (directory id). */
  readonly generator: string;
  readonly application?: DemoApplication;
  readonly filing?: DemoFiling;
  readonly window: { readonly from: string; readonly to: string };
  readonly steps: readonly DemoTransferStep[];
  /** The state the steps leave it in. */
  readonly status: TransferStatus;
  /** Left to the timers: accepted by silence, then this step overdue. */
  readonly overdue?: OverdueStep;
}

export type DemoManifestStep =
  | { readonly kind: 'open'; readonly at: When }
  | {
      readonly kind: 'pickup';
      readonly at: When;
      readonly carrier: string;
      readonly vehiclePlate: string;
      readonly driver: { readonly name: string; readonly phone: string };
    }
  | {
      readonly kind: 'hand-over';
      readonly at: When;
      readonly carrier: string;
      readonly vehiclePlate: string;
      readonly driver: { readonly name: string; readonly phone: string };
      readonly place: string;
    }
  | { readonly kind: 'deliver'; readonly at: When }
  | { readonly kind: 'accept'; readonly at: When; readonly acceptedKg: string; readonly method: string }
  | { readonly kind: 'dispose'; readonly at: When; readonly method: string };

export type DemoManifestStatus = 'in-transit' | 'delivered' | 'received' | 'disposed';

export interface DemoManifest {
  readonly key: string;
  readonly label: { readonly zh: string; readonly en: string };
  /** The approved transfer it runs under (its key). */
  readonly transfer: string;
  /** The carrier the generator engages (directory id). */
  readonly carrier: string;
  readonly waste: ManifestWaste;
  readonly steps: readonly DemoManifestStep[];
  readonly status: DemoManifestStatus;
}

export interface DemoPlan {
  readonly year: number;
  readonly facilities: readonly DemoFacility[];
  readonly agreement: DemoAgreement;
  readonly transfers: readonly DemoTransfer[];
  readonly manifests: readonly DemoManifest[];
}

const HW08_OIL = '900-249-08';
const HW08_SLUDGE = '900-214-08';
const HW17 = '336-064-17';
const HW49 = '900-041-49';

const METHOD_OIL = 'R9 废矿物油再生利用 / re-refining of waste mineral oil';
const METHOD_PLATING = 'D10 物化处理后安全填埋 / physico-chemical treatment and secure landfill';
const METHOD_PACKAGING = 'D10 焚烧处置 / incineration';

const oil = (declaredKg: string): ManifestWaste => ({
  wasteClass: `hazardous:${HW08_OIL}`,
  name: '废矿物油 / waste mineral oil',
  declaredKg,
  hazardCharacteristics: ['T', 'I'],
  packaging: '200 L 钢桶 / 200 L steel drums',
  form: 'liquid',
  emergencyMeasures: '泄漏时用沙土围堵，远离火源 / contain spills with sand, keep away from ignition',
});

/** The whole demo for a seed that runs at `now`. */
export function demoPlan(days: DemoDays): DemoPlan {
  const year = days.today.year;
  const w = (k: number, time: string) => days.workingDayAt(k, time);
  const d = (k: number, time: string) => days.dayAt(k, time);
  // A requested window of about six months from the day of the application.
  const window = (k: number) => {
    const from = k === 0 ? days.today : days.workingDaysAgo(k);
    return { from: from.toString(), to: from.plusDays(182).toString() };
  };
  // Licences granted last year, valid five years: current on every day of the demo.
  const licence = { validFrom: `${year - 1}-03-01`, validTo: `${year + 4}-02-28` };

  const facilities: DemoFacility[] = [
    {
      facilityId: FACILITY.yuhuan,
      bureau: 'cq-eeb',
      operator: 'cq-yuhuan-disposal',
      registeredAt: w(30, '10:00'),
      profile: {
        name: {
          zh: '重庆渝环危险废物处置中心（长寿）',
          en: 'Yuhuan Hazardous Waste Disposal Centre, Changshou',
        },
        licenceNumber: `渝环危废经字〔${year - 1}〕第015号`,
        operatorCreditCode: '91500115MA5YH9P3C1',
        jurisdiction: '500115',
        coordinates: { lat: '29.857', lon: '107.081' },
        licensed: [
          { category: 'HW08', annualCapacityTonnes: '5000' },
          { category: 'HW17', annualCapacityTonnes: '3000' },
          { category: 'HW49', annualCapacityTonnes: '2000' },
        ],
        ...licence,
      },
    },
    {
      facilityId: FACILITY.lvyuan,
      bureau: 'sc-eeb',
      operator: 'dy-lvyuan-env',
      registeredAt: w(30, '10:30'),
      profile: {
        name: { zh: '德阳绿源危险废物综合利用基地', en: 'Lvyuan Hazardous Waste Recovery Site, Deyang' },
        licenceNumber: `川环危废经字〔${year - 1}〕第027号`,
        operatorCreditCode: '91510600MA62A4E769',
        jurisdiction: '510600',
        coordinates: { lat: '31.127', lon: '104.398' },
        licensed: [
          { category: 'HW08', annualCapacityTonnes: '3000' },
          { category: 'HW09', annualCapacityTonnes: '1500' },
          { category: 'HW49', annualCapacityTonnes: '2500' },
        ],
        ...licence,
      },
    },
    {
      facilityId: FACILITY.rongqing,
      bureau: 'sc-eeb',
      operator: 'cd-rongqing-disposal',
      registeredAt: w(30, '11:00'),
      profile: {
        name: {
          zh: '成都蓉清固体废物处置中心（龙泉驿）',
          en: 'Rongqing Solid Waste Disposal Centre, Longquanyi',
        },
        licenceNumber: `川环危废经字〔${year - 1}〕第009号`,
        operatorCreditCode: '91510100MA6DF5N1QQ',
        jurisdiction: '510112',
        coordinates: { lat: '30.560', lon: '104.274' },
        licensed: [
          { category: 'HW17', annualCapacityTonnes: '4000' },
          { category: 'HW18', annualCapacityTonnes: '6000' },
          { category: 'HW49', annualCapacityTonnes: '3000' },
        ],
        ...licence,
      },
    },
  ];

  // This year's and next year's entries: the whitelist path keeps working past New Year.
  const entries = [year, year + 1].flatMap((y) => [
    {
      entryId: `wl-${y}-sc-yuhuan-hw08`,
      exportingMember: SICHUAN,
      receivingFacilityId: FACILITY.yuhuan,
      wasteCodes: [HW08_OIL, HW08_SLUDGE],
      tonnes: '500',
      year: y,
    },
    {
      entryId: `wl-${y}-cq-lvyuan-hw49`,
      exportingMember: CHONGQING,
      receivingFacilityId: FACILITY.lvyuan,
      wasteCodes: [HW49],
      tonnes: '200',
      year: y,
    },
  ]);
  const agreement: DemoAgreement = {
    agreementId: AGREEMENT_ID,
    secretariat: 'chengyu-secretariat',
    signers: ['sc-eeb', 'cq-eeb'],
    title: {
      zh: '川渝危险废物跨省转移白名单及区域补偿协议',
      en: 'Sichuan–Chongqing agreement on hazardous waste transfer whitelists and regional compensation',
    },
    members: [SICHUAN, CHONGQING],
    effectiveFrom: `${year}-01-01`,
    validUntil: `${year + 1}-12-31`,
    // Adopted before the facilities were registered and any transfer was filed under it.
    proposedAt: w(34, '09:30'),
    signedAt: [w(33, '10:00'), w(32, '15:00')],
    clauses: {
      whitelist: entries,
      compensationRates: [
        // The receiving side is paid per tonne, more from next year (as Beijing raised 100 to 150 yuan/t).
        {
          wasteClassOrCategory: 'HW08',
          yuanPerTonne: '100.00',
          payer: SICHUAN,
          payees: [{ jurisdiction: CHONGQING, shareBasisPoints: 10_000 }],
          from: `${year}-01-01`,
          to: `${year}-12-31`,
        },
        {
          wasteClassOrCategory: 'HW08',
          yuanPerTonne: '150.00',
          payer: SICHUAN,
          payees: [{ jurisdiction: CHONGQING, shareBasisPoints: 10_000 }],
          from: `${year + 1}-01-01`,
          to: null,
        },
        // Split 10/90 between the province and the facility's city, as in the Beijing reference.
        {
          wasteClassOrCategory: 'HW49',
          yuanPerTonne: '120.50',
          payer: CHONGQING,
          payees: [
            { jurisdiction: SICHUAN, shareBasisPoints: 1_000 },
            { jurisdiction: '510600', shareBasisPoints: 9_000 },
          ],
          from: `${year}-01-01`,
          to: null,
        },
      ],
      tolerance: { percent: '5', kg: '100' },
      maxTransitDays: 3,
      dataSharing: [{ agencyKind: 'transport-department', scope: 'manifests' }],
    },
  };

  const jincheng = 'cd-jincheng-auto';
  const liangjiang = 'cq-liangjiang-chem';
  const toYuhuan = (lines: readonly WasteLine[], method = METHOD_OIL): DemoApplication => ({
    path: 'letter',
    receiverFacilityId: FACILITY.yuhuan,
    lines,
    method,
  });
  const toLvyuan = (lines: readonly WasteLine[], method: string): DemoApplication => ({
    path: 'letter',
    receiverFacilityId: FACILITY.lvyuan,
    lines,
    method,
  });

  const transfers: DemoTransfer[] = [
    {
      key: 'submitted',
      label: { zh: '待受理', en: 'awaiting the completeness check' },
      generator: jincheng,
      application: toYuhuan([{ wasteCode: HW08_SLUDGE, quantityKg: '8000' }]),
      window: window(1),
      steps: [{ kind: 'submit', at: w(1, '15:20') }],
      status: 'submitted',
    },
    {
      key: 'under-review',
      label: { zh: '审查中', en: 'under review' },
      generator: liangjiang,
      application: toLvyuan([{ wasteCode: HW49, quantityKg: '5000' }], METHOD_PACKAGING),
      window: window(3),
      steps: [
        { kind: 'submit', at: w(3, '09:40') },
        { kind: 'accept', at: w(2, '10:10') },
      ],
      status: 'under-review',
    },
    {
      key: 'consulting',
      label: { zh: '商请函待复', en: 'consultation letter awaiting reply' },
      generator: jincheng,
      application: toYuhuan([{ wasteCode: HW17, quantityKg: '12000' }], METHOD_PLATING),
      window: window(4),
      steps: [
        { kind: 'submit', at: w(4, '09:15') },
        { kind: 'accept', at: w(3, '11:00') },
        { kind: 'letter', at: w(2, '16:30') },
      ],
      status: 'consulting',
    },
    {
      key: 'awaiting-decision',
      label: { zh: '已复函待决定', en: 'replied, awaiting the decision' },
      generator: liangjiang,
      application: toLvyuan([{ wasteCode: HW08_OIL, quantityKg: '20000' }], METHOD_OIL),
      window: window(4),
      steps: [
        { kind: 'submit', at: w(4, '10:05') },
        { kind: 'accept', at: w(4, '14:30') },
        { kind: 'letter', at: w(3, '09:50') },
        { kind: 'reply', at: w(1, '16:00'), consent: true },
      ],
      status: 'awaiting-decision',
    },
    {
      key: 'approved-letter',
      label: { zh: '已批准（商请函），联单运行中', en: 'approved by letter, manifests running' },
      generator: jincheng,
      application: toYuhuan([{ wasteCode: HW08_OIL, quantityKg: '30000' }]),
      window: window(4),
      steps: [
        { kind: 'submit', at: w(4, '08:50') },
        { kind: 'accept', at: w(4, '10:20') },
        { kind: 'letter', at: w(4, '15:40') },
        { kind: 'reply', at: w(3, '10:30'), consent: true },
        { kind: 'approve', at: w(3, '16:10') },
      ],
      status: 'approved',
    },
    {
      key: 'approved-whitelist',
      label: { zh: '已批准（白名单，不发商请函）', en: 'approved under the whitelist, no letter' },
      generator: jincheng,
      application: {
        path: 'whitelist',
        receiverFacilityId: FACILITY.yuhuan,
        lines: [{ wasteCode: HW08_SLUDGE, quantityKg: '60000' }],
        method: METHOD_OIL,
        whitelistEntryId: `wl-${year}-sc-yuhuan-hw08`,
      },
      window: window(0),
      // Today, after the agreement that whitelists it was adopted.
      steps: [
        { kind: 'submit', at: 'live' },
        { kind: 'accept', at: 'live' },
        { kind: 'approve', at: 'live' },
      ],
      status: 'approved',
    },
    {
      key: 'refused',
      label: { zh: '接受地不同意，不予批准', en: 'refused after the receiving bureau refused' },
      generator: jincheng,
      application: toYuhuan([{ wasteCode: HW49, quantityKg: '3000' }], METHOD_PACKAGING),
      window: window(4),
      steps: [
        { kind: 'submit', at: w(4, '11:30') },
        { kind: 'accept', at: w(4, '16:00') },
        { kind: 'letter', at: w(3, '14:20') },
        {
          kind: 'reply',
          at: w(2, '15:00'),
          consent: false,
          reasons: [
            '接受单位本年度 HW49 焚烧能力已排满 / the facility’s HW49 incineration is booked for the year',
          ],
        },
        {
          kind: 'refuse',
          at: w(1, '10:40'),
          reasons: ['接受地生态环境局不同意接收 / the receiving bureau does not consent'],
        },
      ],
      status: 'refused',
    },
    {
      key: 'withdrawn',
      label: { zh: '申请人撤回', en: 'withdrawn by the applicant' },
      generator: liangjiang,
      application: {
        path: 'letter',
        receiverFacilityId: FACILITY.rongqing,
        lines: [{ wasteCode: HW17, quantityKg: '6000' }],
        method: METHOD_PLATING,
      },
      window: window(3),
      steps: [
        { kind: 'submit', at: w(3, '13:10') },
        { kind: 'withdraw', at: w(2, '09:05'), reason: '处置合同变更 / the disposal contract changed' },
      ],
      status: 'withdrawn',
    },
    {
      key: 'returned',
      label: { zh: '退回补正', en: 'returned as incomplete' },
      generator: liangjiang,
      application: toLvyuan([{ wasteCode: HW08_OIL, quantityKg: '15000' }], METHOD_OIL),
      window: window(2),
      steps: [
        { kind: 'submit', at: w(2, '10:00') },
        {
          kind: 'return',
          at: w(1, '09:30'),
          missing: ['危险废物特性鉴别报告 / hazard characterisation report'],
        },
      ],
      status: 'returned',
    },
    {
      key: 'filed',
      label: { zh: '一般工业固体废物备案', en: 'general industrial waste, filed' },
      generator: jincheng,
      filing: {
        receiverFacilityId: FACILITY.rongqing,
        lines: [{ wasteClass: 'general-industrial', quantityKg: '40000' }],
      },
      window: window(2),
      steps: [{ kind: 'file', at: w(2, '14:45') }],
      status: 'filed',
    },
    {
      key: 'overdue',
      label: { zh: '审查逾期（已上报秘书处）', en: 'review overdue, escalated to the secretariat' },
      generator: jincheng,
      application: toYuhuan([{ wasteCode: HW08_OIL, quantityKg: '10000' }]),
      window: window(12),
      steps: [{ kind: 'submit', at: w(12, '10:30') }],
      status: 'under-review',
      overdue: 'review',
    },
  ];

  const shuyun = 'sc-shuyun-transport';
  const yutong = 'cq-yutong-transport';
  const under = 'approved-letter';
  const manifests: DemoManifest[] = [
    {
      key: 'disposed',
      label: { zh: '已处置', en: 'disposed of' },
      transfer: under,
      carrier: shuyun,
      waste: oil('8000'),
      steps: [
        { kind: 'open', at: d(2, '08:40') },
        {
          kind: 'pickup',
          at: d(2, '09:30'),
          carrier: shuyun,
          vehiclePlate: '川A8M2K7',
          driver: { name: '王建国', phone: '13980011234' },
        },
        { kind: 'deliver', at: d(2, '16:20') },
        { kind: 'accept', at: d(1, '10:15'), acceptedKg: '7985.5', method: METHOD_OIL },
        { kind: 'dispose', at: d(1, '15:00'), method: METHOD_OIL },
      ],
      status: 'disposed',
    },
    {
      key: 'received',
      label: {
        zh: '已接收（重量差异超出容差）',
        en: 'received, weight difference beyond the tolerance',
      },
      transfer: under,
      carrier: shuyun,
      waste: oil('7000'),
      steps: [
        { kind: 'open', at: d(1, '07:50') },
        {
          kind: 'pickup',
          at: d(1, '08:30'),
          carrier: shuyun,
          vehiclePlate: '川A5K3P9',
          driver: { name: '李强', phone: '13881234567' },
        },
        {
          kind: 'hand-over',
          at: d(1, '11:40'),
          carrier: yutong,
          vehiclePlate: '渝B3D5F8',
          driver: { name: '陈刚', phone: '13708321234' },
          place: '成渝高速川渝界收费站 / Sichuan–Chongqing border toll station, Chengdu–Chongqing Expressway',
        },
        { kind: 'deliver', at: d(1, '16:50') },
        // 480 kg (6.9%) short: more than 5% and more than 100 kg, a discrepancy.
        { kind: 'accept', at: 'live', acceptedKg: '6520', method: METHOD_OIL },
      ],
      status: 'received',
    },
    {
      key: 'delivered',
      label: { zh: '已送达待接收', en: 'delivered, awaiting receipt' },
      transfer: under,
      carrier: shuyun,
      waste: oil('6000'),
      steps: [
        { kind: 'open', at: d(1, '13:10') },
        {
          kind: 'pickup',
          at: d(1, '14:00'),
          carrier: shuyun,
          vehiclePlate: '川A2R7T4',
          driver: { name: '张伟', phone: '13880012345' },
        },
        { kind: 'deliver', at: 'live' },
      ],
      status: 'delivered',
    },
    {
      key: 'in-transit',
      label: { zh: '运输中', en: 'in transit' },
      transfer: under,
      carrier: shuyun,
      waste: oil('5000'),
      steps: [
        { kind: 'open', at: 'live' },
        {
          kind: 'pickup',
          at: 'live',
          carrier: shuyun,
          vehiclePlate: '川A6H9L2',
          driver: { name: '刘洋', phone: '13550098765' },
        },
      ],
      status: 'in-transit',
    },
  ];

  return { year, facilities, agreement, transfers, manifests };
}
