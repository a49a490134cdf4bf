import { tmpdir } from 'node:os';
import { loadDirectory, type Identity } from '@lianfang/auth';
import { JurisdictionCode, LocalDate, WorkingDayCalendar } from '@lianfang/domain-kernel';
import {
  LOG_START,
  systemActor,
  type CommandMetadata,
  type EventStore,
  type LogPosition,
  type RecordedEvent,
} from '@lianfang/eventsourcing';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import { useSubgraph } from '@lianfang/testing';
import { capacityStream } from '../capacity/decider';
import { service, seed } from '../service';
import {
  transferDecider,
  transferStream,
  type Deadline,
  type TransferCommand,
  type TransferEvent,
  type TransferState,
} from '../transfer/decider';
import { TransferCommands } from '../transfer/transfer.commands';
import { DemoDays, type When } from './demo-days';
import {
  AGREEMENT_ID,
  demoPlan,
  FACILITY,
  type DemoPlan,
  type DemoTransfer,
  type DemoTransferStep,
} from './demo-plan';
import { DEMO_QUERIES, demoTransferId, seedDemo, type DemoSeedResult } from './demo-seed';

const calendar = WorkingDayCalendar.default();
const directory = loadDirectory('config/directory/demo-region.json');
const DAY_MS = 86_400_000;

/** A reader of the agency, as the gateway would forward a token of it. */
const viewer = (agencyId: string): Identity => {
  const agency = directory.requireAgency(agencyId);
  return {
    subject: `${agencyId}.viewer`,
    agencyId,
    agencyKind: agency.kind,
    jurisdiction: agency.jurisdiction,
    roles: ['viewer'],
  };
};

// ─── the plan's dates, on every day of two years ───────────────────────────────────────────────

const transfers = transferDecider({ calendar });
const SHA = (c: string) => c.repeat(64);
const province = (code: string) => JurisdictionCode.parseOrThrow(code).provinceCode.value;

/** The seed's step as the decider's command, with a system actor (who acts is the seeder's business). */
function commandOf(plan: DemoPlan, t: DemoTransfer, step: DemoTransferStep, now: Date): TransferCommand {
  const metadata: CommandMetadata = {
    commandId: `${t.key}-${step.kind}`,
    now,
    actor: systemActor('demo-plan-spec'),
    correlationId: t.key,
  };
  const transferId = t.key;
  const generator = directory.requireAgency(t.generator);
  const facilityId = t.application?.receiverFacilityId ?? t.filing?.receiverFacilityId;
  const facility = plan.facilities.find((f) => f.facilityId === facilityId);
  if (!facility) throw new Error(`no facility ${facilityId}`);
  const attachments = (['licence', 'method', 'contract'] as const).map((kind, i) => ({
    sha256: SHA('abc'[i] ?? 'a'),
    size: 512,
    mediaType: 'application/pdf',
    kind,
  }));
  const who = {
    agencyId: generator.id,
    creditCode: generator.creditCode ?? '',
    jurisdiction: generator.jurisdiction,
  };
  switch (step.kind) {
    case 'submit': {
      const a = t.application!;
      return {
        type: 'SubmitApplication',
        data: {
          transferId,
          generator: who,
          exportingJurisdiction: province(generator.jurisdiction),
          receivingJurisdiction: province(facility.profile.jurisdiction),
          receiver: { facilityId: facility.facilityId, licenceValidUntil: facility.profile.validTo },
          lines: a.lines,
          method: a.method,
          window: t.window,
          attachments,
          path: a.path,
          ...(a.whitelistEntryId
            ? { whitelist: { entryId: a.whitelistEntryId, remainingTonnes: '500' } }
            : {}),
        },
        metadata,
      };
    }
    case 'file':
      return {
        type: 'SubmitFiling',
        data: {
          transferId,
          generator: who,
          exportingJurisdiction: generator.jurisdiction,
          receivingCity: JurisdictionCode.parseOrThrow(facility.profile.jurisdiction).cityCode.value,
          receiver: { facilityId: facility.facilityId },
          lines: t.filing!.lines,
          window: t.window,
          attachments: attachments.filter((a) => a.kind === 'contract'),
        },
        metadata,
      };
    case 'accept':
      return { type: 'AcceptApplication', data: { transferId }, metadata };
    case 'return':
      return { type: 'ReturnIncomplete', data: { transferId, missing: step.missing }, metadata };
    case 'letter':
      return {
        type: 'SendConsultationLetter',
        data: { transferId, letterId: `${transferId}-letter` },
        metadata,
      };
    case 'reply':
      return {
        type: 'ReplyToLetter',
        data: { transferId, decision: step.consent ? 'consent' : 'refusal', reasons: step.reasons ?? [] },
        metadata,
      };
    case 'approve':
      return { type: 'ApproveTransfer', data: { transferId }, metadata };
    case 'refuse':
      return { type: 'RefuseApplication', data: { transferId, reasons: step.reasons }, metadata };
    case 'withdraw':
      return { type: 'WithdrawApplication', data: { transferId, reason: step.reason }, metadata };
  }
}

