#!/usr/bin/env node
// The GPU check's driver (scripts/gpu/cuda-check.sh runs it with the library path and the CUDA
// variant's addon set). For a flagship-shaped model (BERT-base, CLS pooling, generated here from a
// seed) and the real all-MiniLM-L6-v2 (float16-rounded weights, as packed), on `--device` (cuda):
//  1. the session is on that provider (info().provider), in fp32 and in fp16 (quantize: 'fp16');
//  2. where ONNX Runtime placed every node (its profile): the compute on the CUDA provider;
//  3. embeddings of 512 financial texts against the CPU's (fp32 ≥ 0.99999 cosine, fp16 ≥ 0.9999);
//  4. sentences/s at sequence length 128, batch 1 … 256, fp32 and fp16 (median of 3 rounds).
// Results: <out>/cuda-check.json (written after every step: a timeout leaves what was done) and
// <out>/cuda-check.md. Exit 1 when a check fails.
//
//   node scripts/gpu/cuda-check.mjs --root build/gpu/unpacked --out DIR [--device cuda|cpu] [--quick]
// --quick: a small model shape, 64 texts, batches 1 and 8 (the CPU rehearsal in the tests).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const flag = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const root = path.resolve(flag('--root', path.join(repo, 'build', 'gpu', 'unpacked')));
const out = path.resolve(flag('--out', path.join(repo, 'build', 'gpu', 'out')));
const device = flag('--device', 'cuda');
const quick = args.includes('--quick');
const provider = device === 'cpu' ? 'CPUExecutionProvider' : 'CUDAExecutionProvider';

const { SentenceTransformer, generateTestModel, runtimeInfo } = await import(path.join(root, 'dist', 'index.js'));
fs.mkdirSync(out, { recursive: true });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'embedrt-gpu-check-'));
const cacheDir = path.join(work, 'cache'); // the graphs built for this run
const report = { started: new Date().toISOString(), device, quick, host: os.hostname(), cpus: os.cpus().length, runtime: runtimeInfo(), models: {}, failures: [] };
const save = () => fs.writeFileSync(path.join(out, 'cuda-check.json'), `${JSON.stringify(report, null, 2)}\n`);
const log = (line) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const check = (ok, what) => {
  log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) report.failures.push(what);
};
save();

const texts = JSON.parse(fs.readFileSync(path.join(root, 'texts.json'), 'utf8')).slice(0, quick ? 64 : 512);
const flagship = path.join(work, 'flagship');
const t0 = Date.now();
generateTestModel(flagship, {
  shape: quick ? { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 256 } : 'flagship',
  pooling: 'cls',
  seed: 42,
  tokenizerDir: path.join(repo, 'test', 'fixtures', 'bge-base-en-v1.5'),
});
log(`flagship-shaped model generated in ${Date.now() - t0} ms`);
const models = { flagship, 'all-MiniLM-L6-v2': path.join(root, 'minilm') };

function cosines(a, b) {
  const cos = [];
  for (let i = 0; i < a.rows; i++) {
    const [x, y] = [a.row(i), b.row(i)];
    let d = 0;
    for (let j = 0; j < x.length; j++) d += x[j] * y[j];
    cos.push(d);
  }
  return { min: Math.min(...cos), mean: cos.reduce((s, c) => s + c, 0) / cos.length };
}

/** Nodes by the provider ONNX Runtime ran them on, from its profile (the op types of those on the CPU). */
function placements(prefix) {
  const files = fs.readdirSync(work).filter((f) => f.startsWith(path.basename(prefix)) && f.endsWith('.json'));
  const nodes = new Map();
  for (const f of files) {
    // ONNX Runtime wrote it as the session closed (dispose()).
    for (const e of JSON.parse(fs.readFileSync(path.join(work, f), 'utf8'))) {
      if (e.cat === 'Node' && e.args?.provider) nodes.set(e.name.replace(/_(kernel_time|fence_before|fence_after)$/, ''), { provider: e.args.provider, op: e.args.op_name });
    }
  }
  const byProvider = {};
  const cpuOps = {};
  for (const { provider: p, op } of nodes.values()) {
    byProvider[p] = (byProvider[p] ?? 0) + 1;
    if (p === 'CPUExecutionProvider') cpuOps[op] = (cpuOps[op] ?? 0) + 1;
  }
  return { byProvider, cpuOps };
}

/** Ids of `n` texts of exactly `seq` tokens ([CLS] … [SEP]), seeded. */
function idsOf(n, seq, vocab) {
  let s = 12345;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) % (vocab - 1000)) + 1000;
  return Array.from({ length: n }, () => Int32Array.from({ length: seq }, (_, i) => (i === 0 ? 101 : i === seq - 1 ? 102 : rand())));
}

const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];

