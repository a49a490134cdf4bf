import { IsIn, Matches } from 'class-validator';
import { ContractRegistry, defineContract } from './registry';
import { deadLetterTopicFor, topicFor } from './envelope';

class CapacityReservedV1 {
  @Matches(/^\d+\.\d{3}$/)
  reservedKg!: string;

  @IsIn(['HW08', 'HW49'])
  category!: string;
}

const registry = new ContractRegistry([
  defineContract({
    type: 'CapacityReserved',
    version: 1,
    source: 'transfer',
    schema: CapacityReservedV1,
    description: 'capacity reserved at a facility',
  }),
]);

const valid = () => ({
  eventId: '0193a1f2-7c3e-7a4b-9c1d-2e3f4a5b6c7d',
  type: 'CapacityReserved',
  schemaVersion: 1,
  source: 'transfer',
  streamId: 'facility-capacity-1',
  streamPosition: '9007199254740993',
  occurredAt: '2026-11-28T08:00:00.000Z',
  correlationId: 'c-1',
  causationId: null,
  actor: { kind: 'user', userId: 'u1', agencyId: 'sc-eeb', jurisdiction: '510000' },
  data: { reservedKg: '1200.500', category: 'HW08' },
});

describe('ContractRegistry', () => {
  it('accepts a message that matches its envelope and contract', () => {
    const result = registry.validate(valid());
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.envelope.data).toBeInstanceOf(CapacityReservedV1);
      expect(result.envelope.streamPosition).toBe('9007199254740993');
    }
  });

  it('names the field and rule of a bad data field', () => {
    const message = valid();
    message.data.reservedKg = '1200.5';
    expect(registry.validate(message)).toEqual({
      ok: false,
      violations: [expect.objectContaining({ field: 'data.reservedKg', rule: 'matches' })],
    });
  });

  it('refuses a position passed as a JSON number', () => {
    const message = { ...valid(), streamPosition: 12 };
    expect(registry.validate(message)).toMatchObject({
      ok: false,
      violations: [{ field: 'streamPosition', rule: 'matches' }],
    });
  });

  it('refuses an unknown version and a wrong source', () => {
    expect(registry.validate({ ...valid(), schemaVersion: 2 })).toMatchObject({
      ok: false,
      violations: [{ field: 'type', rule: 'knownContract' }],
    });
    expect(registry.validate({ ...valid(), source: 'compensation' })).toMatchObject({
      ok: false,
      violations: [{ field: 'source', rule: 'contractSource' }],
    });
  });

  it('validates the actor by its kind', () => {
    expect(registry.validate({ ...valid(), actor: { kind: 'system', name: 'timer' } }).ok).toBe(true);
    expect(
      registry.validate({
        ...valid(),
        actor: { kind: 'user', userId: 'u1', agencyId: 'a', jurisdiction: 'x' },
      }),
    ).toMatchObject({
      ok: false,
      violations: [{ field: 'actor.jurisdiction', rule: 'matches' }],
    });
  });

  it('refuses what is not an object, and a contract registered twice', () => {
    expect(registry.validate('text')).toMatchObject({ ok: false, violations: [{ rule: 'isObject' }] });
    expect(() => registry.register(registry.all()[0])).toThrow('registered twice');
  });

  it('names topics per source', () => {
    expect(topicFor('transfer')).toBe('lianfang.transfer.v1');
    expect(deadLetterTopicFor(topicFor('transfer'))).toBe('lianfang.transfer.v1.dlq');
  });
});
