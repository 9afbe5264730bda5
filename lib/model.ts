// SentenceTransformer: a model folder (Hugging Face / sentence-transformers layout) loaded into an
// ONNX Runtime session, and an async, zero-copy encode that follows sentence-transformers.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbedrtError, rethrowNative } from './errors.js';
import { native } from './native.js';
import { cachedSnapshot, downloadModel, hubCacheDir, isHubId, snapshotLooksComplete, type HubOptions } from './hub.js';
import { GRAPH_RULES, LINEAR_RULES, QUANTIZATION_RULES, buildBertOnnx, parseBertConfig, type BertConfig, type Quantization } from './onnx/bert.js';
import { SafetensorsFile } from './safetensors.js';
import { Tokenizer, type NativeTokenizerHandle } from './tokenizer.js';
import { isInteger, readJsonFile } from './validate.js';

/** Where inference runs. 'auto' tries CUDA and falls back to the CPU, saying why in info(). */
export type Device = 'cpu' | 'cuda' | 'tensorrt' | 'auto';

export interface LoadOptions {
  device?: Device;
  deviceId?: number;
  /** Matryoshka: keep the first truncateDim values of every embedding. */
  truncateDim?: number;
  /** ONNX Runtime intra-op threads (default: its own choice, the physical cores). */
  threads?: number;
  /** Hub revision (branch, tag or commit) when loading by hub id. Default 'main'. */
  revision?: string;
  /** Folder for converted ONNX graphs (default $EMBEDRT_CACHE or ~/.cache/embedrt). */
  cacheDir?: string;
  /**
   * Build the graph from model.safetensors with 8-bit weights (needs a safetensors checkpoint; default
   * float32). 'int8': int8 dynamic quantization (ONNX Runtime's VNNI/AVX-512 integer GEMM) for the
   * attention projections, 8-bit blockwise for the feed-forward layers — cosine to fp32 ≥ 0.99 per text.
   * 'int8-fast': dynamic everywhere — faster, less faithful. See bench/README.md for the numbers.
   */
  quantize?: Quantization;
  /** Use this ONNX file of the model folder (e.g. 'onnx/model_quantized.onnx') instead of onnx/model.onnx. */
  onnxFile?: string;
  /**
   * Hub ids: where and how to download (endpoint, token, hub cache, offline, progress). A hub id whose
   * snapshot is cached with a config, a tokenizer and weights loads without touching the network.
   */
  hub?: Omit<HubOptions, 'revision'>;
}

export interface EncodeOptions {
  /** Texts per ONNX Runtime run at most (default 32). */
  batchSize?: number;
  /** Padded tokens per run at most (default batchSize × max sequence length). */
  maxBatchTokens?: number;
  /** L2-normalize the final embeddings (after truncation), as normalize_embeddings. Default false. */
  normalize?: boolean;
  /** Overrides the model's truncateDim for this call. */
  truncateDim?: number;
  /** A prompt prepended to every text. */
  prompt?: string;
  /** The name of a prompt in config_sentence_transformers.json. */
  promptName?: string;
  /** Called on the JS thread after each batch: (texts done, total). */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Embeddings of an encode call: one Float32Array, rows × dim, that no copy was made of. */
export class Embeddings {
  constructor(
    /** rows × dim float32 values, row-major. */
    readonly data: Float32Array,
    readonly rows: number,
    readonly dim: number,
    /** Indices of the texts that were cut to the model's max_seq_length. */
    readonly truncated: number[],
    /** Real tokens, and tokens the model computed including padding. */
    readonly tokens: { real: number; padded: number },
  ) {}

