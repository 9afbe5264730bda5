// Which ONNX graph a model folder runs, and getting it: options.onnxFile, a shipped onnx/model.onnx, or
// a graph built from model.safetensors (cached by content, built in a worker thread for load()); and
// where ONNX Runtime's optimized form of a graph is cached. The cache mechanics are graphcache.ts's.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EmbedrtError } from './errors.js';
import { cacheError, cacheRoot, contentHash, entryIsValid, entryWorkspace, fileIdentity, publishEntry, removeWorkspaces, sweepLeftovers, writeFileAtomic } from './graphcache.js';
import { ModelFolder } from './modelfiles.js';
import { native } from './native.js';
import { runOffThread } from './offthread.js';
import { EMBEDRT_DOMAIN, GRAPH_RULES, QUANTIZATIONS, QUANTIZATION_RULES, buildEncoderOnnx, type Quantization } from './onnx/encoder.js';
import { parseEncoderConfig, type ClassifierHead, type EncoderConfig } from './onnx/config.js';
import { SafetensorsFile } from './safetensors.js';
import { describe, ownKey } from './validate.js';
import { mkdirp } from './files.js';

/** The load options that choose a graph (LoadOptions has them too). */
export interface GraphOptions {
  cacheDir?: string | null;
  quantize?: Quantization | null;
  onnxFile?: string | null;
}

function readEncoderConfig(folder: ModelFolder): EncoderConfig {
  const v = folder.optionalObject('config.json', 'the model config');
  if (v === undefined) throw new EmbedrtError('E_MODEL_FILES', `${folder.join('config.json')}: not found (expected the model config)`);
  return parseEncoderConfig(v, folder.join('config.json'));
}

/**
 * Builds the ONNX graph of a folder's config.json + model.safetensors into outDir (model.onnx, and
 * model.onnx.data unless externalData is false); returns the model.onnx path. What `embedrt convert`
 * writes and what load() caches.
 */
export function convertCheckpoint(
  dir: string,
  outDir: string,
  opts: { externalData?: boolean; quantize?: Quantization; clsOnly?: boolean; embedrtOps?: boolean; linkCheckpoint?: boolean; head?: ClassifierHead; emulateHalf?: boolean } = {},
): string {
  const folder = new ModelFolder(dir);
  const cfg = readEncoderConfig(folder);
  const weights = folder.file('model.safetensors', 'the weights');
  const { linkCheckpoint, ...build } = opts;
  const checkpoint = linkCheckpoint ? linkInto(weights, outDir) : undefined;
  const st = SafetensorsFile.open(weights);
  try {
    const source = (name: string) => {
      const t = st.tensors.get(name);
      if (!t) return undefined;
      // safetensors is little-endian: an F32 tensor's bytes are the initializer's as they lie.
      return { shape: t.shape, data: () => st.float32(name), ...(t.dtype === 'F32' ? { at: { offset: t.begin, length: t.end - t.begin } } : {}) };
    };
    return buildEncoderOnnx(cfg, source, outDir, weights, { ...build, ...(checkpoint ? { checkpoint } : {}) });
  } finally {
    st.close();
  }
}

/** The name the checkpoint gets beside a cached graph that points into it. */
export const CHECKPOINT_LINK = 'checkpoint.safetensors';

/**
 * A hard link to the checkpoint in `outDir`, so the graph there can point into it (ONNX Runtime
 * accepts external data only inside the graph's folder: no symbolic link, absolute path or `..`).
 * undefined where a hard link cannot be made (another file system, a file system or policy without
 * them): the graph then holds its own copy of the weights.
 */
function linkInto(weights: string, outDir: string): string | undefined {
  try {
    mkdirp(outDir);
    fs.linkSync(fs.realpathSync(weights), path.join(outDir, CHECKPOINT_LINK));
    return CHECKPOINT_LINK;
  } catch {
    return undefined;
  }
}

/**
 * The ONNX graph of a model folder: options.onnxFile, else onnx/model.onnx as shipped, else built from
 * model.safetensors (options.quantize 'int8': with int8 weights; `clsOnly`: the last layer computes
 * only the first row, for CLS-pooled models — output [batch, 1, hidden]; `embedrtOps`: the projections
 * run as com.embedrt.Linear, for embedrt's CPU sessions only). Every file it reads is confined to the
 * folder (modelfiles.ts); built graphs are cached by the checkpoint's content (graphcache.ts).
 */
