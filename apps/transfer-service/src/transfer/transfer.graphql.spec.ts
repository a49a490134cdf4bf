import { createHash } from 'node:crypto';
import type { Identity } from '@lianfang/auth';
import { LocalDate } from '@lianfang/domain-kernel';
import { EVENT_STORE, systemActor, type EventStore } from '@lianfang/eventsourcing';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import { useSubgraph } from '@lianfang/testing';
import { PUBLISHED } from '../common/published';
import { service } from '../service';
import { transferStream } from './decider';
import { TransferCommands } from './transfer.commands';

// Agencies of config/directory/demo-region.json (the service's default directory).
const who = (
  agencyId: string,
  agencyKind: Identity['agencyKind'],
  jurisdiction: string,
  roles: Identity['roles'],
  subject = `${agencyId}.${roles.join('-')}`,
): Identity => ({ subject, agencyId, agencyKind, jurisdiction, roles });

const generator = who('cd-jincheng-auto', 'generator', '510100', ['clerk']);
const otherGenerator = who('cq-liangjiang-chem', 'generator', '500000', ['clerk']);
const sichuanClerk = who('sc-eeb', 'provincial-bureau', '510000', ['clerk']);
const sichuanApprover = who('sc-eeb', 'provincial-bureau', '510000', ['approver']);
const sichuanViewer = who('sc-eeb', 'provincial-bureau', '510000', ['viewer']);
const chongqingClerk = who('cq-eeb', 'provincial-bureau', '500000', ['clerk']);
const chongqingApprover = who('cq-eeb', 'provincial-bureau', '500000', ['approver']);
/** A bureau of a third province. */
const yunnanApprover = who('yn-eeb', 'provincial-bureau', '530000', ['approver', 'viewer']);
const chengduBureau = who('cd-eeb', 'municipal-bureau', '510100', ['viewer']);
const deyangBureau = who('dy-eeb', 'municipal-bureau', '510600', ['viewer']);
const receiver = who('cq-yuhuan-disposal', 'receiver', '500000', ['viewer']);
const sichuanTransport = who('sc-transport', 'transport-department', '510000', ['viewer']);
const secretariat = who('chengyu-secretariat', 'regional-secretariat', '510000', ['clerk', 'viewer']);

const YUHUAN_CREDIT_CODE = '91500115MA5YH9P3C1';
const today = LocalDate.ofInstant(new Date());
const window = { from: today.toString(), to: today.plusDays(200).toString() };

const FIELDS = `id status path route exportingJurisdiction receivingJurisdiction receivingCity totalKg method
  generator { agencyId creditCode jurisdiction }
  receiver { facilityId licenceValidUntil jurisdiction operatorAgencyId }
  lines { wasteCode quantityKg } filingLines { wasteClass quantityKg } window { from to }
  attachments { sha256 size mediaType kind }
  whitelist { entryId agreementId remainingKg withinEntry }
  acceptedOn reply { consent reasons }
  approval { approvedOn validFrom validUntil cappedBy lines { wasteCode quantityKg } totalKg }
  dueDates { step workingDays lastDay dueAt provisional responsibleJurisdiction overdue }
  overdue nextActions { code label { zh en } dueAt overdue } submittedAt updatedAt`;

const SUBMIT = `mutation($key: String!, $input: SubmitTransferApplicationInput!) {
  submitTransferApplication(idempotencyKey: $key, input: $input) { ${FIELDS} } }`;
const FILE = `mutation($key: String!, $input: FileTransferInput!) {
  fileTransfer(idempotencyKey: $key, input: $input) { ${FIELDS} } }`;
const ACCEPT = `mutation($key: String!, $id: ID!) {
  acceptTransferApplication(idempotencyKey: $key, transferId: $id) { ${FIELDS} } }`;
const RETURN = `mutation($key: String!, $id: ID!, $missing: [String!]!) {
  returnTransferIncomplete(idempotencyKey: $key, transferId: $id, missing: $missing) { ${FIELDS} } }`;
const LETTER = `mutation($key: String!, $id: ID!) {
  sendConsultationLetter(idempotencyKey: $key, transferId: $id) { ${FIELDS} } }`;
const REPLY = `mutation($key: String!, $id: ID!, $consent: Boolean!, $reasons: [String!]) {
  replyToConsultationLetter(idempotencyKey: $key, transferId: $id, consent: $consent, reasons: $reasons) { ${FIELDS} } }`;
const APPROVE = `mutation($key: String!, $id: ID!, $lines: [TransferWasteLineInput!]) {
  approveTransfer(idempotencyKey: $key, transferId: $id, lines: $lines) { ${FIELDS} } }`;
