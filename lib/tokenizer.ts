// BERT WordPiece tokenizer: TypeScript reads and validates the model's tokenizer files, the native core
// (native/core/tokenizer.cc) does the work, id for id what Hugging Face `tokenizers` does.
import fs from 'node:fs';
import path from 'node:path';
import { EmbedrtError, rethrowNative } from './errors.js';
import { native } from './native.js';
import { isInteger, readJsonFile } from './validate.js';

/** The flat config the native tokenizer takes (see native/core/tokenizer.h). */
export interface NativeTokenizerConfig {
  normalize: boolean;
  cleanText: boolean;
  handleChineseChars: boolean;
  stripAccents: boolean;
  lowercase: boolean;
  preTokenize: boolean;
  vocab: string[];
  unkId: number;
  continuingSubwordPrefix: string;
  maxInputCharsPerWord: number;
  addedTokens: NativeAddedToken[];
  single: NativeTemplatePiece[];
  pair: NativeTemplatePiece[];
  wordpieceDecoder: boolean;
  decoderPrefix: string;
  decoderCleanup: boolean;
  padId: number;
  padTypeId: number;
  padToken: string;
}

interface NativeAddedToken {
  content: string;
  id: number;
  special: boolean;
  normalized: boolean;
  lstrip: boolean;
  rstrip: boolean;
  singleWord: boolean;
}

interface NativeTemplatePiece {
  /** -1 for a special token, 0 for sequence A, 1 for sequence B. */
  sequence: number;
  ids: number[];
  tokens: string[];
  typeId: number;
}

interface NativeEncodeOptions {
  addSpecialTokens: boolean;
  maxLength: number;
  withTokens: boolean;
}

/** What the native tokenizer returns: flat arrays, row r in [rowStart[r], rowStart[r + 1]). */
export interface NativeBatch {
  ids: Int32Array;
  typeIds: Uint8Array;
  attentionMask: Uint8Array;
  specialTokensMask: Uint8Array;
  offsets: Uint32Array;
  rowStart: Uint32Array;
  lengths: Uint32Array;
  truncated: Uint8Array;
  tokens?: string[];
}

