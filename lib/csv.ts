// RFC 4180 CSV: quoted fields may hold commas, newlines and doubled quotes. One incremental parser
// (CsvParser: text in pieces of any size, rows out as they complete) serves whole texts and streams.
import { EmbedrtError } from './errors.js';

/** A CSV row and the line (1-based) it starts on. */
export interface CsvRow {
  fields: string[];
  line: number;
}

/** Parses CSV fed in pieces of any size (a quoted field may span pieces and lines). */
export class CsvParser {
  private row: string[] = [];
  private field = '';
  private quoted = false;
  /** After a closing quote: the field ends here (a doubled quote re-opens it). */
  private closing = false;
  private pendingCr = false;
  private started = false;
  private line = 1;
  private rowLine = 1;

  constructor(private readonly source = 'CSV') {}

  /** Feeds the next piece of text; returns the rows it completed. */
  feed(text: string): CsvRow[] {
    const rows: CsvRow[] = [];
    let i = 0;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) i = 1;
    }
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (this.pendingCr) {
        this.pendingCr = false;
        if (c === '\n') continue; // \r\n ends one row
      }
      if (this.closing) {
        this.closing = false;
        if (c === '"') {
          this.field += '"';
          this.quoted = true;
          continue;
        }
      }
      if (this.quoted) {
        if (c === '"') {
          this.quoted = false;
          this.closing = true;
        } else {
          if (c === '\n') this.line++;
          this.field += c;
        }
      } else if (c === '"' && this.field === '') {
        this.quoted = true;
      } else if (c === ',') {
        this.row.push(this.field);
        this.field = '';
      } else if (c === '\n' || c === '\r') {
        this.row.push(this.field);
        rows.push({ fields: this.row, line: this.rowLine });
        this.row = [];
        this.field = '';
        this.pendingCr = c === '\r';
        this.line++;
        this.rowLine = this.line;
      } else {
        this.field += c;
      }
    }
    return rows;
  }

  /** Ends the text: the last row if it had no line break; an open quoted field is an error. */
  end(): CsvRow[] {
    if (this.quoted) throw new EmbedrtError('E_BAD_INPUT', `${this.source}: unterminated quoted field at line ${this.line}`);
    if (this.field === '' && this.row.length === 0) return [];
    this.row.push(this.field);
    const last = { fields: this.row, line: this.rowLine };
    this.row = [];
    this.field = '';
    return [last];
  }
}

/** Parses CSV text into rows of fields. A header row, if any, is the first row. */
export function parseCsv(text: string, source = 'CSV'): string[][] {
  const parser = new CsvParser(source);
  return [...parser.feed(text), ...parser.end()].map((r) => r.fields);
}

/** Parses CSV with a header row into objects keyed by the header's names. */
export function parseCsvRecords(text: string, source = 'CSV'): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text, source);
  if (!header) return [];
  return rows.map((r, i) => {
    if (r.length !== header.length) {
      throw new EmbedrtError('E_BAD_INPUT', `${source}: record ${i + 1} has ${r.length} fields, the header has ${header.length}`);
    }
    return Object.fromEntries(header.map((h, j) => [h, r[j]!]));
  });
}
