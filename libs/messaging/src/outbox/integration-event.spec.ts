import { ContractRegistry, TRANSFER_CONTRACTS } from '@lianfang/contracts';
import { integrationEvent } from './integration-event';

const from = {
  metadata: {
    eventId: '01936f5e-0000-7000-8000-000000000001',
    streamId: 'facility-f1',
    streamPosition: 3n,
    occurredAt: new Date('2026-11-28T02:00:00Z'),
  },
};
const base = {
  topic: 'lianfang.transfer.v1',
  source: 'transfer' as const,
  type: 'FacilitySuspended',
  from,
  actor: { kind: 'user' as const, userId: 'wang.fang', agencyId: 'cq-eeb', jurisdiction: '500000' },
  correlationId: 'c-1',
  contracts: new ContractRegistry(TRANSFER_CONTRACTS),
};

describe('integrationEvent: a domain event published through the outbox', () => {
  it('keys by stream, reuses the event id, and builds a valid envelope', () => {
    const message = integrationEvent({
      ...base,
      data: {
        facilityId: 'f1',
        jurisdiction: '500112',
        reason: 'beyond the licence',
        fromDate: '2026-11-28',
      },
    });
    expect(message).toMatchObject({
      topic: 'lianfang.transfer.v1',
      key: 'facility-f1',
      type: 'FacilitySuspended',
    });
    expect(message.payload).toMatchObject({
      eventId: from.metadata.eventId,
      streamPosition: '3',
      occurredAt: '2026-11-28T02:00:00.000Z',
      actor: { kind: 'user', agencyId: 'cq-eeb' },
    });
  });

  it('refuses, before anything is stored, data that does not match the contract', () => {
    expect(() =>
      integrationEvent({ ...base, data: { facilityId: 'f1', jurisdiction: '51', reason: 'x' } }),
    ).toThrow(/FacilitySuspended does not match its contract: data\.jurisdiction/);
  });
});
