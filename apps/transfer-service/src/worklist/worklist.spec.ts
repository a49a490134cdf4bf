import { randomUUID } from 'node:crypto';
import { loadDirectory, type Identity } from '@lianfang/auth';
import { LocalDate, WorkingDayCalendar } from '@lianfang/domain-kernel';
import {
  Aggregates,
  EVENT_STORE,
  systemActor,
  type Actor,
  type Command,
  type Decider,
  type DomainEvent,
  type EventStore,
} from '@lianfang/eventsourcing';
import { workItemPage } from '@lianfang/graph';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import { describeWithPostgres, useSubgraph, useTestDatabase } from '@lianfang/testing';
import { agreementDecider, agreementStream, type AgreementCommand } from '../agreement/decider';
import { capacityDecider, capacityStream, type CapacityCommand } from '../capacity/decider';
import {
  facilityDecider,
  facilityStream,
  type FacilityCommand,
  type FacilityState,
} from '../facility/decider';
import { manifestDecider, manifestStream, type ManifestCommand } from '../manifest/decider';
import { approvalUsageDecider, approvalUsageStream, type ApprovalUsageCommand } from '../manifest/usage';
import { service } from '../service';
import {
  transferDecider,
  transferStream,
  type SubmitApplicationData,
  type TransferCommand,
  type TransferEvent,
  type TransferState,
} from '../transfer/decider';
import type { AgencyNode } from '../agency/agency.types';
import {
  agreementNextActions,
  approvalUsedUp,
  discrepancyItems,
  evolveDiscrepancies,
  openManifestItems,
  shortfallItems,
  transferItems,
  type ApprovalStanding,
} from './work-items';
import { WorklistReadModel } from './worklist.projection';
import { holderOf } from './worklist.resolver';

const calendar = WorkingDayCalendar.default();
const transfers = transferDecider({ calendar });
const manifests = manifestDecider({ calendar });
const directory = loadDirectory('config/directory/demo-region.json');

const SICHUAN = '510000';
const CHONGQING = '500000';
const JINCHENG = directory.requireAgency('cd-jincheng-auto'); // generator, Chengdu
const LIANGJIANG = directory.requireAgency('cq-liangjiang-chem'); // generator, Chongqing
const SHUYUN = directory.requireAgency('sc-shuyun-transport'); // carrier
const YUHUAN = directory.requireAgency('cq-yuhuan-disposal'); // receiver
const FACILITY = 'fac-cq-yuhuan';

const userOf = (agencyId: string): Actor => {
  const a = directory.requireAgency(agencyId);
  return { kind: 'user', userId: `${agencyId}.staff`, agencyId, jurisdiction: a.jurisdiction };
};
const identityOf = (agencyId: string): Identity => {
  const a = directory.requireAgency(agencyId);
  return {
    subject: `${agencyId}.viewer`,
    agencyId,
    agencyKind: a.kind,
    jurisdiction: a.jurisdiction,
    roles: ['viewer'],
  };
};
const timer = systemActor('transfer.deadline-timer');

const sha = (c: string) => c.repeat(64);

const application = (
  transferId: string,
  generator: typeof JINCHENG,
  from: string,
  to: string,
  window: { from: string; to: string },
): SubmitApplicationData => ({
  transferId,
  generator: { agencyId: generator.id, creditCode: generator.creditCode ?? '' },
  exportingJurisdiction: from,
  receivingJurisdiction: to,
  receiver: { facilityId: FACILITY, licenceValidUntil: '2099-12-31' },
  lines: [{ wasteCode: '900-249-08', quantityKg: '12000' }],
  method: 'R9 废矿物油再生利用 / re-refining of waste mineral oil',
  window,
  attachments: [
    { sha256: sha('a'), size: 204_800, mediaType: 'application/pdf', kind: 'licence' },
    { sha256: sha('b'), size: 51_200, mediaType: 'application/pdf', kind: 'method' },
    { sha256: sha('c'), size: 1_048_576, mediaType: 'image/jpeg', kind: 'contract' },
  ],
  path: 'letter',
});

interface Node {
  id: string;
  recordType: string;
  recordId: string;
  action: string;
  label: { zh: string; en: string };
  dueAt: string | null;
  dueDay: string | null;
  overdue: boolean;
  since: string;
  party: string;
  jurisdiction: string;
}
interface Page {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { cursor: string; node: Node }[];
}

const WORKLIST = `query($id: ID!, $first: Int, $after: String, $overdueOnly: Boolean) {
  agency(id: $id) { transferWorklist(first: $first, after: $after, overdueOnly: $overdueOnly) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id recordType recordId action label { zh en } dueAt dueDay overdue since party jurisdiction } }
  } } }`;

/** What a test compares: the item without its label and timestamps of appearance. */
const brief = (n: Node) => ({
  recordId: n.recordId,
  action: n.action,
  party: n.party,
  jurisdiction: n.jurisdiction,
  dueAt: n.dueAt,
  dueDay: n.dueDay,
  overdue: n.overdue,
});

