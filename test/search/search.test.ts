// Similarity, search and quantization against sentence-transformers (fixtures from util.semantic_search
// and quantize_embeddings) and a float64 reference, on every SIMD path this CPU runs.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EmbedrtError,
  paraphraseMining,
  quantizeEmbeddings,
  semanticSearch,
  semanticSearchQuantized,
  setSimdPath,
  similarity,
  simdPath,
} from '../../lib/index.js';
import { repoRoot, rng } from '../helpers/data.js';

const fx = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'st', 'util.json'), 'utf8')) as {
  corpus: string;
  queries: string;
  calibration: string;
  dim: number;
  search: { score_function: 'cosine' | 'dot'; top_k: number; hits: [number, number][][] }[];
  quantize: { precision: 'int8' | 'uint8' | 'binary' | 'ubinary'; calibration: boolean; shape: number[]; data: string }[];
  /** The corpus cut to 61 dimensions: int8, and binary / ubinary with the last byte padded (np.packbits). */
  quantize_odd: { dim: number; cases: { precision: 'int8' | 'binary' | 'ubinary'; shape: number[]; data: string }[] };
  paraphrase: { rows: number; top_k: number; max_pairs: number; pairs: [number, number, number][] }[];
};
const f32 = (b64: string) => {
  const b = Buffer.from(b64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};
const dim = fx.dim;
const corpus = { data: f32(fx.corpus), rows: 0, dim };
corpus.rows = corpus.data.length / dim;
const queries = { data: f32(fx.queries), rows: 0, dim };
queries.rows = queries.data.length / dim;
const calibration = { data: f32(fx.calibration), rows: 0, dim };
calibration.rows = calibration.data.length / dim;

const best = simdPath();
const paths = (['scalar', 'avx2', 'avx512', 'neon'] as const).filter((p) => setSimdPath(p));
setSimdPath(best as 'avx512');
afterAll(() => setSimdPath(best as 'avx512'));

function refScores(a: Float32Array, m: number, b: Float32Array, n: number, d: number, kind: string): Float64Array {
  const out = new Float64Array(m * n);
  const norm = (x: Float32Array, r: number) => Math.sqrt(x.subarray(r * d, (r + 1) * d).reduce((s, v) => s + v * v, 0)) || 1e-12;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const x = a[i * d + k]!, y = b[j * d + k]!;
        s += kind === 'euclidean' ? (x - y) ** 2 : x * y;
      }
      out[i * n + j] = kind === 'euclidean' ? -Math.sqrt(s) : kind === 'cosine' ? s / (norm(a, i) * norm(b, j)) : s;
    }
  }
  return out;
}

describe.each(paths)('SIMD path %s', (p) => {
  it('similarity matrices (cosine, dot, euclidean) match a float64 reference, odd sizes included', async () => {
    expect(setSimdPath(p)).toBe(true);
    expect(simdPath()).toBe(p);
    const r = rng(77);
    // 9 rows: the row kernels; 40 rows: the GEMM (partial tiles both ways).
    for (const [d, m] of [1, 7, 16, 33, 64, 100, 768].flatMap((d): [number, number][] => [[d, 9], [d, 40]])) {
      const n = 37;
      const a = Float32Array.from({ length: m * d }, () => r() * 2 - 1);
      const b = Float32Array.from({ length: n * d }, () => r() * 2 - 1);
      for (const kind of ['cosine', 'dot', 'euclidean'] as const) {
        const got = await similarity({ data: a, rows: m, dim: d }, { data: b, rows: n, dim: d }, { scoreFunction: kind });
        const ref = refScores(a, m, b, n, d, kind);
        const tol = 1e-5 * Math.max(1, Math.sqrt(d));
        for (let i = 0; i < ref.length; i++) expect(Math.abs(got.data[i]! - ref[i]!), `${kind} d=${d} #${i}`).toBeLessThan(tol);
      }
    }
  });

  it('semantic search equals sentence-transformers util.semantic_search', async () => {
    setSimdPath(p);
    // All 25 queries: the GEMM path (24 or more rows); the first 5: the row kernels.
    const first5 = { data: queries.data.subarray(0, 5 * dim), rows: 5, dim };
    for (const [s, q] of fx.search.flatMap((s) => [[s, queries], [s, first5]] as const)) {
      const got = await semanticSearch(q, corpus, { topK: s.top_k, scoreFunction: s.score_function, queryChunkSize: 7 });
      expect(got.length).toBe(q.rows);
      got.forEach((row, qi) => {
        expect(row.map((h) => h.corpusId)).toEqual(s.hits[qi]!.map(([id]) => id));
        row.forEach((h, i) => expect(Math.abs(h.score - s.hits[qi]![i]![1])).toBeLessThan(1e-5));
      });
    }
  });

  it('int8 dot and binary Hamming search match integer references', async () => {
    setSimdPath(p);
    const r = rng(5);
    for (const d of [8, 24, 64, 200, 768]) {
      const q8 = Int8Array.from({ length: 3 * d }, () => Math.floor(r() * 256) - 128);
      const c8 = Int8Array.from({ length: 50 * d }, () => Math.floor(r() * 256) - 128);
      const hits = await semanticSearchQuantized(
        { precision: 'int8', data: q8, rows: 3, width: d, dim: d },
        { precision: 'int8', data: c8, rows: 50, width: d, dim: d },
        { topK: 50 },
      );
      expectRanking(hits, 3, 50);
      hits.forEach((row, qi) => {
        for (const h of row) {
          let s = 0;
          for (let k = 0; k < d; k++) s += q8[qi * d + k]! * c8[h.corpusId * d + k]!;
          expect(h.score).toBe(s);
        }
      });
      const w = d / 8;
      const qb = Uint8Array.from({ length: 3 * w }, () => Math.floor(r() * 256));
      const cb = Uint8Array.from({ length: 50 * w }, () => Math.floor(r() * 256));
      const bh = await semanticSearchQuantized(
        { precision: 'ubinary', data: qb, rows: 3, width: w, dim: d },
        { precision: 'ubinary', data: cb, rows: 50, width: w, dim: d },
        { topK: 50 },
      );
      expectRanking(bh, 3, 50);
      bh.forEach((row, qi) => {
        for (const h of row) {
          let s = 0;
          for (let k = 0; k < w; k++) s += [...((qb[qi * w + k]! ^ cb[h.corpusId * w + k]!) >>> 0).toString(2)].filter((c) => c === '1').length;
          expect(h.score).toBe(-s);
        }
      });
    }
  });
});

