// Time-bounded mutation fuzzing of the parsers and validators that take untrusted input, run in a
// child process (fuzz.test.ts) so a crash is caught:
//   tokenizer-json   tokenizer.json → the native tokenizer, then encode / encodeBatch / decode
//   unigram-json     the same for a SentencePiece Unigram tokenizer.json, its precompiled charsmap's
//                    bytes flipped, cut or lengthened too (the native side walks that trie)
//   safetensors      a safetensors file's header (and its length) → SafetensorsFile.open, every tensor read
//   search-shapes    random shapes, arrays and values → similarity / semanticSearch / quantizeEmbeddings /
//                    semanticSearchQuantized (a valid call must equal a float64 reference)
// Every input must either work or fail with an EmbedrtError of an allowed code. Prints
//   @@stats {"runs": n, "ok": n, "codes": {...}}     at the end
//   @@fail {"input": ..., "error": ...}              for the first input that broke the rule (then exits 1)
// Usage: node fuzz-run.mjs <target> <seconds> <seed> <dist folder> <bge tokenizer.json> <unigram tokenizer.json>
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [target, seconds, seedArg, distDir, bgeTokenizer, unigramTokenizer] = process.argv.slice(2);
const m = await import(path.join(distDir, 'index.js'));
const { SafetensorsFile } = await import(path.join(distDir, 'safetensors.js'));
let x = Number(seedArg) >>> 0 || 1;
const rnd = () => ((x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
const int = (n) => Math.floor(rnd() * n);
const pick = (xs) => xs[int(xs.length)];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `embedrt-fuzz-${target}-`));
const stats = { runs: 0, ok: 0, codes: {} };

const JUNK = () => pick([null, true, false, 0, -1, 1, 2, 1.5, -0.5, 2 ** 31, 2 ** 31 - 1, 2 ** 53, 1e300, NaN, 'A', 'B', 'C', '', '__proto__', 'constructor', '[CLS]', '##', '\u0301', [], [1], ['x'], {}, { id: 'A' }, { type_id: 300 }]);

/** A random change deep inside a JSON value: replace, delete, duplicate or retype one node. */
function mutateJson(v, depth = 0) {
  if (v === null || typeof v !== 'object' || depth > 6 || rnd() < 0.15) return JUNK();
  const keys = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  if (keys.length === 0) return rnd() < 0.5 ? JUNK() : v;
  const k = pick(keys);
  const out = Array.isArray(v) ? [...v] : { ...v };
  const r = rnd();
  if (r < 0.1) {
    if (Array.isArray(out)) out.splice(k, 1);
    else delete out[k];
  } else if (r < 0.15 && Array.isArray(out)) out.push(out[k]);
  else out[k] = mutateJson(v[k], depth + 1);
  return out;
}

