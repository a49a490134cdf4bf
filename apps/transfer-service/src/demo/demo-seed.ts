/**
 * Seeds the demo plan (demo-plan.ts) through the service's own commands, as the directory's agencies'
 * staff would (`demo.sc-eeb.approver` approves, `demo.cd-jincheng-auto.clerk` applies), so every rule,
 * authorization, outbox and timer runs as it does for people. Every command id is derived from the demo's
 * name for the step: a step whose command the stream already holds is not sent again, so a second
 * `npm start` stores nothing new (and a seed cut short goes on where it stopped).
 */
import type { INestApplication } from '@nestjs/common';
import { authorize, type AgencyDirectory, type Identity, type Role } from '@lianfang/auth';
import { JurisdictionCode, type WorkingDayCalendar } from '@lianfang/domain-kernel';
import {
  compareLogPositions,
  LOG_START,
  type CommandMetadata,
  type LogPosition,
  type RecordedEvent,
} from '@lianfang/eventsourcing';
import { readWholeStream, userCommandMetadata } from '@lianfang/graph';
import { deterministicUuid } from '@lianfang/messaging';
import { AGENCY_DIRECTORY, PLATFORM, type EmbeddedSeedContext, type Platform } from '@lianfang/runtime';
import { proposeAgreements, regionOf, signAgreements } from '../agreement/agreement.access';
import { AgreementCommands } from '../agreement/agreement.commands';
import { AgreementTerms } from '../agreement/agreement.terms';
import { agreementStream } from '../agreement/decider';
import { CLOCK, WORKING_DAY_CALENDAR, type Clock } from '../common/time';
import { DeadlineTimers } from '../deadlines/deadline-timers';
import { facilityStream } from '../facility/decider';
import { FacilityCommands } from '../facility/facility.commands';
import { FacilityReadModel } from '../facility/facility.projection';
import { manifestStream, type ManifestCommand } from '../manifest/decider';
import { ManifestCommands, type ManifestCommandOptions } from '../manifest/manifest.commands';
import { ManifestReadModel } from '../manifest/manifest.projection';
import { approvalUsageStream } from '../manifest/usage';
import { transferStream, type AttachmentKind, type TransferCommand } from '../transfer/decider';
import { TransferAttachments } from '../transfer/transfer.attachments';
import { TransferCommands } from '../transfer/transfer.commands';
import { TransferIntake } from '../transfer/transfer.intake';
import { TransferReadModel } from '../transfer/transfer.projection';
import { WorklistReadModel } from '../worklist/worklist.projection';
import { DemoDays, instantOf } from './demo-days';
import {
  AGREEMENT_ID,
  DEMO_SEED,
  demoPlan,
  type DemoAgreement,
  type DemoFacility,
  type DemoManifest,
  type DemoPlan,
  type DemoTransfer,
  type DemoTransferStep,
} from './demo-plan';

/** The transfer id of a demo transfer (a UUID, like those the graph derives from idempotency keys). */
export const demoTransferId = (key: string) => deterministicUuid(DEMO_SEED, 'transfer', key);

/** What one seed run did: commands stored now, and steps found already stored (a second start). */
export interface DemoSeedResult {
  readonly plan: DemoPlan;
  readonly stored: number;
  readonly alreadyStored: number;
  /** Manifest number by the demo's manifest key. */
  readonly manifests: Readonly<Record<string, string>>;
}

/** One GraphQL query per role, printed at the end of the seed (and run by the spec as printed). */
export interface DemoQuery {
  readonly agencyId: string;
  readonly role: { readonly zh: string; readonly en: string };
  readonly query: string;
}

