// The 8-bit weight layouts of the quantized graphs: per-column int8 (DynamicQuantizeMatMul) and
// MatMulNBits' blockwise uint8.

/**
 * Symmetric per-column int8 quantization of a [rows, cols] matrix (columns are output channels):
 * scale_j = max_i |w_ij| / qmax, q_ij = round(w_ij / scale_j), in [-qmax, qmax].
 */
export function quantizeColumnsInt8(w: Float32Array, rows: number, cols: number, qmax = 127): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) scale[c] = Math.max(scale[c]!, Math.abs(w[r * cols + c]!));
  }
  for (let c = 0; c < cols; c++) scale[c] = scale[c]! > 0 ? scale[c]! / qmax : 1;
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) q[r * cols + c] = Math.max(-qmax, Math.min(qmax, Math.round(w[r * cols + c]! / scale[c]!)));
  }
  return { q, scale };
}

/**
 * MatMulNBits' 8-bit layout of a [K, N] matrix: for each column n and block of `block` rows, one scale
 * (max |w| / 127) and the symmetric values stored as uint8 with the default zero point 128; the last
 * block is padded with 128 (zero).
 */
export function quantizeBlocksUint8(w: Float32Array, K: number, N: number, block: number): { packed: Uint8Array; scales: Float32Array; blocks: number } {
  const blocks = Math.ceil(K / block);
  const packed = new Uint8Array(N * blocks * block).fill(128);
  const scales = new Float32Array(N * blocks);
  for (let c = 0; c < N; c++) {
    for (let blk = 0; blk < blocks; blk++) {
      const end = Math.min(K, (blk + 1) * block);
      let m = 0;
      for (let r = blk * block; r < end; r++) m = Math.max(m, Math.abs(w[r * N + c]!));
      const sc = m > 0 ? m / 127 : 1;
      scales[c * blocks + blk] = sc;
      const base = (c * blocks + blk) * block - blk * block;
      for (let r = blk * block; r < end; r++) packed[base + r] = 128 + Math.max(-127, Math.min(127, Math.round(w[r * N + c]! / sc)));
    }
  }
  return { packed, scales, blocks };
}

/**
 * IEEE 754 binary16 bits of float32 values, rounded to nearest, ties to even (as a float → half cast
 * on a GPU); overflow gives ±infinity, values under half's smallest subnormal round to ±0.
 */
export function toFloat16Bits(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    const mant = x & 0x7fffff;
    let h: number;
    if (exp === 0xff) {
      h = 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0); // infinity, or a quiet NaN
    } else {
      const e = exp - 127 + 15; // half's biased exponent
      if (e >= 0x1f) {
        h = 0x7c00;
      } else if (e <= 0) {
        // A subnormal half (or zero): the implicit bit made explicit, shifted into place, rounded.
        if (e < -10) {
          h = 0;
        } else {
          const m = mant | 0x800000;
          const shift = 14 - e;
          const rest = m & ((1 << shift) - 1);
          const half = 1 << (shift - 1);
          h = m >>> shift;
          if (rest > half || (rest === half && (h & 1) === 1)) h += 1;
        }
      } else {
        h = (e << 10) | (mant >>> 13);
        const rest = mant & 0x1fff;
        // A carry out of the mantissa bumps the exponent (to infinity at the top): the bits as an integer.
        if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h += 1;
      }
    }
    out[i] = sign | h;
  }
  return out;
}