function fail(input, error) {
  console.log(`@@fail ${JSON.stringify({ input: String(input).slice(0, 20000), error: String(error?.stack ?? error) })}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  process.exit(1);
}

async function check(input, allowed, fn) {
  stats.runs++;
  try {
    await fn();
    stats.ok++;
  } catch (e) {
    if (!(e instanceof m.EmbedrtError) || !allowed.includes(e.code)) fail(input, e);
    stats.codes[e.code] = (stats.codes[e.code] ?? 0) + 1;
  }
}

const texts = ['What was NVIDIA revenue in 2023?', 'e\u0301\u0316 naïve Café', '', 'x'.repeat(300), '[CLS] a [SEP] b', '收入增长 📈', 'ｅ\u0301 ™\u001e <mask>  x  '];

/** A copy of a Unigram tokenizer.json whose charsmap bytes are flipped, cut or lengthened. */
function mutateCharsmap(doc) {
  const steps = doc?.normalizer?.normalizers;
  const step = Array.isArray(steps) ? steps.find((n) => n?.type === 'Precompiled') : undefined;
  if (!step || typeof step.precompiled_charsmap !== 'string') return doc;
  let blob = Buffer.from(step.precompiled_charsmap, 'base64');
  const r = rnd();
  if (r < 0.6) for (let i = 1 + int(16); i > 0; i--) blob[int(blob.length)] = int(256);
  else if (r < 0.8) blob = blob.subarray(0, int(blob.length));
  else blob = Buffer.concat([blob, Buffer.alloc(int(64), int(256))]);
  if (rnd() < 0.3) blob.writeUInt32LE(int(2 ** 32), 0);
  const normalizers = steps.map((n) => (n === step ? { ...n, precompiled_charsmap: blob.toString('base64') } : n));
  return { ...doc, normalizer: { ...doc.normalizer, normalizers } };
}

if (target === 'tokenizer-json' || target === 'unigram-json') {
  // A small tokenizer.json: the flagship's specials and first 400 vocabulary entries, or the Unigram
  // tokenizer's first 400 pieces (its added tokens past them stay).
  const full = JSON.parse(fs.readFileSync(target === 'tokenizer-json' ? bgeTokenizer : unigramTokenizer, 'utf8'));
  let seed;
  if (target === 'tokenizer-json') {
    const vocab = {};
    for (const [t, id] of Object.entries(full.model.vocab)) if (id < 400 || /^\[/.test(t)) vocab[t] = id < 400 ? id : Object.keys(vocab).length;
    seed = { ...full, model: { ...full.model, vocab } };
  } else {
    seed = { ...full, model: { ...full.model, vocab: full.model.vocab.slice(0, 400) } };
  }
  const file = path.join(tmp, 'tokenizer.json');
  const end = Date.now() + Number(seconds) * 1000;
  while (Date.now() < end) {
    let doc = seed;
    // Unigram: half the time its charsmap's bytes, then fewer JSON mutations (so most still load).
    const charsmap = target === 'unigram-json' && rnd() < 0.5;
    if (charsmap) doc = mutateCharsmap(doc);
    for (let i = (charsmap ? 0 : 1) + int(3); i > 0; i--) doc = mutateJson(doc);
    const text = JSON.stringify(doc);
    fs.writeFileSync(file, text);
    await check(text, ['E_MODEL_FILES', 'E_UNSUPPORTED'], async () => {
      const tok = m.Tokenizer.fromFile(file);
      for (const t of texts) tok.encode(t, { withTokens: true });
      tok.encode('a b', { pair: 'c d' });
      const b = await tok.encodeBatch(texts, { padding: 'longest', pair: texts });
      tok.decode(b.ids.subarray(0, 40));
      tok.idToToken(int(500));
    });
  }
} else if (target === 'safetensors') {
  // A valid file of a few tensors, then its header mutated (as JSON, or its bytes) or its length.
  const tensors = { a: [[2, 3], 'F32'], b: [[4], 'F16'], c: [[2, 2], 'BF16'], d: [[3], 'I64'] };
  const BYTES = { F32: 4, F16: 2, BF16: 2, I64: 8 };
  const header = {};
  let off = 0;
  for (const [name, [shape, dtype]] of Object.entries(tensors)) {
    const n = shape.reduce((a, d) => a * d, 1) * BYTES[dtype];
    header[name] = { dtype, shape, data_offsets: [off, off + n] };
    off += n;
  }
  header.__metadata__ = { format: 'pt' };
  const data = Buffer.alloc(off, 0x3c);
  const file = path.join(tmp, 'model.safetensors');
  const end = Date.now() + Number(seconds) * 1000;
  while (Date.now() < end) {
    let h = Buffer.from(JSON.stringify(rnd() < 0.7 ? mutateJson(header) : header));
    if (rnd() < 0.3) {
      h = Buffer.from(h);
      for (let i = 1 + int(4); i > 0; i--) h[int(h.length)] = int(256);
    }
    const len = Buffer.alloc(8);
    const r = rnd();
    len.writeBigUInt64LE(r < 0.8 ? BigInt(h.length) : r < 0.9 ? BigInt(int(h.length * 2)) : 2n ** BigInt(int(64)) - 1n, 0);
    const body = rnd() < 0.1 ? data.subarray(0, int(data.length)) : data;
    const bytes = Buffer.concat([len, h, body]);
    fs.writeFileSync(file, bytes);
    await check(h.toString('latin1'), ['E_MODEL_FILES', 'E_UNSUPPORTED'], () => {
      const st = SafetensorsFile.open(file);
      try {
        for (const name of st.tensors.keys()) st.float32(name);
      } finally {
        st.close();
      }
    });
  }
} else if (target === 'search-shapes') {
  const shape = () => pick([0, 1, 2, 3, 5, 8, 16, -1, -3, 1.5, NaN, 2 ** 40, '3', null]);
  const values = (n) => {
    const a = new Float32Array(Math.max(0, Math.min(n, 4096)));
    for (let i = 0; i < a.length; i++) a[i] = rnd() < 0.01 ? pick([NaN, Infinity, -Infinity]) : rnd() * 2 - 1;
    return a;
  };
  const matrix = () => {
    const rows = shape();
    const dim = shape();
    const n = typeof rows === 'number' && typeof dim === 'number' && rows > 0 && dim > 0 ? rows * dim : 8;
    const len = rnd() < 0.8 ? n : int(n * 2 + 2);
    const r = rnd();
    if (r < 0.1) return Array.from({ length: Math.max(0, Math.min(4, Number(rows) || 0)) }, () => (rnd() < 0.9 ? values(Number(dim) || 0) : JUNK()));
    if (r < 0.15) return JUNK();
    return { data: rnd() < 0.95 ? values(len) : new Float64Array(4), rows, dim };
  };
  // float64 cosine reference, for calls that must succeed.
  const rowsOf = (e) => (Array.isArray(e) ? e.map((v) => Array.from(v)) : Array.from({ length: e.rows }, (_, i) => Array.from(e.data.subarray(i * e.dim, (i + 1) * e.dim))));
  const cosine = (a, b) => {
    let d = 0, na = 0, nb = 0;
    for (let i = 0; i < a.length; i++) {
      d += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return d / (Math.max(Math.sqrt(na), 1e-12) * Math.max(Math.sqrt(nb), 1e-12));
  };
  const end = Date.now() + Number(seconds) * 1000;
  while (Date.now() < end) {
    const a = matrix();
    const b = rnd() < 0.5 ? a : matrix();
    const op = pick(['similarity', 'semanticSearch', 'quantize', 'quantized']);
    const input = JSON.stringify({ op, a: describe(a), b: describe(b) });
    await check(input, ['E_BAD_INPUT'], async () => {
      if (op === 'similarity') {
        const s = await m.similarity(a, b);
        const ra = rowsOf(a), rb = rowsOf(b);
        ra.forEach((u, i) => rb.forEach((v, j) => {
          if (Math.abs(s.data[i * s.cols + j] - cosine(u, v)) > 1e-4) throw new Error(`similarity[${i}][${j}] = ${s.data[i * s.cols + j]}, reference ${cosine(u, v)}`);
        }));
      } else if (op === 'semanticSearch') {
        const hits = await m.semanticSearch(a, b, { topK: pick([1, 3, 10, 0, -1, 1.5]) });
        const ra = rowsOf(a), rb = rowsOf(b);
        hits.forEach((row, i) => row.forEach((h) => {
          if (Math.abs(h.score - cosine(ra[i], rb[h.corpusId])) > 1e-4) throw new Error(`hit ${i}/${h.corpusId} scored ${h.score}`);
        }));
      } else if (op === 'quantize') {
        await m.quantizeEmbeddings(a, pick(['int8', 'uint8', 'binary', 'ubinary', 'int4', '__proto__']));
      } else {
        const p = pick(['int8', 'binary']);
        const qa = await m.quantizeEmbeddings(a, p);
        const forged = rnd() < 0.5 ? { ...qa, [pick(['rows', 'width', 'dim'])]: shape() } : qa;
        await m.semanticSearchQuantized(forged, qa, { topK: 3 });
      }
    });
  }
} else {
  throw new Error(`unknown target ${target}`);
}

function describe(e) {
  if (e === null || typeof e !== 'object') return String(e);
  if (Array.isArray(e)) return `array of ${e.length}`;
  return { rows: String(e.rows), dim: String(e.dim), data: `${e.data?.constructor?.name}(${e.data?.length})` };
}

fs.rmSync(tmp, { recursive: true, force: true });
console.log(`@@stats ${JSON.stringify(stats)}`);
