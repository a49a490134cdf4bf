import { CreditCode, LocalDate, WorkingDayCalendar } from '@lianfang/domain-kernel';
import { systemActor, type Actor, type CommandMetadata } from '@lianfang/eventsourcing';
import { given } from '@lianfang/testing';
import {
  approvedQuantity,
  nextActions,
  transferDecider,
  twelveMonthsFrom,
  type ApplicationFacts,
  type Approval,
  type Attachment,
  type Deadline,
  type Notification,
  type SubmitApplicationData,
  type SubmitFilingData,
  type TransferCommand,
  type TransferEvent,
  type TransferState,
} from './decider';

// The bundled calendar: the State Council notices for 2025 and 2026 (2027 is not loaded).
const calendar = WorkingDayCalendar.default();
const decider = transferDecider({ calendar });

const SICHUAN = '510000';
const CHONGQING = '500000';
const generatorActor: Actor = { kind: 'user', userId: 'u-gen', agencyId: 'gen-1', jurisdiction: '510100' };
const sichuanBureau: Actor = { kind: 'user', userId: 'u-sc', agencyId: 'sc-eeb', jurisdiction: SICHUAN };
const chongqingBureau: Actor = { kind: 'user', userId: 'u-cq', agencyId: 'cq-eeb', jurisdiction: CHONGQING };
const timer = systemActor('transfer.deadline-timer');

let n = 0;
const meta = (actor: Actor, now: string): CommandMetadata => {
  n += 1;
  return { commandId: `cmd-${n}`, now: new Date(now), actor, correlationId: 'corr-1' };
};
/** 10:00 in Shanghai on `day`. */
const morning = (day: string) => `${day}T02:00:00.000Z`;
/** 24:00 Asia/Shanghai of `day`: the instant a deadline ending that day passes. */
const endOf = (day: string) => LocalDate.parseOrThrow(day).plusDays(1).startInstant().toISOString();

const creditCode = CreditCode.withCheckCharacter('91510100MA6C12345').value;
const sha = (c: string) => c.repeat(64);
const attachments: Attachment[] = [
  { sha256: sha('a'), size: 204_800, mediaType: 'application/pdf', kind: 'licence' },
  { sha256: sha('b'), size: 51_200, mediaType: 'application/pdf', kind: 'method' },
  { sha256: sha('c'), size: 1_048_576, mediaType: 'image/jpeg', kind: 'contract' },
];

const application = (over: Partial<SubmitApplicationData> = {}): SubmitApplicationData => ({
  transferId: 't-1',
  generator: { agencyId: 'gen-1', creditCode },
  exportingJurisdiction: SICHUAN,
  receivingJurisdiction: CHONGQING,
  receiver: { facilityId: 'fac-cq-1', licenceValidUntil: '2028-06-30' },
  lines: [
    { wasteCode: '900-249-08', quantityKg: '12000.5' },
    { wasteCode: '772-002-18', quantityKg: '3000' },
  ],
  method: 'R9 废矿物油再生利用 / re-refining of waste mineral oil',
  window: { from: '2026-11-01', to: '2027-12-31' },
  attachments,
  path: 'letter',
  ...over,
});

const submit = (over: Partial<SubmitApplicationData> = {}, now = morning('2026-09-29')): TransferCommand => ({
  type: 'SubmitApplication',
  data: application(over),
  metadata: meta(generatorActor, now),
});

const facts: ApplicationFacts = {
  generator: { agencyId: 'gen-1', creditCode },
  exportingJurisdiction: SICHUAN,
  receivingJurisdiction: CHONGQING,
  receiver: { facilityId: 'fac-cq-1', licenceValidUntil: '2028-06-30' },
  lines: [
    { wasteCode: '900-249-08', quantityKg: '12000.500' },
    { wasteCode: '772-002-18', quantityKg: '3000.000' },
  ],
  totalKg: '15000.500',
  method: 'R9 废矿物油再生利用 / re-refining of waste mineral oil',
  window: { from: '2026-11-01', to: '2027-12-31' },
  attachments,
};

const due = (
  step: Deadline['step'],
  from: string,
  lastDay: string,
  responsibleJurisdiction = SICHUAN,
  provisional = false,
): Deadline => ({
  step,
  from,
  workingDays: step === 'reply' ? 10 : 5,
  lastDay,
  dueAt: endOf(lastDay),
  provisional,
  responsibleJurisdiction,
});

// Submitted on Tuesday 2026-09-29. Five working days: 09-30, then National Day (10-01..07) is off,
// 10-08, 10-09, Saturday 10-10 (调休 working day), Monday 10-12.
const submitted: TransferEvent = {
  type: 'TransferSubmitted',
  data: {
    transferId: 't-1',
    path: 'letter',
    route: 'letter',
    application: facts,
    submittedAt: morning('2026-09-29'),
    deadline: due('completeness', '2026-09-29', '2026-10-12'),
  },
};
// Accepted explicitly on 09-30: review until 10-13 (10-08, 10-09, 10-10, 10-12, 10-13).
const accepted: TransferEvent = {
  type: 'TransferAccepted',
  data: {
    transferId: 't-1',
    acceptedBy: 'bureau',
    acceptedOn: '2026-09-30',
    deadline: due('review', '2026-09-30', '2026-10-13'),
  },
};
// Letter on 10-13: ten working days, 10-14 … 10-27.
const letterSent: TransferEvent = {
  type: 'ConsultationLetterSent',
  data: {
    transferId: 't-1',
    letterId: 'letter-1',
    to: CHONGQING,
    sentOn: '2026-10-13',
    deadline: due('reply', '2026-10-13', '2026-10-27', CHONGQING),
  },
};
// Consent on 10-20: decision until 10-27 (10-21, 22, 23, 26, 27).
const consented: TransferEvent = {
  type: 'ConsultationReplied',
  data: {
    transferId: 't-1',
    consent: true,
    reasons: [],
    repliedOn: '2026-10-20',
    repliedBy: CHONGQING,
    deadline: due('decision', '2026-10-20', '2026-10-27'),
  },
};
const refusedByReceiver: TransferEvent = {
  type: 'ConsultationReplied',
  data: {
    transferId: 't-1',
    consent: false,
    reasons: ['处置能力已满 / capacity exhausted'],
    repliedOn: '2026-10-20',
    repliedBy: CHONGQING,
    deadline: due('decision', '2026-10-20', '2026-10-27'),
  },
};

