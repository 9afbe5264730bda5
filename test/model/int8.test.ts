// 8-bit models: the graph the converter emits runs in embedrt exactly as in onnxruntime-node, stays
// within cosine 0.99 of fp32 on the real all-MiniLM-L6-v2 for every text, and keeps the IR metrics of
// the financial test split within 0.01 of fp32.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbedrtError, SentenceTransformer, evaluateIR } from '../../lib/index.js';
import { qaDataset, readQaRows } from '../../lib/irdata.js';
import { convertCheckpoint, onnxGraphFor } from '../../lib/model.js';
import { quantizeBlocksUint8, quantizeColumnsInt8 } from '../../lib/onnx/quantize.js';
import { financialQa, financialQaCsv, repoRoot, rng } from '../helpers/data.js';
import { l2normalize, makeModel, maxAbsDiff, miniLmDir, ort, ortHidden, poolReference, tempDir } from '../helpers/models.js';

let root: string;
let cache: string;
let tiny: string;

beforeAll(() => {
  root = tempDir('int8');
  cache = path.join(root, 'cache');
  tiny = makeModel(root, 'tiny', { pooling: 'mean', shape: { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 256 } });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Nodes with this op_type: NodeProto field 4 (tag 0x22), length, the name. */
const count = (graph: Buffer, op: string) => graph.toString('latin1').split(`\x22${String.fromCharCode(op.length)}${op}`).length - 1;

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

describe('weight quantization', () => {
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

describe('int8 graphs', () => {
  it('int8 and int8-fast: the ops the converter promises, smaller weights, and embedrt equal to onnxruntime-node on the same file', async () => {
    const fp32 = onnxGraphFor(tiny, { cacheDir: cache });
    for (const quantize of ['int8', 'int8-fast'] as const) {
      const graph = onnxGraphFor(tiny, { cacheDir: cache, quantize });
      expect(graph).not.toBe(fp32);
      const bytes = fs.readFileSync(graph);
      // 2 layers: QKV fused + attention output are DynamicQuantizeMatMul; the FFN layers are MatMulNBits in 'int8'.
      expect(count(bytes, 'DynamicQuantizeMatMul')).toBe(quantize === 'int8' ? 2 * 2 : 4 * 2);
      expect(count(bytes, 'MatMulNBits')).toBe(quantize === 'int8' ? 2 * 2 : 0);
      expect(count(bytes, 'MatMul')).toBe(2 * 2); // only the attention's activation × activation products stay float
      expect(count(fs.readFileSync(fp32), 'MatMul')).toBe(2 * 8);
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
    await err(SentenceTransformer.load(tiny, { cacheDir: cache, quantize: 'int4' as never }), 'E_BAD_INPUT', /quantize must be 'int8', 'int8-fast' or absent/);
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
    expect(bad.stderr).toMatch(/--quantize must be int8 or int8-fast, got int4/);
  });

  it('real all-MiniLM-L6-v2: cosine to fp32 >= 0.99 for every text; IR metrics of the financial test split within 0.01', async () => {
    const dir = miniLmDir();
    const fp32 = await SentenceTransformer.load(dir, { cacheDir: cache });
    const int8 = await SentenceTransformer.load(dir, { cacheDir: cache, quantize: 'int8' });
    const data = qaDataset(readQaRows(financialQaCsv()), 'test');
    const texts = [...Object.values(data.queries), ...Object.values(data.corpus)];
    const [a, b] = [await fp32.encode(texts, { normalize: true }), await int8.encode(texts, { normalize: true })];
    const cos = cosines(a, b);
    const worst = cos.reduce((m, c, i) => (c < cos[m]! ? i : m), 0);
    expect(cos[worst], `text ${worst}: ${texts[worst]}`).toBeGreaterThanOrEqual(0.99);
    // evaluateIR over the same embeddings, as an encoder that returns them.
    const index = new Map(texts.map((t, i) => [t, i]));
    const asEncoder = (e: typeof a) => ({
      dimension: e.dim,
      encode: async (ts: string[]) => {
        const out = new Float32Array(ts.length * e.dim);
        ts.forEach((t, i) => out.set(e.row(index.get(t)!), i * e.dim));
        return { data: out, rows: ts.length, dim: e.dim };
      },
    });
    const opts = { dims: [384, 256, 128, 64], scoreFunctions: ['cosine' as const] };
    const [rf, rq] = [await evaluateIR(data, asEncoder(a) as never, opts), await evaluateIR(data, asEncoder(b) as never, opts)];
    for (const dim of opts.dims) {
      const [mf, mq] = [rf[dim]!.cosine!, rq[dim]!.cosine!];
      for (const key of Object.keys(mf) as (keyof typeof mf)[]) {
        for (const k of Object.keys(mf[key])) {
          const [x, y] = [(mf[key] as Record<string, number>)[k]!, (mq[key] as Record<string, number>)[k]!];
          expect(Math.abs(x - y), `dim ${dim} ${key}@${k}: fp32 ${x}, int8 ${y}`).toBeLessThanOrEqual(0.01);
        }
      }
    }
    fp32.dispose();
    int8.dispose();
    // About 250 s here on two idle cores; the limit only guards against a hang (a loaded machine ran it
    // past 600 s).
  }, 1_800_000);
});