export const DEMO_QUERIES: readonly DemoQuery[] = [
  {
    agencyId: 'sc-eeb',
    role: { zh: '移出地生态环境厅', en: 'exporting bureau' },
    query:
      '{ agency(id: "sc-eeb") { transferWorklist(first: 10) { totalCount edges { node { action recordId dueAt overdue label { zh en } } } } } }',
  },
  {
    agencyId: 'cq-eeb',
    role: { zh: '接受地生态环境局', en: 'receiving bureau' },
    query:
      '{ transfers(filter: { status: CONSULTING }) { totalCount edges { node { id generator { agencyId } dueDates { step dueAt } nextActions { code } } } } }',
  },
  {
    agencyId: 'cd-jincheng-auto',
    role: { zh: '产废单位', en: 'generator' },
    query: '{ transfers(first: 20) { totalCount edges { node { id status route overdue totalKg } } } }',
  },
  {
    agencyId: 'sc-shuyun-transport',
    role: { zh: '运输单位', en: 'carrier' },
    query: '{ manifests { totalCount edges { node { number status transitDueAt nextActions { code } } } } }',
  },
  {
    agencyId: 'cq-yuhuan-disposal',
    role: { zh: '接受单位', en: 'receiver' },
    query:
      '{ manifests(filter: { status: DELIVERED }) { edges { node { number waste { declaredKg } receiptDueAt nextActions { code } } } } }',
  },
  {
    agencyId: 'chengyu-secretariat',
    role: { zh: '区域秘书处', en: 'secretariat' },
    query: `{ agreement(id: "${AGREEMENT_ID}") { status members effectiveFrom } agency(id: "chengyu-secretariat") { transferWorklist(overdueOnly: true) { totalCount edges { node { action recordId dueAt } } } } }`,
  },
];

/** A document as small as a PDF can be: enough for the attachment store's type and hash checks. */
function pdf(title: string): string {
  const text = [
    '%PDF-1.4',
    `% Lianfang demo / 联防演示: ${title}`,
    '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
    '2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj',
    'trailer << /Root 1 0 R >>',
    '%%EOF',
    '',
  ].join('\n');
  return Buffer.from(text, 'utf8').toString('base64');
}

class DemoSeeder {
  private readonly platform: Platform;
  private readonly directory: AgencyDirectory;
  private readonly clock: Clock;
  private readonly calendar: WorkingDayCalendar;
  private stored = 0;
  private alreadyStored = 0;
  private last: LogPosition = LOG_START;

  constructor(private readonly app: INestApplication) {
    this.platform = app.get<Platform>(PLATFORM);
    this.directory = app.get<AgencyDirectory>(AGENCY_DIRECTORY);
    this.clock = app.get<Clock>(CLOCK);
    this.calendar = app.get<WorkingDayCalendar>(WORKING_DAY_CALENDAR);
  }

  async run(log: (line: string) => void): Promise<DemoSeedResult> {
    const plan = demoPlan(new DemoDays(this.clock(), this.calendar));
    log('demo data / 演示数据: seeding through the commands / 通过命令写入…');

    const facilities = await this.section(() => this.each(plan.facilities, (f) => this.facility(f)));
    log(`  facilities / 设施: ${plan.facilities.length}${facilities}`);
    const agreement = await this.section(() => this.agreement(plan.agreement));
    const { whitelist = [], compensationRates = [], tolerance } = plan.agreement.clauses;
    log(
      `  agreement / 区域协议 ${plan.agreement.agreementId}: adopted / 已通过 — whitelist / 白名单 ${whitelist.length}, rates / 补偿标准 ${compensationRates.length}, tolerance / 容差 ${tolerance?.percent ?? 5}% & ${tolerance?.kg ?? 100} kg${agreement}`,
    );
    const facilitiesById = new Map(plan.facilities.map((f) => [f.facilityId, f]));
    const transfers = await this.section(() =>
      this.each(plan.transfers, (t) => this.transfer(t, facilitiesById)),
    );
    log(
      `  transfers / 转移申请: ${plan.transfers.length} (${plan.transfers.map((t) => t.key).join(', ')})${transfers}`,
    );
    const numbers: Record<string, string> = {};
    const manifests = await this.section(() =>
      this.each(plan.manifests, async (m) => {
        numbers[m.key] = await this.manifest(m, plan, facilitiesById);
      }),
    );
    log(
      `  manifests / 联单: ${plan.manifests.length} (${plan.manifests.map((m) => m.status).join(', ')})${manifests}`,
    );

    if (this.stored > 0) await this.readModelsCaughtUp();
    log(
      this.stored === 0
        ? 'demo data already there: nothing stored / 演示数据已存在，未写入新数据'
        : `demo data stored / 演示数据已写入: ${this.stored} commands / 条命令; the overdue review is the timers' to record / 逾期由计时器记录`,
    );
    log('Try it / 试一试 — TOKEN=$(npm run -s token -- --agency <id>), POST {"query": …} to /graphql:');
    for (const q of DEMO_QUERIES) log(`  ${q.agencyId} (${q.role.zh} / ${q.role.en}): ${q.query}`);
    return { plan, stored: this.stored, alreadyStored: this.alreadyStored, manifests: numbers };
  }