const cmd = <T extends TransferCommand['type']>(
  type: T,
  data: Extract<TransferCommand, { type: T }>['data'],
  actor: Actor,
  now: string,
): TransferCommand => ({ type, data, metadata: meta(actor, now) }) as TransferCommand;

const accept = (now = morning('2026-09-30')) =>
  cmd('AcceptApplication', { transferId: 't-1' }, sichuanBureau, now);
const completenessTimer = (now: string) => cmd('CompletenessTimerFired', { transferId: 't-1' }, timer, now);
const deadlineTimer = (step: 'review' | 'reply' | 'decision', now: string) =>
  cmd('DeadlineTimerFired', { transferId: 't-1', step }, timer, now);
const sendLetter = (now = morning('2026-10-13'), actor = sichuanBureau) =>
  cmd('SendConsultationLetter', { transferId: 't-1', letterId: 'letter-1' }, actor, now);
const reply = (
  decision: 'consent' | 'refusal',
  reasons?: string[],
  now = morning('2026-10-20'),
  actor = chongqingBureau,
) => cmd('ReplyToLetter', { transferId: 't-1', decision, ...(reasons ? { reasons } : {}) }, actor, now);
const approve = (now = morning('2026-10-22'), lines?: { wasteCode: string; quantityKg: string }[]) =>
  cmd('ApproveTransfer', { transferId: 't-1', ...(lines ? { lines } : {}) }, sichuanBureau, now);
const refuseApp = (reasons: string[], now = morning('2026-10-09')) =>
  cmd('RefuseApplication', { transferId: 't-1', reasons }, sichuanBureau, now);
const withdraw = (now = morning('2026-10-09'), actor = generatorActor) =>
  cmd('WithdrawApplication', { transferId: 't-1', reason: '合同取消 / contract cancelled' }, actor, now);

const artNotified: Notification[] = [
  { jurisdiction: SICHUAN, department: 'transport' },
  { jurisdiction: CHONGQING, department: 'environment' },
  { jurisdiction: CHONGQING, department: 'transport' },
];

describe('transfer application: submission (Art 22)', () => {
  it('records the application with its completeness deadline, counted over National Day and the 调休 Saturday', () => {
    given(decider).when(submit()).then(submitted);
    expect((submitted.data as { deadline: Deadline }).deadline.dueAt).toBe('2026-10-12T16:00:00.000Z');
    given(decider)
      .when(submit())
      .thenState((s) => {
        expect(s.status).toBe('submitted');
        expect(s.dueDates).toEqual({ completeness: due('completeness', '2026-09-29', '2026-10-12') });
      });
  });

  it('carries where the generator and the receiver sit, and who runs the facility, for visibility', () => {
    const sited = submit({
      generator: { agencyId: 'gen-1', creditCode, jurisdiction: '510100' },
      receiver: {
        facilityId: 'fac-cq-1',
        licenceValidUntil: '2028-06-30',
        jurisdiction: '500112',
        operatorAgencyId: ' cq-op-1 ',
      },
    });
    given(decider)
      .when(sited)
      .thenState((s) => {
        expect(s.application?.generator).toEqual({ agencyId: 'gen-1', creditCode, jurisdiction: '510100' });
        expect(s.application?.receiver).toEqual({
          facilityId: 'fac-cq-1',
          licenceValidUntil: '2028-06-30',
          jurisdiction: '500112',
          operatorAgencyId: 'cq-op-1',
        });
      });
    given(decider)
      .when(submit({ generator: { agencyId: 'gen-1', creditCode, jurisdiction: '51010' } }))
      .thenThrows({ code: 'transfer.invalid-jurisdiction', field: 'generator.jurisdiction' });
    given(decider)
      .when(
        submit({ receiver: { facilityId: 'fac-cq-1', licenceValidUntil: '2028-06-30', jurisdiction: 'x' } }),
      )
      .thenThrows({ code: 'transfer.invalid-jurisdiction', field: 'receiver.jurisdiction' });
  });

  it('is submitted once', () => {
    given(decider, submitted)
      .when(submit())
      .thenThrows({ code: 'transfer.already-submitted', field: 'transferId' });
  });

  it('is submitted by the generator itself', () => {
    const other: Actor = { ...generatorActor, agencyId: 'gen-2' };
    given(decider)
      .when({ ...submit(), metadata: meta(other, morning('2026-09-29')) })
      .thenThrows({ code: 'transfer.not-the-generator', field: 'generator.agencyId' });
  });

  it.each([
    [
      'a bad credit code',
      { generator: { agencyId: 'gen-1', creditCode: '91510100MA6C123450' } },
      'transfer.invalid-credit-code',
      'generator.creditCode',
    ],
    [
      'a city as exporting jurisdiction',
      { exportingJurisdiction: '510100' },
      'transfer.jurisdiction-not-provincial',
      'exportingJurisdiction',
    ],
    [
      'a malformed receiving jurisdiction',
      { receivingJurisdiction: '5000' },
      'transfer.invalid-jurisdiction',
      'receivingJurisdiction',
    ],
    ['no waste line', { lines: [] }, 'transfer.lines-required', 'lines'],
    [
      'a category that does not exist (HW42)',
      { lines: [{ wasteCode: '900-249-42', quantityKg: '1' }] },
      'transfer.invalid-waste-code',
      'lines[0].wasteCode',
    ],
    [
      'a quantity with 4 decimals',
      { lines: [{ wasteCode: '900-249-08', quantityKg: '1.0001' }] },
      'transfer.invalid-quantity',
      'lines[0].quantityKg',
    ],
    [
      'a zero quantity',
      { lines: [{ wasteCode: '900-249-08', quantityKg: '0' }] },
      'transfer.quantity-zero',
      'lines[0].quantityKg',
    ],
    [
      'the same code twice',
      {
        lines: [
          { wasteCode: '900-249-08', quantityKg: '1' },
          { wasteCode: '90024908', quantityKg: '2' },
        ],
      },
      'transfer.duplicate-waste-code',
      'lines[1].wasteCode',
    ],
    ['no method', { method: '  ' }, 'transfer.required', 'method'],
    [
      'a window that ends before it starts',
      { window: { from: '2026-12-01', to: '2026-11-30' } },
      'transfer.window-reversed',
      'window.to',
    ],
    [
      'a window already over',
      { window: { from: '2026-01-01', to: '2026-09-28' } },
      'transfer.window-in-past',
      'window.to',
    ],
    [
      'an impossible date',
      { window: { from: '2026-02-30', to: '2026-12-31' } },
      'transfer.invalid-date',
      'window.from',
    ],
    [
      'an expired licence',
      { receiver: { facilityId: 'fac-cq-1', licenceValidUntil: '2026-09-28' } },
      'transfer.licence-expired',
      'receiver.licenceValidUntil',
    ],
    ['no contract', { attachments: attachments.slice(0, 2) }, 'transfer.attachment-missing', 'attachments'],
    [
      'a hash that is not SHA-256',
      { attachments: [{ ...attachments[0], sha256: 'abc' }, ...attachments.slice(1)] },
      'transfer.attachment-hash',
      'attachments[0].sha256',
    ],
    [
      'an empty file',
      { attachments: [{ ...attachments[0], size: 0 }, ...attachments.slice(1)] },
      'transfer.attachment-size',
      'attachments[0].size',
    ],
    [
      'a file over 50 MiB',
      { attachments: [...attachments.slice(0, 2), { ...attachments[2], size: 52_428_801 }] },
      'transfer.attachment-size',
      'attachments[2].size',
    ],
    [
      'a Word document',
      { attachments: [{ ...attachments[0], mediaType: 'application/msword' }, ...attachments.slice(1)] },
      'transfer.attachment-type',
      'attachments[0].mediaType',
    ],
    ['the filing path', { path: 'filing' as const }, 'transfer.filing-is-not-an-application', 'path'],
    [
      'the whitelist path without its entry',
      { path: 'whitelist' as const },
      'transfer.whitelist-entry-required',
      'whitelist',
    ],
    [
      'a whitelist entry on the letter path',
      { whitelist: { entryId: 'wl-1', remainingTonnes: '100' } },
      'transfer.whitelist-entry-unexpected',
      'whitelist',
    ],
  ])('refuses %s, naming the field', (_label, over, code, field) => {
    given(decider)
      .when(submit(over as Partial<SubmitApplicationData>))
      .thenThrows({ code, field });
  });

  it('explains refusals in Chinese and English', () => {
    given(decider)
      .when(submit({ attachments: attachments.slice(1) }))
      .thenThrows({
        code: 'transfer.attachment-missing',
        message: { zh: /缺少附件/, en: /missing attachment/ },
        details: { missing: ['licence'] },
      });
  });
});

