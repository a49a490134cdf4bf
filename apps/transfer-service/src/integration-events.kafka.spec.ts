import { randomBytes } from 'node:crypto';
import type { Identity } from '@lianfang/auth';
import { ContractRegistry, TRANSFER_CONTRACTS, topicFor, type TransferEventType } from '@lianfang/contracts';
import { LocalDate } from '@lianfang/domain-kernel';
import { systemActor, type RecordedEvent } from '@lianfang/eventsourcing';
import { readWholeStream } from '@lianfang/graph';
import { traceIdFromCorrelationId } from '@lianfang/messaging';
import { PLATFORM, type Platform } from '@lianfang/runtime';
import { describeWithKafka, kafkaBrokers, useTestDatabase } from '@lianfang/testing';
import { agreementStream } from './agreement/decider';
import { DEADLINE_TARGETS } from './deadlines/deadline-schedule';
import { DeadlineTimers } from './deadlines/deadline-timers';
import { facilityStream } from './facility/decider';
import { manifestStream } from './manifest/decider';
import { transferStream } from './transfer/decider';
import {
  CARRIER_CREDIT_CODE,
  DOCUMENTS,
  FACILITY_JURISDICTION,
  facilityInput,
  GENERATOR_CREDIT_CODE,
  GQL,
  MovableClock,
  parties,
  RECEIVER_CREDIT_CODE,
  readTopic,
  topicRanges,
  useTransferService,
  vehicle,
  wasteInput,
  type ConsumedMessage,
} from './integration-events.fixture';

// Issue 6 item 6: every integration event of the transfer service, caused through the service's own
// entry points (GraphQL, and its deadline timers with a moved clock), read back from the real broker by
// a consumer group that never existed before, and judged against libs/contracts.

/** One integration event this run caused, as it must reach the topic. */
interface Expected {
  readonly type: TransferEventType;
  readonly streamId: string;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly actor: Record<string, unknown>;
  readonly data: Record<string, unknown>;
}

/** The domain event each integration event announces (same id, stream and position). */
const DOMAIN_TYPE: Partial<Record<TransferEventType, string>> = {
  DeadlineMissed: 'TransferDeadlineMissed',
  ManifestDiscrepancyReferred: 'ManifestDiscrepanciesReviewed',
};

const userActor = (who: Identity) => ({
  kind: 'user',
  userId: who.subject,
  agencyId: who.agencyId,
  jurisdiction: who.jurisdiction,
});
/** The Shanghai day of an event's business time. */
const dayOf = (event: RecordedEvent) => LocalDate.ofInstant(event.metadata.occurredAt).toString();

/** Opening a service on PostgreSQL and Kafka (schema, topics, projections) on a loaded machine. */
const BOOT_TIMEOUT_MS = 120_000;