const REFUSE = `mutation($key: String!, $id: ID!, $reasons: [String!]!) {
  refuseTransferApplication(idempotencyKey: $key, transferId: $id, reasons: $reasons) { ${FIELDS} } }`;
const WITHDRAW = `mutation($key: String!, $id: ID!, $reason: String) {
  withdrawTransferApplication(idempotencyKey: $key, transferId: $id, reason: $reason) { ${FIELDS} } }`;
const UPLOAD = `mutation($kind: TransferAttachmentKind!, $mediaType: String!, $content: String!) {
  uploadTransferAttachment(kind: $kind, mediaType: $mediaType, contentBase64: $content) { sha256 size mediaType kind } }`;
const ONE = `query($id: ID!) { transfer(id: $id) { ${FIELDS} } }`;
const LIST = `query($filter: TransferFilterInput, $first: Int, $after: String) {
  transfers(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id status } } } }`;

type Transfer = {
  id: string;
  status: string;
  nextActions: { code: string; dueAt: string | null; overdue: boolean }[];
} & Record<string, unknown>;
type Extensions = Record<string, unknown>;
type Answer = { data?: Record<string, unknown> | null; errors?: { extensions: Extensions }[] };

describe('transfer-service: transfer applications through GraphQL', () => {
  const subgraph = useSubgraph(service);
  const post = (query: string, variables: Record<string, unknown>, identity: Identity) =>
    subgraph.post<Record<string, unknown>>(query, { variables, identity });
  const store = () => subgraph.running().app.get<EventStore>(EVENT_STORE, { strict: false });
  const platform = () => subgraph.running().app.get<Platform>(PLATFORM, { strict: false });
  const eventsOf = async (id: string) =>
    (await store().readStream(transferStream(id))).events.map((e) => e.type);
  const outboxOf = async (id: string) => {
    const p = platform();
    const { rows } = await p.sql.query<{ type: string; payload: unknown }>(
      `SELECT type, payload FROM ${p.schema}.outbox WHERE key = $1 ORDER BY id`,
      [transferStream(id)],
    );
    return rows.map((r) => ({
      type: r.type,
      payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Record<
        string,
        unknown
      > & { data: Record<string, unknown> },
    }));
  };
  const ok = (body: Answer, field: string): Transfer => {
    expect(body.errors).toBeUndefined();
    return body.data?.[field] as Transfer;
  };
  const refusal = (body: Answer) => {
    expect(body.data ?? null).toBeNull();
    return body.errors?.[0]?.extensions;
  };
  const codes = (t: Transfer) => t.nextActions.map((a) => a.code);

  let facilityId = '';
  let attachments: string[] = [];

  const application = (overrides: Record<string, unknown> = {}) => ({
    path: 'LETTER',
    receiverFacilityId: facilityId,
    lines: [{ wasteCode: '900-249-08', quantityKg: '12000.5' }],
    method: 'R9 废矿物油再生利用 / re-refining',
    window,
    attachments,
    ...overrides,
  });
  const submit = async (key: string, overrides: Record<string, unknown> = {}, as = generator) =>
    ok((await post(SUBMIT, { key, input: application(overrides) }, as)).body, 'submitTransferApplication');

  beforeAll(async () => {
    // A Chongqing disposal facility run by cq-yuhuan-disposal, licensed for HW08 (5,000 t a year).
    const registered = await post(
      `mutation($key: String!, $input: RegisterFacilityInput!) { registerFacility(idempotencyKey: $key, input: $input) { id } }`,
      {
        key: 'transfer-spec-facility',
        input: {
          name: { zh: '重庆渝环危险废物处置中心', en: 'Chongqing Yuhuan disposal centre' },
          licenceNumber: '渝危废经第500112009号',
          operatorCreditCode: YUHUAN_CREDIT_CODE,
          jurisdiction: '500112',
          coordinates: { lat: '29.718', lon: '106.63' },
          licensed: [{ category: 'HW08', annualCapacityTonnes: '5000' }],
          validFrom: '2024-01-01',
          validTo: '2099-12-31',
        },
      },
      chongqingClerk,
    );
    facilityId = (ok(registered.body, 'registerFacility') as { id: string }).id;

    const documents: [string, string, Buffer][] = [
      ['LICENCE', 'application/pdf', Buffer.from('%PDF-1.7 licence copy 许可证复印件')],
      ['METHOD', 'application/pdf', Buffer.from('%PDF-1.7 method description 利用处置方式说明')],
      [
        'CONTRACT',
        'image/jpeg',
        Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('contract')]),
      ],
    ];
    attachments = [];
    for (const [kind, mediaType, bytes] of documents) {
      const { body } = await post(UPLOAD, { kind, mediaType, content: bytes.toString('base64') }, generator);
      const stored = ok(body, 'uploadTransferAttachment') as unknown as { sha256: string; size: number };
      expect(stored).toEqual({
        sha256: createHash('sha256').update(bytes).digest('hex'),
        size: bytes.length,
        mediaType,
        kind,
      });
      attachments.push(stored.sha256);
    }
  });

  it('runs the letter path from submission to approval, each step by the right agency only', async () => {
    const submitted = await submit('letter-1');
    expect(submitted).toMatchObject({
      status: 'SUBMITTED',
      path: 'letter',
      route: 'LETTER',
      exportingJurisdiction: '510000',
      receivingJurisdiction: '500000',
      totalKg: '12000.500',
      generator: { agencyId: 'cd-jincheng-auto', creditCode: '91510100MA61RK3T26', jurisdiction: '510100' },
      receiver: {
        facilityId,
        licenceValidUntil: '2099-12-31',
        jurisdiction: '500112',
        operatorAgencyId: 'cq-yuhuan-disposal',
      },
      lines: [{ wasteCode: '900-249-08', quantityKg: '12000.500' }],
      attachments: [{ kind: 'LICENCE' }, { kind: 'METHOD' }, { kind: 'CONTRACT', mediaType: 'image/jpeg' }],
      dueDates: [{ step: 'completeness', workingDays: 5, responsibleJurisdiction: '510000', overdue: false }],
    });
    // The generator may only withdraw now; the Sichuan clerk may return or accept.
    expect(codes(submitted)).toEqual(['withdrawTransferApplication']);
    const id = submitted.id;
    const asClerk = ok((await post(ONE, { id }, sichuanClerk)).body, 'transfer');
    expect(codes(asClerk)).toEqual(['returnTransferIncomplete', 'acceptTransferApplication']);
    expect(asClerk.nextActions[0].dueAt).toBe((submitted.dueDates as { dueAt: string }[])[0].dueAt);

    // Wrong agencies: another province's bureau, a viewer, an approver for a clerk's step, another generator.
    for (const [as, rule] of [
      [chongqingClerk, 'transfer.prepare'],
      [sichuanViewer, 'transfer.prepare'],
      [sichuanApprover, 'transfer.prepare'],
    ] as const) {
      const { body } = await post(ACCEPT, { key: `accept-by-${as.subject}`, id }, as);
      expect(refusal(body)).toMatchObject({ category: 'FORBIDDEN', rule });
    }
    const { body: byOther } = await post(WITHDRAW, { key: 'withdraw-other', id }, otherGenerator);
    expect(refusal(byOther)).toMatchObject({ category: 'FORBIDDEN', rule: 'transfer.apply' });
    expect(await eventsOf(id)).toEqual(['TransferSubmitted']);

    const accepted = ok(
      (await post(ACCEPT, { key: 'accept-1', id }, sichuanClerk)).body,
      'acceptTransferApplication',
    );
    expect(accepted).toMatchObject({ status: 'UNDER_REVIEW', acceptedOn: today.toString() });
    expect(codes(accepted)).toEqual(['sendConsultationLetter']);
    expect(codes(ok((await post(ONE, { id }, sichuanApprover)).body, 'transfer'))).toEqual([
      'refuseTransferApplication',
    ]);

    const consulting = ok(
      (await post(LETTER, { key: 'letter-1', id }, sichuanClerk)).body,
      'sendConsultationLetter',
    );
    expect(consulting).toMatchObject({
      status: 'CONSULTING',
      dueDates: [{ step: 'reply', workingDays: 10, responsibleJurisdiction: '500000' }],
    });
    // Only Chongqing replies: Sichuan's approver cannot answer its own letter.
    const { body: ownReply } = await post(REPLY, { key: 'reply-sc', id, consent: true }, sichuanApprover);
    expect(refusal(ownReply)).toMatchObject({ category: 'FORBIDDEN', rule: 'transfer.reply' });
    expect(codes(ok((await post(ONE, { id }, chongqingApprover)).body, 'transfer'))).toEqual([
      'replyToConsultationLetter',
    ]);
    const replied = ok(
      (await post(REPLY, { key: 'reply-cq', id, consent: true }, chongqingApprover)).body,
      'replyToConsultationLetter',
    );
    expect(replied).toMatchObject({ status: 'AWAITING_DECISION', reply: { consent: true, reasons: [] } });

    // Chongqing cannot decide Sichuan's application.
    const { body: byChongqing } = await post(APPROVE, { key: 'approve-cq', id }, chongqingApprover);
    expect(refusal(byChongqing)).toMatchObject({ category: 'FORBIDDEN', rule: 'transfer.decide' });

    const approved = ok(
      (await post(APPROVE, { key: 'approve-1', id }, sichuanApprover)).body,
      'approveTransfer',
    );
    expect(approved).toMatchObject({
      status: 'APPROVED',
      approval: {
        approvedOn: today.toString(),
        validFrom: today.toString(),
        validUntil: window.to,
        cappedBy: 'requested-window',
        lines: [{ wasteCode: '900-249-08', quantityKg: '12000.500' }],
        totalKg: '12000.500',
      },
      dueDates: [],
      nextActions: [],
    });
    expect(await eventsOf(id)).toEqual([
      'TransferSubmitted',
      'TransferAccepted',
      'ConsultationLetterSent',
      'ConsultationReplied',
      'TransferApproved',
    ]);

    // Published per its contract, with the notified departments of the directory (Art 26).
    const outbox = await outboxOf(id);
    expect(outbox.map((m) => m.type)).toEqual(['TransferApproved']);
    expect(PUBLISHED.validate(outbox[0].payload)).toMatchObject({ ok: true });
    expect(outbox[0].payload.data).toEqual({
      transferId: id,
      generatorCreditCode: '91510100MA61RK3T26',
      exportingJurisdiction: '510000',
      receivingJurisdiction: '500000',
      receiverFacilityId: facilityId,
      wasteLines: [
        { wasteCode: '900-249-08', quantityKg: '12000.500', method: 'R9 废矿物油再生利用 / re-refining' },
      ],
      validFrom: today.toString(),
      validTo: window.to,
      path: 'letter',
      notifiedAgencies: [
        { agencyId: 'sc-transport', jurisdiction: '510000', department: 'transport' },
        { agencyId: 'cq-eeb', jurisdiction: '500000', department: 'environment' },
        { agencyId: 'cq-transport', jurisdiction: '500000', department: 'transport' },
      ],
    });
  });

  it('approves a whitelisted application directly, without a letter, and publishes the entry', async () => {
    const year = today.year;
    const proposal = {
      agreementId: 'transfer-spec-ag',
      title: { zh: '川渝白名单协议', en: 'Sichuan–Chongqing whitelist' },
      members: ['510000', '500000'],
      effectiveFrom: `${year}-01-01`,
      validUntil: `${year}-12-31`,
      clauses: {
        whitelist: [
          {
            entryId: 'wl-spec-1',
            exportingMember: '510000',
            receivingFacilityId: facilityId,
            wasteCodes: ['900-249-08'],
            tonnes: '50',
            year,
          },
        ],
      },
    };
    const proposed = await post(
      `mutation($key: String!, $input: ProposeAgreementInput!) { proposeAgreement(idempotencyKey: $key, input: $input) { id } }`,
      { key: 'wl-propose', input: proposal },
      secretariat,
    );
    expect(proposed.body.errors).toBeUndefined();
    const SIGN = `mutation($key: String!, $id: ID!) { signAgreement(idempotencyKey: $key, agreementId: $id) { status } }`;
    await post(SIGN, { key: 'wl-sign-sc', id: 'transfer-spec-ag' }, sichuanApprover);
    const adopted = await post(SIGN, { key: 'wl-sign-cq', id: 'transfer-spec-ag' }, chongqingApprover);
    expect(adopted.body.data?.signAgreement).toEqual({ status: 'ADOPTED' });

    // An entry that does not cover the waste is refused, naming the field.
    const { body: mismatch } = await post(
      SUBMIT,
      {
        key: 'wl-mismatch',
        input: application({
          path: 'WHITELIST',
          whitelistEntryId: 'wl-spec-1',
          lines: [{ wasteCode: '900-214-08', quantityKg: '100' }],
        }),
      },
      generator,
    );
    expect(refusal(mismatch)).toMatchObject({
      code: 'transfer.whitelist-entry-mismatch',
      field: 'whitelistEntryId',
      details: { clause: 'wasteCodes' },
    });
    const { body: unknown } = await post(
      SUBMIT,
      { key: 'wl-unknown', input: application({ path: 'WHITELIST', whitelistEntryId: 'wl-none' }) },
      generator,
    );
    expect(refusal(unknown)).toMatchObject({
      code: 'transfer.whitelist-entry-unknown',
      field: 'whitelistEntryId',
    });

    const submitted = await submit('wl-1', {
      path: 'WHITELIST',
      whitelistEntryId: 'wl-spec-1',
      lines: [{ wasteCode: '900-249-08', quantityKg: '20000' }],
    });
    expect(submitted).toMatchObject({
      status: 'SUBMITTED',
      path: 'whitelist',
      route: 'WHITELIST',
      whitelist: {
        entryId: 'wl-spec-1',
        agreementId: 'transfer-spec-ag',
        remainingKg: '50000.000',
        withinEntry: true,
      },
    });
    const id = submitted.id;
    const accepted = ok(
      (await post(ACCEPT, { key: 'wl-accept', id }, sichuanClerk)).body,
      'acceptTransferApplication',
    );
    // Whitelisted: the bureau decides directly within 5 working days; no letter to send.
    expect(accepted).toMatchObject({
      status: 'UNDER_REVIEW',
      dueDates: [{ step: 'decision', workingDays: 5 }],
    });
    expect(codes(accepted)).toEqual([]);
    const { body: letter } = await post(LETTER, { key: 'wl-letter', id }, sichuanClerk);
    expect(refusal(letter)).toMatchObject({ code: 'transfer.letter-not-needed' });
    expect(codes(ok((await post(ONE, { id }, sichuanApprover)).body, 'transfer'))).toEqual([
      'approveTransfer',
      'refuseTransferApplication',
    ]);

    const approved = ok(
      (await post(APPROVE, { key: 'wl-approve', id }, sichuanApprover)).body,
      'approveTransfer',
    );
    expect(approved).toMatchObject({ status: 'APPROVED', route: 'WHITELIST' });
    expect(await eventsOf(id)).toEqual(['TransferSubmitted', 'TransferAccepted', 'TransferApproved']);
    const [published] = await outboxOf(id);
    expect(PUBLISHED.validate(published.payload)).toMatchObject({ ok: true });
    expect(published.payload.data).toMatchObject({
      path: 'whitelist',
      agreementId: 'transfer-spec-ag',
      whitelistEntryId: 'wl-spec-1',
    });
  });

  it('files a construction-waste transfer: no approval, the receiving city told', async () => {
    const filed = ok(
      (
        await post(
          FILE,
          {
            key: 'filing-1',
            input: {
              receiverFacilityId: 'cd-rongqing-site-1',
              receivingCity: '510100',
              lines: [{ wasteClass: 'construction', quantityKg: '80000' }],
              window,
              attachments: [attachments[2]],
            },
          },
          generator,
        )
      ).body,
      'fileTransfer',
    );
    expect(filed).toMatchObject({
      status: 'FILED',
      path: 'filing',
      route: null,
      exportingJurisdiction: '510100',
      receivingJurisdiction: null,
      receivingCity: '510100',
      filingLines: [{ wasteClass: 'construction', quantityKg: '80000.000' }],
      lines: [],
      totalKg: '80000.000',
      dueDates: [],
      nextActions: [],
    });
    expect(await eventsOf(filed.id)).toEqual(['TransferFiled']);
    // Chengdu's bureau sees it; Chongqing's does not.
    expect(ok((await post(ONE, { id: filed.id }, chengduBureau)).body, 'transfer')).toMatchObject({
      id: filed.id,
    });
    expect((await post(ONE, { id: filed.id }, chongqingApprover)).body.data?.transfer).toBeNull();

    // Hazardous waste is approved, never filed.
    const { body } = await post(
      FILE,
      {
        key: 'filing-hazardous',
        input: {
          receiverFacilityId: facilityId,
          lines: [{ wasteClass: 'HW08', quantityKg: '10' }],
          window,
          attachments: [attachments[2]],
        },
      },
      generator,
    );
    expect(refusal(body)).toMatchObject({ code: 'transfer.filing-class', field: 'lines[0].wasteClass' });
  });

  it('answers a retry with the same key with the same transfer and stores it once; changed input is a conflict', async () => {
    const first = await submit('retry-1');
    const again = await submit('retry-1');
    expect(again).toEqual(first);
    expect(await eventsOf(first.id)).toEqual(['TransferSubmitted']);
    const accept = await post(ACCEPT, { key: 'retry-accept', id: first.id }, sichuanClerk);
    const acceptAgain = await post(ACCEPT, { key: 'retry-accept', id: first.id }, sichuanClerk);
    expect(acceptAgain.body).toEqual(accept.body);
    expect(await eventsOf(first.id)).toEqual(['TransferSubmitted', 'TransferAccepted']);

    const { body } = await post(
      SUBMIT,
      { key: 'retry-1', input: application({ method: 'D10 焚烧 / incineration' }) },
      generator,
    );
    expect(refusal(body)).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', field: 'idempotencyKey' });
  });

  it('refuses bad input with typed errors naming the field, storing nothing', async () => {
    const submissions = async () => {
      const { rows } = await platform().sql.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM ${platform().schema}.events WHERE type = 'TransferSubmitted'`,
      );
      return rows[0].n;
    };
    const before = await submissions();
    const cases: [Record<string, unknown>, Extensions][] = [
      [{ lines: [{ wasteCode: '900-249-42', quantityKg: '1' }] }, { field: 'lines[0].wasteCode' }],
      [
        { lines: [{ wasteCode: '900-249-08', quantityKg: '1.5e3' }] },
        { code: 'transfer.invalid-quantity', field: 'lines[0].quantityKg' },
      ],
      [
        { attachments: ['f'.repeat(64)] },
        { code: 'INPUT_INVALID', field: 'attachments[0]', rule: 'attachment.unknown' },
      ],
      [{ attachments: ['not-a-hash'] }, { code: 'INPUT_INVALID', field: 'attachments', rule: 'matches' }],
      [
        { attachments: attachments.slice(0, 2) },
        { code: 'transfer.attachment-missing', field: 'attachments' },
      ],
      [
        { receiverFacilityId: 'no-such-facility' },
        { code: 'transfer.receiver-unknown', field: 'receiverFacilityId' },
      ],
      [
        { lines: [{ wasteCode: '772-002-18', quantityKg: '1' }] },
        { code: 'transfer.receiver-not-licensed', field: 'lines[0].wasteCode' },
      ],
      [
        { window: { from: window.to, to: window.from } },
        { code: 'transfer.window-reversed', field: 'window.to' },
      ],
      [
        { whitelistEntryId: 'wl-spec-1' },
        { code: 'transfer.whitelist-entry-unexpected', field: 'whitelistEntryId' },
      ],
    ];
    for (const [i, [overrides, expected]] of cases.entries()) {
      const { body } = await post(SUBMIT, { key: `bad-${i}`, input: application(overrides) }, generator);
      expect({ i, error: refusal(body) }).toMatchObject({ i, error: expected });
    }
    const toRefuse = (await submit('bad-refuse')).id;
    await post(ACCEPT, { key: 'bad-refuse-accept', id: toRefuse }, sichuanClerk);
    const { body: reasonless } = await post(
      REFUSE,
      { key: 'refuse-no-reasons', id: toRefuse, reasons: [' '] },
      sichuanApprover,
    );
    expect(refusal(reasonless)).toMatchObject({ code: 'transfer.reasons-required', field: 'reasons' });

    // Attachments: the declared type must be allowed and match the bytes.
    const upload = (kind: string, mediaType: string, content: string) =>
      post(UPLOAD, { kind, mediaType, content }, generator);
    expect(refusal((await upload('LICENCE', 'text/plain', 'aGVsbG8=')).body)).toMatchObject({
      code: 'INPUT_INVALID',
      field: 'mediaType',
    });
    expect(
      refusal((await upload('LICENCE', 'application/pdf', Buffer.from('not a pdf').toString('base64'))).body),
    ).toMatchObject({ field: 'contentBase64', rule: 'attachment.content-type' });
    expect(refusal((await upload('LICENCE', 'application/pdf', '%%%')).body)).toMatchObject({
      field: 'contentBase64',
      rule: 'attachment.base64',
    });
    // Nothing stored by any refused submission (one was accepted, for the refusal above).
    expect(Number(await submissions())).toBe(Number(before) + 1);
  });

  it('lists only what each agency may see, filtered in SQL', async () => {
    const mine = await submit('list-1', { lines: [{ wasteCode: '900-249-08', quantityKg: '10' }] });
    const list = async (as: Identity, filter: Record<string, unknown> = {}) => {
      const { body } = await post(LIST, { filter, first: 100 }, as);
      expect(body.errors).toBeUndefined();
      return body.data?.transfers as {
        totalCount: number;
        edges: { node: { id: string; status: string } }[];
      };
    };
    const ids = async (as: Identity, filter?: Record<string, unknown>) =>
      (await list(as, filter)).edges.map((e) => e.node.id);

    // A third province's bureau sees nothing at all, not even in the count.
    expect(await list(yunnanApprover)).toMatchObject({ totalCount: 0, edges: [] });
    expect((await post(ONE, { id: mine.id }, yunnanApprover)).body.data?.transfer).toBeNull();
    // Chengdu's bureau sees its generator's transfers; Deyang's none.
    expect(await ids(chengduBureau)).toContain(mine.id);
    expect(await list(deyangBureau)).toMatchObject({ totalCount: 0 });
    // Both provinces, the receiver and the secretariat see it; another generator does not.
    for (const as of [sichuanViewer, chongqingApprover, receiver, secretariat, generator])
      expect(await ids(as)).toContain(mine.id);
    expect(await ids(otherGenerator)).not.toContain(mine.id);
    // A transport department sees only approvals it was notified of.
    const transport = await list(sichuanTransport);
    expect(transport.totalCount).toBeGreaterThan(0);
    expect(transport.edges.every((e) => e.node.status === 'APPROVED')).toBe(true);
    expect(transport.edges.map((e) => e.node.id)).not.toContain(mine.id);

    // Filters, and pages that never show another's rows.
    expect(await ids(sichuanViewer, { status: 'SUBMITTED', wasteCode: '900-249-08' })).toContain(mine.id);
    expect(await ids(sichuanViewer, { status: 'APPROVED' })).not.toContain(mine.id);
    expect(await ids(sichuanViewer, { route: 'WHITELIST' })).not.toContain(mine.id);
    expect(await ids(sichuanViewer, { facilityId, exportingJurisdiction: '510000' })).toContain(mine.id);
    expect(await ids(sichuanViewer, { receivingJurisdiction: '510000' })).not.toContain(mine.id);
    expect(await ids(sichuanViewer, { overdueOnly: true })).not.toContain(mine.id);
    const all = await list(chongqingApprover);
    const firstPage = (await post(LIST, { first: 1 }, chongqingApprover)).body.data?.transfers as {
      pageInfo: { endCursor: string; hasNextPage: boolean };
      edges: { node: { id: string } }[];
    };
    expect(firstPage.edges[0].node.id).toBe(all.edges[0].node.id);
    expect(firstPage.pageInfo.hasNextPage).toBe(all.totalCount > 1);
    const second = (await post(LIST, { first: 1, after: firstPage.pageInfo.endCursor }, chongqingApprover))
      .body.data?.transfers as { edges: { node: { id: string } }[] };
    expect(second.edges[0].node.id).toBe(all.edges[1].node.id);

    // `_entities` follows the same visibility.
    const entities = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Transfer { id status } } }`;
    const representations = [{ __typename: 'Transfer', id: mine.id }];
    expect((await post(entities, { r: representations }, receiver)).body.data?._entities).toEqual([
      { id: mine.id, status: 'SUBMITTED' },
    ]);
    expect((await post(entities, { r: representations }, yunnanApprover)).body.data?._entities).toEqual([
      null,
    ]);

    // The generator may ask who read its transfer, and how.
    const reads = await post(
      `query($id: ID!) { transferRecordReads(recordId: $id, first: 100) { edges { node { agencyId operation } } } }`,
      { id: mine.id },
      generator,
    );
    expect(reads.body.errors).toBeUndefined();
    const readers = (
      reads.body.data?.transferRecordReads as { edges: { node: { agencyId: string; operation: string } }[] }
    ).edges.map((e) => `${e.node.agencyId}:${e.node.operation}`);
    expect(readers).toEqual(
      expect.arrayContaining([
        'cd-eeb:list',
        'cq-eeb:list',
        'chengyu-secretariat:list',
        'cq-yuhuan-disposal:read',
      ]),
    );
    expect(readers).not.toContain('yn-eeb:read');
  });

  it('shows the history and the state as of a past instant, to those who may see the record', async () => {
    const submitted = await submit('history-1');
    const id = submitted.id;
    const between = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await post(ACCEPT, { key: 'history-accept', id }, sichuanClerk);
    await post(WITHDRAW, { key: 'history-withdraw', id, reason: '计划变更 / plan changed' }, generator);

    const HISTORY = `query($id: ID!) { transferHistory(id: $id) { type streamPosition actor { kind agencyId } } }`;
    const { body } = await post(HISTORY, { id }, chongqingApprover);
    expect(body.errors).toBeUndefined();
    expect(body.data?.transferHistory).toEqual([
      {
        type: 'TransferSubmitted',
        streamPosition: '0',
        actor: { kind: 'user', agencyId: 'cd-jincheng-auto' },
      },
      { type: 'TransferAccepted', streamPosition: '1', actor: { kind: 'user', agencyId: 'sc-eeb' } },
      {
        type: 'TransferWithdrawn',
        streamPosition: '2',
        actor: { kind: 'user', agencyId: 'cd-jincheng-auto' },
      },
    ]);
    expect((await post(HISTORY, { id }, yunnanApprover)).body.data?.transferHistory).toBeNull();
    const nested = await post(
      `query($id: ID!) { transfer(id: $id) { history { type } } }`,
      { id },
      generator,
    );
    expect(nested.body.data?.transfer).toEqual({
      history: [{ type: 'TransferSubmitted' }, { type: 'TransferAccepted' }, { type: 'TransferWithdrawn' }],
    });

    const AS_OF = `query($id: ID!, $asOf: DateTime!) { transferAsOf(id: $id, asOf: $asOf) { id status dueDates { step } } }`;
    const then = await post(AS_OF, { id, asOf: between.toISOString() }, sichuanViewer);
    expect(then.body.data?.transferAsOf).toEqual({
      id,
      status: 'SUBMITTED',
      dueDates: [{ step: 'completeness' }],
    });
    const now = await post(AS_OF, { id, asOf: new Date().toISOString() }, sichuanViewer);
    expect(now.body.data?.transferAsOf).toMatchObject({ status: 'WITHDRAWN' });
    const before = await post(AS_OF, { id, asOf: '2020-01-01T00:00:00+08:00' }, sichuanViewer);
    expect(before.body.data?.transferAsOf).toBeNull();
    const hidden = await post(AS_OF, { id, asOf: between.toISOString() }, yunnanApprover);
    expect(hidden.body.data?.transferAsOf).toBeNull();
  });

  it('takes a timer’s command without an identity: a missed review is published as DeadlineMissed, never consent', async () => {
    const { id } = await submit('timer-1');
    const accepted = ok(
      (await post(ACCEPT, { key: 'timer-accept', id }, sichuanClerk)).body,
      'acceptTransferApplication',
    );
    const review = (accepted.dueDates as { step: string; lastDay: string; dueAt: string }[])[0];
    const commands = subgraph.running().app.get(TransferCommands, { strict: false });
    const fired = {
      type: 'DeadlineTimerFired' as const,
      data: { transferId: id, step: 'review' as const },
      metadata: {
        commandId: `timer-${id}-review`,
        now: new Date(Date.parse(review.dueAt) + 60_000),
        actor: systemActor('transfer.deadline-timer'),
        correlationId: 'timer-spec',
      },
    };
    // A person's command cannot pass as the system's.
    await expect(
      commands.handle({
        ...fired,
        metadata: {
          ...fired.metadata,
          actor: { kind: 'user', userId: 'x', agencyId: 'sc-eeb', jurisdiction: '510000' },
        },
      }),
    ).rejects.toThrow(/system actor/);
    const result = await commands.handle(fired);
    expect(result.state).toMatchObject({ status: 'under-review', overdue: ['review'] });
    expect((await commands.state(id)).version).toBe(2n);
    // The same firing again stores nothing.
    await commands.handle(fired);
    expect(await eventsOf(id)).toEqual(['TransferSubmitted', 'TransferAccepted', 'TransferDeadlineMissed']);

    const [missed] = await outboxOf(id);
    expect(PUBLISHED.validate(missed.payload)).toMatchObject({ ok: true });
    expect(missed.payload).toMatchObject({
      type: 'DeadlineMissed',
      actor: { kind: 'system', name: 'transfer.deadline-timer' },
    });
    expect(missed.payload.data).toEqual({
      recordType: 'transfer',
      recordId: id,
      step: 'review',
      responsibleJurisdiction: '510000',
      responsibleAgencyId: 'sc-eeb',
      dueDate: review.lastDay,
    });
    const seen = ok((await post(ONE, { id }, sichuanApprover)).body, 'transfer');
    expect(seen).toMatchObject({ status: 'UNDER_REVIEW', overdue: ['review'] });
    const overdue = (await post(LIST, { filter: { overdueOnly: true }, first: 100 }, sichuanApprover)).body
      .data?.transfers as { edges: { node: { id: string } }[] };
    expect(overdue.edges.map((e) => e.node.id)).toContain(id);
  });

  it('lets the bureau return an incomplete application, and nobody act on it afterwards', async () => {
    const { id } = await submit('return-1');
    const returned = ok(
      (await post(RETURN, { key: 'return-1', id, missing: ['合同原件 / the signed contract'] }, sichuanClerk))
        .body,
      'returnTransferIncomplete',
    );
    expect(returned).toMatchObject({ status: 'RETURNED', dueDates: [], nextActions: [] });
    const { body } = await post(ACCEPT, { key: 'return-accept', id }, sichuanClerk);
    expect(refusal(body)).toMatchObject({ code: 'transfer.not-awaiting-completeness-check' });
  });
});
