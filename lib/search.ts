// Similarity, semantic search and quantization of embeddings, with sentence-transformers' semantics,
// computed by SIMD kernels on the native pool (never on the JS thread).
import { EmbedrtError, rethrowNative } from './errors.js';
import { native, type NativeHits, type NativeSearch } from './native.js';
import { describe, isCount, isInteger, optionsOf, ownKey, type OptionKeys } from './validate.js';

/** 'cosine' (util.cos_sim), 'dot' (util.dot_score) or 'euclidean' (negative L2 distance). */
export type ScoreFunction = 'cosine' | 'dot' | 'euclidean';

/** A row-major float32 matrix: an encode result, or any { data, rows, dim }. */
export interface Matrix {
  data: Float32Array;
  rows: number;
  dim: number;
}

/** Anything that holds embeddings: a Matrix (or encode result), or an array of vectors. */
export type EmbeddingsLike = Matrix | readonly (Float32Array | readonly number[])[];

export interface SearchHit {
  corpusId: number;
  score: number;
}

export type Precision = 'int8' | 'uint8' | 'binary' | 'ubinary';

/** Quantized embeddings: one byte per dimension (int8/uint8) or one bit (binary/ubinary, 8 per byte). */
export interface QuantizedEmbeddings {
  precision: Precision;
  data: Int8Array | Uint8Array;
  rows: number;
  /** Bytes per row. */
  width: number;
  /** Float dimensions the rows came from. */
  dim: number;
}

const SCORES: Record<ScoreFunction, number> = { cosine: 0, dot: 1, euclidean: 2 };
const PRECISIONS: Record<Precision, number> = { int8: 0, uint8: 1, binary: 2, ubinary: 3 };

const api = native;

/** Checks and flattens embeddings without copying a Matrix; NaN or Infinity anywhere is an error. */
export function toMatrix(e: EmbeddingsLike, what: string): Matrix {
  let m: Matrix;
  if (Array.isArray(e)) {
    if (e.length === 0) throw new EmbedrtError('E_BAD_INPUT', `${what}: is empty`);
    const first: unknown = e[0];
    if (!isVector(first)) throw new EmbedrtError('E_BAD_INPUT', `${what}[0]: expected a Float32Array or an array of numbers, got ${describe(first)}`);
    const dim = first.length;
    const data = new Float32Array(e.length * dim);
    // A plain loop: forEach would skip the holes of a sparse array.
    for (let i = 0; i < e.length; i++) {
      const v: unknown = e[i];
      if (!isVector(v)) throw new EmbedrtError('E_BAD_INPUT', `${what}[${i}]: expected a Float32Array or an array of numbers, got ${describe(v)}`);
      if (v.length !== dim) throw new EmbedrtError('E_BAD_INPUT', `${what}[${i}] has ${v.length} dimensions, ${what}[0] has ${dim}`);
      if (!(v instanceof Float32Array)) {
        for (let j = 0; j < dim; j++) {
          if (typeof v[j] !== 'number') throw new EmbedrtError('E_BAD_INPUT', `${what}[${i}][${j}]: expected a number, got ${describe(v[j])}`);
        }
      }
      data.set(v, i * dim);
    }
    m = { data, rows: e.length, dim };
  } else {
    const mm = e as Partial<Matrix> | null | undefined;
    if (mm === null || typeof mm !== 'object' || !(mm.data instanceof Float32Array) || !isCount(mm.rows) || !isCount(mm.dim)) {
      throw new EmbedrtError('E_BAD_INPUT', `${what}: expected { data: Float32Array, rows, dim } with non-negative integer rows and dim (an encode result) or an array of vectors, got ${describe(e)}`);
    }
    const size = mm.rows * mm.dim;
    if (!Number.isSafeInteger(size) || mm.data.length < size) {
      throw new EmbedrtError('E_BAD_INPUT', `${what}: data holds ${mm.data.length} values, rows × dim is ${size}`);
    }
    m = { data: mm.data.length === size ? mm.data : mm.data.subarray(0, size), rows: mm.rows, dim: mm.dim };
  }
  if (m.rows === 0 || m.dim === 0) throw new EmbedrtError('E_BAD_INPUT', `${what}: is empty (${m.rows} × ${m.dim})`);
  // NaN and ±Infinity are found by the native call that receives the matrix (on its worker thread).
  return m;
}

function isVector(v: unknown): v is Float32Array | readonly number[] {
  return v instanceof Float32Array || Array.isArray(v);
}