  // ---- facilities ----------------------------------------------------------------------------

  private async facility(f: DemoFacility): Promise<void> {
    const clerk = this.person(f.bureau, 'clerk');
    const metadata = this.metadata(clerk, `facility:${f.facilityId}`, 'register', f.registeredAt);
    if (await this.handled(facilityStream(f.facilityId), metadata)) return;
    const result = await this.app
      .get(FacilityCommands)
      .handle(
        { type: 'RegisterFacility', data: { facilityId: f.facilityId, profile: f.profile }, metadata },
        clerk,
      );
    this.count(result.lastLogPosition);
  }

  // ---- the agreement (through its commands, as its secretariat and member bureaus, on the plan's dates) ----

  private async agreement(a: DemoAgreement): Promise<void> {
    const commands = this.app.get(AgreementCommands);
    const streamId = agreementStream(a.agreementId);
    const record = `agreement:${a.agreementId}`;
    // Found by fact, not by command id: data seeded by an earlier version used other command ids.
    const facts = () => readWholeStream(this.platform.store, streamId);
    const secretariat = this.person(a.secretariat, 'clerk');
    if ((await facts()).some((e) => e.type === 'AgreementProposed')) {
      this.alreadyStored += 1;
    } else {
      const data = {
        agreementId: a.agreementId,
        secretariatId: secretariat.agencyId,
        title: { ...a.title },
        members: [...a.members],
        effectiveFrom: a.effectiveFrom,
        validUntil: a.validUntil,
        clauses: a.clauses,
      };
      const region = regionOf(this.directory, secretariat.agencyId);
      const result = await commands.handle(
        {
          type: 'ProposeAgreement',
          data,
          metadata: this.metadata(secretariat, record, 'propose', a.proposedAt),
        },
        () => authorize(secretariat, proposeAgreements, { members: data.members, region }),
      );
      this.count(result.lastLogPosition);
    }
    for (const [i, bureau] of a.signers.entries()) {
      const approver = this.person(bureau, 'approver');
      const member = approver.jurisdiction;
      const signed = (await facts()).some(
        (e) => e.type === 'AgreementSigned' && (e.data as { member?: string }).member === member,
      );
      if (signed) {
        this.alreadyStored += 1;
        continue;
      }
      const metadata = this.metadata(approver, record, `sign:${member}`, a.signedAt[i] ?? 'live');
      const result = await commands.handle(
        { type: 'SignAgreement', data: { agreementId: a.agreementId, member }, metadata },
        (state) => {
          if (state.status !== 'none')
            authorize(approver, signAgreements, { members: state.members, member });
        },
      );
      this.count(result.lastLogPosition);
    }
    // The whitelist path reads the adopted entries from the agreement's read models.
    await this.app.get(AgreementTerms).waitFor(this.last);
  }

  // ---- transfers -------------------------------------------------------------------------------

  private async transfer(t: DemoTransfer, facilities: ReadonlyMap<string, DemoFacility>): Promise<void> {
    const transferId = demoTransferId(t.key);
    const generator = this.person(t.generator, 'clerk');
    const exporting = this.provinceOf(this.directory.requireAgency(t.generator).jurisdiction);
    const facilityId = t.application?.receiverFacilityId ?? t.filing?.receiverFacilityId ?? '';
    const facility = facilities.get(facilityId);
    if (!facility) throw new Error(`demo transfer ${t.key}: no demo facility ${facilityId}`);
    const receiving = this.provinceOf(facility.profile.jurisdiction);
    const commands = this.app.get(TransferCommands);

    for (const step of t.steps) {
      const who = this.actorOf(step, generator, exporting, receiving);
      const metadata = this.metadata(who, `transfer:${t.key}`, step.kind, step.at);
      if (await this.handled(transferStream(transferId), metadata)) continue;
      const command = await this.transferCommand(t, step, transferId, who, facility, metadata);
      const result = await commands.handle(command, who);
      this.count(result.lastLogPosition);
    }
  }

