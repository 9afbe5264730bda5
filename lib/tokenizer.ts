// BERT WordPiece tokenizer: TypeScript reads and validates the model's tokenizer files, the native core
// (native/core/tokenizer.cc) does the work, id for id what Hugging Face `tokenizers` does.
import { EmbedrtError, rethrowNative } from './errors.js';
import { native, type NativeBatch, type NativeEncodeOptions, type NativeTokenizerHandle, type NativeTokenizerRef } from './native.js';
import { runOffThread } from './offthread.js';
import { readTokenizerFile, readTokenizerFolder, type TokenizerFiles } from './tokenizer-config.js';
import { describe, isCount, isInteger, optionsOf, signalOf, type OptionKeys } from './validate.js';

/** Options of {@link Tokenizer.encode} and {@link Tokenizer.encodeBatch}. */
export interface EncodeOptions {
  /** Add the template's special tokens ([CLS] … [SEP]). Default true. */
  addSpecialTokens?: boolean;
  /**
   * Truncate to this many tokens, special tokens included (longest first for pairs, from the right).
   * Default: the tokenizer file's truncation, else none.
   */
  maxLength?: number;
  /** Second sequence (single text for encode, one per text for encodeBatch). */
  pair?: string | string[];
  /** Also return the token strings. Default false. */
  withTokens?: boolean;
}

/** Padding of {@link Tokenizer.encodeBatch}. */
export interface BatchEncodeOptions extends EncodeOptions {
  /**
   * `false` (default): rows keep their own lengths. `'longest'`: pad to the longest row.
   * A number: pad every row to at least that length.
   */
  padding?: false | 'longest' | number;
  /** Round the padded length up to a multiple of this. */
  padToMultipleOf?: number;
  /** Native threads to spread the batch over (default: all hardware threads). */
  threads?: number;
}

const ENCODE_KEYS: OptionKeys<EncodeOptions> = { addSpecialTokens: true, maxLength: true, pair: true, withTokens: true };
const BATCH_KEYS: OptionKeys<BatchEncodeOptions> = { ...ENCODE_KEYS, padding: true, padToMultipleOf: true, threads: true };

/** One encoded text. Offsets are [start, end) code point indices into the original text. */
export interface Encoding {
  ids: Int32Array;
  attentionMask: Uint8Array;
  typeIds: Uint8Array;
  specialTokensMask: Uint8Array;
  /** Flat [start0, end0, start1, end1, …]; special and padding tokens have (0, 0). */
  offsets: Uint32Array;
  /** Token strings, when `withTokens` was set. */
  tokens?: string[];
  /** Whether truncation removed tokens. */
  truncated: boolean;
  /** Number of real (non-padding) tokens. */
  length: number;
}

/** The result of {@link Tokenizer.encodeBatch}: flat arrays, zero-copy, and a view per row. */
export class BatchEncoding {
  /** Number of texts. */
  readonly rows: number;

  constructor(private readonly batch: NativeBatch) {
    this.rows = batch.lengths.length;
  }

  /** All rows' ids, concatenated (padded rows when padding was asked). */
  get ids(): Int32Array {
    return this.batch.ids;
  }
  get attentionMask(): Uint8Array {
    return this.batch.attentionMask;
  }
  get typeIds(): Uint8Array {
    return this.batch.typeIds;
  }
  /** Row r occupies [rowStart[r], rowStart[r + 1]) of the flat arrays. */
  get rowStart(): Uint32Array {
    return this.batch.rowStart;
  }
  /** Real (unpadded) token count per row. */
  get lengths(): Uint32Array {
    return this.batch.lengths;
  }

  /** A view (no copy) of row i. */
  row(i: number): Encoding {
    if (!isInteger(i) || i < 0 || i >= this.rows) {
      throw new EmbedrtError('E_BAD_INPUT', `row(${String(i)}): expected an integer in [0, ${this.rows})`);
    }
    const b = this.batch;
    const s = b.rowStart[i]!;
    const e = b.rowStart[i + 1]!;
    const enc: Encoding = {
      ids: b.ids.subarray(s, e),
      attentionMask: b.attentionMask.subarray(s, e),
      typeIds: b.typeIds.subarray(s, e),
      specialTokensMask: b.specialTokensMask.subarray(s, e),
      offsets: b.offsets.subarray(2 * s, 2 * e),
      truncated: b.truncated[i] === 1,
      length: b.lengths[i]!,
    };
    if (b.tokens) enc.tokens = b.tokens.slice(s, e);
    return enc;
  }

  *[Symbol.iterator](): IterableIterator<Encoding> {
    for (let i = 0; i < this.rows; i++) yield this.row(i);
  }
}

