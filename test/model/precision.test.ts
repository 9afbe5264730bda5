// Reduced precision. 8-bit models: the graph the converter emits runs in embedrt exactly as in
// onnxruntime-node, stays within cosine 0.99 of fp32 on the real all-MiniLM-L6-v2 for every text, and
// keeps the IR metrics of the financial test split within 0.01 of fp32; so do embedrt's own int8
// kernels (bf16's: cosine 0.9999; their graphs and arithmetic: lowp.test.ts). fp16 models (the GPU's graph):
// float16 rounding checked against its definition, the graph run by embedrt as by onnxruntime-node,
// cosine to fp32 ≥ 0.9999 for every text of the split.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbedrtError, SentenceTransformer, evaluateIR, runtimeInfo, type Embeddings } from '../../lib/index.js';
import type { Quantization } from '../../lib/onnx/encoder.js';
import { qaDataset, readQaRows } from '../../lib/irdata.js';
import { convertCheckpoint, onnxGraphFor } from '../../lib/model.js';
import { quantizeBlocksUint8, quantizeColumnsInt8, toFloat16Bits } from '../../lib/onnx/quantize.js';
import { financialQa, financialQaCsv, repoRoot, rng } from '../helpers/data.js';
import { countOps, float64Weights, l2normalize, makeModel, maxAbsDiff, meanAbsDiff, miniLmDir, ort, ortHidden, poolReference, tempDir, useKernels } from '../helpers/models.js';
import { bertForward } from '../helpers/bert-reference.js';
import { parseEncoderConfig } from '../../lib/onnx/config.js';
import { Tokenizer } from '../../lib/tokenizer.js';

let root: string;
let cache: string;
let tiny: string;

beforeAll(() => {
  root = tempDir('int8');
  cache = path.join(root, 'cache');
  tiny = makeModel(root, 'tiny', { pooling: 'mean', shape: { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 256 } });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));


function cosines(a: { rows: number; dim: number; row(i: number): Float32Array }, b: typeof a): number[] {
  return Array.from({ length: a.rows }, (_, i) => {
    const [x, y] = [a.row(i), b.row(i)];
    let d = 0;
    let nx = 0;
    let ny = 0;
    for (let j = 0; j < a.dim; j++) {
      d += x[j]! * y[j]!;
      nx += x[j]! * x[j]!;
      ny += y[j]! * y[j]!;
    }
    return d / Math.sqrt(nx * ny);
  });
}

/** The financial test split's texts, and their fp32 embeddings on the real all-MiniLM-L6-v2 (computed once, for both precisions). */
let split: Promise<{ data: ReturnType<typeof qaDataset>; texts: string[]; fp32: Embeddings }> | undefined;
function fp32Split(): NonNullable<typeof split> {
  split ??= (async () => {
    const data = qaDataset(readQaRows(financialQaCsv()), 'test');
    const texts = [...Object.values(data.queries), ...Object.values(data.corpus)];
    const model = await SentenceTransformer.load(miniLmDir(), { cacheDir: cache });
    const fp32 = await model.encode(texts, { normalize: true });
    model.dispose();
    return { data, texts, fp32 };
  })();
  return split;
}

/**
 * Embeds the split's texts (or those of its first `queries` queries: each and its relevant passage) in
 * `quantize` and checks them against fp32: the cosine for every text, and every IR metric at 384, 256,
 * 128 and 64 dimensions within `irWithin`.
 */
