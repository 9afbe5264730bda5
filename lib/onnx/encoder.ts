// Builds a standard ONNX encoder (opset 17) of a BERT, MPNet or XLM-RoBERTa checkpoint (config.ts: the families)
// from its weights: inputs input_ids, attention_mask, and token_type_ids where the family has them
// (int64, [batch, sequence]); output last_hidden_state
// ([batch, sequence, hidden], float32; [batch, 1, hidden] with clsOnly) — or, with a classification
// head (cross-encoders), logits ([batch, labels]: the CLS row's, as transformers' and optimum's
// exports give them). Weights keep the checkpoint's
// layout ([out, in] projections, one tensor per module). With embedrtOps the fp32 projections are
// com.embedrt.Linear nodes (for embedrt's own CPU sessions only), which take them so; otherwise the
// graph is standard ONNX + com.microsoft contrib ops, and reshapes them with ONNX ops on constants
// (Concat, Transpose) that ONNX Runtime folds once when it optimizes the graph. So a float32 tensor can
// stay where it is: with `checkpoint`, the initializer points into the safetensors file (a hard link
// beside the graph) and the graph holds no second copy of the weights. Other weights (quantized,
// F16/BF16, or without a link) go to an external data file beside the graph.
import fs from 'node:fs';
import path from 'node:path';
import { EmbedrtError } from '../errors.js';
import { DataType, encodeModel } from './proto.js';
import { GraphBuilder, type SourceTensor } from './builder.js';
import { mkdirp } from '../files.js';
import { quantizeBlocksUint8, quantizeColumnsInt8, toFloat16Bits } from './quantize.js';
import { positionsAfterPadding, relativePositionBucket, type ClassifierHead, type EncoderConfig } from './config.js';

/**
 * Weight quantization of the graph builder. 'int8': with embedrtOps, every projection a
 * com.embedrt.LinearInt8 (int8 weights per output channel, activations per row and block of 128);
 * otherwise int8 dynamic quantization (DynamicQuantizeMatMul) for the attention projections, 8-bit
 * blockwise (MatMulNBits) for the feed-forward layers. 'int8-fast': all DynamicQuantizeMatMul — faster, less
 * faithful. 'fp16': the projections' weights and products in float16 (for GPUs: their tensor cores),
 * everything else in float32. 'bf16': com.embedrt.LinearBF16 projections (bfloat16 weights and
 * activations, float32 sums; embedrtOps only).
 */
export type Quantization = 'int8' | 'int8-fast' | 'fp16' | 'bf16';

/** Every Quantization, for checking options. */
export const QUANTIZATIONS: Readonly<Record<Quantization, true>> = { int8: true, 'int8-fast': true, fp16: true, bf16: true };

/** Changes whenever the quantized graphs the builder writes change; part of the graph cache key. */
export const QUANTIZATION_RULES = 'q5';
/** The same for float graphs (part of the cache key: bump when the builder's float output changes). */
export const GRAPH_RULES = 'g4';

/**
 * embedrt's own ONNX Runtime op domain (native/core/ops.h): `Linear(X, B, W_1, …, W_n) = X · Wᵀ + B`
 * (torch.nn.Linear; W the rows of W_1 … W_n, each in the checkpoint's [out, in] layout), run by embedrt's
 * streaming / packed-GEMM kernels in place of MatMul + Add; `LinearInt8` and `LinearBF16` take the same
 * inputs and compute in 8-bit integers or bfloat16 (native/core/linear_lowp.h); `Attention(QKV, mask)`
 * (attribute num_heads) is the self-attention over the fused projection's output, masked keys skipped
 * (native/core/attention.h), in place of Split … Softmax … Reshape. Only embedrt's sessions can run a
 * graph that uses them; `embedrt convert` writes standard ONNX.
 */
export const EMBEDRT_DOMAIN = 'com.embedrt';

export type { SourceTensor };
/** How one projection is computed (linearN in buildEncoderOnnx). */
type How = 'float' | 'half' | 'dynamic' | 'blockwise' | 'int8' | 'bf16';
export type WeightSource = (name: string) => SourceTensor | undefined;

