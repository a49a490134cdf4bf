import { physicalTableName, validateProjection } from './projection';
import type { RebuildProgress } from './rebuild';
import { formatRebuildProgress } from './rebuild-cli';
import { counterProjection } from './test-fixtures/counter.fixture';

const base: RebuildProgress = {
  name: 'transfer-summary',
  version: 2,
  generation: 3,
  phase: 'building',
  eventsDone: 12_345,
  eventsApplied: 9_876,
  totalEstimate: 50_000,
  ratePerSecond: 3210.4,
  elapsedMs: 3_800,
  etaMs: 11_600,
  position: { commit: 812n, position: 5541n },
  resumed: false,
  tables: { transfers: 'transfers__v2_3' },
};

describe('formatRebuildProgress', () => {
  it('prints progress with total, percentage, rate, eta and position', () => {
    expect(formatRebuildProgress(base)).toBe(
      '[rebuild transfer-summary v2#3] building 12,345/~50,000 events (24.7%), 9,876 applied, 3,210 ev/s, ' +
        'elapsed 3.8s, eta 11.6s @ 812:5541',
    );
  });

  it('leaves out what it does not know', () => {
    expect(formatRebuildProgress({ ...base, totalEstimate: undefined, etaMs: undefined })).toBe(
      '[rebuild transfer-summary v2#3] building 12,345 events, 9,876 applied, 3,210 ev/s, elapsed 3.8s @ 812:5541',
    );
  });

  it('prints start, resume, switch and abort lines', () => {
    expect(formatRebuildProgress({ ...base, phase: 'starting', eventsDone: 0 })).toBe(
      '[rebuild transfer-summary v2#3] starting from the beginning of the log, ~50,000 events into transfers__v2_3',
    );
    expect(formatRebuildProgress({ ...base, phase: 'starting', resumed: true })).toBe(
      '[rebuild transfer-summary v2#3] resuming at 12,345 events @ 812:5541, ~50,000 in all',
    );
    expect(formatRebuildProgress({ ...base, phase: 'switched', elapsedMs: 125_000 })).toBe(
      '[rebuild transfer-summary v2#3] switched: 12,345 events, 9,876 applied, 3,210 ev/s, in 2m5s; ' +
        'serving transfers__v2_3 @ 812:5541',
    );
    expect(formatRebuildProgress({ ...base, phase: 'aborted' })).toBe(
      '[rebuild transfer-summary v2#3] stopped at 12,345 events @ 812:5541; run again to resume',
    );
  });
});

describe('projection definitions', () => {
  it('name physical tables by version and generation', () => {
    expect(physicalTableName('counters', 4, 17)).toBe('counters__v4_17');
    expect(() => physicalTableName('x'.repeat(60), 1, 1)).toThrow(/longer than 63/);
  });

  it('reject table names that are not plain identifiers', () => {
    const p = counterProjection();
    expect(() => validateProjection({ ...p, tables: ['Counters'] })).toThrow(/lowercase SQL identifier/);
    expect(() => validateProjection({ ...p, tables: ['a;drop table x'] })).toThrow(
      /lowercase SQL identifier/,
    );
    expect(() => validateProjection({ ...p, tables: ['a__b'] })).toThrow(/"__"/);
    expect(() => validateProjection({ ...p, version: 0 })).toThrow(/positive integer/);
    expect(() => validateProjection({ ...p, handles: [] })).toThrow(/handles no event types/);
  });
});
