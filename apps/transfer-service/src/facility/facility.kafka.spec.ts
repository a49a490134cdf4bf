import { randomUUID } from 'node:crypto';
import type { Identity } from '@lianfang/auth';
import { ContractRegistry, TRANSFER_CONTRACTS, topicFor } from '@lianfang/contracts';
import { CreditCode } from '@lianfang/domain-kernel';
import { describeWithKafka, kafkaBrokers, useSubgraph, useTestDatabase } from '@lianfang/testing';
import { Kafka, logLevel } from 'kafkajs';
import { service } from '../service';

const bureau: Identity = {
  subject: 'wang.fang',
  agencyId: 'cq-eeb',
  agencyKind: 'provincial-bureau',
  jurisdiction: '500000',
  roles: ['clerk'],
};

/** The integration events the service published, read back as a new consumer would. */
async function readPublished(match: (envelope: Record<string, unknown>) => boolean, timeoutMs = 30_000) {
  const kafka = new Kafka({
    clientId: 'facility-kafka-spec',
    brokers: kafkaBrokers(),
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: `facility-spec-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: topicFor('transfer'), fromBeginning: true });
  try {
    return await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching event on the topic in time')), timeoutMs);
      void consumer.run({
        eachMessage: async ({ message }) => {
          const envelope = JSON.parse(message.value?.toString('utf8') ?? 'null') as Record<string, unknown>;
          if (match(envelope)) {
            clearTimeout(timer);
            resolve(envelope);
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
}

describeWithKafka('transfer-service on PostgreSQL and Kafka: a suspension is published', () => {
  const db = useTestDatabase('facility-kafka');
  const subgraph = useSubgraph(service, {
    env: () => ({
      EVENT_STORE: 'postgres',
      DATABASE_URL: db().url,
      BUS: 'kafka',
      KAFKA_BROKERS: kafkaBrokers().join(','),
    }),
  });

  it('publishes FacilitySuspended on lianfang.transfer.v1, valid against its contract', async () => {
    const registered = await subgraph.post<{ registerFacility: { id: string } }>(
      `mutation($input: RegisterFacilityInput!) { registerFacility(idempotencyKey: "k-reg", input: $input) { id } }`,
      {
        identity: bureau,
        variables: {
          input: {
            name: { zh: '重庆某危废处置中心', en: 'Chongqing Hazardous Waste Disposal Centre' },
            licenceNumber: '渝危废经第500112009号',
            operatorCreditCode: CreditCode.withCheckCharacter('91500000MA5U12399').value,
            jurisdiction: '500112',
            coordinates: { lat: '29.718', lon: '106.63' },
            licensed: [{ category: 'HW08', annualCapacityTonnes: '5000' }],
            validFrom: '2024-01-01',
            validTo: '2099-12-31',
          },
        },
      },
    );
    expect(registered.body.errors).toBeUndefined();
    const facilityId = registered.body.data?.registerFacility.id;
    const suspended = await subgraph.post(
      `mutation($id: ID!) { suspendFacility(idempotencyKey: "k-sus", facilityId: $id, reason: "超范围经营 beyond the licence") { status } }`,
      { identity: bureau, variables: { id: facilityId } },
    );
    expect(suspended.body.errors).toBeUndefined();

    const envelope = await readPublished(
      (e) => e.type === 'FacilitySuspended' && (e.data as { facilityId?: string }).facilityId === facilityId,
    );
    const checked = new ContractRegistry(TRANSFER_CONTRACTS).validate(envelope);
    expect(checked.ok ? [] : checked.violations).toEqual([]);
    expect(envelope).toMatchObject({
      source: 'transfer',
      schemaVersion: 1,
      streamId: `facility-${facilityId}`,
      actor: { kind: 'user', agencyId: 'cq-eeb', jurisdiction: '500000' },
      data: { facilityId, jurisdiction: '500112', reason: '超范围经营 beyond the licence' },
    });
  });
});
