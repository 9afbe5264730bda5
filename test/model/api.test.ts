import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbedrtError, SentenceTransformer, runtimeInfo } from '../../lib/index.js';
import { SafetensorsFile } from '../../lib/safetensors.js';
import { financialQa } from '../helpers/data.js';
import { makeModel, tempDir, useKernels } from '../helpers/models.js';

let root: string;
let cache: string;
let tiny: string;

beforeAll(() => {
  root = tempDir('model-api');
  cache = path.join(root, 'cache');
  tiny = makeModel(root, 'tiny', { pooling: 'mean' });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

async function expectError(p: Promise<unknown>, code: string, message: RegExp) {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected a rejection').toBeInstanceOf(EmbedrtError);
  expect((e as EmbedrtError).code).toBe(code);
  expect((e as Error).message).toMatch(message);
}

function variant(name: string, edit: (dir: string) => void): string {
  const dir = path.join(root, name);
  fs.cpSync(tiny, dir, { recursive: true });
  edit(dir);
  return dir;
}

const editJson = (file: string, f: (j: Record<string, unknown>) => void) => {
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  f(j);
  fs.writeFileSync(file, JSON.stringify(j));
};

describe('loading a model folder', () => {
  it('names the missing or malformed file', async () => {
    await expectError(SentenceTransformer.load(path.join(root, 'nope')), 'E_MODEL_FILES', /no such folder, and not a hub id/);
    const noWeights = variant('no-weights', (d) => fs.rmSync(path.join(d, 'model.safetensors')));
    await expectError(SentenceTransformer.load(noWeights, { cacheDir: cache }), 'E_MODEL_FILES', /no onnx\/model\.onnx and no model\.safetensors/);
    const badModules = variant('bad-modules', (d) => fs.writeFileSync(path.join(d, 'modules.json'), '[{"type": '));
    await expectError(SentenceTransformer.load(badModules, { cacheDir: cache }), 'E_MODEL_FILES', /modules\.json: not valid JSON/);
    const badPooling = variant('bad-pooling', (d) => editJson(path.join(d, '1_Pooling', 'config.json'), (j) => (j.pooling_mode_mean_tokens = false)));
    await expectError(SentenceTransformer.load(badPooling, { cacheDir: cache }), 'E_MODEL_FILES', /1_Pooling\/config\.json: no pooling_mode_\* is true/);
    const truncated = variant('truncated-weights', (d) => fs.truncateSync(path.join(d, 'model.safetensors'), 1000));
    await expectError(SentenceTransformer.load(truncated, { cacheDir: cache }), 'E_MODEL_FILES', /model\.safetensors: not a valid safetensors file/);
    const missingTensor = variant('missing-tensor', (d) => editJson(path.join(d, 'config.json'), (j) => (j.num_hidden_layers = 3)));
    await expectError(SentenceTransformer.load(missingTensor, { cacheDir: cache }), 'E_MODEL_FILES', /missing tensor encoder\.layer\.2\./);
    const wrongShape = variant('wrong-shape', (d) => editJson(path.join(d, 'config.json'), (j) => (j.intermediate_size = 128)));
    await expectError(SentenceTransformer.load(wrongShape, { cacheDir: cache }), 'E_MODEL_FILES', /has shape \[64,32\], config\.json implies \[128,32\]/);
  });

  it('refuses what the graph builder does not support, by name', async () => {
    const roberta = variant('roberta', (d) => editJson(path.join(d, 'config.json'), (j) => (j.model_type = 'roberta')));
    await expectError(SentenceTransformer.load(roberta, { cacheDir: cache }), 'E_UNSUPPORTED', /model_type "roberta" is not supported/);
    const relative = variant('relative', (d) => editJson(path.join(d, 'config.json'), (j) => (j.position_embedding_type = 'relative_key')));
    await expectError(SentenceTransformer.load(relative, { cacheDir: cache }), 'E_UNSUPPORTED', /position_embedding_type "relative_key"/);
    const act = variant('silu', (d) => editJson(path.join(d, 'config.json'), (j) => (j.hidden_act = 'silu')));
    await expectError(SentenceTransformer.load(act, { cacheDir: cache }), 'E_UNSUPPORTED', /hidden_act "silu"/);
  });

  it('reads "bert."-prefixed, F16 and BF16 checkpoints', async () => {
    const st = SafetensorsFile.open(path.join(tiny, 'model.safetensors'));
    const names = [...st.tensors.keys()];
    const write = (dir: string, dtype: 'F16' | 'BF16' | 'F32', prefix: string, roundTo: 'F16' | 'BF16') => {
      const header: Record<string, unknown> = {};
      const chunks: Buffer[] = [];
      let off = 0;
      for (const n of names) {
        const f = st.float32(n);
        const rounded = roundTo === 'BF16' ? toBf16(f) : toF16(f);
        const bytes = dtype === 'F32' ? Buffer.from(widen(rounded, roundTo).buffer) : Buffer.from(rounded.buffer);
        header[prefix + n] = { dtype, shape: st.tensors.get(n)!.shape, data_offsets: [off, off + bytes.length] };
        chunks.push(bytes);
        off += bytes.length;
      }
      const json = Buffer.from(JSON.stringify(header));
      const size = Buffer.alloc(8);
      size.writeBigUInt64LE(BigInt(json.length));
      fs.writeFileSync(path.join(dir, 'model.safetensors'), Buffer.concat([size, json, ...chunks]));
    };
    for (const kind of ['F16', 'BF16'] as const) {
      const half = variant(`${kind}-half`, (d) => write(d, kind, 'bert.', kind));
      const full = variant(`${kind}-full`, (d) => write(d, 'F32', '', kind));
      const a = await SentenceTransformer.load(half, { cacheDir: cache });
      const b = await SentenceTransformer.load(full, { cacheDir: cache });
      const texts = financialQa().slice(0, 5).map((r) => r.context);
      expect(Array.from((await a.encode(texts)).data)).toEqual(Array.from((await b.encode(texts)).data));
    }
    st.close();
  });

  it('a cache folder that cannot be written is E_CACHE naming it, never a hang (/proc: Node’s recursive mkdir loops there)', async () => {
    const file = path.join(root, 'a-file');
    fs.writeFileSync(file, 'x');
    for (const [dir, why] of [
      ['/proc/embedrt-cache', 'ENOENT'],
      [path.join(file, 'cache'), 'ENOTDIR'],
    ] as const) {
      await expectError(SentenceTransformer.load(tiny, { cacheDir: dir }), 'E_CACHE', new RegExp(`cannot write embedrt's graph cache in ${dir}/onnx \\(${why}\\)`));
    }
  }, 60_000);

  it('caches the converted graph by checkpoint hash', async () => {
    const c = path.join(root, 'cache-test');
    const a = await SentenceTransformer.load(tiny, { cacheDir: c });
    const graph = a.info().graph;
    const mtime = fs.statSync(graph).mtimeMs;
    const again = await SentenceTransformer.load(tiny, { cacheDir: c });
    expect(again.info().graph).toBe(graph);
    expect(fs.statSync(graph).mtimeMs).toBe(mtime);
    const other = makeModel(root, 'other-seed', { seed: 99 });
    expect((await SentenceTransformer.load(other, { cacheDir: c })).info().graph).not.toBe(graph);
    expect(fs.readdirSync(path.join(c, 'onnx')).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('uses a shipped onnx/model.onnx as it is', async () => {
    const built = await SentenceTransformer.load(tiny, { cacheDir: cache });
    const graph = built.info().graph;
    const shipped = variant('shipped-onnx', (d) => {
      fs.rmSync(path.join(d, 'model.safetensors'));
      fs.mkdirSync(path.join(d, 'onnx'));
      // The cached graph and the data it points into (the checkpoint's link: its external data file).
      for (const f of fs.readdirSync(path.dirname(graph)).filter((n) => n !== 'manifest.json')) fs.copyFileSync(path.join(path.dirname(graph), f), path.join(d, 'onnx', f));
    });
    const model = await SentenceTransformer.load(shipped, { cacheDir: cache });
    expect(model.info().graph).toBe(path.join(shipped, 'onnx', 'model.onnx'));
    const texts = financialQa().slice(0, 4).map((r) => r.question);
    expect(Array.from((await model.encode(texts)).data)).toEqual(Array.from((await built.encode(texts)).data));
  });

  it('resolves a hub id through the Hugging Face cache layout', async () => {
    const hfHome = path.join(root, 'hf');
    const repo = path.join(hfHome, 'hub', 'models--acme--tiny-embed');
    const rev = '0123456789abcdef0123456789abcdef01234567';
    fs.mkdirSync(path.join(repo, 'refs'), { recursive: true });
    fs.writeFileSync(path.join(repo, 'refs', 'main'), rev);
    fs.cpSync(tiny, path.join(repo, 'snapshots', rev), { recursive: true });
    const before = process.env.HF_HOME;
    process.env.HF_HOME = hfHome;
    try {
      const model = await SentenceTransformer.load('acme/tiny-embed', { cacheDir: cache });
      expect(model.dir).toBe(path.join(repo, 'snapshots', rev));
      // Not cached: load() would download it; offline it says what is missing.
      await expectError(SentenceTransformer.load('acme/missing', { cacheDir: cache, hub: { offline: true } }), 'E_HUB_OFFLINE', /acme\/missing@main is not in the hub cache/);
    } finally {
      if (before === undefined) delete process.env.HF_HOME;
      else process.env.HF_HOME = before;
    }
  });

  it('device: a missing GPU provider is E_PROVIDER naming what is missing; auto falls back and says so', async () => {
    await expectError(SentenceTransformer.load(tiny, { cacheDir: cache, device: 'gpu' as never }), 'E_BAD_INPUT', /options\.device must be/);
    const info = runtimeInfo();
    if (!info.providers.includes('CUDAExecutionProvider')) {
      await expectError(SentenceTransformer.load(tiny, { cacheDir: cache, device: 'cuda' }), 'E_PROVIDER', /libonnxruntime_providers_cuda\.so.*they are missing \(the CUDA variant has them: npm run assemble-cuda|not built with CUDAExecutionProvider/);
      const auto = await SentenceTransformer.load(tiny, { cacheDir: cache, device: 'auto' });
      expect(auto.info().provider).toBe('cpu');
      expect(auto.info().fallbackReason).toMatch(/CUDAExecutionProvider/);
    } else {
      const auto = await SentenceTransformer.load(tiny, { cacheDir: cache, device: 'auto' });
      expect(['cuda', 'cpu']).toContain(auto.info().provider);
    }
  });
});

describe('encode', () => {
  it('rejects bad input naming the argument', async () => {
    const model = await SentenceTransformer.load(tiny, { cacheDir: cache });
    await expectError(model.encode(['a', 3 as unknown as string]), 'E_BAD_INPUT', /texts\[1\] must be a string, got number/);
    await expectError(model.encode(['a'], { batchSize: 0 }), 'E_BAD_INPUT', /batchSize must be a positive integer/);
    await expectError(model.encode(['a'], { truncateDim: 33 }), 'E_BAD_INPUT', /truncateDim must be an integer in \[1, 32\]/);
    await expectError(model.encode(['a'], { prompt: 'x', promptName: 'y' }), 'E_BAD_INPUT', /not both/);
  });

  it('keeps the event loop ticking, reports progress and returns rows in input order', async () => {
    const dir = makeModel(root, 'medium', { shape: { hidden_size: 256, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 1024 }, pooling: 'cls' });
    const model = await SentenceTransformer.load(dir, { cacheDir: cache });
    const texts = financialQa().slice(0, 400).map((r) => r.context);
    const progress: number[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = Date.now();
    const all = await model.encode(texts, { batchSize: 16, onProgress: (done, total) => progress.push(done / total) });
    const elapsed = Date.now() - started;
    clearInterval(timer);
    expect(elapsed).toBeGreaterThan(100);
    expect(ticks).toBeGreaterThan(elapsed / 5 / 4);
    expect(progress.at(-1)).toBe(1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    const one = await model.encode([texts[123]!]);
    expect(Array.from(all.row(123))).toEqual(Array.from(one.row(0)));
    // Sorting by length pads far less than batching in input order would.
    const lengths = (await model.tokenizer.encodeBatch(texts.map((t) => t.toLowerCase()), { maxLength: model.maxSeqLength })).lengths;
    expect(all.tokens.real).toBe(lengths.reduce((s, n) => s + n, 0));
    let unsorted = 0;
    for (let i = 0; i < lengths.length; i += 16) unsorted += Math.max(...lengths.subarray(i, i + 16)) * Math.min(16, lengths.length - i);
    expect(all.tokens.padded).toBeLessThan(all.tokens.real + 0.5 * (unsorted - all.tokens.real));
  });

  it('concurrent calls are safe; abort and dispose give clear errors', async () => {
    const model = await SentenceTransformer.load(tiny, { cacheDir: cache });
    const a = financialQa().slice(0, 300).map((r) => r.question);
    const b = financialQa().slice(300, 600).map((r) => r.context);
    const [ra, rb] = await Promise.all([model.encode(a), model.encode(b)]);
    expect(Array.from(ra.data)).toEqual(Array.from((await model.encode(a)).data));
    expect(Array.from(rb.row(5))).toEqual(Array.from((await model.encode([b[5]!])).row(0)));
    const ctl = new AbortController();
    ctl.abort();
    await expectError(model.encode(a, { signal: ctl.signal }), 'E_ABORTED', /aborted/);
    const ctl2 = new AbortController();
    const running = model.encode(financialQa().map((r) => r.context), { batchSize: 4, signal: ctl2.signal, onProgress: () => ctl2.abort() });
    await expectError(running, 'E_ABORTED', /aborted/);
    const inFlight = model.encode(a);
    model.dispose();
    model.dispose();
    expect((await inFlight).rows).toBe(a.length);
    await expectError(model.encode(a), 'E_DISPOSED', /disposed/);
    expect(() => model.info()).toThrow(/disposed/);
  });

  it('dispose() releases the ONNX Runtime session at once, not when the garbage collector gets to it', async () => {
    // ONNX Runtime writes a session's profile as the session closes: an empty file means it is still open.
    const dir = path.join(root, 'profile');
    fs.mkdirSync(dir, { recursive: true });
    process.env.EMBEDRT_ORT_PROFILE = path.join(dir, 'session');
    let model: SentenceTransformer;
    try {
      model = await SentenceTransformer.load(tiny, { cacheDir: cache });
    } finally {
      delete process.env.EMBEDRT_ORT_PROFILE;
    }
    const kept = await model.encode(['net revenue', 'operating cash flow']); // embeddings outlive the model
    const [file] = fs.readdirSync(dir).map((f) => path.join(dir, f));
    expect(fs.statSync(file!).size).toBe(0);
    model.dispose();
    expect(JSON.parse(fs.readFileSync(file!, 'utf8')).some((e: { cat?: string }) => e.cat === 'Node')).toBe(true);
    expect(kept.rows).toBe(2);
  });
});

function toF16(f: Float32Array): Uint16Array {
  const out = new Uint16Array(f.length);
  const buf = new DataView(new ArrayBuffer(4));
  for (let i = 0; i < f.length; i++) {
    buf.setFloat32(0, f[i]!);
    const x = buf.getUint32(0);
    const sign = (x >>> 16) & 0x8000;
    let exp = ((x >>> 23) & 0xff) - 127 + 15;
    const mant = x & 0x7fffff;
    if (exp <= 0) {
      out[i] = sign | Math.round((mant | 0x800000) / 2 ** (14 - exp)) >> 0;
    } else {
      let m = Math.round(mant / 8192);
      if (m === 1024) {
        m = 0;
        exp++;
      }
      out[i] = sign | (exp << 10) | m;
    }
  }
  return out;
}

function toBf16(f: Float32Array): Uint16Array {
  const u = new Uint32Array(f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength));
  const out = new Uint16Array(f.length);
  for (let i = 0; i < u.length; i++) out[i] = (u[i]! + 0x7fff + ((u[i]! >>> 16) & 1)) >>> 16;
  return out;
}

function widen(h: Uint16Array, kind: 'F16' | 'BF16'): Float32Array {
  if (kind === 'BF16') return new Float32Array(Uint32Array.from(h, (v) => v << 16).buffer);
  return Float32Array.from(h, (v) => {
    const sign = v & 0x8000 ? -1 : 1;
    const exp = (v >> 10) & 0x1f;
    const frac = v & 0x3ff;
    return exp === 0 ? sign * frac * 2 ** -24 : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  });
}

describe("ONNX Runtime's optimized graph, beside embedrt's kernels", () => {
  useKernels('embedrt');
  it("caches ONNX Runtime's optimized graph and gives the same embeddings from it", async () => {
    const c = path.join(root, 'opt-cache');
    // The CPU's float graph has no optimized form to cache (its Linear kernels pack the weights
    // themselves: the form would copy them again on disk); a graph of ONNX Runtime's ops (int8-fast:
    // its int8 ops on every CPU) has.
    const float = await SentenceTransformer.load(tiny, { cacheDir: c });
    const floatAgain = await SentenceTransformer.load(tiny, { cacheDir: c });
    expect([float.info().optimizedGraph, floatAgain.info().optimizedGraph]).toEqual([undefined, undefined]);
    expect(fs.existsSync(path.join(c, 'optimized'))).toBe(false);
    const first = await SentenceTransformer.load(tiny, { cacheDir: c, quantize: 'int8-fast' });
    expect(first.info().optimizedGraph).toBeUndefined();
    const second = await SentenceTransformer.load(tiny, { cacheDir: c, quantize: 'int8-fast' });
    const opt = second.info().optimizedGraph!;
    expect(opt).toMatch(/optimized/);
    expect(fs.existsSync(opt)).toBe(true);
    expect(fs.readdirSync(path.dirname(opt)).filter((f) => f.endsWith('.onnx') && f.includes('.tmp-'))).toEqual([]);
    const texts = financialQa().slice(0, 8).map((r) => r.context);
    const a = await first.encode(texts);
    const b = await second.encode(texts);
    for (let i = 0; i < a.data.length; i++) expect(Math.abs(a.data[i]! - b.data[i]!)).toBeLessThan(1e-5);
  });
});