// Every query got all `corpus` rows (topK = corpus size) once each, best score first.
function expectRanking(hits: { corpusId: number; score: number }[][], queries: number, corpus: number): void {
  expect(hits.length).toBe(queries);
  for (const row of hits) {
    expect(row.map((h) => h.corpusId).sort((a, b) => a - b)).toEqual(Array.from({ length: corpus }, (_, i) => i));
    for (let i = 1; i < row.length; i++) expect(row[i]!.score).toBeLessThanOrEqual(row[i - 1]!.score);
  }
}

describe('paraphraseMining', () => {
  it('equals sentence-transformers paraphrase_mining_embeddings, max_pairs cut included', async () => {
    for (const p of fx.paraphrase) {
      const emb = { data: corpus.data.subarray(0, p.rows * dim), rows: p.rows, dim };
      const got = await paraphraseMining(emb, { topK: p.top_k, maxPairs: p.max_pairs });
      // The same pairs, best first; scores agree to float32 rounding, which may swap pairs whose
      // scores differ by less than that, so order is compared through the scores.
      const key = (i: number, j: number) => `${i},${j}`;
      expect(new Set(got.map((x) => key(x.i, x.j)))).toEqual(new Set(p.pairs.map(([, i, j]) => key(i, j))));
      got.forEach((x, k) => expect(Math.abs(x.score - p.pairs[k]![0])).toBeLessThan(1e-5));
      const st = new Map(p.pairs.map(([score, i, j]) => [key(i, j), score]));
      got.forEach((x) => expect(Math.abs(x.score - st.get(key(x.i, x.j))!)).toBeLessThan(1e-5));
    }
  });
});

describe('quantizeEmbeddings', () => {
  it('equals sentence-transformers quantize_embeddings for every precision, with and without calibration', async () => {
    for (const q of fx.quantize) {
      const got = await quantizeEmbeddings(corpus, q.precision, q.calibration ? { calibration } : {});
      expect([got.rows, got.width]).toEqual(q.shape);
      const expected = Buffer.from(q.data, 'base64');
      expect(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength).equals(expected), `${q.precision} calibration=${q.calibration}`).toBe(true);
    }
  });

  it('a dimension that is not a multiple of 8 packs as np.packbits does (the last byte padded with zero bits)', async () => {
    const { dim: d, cases } = fx.quantize_odd;
    const cut = new Float32Array(corpus.rows * d);
    for (let r = 0; r < corpus.rows; r++) cut.set(corpus.data.subarray(r * dim, r * dim + d), r * d);
    expect(cases.map((c) => c.precision)).toEqual(['int8', 'binary', 'ubinary']);
    for (const c of cases) {
      const got = await quantizeEmbeddings({ data: cut, rows: corpus.rows, dim: d }, c.precision);
      expect([got.rows, got.width, got.dim]).toEqual([...c.shape, d]);
      expect(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength).equals(Buffer.from(c.data, 'base64')), c.precision).toBe(true);
    }
    // Searched by Hamming distance, the padding bits (0 on both sides) change nothing.
    const q = await quantizeEmbeddings({ data: cut.subarray(0, 5 * d), rows: 5, dim: d }, 'ubinary');
    const all = await quantizeEmbeddings({ data: cut, rows: corpus.rows, dim: d }, 'ubinary');
    const hits = await semanticSearchQuantized(q, all, { topK: 1 });
    expect(hits.map((h) => [h[0]!.corpusId, h[0]!.score + 0])).toEqual([0, 1, 2, 3, 4].map((i) => [i, 0])); // a distance of 0 to itself
  });

  it('rescoring re-ranks the quantized candidates by their float scores', async () => {
    const exact = await semanticSearch(queries, corpus, { topK: 5 });
    for (const precision of ['int8', 'ubinary'] as const) {
      const q = await quantizeEmbeddings(queries, precision, precision === 'int8' ? { calibration: corpus } : {});
      const c = await quantizeEmbeddings(corpus, precision, precision === 'int8' ? { calibration: corpus } : {});
      // Candidates covering the whole corpus: rescoring must give exactly the float search.
      const all = await semanticSearchQuantized(q, c, { topK: 5, rescore: { queries, corpus, multiplier: corpus.rows } });
      expect(all.map((r) => r.map((h) => h.corpusId))).toEqual(exact.map((r) => r.map((h) => h.corpusId)));
      // Fewer candidates: scores are the float cosine of each returned id, best first.
      const some = await semanticSearchQuantized(q, c, { topK: 5, rescore: { queries, corpus, multiplier: 4 } });
      const sims = await similarity(queries, corpus);
      some.forEach((row, qi) => {
        row.forEach((h) => expect(Math.abs(h.score - sims.data[qi * corpus.rows + h.corpusId]!)).toBeLessThan(1e-6));
        expect(row.map((h) => h.score)).toEqual([...row.map((h) => h.score)].sort((x, y) => y - x));
      });
    }
  });
});