/** Checks quantized embeddings: a known precision, the typed array it comes in, and a consistent shape. */
function checkQuantized(q: QuantizedEmbeddings, what: string): void {
  if (q === null || typeof q !== 'object') throw new EmbedrtError('E_BAD_INPUT', `${what}: expected quantizeEmbeddings' result, got ${describe(q)}`);
  if (!ownKey(PRECISIONS, q.precision)) {
    throw new EmbedrtError('E_BAD_INPUT', `${what}: precision must be 'int8', 'uint8', 'binary' or 'ubinary', got ${describe(q.precision)}`);
  }
  const signed = q.precision === 'int8' || q.precision === 'binary';
  if (!(signed ? q.data instanceof Int8Array : q.data instanceof Uint8Array)) {
    throw new EmbedrtError('E_BAD_INPUT', `${what}: ${q.precision} data must be ${signed ? 'an Int8Array' : 'a Uint8Array'}, got ${describe(q.data)}`);
  }
  if (!isCount(q.rows) || q.rows === 0 || !isCount(q.width) || q.width === 0 || !isCount(q.dim)) {
    throw new EmbedrtError('E_BAD_INPUT', `${what}: rows, width and dim must be positive integers, got ${describe(q.rows)}, ${describe(q.width)}, ${describe(q.dim)}`);
  }
  const binary = q.precision === 'binary' || q.precision === 'ubinary';
  if (q.width !== (binary ? Math.ceil(q.dim / 8) : q.dim)) {
    throw new EmbedrtError('E_BAD_INPUT', `${what}: ${q.width} bytes per row do not hold ${q.dim} ${q.precision} dimensions`);
  }
  const size = q.rows * q.width;
  if (!Number.isSafeInteger(size) || q.data.length < size) {
    throw new EmbedrtError('E_BAD_INPUT', `${what}: data holds ${q.data.length} bytes, rows × width is ${size}`);
  }
}

function scoreOf(s: unknown, where: string): number {
  if (!ownKey(SCORES, s)) throw new EmbedrtError('E_BAD_INPUT', `${where}: scoreFunction must be 'cosine', 'dot' or 'euclidean', got ${describe(s)}`);
  return SCORES[s as ScoreFunction];
}

function sameDim(a: { dim: number }, b: { dim: number }, where: string) {
  if (a.dim !== b.dim) throw new EmbedrtError('E_BAD_INPUT', `${where}: queries have ${a.dim} dimensions, the corpus ${b.dim}`);
}

function hitsOf(h: NativeHits): SearchHit[][] {
  const out: SearchHit[][] = [];
  let o = 0;
  for (const n of h.counts) {
    const row: SearchHit[] = [];
    for (let i = 0; i < n; i++, o++) row.push({ corpusId: h.ids[o]!, score: h.scores[o]! });
    out.push(row);
  }
  return out;
}

/** A similarity matrix, rows × cols float32, row-major. */
export interface SimilarityMatrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

/**
 * Pairwise scores of every row of `a` with every row of `b` (util.cos_sim / dot_score).
 *
 * @example
 * const m = await similarity(queries, docs); // cosine
 * m.data[i * m.cols + j];
 */
export interface SimilarityOptions {
  scoreFunction?: ScoreFunction;
}
export interface SemanticSearchOptions {
  topK?: number;
  scoreFunction?: ScoreFunction;
  queryChunkSize?: number;
  corpusChunkSize?: number;
}
export interface QuantizeOptions {
  ranges?: Float32Array | readonly (readonly number[])[];
  calibration?: EmbeddingsLike;
}
export interface QuantizedSearchOptions {
  topK?: number;
  /** Rescoring: the quantized search finds topK × multiplier candidates, float32 embeddings rank them. */
  rescore?: { queries: EmbeddingsLike; corpus: EmbeddingsLike; multiplier?: number; scoreFunction?: ScoreFunction };
}
export interface ParaphraseMiningOptions {
  topK?: number;
  maxPairs?: number;
  scoreFunction?: ScoreFunction;
}
const SIMILARITY_KEYS: OptionKeys<SimilarityOptions> = { scoreFunction: true };
const SEARCH_KEYS: OptionKeys<SemanticSearchOptions> = { topK: true, scoreFunction: true, queryChunkSize: true, corpusChunkSize: true };
const QUANTIZE_KEYS: OptionKeys<QuantizeOptions> = { ranges: true, calibration: true };
const QUANTIZED_SEARCH_KEYS: OptionKeys<QuantizedSearchOptions> = { topK: true, rescore: true };
const RESCORE_KEYS: OptionKeys<NonNullable<QuantizedSearchOptions['rescore']>> = { queries: true, corpus: true, multiplier: true, scoreFunction: true };
const PARAPHRASE_KEYS: OptionKeys<ParaphraseMiningOptions> = { topK: true, maxPairs: true, scoreFunction: true };

