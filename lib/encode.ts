// What SentenceTransformer.encode and encodeIds share: their options checked against the model, the
// native call (progress in order, abort, the caller's stack kept on errors), and the result in the
// shape the options ask for (sentence embeddings, quantized, or token embeddings).
import { EmbedrtError, rethrowNative } from './errors.js';
import { native, type NativeModelHandle } from './native.js';
import { Embeddings, TokenEmbeddings, quantizeCall, type EncodeOptions } from './embeddings.js';
import type { QuantizedEmbeddings } from './search.js';
import { describe, isCount, isInteger, ownKey, signalOf } from './validate.js';

const PRECISIONS = { float32: true, int8: true, uint8: true, binary: true, ubinary: true } as const;

/**
 * Texts per session run when the call does not say: 32 on a CPU (larger batches only pad more); 128 on a
 * GPU, whose throughput grows with the batch (scripts/gpu/cuda-check.sh measures batch 1…256).
 */
export function defaultBatchSize(provider: string): number {
  return provider === 'cpu' ? 32 : 128;
}

/** What the model's settings say about an encode. */
export interface EncodeSettings {
  /** Texts per run when the call does not say (defaultBatchSize of the session's provider). */
  batchSize: number;
  maxSeqLength: number;
  dim: number;
  pooling: number[];
  normalizeModule: boolean;
  truncateDim: number;
}

/** An encode's options, checked. */
export interface EncodeCall {
  where: string;
  batchSize: number;
  maxBatchTokens: number;
  truncateDim: number;
  normalize: boolean;
  tokenEmbeddings: boolean;
  precision: EncodeOptions['precision'];
  onProgress: EncodeOptions['onProgress'];
  signal: AbortSignal | undefined;
}

/** Checks the options both calls take (prompts are encode's own); `where` names the call in errors. */
export function encodeCall(opts: EncodeOptions, s: EncodeSettings, where: string): EncodeCall {
  if (opts.precision != null && !ownKey(PRECISIONS, opts.precision)) {
    throw new EmbedrtError('E_BAD_INPUT', `${where}: options.precision must be 'float32', 'int8', 'uint8', 'binary' or 'ubinary', got ${describe(opts.precision)}`);
  }
  if (opts.outputValue != null && opts.outputValue !== 'sentence_embedding' && opts.outputValue !== 'token_embeddings') {
    throw new EmbedrtError('E_BAD_INPUT', `${where}: options.outputValue must be 'sentence_embedding' or 'token_embeddings', got ${describe(opts.outputValue)}`);
  }
  const tokenEmbeddings = opts.outputValue === 'token_embeddings';
  if (tokenEmbeddings) {
    // sentence-transformers ignores these for token embeddings; here asking for them is a mistake said out loud.
    for (const name of ['normalize', 'truncateDim', 'precision'] as const) {
      if (opts[name] != null && opts[name] !== false && opts[name] !== 'float32') {
        throw new EmbedrtError('E_BAD_INPUT', `${where}: options.${name} applies to sentence embeddings; token embeddings (outputValue 'token_embeddings') are the transformer's rows as they are`);
      }
    }
  }
  const batchSize = opts.batchSize ?? s.batchSize;
  if (!isCount(batchSize) || batchSize < 1) throw new EmbedrtError('E_BAD_INPUT', `${where}: options.batchSize must be a positive integer, got ${describe(batchSize)}`);
  const maxBatchTokens = opts.maxBatchTokens ?? batchSize * s.maxSeqLength;
  if (!isCount(maxBatchTokens) || maxBatchTokens < s.maxSeqLength) {
    throw new EmbedrtError('E_BAD_INPUT', `${where}: options.maxBatchTokens must be an integer ≥ max_seq_length (${s.maxSeqLength}), got ${describe(maxBatchTokens)}`);
  }
  const truncateDim = tokenEmbeddings ? 0 : opts.truncateDim ?? s.truncateDim;
  if (!isInteger(truncateDim) || truncateDim < 0 || truncateDim > s.dim || (opts.truncateDim != null && truncateDim === 0)) {
    throw new EmbedrtError('E_BAD_INPUT', `${where}: options.truncateDim must be an integer in [1, ${s.dim}], got ${describe(opts.truncateDim)}`);
  }
  if (opts.normalize != null && typeof opts.normalize !== 'boolean') {
    throw new EmbedrtError('E_BAD_INPUT', `${where}: options.normalize must be a boolean, got ${describe(opts.normalize)}`);
  }
  if (opts.onProgress != null && typeof opts.onProgress !== 'function') {
    throw new EmbedrtError('E_BAD_INPUT', `${where}: options.onProgress must be a function, got ${describe(opts.onProgress)}`);
  }
  const signal = signalOf(opts.signal, where);
  return { where, batchSize, maxBatchTokens, truncateDim, normalize: opts.normalize === true, tokenEmbeddings, precision: opts.precision, onProgress: opts.onProgress ?? undefined, signal };
}

/**
 * Texts (prompt prepended, lower-cased as the model asks), text pairs (a cross-encoder's: texts[i] with
 * pairs[i]), or token ids: input i's are the next lengths[i].
 */
