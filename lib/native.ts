// Finds and loads the native addon, in this order: EMBEDRT_ADDON_PATH (an explicit .node file), the
// CUDA variant's package when installed (@embedrt/linux-x64-cuda: scripts/assemble-cuda.mjs), the
// platform package (@embedrt/<platform>-<arch>, an optional dependency npm installs only where it runs),
// then a local build (build/Release/, what `npm install` in a checkout or --build-from-source makes).
// When all fail, the error says what this machine is, what was tried, and what to do.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbedrtError } from './errors.js';
import type { PackedTokenizerConfig } from './tokenizer-config.js';

/** What the native addon reports about itself and the ONNX Runtime it loaded. */
export interface NativeRuntimeInfo {
  version: string;
  ortVersion: string;
  ortApiVersion: number;
  providers: string[];
  compiledProviders: string[];
  /** The ONNX Runtime library file loaded (EMBEDRT_ORT_LIBRARY, else the one beside the addon). */
  ortLibrary: string;
  ortLibraryDir: string;
  simd: string;
  napiVersion: number;
}


// ---- tokenizer ----
export interface NativeEncodeOptions {
  addSpecialTokens: boolean;
  maxLength: number;
  withTokens: boolean;
}

/** What the native tokenizer returns: flat arrays, row r in [rowStart[r], rowStart[r + 1]). */
export interface NativeBatch {
  ids: Int32Array;
  typeIds: Uint8Array;
  attentionMask: Uint8Array;
  specialTokensMask: Uint8Array;
  offsets: Uint32Array;
  rowStart: Uint32Array;
  lengths: Uint32Array;
  truncated: Uint8Array;
  tokens?: string[];
}

export interface NativeTokenizerHandle {
  encode(text: string, pair: string | null, opts: NativeEncodeOptions): NativeBatch;
  encodeBatch(
    texts: string[],
    pairs: string[] | null,
    opts: NativeEncodeOptions,
    padTo: number,
    padMultiple: number,
    threads: number,
  ): Promise<NativeBatch>;
  decode(ids: Int32Array, skipSpecialTokens: boolean): string;
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
  vocabSize(): number;
  numSpecialTokens(pair: boolean): number;
}

/** A tokenizer built by NativeTokenizer.create, for NativeTokenizer's constructor. */
export type NativeTokenizerRef = { readonly __brand: 'NativeTokenizerRef' };

export interface NativeTokenizerClass {
  /** Builds the tokenizer's tables on a native worker thread. */
  create(config: PackedTokenizerConfig): Promise<NativeTokenizerRef>;
  /** From a config: built here, on the calling thread. */
  new (config: PackedTokenizerConfig | NativeTokenizerRef): NativeTokenizerHandle;
}

// ---- model ----
export interface NativeModelHandle {
  encode(
    texts: string[],
    opts: { maxLength: number; batchSize: number; maxBatchTokens: number; pooling: number[]; normalizeModule: boolean; truncateDim: number; normalize: boolean; tokenEmbeddings: boolean },
    onProgress: ((done: number, total: number) => void) | undefined,
    cancel: unknown,
    // rows: texts, or with tokenEmbeddings all their tokens, text i's at [offsets[i], offsets[i+1]).
  ): Promise<{ data: Float32Array; rows: number; dim: number; truncated: Uint8Array; tokens: number; paddedTokens: number; offsets?: Uint32Array }>;
  /** encode of text pairs: texts[i] with pairs[i], truncated longest first (a cross-encoder's input). */
  encodePairs(
    texts: string[],
    pairs: string[],
    opts: Parameters<NativeModelHandle['encode']>[1],
    onProgress: ((done: number, total: number) => void) | undefined,
    cancel: unknown,
  ): ReturnType<NativeModelHandle['encode']>;
  /** encode from token ids: input i's are the next lengths[i] of `ids` (checked again natively). */
  encodeIds(
    ids: Int32Array,
    lengths: Uint32Array,
    opts: Parameters<NativeModelHandle['encode']>[1],
    onProgress: ((done: number, total: number) => void) | undefined,
    cancel: unknown,
  ): ReturnType<NativeModelHandle['encode']>;
  info(): { provider: string; fallbackReason: string; hiddenSize: number; clsOnly: boolean };
  dispose(): void;
}

/** An ONNX Runtime session created by NativeModel.createSession, for NativeModel's constructor. */
export type NativeSession = { readonly __brand: 'NativeSession' };

export interface NativeModelClass {
  /** `output`: the graph output read — an encoder's last_hidden_state, or a cross-encoder's logits [batch, labels]. */
  createSession(config: { modelPath: string; intraOpThreads: number; optimize: boolean; optimizedModelPath: string; device: string; deviceId: number; output: 'last_hidden_state' | 'logits' }): Promise<NativeSession>;
  new (session: NativeSession, tokenizer: NativeTokenizerHandle): NativeModelHandle;
  createCancelFlag(): unknown;
  cancel(flag: unknown): void;
}