const fold = (state: TransferState, events: readonly TransferEvent[]) =>
  events.reduce((s, e) => transfers.evolve(s, e), state);
const openDeadlines = (state: TransferState): Deadline[] =>
  Object.values(state.dueDates).filter((d): d is Deadline => d !== undefined);

/** What goes wrong with a plan seeded at `now`: the list is empty when every rule of demo-plan.ts holds. */
function problemsOf(now: Date): string[] {
  const plan = demoPlan(new DemoDays(now, calendar));
  const problems: string[] = [];
  // A live step happens when the seeder reaches it: after every planned instant.
  const instant = (at: When, i: number) => (at === 'live' ? new Date(now.getTime() + i) : at);
  const approvedAt = new Map<string, Date>();

  for (const t of plan.transfers) {
    let state = transfers.initialState();
    let previous = 0;
    t.steps.forEach((step, i) => {
      const at = instant(step.at, i);
      if (at.getTime() <= previous) problems.push(`${t.key}.${step.kind}: not after the step before it`);
      if (step.at !== 'live' && at.getTime() >= now.getTime())
        problems.push(`${t.key}.${step.kind}: not in the past`);
      previous = at.getTime();
      // A timer already due before this step could move the transfer on before the seeder sends it.
      for (const d of openDeadlines(state))
        if (Date.parse(d.dueAt) <= now.getTime())
          problems.push(`${t.key}.${step.kind}: ${d.step} due before it`);
      const events = transfers.decide(commandOf(plan, t, step, at), state);
      if (events.some((e) => e.type === 'TransferDeadlineMissed'))
        problems.push(`${t.key}.${step.kind}: recorded a missed deadline`);
      state = fold(state, events);
      if (step.kind === 'approve') approvedAt.set(t.key, at);
    });
    if (t.overdue) {
      // Left to the timers: silence accepts (Art 23), then the step's deadline passes: overdue.
      const completeness = state.dueDates.completeness;
      if (!completeness || Date.parse(completeness.dueAt) > now.getTime()) {
        problems.push(`${t.key}: the completeness period is not over`);
        continue;
      }
      state = fold(
        state,
        transfers.decide(
          { type: 'CompletenessTimerFired', data: { transferId: t.key }, metadata: meta(now) },
          state,
        ),
      );
      state = fold(
        state,
        transfers.decide(
          { type: 'DeadlineTimerFired', data: { transferId: t.key, step: t.overdue }, metadata: meta(now) },
          state,
        ),
      );
      if (!state.overdue.includes(t.overdue)) problems.push(`${t.key}: ${t.overdue} is not overdue`);
    } else {
      // It stays in the state it was seeded in: none of its deadlines has passed.
      for (const d of openDeadlines(state))
        if (Date.parse(d.dueAt) <= now.getTime()) problems.push(`${t.key}: ${d.step} already due`);
    }
    if (state.status !== t.status) problems.push(`${t.key}: ${state.status}, meant ${t.status}`);
  }

  const maxTransitDays = plan.agreement.clauses.maxTransitDays ?? 3;
  for (const m of plan.manifests) {
    const approved = approvedAt.get(m.transfer);
    if (!approved) {
      problems.push(`${m.key}: its transfer ${m.transfer} is not approved`);
      continue;
    }
    let previous = approved.getTime();
    m.steps.forEach((step, i) => {
      const at = instant(step.at, 100 + i);
      if (at.getTime() <= previous) problems.push(`${m.key}.${step.kind}: not after the step before it`);
      previous = at.getTime();
      // Transit ends at 24:00 of the pickup day + the agreement's days; receipt 5 working days after delivery.
      if (step.kind === 'pickup') {
        const due = LocalDate.ofInstant(at)
          .plusDays(maxTransitDays + 1)
          .startInstant();
        if (due.getTime() <= now.getTime()) problems.push(`${m.key}: transit due before it was delivered`);
      }
      if (step.kind === 'deliver' && calendar.addWorkingDays(at, 5).deadline.getTime() <= now.getTime())
        problems.push(`${m.key}: receipt due before it was received`);
    });
  }
  return problems;
}

