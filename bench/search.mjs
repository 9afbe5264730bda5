#!/usr/bin/env node
// Similarity and search speed against peers measured in the same run:
//   1. per-pair cosine (768-d) against simsimd (npm), both called from JS one pair at a time;
//   2. the similarity matrix (dot, 2,000 × 20,000 × 768) in GFLOP/s against numpy's sgemm (OpenBLAS,
//      build/py-venv; OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset for this command only);
//   3. exact top-10 search of 100 queries over 100,000 × 768 against usearch's exactSearch (npm).
// Saves bench/results/search-<date>.json.   node bench/search.mjs
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const require = createRequire(import.meta.url);
const { cosineSimilarity, similarity, semanticSearch, simdPath } = await import(path.join(root, 'dist', 'index.js'));
const simsimd = require('simsimd');
const usearch = require('usearch');

function randomMatrix(rows, dim, seed) {
  let s = seed >>> 0;
  const out = new Float32Array(rows * dim);
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(fn, runs = 5) {
  await fn();
  const t = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(t);
}

const D = 768;
const results = { machine: { cpu: os.cpus()[0]?.model, threads: os.availableParallelism(), node: process.version, simd: simdPath() } };

// 1. per-pair cosine
{
  const pool = randomMatrix(1000, D, 1);
  const vecs = Array.from({ length: 1000 }, (_, i) => pool.subarray(i * D, (i + 1) * D));
  const N = 300_000;
  let sink = 0;
  const ours = await time(() => { for (let i = 0; i < N; i++) sink += cosineSimilarity(vecs[i % 1000], vecs[(i * 7 + 3) % 1000]); });
  const peer = await time(() => { for (let i = 0; i < N; i++) sink += simsimd.cosine(vecs[i % 1000], vecs[(i * 7 + 3) % 1000]); });
  results.pair = { pairs: N, embedrtNsPerPair: (ours / N) * 1e9, simsimdNsPerPair: (peer / N) * 1e9, ratio: peer / ours, sink };
}

// 2. similarity matrix vs numpy sgemm
{
  const M = 2000, N = 20000;
  const a = randomMatrix(M, D, 2), b = randomMatrix(N, D, 3);
  const flop = 2 * M * N * D;
  const ours = await time(() => similarity({ data: a, rows: M, dim: D }, { data: b, rows: N, dim: D }, { scoreFunction: 'dot' }), 3);
  const python = execFileSync(process.execPath, [path.join(root, 'scripts', 'py-env.mjs')], { encoding: 'utf8' }).trim();
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const script = `
import time, numpy as np, json
a = np.random.default_rng(2).random((${M}, ${D}), dtype=np.float32) - 0.5
b = np.random.default_rng(3).random((${N}, ${D}), dtype=np.float32) - 0.5
a @ b.T
t = []
for _ in range(3):
    t0 = time.perf_counter(); a @ b.T; t.append(time.perf_counter() - t0)
try:
    from threadpoolctl import threadpool_info
    info = threadpool_info()
except Exception:
    info = np.show_config(mode='dicts').get('Build Dependencies', {}).get('blas', {})
print(json.dumps({"seconds": sorted(t)[1], "blas": str(info)[:300]}))`;
  const np = JSON.parse(execFileSync(python, ['-c', script], { encoding: 'utf8', env }));
  results.matrix = { shape: [M, N, D], embedrtGflops: flop / ours / 1e9, numpyGflops: flop / np.seconds / 1e9, ratio: np.seconds / ours, numpyBlas: np.blas };
}

// 3. exact top-10 over 100k × 768
{
  const N = 100_000, Q = 100, K = 10;
  const corpus = randomMatrix(N, D, 4), queries = randomMatrix(Q, D, 5);
  const ours = await time(() => semanticSearch({ data: queries, rows: Q, dim: D }, { data: corpus, rows: N, dim: D }, { topK: K, scoreFunction: 'dot' }), 3);
  const peer = await time(() => usearch.exactSearch(corpus, queries, D, K, usearch.MetricKind.IP), 3);
  results.search = { corpus: N, queries: Q, topK: K, embedrtQueriesPerSecond: Q / ours, usearchQueriesPerSecond: Q / peer, ratio: peer / ours };
}

console.log(`Similarity and search — ${results.machine.cpu} × ${results.machine.threads}, SIMD ${results.machine.simd}`);
console.log(`  per-pair cosine, 768-d:   embedrt ${results.pair.embedrtNsPerPair.toFixed(0)} ns, simsimd ${results.pair.simsimdNsPerPair.toFixed(0)} ns  → ${results.pair.ratio.toFixed(2)}× simsimd (target ≥ 1)`);
console.log(`  matrix 2000×20000×768:    embedrt ${results.matrix.embedrtGflops.toFixed(1)} GFLOP/s, numpy sgemm ${results.matrix.numpyGflops.toFixed(1)} GFLOP/s  → ${(results.matrix.ratio * 100).toFixed(0)}% of numpy (target ≥ 80%)`);
console.log(`  exact top-10, 100k×768:   embedrt ${results.search.embedrtQueriesPerSecond.toFixed(1)} q/s, usearch ${results.search.usearchQueriesPerSecond.toFixed(1)} q/s  → ${results.search.ratio.toFixed(2)}× usearch (target ≥ 1)`);
const file = path.join(here, 'results', `search-${new Date().toISOString().slice(0, 10)}.json`);
fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`saved ${path.relative(root, file)}`);
