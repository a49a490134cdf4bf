import { csvLine, parseCsv } from '../apps/transfer-service/src/facility/import/csv';
import { LICENCE_CSV_HEADER } from '../apps/transfer-service/src/facility/import/licence-csv';
import { chunksOf } from './import-facilities';

describe('the CLI chunks', () => {
  const header = LICENCE_CSV_HEADER;
  const row = (licence: string, category: string) =>
    csvLine([
      licence,
      '名',
      'Name',
      'c',
      '500112',
      '29',
      '106',
      category,
      '1',
      '',
      '2024-01-01',
      '2099-12-31',
    ]);

  it('keeps the rows of a licence together and maps each chunk line back to the file', () => {
    const text = [header, row('L1', 'HW08'), row('L2', 'HW08'), row('L1', 'HW49'), row('L3', 'HW08')].join(
      '\n',
    );
    const chunks = chunksOf(text, 2);
    expect(chunks.map((c) => c.rows)).toEqual([2, 2]);
    expect(parseCsv(chunks[0].csv).records.map((r) => r.cells[0])).toEqual([
      expect.stringContaining('许可证编号'),
      'L1',
      'L1',
    ]);
    expect([...chunks[0].lineOf.entries()]).toEqual([
      [2, 2],
      [3, 4],
    ]);
    expect([...chunks[1].lineOf.entries()]).toEqual([
      [2, 3],
      [3, 5],
    ]);
  });
});