describe('bad inputs', () => {
  const expectCode = async (p: Promise<unknown>, re: RegExp) => {
    const e = await p.then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(EmbedrtError);
    expect((e as EmbedrtError).code).toBe('E_BAD_INPUT');
    expect((e as Error).message).toMatch(re);
  };
  it('mismatched dimensions, NaN, empty sets and topK ≤ 0 are errors that say so', async () => {
    await expectCode(semanticSearch([[1, 2]], [[1, 2, 3]]), /queries have 2 dimensions, the corpus 3/);
    await expectCode(semanticSearch([[1, NaN]], [[1, 2]]), /row 0, dimension 1 is NaN/);
    await expectCode(semanticSearch([], [[1, 2]]), /queries: is empty/);
    await expectCode(semanticSearch([[1, 2]], [[1, 2]], { topK: 0 }), /topK must be a positive integer, got 0/);
    await expectCode(similarity([[1, 2], [1]], [[1, 2]]), /a\[1\] has 1 dimensions/);
    await expectCode(similarity([[1, 2]], [[1, 2]], { scoreFunction: 'manhattan' as never }), /scoreFunction must be/);
    await expectCode(quantizeEmbeddings([[1, 2]], 'int8', { ranges: [[0], [1]] }), /ranges must be 2 × 2/);
  });

  it('finds NaN and ±Infinity anywhere in large inputs (checked on the worker) and names the argument', async () => {
    const big = (rows: number, dim: number, at: number, v: number) => {
      const data = new Float32Array(rows * dim).fill(0.5);
      data[at] = v;
      return { data, rows, dim };
    };
    const ok = { data: new Float32Array(3 * 64).fill(0.25), rows: 3, dim: 64 };
    // Past the first 64 Ki-value chunk, and in the last value.
    await expectCode(similarity(ok, big(5000, 64, 4321 * 64 + 7, NaN)), /^similarity: b: row 4321, dimension 7 is NaN$/);
    await expectCode(similarity(big(2, 64, 127, -Infinity), ok), /^similarity: a: row 1, dimension 63 is -Infinity$/);
    await expectCode(semanticSearch(ok, big(3000, 64, 3000 * 64 - 1, Infinity)), /^semanticSearch: corpus: row 2999, dimension 63 is Infinity$/);
    await expectCode(paraphraseMining(big(10, 64, 70, NaN)), /^paraphraseMining: embeddings: row 1, dimension 6 is NaN$/);
    await expectCode(quantizeEmbeddings(big(4, 64, 3, NaN), 'binary'), /^quantizeEmbeddings: embeddings: row 0, dimension 3 is NaN$/);
    await expectCode(quantizeEmbeddings(ok, 'int8', { calibration: big(9, 64, 64 * 8, Infinity) }), /^quantizeEmbeddings: calibration: row 8, dimension 0 is Infinity$/);
    const q = await quantizeEmbeddings(ok, 'int8');
    await expectCode(
      semanticSearchQuantized(q, q, { rescore: { queries: big(3, 64, 65, NaN), corpus: ok } }),
      /^semanticSearchQuantized: rescore.queries: row 1, dimension 1 is NaN$/,
    );
    await expectCode(
      semanticSearchQuantized(q, q, { rescore: { queries: big(2, 64, 0, 1), corpus: ok } }),
      /rescore has 2 queries and 3 corpus rows; the quantized sets have 3 and 3/,
    );
  });

  it('takes encode results and arrays without copying or changing them', async () => {
    const data = Float32Array.from([1, 0, 0, 1, 1, 1]);
    const before = Array.from(data);
    const m = await similarity({ data, rows: 3, dim: 2 }, { data, rows: 3, dim: 2 });
    expect(Array.from(data)).toEqual(before);
    expect(m.data[0]).toBeCloseTo(1, 6);
    expect(m.data[1]).toBeCloseTo(0, 6);
    expect(m.data[2]).toBeCloseTo(Math.SQRT1_2, 6);
  });
});
