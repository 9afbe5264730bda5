// Small checks shared by the TypeScript layer ("TS validates, C++ trusts"): each input kind is checked
// in one place, and every failure is an EmbedrtError naming the argument, the expectation and the value.
import fs from 'node:fs';
import { EmbedrtError } from './errors.js';

export function isInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** A non-negative integer that a size_t and a double both hold exactly. */
export function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** A short description of a value for an error message; never more than a few dozen characters. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return `an object (${Object.prototype.toString.call(v).slice(8, -1)})`;
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return 'a symbol';
  return `${typeof v} ${String(v)}`;
}

/**
 * An options argument: undefined is {}, anything but a plain object is E_BAD_INPUT. Within options, a
 * null value means "not given" (the default), as undefined does.
 */
export function optionsOf<T extends object>(opts: T | undefined | null, where: string): T {
  if (opts === undefined) return {} as T;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new EmbedrtError('E_BAD_INPUT', `${where}: options must be an object, got ${describe(opts)}`);
  }
  return opts;
}

/** An optional AbortSignal option. */
export function signalOf(signal: unknown, where: string): AbortSignal | undefined {
  if (signal === undefined || signal === null) return undefined;
  if (!(signal instanceof AbortSignal)) {
    throw new EmbedrtError('E_BAD_INPUT', `${where}: options.signal must be an AbortSignal, got ${describe(signal)}`);
  }
  return signal;
}

/** An optional non-negative integer option (threads, sizes) no larger than `max`. */
export function countOption(v: unknown, where: string, name: string, min: number, max: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isCount(v) || v < min || v > max) {
    throw new EmbedrtError('E_BAD_INPUT', `${where}: options.${name} must be an integer in [${min}, ${max}], got ${describe(v)}`);
  }
  return v;
}

/** A key of `table` that is its own (not inherited: 'constructor', '__proto__' are not keys). */
export function ownKey<T>(table: Readonly<Record<string, T>>, key: unknown): key is string {
  return typeof key === 'string' && Object.prototype.hasOwnProperty.call(table, key);
}

/** The largest model file embedrt reads whole into memory as text (JSON configs, tokenizer files). */
export const MAX_TEXT_FILE_BYTES = 256 << 20;

/**
 * Checks that `file` is a regular file (after symlinks) of at most `maxBytes`; a FIFO, a device, a
 * folder or an oversized file is an E_MODEL_FILES error before anything is read. Returns its size.
 */
export function regularFileSize(file: string, maxBytes = Number.MAX_SAFE_INTEGER): number {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new EmbedrtError('E_MODEL_FILES', code === 'ENOENT' ? `${file}: not found` : `${file}: cannot read (${code ?? String(e)})`, { cause: e });
  }
  if (!st.isFile()) throw new EmbedrtError('E_MODEL_FILES', `${file}: not a regular file`);
  if (st.size > maxBytes) throw new EmbedrtError('E_MODEL_FILES', `${file}: ${st.size} bytes, more than the ${maxBytes} embedrt reads for this file`);
  return st.size;
}

/**
 * Reads and parses a JSON file; a missing, special, oversized or malformed file is an E_MODEL_FILES
 * error naming it (never quoting its contents: the file may be a link to something private).
 */
export function readJsonFile(file: string, what: string): unknown {
  regularFileSize(file, MAX_TEXT_FILE_BYTES);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new EmbedrtError('E_MODEL_FILES', `${file}: cannot read (${code ?? String(e)})`, { cause: e });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    throw new EmbedrtError('E_MODEL_FILES', `${file}: not valid JSON (expected ${what})${at ? ` at byte offset ${at}` : ''}`);
  }
}
