// The pieces of tokenizer.json parsing that every model kind shares (lib/tokenizer-config.ts for the
// file and WordPiece, lib/tokenizer-unigram.ts for SentencePiece's Unigram): the native config's types
// and the field checks that name what is wrong.
import { EmbedrtError } from './errors.js';
import { isInteger } from './validate.js';

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
  /** RobertaProcessing's trim_offsets and add_prefix_space (offsets of tokens with spaces in them). */
  trimOffsets: boolean;
  trimAddPrefixSpace: boolean;
  /** Unigram instead of WordPiece: a score per vocabulary entry, SentencePiece's normalizer steps. */
  unigram: boolean;
  scores: number[];
  spNormalizer: NativeSpNormalizerStep[];
  /** The Metaspace pre-tokenizer: spaces to the replacement, one prepended (unless "never"), split before each. */
  metaspace: boolean;
  metaspaceReplacement: string;
  metaspacePrepend: boolean;
  metaspaceSplit: boolean;
  wordpieceDecoder: boolean;
  decoderPrefix: string;
  decoderCleanup: boolean;
  metaspaceDecoder: boolean;
  metaspaceDecoderReplacement: string;
  metaspaceDecoderPrepend: boolean;
  padId: number;
  padTypeId: number;
  padToken: string;
}

/**
 * What crosses into the addon: the config with its vocabulary as one string and each token's length
 * in UTF-16 code units (one crossing instead of one per token; a worker thread posts it in one piece).
 */
export type PackedTokenizerConfig = Omit<NativeTokenizerConfig, 'vocab' | 'scores'> & { vocabText: string; vocabLengths: Uint32Array; scores: Float64Array };

export function packConfig(config: NativeTokenizerConfig): PackedTokenizerConfig {
  const { vocab, scores, ...rest } = config;
  return { ...rest, vocabText: vocab.join(''), vocabLengths: Uint32Array.from(vocab, (t) => t.length), scores: Float64Array.from(scores) };
}

/** One step of a SentencePiece normalizer Sequence (native/core/sentencepiece.h). */
export type NativeSpNormalizerStep =
  | { kind: 'precompiled'; charsmap: Uint8Array }
  | { kind: 'strip'; left: boolean; right: boolean }
  /** A literal pattern, or (minRepeat > 0) its one char repeated at least minRepeat times. */
  | { kind: 'replace'; pattern: string; minRepeat: number; content: string };

export interface NativeAddedToken {
  content: string;
  id: number;
  special: boolean;
  normalized: boolean;
  lstrip: boolean;
  rstrip: boolean;
  singleWord: boolean;
}

export interface NativeTemplatePiece {
  /** -1 for a special token, 0 for sequence A, 1 for sequence B. */
  sequence: number;
  ids: number[];
  tokens: string[];
  typeId: number;
}

export type Json = Record<string, unknown>;

export function asObject(v: unknown, where: string, file: string): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new EmbedrtError('E_MODEL_FILES', `${file}: ${where} must be an object`);
  }
  return v as Json;
}

export function optBool(o: Json, key: string, dflt: boolean, file: string, where: string): boolean {
  const v = o[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw new EmbedrtError('E_MODEL_FILES', `${file}: ${where}.${key} must be a boolean`);
  return v;
}

/** An id: a non-negative integer below 2^31 (token ids are int32 natively). */
export function idOf(v: unknown, file: string, where: string): number {
  if (!isInteger(v) || (v as number) < 0 || (v as number) > 0x7fffffff) {
    throw new EmbedrtError('E_MODEL_FILES', `${file}: ${where} must be a token id (a non-negative integer), got ${JSON.stringify(v)}`);
  }
  return v as number;
}

/** A token type id: the flat batches hold them as bytes. */
export function typeIdOf(v: unknown, file: string, where: string): number {
  if (v === undefined || v === null) return 0;
  if (!isInteger(v) || (v as number) < 0 || (v as number) > 255) {
    throw new EmbedrtError('E_MODEL_FILES', `${file}: ${where}.type_id must be an integer in [0, 255], got ${JSON.stringify(v)}`);
  }
  return v as number;
}

export function unsupported(file: string, what: string, type: unknown, supported: string): never {
  throw new EmbedrtError(
    'E_UNSUPPORTED',
    `${file}: ${what} type ${JSON.stringify(type)} is not supported; embedrt runs ${supported}`,
  );
}

/** A config with every stage off: the parsers switch on what the file has. */
export function emptyConfig(): NativeTokenizerConfig {
  return {
    normalize: false,
    cleanText: false,
    handleChineseChars: false,
    stripAccents: false,
    lowercase: false,
    preTokenize: false,
    vocab: [],
    unkId: 0,
    continuingSubwordPrefix: '##',
    maxInputCharsPerWord: 100,
    addedTokens: [],
    single: [],
    pair: [],
    trimOffsets: false,
    trimAddPrefixSpace: false,
    unigram: false,
    scores: [],
    spNormalizer: [],
    metaspace: false,
    metaspaceReplacement: '\u2581',
    metaspacePrepend: true,
    metaspaceSplit: true,
    wordpieceDecoder: false,
    decoderPrefix: '##',
    decoderCleanup: true,
    metaspaceDecoder: false,
    metaspaceDecoderReplacement: '\u2581',
    metaspaceDecoderPrepend: true,
    padId: 0,
    padTypeId: 0,
    padToken: '[PAD]',
  };
}