// ---- search ----
export interface NativeSearch {
  // The labels name the arguments in errors: the values (NaN, ±Infinity) are checked natively, off the JS thread.
  similarity(a: Float32Array, aRows: number, b: Float32Array, bRows: number, dim: number, score: number, labelA?: string, labelB?: string): Promise<Float32Array>;
  semanticSearch(q: Float32Array, qRows: number, c: Float32Array, cRows: number, dim: number, topK: number, score: number, labelQ?: string, labelC?: string): Promise<NativeHits>;
  /** kind: 0 int8, 1 uint8, 2 binary/ubinary; rescore: float rows of the same sets, and how many of the topK candidates to keep. */
  searchQuantized(
    q: Int8Array | Uint8Array, qRows: number, c: Int8Array | Uint8Array, cRows: number, width: number, topK: number, kind: number,
    rescore: { queries: Float32Array; corpus: Float32Array; dim: number; topK: number; score: number } | null,
  ): Promise<NativeHits>;
  quantize(
    e: Float32Array, rows: number, dim: number, precision: number, ranges: Float32Array | null,
    calibration: Float32Array | null, calibrationRows: number, label?: string, calibrationLabel?: string,
  ): Promise<Uint8Array>;
  simdPath(): string;
  cosine(a: Float32Array, b: Float32Array): number;
  dot(a: Float32Array, b: Float32Array): number;
  setSimdPath(name: string): boolean;
}

export interface NativeHits {
  ids: Uint32Array;
  scores: Float32Array;
  counts: Uint32Array;
}

/**
 * The flat contract between lib/ and native/ (native/addon/addon.cc exports exactly these): primitives,
 * typed arrays, plain option structs. Checked when the addon loads (EXPORTS): an addon of another
 * version that lacks one is E_NATIVE_LOAD, not a TypeError deep in a call.
 */
export interface NativeAddon extends NativeSearch {
  runtimeInfo(): NativeRuntimeInfo;
  /** glibc's malloc for a server: M_ARENA_MAX and a fixed M_MMAP_THRESHOLD; false where the C library is not glibc. */
  tuneMalloc(arenas: number, mmapThreshold: number): boolean;
  NativeTokenizer: NativeTokenizerClass;
  NativeModel: NativeModelClass;
}

const EXPORTS: readonly string[] = [
  'runtimeInfo', 'NativeTokenizer', 'NativeModel', 'similarity', 'semanticSearch', 'searchQuantized', 'quantize',
  'simdPath', 'cosine', 'dot', 'setSimdPath', 'NativeTokenizer.create', 'NativeModel.createSession',
  'NativeModel.createCancelFlag', 'NativeModel.cancel', 'tuneMalloc',
] satisfies (keyof NativeAddon | `NativeTokenizer.${keyof NativeTokenizerClass & string}` | `NativeModel.${keyof NativeModelClass & string}`)[];

/** The package root: lib/ (sources under vitest) and dist/ (compiled) both sit one level below it. */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** This machine as embedrt's packages name platforms: `linux-x64`, `darwin-arm64`, `win32-x64`, ... */
export function platformKey(): string {
  return `${process.platform}-${process.arch}`;
}

/** The C library of a Linux machine: 'glibc' (with its version) or 'musl'; undefined elsewhere. */
export function linuxLibc(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? `glibc ${header.glibcVersionRuntime}` : 'musl';
}

/** The platform packages embedrt publishes, by platform key (package.json's optionalDependencies). */
export function platformPackages(): Map<string, string> {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { optionalDependencies?: Record<string, string> };
  const out = new Map<string, string>();
  for (const name of Object.keys(pkg.optionalDependencies ?? {})) {
    const m = /^@embedrt\/(.+)$/.exec(name);
    if (m) out.set(m[1]!, name);
  }
  return out;
}

/** Where the addon was loaded from: EMBEDRT_ADDON_PATH, the platform package or a local build. */
export interface AddonSource {
  kind: 'override' | 'package' | 'local build';
  file: string;
}
let addonSource: AddonSource | undefined;

/** The addon native() loaded (it loads it first). */
export function loadedAddon(): AddonSource {
  native();
  return addonSource!;
}

let addon: NativeAddon | undefined;

function runningUnderRosetta(): boolean {
  if (process.platform !== 'darwin' || process.arch !== 'x64') return false;
  try {
    return execFileSync('sysctl', ['-in', 'sysctl.proc_translated'], { encoding: 'utf8' }).trim() === '1';
  } catch {
    return false;
  }
}

