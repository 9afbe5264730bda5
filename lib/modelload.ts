// Finding a model folder (a local folder, or a hub id from the cache or the hub) and opening its ONNX
// Runtime session, with ONNX Runtime's optimized form of the graph cached.
import fs from 'node:fs';
import path from 'node:path';
import { EmbedrtError, rethrowNative } from './errors.js';
import { native, type NativeModelHandle, type NativeTokenizerHandle } from './native.js';
import { cachedSnapshot, downloadModel, hubCacheDir, HUB_OPTION_KEYS, isHubId, snapshotLooksComplete, type HubOptions } from './hub.js';
import { countOption, describe, optionsOf, ownKey, signalOf, type OptionKeys } from './validate.js';
import { entryIsValid, entryWorkspace, publishEntry, removeEntry } from './graphcache.js';
import { embedrtKernels, graphFor, optimizedEntry, type GraphOptions } from './graph.js';
import type { Quantization } from './onnx/encoder.js';

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
   * Build the graph from model.safetensors with reduced-precision projections (needs a safetensors
   * checkpoint; default float32). 'int8': on CPUs with AVX-512 VNNI, embedrt's own int8 kernels (weights
   * per output channel, activations per row, exact integer sums); elsewhere ONNX Runtime's int8 ops
   * (dynamic quantization for the attention projections, 8-bit blockwise for the feed-forward layers) —
   * cosine to fp32 ≥ 0.99 per text either way. 'int8-fast': ONNX Runtime's dynamic quantization
   * everywhere — less faithful. 'bf16': bfloat16 weights and activations, float32 sums, on embedrt's CPU
   * kernels only (fastest with AVX512-BF16) — cosine to fp32 ≥ 0.9999 per text. 'fp16': float16
   * projection weights and products, the rest float32 — for GPUs (on a CPU, ONNX Runtime runs it in
   * float32 with float16-rounded weights: no faster there). See README and bench/README.md for numbers.
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

const DEVICES: Readonly<Record<Device, true>> = { cpu: true, cuda: true, tensorrt: true, auto: true };
/** More intra-op threads than this is a mistake, not a machine (each is an OS thread). */
const MAX_THREADS = 256;
const { revision: _revision, ...LOAD_HUB_KEYS } = HUB_OPTION_KEYS;

/**
 * The options every model class's load() takes, checked (`keys`: the class's own set); `step()` throws
 * E_ABORTED once the signal is aborted.
 */
export function loadOptionsOf<T extends Omit<LoadOptions, 'truncateDim' | 'onnxFile'>>(idOrDir: unknown, options: T | undefined, where: string, keys: OptionKeys<T>) {
  const opts = optionsOf(options, 'load', keys);
  if (opts.hub != null && typeof opts.hub === 'object' && Object.hasOwn(opts.hub, 'revision')) {
    throw new EmbedrtError('E_BAD_INPUT', 'load: options.hub.revision is not an option of load; give the revision as options.revision');
  }
  if (opts.hub != null) optionsOf(opts.hub, 'load', LOAD_HUB_KEYS, 'options.hub');
  if (typeof idOrDir !== 'string' || idOrDir === '') {
    throw new EmbedrtError('E_BAD_INPUT', `${where}: expected a folder or a hub id, got ${describe(idOrDir)}`);
  }
  const device = opts.device ?? 'cpu';
  if (!ownKey(DEVICES, device)) {
    throw new EmbedrtError('E_BAD_INPUT', `load: options.device must be 'cpu', 'cuda', 'tensorrt' or 'auto', got ${describe(device)}`);
  }
  const threads = countOption(opts.threads, 'load', 'threads', 1, MAX_THREADS) ?? 0;
  const deviceId = countOption(opts.deviceId, 'load', 'deviceId', 0, 1023) ?? 0;
  if (opts.cacheDir != null && (typeof opts.cacheDir !== 'string' || opts.cacheDir === '')) {
    throw new EmbedrtError('E_BAD_INPUT', `load: options.cacheDir must be a folder path, got ${describe(opts.cacheDir)}`);
  }
  const signal = signalOf(opts.signal, 'load');
  const step = () => {
    if (signal?.aborted) throw new EmbedrtError('E_ABORTED', 'load: aborted');
  };
  step();
  return { opts, device, signal, step, sessionOptions: { device, deviceId, threads, cacheDir: opts.cacheDir ?? undefined } };
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
  const signal = opts.signal ?? opts.hub?.signal;
  const hub: HubOptions = { ...opts.hub, revision: opts.revision ?? 'main', ...(signal ? { signal } : {}) };
  const cached = cachedSnapshot(idOrDir, hub);
  if (cached !== undefined && snapshotLooksComplete(cached)) return cached;
  return (await downloadModel(idOrDir, hub)).dir;
}

/**
 * An ONNX Runtime session over `graph`, started from ONNX Runtime's cached optimized form when there is
 * a valid one (optimizedEntry: not every graph has one). The first load saves that form into the cache; a damaged cached form is dropped and
 * rebuilt; an unwritable cache only means the optimization is not saved.
 */
export async function openSession(
  graph: string,
  tokenizer: NativeTokenizerHandle,
  o: { device: Device; deviceId: number; threads: number; cacheDir: string | undefined },
  output: 'last_hidden_state' | 'logits' = 'last_hidden_state',
): Promise<{ handle: NativeModelHandle; optimizedGraph: string | undefined }> {
  const Native = native().NativeModel;
  // The session is created on a native worker thread (seconds for BERT-base); the handle wraps it.
  const create = async (modelPath: string, saveTo: string) =>
    new Native(await Native.createSession({ modelPath, intraOpThreads: o.threads, optimize: true, optimizedModelPath: saveTo, device: o.device, deviceId: o.deviceId, output }), tokenizer);
  const entry = optimizedEntry(graph, o.device, o.cacheDir);
  if (entry === undefined) return { handle: await create(graph, ''), optimizedGraph: undefined };
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
 * A session of the graph that returns every token, for a model whose own graph returns only the CLS
 * row (token embeddings need them all): built (or found in the cache) like load()'s, without clsOnly.
 */
export async function openFullGraph(
  dir: string,
  opts: GraphOptions,
  device: Device,
  tokenizer: NativeTokenizerHandle,
  o: { device: Device; deviceId: number; threads: number; cacheDir: string | undefined },
): Promise<NativeModelHandle> {
  const full = await graphFor(dir, opts, { embedrtOps: embedrtKernels(device, opts.quantize) }, undefined);
  const { handle } = await openSession(full, tokenizer, o);
  if (handle.info().clsOnly) {
    handle.dispose();
    throw new EmbedrtError('E_UNSUPPORTED', `encode: token embeddings need a graph that returns every token, and ${full} returns only the first (CLS) row`);
  }
  return handle;
}