export function onnxGraphFor(dir: string, opts?: GraphOptions, build?: GraphBuild): string;
/** `cachedOnly`: undefined instead of hashing or building (what is left to do is slow: graphFor runs it off the JS thread). */
export function onnxGraphFor(dir: string, opts: GraphOptions, build: GraphBuild, how: { cachedOnly?: boolean; tag?: string }): string | undefined;
export function onnxGraphFor(dir: string, opts: GraphOptions = {}, build: GraphBuild = {}, how: { cachedOnly?: boolean; tag?: string } = {}): string | undefined {
  if (opts.quantize != null && !ownKey(QUANTIZATIONS, opts.quantize)) {
    throw new EmbedrtError('E_BAD_INPUT', `options.quantize must be 'int8', 'int8-fast', 'fp16', 'bf16' or absent, got ${describe(opts.quantize)}`);
  }
  const folder = new ModelFolder(dir);
  if (opts.onnxFile != null) {
    if (opts.quantize) throw new EmbedrtError('E_BAD_INPUT', 'options.onnxFile and options.quantize exclude each other: the file is used as it is');
    if (typeof opts.onnxFile !== 'string' || !opts.onnxFile.endsWith('.onnx') || path.isAbsolute(opts.onnxFile) || opts.onnxFile.split(/[\\/]/).includes('..')) {
      throw new EmbedrtError('E_BAD_INPUT', `options.onnxFile must name a .onnx file inside the model folder, got ${describe(opts.onnxFile)}`);
    }
    return folder.file(opts.onnxFile, 'options.onnxFile');
  }
  const hasWeights = folder.has('model.safetensors');
  if (opts.quantize && !hasWeights) {
    throw new EmbedrtError('E_UNSUPPORTED', `${dir}: quantize '${opts.quantize}' builds from model.safetensors, which this folder lacks; run a quantized ONNX file with options.onnxFile`);
  }
  // A cross-encoder's graph is built from its checkpoint when it has one (the head embedrt builds is the
  // one its fixtures check); a shipped export (logits [batch, labels]) runs when it has not.
  if (!opts.quantize && folder.has('onnx/model.onnx') && !(build.head && hasWeights)) return folder.file('onnx/model.onnx', 'the ONNX graph');
  if (!hasWeights) {
    throw new EmbedrtError('E_MODEL_FILES', `${dir}: no onnx/model.onnx and no model.safetensors; embedrt needs one of them`);
  }
  const weights = folder.file('model.safetensors', 'the weights');
  const configFile = folder.file('config.json', 'the model config');
  const cfg = readEncoderConfig(folder);
  // Part of the cache key: a graph built by an older builder (other quantization rules) is not reused.
  // embedrt's ops run float32, int8 and bfloat16 projections; int8-fast and fp16 are ONNX Runtime's.
  const embedrtOps = build.embedrtOps === true && opts.quantize !== 'int8-fast' && opts.quantize !== 'fp16';
  if (opts.quantize === 'bf16' && !embedrtOps) {
    throw new EmbedrtError('E_UNSUPPORTED', "quantize 'bf16' runs on embedrt's own CPU kernels only: not on a GPU provider, nor with EMBEDRT_KERNELS=onnxruntime (use 'fp16' on a GPU)");
  }
  const variant =
    (opts.quantize ? `|${opts.quantize}|${QUANTIZATION_RULES}` : '') +
    (build.clsOnly ? `|cls-only|${GRAPH_RULES}` : '') +
    (embedrtOps ? `|embedrt-ops|${GRAPH_RULES}` : '') +
    (build.head ? `|head|${build.head.architecture}|${build.head.numLabels}|logits-2d|${GRAPH_RULES}` : '');
  const root = path.join(cacheRoot(opts.cacheDir ?? undefined), 'onnx');
  sweepLeftovers(root);
  // Keyed by the checkpoint's content; an index by the files' on-disk identity spares re-hashing
  // 440 MB on every load, and any change to either file (even one that keeps size and mtime) misses it.
  const indexOf = () => path.join(root, 'by-identity', crypto.createHash('sha256').update(`${fileIdentity([weights, configFile])}${variant}`).digest('hex').slice(0, 32));
  const index = indexOf();
  let key = fs.existsSync(index) ? fs.readFileSync(index, 'utf8').trim() : '';
  if (!/^[0-9a-f]{32}$/.test(key) || !entryIsValid(path.join(root, key))) {
    if (how.cachedOnly) return undefined;
    key = contentHash(weights, `${JSON.stringify(cfg)}|bert-graph-v3${variant}`);
  }
  const entry = path.join(root, key);
  if (!entryIsValid(entry)) {
    const tmp = entryWorkspace(entry, how.tag);
    try {
      convertCheckpoint(dir, tmp, {
        linkCheckpoint: true,
        ...(opts.quantize ? { quantize: opts.quantize } : {}),
        ...(build.clsOnly ? { clsOnly: true } : {}),
        ...(embedrtOps ? { embedrtOps: true } : {}),
        ...(build.head ? { head: build.head } : {}),
      });
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw cacheError(root, e); // a file error here is the cache's (ENOSPC, EACCES), not the model's
    }
    publishEntry(tmp, entry, [CHECKPOINT_LINK]);
  }
  // After linking, for the link changed the checkpoint's ctime (and so its identity).
  writeFileAtomic(indexOf(), `${key}\n`);
  return path.join(entry, 'model.onnx');
}