const meta = (now: Date): CommandMetadata => ({
  commandId: 'timer',
  now,
  actor: systemActor('transfer.deadline-timer'),
  correlationId: 'timer',
});

describe('the demo plan (dated relative to the day of the seed)', () => {
  it('leaves each transfer in its state, no timer due between two steps, on every day of 2025–2026 at any hour', () => {
    const problems: string[] = [];
    const first = LocalDate.parseOrThrow('2025-01-01').startInstant().getTime();
    for (let day = 0; day < 730; day++)
      for (const minutes of [5, 23 * 60 + 55]) {
        const now = new Date(first + day * DAY_MS + minutes * 60_000);
        for (const p of problemsOf(now)) problems.push(`${now.toISOString()}: ${p}`);
      }
    expect(problems.slice(0, 20)).toEqual([]);
  });

  it('counts working days back with the holiday calendar', () => {
    // Tuesday 2025-10-09 after the National Day week: the day before it was a holiday, so was the week.
    const days = new DemoDays(new Date('2025-10-09T02:00:00Z'), calendar);
    expect(days.today.toString()).toBe('2025-10-09');
    expect(days.workingDaysAgo(1).toString()).toBe('2025-09-30');
    // 2025-09-28 was a Sunday declared a working day (调休).
    expect(days.workingDaysAgo(2).toString()).toBe('2025-09-29');
    expect(days.workingDaysAgo(3).toString()).toBe('2025-09-28');
    expect(days.daysAgo(2).toString()).toBe('2025-10-07');
    expect(days.at(days.today, '09:30').toISOString()).toBe('2025-10-09T01:30:00.000Z');
    expect(() => days.workingDaysAgo(0)).toThrow(RangeError);
  });

  it('covers every state of a transfer and the manifests on the road', () => {
    const plan = demoPlan(new DemoDays(new Date(), calendar));
    expect(new Set(plan.transfers.map((t) => t.status))).toEqual(
      new Set([
        'submitted',
        'under-review',
        'consulting',
        'awaiting-decision',
        'approved',
        'refused',
        'withdrawn',
        'returned',
        'filed',
      ]),
    );
    expect(plan.transfers.filter((t) => t.overdue)).toHaveLength(1);
    expect(plan.manifests.map((m) => m.status)).toEqual(['disposed', 'received', 'delivered', 'in-transit']);
    expect(plan.facilities.map((f) => f.facilityId)).toEqual([
      FACILITY.yuhuan,
      FACILITY.lvyuan,
      FACILITY.rongqing,
    ]);
  });
});

// ─── seeded on PGlite, as `npm start` does ─────────────────────────────────────────────────────

type Answer = { data?: Record<string, unknown> | null; errors?: unknown[] };
type Node = Record<string, unknown> & { id?: string; number?: string; status?: string };
const GRAPH_STATUS = (status: string) => status.toUpperCase().replace(/-/g, '_');

async function countEvents(store: EventStore): Promise<number> {
  let after: LogPosition = LOG_START;
  let count = 0;
  for (;;) {
    const batch = await store.readAll({ after, maxCount: 1000 });
    count += batch.events.length;
    if (batch.events.length === 0) return count;
    after = batch.next;
  }
}