  /** A view (no copy) of embedding i. */
  row(i: number): Float32Array {
    if (!isInteger(i) || i < 0 || i >= this.rows) {
      throw new EmbedrtError('E_BAD_INPUT', `row(${String(i)}): expected an integer in [0, ${this.rows})`);
    }
    return this.data.subarray(i * this.dim, (i + 1) * this.dim);
  }
}

const POOLING_MODES = [
  ['pooling_mode_cls_token', 0],
  ['pooling_mode_max_tokens', 1],
  ['pooling_mode_mean_tokens', 2],
  ['pooling_mode_mean_sqrt_len_tokens', 3],
  ['pooling_mode_weightedmean_tokens', 4],
  ['pooling_mode_lasttoken', 5],
] as const;

interface NativeModelHandle {
  encode(
    texts: string[],
    opts: { maxLength: number; batchSize: number; maxBatchTokens: number; pooling: number[]; normalizeModule: boolean; truncateDim: number; normalize: boolean },
    onProgress: ((done: number, total: number) => void) | undefined,
    cancel: unknown,
  ): Promise<{ data: Float32Array; rows: number; dim: number; truncated: Uint8Array; tokens: number; paddedTokens: number }>;
  info(): { provider: string; fallbackReason: string; hiddenSize: number; clsOnly: boolean };
  dispose(): void;
}

interface NativeModelClass {
  new (config: Record<string, unknown>, tokenizer: unknown): NativeModelHandle;
  createCancelFlag(): unknown;
  cancel(flag: unknown): void;
}

/** An existing folder, resolved; undefined for a hub id; an error for anything else. */
function localFolder(idOrDir: string): string | undefined {
  if (fs.existsSync(idOrDir) && fs.statSync(idOrDir).isDirectory()) return path.resolve(idOrDir);
  if (!isHubId(idOrDir)) {
    throw new EmbedrtError('E_MODEL_FILES', `${idOrDir}: no such folder, and not a hub id of the form "org/name"`);
  }
  return undefined;
}

/**
 * Resolves a local folder, or a hub id already in the Hugging Face cache (no network). load() also
 * downloads hub ids that are not cached.
 */
export function resolveModelDir(idOrDir: string, revision = 'main', hub: Omit<HubOptions, 'revision'> = {}): string {
  const local = localFolder(idOrDir);
  if (local !== undefined) return local;
  const snapshot = cachedSnapshot(idOrDir, { ...hub, revision });
  if (snapshot === undefined) {
    throw new EmbedrtError(
      'E_MODEL_FILES',
      `${idOrDir}@${revision}: not in the Hugging Face cache (${hubCacheDir(hub)}); download it first (embedrt download ${idOrDir}) or pass a local folder`,
    );
  }
  return snapshot;
}

/** A local folder as is; a hub id from the cache when complete there, else downloaded into it. */
export async function locateModel(idOrDir: string, opts: LoadOptions): Promise<string> {
  const local = localFolder(idOrDir);
  if (local !== undefined) return local;
  const hub: HubOptions = { ...opts.hub, revision: opts.revision ?? 'main' };
  const cached = cachedSnapshot(idOrDir, hub);
  if (cached !== undefined && snapshotLooksComplete(cached)) return cached;
  return (await downloadModel(idOrDir, hub)).dir;
}

function readOptionalJson(file: string, what: string): Record<string, unknown> | undefined {
  if (!fs.existsSync(file)) return undefined;
  const v = readJsonFile(file, what);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new EmbedrtError('E_MODEL_FILES', `${file}: expected a JSON object (${what})`);
  return v as Record<string, unknown>;
}

function cacheRoot(opts: LoadOptions): string {
  return opts.cacheDir ?? process.env.EMBEDRT_CACHE ?? path.join(os.homedir(), '.cache', 'embedrt');
}

function optimizedGraphPath(graph: string, device: string, opts: LoadOptions): string {
  const st = fs.statSync(graph);
  const info = (native() as unknown as { runtimeInfo(): { ortVersion: string; simd: string } }).runtimeInfo();
  const key = crypto
    .createHash('sha256')
    .update(`${fs.realpathSync(graph)}|${st.size}|${st.mtimeMs}|${info.ortVersion}|${info.simd}|${device}`)
    .digest('hex')
    .slice(0, 32);
  return path.join(cacheRoot(opts), 'optimized', key, 'model.onnx');
}

/**
 * Moves a just-saved optimized graph into place, so a half-written one is never loaded. Its weights
 * file keeps the name the graph refers to (`<tmp name>.data`, in the same folder).
 */
function commitOptimized(tmp: string, final: string): void {
  if (!fs.existsSync(tmp)) return;
  try {
    fs.renameSync(tmp, final);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

function readBertConfig(dir: string): BertConfig {
  const configFile = path.join(dir, 'config.json');
  return parseBertConfig(readOptionalJson(configFile, 'the BertConfig') ?? {}, configFile);
}

/**
 * Builds the ONNX graph of a folder's config.json + model.safetensors into outDir (model.onnx, and
 * model.onnx.data unless externalData is false); returns the model.onnx path. What `embedrt convert`
 * writes and what load() caches.
 */
export function convertCheckpoint(
  dir: string,
  outDir: string,
  opts: { externalData?: boolean; quantize?: Quantization; clsOnly?: boolean; embedrtOps?: boolean } = {},
): string {
  const weights = path.join(dir, 'model.safetensors');
  const cfg = readBertConfig(dir);
  const st = SafetensorsFile.open(weights);
  try {
    return buildBertOnnx(cfg, (name) => (st.tensors.has(name) ? { shape: st.tensors.get(name)!.shape, data: st.float32(name) } : undefined), outDir, weights, opts);
  } finally {
    st.close();
  }
}

/**
 * The ONNX graph of a model folder: options.onnxFile, else onnx/model.onnx as shipped, else built from
 * model.safetensors (options.quantize 'int8': with int8 weights; `clsOnly`: the last layer computes
 * only the first row, for CLS-pooled models — output [batch, 1, hidden]; `embedrtOps`: the projections
 * run as com.embedrt.Linear, for embedrt's CPU sessions only).
 */
export function onnxGraphFor(dir: string, opts: LoadOptions = {}, build: { clsOnly?: boolean; embedrtOps?: boolean } = {}): string {
  if (opts.quantize !== undefined && opts.quantize !== 'int8' && opts.quantize !== 'int8-fast') {
    throw new EmbedrtError('E_BAD_INPUT', `options.quantize must be 'int8', 'int8-fast' or absent, got ${JSON.stringify(opts.quantize)}`);
  }
  if (opts.onnxFile !== undefined) {
    if (opts.quantize) throw new EmbedrtError('E_BAD_INPUT', 'options.onnxFile and options.quantize exclude each other: the file is used as it is');
    const file = path.resolve(dir, opts.onnxFile);
    if (typeof opts.onnxFile !== 'string' || !file.startsWith(path.resolve(dir) + path.sep) || !file.endsWith('.onnx')) {
      throw new EmbedrtError('E_BAD_INPUT', `options.onnxFile must name a .onnx file inside the model folder, got ${JSON.stringify(opts.onnxFile)}`);
    }
    if (!fs.existsSync(file)) throw new EmbedrtError('E_MODEL_FILES', `${file}: no such file (options.onnxFile)`);
    return file;
  }
  const shipped = path.join(dir, 'onnx', 'model.onnx');
  const weights = path.join(dir, 'model.safetensors');
  if (opts.quantize && !fs.existsSync(weights)) {
    throw new EmbedrtError('E_UNSUPPORTED', `${dir}: quantize '${opts.quantize}' builds from model.safetensors, which this folder lacks; run a quantized ONNX file with options.onnxFile`);
  }
  if (!opts.quantize && fs.existsSync(shipped)) return shipped;
  if (!fs.existsSync(weights)) {
    throw new EmbedrtError('E_MODEL_FILES', `${dir}: no onnx/model.onnx and no model.safetensors; embedrt needs one of them`);
  }
  // Part of the cache key: a graph built by an older builder (other quantization rules) is not reused.
  const embedrtOps = build.embedrtOps === true && !opts.quantize;
  const variant =
    (opts.quantize ? `|${opts.quantize}|${QUANTIZATION_RULES}` : '') +
    (build.clsOnly ? `|cls-only|${GRAPH_RULES}` : '') +
    (embedrtOps ? `|embedrt-ops|${LINEAR_RULES}` : '');
  const cfg = readBertConfig(dir);
  // Keyed by the checkpoint's content; a (path, size, mtime) index spares re-hashing it on every load.
  const stat = fs.statSync(weights);
  const statKey = crypto.createHash('sha256').update(`${fs.realpathSync(weights)}|${stat.size}|${stat.mtimeMs}|${JSON.stringify(cfg)}${variant}`).digest('hex').slice(0, 32);
  const index = path.join(cacheRoot(opts), 'onnx', 'by-stat', statKey);
  let key = fs.existsSync(index) ? fs.readFileSync(index, 'utf8').trim() : '';
  if (!/^[0-9a-f]{32}$/.test(key) || !fs.existsSync(path.join(cacheRoot(opts), 'onnx', key, 'model.onnx'))) {
    const hash = crypto.createHash('sha256');
    const fd = fs.openSync(weights, 'r');
    const buf = Buffer.alloc(16 << 20);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
    fs.closeSync(fd);
    hash.update(JSON.stringify(cfg));
    hash.update(`bert-graph-v1${variant}`);
    key = hash.digest('hex').slice(0, 32);
  }
  const out = path.join(cacheRoot(opts), 'onnx', key);
  const model = path.join(out, 'model.onnx');
  const remember = () => {
    fs.mkdirSync(path.dirname(index), { recursive: true });
    fs.writeFileSync(index, `${key}\n`);
  };
  if (fs.existsSync(model)) {
    remember();
    return model;
  }
  // Build into a temporary folder, then rename: a crash never leaves a half-written graph in the cache.
  const tmp = `${out}.tmp-${process.pid}-${Date.now()}`;
  convertCheckpoint(dir, tmp, {
    ...(opts.quantize ? { quantize: opts.quantize } : {}),
    ...(build.clsOnly ? { clsOnly: true } : {}),
    ...(embedrtOps ? { embedrtOps: true } : {}),
  });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  try {
    fs.renameSync(tmp, out);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another process won the race
  }
  remember();
  return model;
}

/**
 * A sentence-transformers model running on ONNX Runtime through embedrt's native core.
 *
 * @example
 * const model = await SentenceTransformer.load('BAAI/bge-base-en-v1.5', { truncateDim: 256 });
 * const emb = await model.encode(['What was revenue in 2023?'], { normalize: true });
 * emb.row(0); // Float32Array(256)
 */
export class SentenceTransformer {
  private handle: NativeModelHandle | undefined;

  private constructor(
    handle: NativeModelHandle,
    /** The resolved model folder. */
    readonly dir: string,
    readonly tokenizer: Tokenizer,
    private readonly settings: {
      maxSeqLength: number;
      lowercase: boolean;
      pooling: number[];
      normalizeModule: boolean;
      dim: number;
      truncateDim: number;
      prompts: Record<string, string>;
      defaultPromptName: string | undefined;
      similarity: string;
      graph: string;
      optimizedGraph: string | undefined;
    },
  ) {
    this.handle = handle;
  }

  /** Loads a model folder, or a hub id: from the Hugging Face cache, downloaded into it when missing. */
  static async load(idOrDir: string, opts: LoadOptions = {}): Promise<SentenceTransformer> {
    if (typeof idOrDir !== 'string' || idOrDir === '') {
      throw new EmbedrtError('E_BAD_INPUT', `SentenceTransformer.load: expected a folder or a hub id, got ${JSON.stringify(idOrDir)}`);
    }
    const device = opts.device ?? 'cpu';
    if (!['cpu', 'cuda', 'tensorrt', 'auto'].includes(device)) {
      throw new EmbedrtError('E_BAD_INPUT', `load: options.device must be 'cpu', 'cuda', 'tensorrt' or 'auto', got ${JSON.stringify(device)}`);
    }
    const dir = await locateModel(idOrDir, opts);
    const modulesFile = path.join(dir, 'modules.json');
    const modules = fs.existsSync(modulesFile) ? (readJsonFile(modulesFile, 'the module list') as { type?: string; path?: string }[]) : null;
    if (modules !== null && !Array.isArray(modules)) throw new EmbedrtError('E_MODEL_FILES', `${modulesFile}: expected a JSON array of modules`);
    let poolingDir = path.join(dir, '1_Pooling');
    let normalizeModule = false;
    for (const m of modules ?? []) {
      const type = String(m.type ?? '');
      if (type.endsWith('.Transformer')) continue;
      if (type.endsWith('.Pooling')) poolingDir = path.join(dir, m.path ?? '1_Pooling');
      else if (type.endsWith('.Normalize')) normalizeModule = true;
      else throw new EmbedrtError('E_UNSUPPORTED', `${modulesFile}: module type ${JSON.stringify(type)} is not supported (Transformer, Pooling, Normalize)`);
    }
    const poolingFile = path.join(poolingDir, 'config.json');
    const poolingCfg = readOptionalJson(poolingFile, 'the Pooling config') ?? { pooling_mode_mean_tokens: true };
    const pooling = POOLING_MODES.filter(([key]) => poolingCfg[key] === true).map(([, mode]) => mode);
    if (pooling.length === 0) throw new EmbedrtError('E_MODEL_FILES', `${poolingFile}: no pooling_mode_* is true`);
    if (poolingCfg.include_prompt === false) {
      throw new EmbedrtError('E_UNSUPPORTED', `${poolingFile}: include_prompt false is not supported yet`);
    }
    const sbert = readOptionalJson(path.join(dir, 'sentence_bert_config.json'), 'sentence_bert_config') ?? {};
    const st = readOptionalJson(path.join(dir, 'config_sentence_transformers.json'), 'config_sentence_transformers') ?? {};
    const bertCfg = readOptionalJson(path.join(dir, 'config.json'), 'the BertConfig') ?? {};
    const maxPos = typeof bertCfg.max_position_embeddings === 'number' ? bertCfg.max_position_embeddings : 512;
    const maxSeqLength = Math.min(typeof sbert.max_seq_length === 'number' ? sbert.max_seq_length : maxPos, maxPos);
    const tokenizer = Tokenizer.fromPretrained(dir);
    // CLS pooling alone (BGE): the built graph skips the last layer's work on every other token.
    const clsOnly = pooling.length === 1 && pooling[0] === 0;
    // On the CPU the projections run on embedrt's own kernels (com.embedrt.Linear); a GPU provider keeps
    // ONNX's MatMul, which it runs on the device.
    const graph = onnxGraphFor(dir, opts, { clsOnly, embedrtOps: device === 'cpu' });
    const Native = (native() as unknown as { NativeModel: NativeModelClass }).NativeModel;
    const tokHandle = (tokenizer as unknown as { handle: NativeTokenizerHandle }).handle;
    // ONNX Runtime's optimized graph is cached per graph, ORT version, CPU and device: the first load
    // saves it (to a temporary name, renamed when complete), later loads start from it.
    const optimized = optimizedGraphPath(graph, device, opts);
    const haveOptimized = fs.existsSync(optimized);
    const tmp = `${optimized}.tmp-${process.pid}-${Date.now()}`;
    if (!haveOptimized) fs.mkdirSync(path.dirname(optimized), { recursive: true });
    let handle: NativeModelHandle;
    try {
      handle = new Native(
        {
          modelPath: haveOptimized ? optimized : graph,
          intraOpThreads: opts.threads ?? 0,
          optimize: true,
          optimizedModelPath: haveOptimized ? '' : tmp,
          device,
          deviceId: opts.deviceId ?? 0,
        },
        tokHandle,
      );
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      fs.rmSync(`${tmp}.data`, { force: true });
      rethrowNative(e);
    }
    if (!haveOptimized) commitOptimized(tmp, optimized);
    if (handle.info().clsOnly && !clsOnly) {
      handle.dispose();
      throw new EmbedrtError('E_UNSUPPORTED', `${graph}: the graph returns only the first (CLS) row, but ${poolingFile} pools over every token`);
    }
    const hidden = handle.info().hiddenSize;
    const dim = hidden * pooling.length;
    const truncateDim = opts.truncateDim ?? 0;
    if (!isInteger(truncateDim) || truncateDim < 0 || truncateDim > dim) {
      throw new EmbedrtError('E_BAD_INPUT', `load: options.truncateDim must be an integer in [1, ${dim}], got ${String(opts.truncateDim)}`);
    }
    return new SentenceTransformer(handle, dir, tokenizer, {
      maxSeqLength,
      lowercase: sbert.do_lower_case === true,
      pooling,
      normalizeModule,
      dim,
      truncateDim,
      prompts: (st.prompts as Record<string, string>) ?? {},
      defaultPromptName: typeof st.default_prompt_name === 'string' ? st.default_prompt_name : undefined,
      similarity: typeof st.similarity_fn_name === 'string' ? st.similarity_fn_name : 'cosine',
      graph,
      optimizedGraph: haveOptimized ? optimized : undefined,
    });
  }

  /** Embedding size after truncation. */
  get dimension(): number {
    return this.settings.truncateDim || this.settings.dim;
  }

  get maxSeqLength(): number {
    return this.settings.maxSeqLength;
  }

  /** What runs: execution provider, why 'auto' fell back, the graph file, pooling, sizes. */
  info() {
    const i = this.live('info').info();
    return {
      provider: i.provider,
      fallbackReason: i.fallbackReason || undefined,
      graph: this.settings.graph,
      /** ONNX Runtime's cached optimized graph this session started from, if any. */
      optimizedGraph: this.settings.optimizedGraph,
      /** The graph returns only the CLS row: built so for CLS-pooled models, its last layer skips the other tokens. */
      clsOnly: i.clsOnly,
      dimension: this.dimension,
      maxSeqLength: this.settings.maxSeqLength,
      normalize: this.settings.normalizeModule,
      similarity: this.settings.similarity,
    };
  }

  /**
   * Embeds texts on native threads (tokenize, batch by length, run, pool) without blocking the event
   * loop. Results are in input order.
   */
  async encode(texts: readonly string[] | string, opts: EncodeOptions = {}): Promise<Embeddings> {
    const handle = this.live('encode');
    const list = typeof texts === 'string' ? [texts] : texts;
    if (!Array.isArray(list)) throw new EmbedrtError('E_BAD_INPUT', 'encode: expected a string or an array of strings');
    list.forEach((t, i) => {
      if (typeof t !== 'string') throw new EmbedrtError('E_BAD_INPUT', `encode: texts[${i}] must be a string, got ${t === null ? 'null' : typeof t}`);
    });
    const batchSize = opts.batchSize ?? 32;
    if (!isInteger(batchSize) || batchSize < 1) throw new EmbedrtError('E_BAD_INPUT', `encode: options.batchSize must be a positive integer, got ${String(batchSize)}`);
    const maxBatchTokens = opts.maxBatchTokens ?? batchSize * this.settings.maxSeqLength;
    if (!isInteger(maxBatchTokens) || maxBatchTokens < this.settings.maxSeqLength) {
      throw new EmbedrtError('E_BAD_INPUT', `encode: options.maxBatchTokens must be an integer ≥ max_seq_length (${this.settings.maxSeqLength}), got ${String(maxBatchTokens)}`);
    }
    const truncateDim = opts.truncateDim ?? this.settings.truncateDim;
    if (!isInteger(truncateDim) || truncateDim < 0 || truncateDim > this.settings.dim) {
      throw new EmbedrtError('E_BAD_INPUT', `encode: options.truncateDim must be an integer in [1, ${this.settings.dim}], got ${String(truncateDim)}`);
    }
    if (opts.prompt !== undefined && opts.promptName !== undefined) {
      throw new EmbedrtError('E_BAD_INPUT', 'encode: give options.prompt or options.promptName, not both');
    }
    let prompt = opts.prompt;
    const promptName = opts.promptName ?? (opts.prompt === undefined ? this.settings.defaultPromptName : undefined);
    if (promptName !== undefined) {
      prompt = this.settings.prompts[promptName];
      if (prompt === undefined) {
        throw new EmbedrtError('E_BAD_INPUT', `encode: prompt name ${JSON.stringify(promptName)} is not in config_sentence_transformers.json (has: ${Object.keys(this.settings.prompts).join(', ') || 'none'})`);
      }
    }
    if (opts.signal?.aborted) throw new EmbedrtError('E_ABORTED', 'encode: the signal was already aborted');
    // sentence-transformers: prompt + text, then lower-case when do_lower_case.
    let inputs = prompt ? list.map((t) => prompt + t) : [...list];
    if (this.settings.lowercase) inputs = inputs.map((t) => t.toLowerCase());
    const Native = (native() as unknown as { NativeModel: NativeModelClass }).NativeModel;
    const flag = opts.signal ? Native.createCancelFlag() : undefined;
    const onAbort = () => Native.cancel(flag);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const callerStack = new Error();
    let r: Awaited<ReturnType<NativeModelHandle['encode']>>;
    try {
      r = await handle.encode(
        inputs,
        {
          maxLength: this.settings.maxSeqLength,
          batchSize,
          maxBatchTokens,
          pooling: this.settings.pooling,
          normalizeModule: this.settings.normalizeModule,
          truncateDim,
          normalize: opts.normalize === true,
        },
        opts.onProgress,
        flag,
      );
    } catch (e) {
      rethrowNative(e, callerStack);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
    const truncated: number[] = [];
    r.truncated.forEach((t, i) => t && truncated.push(i));
    return new Embeddings(r.data, r.rows, r.dim, truncated, { real: r.tokens, padded: r.paddedTokens });
  }

  /** Releases the ONNX Runtime session; later calls fail with E_DISPOSED. Idempotent. */
  dispose(): void {
    this.handle?.dispose();
    this.handle = undefined;
  }

  private live(where: string): NativeModelHandle {
    if (!this.handle) throw new EmbedrtError('E_DISPOSED', `${where}: the model was disposed; load it again`);
    return this.handle;
  }
}
