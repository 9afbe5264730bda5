// Information-retrieval evaluation, computing exactly what sentence-transformers'
// InformationRetrievalEvaluator computes (accuracy@k, precision@k, recall@k, NDCG@10, MRR@10, MAP@100
// per score function), for each Matryoshka dimension.
import { EmbedrtError } from './errors.js';
import { semanticSearch, type Matrix, type ScoreFunction } from './search.js';
import { describe, isInteger, optionsOf, type OptionKeys } from './validate.js';

export interface IRData {
  /** query id → text */
  queries: Record<string, string> | Map<string, string>;
  /** corpus id → text */
  corpus: Record<string, string> | Map<string, string>;
  /** query id → relevant corpus ids. Queries without any are left out, as the evaluator does. */
  relevantDocs: Record<string, Iterable<string>> | Map<string, Iterable<string>>;
}

/** What evaluateIR needs of a model: SentenceTransformer satisfies it. */
export interface Encoder {
  encode(texts: string[], opts?: { batchSize?: number; onProgress?: (done: number, total: number) => void }): Promise<Matrix>;
}

export interface IROptions {
  /** Matryoshka dimensions to evaluate (default: the model's own, then 768, 512, 256, 128, 64 below it). */
  dims?: number[];
  /** Default ['cosine', 'dot'] (the evaluator's cos_sim and dot_score). */
  scoreFunctions?: ('cosine' | 'dot')[];
  accuracyAtK?: number[];
  precisionRecallAtK?: number[];
  mrrAtK?: number[];
  ndcgAtK?: number[];
  mapAtK?: number[];
  batchSize?: number;
  /** Progress over encoding the queries and the corpus: (done, total) texts. */
  onProgress?: (done: number, total: number) => void;
}

const IR_KEYS: OptionKeys<IROptions> = {
  dims: true, scoreFunctions: true, accuracyAtK: true, precisionRecallAtK: true, mrrAtK: true, ndcgAtK: true, mapAtK: true, batchSize: true, onProgress: true,
};

/** The model's own dimension, then the model card's Matryoshka cuts below it (MiniLM: 384, 256, 128, 64). */
export function defaultDims(fullDim: number): number[] {
  return [fullDim, ...[768, 512, 256, 128, 64].filter((d) => d < fullDim)];
}

export interface IRMetrics {
  'accuracy@k': Record<number, number>;
  'precision@k': Record<number, number>;
  'recall@k': Record<number, number>;
  'ndcg@k': Record<number, number>;
  'mrr@k': Record<number, number>;
  'map@k': Record<number, number>;
}

/** dim → score function ('cosine' | 'dot') → metrics. */
export type IRResults = Record<number, Record<string, IRMetrics>>;

const entries = <V>(m: Record<string, V> | Map<string, V>): [string, V][] => (m instanceof Map ? [...m.entries()] : Object.entries(m));

/** queries and corpus: id → text; relevantDocs: query id → iterable of corpus ids (objects or Maps). */
function checkData(data: IRData): void {
  if (data === null || typeof data !== 'object') throw new EmbedrtError('E_BAD_INPUT', `evaluateIR: data must be { queries, corpus, relevantDocs }, got ${describe(data)}`);
  for (const key of ['queries', 'corpus', 'relevantDocs'] as const) {
    const v: unknown = data[key];
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw new EmbedrtError('E_BAD_INPUT', `evaluateIR: data.${key} must be an object or a Map keyed by id, got ${describe(v)}`);
    }
    for (const [id, x] of entries(v as Record<string, unknown>)) {
      const ok = key === 'relevantDocs' ? x !== null && typeof x === 'object' && Symbol.iterator in (x as object) : typeof x === 'string';
      if (!ok) throw new EmbedrtError('E_BAD_INPUT', `evaluateIR: data.${key}[${JSON.stringify(id)}] must be ${key === 'relevantDocs' ? 'an array or Set of corpus ids' : 'a string'}, got ${describe(x)}`);
    }
  }
}

function checkKs(name: string, ks: number[] | undefined, dflt: number[]): number[] {
  const v = ks ?? dflt;
  if (!Array.isArray(v) || v.length === 0 || v.some((k) => !isInteger(k) || k <= 0)) {
    throw new EmbedrtError('E_BAD_INPUT', `evaluateIR: ${name} must be a non-empty array of positive integers, got ${JSON.stringify(ks)}`);
  }
  return v;
}

function truncated(m: Matrix, dim: number): Matrix {
  if (dim === m.dim) return m;
  const data = new Float32Array(m.rows * dim);
  for (let r = 0; r < m.rows; r++) data.set(m.data.subarray(r * m.dim, r * m.dim + dim), r * dim);
  return { data, rows: m.rows, dim };
}

const dcgAtK = (relevances: number[], k: number) => {
  let dcg = 0;
  for (let i = 0; i < Math.min(relevances.length, k); i++) dcg += relevances[i]! / Math.log2(i + 2);
  return dcg;
};
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/**
 * Embeds the queries and the corpus once, then, for every dimension and score function, ranks the
 * corpus for each query (exact top-k) and computes the evaluator's metrics. Rankings break equal
 * scores by corpus order.
 *
 * @example
 * const results = await evaluateIR({ queries, corpus, relevantDocs }, model);
 * results[256].cosine['ndcg@k'][10];
 */
