// What encode takes and returns: its options; one Float32Array of rows × dim, and views of its rows.
import { EmbedrtError } from './errors.js';
import { isInteger, type OptionKeys } from './validate.js';
import { quantizeEmbeddings, type Precision, type QuantizedEmbeddings } from './search.js';

/** Options of SentenceTransformer.encode (and, but for onProgress, of encodeStream). */
export interface EncodeOptions {
  /** Texts per ONNX Runtime run at most (default 32 on a CPU, 128 on a GPU provider). */
  batchSize?: number;
  /** Padded tokens per run at most (default batchSize × max sequence length). */
  maxBatchTokens?: number;
  /** L2-normalize the final embeddings (after truncation), as normalize_embeddings. Default false. */
  normalize?: boolean;
  /** Overrides the model's truncateDim for this call. */
  truncateDim?: number;
  /** A prompt prepended to every text. */
  prompt?: string;
  /** The name of a prompt in config_sentence_transformers.json. */
  promptName?: string;
  /** Called on the JS thread after each batch: (texts done, total). */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /**
   * 'float32' (default), or quantized as sentence-transformers' encode(precision=…) does: the call's
   * embeddings through quantizeEmbeddings, int8/uint8 ranges taken from those embeddings themselves.
   */
  precision?: 'float32' | 'int8' | 'uint8' | 'binary' | 'ubinary';
  /**
   * 'sentence_embedding' (default), or 'token_embeddings' as sentence-transformers' output_value: for each
   * text, the transformer's output row of every token its attention mask covers (special tokens and the
   * prompt's tokens included), not pooled, normalized or truncated — so `normalize`, `truncateDim` and
   * `precision` do not apply. A CLS-pooled model's first such call loads the full graph beside the
   * CLS-only one (a second session: about the weights' size again in memory).
   */
  outputValue?: 'sentence_embedding' | 'token_embeddings';
}

/** EncodeOptions' keys: an unknown option is an error (validate.ts optionsOf). */
export const ENCODE_OPTION_KEYS: OptionKeys<EncodeOptions> = {
  batchSize: true, maxBatchTokens: true, normalize: true, truncateDim: true, prompt: true, promptName: true, onProgress: true, signal: true, precision: true, outputValue: true,
};

/** rows × dim float32 values, row-major, and views of its rows. */
abstract class Rows {
  constructor(
    /** rows × dim float32 values, row-major. */
    readonly data: Float32Array,
    readonly rows: number,
    readonly dim: number,
  ) {}

  /** A view (no copy) of row i. */
  row(i: number): Float32Array {
    if (!isInteger(i) || i < 0 || i >= this.rows) {
      throw new EmbedrtError('E_BAD_INPUT', `row(${String(i)}): expected an integer in [0, ${this.rows})`);
    }
    return this.data.subarray(i * this.dim, (i + 1) * this.dim);
  }
}

/** Embeddings of an encode call: one Float32Array, rows × dim, that no copy was made of. */
export class Embeddings extends Rows {
  constructor(
    data: Float32Array,
    rows: number,
    dim: number,
    /** Indices of the texts that were cut to the model's max_seq_length. */
    readonly truncated: number[],
    /** Real tokens, and tokens the model computed including padding. */
    readonly tokens: { real: number; padded: number },
  ) {
    super(data, rows, dim);
  }
}

/**
 * One text's token embeddings (encode with outputValue 'token_embeddings'): a row per token, hidden size
 * wide. `data` is a view into the call's single buffer.
 */
export class TokenEmbeddings extends Rows {
  constructor(
    data: Float32Array,
    rows: number,
    dim: number,
    /** The text was cut to the model's max_seq_length. */
    readonly truncated: boolean,
  ) {
    super(data, rows, dim);
  }
}

/** sentence-transformers' encode(precision=…): quantize_embeddings over the call's embeddings; none: an empty result. */
export async function quantizeCall(emb: Embeddings, precision: Precision): Promise<QuantizedEmbeddings> {
  if (emb.rows === 0) {
    const width = precision === 'binary' || precision === 'ubinary' ? Math.ceil(emb.dim / 8) : emb.dim;
    return { precision, data: precision === 'int8' || precision === 'binary' ? new Int8Array(0) : new Uint8Array(0), rows: 0, width, dim: emb.dim };
  }
  return quantizeEmbeddings(emb, precision);
}

/** encode's options that quantize (sentence-transformers' precision other than float32). */
export type QuantizedEncodeOptions = EncodeOptions & { precision: Precision; outputValue?: 'sentence_embedding' | null };
/** encode's options that give float32 sentence embeddings. */
export type FloatEncodeOptions = EncodeOptions & { precision?: 'float32' | null; outputValue?: 'sentence_embedding' | null };
/** encode's options that give each text's token embeddings (sentence-transformers' output_value='token_embeddings'). */
export type TokenEncodeOptions = Omit<EncodeOptions, 'precision' | 'normalize' | 'truncateDim'> & { outputValue: 'token_embeddings' };