async function expectFidelity(o: { quantize: Quantization; queries?: number }, minCosine: number, irWithin: number): Promise<void> {
  const { data: full, texts: all, fp32 } = await fp32Split();
  // qaDataset's records (plain objects).
  const [queries, corpus, relevant] = [full.queries, full.corpus, full.relevantDocs] as [Record<string, string>, Record<string, string>, Record<string, string[]>];
  const ids = Object.keys(queries).slice(0, o.queries ?? Infinity);
  const data = o.queries === undefined ? full : {
    ...full,
    queries: Object.fromEntries(ids.map((id) => [id, queries[id]!])),
    relevantDocs: Object.fromEntries(ids.map((id) => [id, relevant[id]!])),
    corpus: Object.fromEntries(ids.flatMap((id) => relevant[id]!).map((d) => [d, corpus[d]!])),
  };
  const texts = [...Object.values(data.queries), ...Object.values(data.corpus)];
  const model = await SentenceTransformer.load(miniLmDir(), { cacheDir: cache, quantize: o.quantize });
  const b = await model.encode(texts, { normalize: true });
  model.dispose();
  const row = new Map(all.map((t, i) => [t, i]));
  const cos = texts.map((t, i) => cosines({ rows: 1, dim: b.dim, row: () => fp32.row(row.get(t)!) }, { rows: 1, dim: b.dim, row: () => b.row(i) })[0]!);
  const worst = cos.reduce((m, c, i) => (c < cos[m]! ? i : m), 0);
  expect(cos[worst], `${o.quantize}, text ${worst}: ${texts[worst]}`).toBeGreaterThanOrEqual(minCosine);
  // evaluateIR over the same embeddings, as an encoder that returns them.
  const asEncoder = (e: Embeddings, index: Map<string, number>) => ({
    dimension: e.dim,
    encode: async (ts: string[]) => {
      const out = new Float32Array(ts.length * e.dim);
      ts.forEach((t, i) => out.set(e.row(index.get(t)!), i * e.dim));
      return { data: out, rows: ts.length, dim: e.dim };
    },
  });
  const opts = { dims: [384, 256, 128, 64], scoreFunctions: ['cosine' as const] };
  const ours = new Map(texts.map((t, i) => [t, i]));
  const [rf, rq] = [await evaluateIR(data, asEncoder(fp32, row) as never, opts), await evaluateIR(data, asEncoder(b, ours) as never, opts)];
  for (const dim of opts.dims) {
    const [mf, mq] = [rf[dim]!.cosine!, rq[dim]!.cosine!];
    for (const key of Object.keys(mf) as (keyof typeof mf)[]) {
      for (const k of Object.keys(mf[key])) {
        const [x, y] = [(mf[key] as Record<string, number>)[k]!, (mq[key] as Record<string, number>)[k]!];
        expect(Math.abs(x - y), `${o.quantize}, dim ${dim} ${key}@${k}: fp32 ${x}, ${o.quantize} ${y}`).toBeLessThanOrEqual(irWithin);
      }
    }
  }
}

/** A float16's value from its bits (float64 arithmetic: the definition, independent of toFloat16Bits). */
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15));
}