/** The facts about a machine that decide which remedies the load error offers. */
export interface MachineFacts {
  platform: string;
  arch: string;
  /** 'glibc 2.36' or 'musl' on Linux; undefined elsewhere. */
  libc: string | undefined;
  /** An x64 Node translated by Rosetta 2 on an Apple Silicon Mac. */
  rosetta: boolean;
  node: string;
}

function thisMachine(): MachineFacts {
  return { platform: process.platform, arch: process.arch, libc: linuxLibc(), rosetta: runningUnderRosetta(), node: process.version };
}

/** The E_NATIVE_LOAD message: the machine, what was tried, and numbered remedies for its situation. */
export function loadHelp(tried: string[], m: MachineFacts = thisMachine(), packages: Map<string, string> = platformPackages()): string {
  const key = `${m.platform}-${m.arch}`;
  const machine = `${key}${m.libc ? ` (${m.libc})` : ''}, Node ${m.node}`;
  const steps: string[] = [];
  if (m.platform === 'darwin' && m.arch === 'x64') {
    steps.push(
      m.rosetta
        ? 'This is an x64 Node running under Rosetta on an Apple Silicon Mac: install the arm64 build of Node.js (`node -p process.arch` must print arm64) and reinstall embedrt.'
        : 'Intel Macs are not supported: ONNX Runtime 1.30 (onnxruntime-node) ships no darwin-x64 library. Use an Apple Silicon Mac, Linux or Windows.',
    );
  } else if (m.libc === 'musl') {
    steps.push('musl Linux (Alpine) has no prebuilt package: ONNX Runtime ships glibc builds only. Use a glibc-based image (Debian, Ubuntu, RHEL, Amazon Linux; glibc 2.28 or newer).');
  } else if (!packages.has(key)) {
    steps.push(`embedrt publishes no package for ${key}; the platforms are ${[...packages.keys()].join(', ')}.`);
  } else {
    steps.push(
      `Reinstall embedrt so that npm installs ${packages.get(key)} (an optional dependency: installs with --no-optional / --omit=optional, or a lockfile made on another platform, leave it out; \`npm install --os=${m.platform} --cpu=${m.arch}\` adds it).`,
    );
  }
  steps.push(
    'Build from source: `npm install embedrt --build-from-source` (needs cmake 3.19+ and a C++17 compiler; see the README\'s "Building from source").',
    'Or point EMBEDRT_ADDON_PATH at an embedrt.node built for this machine (its ONNX Runtime library beside it).',
  );
  return [
    `embedrt could not load its native addon on ${machine}.`,
    'Tried:',
    ...tried.map((t) => `  - ${t}`),
    'Possible solutions:',
    ...steps.map((s, i) => `  ${i + 1}. ${s}`),
  ].join('\n');
}

export function native(): NativeAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  let lastError: unknown;
  const attempt = (kind: AddonSource['kind'], file: string): boolean => {
    if (!fs.existsSync(file)) {
      tried.push(`${kind}: ${file} (not there)`);
      return false;
    }
    try {
      const loaded = require(file) as Partial<NativeAddon>;
      const missing = EXPORTS.filter((k) => typeof k.split('.').reduce<unknown>((o, part) => (o as Record<string, unknown> | undefined)?.[part], loaded) !== 'function');
      if (missing.length) throw new Error(`not this embedrt's addon: it lacks ${missing.join(', ')}`);
      addon = loaded as NativeAddon;
      addonSource = { kind, file };
      return true;
    } catch (err) {
      lastError = err;
      tried.push(`${kind}: ${file}: ${(err as Error).message.split('\n')[0]}`);
      return false;
    }
  };
  const override = process.env.EMBEDRT_ADDON_PATH;
  if (override) {
    if (attempt('override', path.resolve(override))) return addon!;
  } else {
    const pkg = platformPackages().get(platformKey());
    const installed = (name: string): string | undefined => {
      try {
        return path.dirname(createRequire(path.join(packageRoot, 'package.json')).resolve(`${name}/package.json`));
      } catch {
        return undefined;
      }
    };
    // The CUDA variant is installed only on purpose (not an optional dependency): it goes first.
    const cuda = pkg === '@embedrt/linux-x64' ? installed(`${pkg}-cuda`) : undefined;
    if (cuda && attempt('package', path.join(cuda, 'embedrt.node'))) return addon!;
    if (pkg) {
      const dir = installed(pkg);
      if (!dir) tried.push(`package: ${pkg} (not installed)`);
      if (dir && attempt('package', path.join(dir, 'embedrt.node'))) return addon!;
    }
    if (attempt('local build', path.join(packageRoot, 'build', 'Release', 'embedrt.node'))) return addon!;
  }
  throw new EmbedrtError('E_NATIVE_LOAD', loadHelp(tried), { cause: lastError });
}
