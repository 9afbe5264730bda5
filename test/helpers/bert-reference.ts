// An independent float64 BERT forward pass (plain loops over the checkpoint's tensors, following
// transformers' BertModel): the reference the ONNX graph builder is checked against.
import type { BertConfig } from '../../lib/onnx/config.js';

type Get = (name: string) => Float64Array;

function layerNorm(x: Float64Array, w: Float64Array, b: Float64Array, eps: number): Float64Array {
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let varc = 0;
  for (const v of x) varc += (v - mean) ** 2;
  varc /= x.length;
  const inv = 1 / Math.sqrt(varc + eps);
  return x.map((v, i) => (v - mean) * inv * w[i]! + b[i]!);
}

/** y = W x + b with W of shape [out, in] (torch Linear layout). */
function linear(x: Float64Array, w: Float64Array, b: Float64Array, outDim: number): Float64Array {
  const inDim = x.length;
  const y = new Float64Array(outDim);
  for (let o = 0; o < outDim; o++) {
    let s = b[o]!;
    for (let i = 0; i < inDim; i++) s += w[o * inDim + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26 is too coarse for 1e-6; use the series / continued fraction split.
  const t = Math.abs(x);
  if (t < 2.5) {
    let sum = x;
    let term = x;
    for (let n = 1; n < 60; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
}

function act(v: number, kind: BertConfig['hidden_act']): number {
  if (kind === 'relu') return Math.max(0, v);
  if (kind === 'gelu') return 0.5 * v * (1 + erf(v / Math.SQRT2));
  return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
}

/** last_hidden_state of one unpadded sequence: [seq][hidden]. */
/**
 * How a reduced-precision projection rounds: `input` maps a projection's input row (one token), `product`
 * each product before the bias. Pass the weights rounded the same way through `get`.
 */
export interface Rounding {
  input: (row: Float64Array) => Float64Array;
  product?: (v: number) => number;
}

/**
 * The encoder's last hidden state, one row per token. `round`: a function is applied to every
 * projection's input and to its product before the bias (a GPU's float16 GEMM); a Rounding as it says.
 */
export function bertForward(cfg: BertConfig, get: Get, ids: number[], typeIds?: number[], round?: ((v: number) => number) | Rounding): Float64Array[] {
  const rounding: Rounding | undefined = typeof round === 'function' ? { input: (v) => v.map(round), product: round } : round;
  const H = cfg.hidden_size;
  const heads = cfg.num_attention_heads;
  const hd = H / heads;
  const S = ids.length;
  const we = get('embeddings.word_embeddings.weight');
  const pe = get('embeddings.position_embeddings.weight');
  const te = get('embeddings.token_type_embeddings.weight');
  let x: Float64Array[] = ids.map((id, p) => {
    const t = typeIds?.[p] ?? 0;
    const v = new Float64Array(H);
    for (let h = 0; h < H; h++) v[h] = we[id * H + h]! + pe[p * H + h]! + te[t * H + h]!;
    return layerNorm(v, get('embeddings.LayerNorm.weight'), get('embeddings.LayerNorm.bias'), cfg.layer_norm_eps);
  });
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `encoder.layer.${l}`;
    const lin = (v: Float64Array, name: string, out: number) => {
      if (!rounding) return linear(v, get(`${name}.weight`), get(`${name}.bias`), out);
      const b = get(`${name}.bias`);
      const product = rounding.product ?? ((y: number) => y);
      return linear(rounding.input(v), get(`${name}.weight`), new Float64Array(out), out).map((y, o) => product(y) + b[o]!);
    };
    const q = x.map((v) => lin(v, `${p}.attention.self.query`, H));
    const k = x.map((v) => lin(v, `${p}.attention.self.key`, H));
    const val = x.map((v) => lin(v, `${p}.attention.self.value`, H));
    const ctx = x.map(() => new Float64Array(H));
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < S; i++) {
        const scores = new Float64Array(S);
        let max = -Infinity;
        for (let j = 0; j < S; j++) {
          let s = 0;
          for (let d = 0; d < hd; d++) s += q[i]![h * hd + d]! * k[j]![h * hd + d]!;
          scores[j] = s / Math.sqrt(hd);
          max = Math.max(max, scores[j]!);
        }
        let z = 0;
        for (let j = 0; j < S; j++) z += (scores[j] = Math.exp(scores[j]! - max));
        for (let j = 0; j < S; j++) for (let d = 0; d < hd; d++) ctx[i]![h * hd + d]! += (scores[j]! / z) * val[j]![h * hd + d]!;
      }
    }
    x = x.map((v, i) => {
      const a = lin(ctx[i]!, `${p}.attention.output.dense`, H).map((y, h) => y + v[h]!);
      const n1 = layerNorm(a, get(`${p}.attention.output.LayerNorm.weight`), get(`${p}.attention.output.LayerNorm.bias`), cfg.layer_norm_eps);
      const inter = lin(n1, `${p}.intermediate.dense`, cfg.intermediate_size).map((y) => act(y, cfg.hidden_act));
      const o = lin(inter, `${p}.output.dense`, H).map((y, h) => y + n1[h]!);
      return layerNorm(o, get(`${p}.output.LayerNorm.weight`), get(`${p}.output.LayerNorm.bias`), cfg.layer_norm_eps);
    });
  }
  return x;
}
