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
 * Every key of an options type, each once: `const KEYS: OptionKeys<EncodeOptions> = { batchSize: true, … }`
 * does not compile while a key is missing or one is extra, so the list cannot drift from the type.
 */
export type OptionKeys<T> = { readonly [K in keyof Required<T>]: true };

/**
 * An options argument: undefined is {}, anything but a plain object is E_BAD_INPUT, and so is a key the
 * call does not know (with a did-you-mean: `normalize_embeddings` → `normalize`), since an option
 * silently ignored gives a wrong answer that looks right. Within options, a null value means "not
 * given" (the default), as undefined does.
 */
export function optionsOf<T extends object>(opts: T | undefined | null, where: string, keys: OptionKeys<T>, path = 'options'): T {
  if (opts === undefined) return {} as T;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new EmbedrtError('E_BAD_INPUT', `${where}: ${path} must be an object, got ${describe(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (ownKey(keys, key)) continue;
    const known = Object.keys(keys);
    const guess = didYouMean(key, known);
    throw new EmbedrtError(
      'E_BAD_INPUT',
      `${where}: unknown option ${path}.${key}${guess ? ` (did you mean ${guess}?)` : ''}; known: ${known.join(', ')}`,
    );
  }
  return opts;
}

/**
 * sentence-transformers' and transformers.js' names for options that embedrt names differently, keyed
 * by the folded name (lower case, no '_' or '-'), with each meaning in the order tried (the CLI's
 * --dim is the library's truncateDim).
 */
const OTHER_NAMES: Readonly<Record<string, readonly string[]>> = {
  normalizeembeddings: ['normalize'],
  showprogressbar: ['onProgress', 'progress'],
  progresscallback: ['onProgress'],
  truncatedim: ['truncateDim', 'dim'],
  scorefunction: ['scoreFunction', 'score'],
  outputvalue: ['outputValue', 'output-value'],
};

const fold = (s: string) => s.toLowerCase().replace(/[_-]/g, '');

/**
 * The known name a mistyped or foreign option name most likely means: another library's name for it,
 * the same name in another case style (snake_case, kebab-case, camelCase), or one within a small edit
 * distance; undefined when nothing is close.
 */
export function didYouMean(name: string, known: readonly string[]): string | undefined {
  const folded = fold(name);
  const alias = OTHER_NAMES[folded]?.find((a) => known.includes(a));
  if (alias !== undefined) return alias;
  const same = known.find((k) => fold(k) === folded);
  if (same !== undefined) return same;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(folded.length / 4)) + 1;
  for (const k of known) {
    const d = editDistance(folded, fold(k));
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/** Edit distance with adjacent transpositions ("modle" is one edit from "model"); names are short. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
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