function worklistStory(subgraph: ReturnType<typeof useSubgraph>) {
  const app = () => subgraph.running().app;

  /** One command through its decider, appended to the store; then wait for the worklist to pass it. */
  async function run<C extends Command, E extends DomainEvent, S>(
    decider: Decider<C, E, S>,
    streamId: string,
    body: { type: C['type']; data: C['data'] },
    actor: Actor,
    now: Date,
  ): Promise<S> {
    const command = {
      ...body,
      metadata: { commandId: randomUUID(), now, actor, correlationId: 'worklist-spec' },
    } as C;
    const result = await app().get(Aggregates, { strict: false }).handle({ decider, streamId, command });
    await app().get(WorklistReadModel, { strict: false }).waitFor(result.lastLogPosition);
    return result.state;
  }
  const transfer = (id: string, body: Omit<TransferCommand, 'metadata'>, actor: Actor, now: Date) =>
    run<TransferCommand, TransferEvent, TransferState>(
      transfers,
      transferStream(id),
      body as TransferCommand,
      actor,
      now,
    );
  const manifest = (number: string, body: Omit<ManifestCommand, 'metadata'>, actor: Actor, now: Date) =>
    run(manifests, manifestStream(number), body as ManifestCommand, actor, now);
  const agreement = (id: string, body: Omit<AgreementCommand, 'metadata'>, now: Date) =>
    run(agreementDecider, agreementStream(id), body as AgreementCommand, systemActor('spec'), now);
  const facility = (id: string, body: Omit<FacilityCommand, 'metadata'>, now: Date) =>
    run(facilityDecider, facilityStream(id), body as FacilityCommand, systemActor('spec'), now);

  /** Submitted, accepted, written to and consented the same day (now); approved: to FACILITY. */
  async function approvedTransfer(id: string, now: Date): Promise<TransferState> {
    const today = LocalDate.ofInstant(now);
    const window = { from: today.toString(), to: today.plusDays(200).toString() };
    const data = application(id, JINCHENG, SICHUAN, CHONGQING, window);
    await transfer(id, { type: 'SubmitApplication', data }, userOf(JINCHENG.id), now);
    await transfer(id, { type: 'AcceptApplication', data: { transferId: id } }, userOf('sc-eeb'), now);
    await transfer(
      id,
      { type: 'SendConsultationLetter', data: { transferId: id, letterId: `letter-${id}` } },
      userOf('sc-eeb'),
      now,
    );
    await transfer(
      id,
      { type: 'ReplyToLetter', data: { transferId: id, decision: 'consent' } },
      userOf('cq-eeb'),
      now,
    );
    return transfer(id, { type: 'ApproveTransfer', data: { transferId: id } }, userOf('sc-eeb'), now);
  }

  async function worklist(
    agencyId: string,
    variables: { first?: number; after?: string | null; overdueOnly?: boolean } = {},
    as: Identity = identityOf(agencyId),
  ) {
    const { body } = await subgraph.post<{ agency: { transferWorklist: Page } }>(WORKLIST, {
      identity: as,
      variables: { id: agencyId, ...variables },
    });
    expect(body.errors).toBeUndefined();
    return body.data?.agency.transferWorklist as Page;
  }
  const items = async (agencyId: string, overdueOnly = false) =>
    (await worklist(agencyId, { first: 100, overdueOnly })).edges.map((e) => brief(e.node));

  it('shows each bureau, the secretariat and the generator exactly what waits on it, with due dates', async () => {
    // Everything is dated from today: the service's own deadline timers fire what is past due at once,
    // so a story in the past would race them. A miss is recorded by firing the timer at the due time.
    const now = new Date();
    const today = LocalDate.ofInstant(now);
    const window = { from: today.toString(), to: today.plusDays(300).toString() };
    // wl-t1, Sichuan → Chongqing: accepted and written today; Chongqing's reply is due in 10 working
    // days, and the timer, fired then, finds it missed.
    const t1 = application('wl-t1', JINCHENG, SICHUAN, CHONGQING, window);
    await transfer('wl-t1', { type: 'SubmitApplication', data: t1 }, userOf(JINCHENG.id), now);
    await transfer(
      'wl-t1',
      { type: 'AcceptApplication', data: { transferId: 'wl-t1' } },
      userOf('sc-eeb'),
      now,
    );
    await transfer(
      'wl-t1',
      { type: 'SendConsultationLetter', data: { transferId: 'wl-t1', letterId: 'SC-2026-001' } },
      userOf('sc-eeb'),
      now,
    );
    const reply = calendar.addWorkingDays(today, 10);
    await transfer(
      'wl-t1',
      { type: 'DeadlineTimerFired', data: { transferId: 'wl-t1', step: 'reply' } },
      timer,
      reply.deadline,
    );
    // wl-t5, Sichuan → Chongqing, accepted today: Sichuan reviews within 5 working days.
    const t5 = application('wl-t5', JINCHENG, SICHUAN, CHONGQING, window);
    await transfer('wl-t5', { type: 'SubmitApplication', data: t5 }, userOf(JINCHENG.id), now);
    await transfer(
      'wl-t5',
      { type: 'AcceptApplication', data: { transferId: 'wl-t5' } },
      userOf('sc-eeb'),
      now,
    );
    const review = calendar.addWorkingDays(today, 5);
    // wl-t2, Chongqing → Sichuan, submitted today: Chongqing checks completeness within 5 working days.
    const t2 = application('wl-t2', LIANGJIANG, CHONGQING, SICHUAN, window);
    await transfer('wl-t2', { type: 'SubmitApplication', data: t2 }, userOf(LIANGJIANG.id), now);
    const completeness = calendar.addWorkingDays(today, 5);
    // The regional agreement awaits both members' signatures.
    await agreement(
      'wl-a1',
      {
        type: 'ProposeAgreement',
        data: {
          agreementId: 'wl-a1',
          secretariatId: 'chengyu-secretariat',
          title: { zh: '川渝危险废物跨省转移合作协议', en: 'Sichuan–Chongqing hazardous waste agreement' },
          members: [SICHUAN, CHONGQING],
          effectiveFrom: today.plusDays(30).toString(),
          clauses: { tolerance: { percent: '5', kg: '100' }, maxTransitDays: 3 },
        },
      },
      now,
    );

    const signature = (jurisdiction: string) => ({
      recordId: 'wl-a1',
      action: 'agreement.sign',
      party: 'member-bureau',
      jurisdiction,
      dueAt: null,
      dueDay: null,
      overdue: false,
    });
    expect(await items('sc-eeb')).toEqual([
      {
        recordId: 'wl-t5',
        action: 'transfer.review',
        party: 'exporting-bureau',
        jurisdiction: SICHUAN,
        dueAt: review.deadline.toISOString(),
        dueDay: review.lastDay.toString(),
        overdue: false,
      },
      signature(SICHUAN),
    ]);
    expect(await items('cq-eeb')).toEqual([
      {
        recordId: 'wl-t2',
        action: 'transfer.check-completeness',
        party: 'exporting-bureau',
        jurisdiction: CHONGQING,
        dueAt: completeness.deadline.toISOString(),
        dueDay: completeness.lastDay.toString(),
        overdue: false,
      },
      {
        recordId: 'wl-t1',
        action: 'transfer.reply',
        party: 'receiving-bureau',
        jurisdiction: CHONGQING,
        dueAt: reply.deadline.toISOString(),
        dueDay: reply.lastDay.toString(),
        // Recorded missed: overdue whatever the time of the request.
        overdue: true,
      },
      signature(CHONGQING),
    ]);
    // The miss is escalated to the regional secretariat (domain.md, Consultation 7), never consent.
    expect(await items('chengyu-secretariat')).toEqual([
      {
        recordId: 'wl-t1',
        action: 'transfer.follow-up-missed-deadline',
        party: 'secretariat',
        jurisdiction: CHONGQING,
        dueAt: reply.deadline.toISOString(),
        dueDay: reply.lastDay.toString(),
        overdue: true,
      },
    ]);
    // The generators wait on the bureaus: withdrawing is their option, not work waiting on them.
    expect(await items(JINCHENG.id)).toEqual([]);
    expect(await items(LIANGJIANG.id)).toEqual([]);
    // A municipal bureau answers for nothing on a provincial transfer.
    expect(await items('cd-eeb')).toEqual([]);

    expect((await items('cq-eeb', true)).map((i) => i.recordId)).toEqual(['wl-t1']);
    expect(await items('sc-eeb', true)).toEqual([]);

    const full = await worklist('cq-eeb');
    expect(full.edges[1].node).toMatchObject({
      recordType: 'Transfer',
      label: { zh: '复函：同意或不同意转移', en: 'reply to the consultation letter: consent or refuse' },
      since: now.toISOString(),
    });
    expect(full.edges[2].node.recordType).toBe('Agreement');
  });

  it('counts an item overdue once the request comes after its due time, except where silence accepts', async () => {
    const platform = app().get<Platform>(PLATFORM, { strict: false });
    const page = (agencyId: string, now: Date, overdueOnly = false) =>
      workItemPage({
        client: platform.sql,
        table: `${platform.schema}.worklist_items`,
        holder: holderOf(
          {
            id: agencyId,
            kind: 'provincial-bureau',
            jurisdiction: directory.requireAgency(agencyId).jurisdiction,
          } as AgencyNode,
          directory,
        ),
        now,
        overdueOnly,
        identity: identityOf(agencyId),
      });
    const later = (iso: string | null) => new Date(Date.parse(iso ?? '') + 1);
    const before = await page('sc-eeb', new Date());
    const review = before.edges[0].node;
    expect([review.recordId, review.overdue]).toEqual(['wl-t5', false]);
    const after = await page('sc-eeb', later(review.dueAt?.toISOString() ?? null), true);
    expect(after.edges.map((e) => [e.node.recordId, e.node.overdue])).toEqual([['wl-t5', true]]);
    // Past the completeness period the application counts as accepted (Art 23): nobody is late.
    const check = (await page('cq-eeb', new Date())).edges[0].node;
    expect(check.action).toBe('transfer.check-completeness');
    const lapsed = await page('cq-eeb', later(check.dueAt?.toISOString() ?? null));
    expect(lapsed.edges.find((e) => e.node.recordId === 'wl-t2')?.node.overdue).toBe(false);
    expect(
      (await page('cq-eeb', later(check.dueAt?.toISOString() ?? null), true)).edges.map(
        (e) => e.node.recordId,
      ),
    ).toEqual(['wl-t1']);
  });

  it('pages by cursor in due-date order, items without a due date last', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const p: Page = await worklist('cq-eeb', { first: 1, after });
      expect(p.totalCount).toBe(3);
      seen.push(...p.edges.map((e) => e.node.recordId));
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
    }
    expect(seen).toEqual(['wl-t2', 'wl-t1', 'wl-a1']);
    const { body } = await subgraph.post(WORKLIST, {
      identity: identityOf('cq-eeb'),
      variables: { id: 'cq-eeb', first: 101 },
    });
    expect(body.errors?.[0].extensions).toMatchObject({ field: 'first' });
  });

  it('takes items off as they are acted on, and puts the next step on the next agency', async () => {
    const now = new Date();
    const today = LocalDate.ofInstant(now);
    // Chongqing replies (late): its item and the escalation go; Sichuan must now decide within 5 days.
    await transfer(
      'wl-t1',
      { type: 'ReplyToLetter', data: { transferId: 'wl-t1', decision: 'consent' } },
      userOf('cq-eeb'),
      now,
    );
    await agreement('wl-a1', { type: 'SignAgreement', data: { agreementId: 'wl-a1', member: SICHUAN } }, now);
    await transfer(
      'wl-t5',
      { type: 'WithdrawApplication', data: { transferId: 'wl-t5', reason: 'contract ended' } },
      userOf(JINCHENG.id),
      now,
    );
    const decision = calendar.addWorkingDays(today, 5);
    expect(await items('sc-eeb')).toEqual([
      {
        recordId: 'wl-t1',
        action: 'transfer.decide',
        party: 'exporting-bureau',
        jurisdiction: SICHUAN,
        dueAt: decision.deadline.toISOString(),
        dueDay: decision.lastDay.toString(),
        overdue: false,
      },
    ]);
    expect((await items('cq-eeb')).map((i) => [i.recordId, i.action])).toEqual([
      ['wl-t2', 'transfer.check-completeness'],
      ['wl-a1', 'agreement.sign'],
    ]);
    expect(await items('chengyu-secretariat')).toEqual([]);

    // The last signature adopts the agreement: nobody waits any more.
    await agreement(
      'wl-a1',
      { type: 'SignAgreement', data: { agreementId: 'wl-a1', member: CHONGQING } },
      now,
    );
    await transfer(
      'wl-t1',
      { type: 'ApproveTransfer', data: { transferId: 'wl-t1' } },
      userOf('sc-eeb'),
      now,
    );
    expect(await items('sc-eeb')).toEqual([]);
    expect((await items('cq-eeb')).map((i) => i.recordId)).toEqual(['wl-t2']);
  });

  it('puts each manifest step on the carrier and the receiver by credit code, with its deadline', async () => {
    const now = new Date();
    const today = LocalDate.ofInstant(now);
    const approval = (await approvedTransfer('wl-t3', now)).approval;
    const number = `${today.year}5101000001`;
    const carrier = SHUYUN.creditCode ?? '';
    await manifest(
      number,
      {
        type: 'OpenManifest',
        data: {
          manifestNumber: number,
          authorization: {
            kind: 'approval',
            id: 'wl-t3',
            remainingKg: approval?.totalKg ?? '0',
            validFrom: approval?.validFrom ?? '',
            validUntil: approval?.validUntil ?? '',
            wasteClasses: ['hazardous:900-249-08'],
            receiverFacilityId: FACILITY,
          },
          generator: { creditCode: JINCHENG.creditCode ?? '', jurisdiction: '510100' },
          receiver: { creditCode: YUHUAN.creditCode ?? '', jurisdiction: '500115', facilityId: FACILITY },
          carrierCreditCode: carrier,
          consignor: 'generator',
          waste: {
            wasteClass: 'hazardous:900-249-08',
            name: '废矿物油',
            declaredKg: '4000',
            hazardCharacteristics: ['T', 'I'],
            packaging: 'IBC 吨桶',
            form: 'liquid',
            emergencyMeasures: '泄漏时用沙土围堵，禁止明火',
          },
        },
      },
      userOf(JINCHENG.id),
      now,
    );
    expect(await items(SHUYUN.id)).toEqual([
      {
        recordId: number,
        action: 'manifest.pickup',
        party: 'carrier',
        jurisdiction: '510100',
        dueAt: null,
        dueDay: null,
        overdue: false,
      },
    ]);
    await manifest(
      number,
      {
        type: 'ConfirmPickup',
        data: {
          manifestNumber: number,
          carrierCreditCode: carrier,
          vehiclePlate: '川A12345',
          operatingLicence: '川交运管危字510100001号',
          driverSubjectId: 'driver-1',
        },
      },
      userOf(SHUYUN.id),
      now,
    );
    // Three calendar days in transit, the pickup day not counted, until 24:00 of the last.
    const transitDue = today.plusDays(4).startInstant().toISOString();
    expect(await items(SHUYUN.id)).toEqual([
      {
        recordId: number,
        action: 'manifest.deliver',
        party: 'carrier',
        jurisdiction: '510100',
        dueAt: transitDue,
        dueDay: today.plusDays(3).toString(),
        overdue: false,
      },
    ]);
    await manifest(
      number,
      { type: 'Deliver', data: { manifestNumber: number, carrierCreditCode: carrier } },
      userOf(SHUYUN.id),
      now,
    );
    const receipt = calendar.addWorkingDays(now, 5);
    expect(await items(SHUYUN.id)).toEqual([]);
    expect(await items(YUHUAN.id)).toEqual([
      {
        recordId: number,
        action: 'manifest.confirm-receipt',
        party: 'receiver',
        jurisdiction: '500115',
        dueAt: receipt.deadline.toISOString(),
        dueDay: receipt.lastDay.toString(),
        overdue: false,
      },
    ]);
    await manifest(
      number,
      { type: 'AcceptReceipt', data: { manifestNumber: number, acceptedKg: '3990', method: 'R9' } },
      userOf(YUHUAN.id),
      now,
    );
    expect((await items(YUHUAN.id)).map((i) => [i.action, i.dueAt])).toEqual([
      ['manifest.confirm-disposal', null],
    ]);
    await manifest(
      number,
      { type: 'ConfirmDisposal', data: { manifestNumber: number, method: 'R9' } },
      userOf(YUHUAN.id),
      now,
    );
    expect(await items(YUHUAN.id)).toEqual([]);
  });

  it("puts the open approvals to a suspended facility on both bureaus' and the generator's worklists", async () => {
    const now = new Date();
    const suspended = (list: Awaited<ReturnType<typeof items>>) =>
      list.filter((i) => i.action === 'transfer.receiver-suspended');
    await facility(
      FACILITY,
      {
        type: 'RegisterFacility',
        data: {
          facilityId: FACILITY,
          profile: {
            name: { zh: '重庆渝环危废处置中心', en: 'Chongqing Yuhuan Disposal Centre' },
            licenceNumber: '渝危废经第500115001号',
            operatorCreditCode: YUHUAN.creditCode ?? '',
            jurisdiction: '500115',
            coordinates: { lat: '29.85', lon: '107.07' },
            licensed: [{ category: 'HW08', annualCapacityTonnes: '5000' }],
            validFrom: '2024-01-01',
            validTo: '2099-12-31',
          },
        },
      },
      now,
    );
    // wl-t1 and wl-t3 are approved to it already (above).
    await facility(
      FACILITY,
      { type: 'SuspendFacility', data: { facilityId: FACILITY, reason: '超标排放' } },
      now,
    );
    const expected = (party: string, jurisdiction: string) =>
      ['wl-t1', 'wl-t3'].map((recordId) => ({
        recordId,
        action: 'transfer.receiver-suspended',
        party,
        jurisdiction,
        dueAt: null,
        dueDay: null,
        overdue: false,
      }));
    expect(suspended(await items('sc-eeb'))).toEqual(expected('exporting-bureau', SICHUAN));
    expect(suspended(await items('cq-eeb'))).toEqual(expected('receiving-bureau', CHONGQING));
    expect(await items(JINCHENG.id)).toEqual(expected('generator', SICHUAN));
    expect(await items('chengyu-secretariat')).toEqual([]);

    // Approved while the facility is suspended: on the worklists at once.
    await approvedTransfer('wl-t4', now);
    expect(suspended(await items('cq-eeb')).map((i) => i.recordId)).toEqual(['wl-t1', 'wl-t3', 'wl-t4']);

    await facility(FACILITY, { type: 'ReinstateFacility', data: { facilityId: FACILITY } }, now);
    expect(suspended(await items('sc-eeb'))).toEqual([]);
    expect(suspended(await items('cq-eeb'))).toEqual([]);
    // Reinstated: the generator may ship again under each approval, due by its last valid day.
    expect((await items(JINCHENG.id)).map((i) => [i.recordId, i.action]).sort()).toEqual(
      ['wl-t1', 'wl-t3', 'wl-t4'].map((id) => [id, 'transfer.open-manifest']),
    );
  });

  it("puts 'open a manifest' on the generator after an approval, until it is used up, released or its receiver revoked", async () => {
    const now = new Date();
    const openers = async () =>
      (await items(JINCHENG.id))
        .filter((i) => i.action === 'transfer.open-manifest')
        .map((i) => i.recordId)
        .sort();
    const state = await approvedTransfer('wl-t7', now);
    const validUntil = state.approval?.validUntil ?? '';
    const lastDay = LocalDate.parseOrThrow(validUntil);
    expect((await items(JINCHENG.id)).find((i) => i.recordId === 'wl-t7')).toEqual({
      recordId: 'wl-t7',
      action: 'transfer.open-manifest',
      party: 'generator',
      jurisdiction: SICHUAN,
      dueAt: lastDay.plusDays(1).startInstant().toISOString(),
      dueDay: validUntil,
      overdue: false,
    });
    // Nobody else is asked to open it.
    expect((await items('sc-eeb')).some((i) => i.action === 'transfer.open-manifest')).toBe(false);

    // Manifests declaring all 12 t of the approval use it up; a rejected one gives its weight back.
    const usage = (manifestNumber: string, body: Omit<ApprovalUsageCommand, 'metadata'>) =>
      run(approvalUsageDecider, approvalUsageStream('wl-t7'), body as ApprovalUsageCommand, timer, now).then(
        () => manifestNumber,
      );
    const commit = (manifestNumber: string, declaredKg: string) =>
      usage(manifestNumber, {
        type: 'CommitDeclared',
        data: {
          transferId: 'wl-t7',
          manifestNumber,
          wasteClass: 'hazardous:900-249-08',
          declaredKg,
          authorizedKg: '12000',
        },
      });
    await commit('m-1', '8000');
    expect(await openers()).toContain('wl-t7');
    await commit('m-2', '4000');
    expect(await openers()).not.toContain('wl-t7');
    await usage('m-2', { type: 'ReleaseRejected', data: { manifestNumber: 'm-2' } });
    expect(await openers()).toContain('wl-t7');

    // Its capacity released at expiry (the approval-expiry timer): it is over.
    const year = LocalDate.ofInstant(now).year;
    const ledger = capacityStream(FACILITY, 'HW08', year);
    const capacity = (body: Omit<CapacityCommand, 'metadata'>) =>
      run(capacityDecider, ledger, body as CapacityCommand, timer, now);
    await capacity({
      type: 'OpenLedger',
      data: { facilityId: FACILITY, category: 'HW08', year, capacityKg: '5000000' },
    });
    await capacity({ type: 'Reserve', data: { reservationId: 'wl-t7', quantityKg: '12000' } });
    expect(await openers()).toContain('wl-t7');
    await capacity({ type: 'Release', data: { reservationId: 'wl-t7', reason: 'expiry' } });
    expect(await openers()).toEqual(['wl-t1', 'wl-t3', 'wl-t4']);

    // A revoked receiver takes no manifests again: every item of its approvals goes.
    await facility(
      FACILITY,
      { type: 'RevokeFacility', data: { facilityId: FACILITY, reason: '吊销许可证' } },
      now,
    );
    expect(await openers()).toEqual([]);
  });

  it("puts a manifest's discrepancies on the receiving province's bureau; a correction within tolerance closes the weight one, its review the rest", async () => {
    const now = new Date();
    const today = LocalDate.ofInstant(now);
    const approval = (await approvedTransfer('wl-t8', now)).approval;
    const number = `${today.year}5101000002`;
    const carrier = SHUYUN.creditCode ?? '';
    const step = (body: Omit<ManifestCommand, 'metadata'>, by: string) =>
      manifest(number, body, userOf(by), new Date());
    await step(
      {
        type: 'OpenManifest',
        data: {
          manifestNumber: number,
          authorization: {
            kind: 'approval',
            id: 'wl-t8',
            remainingKg: approval?.totalKg ?? '0',
            validFrom: approval?.validFrom ?? '',
            validUntil: approval?.validUntil ?? '',
            wasteClasses: ['hazardous:900-249-08'],
            receiverFacilityId: FACILITY,
          },
          generator: { creditCode: JINCHENG.creditCode ?? '', jurisdiction: '510100' },
          receiver: { creditCode: YUHUAN.creditCode ?? '', jurisdiction: '500115', facilityId: FACILITY },
          carrierCreditCode: carrier,
          consignor: 'generator',
          waste: {
            wasteClass: 'hazardous:900-249-08',
            name: '废矿物油',
            declaredKg: '4000',
            hazardCharacteristics: ['T', 'I'],
            packaging: 'IBC 吨桶',
            form: 'liquid',
            emergencyMeasures: '泄漏时用沙土围堵，禁止明火',
          },
        },
      },
      JINCHENG.id,
    );
    await step(
      {
        type: 'ConfirmPickup',
        data: {
          manifestNumber: number,
          carrierCreditCode: carrier,
          vehiclePlate: '川A12345',
          operatingLicence: '川交运管危字510100001号',
          driverSubjectId: 'driver-1',
        },
      },
      SHUYUN.id,
    );
    await step({ type: 'Deliver', data: { manifestNumber: number, carrierCreditCode: carrier } }, SHUYUN.id);
    // 300 kg short of 4000 (7.5%): beyond both tolerances; and the drums are not what was declared.
    await step(
      {
        type: 'AcceptReceipt',
        data: {
          manifestNumber: number,
          acceptedKg: '3700',
          method: 'R9',
          differences: [{ kind: 'packaging', declared: 'IBC 吨桶', found: '200 L 铁桶' }],
        },
      },
      YUHUAN.id,
    );
    const discrepancies = async (agencyId: string) =>
      (await worklist(agencyId, { first: 100 })).edges
        .map((e) => e.node)
        .filter((n) => n.recordId === number && n.action.startsWith('manifest.discrepancy-'));
    const found = await discrepancies('cq-eeb');
    expect(found.map((n) => [n.action, n.party, n.jurisdiction, n.dueAt, n.overdue])).toEqual([
      ['manifest.discrepancy-packaging', 'receiving-bureau', CHONGQING, null, false],
      ['manifest.discrepancy-weight', 'receiving-bureau', CHONGQING, null, false],
    ]);
    expect(found.find((n) => n.action === 'manifest.discrepancy-weight')?.label.en).toContain('3700.000 kg');
    expect(found.find((n) => n.action === 'manifest.discrepancy-packaging')?.label).toEqual({
      zh: '核查差异：联单包装不符，申报“IBC 吨桶”，实为“200 L 铁桶”（作出处理决定即办结）',
      en: 'review the discrepancy: the packaging differs, "IBC 吨桶" declared, "200 L 铁桶" found (closes on your decision)',
    });
    // Reported to the receiving side only (domain.md); the exporting bureau has the integration event.
    expect(await discrepancies('sc-eeb')).toEqual([]);
    const since = found.find((n) => n.action === 'manifest.discrepancy-weight')?.since;

    // Corrected to 3750: still beyond tolerance, the same discrepancy (since kept), with the new weight.
    await step(
      { type: 'CorrectReceipt', data: { manifestNumber: number, acceptedKg: '3750', reason: '复磅' } },
      YUHUAN.id,
    );
    const still = (await discrepancies('cq-eeb')).find((n) => n.action === 'manifest.discrepancy-weight');
    expect(still?.since).toBe(since);
    expect(still?.label.en).toContain('3750.000 kg');

    // Corrected to 3850 (150 kg, 3.75%): within tolerance, the weight item closes; the packaging one stays.
    await step(
      {
        type: 'CorrectReceipt',
        data: { manifestNumber: number, acceptedKg: '3850', reason: '地磅校准后复核' },
      },
      YUHUAN.id,
    );
    expect((await discrepancies('cq-eeb')).map((n) => n.action)).toEqual(['manifest.discrepancy-packaging']);
    // Disposal ends the receiver's work, not the bureau's.
    await step({ type: 'ConfirmDisposal', data: { manifestNumber: number, method: 'R9' } }, YUHUAN.id);
    expect((await discrepancies('cq-eeb')).map((n) => n.action)).toEqual(['manifest.discrepancy-packaging']);
    // The bureau's review closes what is open.
    await step(
      {
        type: 'ReviewManifestDiscrepancies',
        data: { manifestNumber: number, decision: 'no-further-action', note: '包装已核实 / drums checked' },
      },
      'cq-eeb',
    );
    expect(await discrepancies('cq-eeb')).toEqual([]);
  });

  it("puts a capacity shortfall on the bureau of the facility's province until the ledger is back within its licence", async () => {
    const now = new Date();
    const year = LocalDate.ofInstant(now).year;
    const facilityId = 'fac-wl-rongqing';
    const ledger = capacityStream(facilityId, 'HW08', year);
    const capacity = (body: Omit<CapacityCommand, 'metadata'>) =>
      run(capacityDecider, ledger, body as CapacityCommand, timer, now);
    const shortfalls = async (agencyId: string) =>
      (await items(agencyId)).filter((i) => i.action === 'capacity.shortfall');
    await capacity({ type: 'OpenLedger', data: { facilityId, category: 'HW08', year, capacityKg: '10000' } });
    await capacity({ type: 'Reserve', data: { reservationId: 'wl-c1', quantityKg: '6000' } });
    await capacity({ type: 'Reserve', data: { reservationId: 'wl-c2', quantityKg: '3000' } });
    // A partial revocation below what is held: 9 t committed, 5 t licensed.
    await capacity({
      type: 'AdjustCapacity',
      data: { capacityKg: '5000', revocation: true, reason: '许可证部分吊销' },
    });
    // The facility is not registered yet: nobody's province to name.
    expect(await shortfalls('sc-eeb')).toEqual([]);
    await facility(
      facilityId,
      {
        type: 'RegisterFacility',
        data: {
          facilityId,
          profile: {
            name: { zh: '成都蓉清危废处置中心', en: 'Chengdu Rongqing Disposal Centre' },
            licenceNumber: '川危废经第510112001号',
            operatorCreditCode: directory.requireAgency('cd-rongqing-disposal').creditCode ?? '',
            jurisdiction: '510112',
            coordinates: { lat: '30.56', lon: '104.27' },
            licensed: [{ category: 'HW08', annualCapacityTonnes: '5' }],
            validFrom: '2024-01-01',
            validTo: '2099-12-31',
          },
        },
      },
      now,
    );
    const expected = {
      recordId: facilityId,
      action: 'capacity.shortfall',
      party: 'licensing-bureau',
      jurisdiction: SICHUAN,
      dueAt: null,
      dueDay: null,
      overdue: false,
    };
    expect(await shortfalls('sc-eeb')).toEqual([expected]);
    expect(await shortfalls('cq-eeb')).toEqual([]);
    const label = async () =>
      (await worklist('sc-eeb', { first: 100 })).edges.find((e) => e.node.action === 'capacity.shortfall')
        ?.node.label.en;
    expect(await label()).toContain(`HW08 ${year} over by 4000.000 kg`);

    // One approval released: 6 t held, still 1 t over; the other: within the licence, the item goes.
    await capacity({ type: 'Release', data: { reservationId: 'wl-c2', reason: 'withdrawal' } });
    expect(await label()).toContain(`HW08 ${year} over by 1000.000 kg`);
    await capacity({ type: 'Release', data: { reservationId: 'wl-c1', reason: 'revocation' } });
    expect(await shortfalls('sc-eeb')).toEqual([]);
  });

  it('refuses to show an agency’s worklist to anyone but the agency itself, naming the rule', async () => {
    const { body } = await subgraph.post(WORKLIST, {
      identity: identityOf('cq-eeb'),
      variables: { id: 'sc-eeb' },
    });
    expect(body.data?.agency).toBeNull();
    expect(body.errors?.[0].extensions).toMatchObject({ code: 'FORBIDDEN', rule: 'transfer.worklist.read' });
    expect(body.errors?.[0].message).toContain('sc-eeb');
    const secretariat = await subgraph.post(WORKLIST, {
      identity: identityOf('chengyu-secretariat'),
      variables: { id: 'cq-eeb' },
    });
    expect(secretariat.body.errors?.[0].extensions).toMatchObject({ rule: 'transfer.worklist.read' });
  });

  it('answers the console’s query through GraphQL', async () => {
    const now = new Date();
    const today = LocalDate.ofInstant(now);
    const data = application('wl-t6', JINCHENG, SICHUAN, CHONGQING, {
      from: today.toString(),
      to: today.plusDays(30).toString(),
    });
    await transfer('wl-t6', { type: 'SubmitApplication', data }, userOf(JINCHENG.id), now);
    const { body } = await subgraph.post<{
      agency: { transferWorklist: { totalCount: number; edges: { node: Record<string, unknown> }[] } };
    }>(
      '{ agency(id:"sc-eeb") { transferWorklist { totalCount edges { node { action dueAt overdue } } } } }',
      {
        identity: identityOf('sc-eeb'),
      },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.agency.transferWorklist).toEqual({
      totalCount: 1,
      edges: [
        {
          node: {
            action: 'transfer.check-completeness',
            dueAt: calendar.addWorkingDays(today, 5).deadline.toISOString(),
            overdue: false,
          },
        },
      ],
    });
  });

  it('serves Agency.transferWorklist and the shareable WorkItem types in its SDL', async () => {
    const { body } = await subgraph.post<{ _service: { sdl: string } }>('{ _service { sdl } }', {
      identity: identityOf('sc-eeb'),
    });
    const sdl = body.data?._service.sdl ?? '';
    const field = /transferWorklist\(([\s\S]*?)\): WorkItemConnection!/.exec(sdl)?.[1] ?? '';
    for (const arg of ['first: Int', 'after: String', 'overdueOnly: Boolean'])
      expect(field).toContain(`${arg}\n`);
    for (const type of ['WorkItem', 'WorkItemEdge', 'WorkItemPageInfo', 'WorkItemConnection'])
      expect(sdl).toMatch(new RegExp(`type ${type}\\s+@shareable`));
  });

  it('keeps each record’s folded state as the deciders fold it from the stream (plain JSON)', async () => {
    const platform = app().get<Platform>(PLATFORM, { strict: false });
    const store = app().get<EventStore>(EVENT_STORE, { strict: false });
    const { rows } = await platform.sql.query<{ state: unknown }>(
      `SELECT state FROM ${platform.schema}.worklist_records WHERE stream_id = $1`,
      [transferStream('wl-t1')],
    );
    const stored = typeof rows[0].state === 'string' ? JSON.parse(rows[0].state) : rows[0].state;
    const events = (await store.readStream(transferStream('wl-t1'))).events;
    const folded = events.reduce<TransferState>(
      (s, e) => transfers.evolve(s, { type: e.type, data: e.data } as TransferEvent),
      transfers.initialState(),
    );
    expect(stored).toEqual(folded);
    expect(folded.status).toBe('approved');
  });
}