describe('weight quantization', () => {
  it('float16 bits: the nearest half to every float32 value, ties to even; overflow, subnormals, zeros, NaN', () => {
    const r = rng(11);
    const values: number[] = [0, -0, 1, -1, 65504, 65519.99, 65520, -65520, 1e6, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0001, 3 * 2 ** -26, 2 ** -14, 2 ** -14 - 2 ** -25, 6.1e-5, Infinity, -Infinity, NaN, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2049, 2051];
    for (let i = 0; i < 20000; i++) values.push((r() - 0.5) * 2 ** Math.floor(r() * 60 - 40));
    for (let i = 0; i < 2000; i++) values.push(halfValue(Math.floor(r() * 0x7c00)) * (r() < 0.5 ? -1 : 1) * (1 + (r() < 0.5 ? 2 ** -11 : 0))); // exact ties
    const x = Float32Array.from(values);
    const h = toFloat16Bits(x);
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      const got = halfValue(h[i]!);
      if (Number.isNaN(v)) {
        expect(Number.isNaN(got)).toBe(true);
        continue;
      }
      expect(Object.is(Math.sign(got), Math.sign(v)) || got === 0, `${v}`).toBe(true);
      if (Math.abs(v) >= 65520) {
        expect(got, `${v}`).toBe(Math.sign(v) * Infinity); // past the largest half + half a step
        continue;
      }
      // No half lies nearer, and a tie goes to the even mantissa.
      const mag = h[i]! & 0x7fff;
      const err = Math.abs(got - v);
      for (const other of [mag - 1, mag + 1]) {
        if (other < 0 || other >= 0x7c00) continue;
        const alt = Math.abs(Math.sign(v || 1) * halfValue(other) - v);
        expect(err <= alt, `${v}: ${got} vs ${halfValue(other)}`).toBe(true);
        if (err === alt) expect(mag & 1, `${v}: tie not to even`).toBe(0);
      }
    }
  });


  it('per-column int8 and 128-blocks uint8 round-trip every weight to within half a step (float64 check)', () => {
    const r = rng(7);
    const [K, N] = [300, 17];
    const w = Float32Array.from({ length: K * N }, () => (r() - 0.5) * (r() < 0.01 ? 20 : 1));
    w.fill(0, 0, N); // an all-zero row; and an all-zero column below
    for (let k = 0; k < K; k++) w[k * N + 5] = 0;
    const { q, scale } = quantizeColumnsInt8(w, K, N);
    const b = quantizeBlocksUint8(w, K, N, 128);
    expect(b.blocks).toBe(3);
    for (let c = 0; c < N; c++) {
      let m = 0;
      for (let k = 0; k < K; k++) m = Math.max(m, Math.abs(w[k * N + c]!));
      expect(scale[c]).toBeCloseTo(m > 0 ? m / 127 : 1, 6);
      for (let k = 0; k < K; k++) {
        expect(Math.abs(q[k * N + c]!)).toBeLessThanOrEqual(127);
        expect(Math.abs(q[k * N + c]! * scale[c]! - w[k * N + c]!)).toBeLessThanOrEqual(scale[c]! / 2 + 1e-7);
        const blk = Math.floor(k / 128);
        const s = b.scales[c * b.blocks + blk]!;
        const u = b.packed[(c * b.blocks + blk) * 128 + (k % 128)]!;
        expect(Math.abs((u - 128) * s - w[k * N + c]!)).toBeLessThanOrEqual(s / 2 + 1e-7);
      }
      for (let k = K; k < b.blocks * 128; k++) expect(b.packed[(c * b.blocks + 2) * 128 + (k % 128)]).toBe(128); // padding is zero
    }
  });
});

