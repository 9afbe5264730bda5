// embedrt's own int8 and bfloat16 projections (com.embedrt.LinearInt8 / LinearBF16; the kernels are
// tested against float64 in native/tests/linear_lowp_test.cc): the graphs load() builds with them, an
// encoder as near a float64 BERT that rounds the same way as float32 arithmetic allows, a text's
// embedding independent of its batch-mates, and the options that refuse them. (Their fidelity on the
// real all-MiniLM-L6-v2: precision.test.ts.)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbedrtError, SentenceTransformer, setSimdPath, simdPath } from '../../lib/index.js';
import { parseEncoderConfig } from '../../lib/onnx/config.js';
import { Tokenizer } from '../../lib/tokenizer.js';
import { bertForward, type Rounding } from '../helpers/bert-reference.js';
import { financialQa, repoRoot } from '../helpers/data.js';
import { countOps, float64Weights, l2normalize, makeModel, maxAbsDiff, meanAbsDiff, poolReference, tempDir, useKernels } from '../helpers/models.js';

let root: string;
let cache: string;
let tiny: string;

beforeAll(() => {
  root = tempDir('lowp');
  cache = path.join(root, 'cache');
  tiny = makeModel(root, 'tiny', { pooling: 'mean', shape: { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 256 } });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Round half to even, in float64. */
const roundEven = (v: number) => {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** The nearest value with 8 significant bits (bfloat16's; ties to even), by its definition. */
function bf16(v: number): number {
  if (v === 0 || !Number.isFinite(v)) return v;
  const step = 2 ** (Math.floor(Math.log2(Math.abs(v))) - 7);
  return roundEven(v / step) * step;
}

/** Symmetric 8-bit quantization of one row (a token's input, or a weight's output channel), dequantized. */
function int8Row(row: Float64Array): Float64Array {
  const s = row.reduce((m, v) => Math.max(m, Math.abs(v)), 0) / 127;
  return s === 0 ? row.slice() : row.map((v) => Math.max(-127, Math.min(127, roundEven(v / s))) * s);
}

const ROUNDINGS: Record<'int8' | 'bf16', { rounding: Rounding; weight: (w: Float64Array, inDim: number) => Float64Array }> = {
  int8: {
    rounding: { input: int8Row },
    weight: (w, inDim) => {
      const out = new Float64Array(w.length);
      for (let o = 0; o < w.length / inDim; o++) out.set(int8Row(w.subarray(o * inDim, (o + 1) * inDim)), o * inDim);
      return out;
    },
  },
  bf16: { rounding: { input: (row) => row.map(bf16) }, weight: (w) => w.map(bf16) },
};

describe("embedrt's int8 and bf16 kernels", () => {
  useKernels('embedrt');

  it('graphs: every projection one LinearInt8 / LinearBF16 node on the checkpoint\'s own tensors', async () => {
    for (const quantize of ['int8', 'bf16'] as const) {
      await using model = await SentenceTransformer.load(tiny, { cacheDir: cache, quantize });
      const graph = model.info().graph;
      const bytes = fs.readFileSync(graph);
      const op = quantize === 'int8' ? 'LinearInt8' : 'LinearBF16';
      // 2 layers × (QKV fused, attention output, FFN in, FFN out); the attention's float32 products in
      // com.embedrt.Attention, one per layer; none of ONNX Runtime's int8 ops.
      expect(countOps(bytes, op)).toBe(2 * 4);
      expect(countOps(bytes, 'Attention')).toBe(2);
      expect(countOps(bytes, 'MatMul') + countOps(bytes, 'Softmax') + countOps(bytes, 'Split')).toBe(0);
      expect(countOps(bytes, 'DynamicQuantizeMatMul') + countOps(bytes, 'MatMulNBits') + countOps(bytes, 'Linear')).toBe(0);
      // The kernels quantize or round the checkpoint's float32 tensors when the session starts: the graph
      // holds no weights of its own.
      expect(fs.existsSync(`${graph}.data`)).toBe(false);
    }
  });

  it('as near a float64 BERT that quantizes (int8: per row and output channel) or rounds (bf16) the same way as float32 arithmetic allows', async () => {
    const dir = makeModel(root, 'ref', { pooling: 'mean', shape: { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128 }, seed: 21 });
    const cfg = parseEncoderConfig(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')), 'config.json');
    const get = float64Weights(dir);
    const tok = Tokenizer.fromPretrained(dir);
    const texts = financialQa().slice(0, 6).map((r) => r.context.slice(0, 300));
    const embed = (rows: Float64Array[]) => l2normalize(poolReference(rows.flatMap((r) => Array.from(r)), rows.length, cfg.hidden_size, 'mean'));
    for (const quantize of ['int8', 'bf16'] as const) {
      const { rounding, weight } = ROUNDINGS[quantize];
      // Projection weights ([out, in]) rounded; the feed-forward output's inputs are intermediate_size wide.
      const inDim = (name: string) => (/layer\.\d+\.output\.dense/.test(name) ? cfg.intermediate_size : cfg.hidden_size);
      const rounded = (name: string) => (/(query|key|value|dense)\.weight$/.test(name) ? weight(get(name), inDim(name)) : get(name));
      await using model = await SentenceTransformer.load(dir, { cacheDir: cache, quantize });
      const ours = await model.encode(texts, { normalize: true });
      texts.forEach((t, i) => {
        const ids = Array.from(tok.encode(t).ids);
        const exact = embed(bertForward(cfg, get, ids));
        const ref = embed(bertForward(cfg, rounded, ids, undefined, rounding));
        // Rounding is chaotic (a value within float32's error of a step's midpoint rounds either way, and
        // the step moves every later rounding): the kernels must move as far from float32 as the
        // reference does, and lie far nearer the reference than that.
        const step = meanAbsDiff(ref, exact);
        expect(step, `${quantize}: the reference rounds`).toBeGreaterThan(quantize === 'int8' ? 1e-4 : 1e-5);
        expect(Math.abs(meanAbsDiff(ours.row(i), exact) / step - 1), `${quantize}, text ${i}`).toBeLessThan(0.25);
        expect(meanAbsDiff(ours.row(i), ref), `${quantize}, text ${i}`).toBeLessThan(step / 4);
      });
    }
  });

  it("a text's embedding does not depend on its batch-mates (activations are quantized per row)", async () => {
    const texts = financialQa().slice(0, 10).map((r) => r.context);
    for (const quantize of ['int8', 'bf16'] as const) {
      await using model = await SentenceTransformer.load(tiny, { cacheDir: cache, quantize });
      const batched = await model.encode(texts, { batchSize: 5 });
      for (let i = 0; i < texts.length; i += 3) {
        const alone = await model.encode([texts[i]!]);
        // Padding to a batch-mate's length changes only the attention's row counts (float32 noise).
        expect(maxAbsDiff(alone.row(0), batched.row(i)), `${quantize}, text ${i}`).toBeLessThan(1e-6);
      }
    }
  });

  it('every SIMD path this CPU runs (setSimdPath: AVX-512, AVX2, scalar) gives the same bits, through the addon', async () => {
    // Each path runs its own kernels (AVX-512 VNNI / AVX512-BF16, AVX-VNNI or AVX2, plain C++); the
    // projections are every node they change, and each kernel gives the portable one's bits.
    const texts = financialQa().slice(0, 6).map((r) => r.question);
    const best = simdPath();
    const paths = (['avx512', 'avx2', 'scalar'] as const).filter((p) => setSimdPath(p));
    setSimdPath(best as 'avx512');
    expect(paths.length, 'this CPU runs more than one path').toBeGreaterThan(1);
    try {
      for (const quantize of ['int8', 'bf16'] as const) {
        await using model = await SentenceTransformer.load(tiny, { cacheDir: cache, quantize });
        const out: Float32Array[] = [];
        for (const p of paths) {
          setSimdPath(p);
          out.push((await model.encode(texts)).data.slice());
        }
        for (let i = 1; i < out.length; i++) {
          expect(Buffer.from(out[i]!.buffer).equals(Buffer.from(out[0]!.buffer)), `${quantize}: ${paths[i]} = ${paths[0]}`).toBe(true);
        }
      }
    } finally {
      setSimdPath(best as 'avx512');
    }
  });

  it('bf16 where only ONNX Runtime runs the projections, and in `embedrt convert`, is refused with a coded error', async () => {
    process.env.EMBEDRT_KERNELS = 'onnxruntime';
    const e = await SentenceTransformer.load(tiny, { cacheDir: cache, quantize: 'bf16' }).then(() => undefined, (x: unknown) => x);
    process.env.EMBEDRT_KERNELS = 'embedrt';
    expect(e).toBeInstanceOf(EmbedrtError);
    expect((e as EmbedrtError).code).toBe('E_UNSUPPORTED');
    expect((e as Error).message).toMatch(/quantize 'bf16' runs on embedrt's own CPU kernels only/);
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'cli.js'), 'convert', '--model', tiny, '--out', path.join(root, 'bf16-out'), '--quantize', 'bf16'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--quantize bf16 runs on embedrt's own kernels only; convert writes standard ONNX/);
    expect(fs.existsSync(path.join(root, 'bf16-out'))).toBe(false);
  });
});
