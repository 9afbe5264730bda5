#!/usr/bin/env node
// Soak: several worker threads hammer embedrt with a mix of load / encode / search / abort / dispose
// and hostile calls, while the main thread terminates workers at random and starts new ones. Every
// interval it prints and records throughput, RSS and error counts by code; at the end it says whether
// anything crashed, whether RSS stayed flat and whether any error code was unexpected for its call.
//
//   npm run soak -- --minutes 30 [--workers 3] [--interval 10] [--out bench/results/soak-<date>.json]
//
// Needs the compiled package (npm install builds dist/).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { bgeDir } from '../scripts/data-paths.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist', 'index.js');

// What each operation may answer besides success: anything else is "unexpected".
const EXPECTED = {
  load: [],
  encode: [],
  encodeAbort: ['E_ABORTED'],
  encodeDispose: ['E_DISPOSED'],
  tokenize: [],
  search: [],
  quantized: [],
  hostile: ['E_BAD_INPUT'],
};

if (isMainThread) await main();
else await work();

async function main() {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '30' },
      workers: { type: 'string', default: '3' },
      interval: { type: 'string', default: '10' },
      out: { type: 'string' },
    },
  });
  const minutes = Number(values.minutes);
  const workers = Number(values.workers);
  const interval = Number(values.interval) * 1000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedrt-soak-'));
  const { generateTestModel } = await import(dist);
  const model = path.join(dir, 'model');
  // A small BERT (4 layers, hidden 128) with the flagship's tokenizer: loads take a fraction of a
  // second, so loads and disposes are frequent.
  generateTestModel(model, {
    shape: { hidden_size: 128, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 512 },
    pooling: 'cls',
    normalize: true,
    tokenizerDir: bgeDir,
  });
  const cache = path.join(dir, 'cache');
  const totals = { ops: {}, errors: {}, unexpected: {}, terminated: 0, started: 0, workerErrors: 0 };
  const window = { ops: 0 };
  const pool = new Set();
  const start = () => {
    const w = new Worker(fileURLToPath(import.meta.url), { workerData: { dist, model, cache, seed: totals.started + 1 } });
    totals.started++;
    w.on('message', (m) => {
      for (const [k, v] of Object.entries(m.ops)) totals.ops[k] = (totals.ops[k] ?? 0) + v;
      for (const [k, v] of Object.entries(m.errors)) totals.errors[k] = (totals.errors[k] ?? 0) + v;
      for (const [k, v] of Object.entries(m.unexpected)) totals.unexpected[k] = (totals.unexpected[k] ?? 0) + v;
      window.ops += Object.values(m.ops).reduce((a, b) => a + b, 0);
    });
    w.on('error', (e) => {
      totals.workerErrors++;
      console.error(`worker error: ${e?.stack ?? e}`);
    });
    pool.add(w);
    w.once('exit', () => pool.delete(w));
  };
  for (let i = 0; i < workers; i++) start();
  const samples = [];
  const t0 = Date.now();
  const end = t0 + minutes * 60_000;
  let lastTick = t0;
  console.log('  time   ops/s    rss MB  workers  terminated  errors by code');
  while (Date.now() < end) {
    // Terminate a random worker now and then (often mid-call), and keep the pool full.
    await new Promise((r) => setTimeout(r, 250 + Math.random() * 1500));
    if (Math.random() < 0.12 && pool.size > 0) {
      const victim = [...pool][Math.floor(Math.random() * pool.size)];
      totals.terminated++;
      await victim.terminate();
    }
    while (pool.size < workers) start();
    if (Date.now() - lastTick >= interval) {
      const now = Date.now();
      const s = {
        seconds: Math.round((now - t0) / 1000),
        opsPerSecond: window.ops / ((now - lastTick) / 1000),
        rssMB: process.memoryUsage().rss / 1e6,
        terminated: totals.terminated,
        errors: { ...totals.errors },
      };
      samples.push(s);
      window.ops = 0;
      lastTick = now;
      console.log(`${String(s.seconds).padStart(6)}s ${s.opsPerSecond.toFixed(1).padStart(7)} ${s.rssMB.toFixed(0).padStart(9)} ${String(pool.size).padStart(8)} ${String(s.terminated).padStart(11)}  ${JSON.stringify(s.errors)}`);
    }
  }
  await Promise.all([...pool].map((w) => w.terminate()));
  const rss = samples.map((s) => s.rssMB);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const third = Math.max(1, Math.floor(rss.length / 3));
  const summary = {
    minutes,
    workers,
    samples: samples.length,
    rssFirstThirdMedianMB: median(rss.slice(0, third)),
    rssLastThirdMedianMB: median(rss.slice(-third)),
    rssMaxMB: Math.max(...rss),
    totals,
    crashed: false,
    unexpectedCodes: Object.keys(totals.unexpected).length,
  };
  const out = values.out ?? path.join(root, 'bench', 'results', `soak-${new Date().toISOString().slice(0, 16).replace(/[:]/g, '')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ summary, samples }, null, 2));
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify(summary, null, 2));
  console.log(`written to ${path.relative(process.cwd(), out)}`);
  process.exitCode = totals.workerErrors || summary.unexpectedCodes ? 1 : 0;
}

async function work() {
  const m = await import(workerData.dist);
  let x = workerData.seed * 2654435761;
  const rnd = () => ((x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const words = ['revenue', 'grew', 'operating', 'income', 'fiscal', 'quarter', 'loss', 'per', 'share', 'cash', 'flow', 'segment', 'NVIDIA', 'débit', '收入', '📈'];
  const text = () => Array.from({ length: 1 + Math.floor(rnd() * rnd() * 300) }, () => pick(words)).join(' ');
  const stats = { ops: {}, errors: {}, unexpected: {} };
  const count = (t, k) => (t[k] = (t[k] ?? 0) + 1);
  setInterval(() => {
    parentPort.postMessage(stats);
    stats.ops = {};
    stats.errors = {};
    stats.unexpected = {};
  }, 1000).unref();
  let model = await m.SentenceTransformer.load(workerData.model, { cacheDir: workerData.cache });
  const corpus = await model.encode(Array.from({ length: 500 }, text), { normalize: true });
  const ops = {
    async load() {
      model.dispose();
      model = await m.SentenceTransformer.load(workerData.model, { cacheDir: workerData.cache });
    },
    async encode() {
      await model.encode(Array.from({ length: 1 + Math.floor(rnd() * 64) }, text), { normalize: rnd() < 0.5, truncateDim: pick([64, 128]) });
    },
    async encodeAbort() {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), rnd() * 20);
      await model.encode(Array.from({ length: 64 }, text), { signal: ac.signal });
    },
    async encodeDispose() {
      const mm = await m.SentenceTransformer.load(workerData.model, { cacheDir: workerData.cache });
      const p = mm.encode(Array.from({ length: 32 }, text));
      if (rnd() < 0.5) mm.dispose();
      try {
        await p;
      } finally {
        mm.dispose();
      }
      await mm.encode('after dispose');
    },
    async tokenize() {
      await model.tokenizer.encodeBatch(Array.from({ length: 256 }, text), { padding: 'longest' });
    },
    async search() {
      const q = await model.encode(Array.from({ length: 1 + Math.floor(rnd() * 40) }, text), { normalize: true });
      await m.semanticSearch(q, corpus, { topK: 10 });
      await m.similarity(q, { data: corpus.data.subarray(0, 500 * corpus.dim), rows: 500, dim: corpus.dim });
    },
    async quantized() {
      const qc = await m.quantizeEmbeddings(corpus, pick(['int8', 'binary']));
      const qq = await m.quantizeEmbeddings({ data: corpus.data.subarray(0, 8 * corpus.dim), rows: 8, dim: corpus.dim }, qc.precision);
      await m.semanticSearchQuantized(qq, qc, { topK: 5 });
    },
    async hostile() {
      const calls = [
        () => model.encode([null]),
        () => model.encode('x', { batchSize: -1 }),
        () => m.similarity({ data: new Float32Array(4), rows: -2, dim: -2 }, corpus),
        () => m.semanticSearchQuantized({ precision: 'int8', data: new Int8Array(8), rows: 1e6, width: 8, dim: 8 }, { precision: 'int8', data: new Int8Array(8), rows: 1, width: 8, dim: 8 }),
        () => model.encode('x', { promptName: 'constructor' }),
        () => model.tokenizer.decode([-1]),
      ];
      await pick(calls)();
    },
  };
  const weights = [['encode', 30], ['search', 15], ['tokenize', 10], ['encodeAbort', 10], ['quantized', 8], ['hostile', 15], ['encodeDispose', 6], ['load', 6]];
  const total = weights.reduce((a, [, w]) => a + w, 0);
  for (;;) {
    let r = rnd() * total;
    const [name] = weights.find(([, w]) => (r -= w) < 0) ?? weights[0];
    count(stats.ops, name);
    try {
      await ops[name]();
    } catch (e) {
      const code = e?.code ?? `uncoded:${e?.name}`;
      count(stats.errors, code);
      if (!EXPECTED[name].includes(code)) {
        count(stats.unexpected, `${name}:${code}`);
        console.error(`unexpected ${name}: ${e?.stack ?? e}`);
      }
    }
  }
}