/**
 * Whether a session's projections run on embedrt's own kernels (com.embedrt.Linear, LinearInt8,
 * LinearBF16) rather than ONNX Runtime's. Only on the CPU, and only where embedrt's were measured faster:
 *  - float32: CPUs with AVX-512 (bench/README, 2026-11-27: 2.9× transformers.js's throughput, single
 *    texts at 0.6–0.8× its time). On an AVX2-only host (2026-12-04) MLAS ran batches 2.3× and single
 *    texts 1.6× faster than embedrt's AVX2 kernels, so there, and on CPUs never measured (ARM), ONNX
 *    Runtime's run.
 *  - 'int8': CPUs with AVX-512 VNNI (measured: 2.5–2.9× embedrt's float32). embedrt also has AVX-VNNI,
 *    AVX2, NEON and NEON-sdot int8 kernels (linear_lowp.h), tested under emulation but never timed
 *    against ONNX Runtime's int8 ops on such a CPU: there ONNX Runtime's run unless EMBEDRT_KERNELS says.
 *  - 'bf16': always (only embedrt runs it; without AVX512-BF16, by float32 FMAs — AVX-512, AVX2, NEON —
 *    or plain C++).
 *  - 'int8-fast', 'fp16': never (ONNX Runtime's ops by definition).
 * EMBEDRT_KERNELS=embedrt|onnxruntime decides instead (benchmarks, tests); auto is the default.
 */
export function embedrtKernels(device: string, quantize?: Quantization | null): boolean {
  const choice = process.env.EMBEDRT_KERNELS || 'auto';
  if (choice !== 'auto' && choice !== 'embedrt' && choice !== 'onnxruntime') {
    throw new EmbedrtError('E_BAD_INPUT', `EMBEDRT_KERNELS must be auto, embedrt or onnxruntime, got ${describe(choice)}`);
  }
  if (device !== 'cpu' || quantize === 'int8-fast' || quantize === 'fp16') return false;
  if (choice !== 'auto') return choice === 'embedrt';
  const simd = native().runtimeInfo().simd;
  return quantize === 'bf16' || (quantize === 'int8' ? simd === 'avx512+vnni' : simd.startsWith('avx512'));
}

/** What load() asks of the graph builder: see onnxGraphFor. */
export interface GraphBuild {
  clsOnly?: boolean;
  embedrtOps?: boolean;
  /** A cross-encoder's classification head on the CLS row: the graph's output is its logits. */
  head?: ClassifierHead;
}

/**
 * onnxGraphFor for load(): a cached graph is found on the JS thread (a few stats); hashing a checkpoint
 * and building its graph run in a worker thread, so the event loop stays free and `signal` can stop
 * them (the worker is terminated, its half-built cache entry removed).
 */
export async function graphFor(dir: string, opts: GraphOptions, build: GraphBuild, signal: AbortSignal | undefined): Promise<string> {
  const cached = onnxGraphFor(dir, opts, build, { cachedOnly: true });
  if (cached !== undefined) return cached;
  const tag = crypto.randomBytes(6).toString('hex');
  const plain = { cacheDir: opts.cacheDir ?? undefined, quantize: opts.quantize ?? undefined, onnxFile: opts.onnxFile ?? undefined };
  try {
    return await runOffThread<string>({ task: 'graph', dir, opts: plain, build, tag }, signal, 'building the graph');
  } finally {
    removeWorkspaces(path.join(cacheRoot(opts.cacheDir ?? undefined), 'onnx'), tag);
  }
}

/**
 * Where ONNX Runtime's optimized form of `graph` is cached: per source (a graph built here: its entry;
 * any other: the identity of every file in its folder, model.onnx and whatever external data it
 * loads), ORT version, CPU and device. Undefined for a graph built here whose projections are
 * com.embedrt.Linear: their kernels pack the weights when the session starts and ONNX Runtime has
 * nothing heavy to fold, so that form would only hold the weights a second time on disk (416 MB for
 * BERT-base) to spare ~0.1 s of a load.
 */
export function optimizedEntry(graph: string, device: string, cacheDir: string | undefined): string | undefined {
  // A graph this cache built is named by its entry, whose key is the checkpoint's content (the identity
  // of its files would change whenever another entry links the same checkpoint); any other graph by
  // the identity of every file in its folder.
  const dir = path.dirname(path.resolve(graph));
  const built = path.dirname(dir) === path.resolve(cacheRoot(cacheDir), 'onnx') && /^[0-9a-f]{32}$/.test(path.basename(dir));
  // A built graph's file is small (its weights are linked or external): reading it is cheap.
  if (built && fs.readFileSync(graph).includes(EMBEDRT_DOMAIN)) return undefined;
  const source = built ? `built:${path.basename(dir)}` : fileIdentity(new ModelFolder(dir).checkAll('.'));
  const info = native().runtimeInfo();
  const key = crypto
    .createHash('sha256')
    .update(`${path.basename(graph)}|${source}|${info.ortVersion}|${info.simd}|${device}`)
    .digest('hex')
    .slice(0, 32);
  const root = path.join(cacheRoot(cacheDir), 'optimized');
  sweepLeftovers(root);
  return path.join(root, key);
}