/**
 * A BERT WordPiece tokenizer, identical to Hugging Face `tokenizers` for the same tokenizer.json.
 *
 * @example
 * const tok = Tokenizer.fromPretrained('./bge-base-en-v1.5');
 * const enc = tok.encode('What was the revenue in 2023?');
 * console.log(enc.ids); // Int32Array [101, 2054, ...]
 * const batch = await tok.encodeBatch(['a', 'b c'], { padding: 'longest' });
 */
export class Tokenizer {
  /** @internal The native tokenizer (shared with models loaded from the same folder). */
  readonly handle: NativeTokenizerHandle;
  /** Where it was loaded from. */
  readonly source: string;
  /** Default truncation length from the tokenizer file (0: none). */
  readonly defaultMaxLength: number;

  private constructor(files: TokenizerFiles, built?: NativeTokenizerRef) {
    const Native = native().NativeTokenizer;
    try {
      this.handle = new Native(built ?? files.config);
    } catch (e) {
      rethrowNative(e);
    }
    this.source = files.source;
    this.defaultMaxLength = files.maxLength;
  }

  /** Loads a tokenizer.json file. */
  static fromFile(file: string): Tokenizer {
    return new Tokenizer(readTokenizerFile(file));
  }

  /**
   * Loads the tokenizer of a model folder: tokenizer.json, or vocab.txt + tokenizer_config.json
   * (+ special_tokens_map.json) when that is all the model has.
   */
  static fromPretrained(dir: string): Tokenizer {
    if (typeof dir !== 'string' || dir === '') {
      throw new EmbedrtError('E_BAD_INPUT', `Tokenizer.fromPretrained: expected a folder path, got ${describe(dir)}`);
    }
    return new Tokenizer(readTokenizerFolder(dir));
  }

  /**
   * fromPretrained without blocking the event loop: the files are read and checked in a worker thread
   * (about 100 ms of work for a 30,000-token tokenizer.json). `signal` stops it.
   */
  static async load(dir: string, options?: { signal?: AbortSignal }): Promise<Tokenizer> {
    if (typeof dir !== 'string' || dir === '') {
      throw new EmbedrtError('E_BAD_INPUT', `Tokenizer.load: expected a folder path, got ${describe(dir)}`);
    }
    const signal = signalOf(optionsOf(options, 'Tokenizer.load', { signal: true }).signal, 'Tokenizer.load');
    const callerStack = new Error();
    const files = await runOffThread<TokenizerFiles>({ task: 'tokenizer', dir }, signal, 'reading the tokenizer');
    try {
      return new Tokenizer(files, await native().NativeTokenizer.create(files.config));
    } catch (e) {
      rethrowNative(e, callerStack);
    }
  }

  /** Encodes one text (and an optional pair) synchronously. */
  encode(text: string, options?: EncodeOptions): Encoding {
    const opts = optionsOf(options, 'encode', ENCODE_KEYS);
    checkText(text, 'encode: text');
    const pair = opts.pair;
    if (pair !== undefined && typeof pair !== 'string') {
      throw new EmbedrtError('E_BAD_INPUT', `encode: options.pair must be a string, got ${describe(pair)}`);
    }
    if (pair !== undefined) checkText(pair, 'encode: options.pair');
    const nopts = this.nativeOptions(opts, pair !== undefined, 'encode');
    try {
      return new BatchEncoding(this.handle.encode(text, pair ?? null, nopts)).row(0);
    } catch (e) {
      rethrowNative(e);
    }
  }