  /** Who takes a step: the generator applies, the exporting bureau's clerk prepares, approvers decide. */
  private actorOf(
    step: DemoTransferStep,
    generator: Identity,
    exporting: string,
    receiving: string,
  ): Identity {
    switch (step.kind) {
      case 'submit':
      case 'file':
      case 'withdraw':
        return generator;
      case 'accept':
      case 'return':
      case 'letter':
        return this.person(this.bureauOf(exporting), 'clerk');
      case 'approve':
      case 'refuse':
        return this.person(this.bureauOf(exporting), 'approver');
      case 'reply':
        return this.person(this.bureauOf(receiving), 'approver');
    }
  }

  private async transferCommand(
    t: DemoTransfer,
    step: DemoTransferStep,
    transferId: string,
    who: Identity,
    facility: DemoFacility,
    metadata: CommandMetadata,
  ): Promise<TransferCommand> {
    const intake = this.app.get(TransferIntake);
    switch (step.kind) {
      case 'submit': {
        const application = t.application;
        if (!application) throw new Error(`demo transfer ${t.key}: submitted without an application`);
        const attachments = [
          await this.attachment(
            who,
            'licence',
            `${facility.profile.licenceNumber} 危险废物经营许可证副本`,
            metadata,
          ),
          await this.attachment(who, 'method', `${t.key}: ${application.method}`, metadata),
          await this.attachment(who, 'contract', `${t.key}: 委托利用处置合同 / disposal contract`, metadata),
        ];
        const data = await intake.application(
          who,
          transferId,
          {
            path: application.path,
            receiverFacilityId: application.receiverFacilityId,
            lines: application.lines,
            method: application.method,
            window: t.window,
            attachments,
            whitelistEntryId: application.whitelistEntryId ?? null,
          },
          metadata.now,
        );
        return { type: 'SubmitApplication', data, metadata };
      }
      case 'file': {
        const filing = t.filing;
        if (!filing) throw new Error(`demo transfer ${t.key}: filed without a filing`);
        const contract = await this.attachment(
          who,
          'contract',
          `${t.key}: 委托利用处置合同 / contract`,
          metadata,
        );
        const data = await intake.filing(who, transferId, {
          receiverFacilityId: filing.receiverFacilityId,
          receivingCity: null,
          lines: filing.lines,
          window: t.window,
          attachments: [contract],
        });
        return { type: 'SubmitFiling', data, metadata };
      }
      case 'accept':
        return { type: 'AcceptApplication', data: { transferId }, metadata };
      case 'return':
        return { type: 'ReturnIncomplete', data: { transferId, missing: [...step.missing] }, metadata };
      case 'letter':
        // One letter per application: its number follows from the application, as in the graph.
        return {
          type: 'SendConsultationLetter',
          data: {
            transferId,
            letterId: deterministicUuid('transfer-service.consultation-letter', transferId),
          },
          metadata,
        };
      case 'reply':
        return {
          type: 'ReplyToLetter',
          data: {
            transferId,
            decision: step.consent ? 'consent' : 'refusal',
            ...(step.reasons ? { reasons: [...step.reasons] } : {}),
          },
          metadata,
        };
      case 'approve':
        return { type: 'ApproveTransfer', data: { transferId }, metadata };
      case 'refuse':
        return { type: 'RefuseApplication', data: { transferId, reasons: [...step.reasons] }, metadata };
      case 'withdraw':
        return { type: 'WithdrawApplication', data: { transferId, reason: step.reason }, metadata };
    }
  }

  /** Uploaded through the attachment store (content-addressed: the same document twice is one row). */
  private async attachment(
    who: Identity,
    kind: AttachmentKind,
    title: string,
    metadata: CommandMetadata,
  ): Promise<string> {
    const stored = await this.app
      .get(TransferAttachments)
      .upload(
        who,
        { kind, mediaType: 'application/pdf', contentBase64: pdf(`${kind}: ${title}`) },
        metadata.now,
      );
    return stored.sha256;
  }