describe('completeness check (Art 23): silence means accepted', () => {
  it('is returned as incomplete within the 5 working days', () => {
    given(decider, submitted)
      .when(
        cmd(
          'ReturnIncomplete',
          { transferId: 't-1', missing: ['合同盖章页 / signed contract page'] },
          sichuanBureau,
          morning('2026-10-12'),
        ),
      )
      .then({
        type: 'TransferReturned',
        data: { transferId: 't-1', missing: ['合同盖章页 / signed contract page'], returnedOn: '2026-10-12' },
      });
  });

  it('cannot be returned once the period is over (it counts as accepted), nor without saying what is missing', () => {
    given(decider, submitted)
      .when(
        cmd('ReturnIncomplete', { transferId: 't-1', missing: ['x'] }, sichuanBureau, endOf('2026-10-12')),
      )
      .thenThrows({
        code: 'transfer.completeness-period-over',
        details: { dueAt: '2026-10-12T16:00:00.000Z' },
      });
    given(decider, submitted)
      .when(
        cmd('ReturnIncomplete', { transferId: 't-1', missing: [' '] }, sichuanBureau, morning('2026-10-08')),
      )
      .thenThrows({ code: 'transfer.missing-required', field: 'missing' });
  });

  it('is checked by the exporting bureau only', () => {
    given(decider, submitted)
      .when(cmd('AcceptApplication', { transferId: 't-1' }, chongqingBureau, morning('2026-09-30')))
      .thenThrows({ code: 'transfer.wrong-jurisdiction', details: { required: SICHUAN, actor: CHONGQING } });
  });

  it('is accepted explicitly, which opens the 5-working-day review', () => {
    given(decider, submitted).when(accept()).then(accepted);
    given(decider, submitted, accepted).when(accept()).thenThrows('transfer.not-awaiting-completeness-check');
  });

  it('when the timer fires at the deadline, silence accepts it on the last day, and the review counts from then', () => {
    // Accepted on Monday 10-12 (24:00): review 10-13 … 10-19.
    const bySilence: TransferEvent = {
      type: 'TransferAccepted',
      data: {
        transferId: 't-1',
        acceptedBy: 'silence',
        acceptedOn: '2026-10-12',
        deadline: due('review', '2026-10-12', '2026-10-19'),
      },
    };
    given(decider, submitted)
      .when(completenessTimer(endOf('2026-10-12')))
      .then(bySilence);
    // An explicit acceptance after the period changes nothing: silence had already accepted it.
    given(decider, submitted)
      .when(accept(morning('2026-10-13')))
      .then(bySilence);
    given(decider, submitted)
      .when(completenessTimer(endOf('2026-10-12')))
      .thenState((s) => {
        expect(s.status).toBe('under-review');
        expect(s.overdue).toEqual([]);
      });
  });

  it('does nothing when the timer fires early, late after a decision, or twice', () => {
    given(decider, submitted).when(completenessTimer('2026-10-12T15:59:59.999Z')).thenNothing();
    given(decider, submitted, accepted)
      .when(completenessTimer(endOf('2026-10-12')))
      .thenNothing();
    const returned: TransferEvent = {
      type: 'TransferReturned',
      data: { transferId: 't-1', missing: ['x'], returnedOn: '2026-10-08' },
    };
    given(decider, submitted, returned)
      .when(completenessTimer(endOf('2026-10-12')))
      .thenNothing();
  });

  it('is never "overdue": the deadline timer refuses the completeness step', () => {
    given(decider, submitted)
      .when(
        cmd(
          'DeadlineTimerFired',
          { transferId: 't-1', step: 'completeness' as never },
          timer,
          endOf('2026-10-12'),
        ),
      )
      .thenThrows({ code: 'transfer.silence-means-accepted', field: 'step' });
  });
});