describe('the worklist derives its items from the deciders’ next actions', () => {
  it('adds the escalation only while the missed step is open', () => {
    const state: TransferState = {
      status: 'consulting',
      transferId: 't',
      application: {
        generator: { agencyId: 'g', creditCode: JINCHENG.creditCode ?? '' },
        exportingJurisdiction: SICHUAN,
        receivingJurisdiction: CHONGQING,
        receiver: { facilityId: FACILITY, licenceValidUntil: '2099-12-31' },
        lines: [],
        totalKg: '1.000',
        method: 'R9',
        window: { from: '2026-11-01', to: '2027-10-31' },
        attachments: [],
      },
      dueDates: {},
      overdue: ['reply'],
    };
    const actions = (s: TransferState) => transferItems(s, '2026-11-01T00:00:00.000Z').map((i) => i.action);
    // The reply step closed (its deadline dropped): the escalation ends with it.
    expect(actions(state)).not.toContain('transfer.follow-up-missed-deadline');
    const reply = {
      step: 'reply' as const,
      from: '2026-10-13',
      workingDays: 10,
      lastDay: '2026-10-27',
      dueAt: '2026-10-27T16:00:00.000Z',
      provisional: false,
      responsibleJurisdiction: CHONGQING,
    };
    expect(actions({ ...state, dueDates: { reply } })).toEqual([
      'transfer.reply',
      'transfer.follow-up-missed-deadline',
    ]);
    expect(actions({ ...state, status: 'refused', dueDates: {}, overdue: [] })).toEqual([]);
  });

  it('lists the members that have not signed a proposal or a pending amendment', () => {
    const base = {
      agreementId: 'a',
      secretariatId: 's',
      title: { zh: '协议', en: 'agreement' },
      members: [SICHUAN, CHONGQING, '530000'],
      effectiveFrom: '2027-01-01',
      validUntil: null,
      proposedClauses: {} as never,
      rejection: null,
      versions: [],
      decidedAmendmentIds: [],
    };
    expect(
      agreementNextActions({ ...base, status: 'proposed', signedBy: [CHONGQING], pendingAmendment: null }),
    ).toEqual([
      { command: 'SignAgreement', member: SICHUAN, amendmentId: null },
      { command: 'SignAgreement', member: '530000', amendmentId: null },
    ]);
    const pending = {
      amendmentId: 'am-1',
      effectiveFrom: '2027-07-01',
      validUntil: null,
      clauses: {} as never,
      signedBy: [SICHUAN, '530000'],
    };
    expect(
      agreementNextActions({ ...base, status: 'adopted', signedBy: base.members, pendingAmendment: pending }),
    ).toEqual([{ command: 'SignAmendment', member: CHONGQING, amendmentId: 'am-1' }]);
    expect(
      agreementNextActions({ ...base, status: 'rejected', signedBy: [], pendingAmendment: null }),
    ).toEqual([]);
  });
});

