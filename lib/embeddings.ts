// What encode returns: one Float32Array of rows × dim, and views of its rows.
import { EmbedrtError } from './errors.js';
import { isInteger } from './validate.js';

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