describe('review and consultation letter (Art 24)', () => {
  it('sends the letter to the receiving bureau, which has 10 working days to reply', () => {
    given(decider, submitted, accepted).when(sendLetter()).then(letterSent);
    given(decider, submitted, accepted)
      .when(sendLetter())
      .thenState((s) => {
        expect(s.status).toBe('consulting');
        expect(s.dueDates).toEqual({ reply: due('reply', '2026-10-13', '2026-10-27', CHONGQING) });
      });
  });

  it('sends it only under review and only from the exporting bureau', () => {
    given(decider, submitted).when(sendLetter()).thenThrows('transfer.not-under-review');
    given(decider, submitted, accepted)
      .when(sendLetter(morning('2026-10-13'), chongqingBureau))
      .thenThrows('transfer.wrong-jurisdiction');
  });

  it('refuses with written reasons at review', () => {
    given(decider, submitted, accepted)
      .when(refuseApp(['接受单位许可类别不含 HW18 / the licence does not cover HW18']))
      .then({
        type: 'TransferRefused',
        data: {
          transferId: 't-1',
          step: 'review',
          reasons: ['接受单位许可类别不含 HW18 / the licence does not cover HW18'],
          refusedOn: '2026-10-09',
          refusedBy: SICHUAN,
        },
      });
    given(decider, submitted, accepted)
      .when(refuseApp([' ']))
      .thenThrows({ code: 'transfer.reasons-required', field: 'reasons' });
    given(decider, submitted)
      .when(refuseApp(['x']))
      .thenThrows('transfer.not-refusable');
  });

  it('a missed review is overdue for the exporting bureau, escalated, and nothing else happens', () => {
    const missed: TransferEvent = {
      type: 'TransferDeadlineMissed',
      data: {
        transferId: 't-1',
        step: 'review',
        responsibleJurisdiction: SICHUAN,
        lastDay: '2026-10-13',
        dueAt: endOf('2026-10-13'),
        detectedAt: endOf('2026-10-13'),
        escalatedTo: 'regional-secretariat',
      },
    };
    given(decider, submitted, accepted)
      .when(deadlineTimer('review', endOf('2026-10-13')))
      .then(missed);
    given(decider, submitted, accepted)
      .when(deadlineTimer('review', endOf('2026-10-13')))
      .thenState((s) => {
        expect(s.status).toBe('under-review');
        expect(s.overdue).toEqual(['review']);
        expect(s.dueDates.review?.lastDay).toBe('2026-10-13');
      });
    // Early, repeated, or after the step closed: nothing.
    given(decider, submitted, accepted)
      .when(deadlineTimer('review', '2026-10-13T15:59:59.999Z'))
      .thenNothing();
    given(decider, submitted, accepted, missed)
      .when(deadlineTimer('review', morning('2026-10-15')))
      .thenNothing();
    given(decider, submitted, accepted, letterSent)
      .when(deadlineTimer('review', endOf('2026-10-13')))
      .thenNothing();
    // The bureau still has to act: a late letter is sent (the miss stays on record).
    const late = sendLetter(morning('2026-10-15'));
    given(decider, submitted, accepted, missed)
      .when(late)
      .thenState((s) => {
        expect(s.status).toBe('consulting');
        expect(s.overdue).toEqual([]);
      });
  });

  it('a late letter whose timer has not fired yet records the miss first', () => {
    given(decider, submitted, accepted)
      .when(sendLetter(morning('2026-10-14')))
      .then(
        {
          type: 'TransferDeadlineMissed',
          data: {
            transferId: 't-1',
            step: 'review',
            responsibleJurisdiction: SICHUAN,
            lastDay: '2026-10-13',
            dueAt: endOf('2026-10-13'),
            detectedAt: morning('2026-10-14'),
            escalatedTo: 'regional-secretariat',
          },
        },
        {
          ...letterSent,
          data: {
            ...letterSent.data,
            sentOn: '2026-10-14',
            deadline: due('reply', '2026-10-14', '2026-10-28', CHONGQING),
          },
        } as TransferEvent,
      );
  });
});

describe('reply (Art 25): 10 working days, a miss is never consent', () => {
  it('records consent, which opens the 5-working-day decision', () => {
    given(decider, submitted, accepted, letterSent).when(reply('consent')).then(consented);
  });

  it('records a refusal only with reasons, and only from the receiving bureau', () => {
    given(decider, submitted, accepted, letterSent)
      .when(reply('refusal', ['处置能力已满 / capacity exhausted']))
      .then(refusedByReceiver);
    given(decider, submitted, accepted, letterSent)
      .when(reply('refusal'))
      .thenThrows('transfer.reasons-required');
    given(decider, submitted, accepted, letterSent)
      .when(reply('consent', undefined, morning('2026-10-20'), sichuanBureau))
      .thenThrows({
        code: 'transfer.wrong-jurisdiction',
        details: { required: CHONGQING, role: 'receiving' },
      });
    given(decider, submitted, accepted).when(reply('consent')).thenThrows('transfer.not-consulting');
  });

  it('a missed reply is overdue for the receiving bureau; the transfer cannot be approved on silence', () => {
    const missed: TransferEvent = {
      type: 'TransferDeadlineMissed',
      data: {
        transferId: 't-1',
        step: 'reply',
        responsibleJurisdiction: CHONGQING,
        lastDay: '2026-10-27',
        dueAt: '2026-10-27T16:00:00.000Z',
        detectedAt: '2026-10-27T16:00:05.000Z',
        escalatedTo: 'regional-secretariat',
      },
    };
    given(decider, submitted, accepted, letterSent)
      .when(deadlineTimer('reply', '2026-10-27T16:00:05.000Z'))
      .then(missed);
    given(decider, submitted, accepted, letterSent, missed)
      .when(approve(morning('2026-10-29')))
      .thenThrows({ code: 'transfer.not-approvable', details: { status: 'consulting' } });
    given(decider, submitted, accepted, letterSent)
      .when(deadlineTimer('reply', '2026-10-27T16:00:05.000Z'))
      .thenState((s) => {
        expect(s.status).toBe('consulting');
        expect(s.reply).toBeUndefined();
        expect(s.overdue).toEqual(['reply']);
      });
    given(decider, submitted, accepted, letterSent, missed)
      .when(deadlineTimer('reply', morning('2026-10-30')))
      .thenNothing();
    expect(
      nextActions(
        [submitted, accepted, letterSent, missed].reduce<TransferState>(
          decider.evolve,
          decider.initialState(),
        ),
      ),
    ).toEqual([
      {
        command: 'ReplyToLetter',
        party: 'receiving-bureau',
        jurisdiction: CHONGQING,
        dueAt: endOf('2026-10-27'),
        overdue: true,
      },
      { command: 'WithdrawApplication', party: 'generator', agencyId: 'gen-1', overdue: false },
    ]);
  });
});

