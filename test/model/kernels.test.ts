// Which kernels a CPU session's projections run on: embedrt's (com.embedrt.Linear) on AVX-512, ONNX
// Runtime's (MatMul + Add: MLAS) elsewhere, EMBEDRT_KERNELS deciding instead when set — and the two
// give the same embeddings.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SentenceTransformer, runtimeInfo } from '../../lib/index.js';
import { financialQa } from '../helpers/data.js';
import { makeModel, maxAbsDiff, tempDir } from '../helpers/models.js';

let root: string;
let dir: string;
beforeAll(() => {
  root = tempDir('kernels');
  dir = makeModel(root, 'tiny', { pooling: 'mean' });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  delete process.env.EMBEDRT_KERNELS;
});

const usesLinear = (graph: string) => fs.readFileSync(graph).includes('com.embedrt');

describe('the CPU\'s kernels', () => {
  it('by default: embedrt\'s where the CPU has AVX-512, ONNX Runtime\'s otherwise', async () => {
    await using model = await SentenceTransformer.load(dir, { cacheDir: path.join(root, 'cache') });
    expect(usesLinear(model.info().graph)).toBe(runtimeInfo().simd.startsWith('avx512'));
  });

  it('EMBEDRT_KERNELS=onnxruntime: the standard graph, its optimized form cached; the same embeddings as embedrt\'s kernels', async () => {
    const cacheDir = path.join(root, 'cache-both');
    const texts = financialQa().slice(0, 12).map((r) => r.context);
    process.env.EMBEDRT_KERNELS = 'embedrt';
    await using ours = await SentenceTransformer.load(dir, { cacheDir });
    expect(usesLinear(ours.info().graph)).toBe(true);
    process.env.EMBEDRT_KERNELS = 'onnxruntime';
    await using first = await SentenceTransformer.load(dir, { cacheDir });
    await using mlas = await SentenceTransformer.load(dir, { cacheDir });
    expect(usesLinear(mlas.info().graph)).toBe(false);
    expect(first.info().optimizedGraph).toBeUndefined(); // saved by the first load, used by the next
    expect(fs.existsSync(mlas.info().optimizedGraph!)).toBe(true);
    const [a, b] = [await ours.encode(texts, { batchSize: 5 }), await mlas.encode(texts, { batchSize: 5 })];
    expect(maxAbsDiff(a.data, b.data)).toBeLessThanOrEqual(1e-5);
  });

  it('EMBEDRT_KERNELS of another value is E_BAD_INPUT naming it', async () => {
    process.env.EMBEDRT_KERNELS = 'mlas';
    await expect(SentenceTransformer.load(dir, { cacheDir: path.join(root, 'cache') })).rejects.toMatchObject({ code: 'E_BAD_INPUT', message: expect.stringMatching(/EMBEDRT_KERNELS must be auto, embedrt or onnxruntime, got .*"mlas"/) });
  });
});