/** Block size (along K) of the blockwise 8-bit layers. */
const NBITS_BLOCK = 256;

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/**
 * Writes `<outDir>/model.onnx` and `<outDir>/model.onnx.data` for a checkpoint. Tensor names may carry
 * the family's prefix (`bert.`, `mpnet.`, `roberta.`: the XForY checkpoints) or not (XModel /
 * sentence-transformers).
 * `externalData: false` keeps the weights inside model.onnx (under protobuf's 2 GB limit), for tools
 * that load a single file. `embedrtOps`: com.embedrt.Linear for the fp32 projections (EMBEDRT_DOMAIN).
 * `head`: the checkpoint's sequence-classification head on the CLS row (implies clsOnly); the output is
 * then `logits`, [batch, labels].
 * `emulateHalf` (with quantize 'fp16'): each float16 rounding of an activation written as float32
 * arithmetic, for checking on a CPU what a GPU computes. ONNX Runtime's CPU provider has no float16
 * MatMul on x86: it runs the product in float32 and drops the cast pair around it (float32 → float16 →
 * float32), so the plain fp16 graph on a CPU rounds only its weights. Emulated: Veltkamp's split keeps
 * 11 significant bits (to nearest), values past float16's range become ±infinity; float16's subnormals
 * (below 6.1e-5) keep float32's precision.
 */
