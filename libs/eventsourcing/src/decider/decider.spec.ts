import { given } from '@lianfang/testing';
import { assertNever, DomainError, fold, type CommandMetadata } from './decider';
import {
  ledgerDecider,
  ledgerSnapshotPolicy,
  transferDecider,
  type LedgerCommand,
  type LedgerEvent,
} from './examples.fixture';

const metadata = (n = 1): CommandMetadata => ({
  commandId: `cmd-${n}`,
  now: new Date('2025-03-01T08:00:00Z'),
  actor: { kind: 'user', userId: 'u-1', agencyId: 'sh-eeb', jurisdiction: '310000' },
  correlationId: `corr-${n}`,
});

const open = (capacityKg = 100): LedgerCommand => ({
  type: 'OpenLedger',
  data: { facilityId: 'f-1', capacityKg },
  metadata: metadata(),
});
const reserve = (reservationId: string, quantityKg: number): LedgerCommand => ({
  type: 'ReserveCapacity',
  data: { reservationId, quantityKg },
  metadata: metadata(),
});
const opened: LedgerEvent = {
  type: 'LedgerOpened',
  data: { facilityId: 'f-1', capacityKg: 100, openedAt: '2025-03-01T08:00:00.000Z' },
};
const reserved = (reservationId: string, quantityKg: number): LedgerEvent => ({
  type: 'CapacityReserved',
  data: { reservationId, quantityKg },
});

describe('decider toolkit (capacity ledger example)', () => {
  it('opens a ledger, taking business time from the command', () => {
    given(ledgerDecider).when(open()).then(opened);
  });

  it('reserves what is available', () => {
    given(ledgerDecider, opened, reserved('r-1', 60)).when(reserve('r-2', 40)).then(reserved('r-2', 40));
  });

  it('refuses more than is available, with a typed bilingual error', () => {
    given(ledgerDecider, opened, reserved('r-1', 60))
      .when(reserve('r-2', 41))
      .thenThrows({
        code: 'capacity.insufficient',
        field: 'quantityKg',
        message: { zh: '剩余处置能力不足', en: /not enough/i },
        details: { availableKg: 40 },
      });
  });

  it('refuses on a ledger that is not open', () => {
    given(ledgerDecider).when(reserve('r-1', 1)).thenThrows('capacity.ledger-not-open');
  });

  it('does nothing for a reservation that is already there', () => {
    given(ledgerDecider, opened, reserved('r-1', 60)).when(reserve('r-1', 60)).thenNothing();
  });

  it('folds events into state', () => {
    given(ledgerDecider, opened)
      .when(reserve('r-1', 25))
      .thenState((s) => {
        expect(s).toMatchObject({ status: 'open', reservedKg: 25, eventsFolded: 2 });
      });
    const s = fold(ledgerDecider, [opened, reserved('a', 1), reserved('b', 2)]);
    expect(s).toMatchObject({ status: 'open', reservedKg: 3 });
  });

  it('round-trips state through its snapshot policy', () => {
    const policy = ledgerSnapshotPolicy();
    const s = fold(ledgerDecider, [opened, reserved('a', 1), reserved('b', 2)]);
    const json = JSON.parse(JSON.stringify(policy.serialize(s))) as unknown;
    expect(policy.deserialize(json)).toEqual(s);
  });

  it('transfer example: only a pending transfer is approved', () => {
    const approve = { type: 'ApproveTransfer', data: { transferId: 't-1' }, metadata: metadata() } as const;
    given(transferDecider).when(approve).thenThrows('transfer.not-pending');
    given(transferDecider, {
      type: 'TransferSubmitted',
      data: { transferId: 't-1', facilityId: 'f-1', quantityKg: 5 },
    })
      .when(approve)
      .then({
        type: 'TransferApproved',
        data: { transferId: 't-1', approvedAt: '2025-03-01T08:00:00.000Z' },
      });
  });
});

describe('DomainError', () => {
  const error = new DomainError({
    code: 'transfer.not-pending',
    field: 'transferId',
    message: { en: 'Only a pending transfer can be approved', zh: '只有待审批的转移申请可以批准' },
    details: { status: 'approved' },
  });

  it('is an Error with a stable code, a field, both languages and details', () => {
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('DomainError');
    expect(error.code).toBe('transfer.not-pending');
    expect(error.field).toBe('transferId');
    expect(error.messages.zh).toBe('只有待审批的转移申请可以批准');
    expect(error.message).toContain('Only a pending transfer');
    expect(error.message).toContain('只有待审批');
    expect(error.stack).toBeDefined();
    expect(DomainError.is(error, 'transfer.not-pending')).toBe(true);
    expect(DomainError.is(error, 'other')).toBe(false);
    expect(DomainError.is(new Error('x'))).toBe(false);
  });

  it('serializes to JSON without the stack', () => {
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      code: 'transfer.not-pending',
      field: 'transferId',
      message: { en: 'Only a pending transfer can be approved', zh: '只有待审批的转移申请可以批准' },
      details: { status: 'approved' },
    });
  });
});

describe('assertNever', () => {
  it('throws on a value outside the union at run time', () => {
    const rogue = { type: 'Rogue' } as unknown as never;
    expect(() => assertNever(rogue)).toThrow('Unhandled case: Rogue');
  });
});