  // ---- manifests ---------------------------------------------------------------------------------

  private async manifest(
    m: DemoManifest,
    plan: DemoPlan,
    facilities: ReadonlyMap<string, DemoFacility>,
  ): Promise<string> {
    const transfer = plan.transfers.find((t) => t.key === m.transfer);
    const facility = facilities.get(transfer?.application?.receiverFacilityId ?? '');
    if (!transfer || !facility) throw new Error(`demo manifest ${m.key}: no demo transfer ${m.transfer}`);
    const transferId = demoTransferId(transfer.key);
    const commands = this.app.get(ManifestCommands);
    const generator = this.person(transfer.generator, 'clerk');
    const receiver = this.person(facility.operator, 'clerk');
    let carrier = m.carrier;
    let number: string | undefined;

    for (const step of m.steps) {
      // The generator opens, the carrier holding the load picks up, hands over and delivers, the receiver receives.
      const who =
        step.kind === 'open'
          ? generator
          : step.kind === 'accept' || step.kind === 'dispose'
            ? receiver
            : this.person(step.kind === 'pickup' ? step.carrier : carrier, 'clerk');
      const metadata = this.metadata(who, `manifest:${m.key}`, step.kind, step.at);
      if (step.kind === 'open') {
        // The number is the service's to allocate: found again by the opening's command id.
        number = await this.openedNumber(transferId, metadata.commandId);
        if (number) {
          this.alreadyStored += 1;
          continue;
        }
        const opened = await commands.open(
          {
            transferId,
            carrierCreditCode: this.creditCode(m.carrier),
            consignor: 'generator',
            waste: m.waste,
          },
          metadata,
          who,
        );
        number = opened.manifestNumber;
        this.count(opened.lastLogPosition);
        continue;
      }
      if (!number) throw new Error(`demo manifest ${m.key}: ${step.kind} before it was opened`);
      const manifestNumber = number;
      let command: ManifestCommand;
      let options: ManifestCommandOptions = {};
      switch (step.kind) {
        case 'pickup':
          carrier = step.carrier;
          command = {
            type: 'ConfirmPickup',
            data: {
              manifestNumber,
              carrierCreditCode: this.creditCode(step.carrier),
              vehiclePlate: step.vehiclePlate,
              operatingLicence: `道路危险货物运输许可 ${step.vehiclePlate}`,
              // The service derives the driver's subject id; the name and phone are stored encrypted.
              driverSubjectId: '',
            },
            metadata,
          };
          options = { driver: step.driver };
          break;
        case 'hand-over':
          command = {
            type: 'HandOver',
            data: {
              manifestNumber,
              fromCarrierCreditCode: this.creditCode(carrier),
              to: {
                carrierCreditCode: this.creditCode(step.carrier),
                vehiclePlate: step.vehiclePlate,
                operatingLicence: `道路危险货物运输许可 ${step.vehiclePlate}`,
                driverSubjectId: '',
              },
              at: metadata.now.toISOString(),
              place: step.place,
            },
            metadata,
          };
          options = { driver: step.driver };
          carrier = step.carrier;
          break;
        case 'deliver':
          command = {
            type: 'Deliver',
            data: { manifestNumber, carrierCreditCode: this.creditCode(carrier) },
            metadata,
          };
          break;
        case 'accept':
          command = {
            type: 'AcceptReceipt',
            data: { manifestNumber, acceptedKg: step.acceptedKg, method: step.method },
            metadata,
          };
          break;
        case 'dispose':
          command = { type: 'ConfirmDisposal', data: { manifestNumber, method: step.method }, metadata };
          break;
      }
      if (await this.handled(manifestStream(manifestNumber), metadata)) continue;
      const result = await commands.handle(command, who, options);
      this.count(result.lastLogPosition);
    }
    if (!number) throw new Error(`demo manifest ${m.key}: never opened`);
    return number;
  }