describe('the worklist items of approvals, discrepancies and capacity (pure)', () => {
  const standing = (patch: Partial<ApprovalStanding> = {}): ApprovalStanding => ({
    approval: {
      transferId: 't',
      facilityId: FACILITY,
      generatorAgencyId: JINCHENG.id,
      exportingJurisdiction: SICHUAN,
      receivingJurisdiction: CHONGQING,
      validUntil: '2027-06-30',
    },
    lines: [
      { wasteCode: '900-249-08', quantityKg: '1000.000' },
      { wasteCode: '900-249-08', quantityKg: '500.000' },
      { wasteCode: '900-041-49', quantityKg: '200.000' },
    ],
    approved: true,
    usage: null,
    released: false,
    facility: undefined,
    today: '2027-06-30',
    ...patch,
  });
  const actions = (s: ApprovalStanding) =>
    openManifestItems(s, '2027-01-01T00:00:00.000Z').map((i) => i.action);

  it('asks the generator to open manifests through the last valid day, not after, nor when over', () => {
    expect(openManifestItems(standing(), '2027-01-01T00:00:00.000Z')).toEqual([
      expect.objectContaining({
        action: 'transfer.open-manifest',
        party: 'generator',
        responsible: { agencyId: JINCHENG.id },
        // 24:00 Asia/Shanghai of 30 June.
        dueAt: '2027-06-30T16:00:00.000Z',
        overdueAtDue: false,
      }),
    ]);
    expect(actions(standing({ today: '2027-07-01' }))).toEqual([]);
    expect(actions(standing({ released: true }))).toEqual([]);
    expect(actions(standing({ approved: false }))).toEqual([]);
    const facility = (status: 'active' | 'suspended' | 'revoked') =>
      ({ status, facilityId: FACILITY, profile: {} }) as unknown as FacilityState;
    expect(actions(standing({ facility: facility('active') }))).toEqual(['transfer.open-manifest']);
    expect(actions(standing({ facility: facility('suspended') }))).toEqual([]);
    expect(actions(standing({ facility: facility('revoked') }))).toEqual([]);
  });

  it('counts an approval used up only when every class is held, the lines of one code summed', () => {
    const usage = (held: Record<string, [string, string]>) => ({
      transferId: 't',
      manifests: Object.fromEntries(
        Object.entries(held).map(([m, [wasteClass, kg]]) => [
          m,
          { wasteClass, kg, basis: 'declared' as const },
        ]),
      ),
    });
    const lines = standing().lines;
    expect(approvalUsedUp(lines, null)).toBe(false);
    expect(approvalUsedUp(lines, usage({ a: ['hazardous:900-249-08', '1500.000'] }))).toBe(false);
    expect(
      approvalUsedUp(
        lines,
        usage({ a: ['hazardous:900-249-08', '1499.999'], b: ['hazardous:900-041-49', '200.000'] }),
      ),
    ).toBe(false);
    expect(
      approvalUsedUp(
        lines,
        usage({ a: ['hazardous:900-249-08', '1500.000'], b: ['hazardous:900-041-49', '200.000'] }),
      ),
    ).toBe(true);
  });

  it('keeps a weight discrepancy that a correction re-judges in the same command, with its first day', () => {
    const found = (acceptedKg: string) =>
      ({
        type: 'ManifestDiscrepancyFound',
        data: {
          manifestNumber: 'n',
          kind: 'weight',
          declaredKg: '4000.000',
          acceptedKg,
          differenceKg: '0',
          tolerance: { percentBasisPoints: 500, kg: '100.000' },
          reportTo: CHONGQING,
        },
      }) as const;
    const corrected = { type: 'ManifestReceiptCorrected', data: { manifestNumber: 'n' } } as never;
    const first = evolveDiscrepancies(undefined, found('3700.000'), 'c1', 'T1');
    const reJudged = evolveDiscrepancies(
      evolveDiscrepancies(first, corrected, 'c2', 'T2'),
      found('3750.000'),
      'c2',
      'T2',
    );
    expect(discrepancyItems(reJudged).map((i) => [i.action, i.since, i.jurisdiction])).toEqual([
      ['manifest.discrepancy-weight', 'T1', CHONGQING],
    ]);
    // Closed by a correction within tolerance; a later finding (another command) is a new one.
    const closed = evolveDiscrepancies(reJudged, corrected, 'c3', 'T3');
    expect(discrepancyItems(closed)).toEqual([]);
    expect(
      discrepancyItems(evolveDiscrepancies(closed, found('3000.000'), 'c4', 'T4')).map((i) => i.since),
    ).toEqual(['T4']);
    // A correction of a manifest without a discrepancy records nothing.
    expect(evolveDiscrepancies(undefined, corrected, 'c1', 'T1')).toBeUndefined();
  });

  it("closes the reviewed kinds on the bureau's review; a weight found again later is a new item", () => {
    const weight = {
      type: 'ManifestDiscrepancyFound',
      data: {
        manifestNumber: 'n',
        kind: 'weight',
        declaredKg: '4000.000',
        acceptedKg: '3700.000',
        differenceKg: '300.000',
        tolerance: { percentBasisPoints: 500, kg: '100.000' },
        reportTo: CHONGQING,
      },
    } as const;
    const form = {
      type: 'ManifestDiscrepancyFound',
      data: { manifestNumber: 'n', kind: 'form', declared: 'liquid', found: 'sludge', reportTo: CHONGQING },
    } as const;
    const reviewed = (kinds: ('weight' | 'form')[]) =>
      ({
        type: 'ManifestDiscrepanciesReviewed',
        data: {
          manifestNumber: 'n',
          decision: 'refer-to-enforcement',
          note: 'x',
          kinds,
          reportTo: CHONGQING,
          reviewedBy: 'cq-eeb',
          reviewedAt: 'T2',
        },
      }) as const;
    const corrected = { type: 'ManifestReceiptCorrected', data: { manifestNumber: 'n' } } as never;
    const both = evolveDiscrepancies(evolveDiscrepancies(undefined, weight, 'c1', 'T1'), form, 'c1', 'T1');
    expect(discrepancyItems(both).map((i) => i.action)).toEqual([
      'manifest.discrepancy-weight',
      'manifest.discrepancy-form',
    ]);
    // Only the kinds the review names close.
    const weightOnly = evolveDiscrepancies(both, reviewed(['weight']), 'c2', 'T2');
    expect(discrepancyItems(weightOnly).map((i) => i.action)).toEqual(['manifest.discrepancy-form']);
    const closed = evolveDiscrepancies(both, reviewed(['weight', 'form']), 'c2', 'T2');
    expect(discrepancyItems(closed)).toEqual([]);
    // A later correction still beyond tolerance: a new item from its own day, not the first one's.
    const again = evolveDiscrepancies(evolveDiscrepancies(closed, corrected, 'c3', 'T3'), weight, 'c3', 'T3');
    expect(discrepancyItems(again).map((i) => [i.action, i.since])).toEqual([
      ['manifest.discrepancy-weight', 'T3'],
    ]);
    // A review of a manifest the worklist has no discrepancy of records nothing.
    expect(evolveDiscrepancies(undefined, reviewed(['weight']), 'c1', 'T1')).toBeUndefined();
  });

  it('names no bureau for a shortfall until the facility is known, then its province', () => {
    const short = [{ category: 'HW08', year: 2027, shortfallKg: '10.000' }];
    expect(shortfallItems('f', undefined, short, 'T')).toEqual([]);
    const registered = {
      status: 'active',
      facilityId: 'f',
      profile: { jurisdiction: '500115' },
    } as unknown as FacilityState;
    expect(shortfallItems('f', registered, [], 'T')).toEqual([]);
    expect(shortfallItems('f', registered, short, 'T')).toEqual([
      expect.objectContaining({
        action: 'capacity.shortfall',
        jurisdiction: CHONGQING,
        responsible: { agencyKind: 'provincial-bureau' },
      }),
    ]);
  });
});

describeWithPostgres('transfer-service worklist on PostgreSQL', () => {
  const db = useTestDatabase('worklist');
  const subgraph = useSubgraph(service, {
    env: () => ({ EVENT_STORE: 'postgres', DATABASE_URL: db().url, BUS: 'memory' }),
  });
  worklistStory(subgraph);
});

describe('transfer-service worklist embedded (PGlite)', () => {
  worklistStory(useSubgraph(service));
});
