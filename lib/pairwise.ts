// sentence-transformers' model.similarity and model.similarity_pairwise: scores by the model's
// similarity_fn_name — cosine, dot, euclidean (negative L2 distance), manhattan (negative L1 distance).
import { EmbedrtError } from './errors.js';
import { similarity, toMatrix, type EmbeddingsLike, type Matrix, type ScoreFunction, type SimilarityMatrix } from './search.js';

/** The similarity functions a sentence-transformers config may name (similarity_fn_name). */
export type SimilarityFunction = ScoreFunction | 'manhattan';

function matrices(a: EmbeddingsLike, b: EmbeddingsLike, where: string): [Matrix, Matrix] {
  const ma = toMatrix(a, `${where}: a`);
  const mb = toMatrix(b, `${where}: b`);
  if (ma.dim !== mb.dim) throw new EmbedrtError('E_BAD_INPUT', `${where}: a has ${ma.dim} dimensions, b has ${mb.dim}`);
  return [ma, mb];
}

function checkFinite(m: Matrix, what: string): void {
  for (let i = 0; i < m.rows * m.dim; i++) {
    if (!Number.isFinite(m.data[i])) {
      throw new EmbedrtError('E_BAD_INPUT', `${what}[${Math.floor(i / m.dim)}][${i % m.dim}] is ${m.data[i]}; embeddings must be finite`);
    }
  }
}

/** Every row of `a` against every row of `b` by `fn` (util.cos_sim, dot_score, euclidean_sim, manhattan_sim). */
export async function similarityBy(fn: SimilarityFunction, a: EmbeddingsLike, b: EmbeddingsLike, where: string): Promise<SimilarityMatrix> {
  if (fn !== 'manhattan') return similarity(a, b, { scoreFunction: fn });
  const [ma, mb] = matrices(a, b, where);
  checkFinite(ma, `${where}: a`);
  checkFinite(mb, `${where}: b`);
  const data = new Float32Array(ma.rows * mb.rows);
  for (let i = 0; i < ma.rows; i++) {
    for (let j = 0; j < mb.rows; j++) {
      let s = 0;
      for (let k = 0; k < ma.dim; k++) s += Math.abs(ma.data[i * ma.dim + k]! - mb.data[j * mb.dim + k]!);
      data[i * mb.rows + j] = -s;
    }
  }
  return { data, rows: ma.rows, cols: mb.rows };
}

/** Row i of `a` against row i of `b` by `fn` (util.pairwise_cos_sim, pairwise_dot_score, …); float64 sums. */
export function pairwiseBy(fn: SimilarityFunction, a: EmbeddingsLike, b: EmbeddingsLike, where: string): Float32Array {
  const [ma, mb] = matrices(a, b, where);
  if (ma.rows !== mb.rows) throw new EmbedrtError('E_BAD_INPUT', `${where}: a has ${ma.rows} rows, b has ${mb.rows}; pairwise scores need as many of each`);
  checkFinite(ma, `${where}: a`);
  checkFinite(mb, `${where}: b`);
  const d = ma.dim;
  const out = new Float32Array(ma.rows);
  for (let i = 0; i < ma.rows; i++) {
    let ab = 0, aa = 0, bb = 0, l1 = 0, l2 = 0;
    for (let k = 0; k < d; k++) {
      const x = ma.data[i * d + k]!;
      const y = mb.data[i * d + k]!;
      ab += x * y;
      aa += x * x;
      bb += y * y;
      l1 += Math.abs(x - y);
      l2 += (x - y) * (x - y);
    }
    // cos: as torch's F.normalize (each vector divided by max(‖v‖, 1e-12)), then the dot product.
    out[i] = fn === 'cosine' ? ab / (Math.max(Math.sqrt(aa), 1e-12) * Math.max(Math.sqrt(bb), 1e-12)) : fn === 'dot' ? ab : fn === 'euclidean' ? -Math.sqrt(l2) : -l1;
  }
  return out;
}