describe('decision (Art 25–27)', () => {
  const approvedEvent = (over: Partial<Approval> = {}): TransferEvent => ({
    type: 'TransferApproved',
    data: {
      transferId: 't-1',
      route: 'letter',
      approval: {
        approvedOn: '2026-10-22',
        validFrom: '2026-11-01',
        validUntil: '2027-10-31',
        cappedBy: 'twelve-months',
        lines: facts.lines,
        totalKg: '15000.500',
        ...over,
      },
      generator: facts.generator,
      receiver: facts.receiver,
      exportingJurisdiction: SICHUAN,
      receivingJurisdiction: CHONGQING,
      method: facts.method,
      notified: artNotified,
    },
  });

  it('approves after consent for 12 months from the window start, and notifies transport and the receiving side (Art 26)', () => {
    given(decider, submitted, accepted, letterSent, consented).when(approve()).then(approvedEvent());
    given(decider, submitted, accepted, letterSent, consented)
      .when(approve())
      .thenState((s) => {
        expect(s.status).toBe('approved');
        expect(s.dueDates).toEqual({});
        expect(approvedQuantity(s)?.toKgString()).toBe('15000.500');
        expect(nextActions(s)).toEqual([]);
      });
  });

  it('caps the validity by the requested window and by the licence', () => {
    const shortWindow = {
      ...submitted,
      data: {
        ...submitted.data,
        application: { ...facts, window: { from: '2026-10-01', to: '2027-03-31' } },
      },
    } as TransferEvent;
    given(decider, shortWindow, accepted, letterSent, consented)
      .when(approve())
      .thenState((s) => {
        // The window began before the approval: validity starts on the approval day.
        expect(s.approval).toMatchObject({
          validFrom: '2026-10-22',
          validUntil: '2027-03-31',
          cappedBy: 'requested-window',
        });
      });
    const licence = { ...facts.receiver, licenceValidUntil: '2027-06-30' };
    const shortLicence = {
      ...submitted,
      data: { ...submitted.data, application: { ...facts, receiver: licence } },
    } as TransferEvent;
    given(decider, shortLicence, accepted, letterSent, consented)
      .when(approve())
      .thenState((s) => expect(s.approval).toMatchObject({ validUntil: '2027-06-30', cappedBy: 'licence' }));
    // The licence expired while the application was pending: no approval.
    const expiring = { ...facts.receiver, licenceValidUntil: '2026-10-21' };
    const lapsed = {
      ...submitted,
      data: { ...submitted.data, application: { ...facts, receiver: expiring } },
    } as TransferEvent;
    given(decider, lapsed, accepted, letterSent, consented)
      .when(approve())
      .thenThrows({ code: 'transfer.licence-expired', field: 'receiver.licenceValidUntil' });
  });

  it('approves less than requested, never more, and only what was applied for', () => {
    given(decider, submitted, accepted, letterSent, consented)
      .when(approve(morning('2026-10-22'), [{ wasteCode: '900-249-08', quantityKg: '10000' }]))
      .thenState((s) => {
        expect(s.approval?.lines).toEqual([{ wasteCode: '900-249-08', quantityKg: '10000.000' }]);
        expect(approvedQuantity(s)?.toKgString()).toBe('10000.000');
      });
    given(decider, submitted, accepted, letterSent, consented)
      .when(approve(morning('2026-10-22'), [{ wasteCode: '900-249-08', quantityKg: '12000.501' }]))
      .thenThrows({
        code: 'transfer.approved-exceeds-requested',
        field: 'lines[0].quantityKg',
        details: { requestedKg: '12000.500' },
      });
    given(decider, submitted, accepted, letterSent, consented)
      .when(approve(morning('2026-10-22'), [{ wasteCode: '900-214-08', quantityKg: '1' }]))
      .thenThrows({ code: 'transfer.waste-not-requested', field: 'lines[0].wasteCode' });
  });

  it('cannot approve without the letter, or after the receiving bureau refused', () => {
    given(decider, submitted, accepted).when(approve()).thenThrows('transfer.letter-required');
    given(decider, submitted).when(approve()).thenThrows('transfer.not-approvable');
    given(decider, submitted, accepted, letterSent, refusedByReceiver)
      .when(approve())
      .thenThrows({
        code: 'transfer.receiving-bureau-refused',
        details: { reasons: ['处置能力已满 / capacity exhausted'] },
      });
    given(decider, submitted, accepted, letterSent, refusedByReceiver)
      .when(refuseApp(['接受地不同意 / the receiving province refused'], morning('2026-10-21')))
      .thenState((s) => expect(s.status).toBe('refused'));
  });

  it('a missed decision is overdue for the exporting bureau, never an approval; a late approval records the miss', () => {
    const missed: TransferEvent = {
      type: 'TransferDeadlineMissed',
      data: {
        transferId: 't-1',
        step: 'decision',
        responsibleJurisdiction: SICHUAN,
        lastDay: '2026-10-27',
        dueAt: endOf('2026-10-27'),
        detectedAt: endOf('2026-10-27'),
        escalatedTo: 'regional-secretariat',
      },
    };
    given(decider, submitted, accepted, letterSent, consented)
      .when(deadlineTimer('decision', endOf('2026-10-27')))
      .then(missed);
    given(decider, submitted, accepted, letterSent, consented)
      .when(deadlineTimer('decision', endOf('2026-10-27')))
      .thenState((s) => {
        expect(s.status).toBe('awaiting-decision');
        expect(s.approval).toBeUndefined();
      });
    given(decider, submitted, accepted, letterSent, consented)
      .when(approve(morning('2026-10-28')))
      .then(
        { ...missed, data: { ...missed.data, detectedAt: morning('2026-10-28') } } as TransferEvent,
        approvedEvent({ approvedOn: '2026-10-28' }),
      );
  });
});