async function allEvents(store: EventStore): Promise<RecordedEvent[]> {
  let after: LogPosition = LOG_START;
  const out: RecordedEvent[] = [];
  for (;;) {
    const batch = await store.readAll({ after, maxCount: 1000 });
    out.push(...batch.events);
    if (batch.events.length === 0) return out;
    after = batch.next;
  }
}

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('npm start’s seed (transfer-service, embedded on PGlite)', () => {
  const subgraph = useSubgraph(service);
  const app = () => subgraph.running().app;
  const store = () => app().get<Platform>(PLATFORM).store;
  const lines: string[] = [];
  let first: DemoSeedResult;

  const ask = async (identity: Identity, query: string): Promise<Record<string, unknown>> => {
    const answer = (await subgraph.post(query, { identity })).body as Answer;
    expect(answer.errors).toBeUndefined();
    return answer.data ?? {};
  };
  const listed = async (agencyId: string, query: string, field: string): Promise<Node[]> => {
    const data = await ask(viewer(agencyId), query);
    return (data[field] as { edges: { node: Node }[] }).edges.map((e) => e.node);
  };

  beforeAll(async () => {
    first = await seedDemo(app(), { log: (line) => lines.push(line) });
    // The overdue one is the timers' to move: accepted by silence, then its review recorded as overdue.
    const overdue = transferStream(demoTransferId('overdue'));
    await eventually('the timers to record the overdue review', async () => {
      const { events } = await store().readStream(overdue);
      return events.some((e) => e.type === 'TransferDeadlineMissed') ? true : undefined;
    });
  }, 120_000);

  it('stores the demo through the commands and says so', () => {
    expect(first.stored).toBeGreaterThan(40);
    expect(first.alreadyStored).toBe(0);
    expect(lines.join('\n')).toContain('demo data stored / 演示数据已写入');
  });

  it('leaves each transfer in the state it was seeded in, seen by its generator', async () => {
    const query = '{ transfers(first: 50) { edges { node { id status route overdue } } } }';
    const seen = new Map<string, Node>();
    for (const generator of ['cd-jincheng-auto', 'cq-liangjiang-chem'])
      for (const node of await listed(generator, query, 'transfers')) seen.set(node.id!, node);
    for (const t of first.plan.transfers) {
      const node = seen.get(demoTransferId(t.key));
      expect({ key: t.key, status: node?.status }).toEqual({ key: t.key, status: GRAPH_STATUS(t.status) });
      expect({ key: t.key, overdue: node?.overdue }).toEqual({
        key: t.key,
        overdue: t.overdue ? [t.overdue] : [],
      });
    }
    expect(seen.get(demoTransferId('approved-whitelist'))?.route).toBe('WHITELIST');
    expect(seen.get(demoTransferId('approved-letter'))?.route).toBe('LETTER');
  });

  it('reserves the receiving facility’s capacity with each approval', async () => {
    for (const key of ['approved-letter', 'approved-whitelist']) {
      const { state } = await app().get(TransferCommands).state(demoTransferId(key));
      const year = LocalDate.parseOrThrow(state.approval!.validFrom).year;
      const ledger = await store().readStream(capacityStream(FACILITY.yuhuan, 'HW08', year));
      const reserved = ledger.events.filter(
        (e) =>
          e.type === 'CapacityReserved' &&
          (e.data as { reservationId: string }).reservationId === demoTransferId(key),
      );
      expect({ key, reserved: reserved.map((e) => (e.data as { quantityKg: string }).quantityKg) }).toEqual({
        key,
        reserved: [state.approval!.totalKg],
      });
    }
  });

  it('runs manifests in transit, delivered, received (a discrepancy) and disposed, seen by the receiver', async () => {
    const nodes = await listed(
      'cq-yuhuan-disposal',
      '{ manifests(first: 50) { edges { node { number status discrepancies { kind } } } } }',
      'manifests',
    );
    for (const m of first.plan.manifests) {
      const node = nodes.find((n) => n.number === first.manifests[m.key]);
      expect({ key: m.key, status: node?.status }).toEqual({ key: m.key, status: GRAPH_STATUS(m.status) });
    }
    const received = nodes.find((n) => n.number === first.manifests.received);
    expect(received?.discrepancies).toEqual([{ kind: 'weight' }]);
  });

  it('adopts the agreement and registers the three facilities', async () => {
    const data = await ask(
      viewer('chengyu-secretariat'),
      `{ agreement(id: "${AGREEMENT_ID}") { status members clausesInForce { clauses { maxTransitDays } } } }`,
    );
    expect(data.agreement).toMatchObject({ status: 'ADOPTED', members: ['510000', '500000'] });
    // Dated like the rest of the demo (before the facilities and the transfers filed under it), not at seeding.
    const history = await ask(
      viewer('chengyu-secretariat'),
      `{ agreementHistory(id: "${AGREEMENT_ID}") { type occurredAt } }`,
    );
    const { proposedAt, signedAt } = first.plan.agreement;
    expect(history.agreementHistory).toEqual([
      { type: 'AgreementProposed', occurredAt: (proposedAt as Date).toISOString() },
      { type: 'AgreementSigned', occurredAt: (signedAt[0] as Date).toISOString() },
      { type: 'AgreementSigned', occurredAt: (signedAt[1] as Date).toISOString() },
      { type: 'AgreementAdopted', occurredAt: (signedAt[1] as Date).toISOString() },
    ]);
    expect((signedAt[1] as Date).getTime()).toBeLessThan(
      (first.plan.facilities[0].registeredAt as Date).getTime(),
    );
    for (const id of Object.values(FACILITY)) {
      const facility = await ask(viewer('sc-eeb'), `{ facility(id: "${id}") { id } }`);
      expect(facility.facility).toEqual({ id });
    }
  });

  it('puts work on the bureaus’ worklists, the overdue review escalated to the secretariat', async () => {
    const worklist = (agencyId: string, overdueOnly = false) =>
      ask(
        viewer(agencyId),
        `{ agency(id: "${agencyId}") { transferWorklist(first: 50, overdueOnly: ${overdueOnly}) { totalCount edges { node { recordId action overdue } } } } }`,
      ).then(
        (d) =>
          (d.agency as { transferWorklist: { totalCount: number; edges: { node: Node }[] } })
            .transferWorklist,
      );
    const sichuan = await worklist('sc-eeb');
    expect(sichuan.totalCount).toBeGreaterThan(0);
    const ids = sichuan.edges.map((e) => e.node.recordId);
    expect(ids).toContain(demoTransferId('submitted'));
    expect(ids).toContain(demoTransferId('overdue'));
    expect((await worklist('cq-eeb')).edges.map((e) => e.node.recordId)).toEqual(
      expect.arrayContaining([demoTransferId('consulting'), demoTransferId('awaiting-decision')]),
    );
    const escalated = await worklist('chengyu-secretariat', true);
    expect(escalated.edges.map((e) => e.node.recordId)).toContain(demoTransferId('overdue'));
  });

  it('answers every query it prints, for the agency it names', async () => {
    for (const q of DEMO_QUERIES) {
      expect(lines.join('\n')).toContain(q.query);
      const answer = (await subgraph.post(q.query, { identity: viewer(q.agencyId) })).body as Answer;
      expect({ agency: q.agencyId, errors: answer.errors }).toEqual({
        agency: q.agencyId,
        errors: undefined,
      });
      expect(JSON.stringify(answer.data)).toMatch(/"(totalCount":[1-9]|number":"\d{14}"|status":"ADOPTED")/);
    }
  });

  it('misses no deadline but the one meant, and a second start stores nothing new', async () => {
    const events = await allEvents(store());
    const missed = events.filter((e) => e.type === 'TransferDeadlineMissed' || e.type === 'ManifestOverdue');
    expect(missed.map((e) => e.streamId)).toEqual([transferStream(demoTransferId('overdue'))]);
    // Every person's command of the demo carries its fixed id, derived from the demo's name.
    expect(events.filter((e) => e.metadata.actor.kind === 'user').length).toBeGreaterThan(40);

    // Nothing else is due: the count holds still across a timer poll, then across a second seed.
    const before = await countEvents(store());
    await new Promise((r) => setTimeout(r, 1500));
    expect(await countEvents(store())).toBe(before);
    const again: string[] = [];
    const second = await seedDemo(app(), { log: (line) => again.push(line) });
    expect(second.stored).toBe(0);
    expect(second.alreadyStored).toBe(first.stored);
    expect(second.manifests).toEqual(first.manifests);
    expect(await countEvents(store())).toBe(before);
    expect(again.join('\n')).toContain('nothing stored / 演示数据已存在，未写入新数据');

    // The hook `npm start` calls, as it calls it: nothing new either.
    const printed: string[] = [];
    await seed(app(), {
      apps: new Map([['transfer-service', { url: subgraph.running().url, app: app() }]]),
      // The demo keeps nothing of its own under DATA_DIR: everything is in the service's store.
      dataDir: tmpdir(),
      log: (line) => printed.push(line),
    });
    expect(printed.join('\n')).toContain('nothing stored / 演示数据已存在，未写入新数据');
    expect(await countEvents(store())).toBe(before);
  }, 60_000);
});