for (const [name, dir] of Object.entries(models)) {
  const entry = (report.models[name] = {});
  const cpu = await SentenceTransformer.load(dir, { device: 'cpu', cacheDir });
  const reference = await cpu.encode(texts, { normalize: true });
  const vocab = cpu.tokenizer.vocabSize;
  cpu.dispose();
  for (const precision of ['fp32', 'fp16']) {
    const opts = { device, cacheDir, ...(precision === 'fp16' ? { quantize: 'fp16' } : {}) };
    const r = (entry[precision] = {});
    // A first session with ONNX Runtime's profiler: where each node ran.
    const prefix = path.join(work, `profile-${name}-${precision}`);
    process.env.EMBEDRT_ORT_PROFILE = prefix;
    let m = await SentenceTransformer.load(dir, opts);
    delete process.env.EMBEDRT_ORT_PROFILE;
    r.info = m.info();
    check(r.info.provider === device, `${name} ${precision}: the session runs on ${device} (info().provider ${r.info.provider}${r.info.fallbackReason ? `: ${r.info.fallbackReason}` : ''})`);
    await m.encode(texts.slice(0, 8));
    m.dispose();
    r.placements = placements(prefix);
    const onDevice = r.placements.byProvider[provider] ?? 0;
    const heavyOnCpu = ['MatMul', 'FusedMatMul', 'Gemm', 'LayerNormalization', 'SkipLayerNormalization', 'Softmax', 'Attention', 'MultiHeadAttention'].filter((op) => device !== 'cpu' && r.placements.cpuOps[op]);
    check(onDevice > 0 && heavyOnCpu.length === 0, `${name} ${precision}: ${onDevice} nodes on ${provider}; on the CPU: ${JSON.stringify(r.placements.cpuOps)}`);
    save();
    // Fidelity against the CPU's fp32.
    m = await SentenceTransformer.load(dir, opts);
    const t = Date.now();
    const emb = await m.encode(texts, { normalize: true });
    r.encodeMs = Date.now() - t;
    r.cosineToCpu = cosines(reference, emb);
    const floor = precision === 'fp32' ? 0.99999 : 0.9999;
    check(r.cosineToCpu.min >= floor, `${name} ${precision}: cosine to the CPU's fp32 min ${r.cosineToCpu.min.toFixed(7)} (≥ ${floor}), mean ${r.cosineToCpu.mean.toFixed(7)}`);
    save();
    // Throughput at sequence length 128.
    r.throughput = [];
    for (const batch of quick ? [1, 8] : [1, 2, 4, 8, 16, 32, 64, 128, 256]) {
      const n = quick ? 16 : Math.max(batch * 8, 256);
      const ids = idsOf(n, 128, vocab);
      await m.encodeIds(ids.slice(0, batch), { batchSize: batch }); // warm-up: this shape's first run
      const rates = [];
      for (let round = 0; round < 3; round++) {
        const start = process.hrtime.bigint();
        await m.encodeIds(ids, { batchSize: batch });
        rates.push(n / (Number(process.hrtime.bigint() - start) / 1e9));
      }
      r.throughput.push({ batch, sentencesPerSecond: Math.round(median(rates)), min: Math.round(Math.min(...rates)), max: Math.round(Math.max(...rates)) });
      log(`${name} ${precision} batch ${batch}: ${Math.round(median(rates))} sentences/s (${Math.round(Math.min(...rates))}–${Math.round(Math.max(...rates))})`);
      save();
    }
    m.dispose();
  }
}

report.finished = new Date().toISOString();
save();
const lines = [`# embedrt GPU check — ${report.started} on ${report.host} (device ${device}${quick ? ', quick' : ''})`, '', `ONNX Runtime ${report.runtime.ortVersion}; providers ${report.runtime.providers.join(', ')}`, ''];
lines.push('| model | precision | nodes on device | min cosine to CPU fp32 | ' + (quick ? [1, 8] : [1, 2, 4, 8, 16, 32, 64, 128, 256]).map((b) => `b=${b}`).join(' | ') + ' |');
lines.push(`|${' --- |'.repeat(quick ? 6 : 13)}`);
for (const [name, e] of Object.entries(report.models)) {
  for (const [p, r] of Object.entries(e)) {
    lines.push(`| ${name} | ${p} | ${r.placements?.byProvider?.[provider] ?? '?'} | ${r.cosineToCpu?.min?.toFixed(7) ?? '?'} | ${(r.throughput ?? []).map((t) => t.sentencesPerSecond).join(' | ')} |`);
  }
}
lines.push('', report.failures.length ? `FAILED: ${report.failures.join('; ')}` : 'All checks passed.', '');
fs.writeFileSync(path.join(out, 'cuda-check.md'), lines.join('\n'));
fs.rmSync(work, { recursive: true, force: true });
process.stdout.write(lines.join('\n'));
process.exit(report.failures.length ? 1 : 0);