export async function similarity(a: EmbeddingsLike, b: EmbeddingsLike, options?: SimilarityOptions): Promise<SimilarityMatrix> {
  const opts = optionsOf(options, 'similarity', SIMILARITY_KEYS);
  const ma = toMatrix(a, 'similarity: a');
  const mb = toMatrix(b, 'similarity: b');
  sameDim(ma, mb, 'similarity');
  const score = scoreOf(opts.scoreFunction ?? 'cosine', 'similarity');
  const callerStack = new Error();
  try {
    const data = await api().similarity(ma.data, ma.rows, mb.data, mb.rows, ma.dim, score, 'similarity: a', 'similarity: b');
    return { data, rows: ma.rows, cols: mb.rows };
  } catch (e) {
    rethrowNative(e, callerStack);
  }
}

/**
 * For each query, the topK corpus entries by score, best first — util.semantic_search. Equal scores
 * are ordered by the lower corpus id (torch.topk leaves that order unspecified). queryChunkSize and
 * corpusChunkSize are accepted for compatibility; they do not change results.
 */
export async function semanticSearch(
  queries: EmbeddingsLike,
  corpus: EmbeddingsLike,
  options?: SemanticSearchOptions,
): Promise<SearchHit[][]> {
  const opts = optionsOf(options, 'semanticSearch', SEARCH_KEYS);
  return search(queries, corpus, opts, 'semanticSearch', ['semanticSearch: queries', 'semanticSearch: corpus']);
}

/** semanticSearch as `where` calls it: its errors name `where` and the arguments as `labels` say. */
async function search(
  queries: EmbeddingsLike,
  corpus: EmbeddingsLike,
  opts: SemanticSearchOptions,
  where: string,
  labels: [string, string],
): Promise<SearchHit[][]> {
  const q = toMatrix(queries, labels[0]);
  const c = toMatrix(corpus, labels[1]);
  sameDim(q, c, where);
  const topK = opts.topK ?? 10;
  if (!isCount(topK) || topK === 0) throw new EmbedrtError('E_BAD_INPUT', `${where}: topK must be a positive integer, got ${String(opts.topK)}`);
  for (const k of ['queryChunkSize', 'corpusChunkSize'] as const) {
    const v = opts[k];
    if (v !== undefined && (!isInteger(v) || v <= 0)) throw new EmbedrtError('E_BAD_INPUT', `${where}: ${k} must be a positive integer, got ${String(v)}`);
  }
  const score = scoreOf(opts.scoreFunction ?? 'cosine', where);
  const callerStack = new Error();
  try {
    return hitsOf(await api().semanticSearch(q.data, q.rows, c.data, c.rows, q.dim, topK, score, labels[0], labels[1]));
  } catch (e) {
    rethrowNative(e, callerStack);
  }
}

/**
 * quantize_embeddings: 'int8' / 'uint8' map each dimension's [min, max] (from `ranges`, else
 * `calibration`, else the embeddings themselves) onto 256 buckets; 'binary' / 'ubinary' keep the sign
 * bit (> 0), 8 dimensions per byte, most significant first, a last byte that is not full padded with
 * zero bits, as np.packbits does ('binary' shifted by -128 into int8).
 * Values outside the ranges wrap around modulo 256, as numpy's cast does.
 */
