/**
 * A small RFC 4180 reader for the licence CSV: quoted cells (commas, quotes as "", line breaks inside),
 * CRLF or LF, a UTF-8 byte-order mark. Each record keeps the line it starts on, so a validation report
 * points at the line a person sees in a text editor. Blank lines are skipped.
 */
export interface CsvRecord {
  /** 1-based line of the file where the record starts. */
  readonly line: number;
  readonly cells: readonly string[];
}

export interface CsvProblem {
  readonly line: number;
  readonly rule: 'unterminated-quote' | 'text-after-quote';
}

export interface CsvParse {
  readonly records: CsvRecord[];
  readonly problems: CsvProblem[];
}

export function parseCsv(text: string): CsvParse {
  const records: CsvRecord[] = [];
  const problems: CsvProblem[] = [];
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let line = 1;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const start = line;
    const cells: string[] = [];
    let cell = '';
    let broken = false;
    // One record: cells up to an unquoted line break or the end.
    for (;;) {
      if (s[i] === '"') {
        i++;
        let closed = false;
        while (i < n) {
          const c = s[i];
          if (c === '"') {
            if (s[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (c === '\n') line++;
          cell += c;
          i++;
        }
        if (!closed) {
          problems.push({ line: start, rule: 'unterminated-quote' });
          broken = true;
          break;
        }
        // After a closing quote only a separator or the end of the record may follow.
        if (i < n && s[i] !== ',' && s[i] !== '\n' && s[i] !== '\r') {
          problems.push({ line, rule: 'text-after-quote' });
          broken = true;
          while (i < n && s[i] !== '\n') i++;
        }
      } else {
        while (i < n && s[i] !== ',' && s[i] !== '\n' && s[i] !== '\r') cell += s[i++];
      }
      cells.push(cell);
      cell = '';
      if (i < n && s[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (s[i] === '\r') i++;
    if (s[i] === '\n') {
      i++;
      line++;
    }
    if (broken) continue;
    if (cells.length === 1 && cells[0].trim() === '') continue;
    records.push({ line: start, cells });
  }
  return { records, problems };
}

/** One cell as CSV text: quoted when it holds a separator, a quote or a line break. */
export function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvLine(cells: readonly string[]): string {
  return cells.map(csvCell).join(',');
}