export type EncodeInput = { texts: string[]; pairs?: string[] } | { ids: Int32Array; lengths: Uint32Array };

/** Runs the call natively and shapes its result. */
export async function runEncode(handle: NativeModelHandle, input: EncodeInput, c: EncodeCall, s: EncodeSettings): Promise<Embeddings | QuantizedEmbeddings | TokenEmbeddings[]> {
  const total = 'texts' in input ? input.texts.length : input.lengths.length;
  const Native = native().NativeModel;
  const flag = c.signal || c.onProgress ? Native.createCancelFlag() : undefined;
  const onAbort = () => Native.cancel(flag);
  c.signal?.addEventListener('abort', onAbort, { once: true });
  // Progress reaches the caller only while the call is pending, in order, ending with (total, total)
  // before the promise settles; what the callback throws aborts the encode and rejects it.
  let settled = false;
  let reported = -1;
  let progressError: { error: unknown } | undefined;
  const report = (done: number, all: number) => {
    if (settled || progressError || done <= reported) return;
    reported = done;
    try {
      c.onProgress!(done, all);
    } catch (error) {
      progressError = { error };
      Native.cancel(flag);
    }
  };
  const options = {
    maxLength: s.maxSeqLength,
    batchSize: c.batchSize,
    maxBatchTokens: c.maxBatchTokens,
    pooling: s.pooling,
    normalizeModule: s.normalizeModule,
    truncateDim: c.truncateDim,
    normalize: c.normalize,
    tokenEmbeddings: c.tokenEmbeddings,
  };
  const progress = c.onProgress ? report : undefined;
  const callerStack = new Error();
  let r: Awaited<ReturnType<NativeModelHandle['encode']>>;
  try {
    if (!('texts' in input)) r = await handle.encodeIds(input.ids, input.lengths, options, progress, flag);
    else if (input.pairs) r = await handle.encodePairs(input.texts, input.pairs, options, progress, flag);
    else r = await handle.encode(input.texts, options, progress, flag);
    if (c.onProgress) report(total, total);
  } catch (e) {
    if (progressError) throw progressError.error;
    rethrowNative(e, callerStack);
  } finally {
    settled = true;
    c.signal?.removeEventListener('abort', onAbort);
  }
  if (progressError) throw progressError.error;
  if (c.tokenEmbeddings) {
    const { data, dim, offsets } = r;
    return Array.from(r.truncated, (t, i) => new TokenEmbeddings(data.subarray(offsets![i]! * dim, offsets![i + 1]! * dim), offsets![i + 1]! - offsets![i]!, dim, t === 1));
  }
  const truncated: number[] = [];
  r.truncated.forEach((t, i) => t && truncated.push(i));
  const emb = new Embeddings(r.data, r.rows, r.dim, truncated, { real: r.tokens, padded: r.paddedTokens });
  return c.precision == null || c.precision === 'float32' ? emb : quantizeCall(emb, c.precision);
}

/**
 * Token ids as encodeIds takes them — arrays (or typed arrays) of integers, one per input — checked
 * and flattened: each input non-empty, at most `maxLength` ids, every id in [0, vocabSize).
 */
export function idsOf(ids: unknown, where: string, vocabSize: number, maxLength: number): { ids: Int32Array; lengths: Uint32Array } {
  if (!Array.isArray(ids)) throw new EmbedrtError('E_BAD_INPUT', `${where}: ids must be an array of token id lists, got ${describe(ids)}`);
  const lengths = new Uint32Array(ids.length);
  let total = 0;
  ids.forEach((one: unknown, i) => {
    if (!Array.isArray(one) && !(ArrayBuffer.isView(one) && !(one instanceof DataView))) {
      throw new EmbedrtError('E_BAD_INPUT', `${where}: ids[${i}] must be an array of token ids, got ${describe(one)}`);
    }
    const n = (one as ArrayLike<unknown>).length;
    if (n === 0) throw new EmbedrtError('E_BAD_INPUT', `${where}: ids[${i}] is empty`);
    if (n > maxLength) throw new EmbedrtError('E_BAD_INPUT', `${where}: ids[${i}] has ${n} ids, more than max_seq_length (${maxLength}); cut it first`);
    lengths[i] = n;
    total += n;
  });
  const flat = new Int32Array(total);
  let at = 0;
  ids.forEach((one: ArrayLike<unknown>, i) => {
    for (let t = 0; t < one.length; t++) {
      const id = one[t];
      if (typeof id !== 'number' && typeof id !== 'bigint') throw new EmbedrtError('E_BAD_INPUT', `${where}: ids[${i}][${t}] must be a token id, got ${describe(id)}`);
      const v = Number(id);
      if (!Number.isInteger(v) || v < 0 || v >= vocabSize) {
        throw new EmbedrtError('E_BAD_INPUT', `${where}: ids[${i}][${t}] = ${String(id)} is not an id of the vocabulary (an integer from 0 to ${vocabSize - 1})`);
      }
      flat[at++] = v;
    }
  });
  return { ids: flat, lengths };
}