export async function quantizeEmbeddings(
  embeddings: EmbeddingsLike,
  precision: Precision,
  options?: QuantizeOptions,
): Promise<QuantizedEmbeddings> {
  const opts = optionsOf(options, 'quantizeEmbeddings', QUANTIZE_KEYS);
  const m = toMatrix(embeddings, 'quantizeEmbeddings: embeddings');
  if (!ownKey(PRECISIONS, precision)) throw new EmbedrtError('E_BAD_INPUT', `quantizeEmbeddings: precision must be 'int8', 'uint8', 'binary' or 'ubinary', got ${describe(precision)}`);
  const p = PRECISIONS[precision];
  let ranges: Float32Array | null = null;
  let calibration: Matrix | null = null;
  if (precision === 'int8' || precision === 'uint8') {
    if (opts.ranges !== undefined) {
      const r: unknown = opts.ranges;
      if (r instanceof Float32Array) ranges = r;
      else if (Array.isArray(r) && r.length === 2 && r.every((row) => Array.isArray(row) && row.every((v) => typeof v === 'number'))) {
        ranges = Float32Array.from([...(r[0] as number[]), ...(r[1] as number[])]);
      } else {
        throw new EmbedrtError('E_BAD_INPUT', `quantizeEmbeddings: ranges must be a Float32Array or [min row, max row], got ${describe(r)}`);
      }
      if (ranges.length !== 2 * m.dim) throw new EmbedrtError('E_BAD_INPUT', `quantizeEmbeddings: ranges must be 2 × ${m.dim} (min row, max row), got ${ranges.length} values`);
    } else {
      if (opts.calibration !== undefined) {
        calibration = toMatrix(opts.calibration, 'quantizeEmbeddings: calibration');
        sameDim(m, calibration, 'quantizeEmbeddings (calibration)');
      }
      // Without ranges, each dimension's min and max are taken natively from `calibration` (else the embeddings).
    }
  }
  const callerStack = new Error();
  try {
    const bytes = await api().quantize(m.data, m.rows, m.dim, p, ranges, calibration?.data ?? null, calibration?.rows ?? 0,
      'quantizeEmbeddings: embeddings', 'quantizeEmbeddings: calibration');
    const signed = precision === 'int8' || precision === 'binary';
    const data = signed ? new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length) : bytes;
    return { precision, data, rows: m.rows, width: bytes.length / m.rows, dim: m.dim };
  } catch (e) {
    rethrowNative(e, callerStack);
  }
}

/**
 * Exact top-k over quantized embeddings: int8/uint8 score by integer dot product (uint8 through the
 * signed path after -128 is applied to both sides), binary/ubinary by negative Hamming distance. With
 * `rescore`, the best topK × multiplier candidates are re-scored with the float embeddings.
 */
export async function semanticSearchQuantized(
  queries: QuantizedEmbeddings,
  corpus: QuantizedEmbeddings,
  options?: QuantizedSearchOptions,
): Promise<SearchHit[][]> {
  const opts = optionsOf(options, 'semanticSearchQuantized', QUANTIZED_SEARCH_KEYS);
  if (opts.rescore !== undefined && (opts.rescore === null || typeof opts.rescore !== 'object')) {
    throw new EmbedrtError('E_BAD_INPUT', `semanticSearchQuantized: rescore must be { queries, corpus, multiplier?, scoreFunction? }, got ${describe(opts.rescore)}`);
  }
  if (opts.rescore !== undefined) optionsOf(opts.rescore, 'semanticSearchQuantized', RESCORE_KEYS, 'options.rescore');
  checkQuantized(queries, 'semanticSearchQuantized: queries');
  checkQuantized(corpus, 'semanticSearchQuantized: corpus');
  if (queries.precision !== corpus.precision) {
    throw new EmbedrtError('E_BAD_INPUT', `semanticSearchQuantized: queries are ${queries.precision}, the corpus ${corpus.precision}`);
  }
  if (queries.width !== corpus.width) throw new EmbedrtError('E_BAD_INPUT', `semanticSearchQuantized: queries have ${queries.width} bytes per row, the corpus ${corpus.width}`);
  if (queries.rows === 0 || corpus.rows === 0) throw new EmbedrtError('E_BAD_INPUT', 'semanticSearchQuantized: empty queries or corpus');
  const topK = opts.topK ?? 10;
  if (!isCount(topK) || topK === 0) throw new EmbedrtError('E_BAD_INPUT', `semanticSearchQuantized: topK must be a positive integer, got ${String(opts.topK)}`);
  const kind = queries.precision === 'int8' ? 0 : queries.precision === 'uint8' ? 1 : 2;
  const multiplier = opts.rescore?.multiplier ?? 4;
  if (!isInteger(multiplier) || multiplier < 1 || !Number.isSafeInteger(topK * multiplier)) {
    throw new EmbedrtError('E_BAD_INPUT', `semanticSearchQuantized: rescore.multiplier must be a positive integer, got ${describe(multiplier)}`);
  }
  const k = opts.rescore ? topK * multiplier : topK;
  let rescore: Parameters<NativeSearch['searchQuantized']>[7] = null;
  if (opts.rescore) {
    const fq = toMatrix(opts.rescore.queries, 'semanticSearchQuantized: rescore.queries');
    const fc = toMatrix(opts.rescore.corpus, 'semanticSearchQuantized: rescore.corpus');
    sameDim(fq, fc, 'semanticSearchQuantized (rescore)');
    if (fq.rows !== queries.rows || fc.rows !== corpus.rows) {
      throw new EmbedrtError('E_BAD_INPUT', `semanticSearchQuantized: rescore has ${fq.rows} queries and ${fc.rows} corpus rows; the quantized sets have ${queries.rows} and ${corpus.rows}`);
    }
    rescore = { queries: fq.data, corpus: fc.data, dim: fq.dim, topK, score: scoreOf(opts.rescore.scoreFunction ?? 'cosine', 'semanticSearchQuantized') };
  }
  // The candidates, and their float scores with rescore, in one native job off the JS thread.
  const callerStack = new Error();
  try {
    return hitsOf(await api().searchQuantized(queries.data, queries.rows, corpus.data, corpus.rows, queries.width, k, kind, rescore));
  } catch (e) {
    rethrowNative(e, callerStack);
  }
}