describe('int8 graphs (ONNX Runtime\'s int8 ops: the standard file)', () => {
  useKernels('onnxruntime');
  it('int8 and int8-fast: the ops the converter promises, smaller weights, and embedrt equal to onnxruntime-node on the same file', async () => {
    const fp32 = onnxGraphFor(tiny, { cacheDir: cache });
    for (const quantize of ['int8', 'int8-fast'] as const) {
      const graph = onnxGraphFor(tiny, { cacheDir: cache, quantize });
      expect(graph).not.toBe(fp32);
      const bytes = fs.readFileSync(graph);
      // 2 layers: QKV fused + attention output are DynamicQuantizeMatMul; the FFN layers are MatMulNBits in 'int8'.
      expect(countOps(bytes, 'DynamicQuantizeMatMul')).toBe(quantize === 'int8' ? 2 * 2 : 4 * 2);
      expect(countOps(bytes, 'MatMulNBits')).toBe(quantize === 'int8' ? 2 * 2 : 0);
      expect(countOps(bytes, 'MatMul')).toBe(2 * 2); // only the attention's activation × activation products stay float
      expect(countOps(fs.readFileSync(fp32), 'MatMul')).toBe(2 * 8);
      // The 8-bit weights are its own; float tensors (embeddings, LayerNorms) point into the checkpoint.
      expect(fs.statSync(`${graph}.data`).size).toBeLessThan(fs.statSync(path.join(tiny, 'model.safetensors')).size / 2);
      expect(fs.existsSync(`${fp32}.data`)).toBe(false); // the float graph holds no weights at all
      const model = await SentenceTransformer.load(tiny, { cacheDir: cache, quantize });
      expect(model.info().graph).toBe(graph);
      const session = await ort.InferenceSession.create(graph);
      const texts = financialQa().slice(0, 6).map((r) => r.question);
      // One text per run: dynamic quantization scales each activation tensor by its own range, so a
      // text's embedding depends a little on its batch-mates (in any runtime); alone, it must be exact.
      for (const t of texts) {
        const emb = await model.encode([t]);
        const ids = Array.from(model.tokenizer.encode(t.toLowerCase()).ids); // do_lower_case
        const h = await ortHidden(session, ids);
        expect(maxAbsDiff(emb.row(0), l2normalize(poolReference(h.data, ids.length, 64, 'mean')))).toBeLessThan(1e-5); // + the Normalize module
      }
      model.dispose();
    }
  });

  it('options are checked: unknown quantization, a folder without safetensors, onnxFile outside the folder', async () => {
    const err = async (p: Promise<unknown>, code: string, re: RegExp) => {
      const e = await p.then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(EmbedrtError);
      expect((e as EmbedrtError).code).toBe(code);
      expect((e as Error).message).toMatch(re);
    };
    await err(SentenceTransformer.load(tiny, { cacheDir: cache, quantize: 'int4' as never }), 'E_BAD_INPUT', /quantize must be 'int8', 'int8-fast', 'fp16', 'bf16' or absent/);
    const onnxOnly = path.join(root, 'onnx-only');
    fs.cpSync(tiny, onnxOnly, { recursive: true });
    fs.mkdirSync(path.join(onnxOnly, 'onnx'));
    const g = onnxGraphFor(tiny, { cacheDir: cache, quantize: 'int8' });
    fs.copyFileSync(g, path.join(onnxOnly, 'onnx', 'model_quantized.onnx'));
    fs.copyFileSync(`${g}.data`, path.join(onnxOnly, 'onnx', 'model.onnx.data'));
    fs.copyFileSync(path.join(path.dirname(g), 'checkpoint.safetensors'), path.join(onnxOnly, 'onnx', 'checkpoint.safetensors')); // where its float tensors lie
    fs.rmSync(path.join(onnxOnly, 'model.safetensors'));
    await err(SentenceTransformer.load(onnxOnly, { cacheDir: cache, quantize: 'int8' }), 'E_UNSUPPORTED', /builds from model\.safetensors, which this folder lacks; run a quantized ONNX file with options\.onnxFile/);
    await err(SentenceTransformer.load(onnxOnly, { cacheDir: cache, onnxFile: '../x.onnx' }), 'E_BAD_INPUT', /onnxFile must name a \.onnx file inside the model folder/);
    await err(SentenceTransformer.load(onnxOnly, { cacheDir: cache, onnxFile: 'onnx/nope.onnx' }), 'E_MODEL_FILES', /nope\.onnx: no such file/);
    // A shipped quantized file runs as is, giving what the graph built from safetensors gives.
    const shipped = await SentenceTransformer.load(onnxOnly, { cacheDir: cache, onnxFile: 'onnx/model_quantized.onnx' });
    const built = await SentenceTransformer.load(tiny, { cacheDir: cache, quantize: 'int8' });
    const texts = ['What was the revenue?', 'Net income rose.'];
    expect(Array.from((await shipped.encode(texts)).data)).toEqual(Array.from((await built.encode(texts)).data));
    shipped.dispose();
    built.dispose();
    // A graph that returns only the CLS row cannot serve mean pooling.
    const clsDir = path.join(root, 'cls-graph');
    convertCheckpoint(tiny, clsDir, { externalData: false, clsOnly: true });
    fs.copyFileSync(path.join(clsDir, 'model.onnx'), path.join(onnxOnly, 'onnx', 'cls.onnx'));
    await err(SentenceTransformer.load(onnxOnly, { cacheDir: cache, onnxFile: 'onnx/cls.onnx' }), 'E_UNSUPPORTED', /returns only the first \(CLS\) row, but .*1_Pooling.config\.json pools over every token/);
  });

  it('embedrt convert --quantize int8 writes the graph load() builds, holding every weight itself', async () => {
    const out = path.join(root, 'converted');
    const cli = path.join(repoRoot, 'dist', 'cli.js');
    const r = spawnSync(process.execPath, [cli, 'convert', '--model', tiny, '--out', out, '--quantize', 'int8'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['model.onnx', 'model.onnx.data']); // no link to the checkpoint: it stands alone
    const g = onnxGraphFor(tiny, { cacheDir: cache, quantize: 'int8' });
    const ids = [101, 2054, 2001, 1996, 6599, 102]; // [CLS] what was the revenue [SEP]
    const [a, b] = await Promise.all([ort.InferenceSession.create(path.join(out, 'model.onnx')), ort.InferenceSession.create(g)]);
    expect(Array.from((await ortHidden(a, ids)).data)).toEqual(Array.from((await ortHidden(b, ids)).data));
    const bad = spawnSync(process.execPath, [cli, 'convert', '--model', tiny, '--out', out, '--quantize', 'int4'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--quantize must be int8, int8-fast, fp16 or bf16, got int4/);
  });

  it('real all-MiniLM-L6-v2: cosine to fp32 >= 0.99 for every text; IR metrics of the financial test split within 0.01', async () => {
    await expectFidelity({ quantize: 'int8' }, 0.99, 0.01);
    // About 250 s here on two idle cores; the limit only guards against a hang (a loaded machine ran it
    // past 600 s).
  }, 1_800_000);
});

describe("embedrt's int8 and bf16 kernels (LinearInt8, LinearBF16) on the real all-MiniLM-L6-v2", () => {
  useKernels('embedrt');
  // Every text of the split where the CPU has the kernel's instruction (VNNI; AVX-512 for bf16); elsewhere
  // the portable kernel, which gives the same bits (native/tests/linear_lowp_test.cc) at a fraction of
  // the speed, runs the first 500 queries and their passages.
  const simd = () => runtimeInfo().simd;

  it('int8: cosine to fp32 >= 0.99 for every text; IR metrics of the financial test split within 0.01', async () => {
    await expectFidelity({ quantize: 'int8', queries: simd() === 'avx512+vnni' ? undefined : 500 }, 0.99, 0.01);
  }, 1_800_000);

  it('bf16: cosine to fp32 >= 0.9999 for every text; IR metrics within 0.01', async () => {
    await expectFidelity({ quantize: 'bf16', queries: simd().startsWith('avx512') ? undefined : 500 }, 0.9999, 0.01);
  }, 1_800_000);
});

describe('fp16 graphs', () => {
  it('float16 projections: half the weights, casts around each MatMul, and embedrt equal to onnxruntime-node on the same file', async () => {
    const fp32 = onnxGraphFor(tiny, { cacheDir: cache });
    const graph = onnxGraphFor(tiny, { cacheDir: cache, quantize: 'fp16' });
    const bytes = fs.readFileSync(graph);
    // 2 layers: QKV fused, attention output, two FFN products in float16 + the attention's two float32 products.
    expect(countOps(bytes, 'MatMul')).toBe(2 * 6);
    expect(countOps(bytes, 'Cast')).toBe(2 * 4 * 2 + 1); // in and out of each float16 product; the mask's
    const projections = 2 * (4 * 64 * 64 + 2 * 64 * 256);
    // The float16 weights are its own (2 bytes each, 64-byte aligned); the rest points into the checkpoint.
    expect(fs.statSync(`${graph}.data`).size).toBeGreaterThanOrEqual(projections * 2);
    expect(fs.statSync(`${graph}.data`).size).toBeLessThan(projections * 2 + 4 * 64 * 64 * 4); // + biases
    expect(graph).not.toBe(fp32);
    const model = await SentenceTransformer.load(tiny, { cacheDir: cache, quantize: 'fp16' });
    const reference = await SentenceTransformer.load(tiny, { cacheDir: cache });
    expect(model.info().graph).toBe(graph);
    const session = await ort.InferenceSession.create(graph);
    const texts = financialQa().slice(0, 6).map((r) => r.question);
    const [emb, ref] = [await model.encode(texts), await reference.encode(texts)];
    for (const [i, t] of texts.entries()) {
      const ids = Array.from(model.tokenizer.encode(t.toLowerCase()).ids);
      const h = await ortHidden(session, ids);
      expect(maxAbsDiff(emb.row(i), l2normalize(poolReference(h.data, ids.length, 64, 'mean')))).toBeLessThan(1e-5);
      // float16's rounding shows: near fp32, not equal to it.
      const d = maxAbsDiff(emb.row(i), ref.row(i));
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThan(0.01);
    }
    model.dispose();
    reference.dispose();
    const out = path.join(root, 'converted-fp16');
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'cli.js'), 'convert', '--model', tiny, '--out', out, '--quantize', 'fp16'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const converted = await ort.InferenceSession.create(path.join(out, 'model.onnx'));
    const ids = [101, 2054, 2001, 1996, 6599, 102];
    expect(Array.from((await ortHidden(converted, ids)).data)).toEqual(Array.from((await ortHidden(session, ids)).data));
  });

  it("emulateHalf: the GPU's float16 roundings (operands, products) as float32 arithmetic, as far from float32 as a float64 BERT that rounds the same", async () => {
    const dir = makeModel(root, 'half-ref', { shape: { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64 }, seed: 9 });
    const cfg = parseEncoderConfig(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')), 'config.json');
    const get = float64Weights(dir);
    const round = (v: number) => halfValue(toFloat16Bits(Float32Array.of(v))[0]!);
    const getHalf = (name: string) => (/(query|key|value|dense)\.weight$/.test(name) ? get(name).map(round) : get(name));
    const [emulated, plain] = ['emulated', 'plain'].map((n) => convertCheckpoint(dir, path.join(root, `half-${n}`), { quantize: 'fp16', emulateHalf: n === 'emulated' }));
    const [se, sp] = await Promise.all([ort.InferenceSession.create(emulated!), ort.InferenceSession.create(plain!)]);
    const tok = Tokenizer.fromPretrained(dir);
    for (const t of financialQa().slice(0, 6).map((r) => r.context.slice(0, 300))) {
      const ids = Array.from(tok.encode(t).ids);
      const rounded = bertForward(cfg, getHalf, ids, undefined, round).flatMap((row) => Array.from(row));
      const weightsOnly = bertForward(cfg, getHalf, ids).flatMap((row) => Array.from(row));
      const [e, p] = [(await ortHidden(se, ids)).data, (await ortHidden(sp, ids)).data];
      // Mean |difference|: rounding is chaotic (one operand within float32's error of a half tie rounds
      // the other way, and the step it makes moves later roundings), so the emulation cannot equal the
      // rounded reference element for element; it must move as far from float32 as the reference does,
      // and lie nearer the rounded reference than that.
      const step = meanAbsDiff(rounded, weightsOnly);
      expect(step).toBeGreaterThan(1e-5);
      expect(Math.abs(meanAbsDiff(e, weightsOnly) / step - 1)).toBeLessThan(0.25);
      expect(meanAbsDiff(e, rounded)).toBeLessThan(step / 2);
      // ONNX Runtime on a CPU rounds the plain fp16 graph's weights, not its activations.
      expect(meanAbsDiff(p, weightsOnly)).toBeLessThan(step / 100);
    }
  });

  it("real all-MiniLM-L6-v2: cosine to fp32 >= 0.9999 for every text of the financial test split, with the GPU's roundings (emulateHalf)", async () => {
    const { texts, fp32 } = await fp32Split();
    // The model folder without its checkpoint, running the emulated graph as its onnx/model.onnx.
    const dir = path.join(root, 'minilm-half');
    fs.cpSync(miniLmDir(), dir, { recursive: true, filter: (f) => !f.endsWith('model.safetensors') });
    convertCheckpoint(miniLmDir(), path.join(dir, 'onnx'), { quantize: 'fp16', emulateHalf: true });
    const fp16 = await SentenceTransformer.load(dir, { cacheDir: cache });
    const half = await fp16.encode(texts, { normalize: true });
    fp16.dispose();
    const cos = cosines(fp32, half);
    const worst = cos.reduce((m, c, i) => (c < cos[m]! ? i : m), 0);
    expect(cos[worst], `text ${worst}: ${texts[worst]}`).toBeGreaterThanOrEqual(0.9999);
    // The roundings did happen: nearly every embedding moved (by ~1e-4; float32 noise is ~1e-7).
    const moved = texts.filter((_, i) => maxAbsDiff(fp32.row(i), half.row(i)) > 1e-6).length;
    expect(moved).toBeGreaterThan(0.9 * texts.length);
    // (The plain fp16 graph on this CPU rounds only the weights: test 'float16 projections' above.)
  }, 1_800_000);
});