describe('withdrawal', () => {
  it('is possible at any step before a decision, by the generator only', () => {
    const withdrawn = (on: string, openSteps: string[]): TransferEvent =>
      ({
        type: 'TransferWithdrawn',
        data: { transferId: 't-1', reason: '合同取消 / contract cancelled', withdrawnOn: on, openSteps },
      }) as TransferEvent;
    given(decider, submitted)
      .when(withdraw(morning('2026-09-30')))
      .then(withdrawn('2026-09-30', ['completeness']));
    given(decider, submitted, accepted)
      .when(withdraw())
      .then(withdrawn('2026-10-09', ['review']));
    given(decider, submitted, accepted, letterSent)
      .when(withdraw(morning('2026-10-15')))
      .then(withdrawn('2026-10-15', ['reply']));
    given(decider, submitted, accepted, letterSent, consented)
      .when(withdraw(morning('2026-10-21')))
      .thenState((s) => {
        expect(s.status).toBe('withdrawn');
        expect(s.dueDates).toEqual({});
      });
    given(decider, submitted, accepted)
      .when(withdraw(morning('2026-10-09'), { ...generatorActor, agencyId: 'gen-2' }))
      .thenThrows('transfer.not-the-generator');
  });

  it('is refused after a decision; the open timers then do nothing', () => {
    const approved = decider.decide(
      approve(),
      [submitted, accepted, letterSent, consented].reduce(decider.evolve, decider.initialState()),
    );
    given(decider, submitted, accepted, letterSent, consented, ...approved)
      .when(withdraw(morning('2026-10-23')))
      .thenThrows('transfer.already-decided');
    given(decider, submitted, accepted, letterSent, consented, ...approved)
      .when(deadlineTimer('decision', endOf('2026-10-27')))
      .thenNothing();
  });
});

describe('whitelist path', () => {
  const whitelisted = (remainingTonnes: string) =>
    submit({ path: 'whitelist', whitelist: { entryId: 'wl-2026-sc-cq-07', remainingTonnes } });

  it('within the entry’s remaining tonnes: no letter, a direct decision within 5 working days', () => {
    given(decider)
      .when(whitelisted('15.0005'))
      .thenState((s) => {
        expect(s.route).toBe('whitelist');
        expect(s.whitelist).toEqual({
          entryId: 'wl-2026-sc-cq-07',
          remainingKg: '15000.500',
          withinEntry: true,
        });
      });
    const [sub] = decider.decide(whitelisted('15.0005'), decider.initialState());
    const acc = decider.decide(accept(), decider.evolve(decider.initialState(), sub));
    expect(acc).toEqual([
      {
        type: 'TransferAccepted',
        data: {
          transferId: 't-1',
          acceptedBy: 'bureau',
          acceptedOn: '2026-09-30',
          deadline: due('decision', '2026-09-30', '2026-10-13'),
        },
      },
    ]);
    given(decider, sub, ...acc)
      .when(sendLetter(morning('2026-10-09')))
      .thenThrows({ code: 'transfer.letter-not-needed', details: { route: 'whitelist' } });
    given(decider, sub, ...acc)
      .when(approve(morning('2026-10-09')))
      .thenState((s) => {
        expect(s.status).toBe('approved');
        expect(s.approval?.validFrom).toBe('2026-11-01');
      });
    const [approvedEvent] = decider.decide(
      approve(morning('2026-10-09')),
      [sub, ...acc].reduce(decider.evolve, decider.initialState()),
    );
    // The receiving bureau is told (Art 26 list), and the event names the whitelist entry used.
    expect(approvedEvent).toMatchObject({
      type: 'TransferApproved',
      data: {
        route: 'whitelist',
        whitelist: { entryId: 'wl-2026-sc-cq-07', withinEntry: true },
        notified: expect.arrayContaining([{ jurisdiction: CHONGQING, department: 'environment' }]) as unknown,
      },
    });
    // Refused at the direct decision, it is a decision-step refusal.
    given(decider, sub, ...acc)
      .when(refuseApp(['超出白名单条目范围 / outside the whitelist entry']))
      .thenState((s) => expect(s.status).toBe('refused'));
    expect(
      decider.decide(refuseApp(['x']), [sub, ...acc].reduce(decider.evolve, decider.initialState()))[0].data,
    ).toMatchObject({ step: 'decision' });
    // A missed direct decision is overdue too, never an approval.
    given(decider, sub, ...acc)
      .when(deadlineTimer('decision', endOf('2026-10-13')))
      .thenState((s) => {
        expect(s.status).toBe('under-review');
        expect(s.overdue).toEqual(['decision']);
      });
  });

  it('keeps the agreement of the entry, and the notified departments once approved', () => {
    const [sub] = decider.decide(
      submit({
        path: 'whitelist',
        whitelist: { entryId: 'wl-2026-sc-cq-07', remainingTonnes: '100', agreementId: 'ag-chengyu-2026' },
      }),
      decider.initialState(),
    );
    expect(sub.data).toMatchObject({
      whitelist: { entryId: 'wl-2026-sc-cq-07', agreementId: 'ag-chengyu-2026', withinEntry: true },
    });
    const acc = decider.decide(accept(), decider.evolve(decider.initialState(), sub));
    given(decider, sub, ...acc)
      .when(approve(morning('2026-10-09')))
      .thenState((s) => {
        expect(s.whitelist?.agreementId).toBe('ag-chengyu-2026');
        expect(s.notified).toEqual([
          { jurisdiction: SICHUAN, department: 'transport' },
          { jurisdiction: CHONGQING, department: 'environment' },
          { jurisdiction: CHONGQING, department: 'transport' },
        ]);
      });
  });

  it('beyond the entry (one gram over) the letter is required again', () => {
    const [sub] = decider.decide(whitelisted('15.000499'), decider.initialState());
    expect(sub.data).toMatchObject({
      path: 'whitelist',
      route: 'letter',
      whitelist: { remainingKg: '15000.499', withinEntry: false },
    });
    given(decider, sub, accepted)
      .when(approve(morning('2026-10-09')))
      .thenThrows('transfer.letter-required');
    given(decider, sub, accepted).when(sendLetter()).then(letterSent);
  });

  it('refuses an unreadable remaining quantity', () => {
    given(decider)
      .when(whitelisted('-1'))
      .thenThrows({ code: 'transfer.invalid-quantity', field: 'whitelist.remainingTonnes' });
  });
});