export function buildEncoderOnnx(
  cfg: EncoderConfig,
  weights: WeightSource,
  outDir: string,
  source: string,
  opts: { externalData?: boolean; quantize?: Quantization; clsOnly?: boolean; embedrtOps?: boolean; checkpoint?: string; head?: ClassifierHead; emulateHalf?: boolean } = {},
): string {
  const family = cfg.model_type;
  const familyPrefix = family === 'xlm-roberta' ? 'roberta.' : `${family}.`;
  // The encoder's tensors carry the prefix in XForY checkpoints; the head's (classifier.*) never do.
  let prefix = weights(`${familyPrefix}embeddings.word_embeddings.weight`) ? familyPrefix : '';
  const clsOnly = opts.clsOnly === true || opts.head !== undefined;
  const need = (name: string, shape: number[]): SourceTensor => {
    const t = weights(prefix + name);
    if (!t) throw new EmbedrtError('E_MODEL_FILES', `${source}: missing tensor ${prefix + name}`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new EmbedrtError('E_MODEL_FILES', `${source}: tensor ${prefix + name} has shape [${t.shape}], config.json implies [${shape}]`);
    }
    return t;
  };
  /**
   * A checkpoint tensor as an initializer of the same name (checked against config.json's shape;
   * `dims`: the same values seen in another row-major shape).
   */
  const input = (name: string, shape: number[]): string => g.source(name, shape, need(name, shape));
  const H = cfg.hidden_size;
  const heads = cfg.num_attention_heads;
  const hd = H / heads;
  mkdirp(outDir);
  const modelFile = path.join(outDir, 'model.onnx');
  if (opts.checkpoint !== undefined && opts.externalData === false) throw new Error('buildEncoderOnnx: checkpoint needs externalData');
  const g = new GraphBuilder(`${modelFile}.data`, opts.externalData ?? true, opts.checkpoint);

  if (opts.quantize === 'bf16' && !opts.embedrtOps) throw new Error("buildEncoderOnnx: quantize 'bf16' needs embedrtOps (only embedrt's kernels run it)");
  // int8 on embedrt's kernels (LinearInt8), or ONNX Runtime's com.microsoft int8 ops.
  const ownInt8 = opts.quantize === 'int8' && opts.embedrtOps === true;
  // Whether the graph uses embedrt's ops (its projections' and attention's): not for int8-fast and fp16,
  // ONNX Runtime's by definition.
  const embedrtOps = opts.embedrtOps === true && (opts.quantize === undefined || ownInt8 || opts.quantize === 'bf16');
  const int8 = (opts.quantize === 'int8' || opts.quantize === 'int8-fast') && !ownInt8;
  // emulateHalf: float32 t rounded to float16's 11 significant bits (Veltkamp: σ = t·(2¹³ + 1),
  // σ − (σ − t)), ±infinity where |t| ≥ 65520 (float16's largest, 65504, plus half a step).
  const roundToHalf = (t: string): string => {
    const sigma = g.op1('Mul', [t, g.constFloat([8193], [])]);
    const rounded = g.op1('Sub', [sigma, g.op1('Sub', [sigma, t])]);
    const overflow = g.op1('GreaterOrEqual', [g.op1('Abs', [t]), g.constFloat([65520], [])]);
    return g.op1('Where', [overflow, g.op1('Mul', [t, g.constFloat([Infinity], [])]), rounded]);
  };
  // x · Wᵀ + b for one or more same-input layers. Quantized, their weights sit side by side in one
  // matrix, so the activation is quantized once and one GEMM runs; the result is split after.
  //  - 'dynamic': com.microsoft.DynamicQuantizeMatMul — int8 weights per output channel, the activation
  //    quantized to uint8 per tensor at run time: ONNX Runtime's u8s8 VNNI/AVX-512 GEMM, the fastest.
  //  - 'blockwise': com.microsoft.MatMulNBits, 8 bits, blocks of NBITS_BLOCK (256) along K, accuracy_level 4 (the
  //    activation quantized to int8 per row and block): slower, but faithful for the feed-forward
  //    layers, whose inputs (LayerNorm outputs with outlier channels, GELU outputs) per-tensor
  //    quantization handles worst. Measured on all-MiniLM-L6-v2 over 14,000 financial texts, min cosine
  //    to fp32: all dynamic 0.981 (2.7× fp32 on BERT-base); FFN outputs blockwise 0.986; + FFN inputs
  //    of the first half of the layers 0.991 (2.0×, but IR accuracy@10 at 64 dims 0.010 below fp32);
  //    all FFN layers blockwise 0.994 (1.8-1.9×): the choice, faithfulness first.
  //    (Folding LayerNorm's gamma/beta into the next weights, to tame outlier channels, made it worse.)
  //  - 'int8', 'bf16': com.embedrt.LinearInt8 / LinearBF16 on the checkpoint's tensors, as 'float'
  //    with embedrtOps (their kernels quantize or round the weights when the session creates them).
  //  - 'half': float16 weights ([in, N], transposed here) and product: the input cast to float16, the
  //    product cast back to float32 before the float32 bias. What a GPU's fp16 GEMM runs (float16
  //    operands, float32 accumulation, a float16 result); LayerNorm, softmax, the attention products
  //    and the residual sums stay float32, where float16's range and 11-bit precision would cost most.
  const project = (x: string, names: string[], inDim: number, outDim: number, how: How): string => {
    const n = names.length;
    const N = outDim * n;
    const label = n === 1 ? names[0]! : `${names[0]!.replace(/\.[^.]+$/, '')}.${names.map((m) => m.split('.').pop()).join('_')}`;
    // The layers' weights side by side and transposed ([in, N]), their biases concatenated ([N]): what
    // the float16 and 8-bit weights are computed from (the shapes checked against config.json first;
    // memory follows the file, never a number config.json claims).
    const stacked = (): { wt: Float32Array; bias: Float32Array } => {
      const wt = new Float32Array(inDim * N);
      const bias = new Float32Array(N);
      names.forEach((name, j) => {
        const t = transpose2d(need(`${name}.weight`, [outDim, inDim]).data(), outDim, inDim);
        for (let r = 0; r < inDim; r++) wt.set(t.subarray(r * outDim, (r + 1) * outDim), r * N + j * outDim);
        bias.set(need(`${name}.bias`, [outDim]).data(), j * outDim);
      });
      return { wt, bias };
    };
    let y: string;
    if (how === 'float' || how === 'int8' || how === 'bf16') {
      // The checkpoint's [out, in] tensors as they are. com.embedrt.Linear takes them so, one per fused
      // projection, and its kernel packs them for its own GEMM when the session creates it; for MatMul
      // they are concatenated along out and transposed to [in, N] by ops on constants that ONNX Runtime
      // folds once (and keeps in the optimized graph it caches).
      const cat = (ts: string[]) => (ts.length === 1 ? ts[0]! : g.op1('Concat', ts, [{ name: 'axis', i: 0 }]));
      const weights = names.map((name) => input(`${name}.weight`, [outDim, inDim]));
      const bias = cat(names.map((name) => input(`${name}.bias`, [outDim]))); // after the weights: their shapes are checked first
      if (embedrtOps) {
        const op = how === 'int8' ? 'LinearInt8' : how === 'bf16' ? 'LinearBF16' : 'Linear';
        y = g.op(op, [x, bias, ...weights], [], 1, EMBEDRT_DOMAIN)[0]!;
      } else {
        y = g.op1('Add', [g.op1('MatMul', [x, g.op1('Transpose', [cat(weights)], [{ name: 'perm', ints: [1, 0] }])]), bias]);
      }
    } else if (how === 'half') {
      const { wt, bias } = stacked();
      const h = toFloat16Bits(wt);
      const w16 = g.tensor(`${label}.weight_t_fp16`, [inDim, N], DataType.FLOAT16, new Uint8Array(h.buffer, h.byteOffset, h.byteLength));
      let product: string;
      if (opts.emulateHalf) {
        product = roundToHalf(g.op1('MatMul', [roundToHalf(x), g.op1('Cast', [w16], [{ name: 'to', i: DataType.FLOAT }])]));
      } else {
        const x16 = g.op1('Cast', [x], [{ name: 'to', i: DataType.FLOAT16 }]);
        product = g.op1('Cast', [g.op1('MatMul', [x16, w16])], [{ name: 'to', i: DataType.FLOAT }]);
      }
      y = g.op1('Add', [product, g.weight(`${label}.bias`, [N], bias)]);
    } else {
      const { wt, bias } = stacked();
      const b = g.weight(`${label}.bias`, [N], bias);
      if (how === 'dynamic') {
        // Weights as uint8 with a zero point of 128 (u8u8), not int8 (u8s8): on x86 CPUs without VNNI,
        // ONNX Runtime's u8s8 GEMM adds pairs of u8 × s8 products in 16 bits (vpmaddubsw), which
        // saturates; its u8u8 kernels widen first and are exact. Measured on all-MiniLM-L6-v2 on an AVX2
        // machine: u8s8 put IR accuracy@1 at 128 dims 0.011 below fp32, 7-bit u8s8 weights (reduce_range)
        // 0.014 below at 64 dims. One file for every CPU.
        const { q, scale } = quantizeColumnsInt8(wt, inDim, N);
        const u = Uint8Array.from(q, (v) => v + 128);
        const qw = g.tensor(`${label}.weight_t_uint8`, [inDim, N], DataType.UINT8, u);
        const zero = g.tensor(`${label}.weight_zero_point`, [N], DataType.UINT8, new Uint8Array(N).fill(128));
        y = g.op('DynamicQuantizeMatMul', [x, qw, g.weight(`${label}.weight_scale`, [N], scale), zero, b], [], 1, 'com.microsoft')[0]!;
      } else {
        const { packed, scales, blocks } = quantizeBlocksUint8(wt, inDim, N, NBITS_BLOCK);
        const pw = g.tensor(`${label}.weight_q8_blocks`, [N, blocks, NBITS_BLOCK], DataType.UINT8, packed);
        const attrs = [
          { name: 'K', i: inDim },
          { name: 'N', i: N },
          { name: 'bits', i: 8 },
          { name: 'block_size', i: NBITS_BLOCK },
          { name: 'accuracy_level', i: 4 },
        ];
        y = g.op('MatMulNBits', [x, pw, g.weight(`${label}.weight_scales`, [N * blocks], scales), '', '', b], attrs, 1, 'com.microsoft')[0]!;
      }
    }
    return y;
  };
  // The layers' outputs, each its own tensor.
  const linearN = (x: string, names: string[], inDim: number, outDim: number, how: How): string[] => {
    const y = project(x, names, inDim, outDim, how);
    return names.length === 1 ? [y] : g.op('Split', [y, g.constInt64(Array(names.length).fill(outDim))], [{ name: 'axis', i: -1 }], names.length);
  };
  // 'int8': embedrt's LinearInt8 everywhere, or (ONNX Runtime's ops) attention projections dynamic,
  // feed-forward layers blockwise. 'int8-fast': all dynamic. 'fp16': all half. 'bf16': all LinearBF16.
  const howMost: How = ownInt8 ? 'int8' : int8 ? 'dynamic' : opts.quantize === 'fp16' ? 'half' : opts.quantize === 'bf16' ? 'bf16' : 'float';
  const howFfn: How = opts.quantize === 'int8' && !ownInt8 ? 'blockwise' : howMost;
  // Query, key and value as one product (one matrix, split after): quantized, so the activation is
  // quantized (or cast) once; with com.embedrt.Linear, one pass over the input and one task split
  // instead of three; on a GPU, one larger GEMM.
  const fuseQkv = opts.quantize !== undefined || opts.embedrtOps === true;
  const linear = (x: string, name: string, inDim: number, outDim: number, how: How = howMost): string =>
    linearN(x, [name], inDim, outDim, how)[0]!;
  const layerNorm = (x: string, name: string): string => {
    const scale = input(`${name}.weight`, [H]);
    const bias = input(`${name}.bias`, [H]);
    return g.op1('LayerNormalization', [x, scale, bias], [{ name: 'axis', i: -1 }, { name: 'epsilon', f: cfg.layer_norm_eps }]);
  };

  // Embeddings: word + position (+ token type), then LayerNorm.
  const wordEmb = input('embeddings.word_embeddings.weight', [cfg.vocab_size, H]);
  const posEmb = input('embeddings.position_embeddings.weight', [cfg.max_position_embeddings, H]);
  const shape = g.op1('Shape', ['input_ids']);
  const seqLen = g.op1('Gather', [shape, g.constInt64([1], [])], [{ name: 'axis', i: 0 }]);
  const zero = g.constInt64([0], []);
  const one = g.constInt64([1], []);
  const range = g.op1('Range', [zero, seqLen, one]);
  let positions = range;
  if (positionsAfterPadding(family)) {
    // transformers' create_position_ids_from_input_ids: each id that is not the padding id gets the
    // count of such ids up to it, plus the padding id; a padding id gets the padding id.
    const pad = g.constInt64([cfg.pad_token_id], []);
    const real = g.op1('Cast', [g.op1('Not', [g.op1('Equal', ['input_ids', pad])])], [{ name: 'to', i: DataType.INT64 }]);
    positions = g.op1('Add', [g.op1('Mul', [g.op1('CumSum', [real, one]), real]), pad]);
  }
  let x = g.op1('Add', [g.op1('Gather', [wordEmb, 'input_ids']), g.op1('Gather', [posEmb, positions])]);
  if (family === 'bert') {
    const typeEmb = input('embeddings.token_type_embeddings.weight', [cfg.type_vocab_size, H]);
    x = g.op1('Add', [x, g.op1('Gather', [typeEmb, 'token_type_ids'])]);
  } else if (family === 'xlm-roberta') {
    // Its tokenizers give every token type 0 (pairs too): the first row, added to every token.
    const typeEmb = input('embeddings.token_type_embeddings.weight', [cfg.type_vocab_size, H]);
    x = g.op1('Add', [x, g.op1('Gather', [typeEmb, g.constInt64([0], [])], [{ name: 'axis', i: 0 }])]);
  }
  x = layerNorm(x, 'embeddings.LayerNorm');

  // Additive attention mask, [batch, 1, 1, seq]: 0 where attended, float32 min where masked (as
  // transformers' get_extended_attention_mask).
  const maskF = g.op1('Cast', ['attention_mask'], [{ name: 'to', i: DataType.FLOAT }]);
  const inverted = g.op1('Sub', [g.constFloat([1], []), maskF]);
  const additive = g.op1('Mul', [inverted, g.constFloat([-3.4028234663852886e38], [])]);
  const mask4 = g.op1('Unsqueeze', [additive, g.constInt64([1, 2])]);
  const splitHeads = g.constInt64([0, 0, heads, hd]);
  const mergeHeads = g.constInt64([0, 0, H]);
  const scale = g.constFloat([1 / Math.sqrt(hd)], []);
  // MPNet: every layer adds to its attention scores a learned bias per head and relative-position
  // bucket ([buckets, heads]). The bucket depends only on key − query position, so the builder makes the
  // bias of every offset the model's positions allow ([heads, 2·P − 1], P = max_position_embeddings),
  // and the graph gathers the [heads, seq, seq] block of a sequence's offsets once, for all layers.
  let positionBias: string | undefined;
  if (family === 'mpnet') {
    const buckets = cfg.relative_attention_num_buckets;
    const table = need('encoder.relative_attention_bias.weight', [buckets, heads]).data();
    const P = cfg.max_position_embeddings;
    const byOffset = new Float32Array(heads * (2 * P - 1));
    for (let d = -(P - 1); d <= P - 1; d++) {
      const b = relativePositionBucket(d, buckets);
      for (let h = 0; h < heads; h++) byOffset[h * (2 * P - 1) + d + P - 1] = table[b * heads + h]!;
    }
    const biasTable = g.weight('encoder.relative_attention_bias.by_offset', [heads, 2 * P - 1], byOffset);
    const keys = g.op1('Unsqueeze', [range, g.constInt64([0])]);
    const queries = g.op1('Unsqueeze', [range, g.constInt64([1])]);
    const offsets = g.op1('Add', [g.op1('Sub', [keys, queries]), g.constInt64([P - 1], [])]);
    positionBias = g.op1('Gather', [biasTable, offsets], [{ name: 'axis', i: 1 }]);
  }
  const names =
    family === 'mpnet'
      ? { qkv: ['q', 'k', 'v'].map((m) => `attention.attn.${m}`), out: 'attention.attn.o', outNorm: 'attention.LayerNorm' }
      : { qkv: ['query', 'key', 'value'].map((m) => `attention.self.${m}`), out: 'attention.output.dense', outNorm: 'attention.output.LayerNorm' };

  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `encoder.layer.${l}`;
    const heads4 = (t: string, perm: number[]) => g.op1('Transpose', [g.op1('Reshape', [t, splitHeads])], [{ name: 'perm', ints: perm }]);
    const qkvNames = names.qkv.map((m) => `${p}.${m}`);
    let qLin: string | undefined, kLin: string | undefined, vLin: string | undefined, context: string | undefined;
    let bias = positionBias;
    if (clsOnly && l === cfg.num_hidden_layers - 1) {
      // CLS pooling reads one row of the last layer: keys and values need every token, but the query,
      // the attention output, the feed-forward block and both LayerNorms only the first. The rest of
      // the layer runs on the first two rows ([batch, 2, hidden]; the output keeps the first): about
      // 1/12 of BERT-base's work saved. Two, not one: ONNX Runtime's GEMM takes another path for a
      // single row (a one-text batch), whose rounding differs, and a text's embedding must not depend
      // on the batch it came in.
      const all = x;
      x = g.op1('Slice', [all, g.constInt64([0]), g.constInt64([2]), g.constInt64([1])]);
      qLin = linear(x, qkvNames[0]!, H, H);
      if (bias !== undefined) bias = g.op1('Slice', [bias, g.constInt64([0]), g.constInt64([2]), g.constInt64([1])]); // the two queries' rows
      [kLin, vLin] = fuseQkv ? linearN(all, qkvNames.slice(1), H, H, howMost) : qkvNames.slice(1).map((name) => linear(all, name, H, H));
    } else if (embedrtOps && bias === undefined) {
      // com.embedrt.Attention on the fused projection: no split, no transposes, masked keys skipped.
      context = g.op('Attention', [project(x, qkvNames, H, H, howMost), 'attention_mask'], [{ name: 'num_heads', i: heads }], 1, EMBEDRT_DOMAIN)[0]!;
    } else {
      [qLin, kLin, vLin] = fuseQkv ? linearN(x, qkvNames, H, H, howMost) : qkvNames.map((name) => linear(x, name, H, H));
    }
    if (context === undefined) {
      const q = heads4(qLin!, [0, 2, 1, 3]);
      const k = heads4(kLin!, [0, 2, 3, 1]);
      const v = heads4(vLin!, [0, 2, 1, 3]);
      let scores = g.op1('Mul', [g.op1('MatMul', [q, k]), scale]);
      if (bias !== undefined) scores = g.op1('Add', [scores, bias]);
      scores = g.op1('Add', [scores, mask4]);
      const probs = g.op1('Softmax', [scores], [{ name: 'axis', i: -1 }]);
      context = g.op1('Reshape', [g.op1('Transpose', [g.op1('MatMul', [probs, v])], [{ name: 'perm', ints: [0, 2, 1, 3] }]), mergeHeads]);
    }
    const attnOut = linear(context, `${p}.${names.out}`, H, H);
    x = layerNorm(g.op1('Add', [attnOut, x]), `${p}.${names.outNorm}`);
    const inter = linear(x, `${p}.intermediate.dense`, H, cfg.intermediate_size, howFfn);
    let act: string;
    if (cfg.hidden_act === 'relu') {
      act = g.op1('Relu', [inter]);
    } else if (cfg.hidden_act === 'gelu') {
      // 0.5 · x · (1 + erf(x / √2))
      const erf = g.op1('Erf', [g.op1('Div', [inter, g.constFloat([Math.SQRT2], [])])]);
      act = g.op1('Mul', [g.op1('Mul', [inter, g.op1('Add', [erf, g.constFloat([1], [])])]), g.constFloat([0.5], [])]);
    } else {
      // gelu_new / gelu_pytorch_tanh: 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
      const cube = g.op1('Mul', [g.op1('Mul', [inter, inter]), inter]);
      const inner = g.op1('Mul', [g.op1('Add', [inter, g.op1('Mul', [cube, g.constFloat([0.044715], [])])]), g.constFloat([Math.sqrt(2 / Math.PI)], [])]);
      act = g.op1('Mul', [g.op1('Mul', [inter, g.op1('Add', [g.op1('Tanh', [inner]), g.constFloat([1], [])])]), g.constFloat([0.5], [])]);
    }
    const out = linear(act, `${p}.output.dense`, cfg.intermediate_size, H, howFfn);
    x = layerNorm(g.op1('Add', [out, x]), `${p}.output.LayerNorm`);
  }
  if (clsOnly) x = g.op1('Slice', [x, g.constInt64([0]), g.constInt64([1]), g.constInt64([1])]);
  const head = opts.head;
  if (head !== undefined) {
    // transformers' heads in float32 whatever the quantization (two small layers on one row per text).
    const L = head.numLabels;
    if (head.architecture === 'BertForSequenceClassification') {
      x = g.op1('Tanh', [linear(x, 'pooler.dense', H, H, 'float')]);
      prefix = '';
      x = linear(x, 'classifier', H, L, 'float');
    } else {
      prefix = '';
      x = linear(g.op1('Tanh', [linear(x, 'classifier.dense', H, H, 'float')]), 'classifier.out_proj', H, L, 'float');
    }
    x = g.op1('Squeeze', [x, g.constInt64([1])]); // [batch, 1, labels] → [batch, labels]
  }
  const output = head ? 'logits' : 'last_hidden_state';
  g.nodes.push({ op: 'Identity', inputs: [x], outputs: [output], name: 'output' });

  g.writeData();
  const bytes = encodeModel({
    irVersion: 8,
    opset: 17,
    extraOpsets: [
      ...(int8 ? [{ domain: 'com.microsoft', version: 1 }] : []),
      ...(embedrtOps ? [{ domain: EMBEDRT_DOMAIN, version: 1 }] : []),
    ],
    producer: 'embedrt',
    graphName: family,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: ['input_ids', 'attention_mask', ...(family === 'bert' ? ['token_type_ids'] : [])].map((name) => ({ name, elemType: DataType.INT64, shape: ['batch', 'sequence'] })),
    outputs: [{ name: output, elemType: DataType.FLOAT, shape: head ? ['batch', head.numLabels] : ['batch', clsOnly ? 1 : 'sequence', H] }],
  });
  fs.writeFileSync(modelFile, bytes);
  return modelFile;
}