describeWithKafka('transfer-service on PostgreSQL and Kafka: the ten integration events, read back', () => {
  const db = useTestDatabase('integration-events');
  const clock = new MovableClock();
  const run = randomBytes(4).toString('hex');
  const today = LocalDate.ofInstant(new Date());
  const expected: Expected[] = [];
  let requests = 0;
  const service = useTransferService(
    () => ({
      EVENT_STORE: 'postgres',
      DATABASE_URL: db().url,
      BUS: 'kafka',
      KAFKA_BROKERS: kafkaBrokers().join(','),
    }),
    clock,
    BOOT_TIMEOUT_MS,
  );
  const platform = () => service().app.get<Platform>(PLATFORM, { strict: false });
  const stored = (streamId: string) => readWholeStream(platform().store, streamId);
  const storedOne = async (streamId: string, type: string) => {
    const found = (await stored(streamId)).filter((e) => e.type === type);
    expect(found).toHaveLength(1);
    return found[0];
  };

  /**
   * A mutation as `who`, with a correlation id of this run (the envelopes repeat it, which is how this
   * run's messages are told from others' on the shared topic). Returns the field and that id.
   */
  const mutate = async <T = Record<string, unknown>>(
    who: Identity,
    field: string,
    query: string,
    variables: Record<string, unknown>,
    correlationId = `events-${run}-${field}-${++requests}`,
  ): Promise<{ value: T; correlationId: string }> => {
    const body = await service().post<Record<string, T>>(query, variables, who, correlationId);
    expect(body.errors).toBeUndefined();
    return { value: body.data?.[field] as T, correlationId };
  };

  // What the steps below establish, for the later ones.
  let facilityId = '';
  const agreementId = `ag-events-${run}`;
  const amendmentId = `am-events-${run}`;
  let attachments: string[] = [];
  let whitelistedId = '';
  let tripReceived = '';
  let tripOverdue = '';
  let transitDueAt = '';
  let pickupCorrelation = '';
  const windowTo = today.plusDays(200).toString();

  it('adopts and amends a Sichuan–Chongqing agreement: AgreementAdopted, AgreementAmended', async () => {
    facilityId = (
      await mutate<{ id: string }>(parties.chongqingClerk, 'registerFacility', GQL.registerFacility, {
        key: 'facility',
        input: facilityInput(`500115${run}`),
      })
    ).value.id;

    const effectiveFrom = today.plusDays(-30).toString();
    const validUntil = today.plusDays(400).toString();
    const clauses = (tolerance: { percent: string; kg: string }, maxTransitDays: number) => ({
      whitelist: [
        {
          entryId: 'wl-events-1',
          exportingMember: '510000',
          receivingFacilityId: facilityId,
          wasteCodes: ['900-249-08'],
          tonnes: '50',
          year: today.year,
        },
      ],
      compensationRates: [
        {
          wasteClassOrCategory: 'HW08',
          yuanPerTonne: '150.5',
          payer: '510000',
          payees: [{ jurisdiction: '500000', shareBasisPoints: 10000 }],
          from: effectiveFrom,
          to: null,
        },
      ],
      tolerance,
      maxTransitDays,
    });
    await mutate(parties.secretariat, 'proposeAgreement', GQL.proposeAgreement, {
      key: 'propose',
      input: {
        agreementId,
        title: {
          zh: '川渝危险废物跨省转移合作协议',
          en: 'Sichuan–Chongqing hazardous waste transfer agreement',
        },
        members: ['510000', '500000'],
        effectiveFrom,
        validUntil,
        clauses: clauses({ percent: '5', kg: '100' }, 3),
      },
    });
    await mutate(parties.sichuanApprover, 'signAgreement', GQL.signAgreement, {
      key: 'sign-sc',
      id: agreementId,
    });
    // The last member's signature adopts it: that request causes AgreementAdopted.
    const adopted = await mutate<{ status: string }>(
      parties.chongqingApprover,
      'signAgreement',
      GQL.signAgreement,
      { key: 'sign-cq', id: agreementId },
    );
    expect(adopted.value.status).toBe('ADOPTED');

    const text = {
      agreementId,
      title: {
        zh: '川渝危险废物跨省转移合作协议',
        en: 'Sichuan–Chongqing hazardous waste transfer agreement',
      },
      members: ['510000', '500000'],
      effectiveFrom,
      effectiveTo: validUntil,
      whitelist: [
        {
          entryId: 'wl-events-1',
          exportingMember: '510000',
          receivingFacilityId: facilityId,
          wasteCodes: ['900-249-08'],
          quantityKg: '50000.000',
          year: today.year,
        },
      ],
      rateSchedules: [
        {
          wasteClassOrCategory: 'HW08',
          fenPerTonne: '15050',
          payer: '510000',
          payees: [{ jurisdiction: '500000', shareBasisPoints: 10000 }],
          from: effectiveFrom,
          to: null,
        },
      ],
      discrepancyTolerance: { percentBasisPoints: 500, kg: '100.000' },
      maxTransitDays: 3,
    };
    expected.push({
      type: 'AgreementAdopted',
      streamId: agreementStream(agreementId),
      correlationId: adopted.correlationId,
      causationId: null,
      actor: userActor(parties.chongqingApprover),
      data: text,
    });

    // From today, a stricter tolerance (2 %, 50 kg) and a shorter transit (2 days): the trips below
    // are judged by it, so a wrong text in force would change what they publish.
    await mutate(parties.secretariat, 'proposeAmendment', GQL.proposeAmendment, {
      key: 'amend',
      input: {
        agreementId,
        amendmentId,
        effectiveFrom: today.toString(),
        clauses: clauses({ percent: '2', kg: '50' }, 2),
      },
    });
    await mutate(parties.sichuanApprover, 'signAmendment', GQL.signAmendment, {
      key: 'amend-sc',
      id: agreementId,
      amendmentId,
    });
    const amended = await mutate<{ pendingAmendment: unknown }>(
      parties.chongqingApprover,
      'signAmendment',
      GQL.signAmendment,
      { key: 'amend-cq', id: agreementId, amendmentId },
    );
    expect(amended.value.pendingAmendment).toBeNull();
    expected.push({
      type: 'AgreementAmended',
      streamId: agreementStream(agreementId),
      correlationId: amended.correlationId,
      causationId: null,
      actor: userActor(parties.chongqingApprover),
      data: {
        ...text,
        discrepancyTolerance: { percentBasisPoints: 200, kg: '50.000' },
        maxTransitDays: 2,
        amendmentId,
        amendmentEffectiveDate: today.toString(),
      },
    });
  });

  it('approves a whitelisted transfer and receives a trip short by 100 kg: TransferApproved, ManifestReceived, ManifestDiscrepancyFound, ManifestDiscrepancyReferred, ManifestReceiptCorrected', async () => {
    attachments = [];
    for (const [kind, mediaType, bytes] of DOCUMENTS) {
      const upload = await service().post<{ uploadTransferAttachment: { sha256: string } }>(
        GQL.upload,
        { kind, mediaType, content: bytes.toString('base64') },
        parties.generator,
        `events-${run}-upload-${++requests}`,
      );
      expect(upload.errors).toBeUndefined();
      attachments.push(upload.data?.uploadTransferAttachment.sha256 ?? '');
    }
    const method = 'R9 废矿物油再生利用 / re-refining of waste mineral oil';
    whitelistedId = (
      await mutate<{ id: string }>(parties.generator, 'submitTransferApplication', GQL.submit, {
        key: 'submit-wl',
        input: {
          path: 'WHITELIST',
          whitelistEntryId: 'wl-events-1',
          receiverFacilityId: facilityId,
          lines: [{ wasteCode: '900-249-08', quantityKg: '20000' }],
          method,
          window: { from: today.toString(), to: windowTo },
          attachments,
        },
      })
    ).value.id;
    await mutate(parties.sichuanClerk, 'acceptTransferApplication', GQL.accept, {
      key: 'accept-wl',
      id: whitelistedId,
    });
    const approved = await mutate<{ status: string; approval: { validFrom: string; validUntil: string } }>(
      parties.sichuanApprover,
      'approveTransfer',
      GQL.approve,
      { key: 'approve-wl', id: whitelistedId },
    );
    expect(approved.value).toEqual({
      status: 'APPROVED',
      approval: { validFrom: today.toString(), validUntil: windowTo },
    });
    expected.push({
      type: 'TransferApproved',
      streamId: transferStream(whitelistedId),
      correlationId: approved.correlationId,
      causationId: null,
      actor: userActor(parties.sichuanApprover),
      data: {
        transferId: whitelistedId,
        generatorCreditCode: GENERATOR_CREDIT_CODE,
        exportingJurisdiction: '510000',
        receivingJurisdiction: '500000',
        receiverFacilityId: facilityId,
        wasteLines: [{ wasteCode: '900-249-08', quantityKg: '20000.000', method }],
        validFrom: today.toString(),
        validTo: windowTo,
        path: 'whitelist',
        agreementId,
        whitelistEntryId: 'wl-events-1',
        // Art 26: the exporting province's transport, the receiving province's environment and transport.
        notifiedAgencies: [
          { agencyId: 'sc-transport', jurisdiction: '510000', department: 'transport' },
          { agencyId: 'cq-eeb', jurisdiction: '500000', department: 'environment' },
          { agencyId: 'cq-transport', jurisdiction: '500000', department: 'transport' },
        ],
      },
    });

    // 4 000 kg declared, 3 900 kg weighed: 100 kg and 2.5 %, beyond the amended 50 kg and 2 % (not
    // beyond the adopted 100 kg and 5 %).
    tripReceived = (
      await mutate<{ number: string }>(parties.generator, 'openManifest', GQL.openManifest, {
        key: 'open-1',
        input: {
          transferId: whitelistedId,
          carrierCreditCode: CARRIER_CREDIT_CODE,
          waste: wasteInput('4000'),
        },
      })
    ).value.number;
    await mutate(parties.carrier, 'confirmManifestPickup', GQL.pickup, {
      key: 'pickup-1',
      number: tripReceived,
      vehicle,
    });
    await mutate(parties.carrier, 'deliverManifest', GQL.deliver, { key: 'deliver-1', number: tripReceived });
    const receipt = { key: 'receive-1', number: tripReceived, input: { acceptedKg: '3900', method: 'R9' } };
    const received = await mutate<{ status: string; acceptedKg: string; discrepancies: { kind: string }[] }>(
      parties.receiver,
      'receiveManifest',
      GQL.receive,
      receipt,
    );
    expect(received.value).toEqual({
      status: 'RECEIVED',
      acceptedKg: '3900.000',
      discrepancies: [{ kind: 'weight' }],
    });
    // The receiver's client retries (a lost answer): the same answer, nothing stored or published twice.
    const retried = await mutate(parties.receiver, 'receiveManifest', GQL.receive, receipt);
    expect(retried.value).toEqual(received.value);

    const receivedEvent = await storedOne(manifestStream(tripReceived), 'ManifestReceived');
    const trip = { fromJurisdiction: '510100', toJurisdiction: FACILITY_JURISDICTION };
    expected.push(
      {
        type: 'ManifestReceived',
        streamId: manifestStream(tripReceived),
        correlationId: received.correlationId,
        causationId: null,
        actor: userActor(parties.receiver),
        data: {
          manifestNumber: tripReceived,
          acceptedKg: '3900.000',
          wasteClass: 'hazardous:900-249-08',
          ...trip,
          facilityId,
          receiptDate: dayOf(receivedEvent),
          transferId: whitelistedId,
        },
      },
      {
        type: 'ManifestDiscrepancyFound',
        streamId: manifestStream(tripReceived),
        correlationId: received.correlationId,
        causationId: null,
        actor: userActor(parties.receiver),
        data: {
          manifestNumber: tripReceived,
          kind: 'weight',
          declared: '4000.000',
          accepted: '3900.000',
          ...trip,
        },
      },
    );

    // Chongqing's bureau (the receiving province) refers the shortfall to enforcement; its client retries.
    const note = '短少100千克超出协议容差，移送执法核查 / 100 kg short, beyond tolerance: referred';
    const review = {
      key: 'review-1',
      number: tripReceived,
      input: { decision: 'REFER_TO_ENFORCEMENT', note },
    };
    const referred = await mutate<{ openDiscrepancies: string[]; discrepancyReviews: unknown[] }>(
      parties.chongqingApprover,
      'reviewManifestDiscrepancies',
      GQL.review,
      review,
    );
    expect(referred.value).toEqual({
      openDiscrepancies: [],
      discrepancyReviews: [{ decision: 'REFER_TO_ENFORCEMENT', kinds: ['weight'], reviewedBy: 'cq-eeb' }],
    });
    const reviewRetried = await mutate(
      parties.chongqingApprover,
      'reviewManifestDiscrepancies',
      GQL.review,
      review,
    );
    expect(reviewRetried.value).toEqual(referred.value);
    const reviewedEvent = await storedOne(manifestStream(tripReceived), 'ManifestDiscrepanciesReviewed');
    expected.push({
      type: 'ManifestDiscrepancyReferred',
      streamId: manifestStream(tripReceived),
      correlationId: referred.correlationId,
      causationId: null,
      actor: userActor(parties.chongqingApprover),
      data: {
        manifestNumber: tripReceived,
        transferId: whitelistedId,
        generatorCreditCode: GENERATOR_CREDIT_CODE,
        receiverCreditCode: RECEIVER_CREDIT_CODE,
        carrierCreditCode: CARRIER_CREDIT_CODE,
        kinds: ['weight'],
        note,
        ...trip,
        reportTo: '500000',
        reviewedBy: 'cq-eeb',
        // The review's business time: the stored event's.
        reviewedAt: reviewedEvent.metadata.occurredAt.toISOString(),
      },
    });

    // Re-weighed: 3 960 kg. A new fact, 40 kg from the declaration: within tolerance, no new discrepancy.
    const reason = '地磅复检 / weighbridge recalibrated';
    const corrected = await mutate<{ acceptedKg: string }>(
      parties.receiver,
      'correctManifestReceipt',
      GQL.correct,
      {
        key: 'correct-1',
        number: tripReceived,
        kg: '3960',
        reason,
      },
    );
    expect(corrected.value.acceptedKg).toBe('3960.000');
    const correctedEvent = await storedOne(manifestStream(tripReceived), 'ManifestReceiptCorrected');
    expected.push({
      type: 'ManifestReceiptCorrected',
      streamId: manifestStream(tripReceived),
      correlationId: corrected.correlationId,
      causationId: null,
      actor: userActor(parties.receiver),
      data: {
        manifestNumber: tripReceived,
        previousAcceptedKg: '3900.000',
        correctedAcceptedKg: '3960.000',
        reason,
        correctionDate: dayOf(correctedEvent),
      },
    });

    // A second trip that leaves and does not arrive (its overdue comes from the timer, below).
    tripOverdue = (
      await mutate<{ number: string }>(parties.generator, 'openManifest', GQL.openManifest, {
        key: 'open-2',
        input: {
          transferId: whitelistedId,
          carrierCreditCode: CARRIER_CREDIT_CODE,
          waste: wasteInput('1000'),
        },
      })
    ).value.number;
    const pickedUp = await mutate<{ status: string; transitDueAt: string }>(
      parties.carrier,
      'confirmManifestPickup',
      GQL.pickup,
      { key: 'pickup-2', number: tripOverdue, vehicle },
    );
    expect(pickedUp.value.status).toBe('IN_TRANSIT');
    transitDueAt = pickedUp.value.transitDueAt;
    pickupCorrelation = pickedUp.correlationId;
    // The amended 2 days, not the adopted 3: until 24:00 (Shanghai) of the second day after the pickup.
    const pickedUpAt = (await storedOne(manifestStream(tripOverdue), 'ManifestPickedUp')).metadata.occurredAt;
    expect(transitDueAt).toBe(LocalDate.ofInstant(pickedUpAt).plusDays(3).startInstant().toISOString());
  });

  it('passes a reply deadline and a transit time with the clock moved: DeadlineMissed, ManifestOverdue', async () => {
    const consulted = (
      await mutate<{ id: string }>(parties.generator, 'submitTransferApplication', GQL.submit, {
        key: 'submit-letter',
        input: {
          path: 'LETTER',
          receiverFacilityId: facilityId,
          lines: [{ wasteCode: '900-249-08', quantityKg: '5000' }],
          method: 'R9 废矿物油再生利用 / re-refining of waste mineral oil',
          window: { from: today.toString(), to: windowTo },
          attachments,
        },
      })
    ).value.id;
    await mutate(parties.sichuanClerk, 'acceptTransferApplication', GQL.accept, {
      key: 'accept-letter',
      id: consulted,
    });
    type DueDate = { step: string; lastDay: string; dueAt: string; responsibleJurisdiction: string };
    const letter = await mutate<{ status: string; dueDates: DueDate[] }>(
      parties.sichuanClerk,
      'sendConsultationLetter',
      GQL.letter,
      { key: 'letter', id: consulted },
    );
    expect(letter.value.status).toBe('CONSULTING');
    const [reply] = letter.value.dueDates;
    expect(reply).toMatchObject({ step: 'reply', responsibleJurisdiction: '500000' });

    // Chongqing stays silent for its 10 working days; the trip is still on the road after 2 days.
    const timers = service().app.get(DeadlineTimers);
    const lastEvent = (await stored(manifestStream(tripOverdue))).at(-1);
    if (lastEvent) await timers.waitFor(lastEvent.logPosition);
    const letterSent = await storedOne(transferStream(consulted), 'ConsultationLetterSent');
    await timers.waitFor(letterSent.logPosition);
    clock.moveTo(new Date(Math.max(Date.parse(reply.dueAt), Date.parse(transitDueAt)) + 1000));
    expect(await timers.runDue()).toMatchObject({ fired: 2, failed: 0 });
    // A later round (or a second process) finds nothing more to fire.
    expect(await timers.runDue()).toMatchObject({ fired: 0, failed: 0 });

    expected.push({
      type: 'DeadlineMissed',
      streamId: transferStream(consulted),
      // A timer's command carries on the correlation of the event that scheduled it, caused by it.
      correlationId: letter.correlationId,
      causationId: letterSent.eventId,
      actor: systemActor(DEADLINE_TARGETS.step),
      data: {
        recordType: 'transfer',
        recordId: consulted,
        step: 'reply',
        responsibleJurisdiction: '500000',
        responsibleAgencyId: 'cq-eeb',
        dueDate: reply.lastDay,
      },
    });
    const pickup = await storedOne(manifestStream(tripOverdue), 'ManifestPickedUp');
    expected.push({
      type: 'ManifestOverdue',
      streamId: manifestStream(tripOverdue),
      correlationId: pickupCorrelation,
      causationId: pickup.eventId,
      actor: systemActor(DEADLINE_TARGETS.transit),
      data: {
        manifestNumber: tripOverdue,
        reason: 'transit',
        dueAt: transitDueAt,
        fromJurisdiction: '510100',
        toJurisdiction: FACILITY_JURISDICTION,
      },
    });
  });

  it('suspends the facility: FacilitySuspended, once even when the request is retried', async () => {
    const reason = '超许可范围经营 / operating beyond the licence';
    const request = { key: 'suspend', id: facilityId, reason };
    const suspended = await mutate<{ status: string }>(
      parties.chongqingClerk,
      'suspendFacility',
      GQL.suspendFacility,
      request,
    );
    expect(suspended.value.status).toBe('SUSPENDED');
    await mutate(parties.chongqingClerk, 'suspendFacility', GQL.suspendFacility, request);
    const event = await storedOne(facilityStream(facilityId), 'FacilitySuspended');
    expected.push({
      type: 'FacilitySuspended',
      streamId: facilityStream(facilityId),
      correlationId: suspended.correlationId,
      causationId: null,
      actor: userActor(parties.chongqingClerk),
      data: { facilityId, jurisdiction: FACILITY_JURISDICTION, reason, fromDate: dayOf(event) },
    });
  });

  it('publishes each on lianfang.transfer.v1 exactly as often as caused, valid against its contract, as a new consumer group reads it', async () => {
    expect(expected.map((e) => e.type).sort()).toEqual(TRANSFER_CONTRACTS.map((c) => c.type).sort());
    const topic = topicFor('transfer');
    expect(platform().topic).toBe(topic);

    // The relay has published the whole outbox (this run's database holds this run's messages only).
    const { sql, schema } = platform();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { rows } = await sql.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM ${schema}.outbox WHERE sent_at IS NULL`,
      );
      if (rows[0]?.n === '0') break;
      if (Date.now() > deadline) throw new Error(`${rows[0]?.n} outbox messages were never published`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const outbox = (
      await sql.query<{ event_id: string; type: string }>(
        `SELECT payload->>'eventId' AS event_id, type FROM ${schema}.outbox ORDER BY id`,
      )
    ).rows;

    const all = await readTopic(kafkaBrokers(), topic, await topicRanges(kafkaBrokers(), topic));
    const ours = all.filter((m) => String(m.envelope.correlationId).startsWith(`events-${run}-`));

    // Exactly as many of each as caused: one each, no redelivery, no second publication of a retry.
    const counts: Record<string, number> = {};
    for (const m of ours) counts[String(m.envelope.type)] = (counts[String(m.envelope.type)] ?? 0) + 1;
    expect(counts).toEqual(Object.fromEntries(expected.map((e) => [e.type, 1])));
    expect(ours.map((m) => m.envelope.eventId).sort()).toEqual(outbox.map((r) => r.event_id).sort());

    const registry = new ContractRegistry(TRANSFER_CONTRACTS);
    for (const message of ours) {
      const { envelope } = message;
      const checked = registry.validate(envelope);
      expect({ type: envelope.type, violations: checked.ok ? [] : checked.violations }).toEqual({
        type: envelope.type,
        violations: [],
      });
      expectTransportFields(message);
      // The envelope announces a stored domain event: its id, stream, position and business time.
      const domain = (await stored(String(envelope.streamId))).find((e) => e.eventId === envelope.eventId);
      const type = envelope.type as TransferEventType;
      expect(domain?.type).toBe(DOMAIN_TYPE[type] ?? type);
      expect(envelope.streamPosition).toBe(domain?.streamPosition.toString());
      expect(envelope.occurredAt).toBe(domain?.metadata.occurredAt.toISOString());
    }

    for (const e of expected) {
      const message = ours.find((m) => m.envelope.type === e.type);
      expect(message?.envelope).toMatchObject({
        type: e.type,
        schemaVersion: 1,
        source: 'transfer',
        streamId: e.streamId,
        correlationId: e.correlationId,
        causationId: e.causationId,
        actor: e.actor,
      });
      // The business data exactly, nothing more and nothing less.
      expect({ type: e.type, data: message?.envelope.data }).toEqual({ type: e.type, data: e.data });
    }
  }, 90_000);
});

/** Key and headers as the relay sets them, agreeing with the envelope; the trace follows the correlation. */
function expectTransportFields({ key, headers, envelope }: ConsumedMessage): void {
  const correlationId = String(envelope.correlationId);
  expect(key).toBe(envelope.streamId);
  expect(headers).toMatchObject({
    'lf-type': envelope.type,
    'lf-schema-version': '1',
    'lf-event-id': envelope.eventId,
    'lf-stream-id': envelope.streamId,
    'lf-correlation-id': correlationId,
    'x-correlation-id': correlationId,
  });
  if (envelope.causationId) expect(headers['lf-causation-id']).toBe(envelope.causationId);
  else expect(headers['lf-causation-id']).toBeUndefined();
  expect(headers.traceparent).toMatch(
    new RegExp(`^00-${traceIdFromCorrelationId(correlationId)}-[0-9a-f]{16}-01$`),
  );
}