describe('intra-province transfers', () => {
  const intra = submit({ receivingJurisdiction: SICHUAN });

  it('skip the letter by default', () => {
    given(decider)
      .when(intra)
      .thenState((s) => expect(s.route).toBe('intra-province'));
    const [sub] = decider.decide(intra, decider.initialState());
    const acc = decider.decide(accept(), decider.evolve(decider.initialState(), sub));
    given(decider, sub, ...acc)
      .when(sendLetter(morning('2026-10-09')))
      .thenThrows('transfer.letter-not-needed');
    const [approved] = decider.decide(
      approve(morning('2026-10-09')),
      [sub, ...acc].reduce(decider.evolve, decider.initialState()),
    );
    expect(approved.data).toMatchObject({
      route: 'intra-province',
      notified: [{ jurisdiction: SICHUAN, department: 'transport' }],
    });
  });

  it('go through the letter when the option is off', () => {
    const strict = transferDecider({ calendar, intraProvinceSkipsLetter: false });
    given(strict)
      .when(intra)
      .thenState((s) => expect(s.route).toBe('letter'));
  });
});

describe('filing path (general industrial, construction, municipal waste)', () => {
  const filing = (over: Partial<SubmitFilingData> = {}): TransferCommand => ({
    type: 'SubmitFiling',
    data: {
      transferId: 'f-1',
      generator: { agencyId: 'gen-1', creditCode },
      exportingJurisdiction: '440300',
      receivingCity: '441302',
      receiver: { facilityId: 'fac-hz-3' },
      lines: [{ wasteClass: 'construction', quantityKg: '2500000' }],
      window: { from: '2026-10-01', to: '2026-12-31' },
      attachments: [attachments[2]],
      ...over,
    },
    metadata: meta(generatorActor, morning('2026-09-29')),
  });

  it('files, telling the receiving city’s bureau; there is nothing to approve', () => {
    given(decider)
      .when(filing())
      .then({
        type: 'TransferFiled',
        data: {
          transferId: 'f-1',
          filing: {
            generator: { agencyId: 'gen-1', creditCode },
            exportingJurisdiction: '440300',
            receivingCity: '441300',
            receiver: { facilityId: 'fac-hz-3' },
            lines: [{ wasteClass: 'construction', quantityKg: '2500000.000' }],
            totalKg: '2500000.000',
            window: { from: '2026-10-01', to: '2026-12-31' },
            attachments: [attachments[2]],
          },
          filedAt: morning('2026-09-29'),
          notified: [{ jurisdiction: '441300', department: 'environment' }],
        },
      });
    given(decider)
      .when(filing())
      .thenState((s) => {
        expect(s.status).toBe('filed');
        expect(nextActions(s)).toEqual([]);
      });
    const [filed] = decider.decide(filing(), decider.initialState());
    given(decider, filed).when(filing()).thenThrows('transfer.already-submitted');
    given(decider, filed)
      .when(cmd('AcceptApplication', { transferId: 'f-1' }, sichuanBureau, morning('2026-09-30')))
      .thenThrows('transfer.not-submitted');
  });

  it('records the facility’s site when known, and who was told', () => {
    given(decider)
      .when(
        filing({ receiver: { facilityId: 'fac-hz-3', jurisdiction: '441302', operatorAgencyId: 'hz-op' } }),
      )
      .thenState((s) => {
        expect(s.filing?.receiver).toEqual({
          facilityId: 'fac-hz-3',
          jurisdiction: '441302',
          operatorAgencyId: 'hz-op',
        });
        expect(s.notified).toEqual([{ jurisdiction: '441300', department: 'environment' }]);
      });
  });

  it('a municipality directly under the central government is its own city', () => {
    given(decider)
      .when(filing({ receivingCity: CHONGQING }))
      .thenState((s) => expect(s.filing?.receivingCity).toBe(CHONGQING));
  });

  it('refuses hazardous waste, a province instead of a city, and a filing without its contract', () => {
    given(decider)
      .when(filing({ lines: [{ wasteClass: 'hazardous' as never, quantityKg: '1' }] }))
      .thenThrows({ code: 'transfer.filing-class', field: 'lines[0].wasteClass' });
    given(decider)
      .when(filing({ receivingCity: '440000' }))
      .thenThrows({ code: 'transfer.receiving-city-required', field: 'receivingCity' });
    given(decider)
      .when(filing({ attachments: [] }))
      .thenThrows({ code: 'transfer.attachment-missing', details: { missing: ['contract'] } });
  });
});

