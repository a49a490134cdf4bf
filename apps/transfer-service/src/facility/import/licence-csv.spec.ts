import { csvLine, parseCsv } from './csv';
import { columnOfHeading, LICENCE_CSV_HEADER, readLicenceCsv } from './licence-csv';

describe('the CSV reader', () => {
  it('reads quoted cells, doubled quotes, CRLF, a BOM, and keeps the line each record starts on', () => {
    const text = '\ufeffa,b\r\n"x, y","say ""hi"""\r\n\r\n"two\nlines",z\nlast,\n';
    expect(parseCsv(text)).toEqual({
      records: [
        { line: 1, cells: ['a', 'b'] },
        { line: 2, cells: ['x, y', 'say "hi"'] },
        { line: 4, cells: ['two\nlines', 'z'] },
        { line: 6, cells: ['last', ''] },
      ],
      problems: [],
    });
  });

  it('reports a quote never closed and text after a closing quote, by line', () => {
    expect(parseCsv('a,b\n"x"y,z\nok,1\n"open,2\n').problems).toEqual([
      { line: 2, rule: 'text-after-quote' },
      { line: 4, rule: 'unterminated-quote' },
    ]);
  });

  it('writes cells back so that they read the same', () => {
    const cells = ['重庆"绿源", 有限公司', 'a\nb', 'plain'];
    expect(parseCsv(csvLine(cells)).records[0].cells).toEqual(cells);
  });
});

describe('the licence CSV columns', () => {
  it.each([
    ['许可证编号', 'licenceNumber'],
    ['Licence Number', 'licenceNumber'],
    ['许可证编号 / licence number', 'licenceNumber'],
    ['年经营规模（吨）', 'annualCapacityTonnes'],
    ['annual_capacity_tonnes', 'annualCapacityTonnes'],
    ['名称（英文）', 'nameEn'],
    ['Valid To', 'validTo'],
  ])('reads the heading %s as %s', (heading, key) => {
    expect(columnOfHeading(heading)).toBe(key);
  });

  it('refuses a heading whose two languages name different columns', () => {
    expect(columnOfHeading('纬度 longitude')).toBeUndefined();
  });

  it('accepts its own template header', () => {
    const report = readLicenceCsv(`${LICENCE_CSV_HEADER}\n`);
    expect(report.problems.map((p) => p.rule)).toEqual(['facility-import.empty']);
  });
});
