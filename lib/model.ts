// SentenceTransformer: a model folder (Hugging Face / sentence-transformers layout) loaded into an
// ONNX Runtime session, and an async, zero-copy encode that follows sentence-transformers.
import fs from 'node:fs';
import path from 'node:path';
import { EmbedrtError, rethrowNative } from './errors.js';
import { native, type NativeModelHandle, type NativeTokenizerHandle } from './native.js';
import { cachedSnapshot, downloadModel, hubCacheDir, isHubId, snapshotLooksComplete, type HubOptions } from './hub.js';
import type { Quantization } from './onnx/bert.js';
import { readModelSpec } from './modelspec.js';
import { Tokenizer } from './tokenizer.js';
import { entryIsValid, entryWorkspace, publishEntry, removeEntry } from './graphcache.js';
import { graphFor, optimizedEntry } from './graph.js';

export { convertCheckpoint, onnxGraphFor } from './graph.js';
export { Embeddings } from './embeddings.js';
import { Embeddings } from './embeddings.js';
import { ModelFolder } from './modelfiles.js';
import { countOption, describe, isCount, isInteger, optionsOf, ownKey, signalOf, type OptionKeys } from './validate.js';
import { HUB_OPTION_KEYS } from './hub.js';

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
  /** Aborts the load between its steps (download, reading the folder, building the graph, the session). */
  signal?: AbortSignal;
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

const LOAD_KEYS: OptionKeys<LoadOptions> = {
  device: true, deviceId: true, truncateDim: true, threads: true, revision: true, cacheDir: true, quantize: true, onnxFile: true, hub: true, signal: true,
};
const { revision: _revision, ...LOAD_HUB_KEYS } = HUB_OPTION_KEYS;
const ENCODE_KEYS: OptionKeys<EncodeOptions> = {
  batchSize: true, maxBatchTokens: true, normalize: true, truncateDim: true, prompt: true, promptName: true, onProgress: true, signal: true,
};

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
  const signal = opts.signal ?? opts.hub?.signal;
  const hub: HubOptions = { ...opts.hub, revision: opts.revision ?? 'main', ...(signal ? { signal } : {}) };
  const cached = cachedSnapshot(idOrDir, hub);
  if (cached !== undefined && snapshotLooksComplete(cached)) return cached;
  return (await downloadModel(idOrDir, hub)).dir;
}

const DEVICES: Readonly<Record<Device, true>> = { cpu: true, cuda: true, tensorrt: true, auto: true };
/** More intra-op threads than this is a mistake, not a machine (each is an OS thread). */
const MAX_THREADS = 256;

/**
 * An ONNX Runtime session over `graph`, started from ONNX Runtime's cached optimized form when there is
 * a valid one. The first load saves that form into the cache; a damaged cached form is dropped and
 * rebuilt; an unwritable cache only means the optimization is not saved.
 */
