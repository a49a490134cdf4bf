import { JurisdictionCode } from '@lianfang/domain-kernel';
import { systemActor } from '@lianfang/eventsourcing';
import { given } from '@lianfang/testing';
import {
  manifestSerialDecider,
  manifestSerialStream,
  nextManifestNumber,
  numberingCity,
  type ManifestSerialEvent,
} from './serials';
import {
  approvalUsageDecider,
  remainingKg,
  type ApprovalUsageCommand,
  type ApprovalUsageEvent,
} from './usage';

const metadata = {
  commandId: 'cmd-1',
  now: new Date('2026-10-12T02:00:00Z'),
  actor: systemActor('spec'),
  correlationId: 'corr-1',
};
const cmd = <T extends ApprovalUsageCommand['type']>(
  type: T,
  data: Extract<ApprovalUsageCommand, { type: T }>['data'],
) => ({ type, data, metadata }) as Extract<ApprovalUsageCommand, { type: T }>;

const OIL = 'hazardous:900-249-08';
const commit = (manifestNumber: string, declaredKg: string, authorizedKg = '10000') =>
  cmd('CommitDeclared', { transferId: 't-1', manifestNumber, wasteClass: OIL, declaredKg, authorizedKg });
const committed = (manifestNumber: string, kg: string, remaining: string): ApprovalUsageEvent => ({
  type: 'ApprovalQuantityCommitted',
  data: { transferId: 't-1', manifestNumber, wasteClass: OIL, kg, remainingKg: remaining },
});

describe('approval usage: what the manifests under one approval hold', () => {
  it('commits the declared weight and says what is left', () => {
    given(approvalUsageDecider)
      .when(commit('20265101000001', '4000.5'))
      .then(committed('20265101000001', '4000.500', '5999.500'));
  });

  it('refuses a declared weight beyond what is left of the class, naming the field', () => {
    given(approvalUsageDecider, committed('20265101000001', '6000.000', '4000.000'))
      .when(commit('20265101000002', '4000.001'))
      .thenThrows({
        code: 'manifest.exceeds-authorized-quantity',
        field: 'waste.declaredKg',
        details: { remainingKg: '4000.000' },
      });
    given(approvalUsageDecider, committed('20265101000001', '6000.000', '4000.000'))
      .when(commit('20265101000002', '4000'))
      .then(committed('20265101000002', '4000.000', '0.000'));
  });

  it('counts each class on its own', () => {
    given(approvalUsageDecider, committed('20265101000001', '10000.000', '0.000'))
      .when(
        cmd('CommitDeclared', {
          transferId: 't-1',
          manifestNumber: '20265101000002',
          wasteClass: 'hazardous:772-002-18',
          declaredKg: '500',
          authorizedKg: '3000',
        }),
      )
      .thenState((s) => expect(remainingKg(s, 'hazardous:772-002-18', '3000').toKgString()).toBe('2500.000'));
  });

  it('replaces the declared weight with the accepted one, and again on a correction', () => {
    given(approvalUsageDecider, committed('20265101000001', '6000.000', '4000.000'))
      .when(cmd('SettleAccepted', { manifestNumber: '20265101000001', acceptedKg: '5800' }))
      .thenState((s) => expect(remainingKg(s, OIL, '10000').toKgString()).toBe('4200.000'));
    given(approvalUsageDecider, committed('20265101000001', '6000.000', '4000.000'), {
      type: 'ApprovalQuantitySettled',
      data: { manifestNumber: '20265101000001', wasteClass: OIL, previousKg: '6000.000', kg: '5800.000' },
    })
      .when(cmd('SettleAccepted', { manifestNumber: '20265101000001', acceptedKg: '5800.000' }))
      .thenNothing();
  });

  it('gives a rejected manifest its weight back, once', () => {
    const released: ApprovalUsageEvent = {
      type: 'ApprovalQuantityReleased',
      data: { manifestNumber: '20265101000001', wasteClass: OIL, releasedKg: '6000.000' },
    };
    given(approvalUsageDecider, committed('20265101000001', '6000.000', '4000.000'))
      .when(cmd('ReleaseRejected', { manifestNumber: '20265101000001' }))
      .then(released);
    given(approvalUsageDecider, committed('20265101000001', '6000.000', '4000.000'), released)
      .when(cmd('ReleaseRejected', { manifestNumber: '20265101000001' }))
      .thenNothing();
  });

  it('refuses to settle a manifest it never counted', () => {
    given(approvalUsageDecider)
      .when(cmd('SettleAccepted', { manifestNumber: '20265101000009', acceptedKg: '1' }))
      .thenThrows({ code: 'manifest.usage-unknown-manifest', field: 'manifestNumber' });
  });

  it('never reports less than nothing left when a receipt weighed more than approved', () => {
    const state = approvalUsageDecider.evolve(
      approvalUsageDecider.initialState(),
      committed('20265101000001', '10000.000', '0.000'),
    );
    const heavier = approvalUsageDecider.evolve(state, {
      type: 'ApprovalQuantitySettled',
      data: { manifestNumber: '20265101000001', wasteClass: OIL, previousKg: '10000.000', kg: '10050.000' },
    });
    expect(remainingKg(heavier, OIL, '10000').toKgString()).toBe('0.000');
  });
});

describe('manifest serials: per city and year (Art 15)', () => {
  const chengdu = JurisdictionCode.parseOrThrow('510100');
  const allocated = (serial: number): ManifestSerialEvent => ({
    type: 'ManifestSerialAllocated',
    data: { manifestNumber: `20265101${String(serial).padStart(6, '0')}`, serial },
  });

  it('numbers a city’s manifests from 000001, a county drawing from its city', () => {
    expect(nextManifestNumber({ lastSerial: 0 }, 2026, chengdu).value).toBe('20265101000001');
    expect(numberingCity('510104').value).toBe('510100');
    expect(numberingCity('500000').value).toBe('500000');
    expect(manifestSerialStream(numberingCity('500112'), 2026)).toBe('manifest-serials-5001-2026');
  });

  it('allocates the next serial only', () => {
    given(manifestSerialDecider, allocated(1))
      .when({ type: 'AllocateSerial', data: { manifestNumber: '20265101000002' }, metadata })
      .then(allocated(2));
    given(manifestSerialDecider, allocated(1), allocated(2))
      .when({ type: 'AllocateSerial', data: { manifestNumber: '20265101000002' }, metadata })
      .thenThrows({ code: 'manifest.number-taken', field: 'manifestNumber' });
  });

  it('says so when a city’s serials for the year are used up', () => {
    expect(() => nextManifestNumber({ lastSerial: 999_999 }, 2026, chengdu)).toThrow(
      expect.objectContaining({ code: 'manifest.serials-exhausted' }),
    );
  });
});
