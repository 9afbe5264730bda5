// What encode takes and returns: its options; one Float32Array of rows × dim, and views of its rows.
import { EmbedrtError } from './errors.js';
import { isInteger } from './validate.js';

/** Options of SentenceTransformer.encode (and, but for onProgress, of encodeStream). */
export interface EncodeOptions {
  /** Texts per ONNX Runtime run at most (default 32). */
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
}

/** Embeddings of an encode call: one Float32Array, rows × dim, that no copy was made of. */
export class Embeddings {
  constructor(
    /** rows × dim float32 values, row-major. */
    readonly data: Float32Array,
    readonly rows: number,
    readonly dim: number,
    /** Indices of the texts that were cut to the model's max_seq_length. */
    readonly truncated: number[],
    /** Real tokens, and tokens the model computed including padding. */
    readonly tokens: { real: number; padded: number },
  ) {}

  /** A view (no copy) of embedding i. */
  row(i: number): Float32Array {
    if (!isInteger(i) || i < 0 || i >= this.rows) {
      throw new EmbedrtError('E_BAD_INPUT', `row(${String(i)}): expected an integer in [0, ${this.rows})`);
    }
    return this.data.subarray(i * this.dim, (i + 1) * this.dim);
  }
}