  /** The number a demo opening allocated, from the approval's usage stream (null: not opened yet). */
  private async openedNumber(transferId: string, commandId: string): Promise<string | undefined> {
    const usage = await readWholeStream(this.platform.store, approvalUsageStream(transferId));
    const committed = usage.find(
      (e) => e.type === 'ApprovalQuantityCommitted' && e.metadata.commandId === commandId,
    );
    return (committed?.data as { manifestNumber?: string } | undefined)?.manifestNumber;
  }

  // ---- helpers -----------------------------------------------------------------------------------

  /** A member of an agency's staff with one role of those the directory gives the agency. */
  private person(agencyId: string, role: Role): Identity {
    const agency = this.directory.requireAgency(agencyId);
    if (!agency.roles.includes(role))
      throw new Error(`demo: ${agencyId} has no ${role} role in the directory / 名录中该机构无此角色`);
    return {
      subject: `demo.${agencyId}.${role}`,
      agencyId,
      agencyKind: agency.kind,
      jurisdiction: agency.jurisdiction,
      roles: [role],
    };
  }

  private bureauOf(province: string): string {
    const bureau = this.directory.agenciesResponsibleFor('provincial-bureau', province)[0];
    if (!bureau) throw new Error(`demo: the directory has no provincial bureau for ${province}`);
    return bureau.id;
  }

  private provinceOf(jurisdiction: string): string {
    return JurisdictionCode.parseOrThrow(jurisdiction).provinceCode.value;
  }

  private creditCode(agencyId: string): string {
    const code = this.directory.requireAgency(agencyId).creditCode;
    if (!code) throw new Error(`demo: the directory has no credit code for ${agencyId}`);
    return code;
  }

  /**
   * A person's command with the demo's fixed command id for the step (from the record's demo name and
   * the step), at the step's business time; one correlation id per record.
   */
  private metadata(who: Identity, record: string, step: string, at: Date | 'live'): CommandMetadata {
    return userCommandMetadata({
      identity: who,
      context: { correlationId: deterministicUuid(DEMO_SEED, 'correlation', record) },
      scope: DEMO_SEED,
      idempotencyKey: `${record}:${step}`,
      now: instantOf(at, this.clock),
    });
  }

  /** Whether the stream already holds the step's command (a second start): counted, not sent. */
  private async handled(streamId: string, metadata: CommandMetadata): Promise<boolean> {
    const events: readonly RecordedEvent[] = await readWholeStream(this.platform.store, streamId);
    const found = events.some((e) => e.metadata.commandId === metadata.commandId);
    if (found) this.alreadyStored += 1;
    return found;
  }

  private count(position: LogPosition): void {
    this.stored += 1;
    this.advance(position);
  }

  private advance(position: LogPosition): void {
    if (compareLogPositions(position, this.last) > 0) this.last = position;
  }

  private async each<T>(items: readonly T[], seed: (item: T) => Promise<void>): Promise<void> {
    for (const item of items) await seed(item);
  }

  /** Runs a section and says how many of its commands were stored now (or found stored). */
  private async section(run: () => Promise<void>): Promise<string> {
    const stored = this.stored;
    const already = this.alreadyStored;
    await run();
    const fresh = this.stored - stored;
    const found = this.alreadyStored - already;
    return found === 0
      ? ''
      : fresh === 0
        ? ' — already there / 已存在'
        : ` — ${found} steps already there / 部分已存在`;
  }

  /** The printed queries answer at once: the read models and the timers have seen every seeded event. */
  private async readModelsCaughtUp(): Promise<void> {
    const position = this.last;
    await Promise.all([
      this.app.get(TransferReadModel).waitFor(position),
      this.app.get(ManifestReadModel).waitFor(position),
      this.app.get(FacilityReadModel).waitFor(position),
      this.app.get(WorklistReadModel).waitFor(position),
      this.app.get(DeadlineTimers).waitFor(position),
    ]);
  }
}

/**
 * The demo region for `npm start` (EmbeddedSeed): facilities, the adopted agreement, transfers in every
 * state and manifests, through the commands; idempotent across starts.
 */
export async function seedDemo(
  app: INestApplication,
  context: Pick<EmbeddedSeedContext, 'log'>,
): Promise<DemoSeedResult> {
  return new DemoSeeder(app).run((line) => context.log(line));
}