export async function evaluateIR(data: IRData, model: Encoder, options?: IROptions): Promise<IRResults> {
  const opts = optionsOf(options, 'evaluateIR', IR_KEYS);
  checkData(data);
  if (model === null || typeof model !== 'object' || typeof model.encode !== 'function') {
    throw new EmbedrtError('E_BAD_INPUT', `evaluateIR: model must have an encode(texts, options) method (a SentenceTransformer), got ${describe(model)}`);
  }
  if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function') {
    throw new EmbedrtError('E_BAD_INPUT', `evaluateIR: options.onProgress must be a function, got ${describe(opts.onProgress)}`);
  }
  const relevant = new Map<string, Set<string>>();
  for (const [q, docs] of entries(data.relevantDocs)) relevant.set(q, new Set(docs));
  const allQueries = entries(data.queries);
  const queries = allQueries.filter(([id]) => (relevant.get(id)?.size ?? 0) > 0);
  const corpus = entries(data.corpus);
  if (queries.length === 0) throw new EmbedrtError('E_BAD_INPUT', 'evaluateIR: no query has a relevant document');
  if (corpus.length === 0) throw new EmbedrtError('E_BAD_INPUT', 'evaluateIR: the corpus is empty');
  const accuracyAtK = checkKs('accuracyAtK', opts.accuracyAtK, [1, 3, 5, 10]);
  const precisionRecallAtK = checkKs('precisionRecallAtK', opts.precisionRecallAtK, [1, 3, 5, 10]);
  const mrrAtK = checkKs('mrrAtK', opts.mrrAtK, [10]);
  const ndcgAtK = checkKs('ndcgAtK', opts.ndcgAtK, [10]);
  const mapAtK = checkKs('mapAtK', opts.mapAtK, [100]);
  const maxK = Math.max(...accuracyAtK, ...precisionRecallAtK, ...mrrAtK, ...ndcgAtK, ...mapAtK);
  const scoreFunctions = opts.scoreFunctions ?? ['cosine', 'dot'];
  for (const s of scoreFunctions) {
    if (s !== 'cosine' && s !== 'dot') throw new EmbedrtError('E_BAD_INPUT', `evaluateIR: scoreFunctions may hold 'cosine' and 'dot', got ${JSON.stringify(s)}`);
  }

  const total = queries.length + corpus.length;
  const progress = (offset: number) => (done: number) => opts.onProgress?.(offset + done, total);
  const batchSize = opts.batchSize ?? 32;
  const qEmb = await model.encode(queries.map(([, t]) => t), { batchSize, onProgress: progress(0) });
  const cEmb = await model.encode(corpus.map(([, t]) => t), { batchSize, onProgress: progress(queries.length) });
  const fullDim = qEmb.dim;
  const dims = (opts.dims ?? defaultDims(fullDim)).map((d) => {
    if (!isInteger(d) || d <= 0 || d > fullDim) throw new EmbedrtError('E_BAD_INPUT', `evaluateIR: dims must be integers in [1, ${fullDim}], got ${d}`);
    return d;
  });
  if (dims.length === 0) throw new EmbedrtError('E_BAD_INPUT', `evaluateIR: no dimension to evaluate (the model has ${fullDim})`);

  const results: IRResults = {};
  for (const dim of dims) {
    results[dim] = {};
    const q = truncated(qEmb, dim);
    const c = truncated(cEmb, dim);
    for (const fn of scoreFunctions) {
      const hits = await semanticSearch(q, c, { topK: Math.min(maxK, c.rows), scoreFunction: fn as ScoreFunction });
      results[dim]![fn] = metrics(
        hits.map((row) => row.map((h) => corpus[h.corpusId]![0])),
        queries.map(([id]) => relevant.get(id)!),
        { accuracyAtK, precisionRecallAtK, mrrAtK, ndcgAtK, mapAtK },
      );
    }
  }
  return results;
}

/** The evaluator's compute_metrics, on ranked corpus ids per query. */
export function metrics(
  ranked: string[][],
  relevant: Set<string>[],
  ks: { accuracyAtK: number[]; precisionRecallAtK: number[]; mrrAtK: number[]; ndcgAtK: number[]; mapAtK: number[] },
): IRMetrics {
  const n = ranked.length;
  const out: IRMetrics = { 'accuracy@k': {}, 'precision@k': {}, 'recall@k': {}, 'ndcg@k': {}, 'mrr@k': {}, 'map@k': {} };
  for (const k of ks.accuracyAtK) out['accuracy@k'][k] = ranked.filter((r, i) => r.slice(0, k).some((id) => relevant[i]!.has(id))).length / n;
  for (const k of ks.precisionRecallAtK) {
    const correct = ranked.map((r, i) => r.slice(0, k).filter((id) => relevant[i]!.has(id)).length);
    out['precision@k'][k] = mean(correct.map((c) => c / k));
    out['recall@k'][k] = mean(correct.map((c, i) => c / relevant[i]!.size));
  }
  for (const k of ks.mrrAtK) {
    let sum = 0;
    ranked.forEach((r, i) => {
      const rank = r.slice(0, k).findIndex((id) => relevant[i]!.has(id));
      if (rank >= 0) sum += 1 / (rank + 1);
    });
    out['mrr@k'][k] = sum / n;
  }
  for (const k of ks.ndcgAtK) {
    out['ndcg@k'][k] = mean(
      ranked.map((r, i) => dcgAtK(r.slice(0, k).map((id) => (relevant[i]!.has(id) ? 1 : 0)), k) / dcgAtK(Array(relevant[i]!.size).fill(1), k)),
    );
  }
  for (const k of ks.mapAtK) {
    out['map@k'][k] = mean(
      ranked.map((r, i) => {
        let correct = 0;
        let sum = 0;
        r.slice(0, k).forEach((id, rank) => {
          if (relevant[i]!.has(id)) sum += ++correct / (rank + 1);
        });
        return sum / Math.min(k, relevant[i]!.size);
      }),
    );
  }
  return out;
}