/** The SIMD path the kernels use ('avx512', 'avx2', 'neon' or 'scalar'). */
export function simdPath(): string {
  return api().simdPath();
}

/** Forces a SIMD path (tests, benchmarks); false when this CPU cannot run it. */
export function setSimdPath(path: 'avx512' | 'avx2' | 'neon' | 'scalar'): boolean {
  return api().setSimdPath(path);
}

function pair(a: Float32Array, b: Float32Array, where: string): void {
  if (!(a instanceof Float32Array) || !(b instanceof Float32Array)) throw new EmbedrtError('E_BAD_INPUT', `${where}: expected two Float32Arrays`);
  if (a.length !== b.length || a.length === 0) throw new EmbedrtError('E_BAD_INPUT', `${where}: lengths ${a.length} and ${b.length} differ or are 0`);
}

/** Cosine similarity of one pair, synchronously (SIMD kernel; for many pairs use similarity()). */
export function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  pair(a, b, 'cosineSimilarity');
  return api().cosine(a, b);
}

/** Dot product of one pair, synchronously. */
export function dotProduct(a: Float32Array, b: Float32Array): number {
  pair(a, b, 'dotProduct');
  return api().dot(a, b);
}

/** One pair found by {@link paraphraseMining}: i < j. */
export interface ParaphrasePair {
  score: number;
  i: number;
  j: number;
}

/**
 * The most similar pairs among a set of embeddings — util.paraphrase_mining_embeddings: each row's
 * topK nearest other rows, the best maxPairs − 1 candidates kept as
 * sentence-transformers' priority queue keeps them, duplicates (j, i) removed, best first (equal
 * scores: lower i, then lower j).
 */
export async function paraphraseMining(
  embeddings: EmbeddingsLike,
  options?: ParaphraseMiningOptions,
): Promise<ParaphrasePair[]> {
  const opts = optionsOf(options, 'paraphraseMining', PARAPHRASE_KEYS);
  const topK = opts.topK ?? 100;
  const maxPairs = opts.maxPairs ?? 500000;
  if (!isCount(topK) || topK === 0) throw new EmbedrtError('E_BAD_INPUT', `paraphraseMining: topK must be a positive integer, got ${String(opts.topK)}`);
  if (!isInteger(maxPairs) || maxPairs <= 1) throw new EmbedrtError('E_BAD_INPUT', `paraphraseMining: maxPairs must be an integer > 1, got ${String(opts.maxPairs)}`);
  const m = toMatrix(embeddings, 'paraphraseMining: embeddings');
  // topK other rows: one more, as every row is its own best match.
  const label = 'paraphraseMining: embeddings';
  const hits = await search(m, m, { topK: topK + 1, scoreFunction: opts.scoreFunction ?? 'cosine' }, 'paraphraseMining', [label, label]);
  const candidates: ParaphrasePair[] = [];
  hits.forEach((row, i) => {
    for (const h of row) if (h.corpusId !== i) candidates.push({ score: h.score, i, j: h.corpusId });
  });
  const byScore = (a: ParaphrasePair, b: ParaphrasePair) => b.score - a.score || a.i - b.i || a.j - b.j;
  candidates.sort(byScore);
  const kept = candidates.length >= maxPairs ? candidates.slice(0, maxPairs - 1) : candidates;
  const seen = new Set<number>();
  const out: ParaphrasePair[] = [];
  for (const c of kept) {
    const i = Math.min(c.i, c.j), j = Math.max(c.i, c.j);
    const key = i * m.rows + j;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ score: c.score, i, j });
  }
  return out.sort(byScore);
}