export interface NativeTokenizerHandle {
  encode(text: string, pair: string | null, opts: NativeEncodeOptions): NativeBatch;
  encodeBatch(
    texts: string[],
    pairs: string[] | null,
    opts: NativeEncodeOptions,
    padTo: number,
    padMultiple: number,
    threads: number,
  ): Promise<NativeBatch>;
  decode(ids: Int32Array, skipSpecialTokens: boolean): string;
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
  vocabSize(): number;
  numSpecialTokens(pair: boolean): number;
}

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

  private constructor(config: NativeTokenizerConfig, source: string, defaultMaxLength: number) {
    const Native = (native() as unknown as { NativeTokenizer: new (c: NativeTokenizerConfig) => NativeTokenizerHandle })
      .NativeTokenizer;
    try {
      this.handle = new Native(config);
    } catch (e) {
      rethrowNative(e);
    }
    this.source = source;
    this.defaultMaxLength = defaultMaxLength;
  }

  /** Loads a tokenizer.json file. */
  static fromFile(file: string): Tokenizer {
    const json = readJsonFile(file, 'a tokenizer.json');
    const { config, maxLength } = configFromTokenizerJson(json, file);
    return new Tokenizer(config, file, maxLength);
  }

  /**
   * Loads the tokenizer of a model folder: tokenizer.json, or vocab.txt + tokenizer_config.json
   * (+ special_tokens_map.json) when that is all the model has.
   */
  static fromPretrained(dir: string): Tokenizer {
    if (typeof dir !== 'string' || dir === '') {
      throw new EmbedrtError('E_BAD_INPUT', `Tokenizer.fromPretrained: expected a folder path, got ${describe(dir)}`);
    }
    const tj = path.join(dir, 'tokenizer.json');
    if (fs.existsSync(tj)) return Tokenizer.fromFile(tj);
    const vocab = path.join(dir, 'vocab.txt');
    if (fs.existsSync(vocab)) {
      const { config, maxLength } = configFromVocabTxt(dir);
      return new Tokenizer(config, vocab, maxLength);
    }
    throw new EmbedrtError(
      'E_MODEL_FILES',
      `${dir}: no tokenizer.json and no vocab.txt; a BERT model folder needs one of them`,
    );
  }

  /** Encodes one text (and an optional pair) synchronously. */
  encode(text: string, opts: EncodeOptions = {}): Encoding {
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
  async encodeBatch(texts: readonly string[], opts: BatchEncodeOptions = {}): Promise<BatchEncoding> {
    if (!Array.isArray(texts)) {
      throw new EmbedrtError('E_BAD_INPUT', `encodeBatch: expected an array of strings, got ${describe(texts)}`);
    }
    texts.forEach((t, i) => checkText(t, `encodeBatch: texts[${i}]`));
    let pairs: string[] | null = null;
    if (opts.pair !== undefined) {
      if (!Array.isArray(opts.pair) || opts.pair.length !== texts.length) {
        throw new EmbedrtError(
          'E_BAD_INPUT',
          `encodeBatch: options.pair must be an array of ${texts.length} strings (one per text), got ${describe(opts.pair)}`,
        );
      }
      opts.pair.forEach((t, i) => checkText(t, `encodeBatch: options.pair[${i}]`));
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
    if (!isInteger(threads) || threads < 0) {
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
  decode(ids: ArrayLike<number>, opts: { skipSpecialTokens?: boolean } = {}): string {
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

  /** The token string of an id, or undefined. */
  idToToken(id: number): string | undefined {
    return this.handle.idToToken(id);
  }

  /** The id of a token string, or undefined. */
  tokenToId(token: string): number | undefined {
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

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function checkText(t: unknown, where: string): asserts t is string {
  if (typeof t !== 'string') throw new EmbedrtError('E_BAD_INPUT', `${where} must be a string, got ${describe(t)}`);
}

// ---------------------------------------------------------------------------------------------
// tokenizer.json → native config

type Json = Record<string, unknown>;

function asObject(v: unknown, where: string, file: string): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new EmbedrtError('E_MODEL_FILES', `${file}: ${where} must be an object`);
  }
  return v as Json;
}

function optBool(o: Json, key: string, dflt: boolean, file: string, where: string): boolean {
  const v = o[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw new EmbedrtError('E_MODEL_FILES', `${file}: ${where}.${key} must be a boolean`);
  return v;
}

function unsupported(file: string, what: string, type: unknown, supported: string): never {
  throw new EmbedrtError(
    'E_UNSUPPORTED',
    `${file}: ${what} type ${JSON.stringify(type)} is not supported; embedrt tokenizes BERT models (${supported})`,
  );
}

function configFromTokenizerJson(raw: unknown, file: string): { config: NativeTokenizerConfig; maxLength: number } {
  const json = asObject(raw, 'the top level', file);
  const model = asObject(json.model, '"model"', file);
  const modelType = model.type ?? (model.vocab && model.unk_token !== undefined && model.continuing_subword_prefix !== undefined ? 'WordPiece' : undefined);
  if (modelType !== 'WordPiece') unsupported(file, 'model', modelType, 'WordPiece');
  const vocabObj = asObject(model.vocab, 'model.vocab', file);
  const vocab: string[] = [];
  for (const [tok, id] of Object.entries(vocabObj)) {
    if (!isInteger(id) || (id as number) < 0 || (id as number) > 0x7fffffff) {
      throw new EmbedrtError('E_MODEL_FILES', `${file}: model.vocab[${JSON.stringify(tok)}] must be a non-negative integer id`);
    }
    const i = id as number;
    while (vocab.length <= i) vocab.push('');
    vocab[i] = tok;
  }
  const unkToken = model.unk_token;
  if (typeof unkToken !== 'string') throw new EmbedrtError('E_MODEL_FILES', `${file}: model.unk_token must be a string`);
  const unkId = vocabObj[unkToken];
  if (!isInteger(unkId)) {
    throw new EmbedrtError('E_MODEL_FILES', `${file}: the unknown token ${JSON.stringify(unkToken)} is not in model.vocab`);
  }
  const prefix = model.continuing_subword_prefix ?? '##';
  const maxChars = model.max_input_chars_per_word ?? 100;
  if (typeof prefix !== 'string') throw new EmbedrtError('E_MODEL_FILES', `${file}: model.continuing_subword_prefix must be a string`);
  if (!isInteger(maxChars) || (maxChars as number) < 0) {
    throw new EmbedrtError('E_MODEL_FILES', `${file}: model.max_input_chars_per_word must be a non-negative integer`);
  }

  const config: NativeTokenizerConfig = {
    normalize: false,
    cleanText: false,
    handleChineseChars: false,
    stripAccents: false,
    lowercase: false,
    preTokenize: false,
    vocab,
    unkId: unkId as number,
    continuingSubwordPrefix: prefix,
    maxInputCharsPerWord: maxChars as number,
    addedTokens: [],
    single: [],
    pair: [],
    wordpieceDecoder: false,
    decoderPrefix: '##',
    decoderCleanup: true,
    padId: 0,
    padTypeId: 0,
    padToken: '[PAD]',
  };

  if (json.normalizer !== null && json.normalizer !== undefined) {
    const n = asObject(json.normalizer, '"normalizer"', file);
    if (n.type !== 'BertNormalizer') unsupported(file, 'normalizer', n.type, 'BertNormalizer');
    config.normalize = true;
    config.cleanText = optBool(n, 'clean_text', true, file, 'normalizer');
    config.handleChineseChars = optBool(n, 'handle_chinese_chars', true, file, 'normalizer');
    config.lowercase = optBool(n, 'lowercase', true, file, 'normalizer');
    // tokenizers: strip_accents defaults to the lowercase flag.
    config.stripAccents = optBool(n, 'strip_accents', config.lowercase, file, 'normalizer');
  }
  if (json.pre_tokenizer !== null && json.pre_tokenizer !== undefined) {
    const p = asObject(json.pre_tokenizer, '"pre_tokenizer"', file);
    if (p.type !== 'BertPreTokenizer') unsupported(file, 'pre_tokenizer', p.type, 'BertPreTokenizer');
    config.preTokenize = true;
  }
  const addedRaw = json.added_tokens ?? [];
  if (!Array.isArray(addedRaw)) throw new EmbedrtError('E_MODEL_FILES', `${file}: added_tokens must be an array`);
  for (const [i, a] of addedRaw.entries()) {
    const t = asObject(a, `added_tokens[${i}]`, file);
    if (typeof t.content !== 'string' || !isInteger(t.id)) {
      throw new EmbedrtError('E_MODEL_FILES', `${file}: added_tokens[${i}] needs a string content and an integer id`);
    }
    const special = optBool(t, 'special', false, file, `added_tokens[${i}]`);
    config.addedTokens.push({
      content: t.content,
      id: t.id as number,
      special,
      normalized: optBool(t, 'normalized', !special, file, `added_tokens[${i}]`),
      lstrip: optBool(t, 'lstrip', false, file, `added_tokens[${i}]`),
      rstrip: optBool(t, 'rstrip', false, file, `added_tokens[${i}]`),
      singleWord: optBool(t, 'single_word', false, file, `added_tokens[${i}]`),
    });
  }
  if (json.post_processor !== null && json.post_processor !== undefined) {
    const pp = asObject(json.post_processor, '"post_processor"', file);
    if (pp.type === 'TemplateProcessing') {
      const specials = asObject(pp.special_tokens ?? {}, 'post_processor.special_tokens', file);
      const readTemplate = (key: 'single' | 'pair'): NativeTemplatePiece[] => {
        const arr = pp[key];
        if (!Array.isArray(arr)) throw new EmbedrtError('E_MODEL_FILES', `${file}: post_processor.${key} must be an array`);
        return arr.map((piece, i) => {
          const p = asObject(piece, `post_processor.${key}[${i}]`, file);
          if (p.Sequence) {
            const s = asObject(p.Sequence, `post_processor.${key}[${i}].Sequence`, file);
            return { sequence: s.id === 'B' ? 1 : 0, ids: [], tokens: [], typeId: (s.type_id as number) ?? 0 };
          }
          const st = asObject(p.SpecialToken, `post_processor.${key}[${i}].SpecialToken`, file);
          const sp = asObject(specials[st.id as string], `post_processor.special_tokens[${JSON.stringify(st.id)}]`, file);
          return {
            sequence: -1,
            ids: sp.ids as number[],
            tokens: sp.tokens as string[],
            typeId: (st.type_id as number) ?? 0,
          };
        });
      };
      config.single = readTemplate('single');
      config.pair = readTemplate('pair');
    } else if (pp.type === 'BertProcessing') {
      const [sepTok, sepId] = pp.sep as [string, number];
      const [clsTok, clsId] = pp.cls as [string, number];
      const cls = { sequence: -1, ids: [clsId], tokens: [clsTok], typeId: 0 };
      const sep = (typeId: number) => ({ sequence: -1, ids: [sepId], tokens: [sepTok], typeId });
      config.single = [cls, { sequence: 0, ids: [], tokens: [], typeId: 0 }, sep(0)];
      config.pair = [cls, { sequence: 0, ids: [], tokens: [], typeId: 0 }, sep(0), { sequence: 1, ids: [], tokens: [], typeId: 1 }, sep(1)];
    } else {
      unsupported(file, 'post_processor', pp.type, 'TemplateProcessing, BertProcessing');
    }
  } else {
    config.single = [{ sequence: 0, ids: [], tokens: [], typeId: 0 }];
    config.pair = [{ sequence: 0, ids: [], tokens: [], typeId: 0 }, { sequence: 1, ids: [], tokens: [], typeId: 1 }];
  }

  if (json.decoder !== null && json.decoder !== undefined) {
    const d = asObject(json.decoder, '"decoder"', file);
    if (d.type !== 'WordPiece') unsupported(file, 'decoder', d.type, 'WordPiece');
    config.wordpieceDecoder = true;
    config.decoderPrefix = typeof d.prefix === 'string' ? d.prefix : '##';
    config.decoderCleanup = optBool(d, 'cleanup', true, file, 'decoder');
  }

  let maxLength = 0;
  if (json.truncation !== null && json.truncation !== undefined) {
    const t = asObject(json.truncation, '"truncation"', file);
    if ((t.strategy ?? 'LongestFirst') !== 'LongestFirst' || (t.direction ?? 'Right') !== 'Right' || (t.stride ?? 0) !== 0) {
      throw new EmbedrtError('E_UNSUPPORTED', `${file}: only LongestFirst truncation from the right without stride is supported`);
    }
    maxLength = t.max_length as number;
  }
  if (json.padding !== null && json.padding !== undefined) {
    const p = asObject(json.padding, '"padding"', file);
    if (isInteger(p.pad_id)) config.padId = p.pad_id as number;
    if (isInteger(p.pad_type_id)) config.padTypeId = p.pad_type_id as number;
    if (typeof p.pad_token === 'string') config.padToken = p.pad_token;
  } else {
    const pad = config.addedTokens.find((a) => a.content === '[PAD]');
    if (pad) config.padId = pad.id;
  }
  return { config, maxLength };
}

// vocab.txt + tokenizer_config.json (+ special_tokens_map.json): what transformers' BertTokenizerFast
// builds from them.
function configFromVocabTxt(dir: string): { config: NativeTokenizerConfig; maxLength: number } {
  const vocabFile = path.join(dir, 'vocab.txt');
  const vocab = fs.readFileSync(vocabFile, 'utf8').split('\n');
  if (vocab.length > 0 && vocab[vocab.length - 1] === '') vocab.pop();
  for (let i = 0; i < vocab.length; i++) vocab[i] = vocab[i]!.replace(/\r$/, '');
  const cfgFile = path.join(dir, 'tokenizer_config.json');
  const cfg = fs.existsSync(cfgFile) ? asObject(readJsonFile(cfgFile, 'a tokenizer_config.json'), 'the top level', cfgFile) : {};
  const mapFile = path.join(dir, 'special_tokens_map.json');
  const map = fs.existsSync(mapFile) ? asObject(readJsonFile(mapFile, 'a special_tokens_map.json'), 'the top level', mapFile) : {};
  const special = (key: string, dflt: string): string => {
    const v = map[key] ?? cfg[key];
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object' && typeof (v as Json).content === 'string') return (v as Json).content as string;
    return dflt;
  };
  const index = new Map<string, number>();
  vocab.forEach((t, i) => {
    if (!index.has(t)) index.set(t, i);
  });
  const lower = cfg.do_lower_case === undefined ? true : cfg.do_lower_case === true;
  const names = ['pad_token', 'unk_token', 'cls_token', 'sep_token', 'mask_token'] as const;
  const defaults = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const tokens = names.map((n, i) => special(n, defaults[i]!));
  const ids = tokens.map((t) => {
    const id = index.get(t);
    if (id === undefined) throw new EmbedrtError('E_MODEL_FILES', `${vocabFile}: special token ${JSON.stringify(t)} is not in the vocabulary`);
    return id;
  });
  const [pad, unk, cls, sep, mask] = tokens as [string, string, string, string, string];
  const [padId, unkId, clsId, sepId, maskId] = ids as [number, number, number, number, number];
  const addedTokens = ([[pad, padId], [unk, unkId], [cls, clsId], [sep, sepId], [mask, maskId]] as [string, number][])
    .sort((a, b) => a[1] - b[1])
    .map(([content, id]) => ({ content, id, special: true, normalized: false, lstrip: false, rstrip: false, singleWord: false }));
  const seq = (s: number, typeId: number) => ({ sequence: s, ids: [], tokens: [], typeId });
  const clsP = { sequence: -1, ids: [clsId], tokens: [cls], typeId: 0 };
  const sepP = (typeId: number) => ({ sequence: -1, ids: [sepId], tokens: [sep], typeId });
  const stripAccents = cfg.strip_accents === undefined || cfg.strip_accents === null ? lower : cfg.strip_accents === true;
  return {
    config: {
      normalize: true,
      cleanText: true,
      handleChineseChars: cfg.tokenize_chinese_chars === undefined ? true : cfg.tokenize_chinese_chars === true,
      stripAccents,
      lowercase: lower,
      preTokenize: true,
      vocab,
      unkId,
      continuingSubwordPrefix: '##',
      maxInputCharsPerWord: 100,
      addedTokens,
      single: [clsP, seq(0, 0), sepP(0)],
      pair: [clsP, seq(0, 0), sepP(0), seq(1, 1), sepP(1)],
      wordpieceDecoder: true,
      decoderPrefix: '##',
      decoderCleanup: cfg.clean_up_tokenization_spaces === undefined ? true : cfg.clean_up_tokenization_spaces === true,
      padId,
      padTypeId: 0,
      padToken: pad,
    },
    maxLength: 0,
  };
}
