import { dueDayOf, workItemId, type WorkItemInput } from './work-items.sql';

const item = (over: Partial<WorkItemInput> = {}): WorkItemInput => ({
  recordType: 'Transfer',
  recordId: 't-1',
  action: 'transfer.reply',
  label: { zh: '复函', en: 'reply' },
  party: 'receiving-bureau',
  jurisdiction: '500000',
  responsible: { agencyKind: 'provincial-bureau' },
  dueAt: '2026-10-27T16:00:00.000Z',
  overdue: false,
  overdueAtDue: true,
  since: '2026-10-13T02:00:00.000Z',
  ...over,
});

describe('work items', () => {
  it('names the last day of a deadline ending at 24:00 Asia/Shanghai, and of one ending during a day', () => {
    expect(dueDayOf('2026-10-27T16:00:00.000Z')).toBe('2026-10-27');
    expect(dueDayOf('2026-10-27T02:00:00.000Z')).toBe('2026-10-27');
    expect(dueDayOf('2026-10-27T16:00:00.001Z')).toBe('2026-10-28');
  });

  it('keeps one id for the same work, whatever its due date, and another for another agency or action', () => {
    const id = workItemId(item());
    expect(workItemId(item({ dueAt: null, overdue: true, since: '2026-11-01T00:00:00.000Z' }))).toBe(id);
    expect(workItemId(item({ jurisdiction: '510000' }))).not.toBe(id);
    expect(workItemId(item({ action: 'transfer.decide' }))).not.toBe(id);
    expect(workItemId(item({ responsible: { agencyId: 'cq-eeb' } }))).not.toBe(id);
    // An enterprise is named by its credit code, not by where the item lies.
    const byCode = item({ responsible: { creditCode: '91500115MA5YH9P3C1' } });
    expect(workItemId({ ...byCode, jurisdiction: '500115' })).toBe(workItemId(byCode));
  });
});