async function openSession(
  graph: string,
  tokenizer: NativeTokenizerHandle,
  o: { device: Device; deviceId: number; threads: number; cacheDir: string | undefined },
): Promise<{ handle: NativeModelHandle; optimizedGraph: string | undefined }> {
  const Native = native().NativeModel;
  // The session is created on a native worker thread (seconds for BERT-base); the handle wraps it.
  const create = async (modelPath: string, saveTo: string) =>
    new Native(await Native.createSession({ modelPath, intraOpThreads: o.threads, optimize: true, optimizedModelPath: saveTo, device: o.device, deviceId: o.deviceId }), tokenizer);
  const entry = optimizedEntry(graph, o.device, o.cacheDir);
  if (entryIsValid(entry)) {
    const optimized = path.join(entry, 'model.onnx');
    try {
      return { handle: await create(optimized, ''), optimizedGraph: optimized };
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'E_MODEL_FILES') rethrowNative(e);
      removeEntry(entry); // damaged: rebuilt below from the source graph
    }
  }
  let tmp: string | undefined;
  try {
    tmp = entryWorkspace(entry);
  } catch {
    tmp = undefined; // the cache cannot be written: run without saving the optimized graph
  }
  let handle: NativeModelHandle;
  try {
    handle = await create(graph, tmp ? path.join(tmp, 'model.onnx') : '');
  } catch (e) {
    if (tmp === undefined) rethrowNative(e);
    fs.rmSync(tmp, { recursive: true, force: true });
    tmp = undefined;
    try {
      handle = await create(graph, ''); // saving failed (a full disk?): the session itself may still start
    } catch (e2) {
      rethrowNative(e2);
    }
  }
  if (tmp !== undefined) {
    try {
      publishEntry(tmp, entry);
    } catch {
      // not cached this time; the session runs all the same
    }
  }
  return { handle, optimizedGraph: undefined };
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
  static async load(idOrDir: string, options?: LoadOptions): Promise<SentenceTransformer> {
    const opts = optionsOf(options, 'load', LOAD_KEYS);
    if (opts.hub != null && typeof opts.hub === 'object' && Object.hasOwn(opts.hub, 'revision')) {
      throw new EmbedrtError('E_BAD_INPUT', 'load: options.hub.revision is not an option of load; give the revision as options.revision');
    }
    if (opts.hub != null) optionsOf(opts.hub, 'load', LOAD_HUB_KEYS, 'options.hub');
    if (typeof idOrDir !== 'string' || idOrDir === '') {
      throw new EmbedrtError('E_BAD_INPUT', `SentenceTransformer.load: expected a folder or a hub id, got ${describe(idOrDir)}`);
    }
    const device = opts.device ?? 'cpu';
    if (!ownKey(DEVICES, device)) {
      throw new EmbedrtError('E_BAD_INPUT', `load: options.device must be 'cpu', 'cuda', 'tensorrt' or 'auto', got ${describe(device)}`);
    }
    const threads = countOption(opts.threads, 'load', 'threads', 1, MAX_THREADS) ?? 0;
    const deviceId = countOption(opts.deviceId, 'load', 'deviceId', 0, 1023) ?? 0;
    if (opts.truncateDim != null && (!isInteger(opts.truncateDim) || opts.truncateDim < 1)) {
      throw new EmbedrtError('E_BAD_INPUT', `load: options.truncateDim must be a positive integer, got ${describe(opts.truncateDim)}`);
    }
    if (opts.cacheDir != null && (typeof opts.cacheDir !== 'string' || opts.cacheDir === '')) {
      throw new EmbedrtError('E_BAD_INPUT', `load: options.cacheDir must be a folder path, got ${describe(opts.cacheDir)}`);
    }
    const signal = signalOf(opts.signal, 'load');
    const step = () => {
      if (signal?.aborted) throw new EmbedrtError('E_ABORTED', 'load: aborted');
    };
    step();
    const dir = await locateModel(idOrDir, opts);
    step();
    const folder = new ModelFolder(dir);
    const spec = readModelSpec(folder);
    const tokenizer = await Tokenizer.load(dir, { signal });
    if (spec.vocabSize !== undefined && tokenizer.vocabSize > spec.vocabSize) {
      throw new EmbedrtError('E_MODEL_FILES', `${dir}: the tokenizer has ${tokenizer.vocabSize} ids, config.json's vocab_size is ${spec.vocabSize}; the two do not belong together`);
    }
    // CLS pooling alone (BGE): the built graph skips the last layer's work on every other token.
    const clsOnly = spec.pooling.length === 1 && spec.pooling[0] === 0;
    // On the CPU the projections run on embedrt's own kernels (com.embedrt.Linear); a GPU provider keeps
    // ONNX's MatMul, which it runs on the device.
    step();
    const graph = await graphFor(dir, opts, { clsOnly, embedrtOps: device === 'cpu' }, signal);
    step();
    const tokHandle = tokenizer.handle;
    const { handle, optimizedGraph } = await openSession(graph, tokHandle, { device, deviceId, threads, cacheDir: opts.cacheDir ?? undefined });
    const fail = (e: EmbedrtError): never => {
      handle.dispose();
      throw e;
    };
    if (handle.info().clsOnly && !clsOnly) {
      fail(new EmbedrtError('E_UNSUPPORTED', `${graph}: the graph returns only the first (CLS) row, but ${spec.poolingFile} pools over every token`));
    }
    const dim = handle.info().hiddenSize * spec.pooling.length;
    const truncateDim = opts.truncateDim ?? 0;
    if (truncateDim > dim) fail(new EmbedrtError('E_BAD_INPUT', `load: options.truncateDim must be an integer in [1, ${dim}], got ${truncateDim}`));
    if (signal?.aborted) fail(new EmbedrtError('E_ABORTED', 'load: aborted'));
    return new SentenceTransformer(handle, dir, tokenizer, {
      maxSeqLength: spec.maxSeqLength,
      lowercase: spec.lowercase,
      pooling: spec.pooling,
      normalizeModule: spec.normalizeModule,
      dim,
      truncateDim,
      prompts: spec.prompts,
      defaultPromptName: spec.defaultPromptName,
      similarity: spec.similarity,
      graph,
      optimizedGraph,
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
  async encode(texts: readonly string[] | string, options?: EncodeOptions): Promise<Embeddings> {
    const handle = this.live('encode');
    const opts = optionsOf(options, 'encode', ENCODE_KEYS);
    const list = typeof texts === 'string' ? [texts] : texts;
    if (!Array.isArray(list)) throw new EmbedrtError('E_BAD_INPUT', `encode: expected a string or an array of strings, got ${describe(texts)}`);
    // A plain loop: forEach would skip the holes of a sparse array.
    for (let i = 0; i < list.length; i++) {
      if (typeof list[i] !== 'string') throw new EmbedrtError('E_BAD_INPUT', `encode: texts[${i}] must be a string, got ${describe(list[i])}`);
    }
    const batchSize = opts.batchSize ?? 32;
    if (!isCount(batchSize) || batchSize < 1) throw new EmbedrtError('E_BAD_INPUT', `encode: options.batchSize must be a positive integer, got ${describe(batchSize)}`);
    const maxBatchTokens = opts.maxBatchTokens ?? batchSize * this.settings.maxSeqLength;
    if (!isCount(maxBatchTokens) || maxBatchTokens < this.settings.maxSeqLength) {
      throw new EmbedrtError('E_BAD_INPUT', `encode: options.maxBatchTokens must be an integer ≥ max_seq_length (${this.settings.maxSeqLength}), got ${describe(maxBatchTokens)}`);
    }
    const truncateDim = opts.truncateDim ?? this.settings.truncateDim;
    if (!isInteger(truncateDim) || truncateDim < 0 || truncateDim > this.settings.dim || (opts.truncateDim != null && truncateDim === 0)) {
      throw new EmbedrtError('E_BAD_INPUT', `encode: options.truncateDim must be an integer in [1, ${this.settings.dim}], got ${describe(opts.truncateDim)}`);
    }
    if (opts.normalize != null && typeof opts.normalize !== 'boolean') {
      throw new EmbedrtError('E_BAD_INPUT', `encode: options.normalize must be a boolean, got ${describe(opts.normalize)}`);
    }
    if (opts.onProgress != null && typeof opts.onProgress !== 'function') {
      throw new EmbedrtError('E_BAD_INPUT', `encode: options.onProgress must be a function, got ${describe(opts.onProgress)}`);
    }
    const signal = signalOf(opts.signal, 'encode');
    const prompt = this.promptOf(opts);
    if (signal?.aborted) throw new EmbedrtError('E_ABORTED', 'encode: the signal was already aborted');
    // sentence-transformers: prompt + text, then lower-case when do_lower_case.
    let inputs = prompt ? list.map((t) => prompt + t) : [...list];
    if (this.settings.lowercase) inputs = inputs.map((t) => t.toLowerCase());
    const Native = native().NativeModel;
    const flag = signal || opts.onProgress ? Native.createCancelFlag() : undefined;
    const onAbort = () => Native.cancel(flag);
    signal?.addEventListener('abort', onAbort, { once: true });
    // Progress reaches the caller only while the call is pending, in order, ending with (total, total)
    // before the promise settles; what the callback throws aborts the encode and rejects it.
    let settled = false;
    let reported = -1;
    let progressError: { error: unknown } | undefined;
    const report = (done: number, total: number) => {
      if (settled || progressError || done <= reported) return;
      reported = done;
      try {
        opts.onProgress!(done, total);
      } catch (error) {
        progressError = { error };
        Native.cancel(flag);
      }
    };
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
        opts.onProgress ? report : undefined,
        flag,
      );
      if (opts.onProgress) report(inputs.length, inputs.length);
    } catch (e) {
      if (progressError) throw progressError.error;
      rethrowNative(e, callerStack);
    } finally {
      settled = true;
      signal?.removeEventListener('abort', onAbort);
    }
    if (progressError) throw progressError.error;
    const truncated: number[] = [];
    r.truncated.forEach((t, i) => t && truncated.push(i));
    return new Embeddings(r.data, r.rows, r.dim, truncated, { real: r.tokens, padded: r.paddedTokens });
  }

  /** The prompt an encode call asks for: options.prompt, options.promptName, else the model's default. */
  private promptOf(opts: EncodeOptions): string | undefined {
    if (opts.prompt != null && opts.promptName != null) {
      throw new EmbedrtError('E_BAD_INPUT', 'encode: give options.prompt or options.promptName, not both');
    }
    if (opts.prompt != null) {
      if (typeof opts.prompt !== 'string') throw new EmbedrtError('E_BAD_INPUT', `encode: options.prompt must be a string, got ${describe(opts.prompt)}`);
      return opts.prompt;
    }
    const name = opts.promptName ?? this.settings.defaultPromptName;
    if (name === undefined) return undefined;
    if (!ownKey(this.settings.prompts, name)) {
      throw new EmbedrtError('E_BAD_INPUT', `encode: prompt name ${typeof name === 'string' ? JSON.stringify(name) : describe(name)} is not in config_sentence_transformers.json (has: ${Object.keys(this.settings.prompts).join(', ') || 'none'})`);
    }
    return this.settings.prompts[name];
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