  /**
   * Encodes many texts on native threads, in parallel; the JS thread is free meanwhile.
   * Results come back in input order.
   */
  async encodeBatch(texts: readonly string[], options?: BatchEncodeOptions): Promise<BatchEncoding> {
    const opts = optionsOf(options, 'encodeBatch', BATCH_KEYS);
    if (!Array.isArray(texts)) {
      throw new EmbedrtError('E_BAD_INPUT', `encodeBatch: expected an array of strings, got ${describe(texts)}`);
    }
    for (let i = 0; i < texts.length; i++) checkText(texts[i], `encodeBatch: texts[${i}]`); // holes of sparse arrays too
    let pairs: string[] | null = null;
    if (opts.pair !== undefined) {
      if (!Array.isArray(opts.pair) || opts.pair.length !== texts.length) {
        throw new EmbedrtError(
          'E_BAD_INPUT',
          `encodeBatch: options.pair must be an array of ${texts.length} strings (one per text), got ${describe(opts.pair)}`,
        );
      }
      for (let i = 0; i < opts.pair.length; i++) checkText(opts.pair[i], `encodeBatch: options.pair[${i}]`);
      pairs = opts.pair;
    }
    const nopts = this.nativeOptions(opts, pairs !== null, 'encodeBatch');
    let padTo = -1;
    if (opts.padding === 'longest') padTo = 0;
    else if (typeof opts.padding === 'number') {
      if (!isInteger(opts.padding) || opts.padding < 1) {
        throw new EmbedrtError('E_BAD_INPUT', `encodeBatch: options.padding must be false, 'longest' or a positive integer, got ${opts.padding}`);
      }
      padTo = opts.padding;
    } else if (opts.padding !== undefined && opts.padding !== false) {
      throw new EmbedrtError('E_BAD_INPUT', `encodeBatch: options.padding must be false, 'longest' or a positive integer, got ${describe(opts.padding)}`);
    }
    const multiple = opts.padToMultipleOf ?? 0;
    if (!isInteger(multiple) || multiple < 0) {
      throw new EmbedrtError('E_BAD_INPUT', `encodeBatch: options.padToMultipleOf must be a positive integer, got ${describe(multiple)}`);
    }
    const threads = opts.threads ?? 0;
    if (!isCount(threads)) {
      throw new EmbedrtError('E_BAD_INPUT', `encodeBatch: options.threads must be a positive integer, got ${describe(threads)}`);
    }
    const callerStack = new Error();
    try {
      return new BatchEncoding(await this.handle.encodeBatch([...texts], pairs, nopts, padTo, multiple, threads));
    } catch (e) {
      rethrowNative(e, callerStack);
    }
  }

  /** Decodes ids back to text (WordPiece decoder: joins "##" pieces). */
  decode(ids: ArrayLike<number>, options?: { skipSpecialTokens?: boolean }): string {
    const opts = optionsOf(options, 'decode', { skipSpecialTokens: true });
    if (opts.skipSpecialTokens !== undefined && typeof opts.skipSpecialTokens !== 'boolean') {
      throw new EmbedrtError('E_BAD_INPUT', `decode: options.skipSpecialTokens must be a boolean, got ${describe(opts.skipSpecialTokens)}`);
    }
    if (ids === null || typeof ids !== 'object' || typeof (ids as ArrayLike<number>).length !== 'number') {
      throw new EmbedrtError('E_BAD_INPUT', `decode: expected an array of token ids, got ${describe(ids)}`);
    }
    for (let i = 0; i < ids.length; i++) {
      if (!isInteger(ids[i]) || ids[i]! < 0 || ids[i]! > 0x7fffffff) {
        throw new EmbedrtError('E_BAD_INPUT', `decode: ids[${i}] is ${String(ids[i])}, expected a non-negative integer id`);
      }
    }
    const arr = ids instanceof Int32Array ? ids : Int32Array.from(ids);
    return this.handle.decode(arr, opts.skipSpecialTokens ?? true);
  }

  /** The token string of an id, or undefined (also for anything that is not an id). */
  idToToken(id: number): string | undefined {
    if (!isCount(id) || id > 0x7fffffff) return undefined;
    return this.handle.idToToken(id);
  }

  /** The id of a token string, or undefined. */
  tokenToId(token: string): number | undefined {
    checkText(token, 'tokenToId: token');
    return this.handle.tokenToId(token);
  }

  /** Vocabulary size, added tokens included. */
  get vocabSize(): number {
    return this.handle.vocabSize();
  }

  /** How many special tokens the template adds to a single text (pair = false) or a pair. */
  numSpecialTokens(pair = false): number {
    return this.handle.numSpecialTokens(pair);
  }

  private nativeOptions(opts: EncodeOptions, pair: boolean, where: string): NativeEncodeOptions {
    if (opts === null || typeof opts !== 'object') {
      throw new EmbedrtError('E_BAD_INPUT', `${where}: options must be an object, got ${describe(opts)}`);
    }
    const addSpecialTokens = opts.addSpecialTokens ?? true;
    if (typeof addSpecialTokens !== 'boolean') {
      throw new EmbedrtError('E_BAD_INPUT', `${where}: options.addSpecialTokens must be a boolean, got ${describe(addSpecialTokens)}`);
    }
    const maxLength = opts.maxLength ?? this.defaultMaxLength;
    const minimum = addSpecialTokens ? this.numSpecialTokens(pair) + 1 : 1;
    if (!isInteger(maxLength) || (maxLength !== 0 && maxLength < minimum)) {
      throw new EmbedrtError(
        'E_BAD_INPUT',
        `${where}: options.maxLength must be an integer ≥ ${minimum} (room for the special tokens and one more), got ${describe(maxLength)}`,
      );
    }
    return { addSpecialTokens, maxLength, withTokens: opts.withTokens === true };
  }
}

function checkText(t: unknown, where: string): asserts t is string {
  if (typeof t !== 'string') throw new EmbedrtError('E_BAD_INPUT', `${where} must be a string, got ${describe(t)}`);
}