describe('provisional deadlines (a year whose holiday notice is not loaded yet)', () => {
  // Monday 2026-12-28: the fifth working day falls in 2027, whose notice is not in the bundled calendar.
  const lateSubmit = submit({ window: { from: '2027-01-01', to: '2027-12-31' } }, morning('2026-12-28'));
  const [provisionalSubmitted] = decider.decide(lateSubmit, decider.initialState());
  // Test data, not the real 2027 notice: New Year 2027-01-01 (Friday) to 01-03.
  const with2027 = calendar.withYear(2027, {
    source: 'test notice',
    holidays: { '元旦 New Year': ['2027-01-01', '2027-01-02', '2027-01-03'] },
    workdays: [],
  });
  if (!with2027.ok) throw new Error('test calendar');
  const updated = transferDecider({ calendar: with2027.value });
  const recompute = (now = morning('2026-12-29')) =>
    cmd('RecomputeProvisionalDeadlines', { transferId: 't-1' }, timer, now);

  it('are computed Monday–Friday and marked provisional', () => {
    expect(provisionalSubmitted.data).toMatchObject({
      deadline: due('completeness', '2026-12-28', '2027-01-04', SICHUAN, true),
    });
  });

  it('are recomputed when the year is loaded, with the old and new due dates', () => {
    given(updated, provisionalSubmitted)
      .when(recompute())
      .then({
        type: 'TransferDeadlinesRecomputed',
        data: {
          transferId: 't-1',
          changes: [
            {
              step: 'completeness',
              previous: { lastDay: '2027-01-04', dueAt: '2027-01-04T16:00:00.000Z', provisional: true },
              deadline: due('completeness', '2026-12-28', '2027-01-05'),
            },
          ],
        },
      });
    // The timer for the old due date now fires early and does nothing; the new one accepts by silence.
    const [recomputed] = updated.decide(
      recompute(),
      updated.evolve(updated.initialState(), provisionalSubmitted),
    );
    given(updated, provisionalSubmitted, recomputed)
      .when(completenessTimer(endOf('2027-01-04')))
      .thenNothing();
    given(updated, provisionalSubmitted, recomputed)
      .when(completenessTimer(endOf('2027-01-05')))
      .thenState((s) => expect(s.acceptedOn).toBe('2027-01-05'));
  });

  it('records nothing when no deadline is provisional, or the calendar still lacks the year', () => {
    given(updated, submitted).when(recompute()).thenNothing();
    given(decider, provisionalSubmitted).when(recompute()).thenNothing();
    given(updated).when(recompute()).thenNothing();
  });

  it('does not rewrite a miss already recorded', () => {
    const acceptedLate: TransferEvent = {
      type: 'TransferAccepted',
      data: {
        transferId: 't-1',
        acceptedBy: 'bureau',
        acceptedOn: '2026-12-29',
        deadline: due('review', '2026-12-29', '2027-01-05', SICHUAN, true),
      },
    };
    const missed: TransferEvent = {
      type: 'TransferDeadlineMissed',
      data: {
        transferId: 't-1',
        step: 'review',
        responsibleJurisdiction: SICHUAN,
        lastDay: '2027-01-05',
        dueAt: endOf('2027-01-05'),
        detectedAt: endOf('2027-01-05'),
        escalatedTo: 'regional-secretariat',
      },
    };
    given(updated, provisionalSubmitted, acceptedLate)
      .when(recompute())
      .then({
        type: 'TransferDeadlinesRecomputed',
        data: {
          transferId: 't-1',
          changes: [
            {
              step: 'review',
              previous: { lastDay: '2027-01-05', dueAt: endOf('2027-01-05'), provisional: true },
              deadline: due('review', '2026-12-29', '2027-01-06'),
            },
          ],
        },
      });
    given(updated, provisionalSubmitted, acceptedLate, missed).when(recompute()).thenNothing();
  });
});

describe('worklist: nextActions', () => {
  const stateOf = (...events: TransferEvent[]) =>
    events.reduce<TransferState>(decider.evolve, decider.initialState());

  it('lists what each party can do now, with the due date', () => {
    expect(nextActions(stateOf()).map((a) => a.command)).toEqual(['SubmitApplication', 'SubmitFiling']);
    expect(nextActions(stateOf(submitted))).toEqual([
      {
        command: 'ReturnIncomplete',
        party: 'exporting-bureau',
        jurisdiction: SICHUAN,
        dueAt: endOf('2026-10-12'),
        overdue: false,
      },
      {
        command: 'AcceptApplication',
        party: 'exporting-bureau',
        jurisdiction: SICHUAN,
        dueAt: endOf('2026-10-12'),
        overdue: false,
      },
      { command: 'WithdrawApplication', party: 'generator', agencyId: 'gen-1', overdue: false },
    ]);
    expect(nextActions(stateOf(submitted, accepted)).map((a) => a.command)).toEqual([
      'SendConsultationLetter',
      'RefuseApplication',
      'WithdrawApplication',
    ]);
    expect(nextActions(stateOf(submitted, accepted, letterSent, consented)).map((a) => a.command)).toEqual([
      'ApproveTransfer',
      'RefuseApplication',
      'WithdrawApplication',
    ]);
    expect(
      nextActions(stateOf(submitted, accepted, letterSent, refusedByReceiver)).map((a) => a.command),
    ).toEqual(['RefuseApplication', 'WithdrawApplication']);
  });

  it('with `now`, drops a return after the completeness period and flags passed deadlines as overdue', () => {
    expect(nextActions(stateOf(submitted), new Date(endOf('2026-10-12'))).map((a) => a.command)).toEqual([
      'AcceptApplication',
      'WithdrawApplication',
    ]);
    // Silence is acceptance, so the completeness step is never shown overdue.
    expect(nextActions(stateOf(submitted), new Date(endOf('2026-10-12')))[0].overdue).toBe(false);
    expect(nextActions(stateOf(submitted, accepted), new Date(endOf('2026-10-13')))[0]).toMatchObject({
      command: 'SendConsultationLetter',
      overdue: true,
    });
  });
});

describe('unknown transfers and the 12-month rule', () => {
  it('refuses people’s commands on an unknown transfer; timers on it do nothing', () => {
    given(decider).when(accept()).thenThrows({ code: 'transfer.not-submitted', field: 'transferId' });
    given(decider)
      .when(completenessTimer(endOf('2026-10-12')))
      .thenNothing();
    given(decider)
      .when(deadlineTimer('reply', endOf('2026-10-12')))
      .thenNothing();
  });

  it('12 months from a day end the day before its anniversary; from 29 February, on 28 February', () => {
    expect(twelveMonthsFrom(LocalDate.parseOrThrow('2026-11-03')).toString()).toBe('2027-11-02');
    expect(twelveMonthsFrom(LocalDate.parseOrThrow('2028-02-29')).toString()).toBe('2029-02-28');
    expect(twelveMonthsFrom(LocalDate.parseOrThrow('2026-01-01')).toString()).toBe('2026-12-31');
  });
});
