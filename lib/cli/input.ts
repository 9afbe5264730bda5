// Reading a corpus as a stream of records for `embedrt encode`: plain lines, JSON lines (strings, or
// objects with a text field and an id field), or CSV with a header (a text column and an id column).
// Bytes are split into lines and each line is decoded strictly: invalid UTF-8 is an error naming its
// line, never a silent U+FFFD.
import type { Readable } from 'node:stream';
import { CsvParser } from '../csv.js';
import { EmbedrtError } from '../errors.js';

export type InputFormat = 'lines' | 'jsonl' | 'csv';

export interface InputRecord {
  text: string;
  id?: string | number;
}

export interface InputOptions {
  format: InputFormat;
  /** JSON lines: the field holding the text (objects) — strings are texts as they are. */
  textField: string;
  /** JSON lines / CSV: the field or column holding each record's id; none when undefined. */
  idField: string | undefined;
  /** CSV: the column holding the text. */
  textColumn: string;
}

/** Bytes read so far, for progress against a file's size. */
export interface ByteCounter {
  bytes: number;
}

/** The lines of a byte stream (without their \n or \r\n), decoded as strict UTF-8, numbered from 1. */
async function* decodedLines(input: Readable, name: string, counter: ByteCounter): AsyncGenerator<{ text: string; line: number }> {
  // The first line drops a byte order mark; later lines keep U+FEFF as the text it is.
  const first = new TextDecoder('utf-8', { fatal: true });
  const rest = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let carry: Buffer | undefined;
  let line = 0;
  const decode = (bytes: Buffer): string => {
    line++;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end--;
    try {
      return (line === 1 ? first : rest).decode(bytes.subarray(0, end));
    } catch {
      throw new EmbedrtError('E_BAD_INPUT', `${name} line ${line}: not valid UTF-8`);
    }
  };
  for await (const piece of input as AsyncIterable<Buffer>) {
    counter.bytes += piece.length;
    let buf = carry ? Buffer.concat([carry, piece]) : piece;
    let start = 0;
    for (let nl = buf.indexOf(0x0a, start); nl !== -1; nl = buf.indexOf(0x0a, start)) {
      const text = decode(buf.subarray(start, nl));
      yield { text, line };
      start = nl + 1;
    }
    carry = start < buf.length ? Buffer.from(buf.subarray(start)) : undefined;
    buf = Buffer.alloc(0);
  }
  if (carry !== undefined) {
    const text = decode(carry);
    yield { text, line };
  }
}

function idOf(v: unknown, where: string, field: string): string | number {
  if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) return v;
  throw new EmbedrtError('E_BAD_INPUT', `${where}: the id field "${field}" must be a string or a number, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
}

/** The records of `input` in order. */
export async function* readRecords(input: Readable, name: string, o: InputOptions, counter: ByteCounter): AsyncGenerator<InputRecord> {
  const lines = decodedLines(input, name, counter);
  if (o.format === 'lines') {
    // Every line is a text (an empty line is an empty text).
    for await (const { text } of lines) yield { text };
    return;
  }
  if (o.format === 'jsonl') {
    for await (const { text: raw, line } of lines) {
      if (raw.trim() === '') continue;
      const where = `${name} line ${line}`;
      let v: unknown;
      try {
        v = JSON.parse(raw);
      } catch (e) {
        throw new EmbedrtError('E_BAD_INPUT', `${where}: not valid JSON (${(e as Error).message}); use --input-format lines for plain text`);
      }
      if (typeof v === 'string') {
        if (o.idField !== undefined) throw new EmbedrtError('E_BAD_INPUT', `${where}: a JSON string has no id field "${o.idField}"; give objects, or leave out --id-field`);
        yield { text: v };
      } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const text = (v as Record<string, unknown>)[o.textField];
        if (typeof text !== 'string') {
          throw new EmbedrtError('E_BAD_INPUT', `${where}: the text field "${o.textField}" must be a string, got ${text === undefined ? 'nothing' : JSON.stringify(text).slice(0, 40)}; choose the field with --text-field`);
        }
        yield o.idField === undefined ? { text } : { text, id: idOf((v as Record<string, unknown>)[o.idField], where, o.idField) };
      } else {
        throw new EmbedrtError('E_BAD_INPUT', `${where}: expected a JSON string or an object with a "${o.textField}" field, got ${Array.isArray(v) ? 'an array' : String(v)}`);
      }
    }
    return;
  }
  // CSV: fed line by line (a quoted field may hold line breaks); the first row names the columns.
  const parser = new CsvParser(name);
  let textCol = -1;
  let idCol = -1;
  let width = 0;
  let header = true;
  const rowsOf = async function* () {
    for await (const { text } of lines) yield* parser.feed(`${text}\n`);
    yield* parser.end();
  };
  for await (const row of rowsOf()) {
    if (header) {
      header = false;
      width = row.fields.length;
      textCol = row.fields.indexOf(o.textColumn);
      if (textCol < 0) throw new EmbedrtError('E_BAD_INPUT', `${name}: no column "${o.textColumn}" in the header (${row.fields.join(', ')}); choose one with --text-column`);
      if (o.idField !== undefined) {
        idCol = row.fields.indexOf(o.idField);
        if (idCol < 0) throw new EmbedrtError('E_BAD_INPUT', `${name}: no column "${o.idField}" in the header (${row.fields.join(', ')}) for --id-column`);
      }
      continue;
    }
    if (row.fields.length !== width) {
      throw new EmbedrtError('E_BAD_INPUT', `${name} line ${row.line}: ${row.fields.length} fields, the header has ${width}`);
    }
    yield idCol < 0 ? { text: row.fields[textCol]! } : { text: row.fields[textCol]!, id: row.fields[idCol]! };
  }
}
