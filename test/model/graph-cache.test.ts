// The graph cache holds no second copy of a checkpoint's weights: a built graph points into the
// checkpoint through a hard link (ONNX Runtime reads external data only inside the graph's folder) and
// ONNX Runtime folds the layout changes once, into the optimized graph it caches. Where no hard link
// can be made (a cache on another file system), the graph holds its own copy, and runs the same.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceTransformer } from '../../lib/index.js';
import { makeModel, tempDir, useKernels } from '../helpers/models.js';

let root: string;
let dir: string;
const texts = ['What drove the increase in operating income?', 'Net revenue rose 8% year over year.', 'x'];
beforeAll(() => {
  root = tempDir('graph-cache');
  dir = makeModel(root, 'model', { pooling: 'cls', seed: 21 });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const encodeWith = async (cacheDir: string, options: { quantize?: 'int8-fast' } = {}) => {
  await using model = await SentenceTransformer.load(dir, { cacheDir, ...options });
  return { info: model.info(), data: Array.from((await model.encode(texts)).data) };
};

describe('the graph cache and the checkpoint', () => {
  useKernels('embedrt'); // the CPU graph whose kernels pack the weights themselves
  it('a built graph holds no weights: its only data is a hard link to model.safetensors', async () => {
    const c = path.join(root, 'cache-link');
    await encodeWith(c); // cold: builds the graph
    const { info } = await encodeWith(c); // warm
    const entry = path.dirname(info.graph);
    expect(fs.readdirSync(entry).sort()).toEqual(['checkpoint.safetensors', 'manifest.json', 'model.onnx']);
    const link = fs.statSync(path.join(entry, 'checkpoint.safetensors'));
    const weights = fs.statSync(path.join(dir, 'model.safetensors'));
    expect([link.ino, link.dev]).toEqual([weights.ino, weights.dev]);
    expect(fs.statSync(info.graph).size).toBeLessThan(weights.size / 20);
    // Nor does anything else in the cache: the Linear kernels pack the checkpoint's tensors when the
    // session starts, so no optimized graph (which would hold the weights again) is saved.
    expect(info.optimizedGraph).toBeUndefined();
    expect(fs.readdirSync(c).sort()).toEqual(['onnx']);
  });

  it("another graph of the same checkpoint (its link changes the file's ctime) leaves the first one cached", async () => {
    const c = path.join(root, 'cache-variants');
    const first = await encodeWith(c);
    // int8-fast: ONNX Runtime's ops on every CPU, so its optimized graph is cached too.
    await encodeWith(c, { quantize: 'int8-fast' });
    const int8 = await encodeWith(c, { quantize: 'int8-fast' });
    expect(int8.info.optimizedGraph).toBeDefined();
    expect(path.dirname(int8.info.graph)).not.toBe(path.dirname(first.info.graph));
    const again = await encodeWith(c);
    expect(again.info.graph).toBe(first.info.graph);
    expect(again.data).toEqual(first.data);
    const int8Again = await encodeWith(c, { quantize: 'int8-fast' });
    expect([int8Again.info.graph, int8Again.info.optimizedGraph]).toEqual([int8.info.graph, int8.info.optimizedGraph]);
    expect(int8Again.data).toEqual(int8.data);
    const entries = fs.readdirSync(path.join(c, 'optimized')).filter((f) => !f.includes('.tmp-'));
    expect(entries).toHaveLength(1); // the int8-fast graph's, once: nothing optimized twice
  });

  it('a cache on another file system (no hard link possible) holds its own copy and gives the same embeddings', async () => {
    if (fs.statSync('/dev/shm').dev === fs.statSync(dir).dev) throw new Error('/dev/shm is on the model\'s file system; this test needs another one');
    const c = fs.mkdtempSync('/dev/shm/embedrt-graph-cache-');
    try {
      const linked = await encodeWith(path.join(root, 'cache-link'));
      const copied = await encodeWith(c);
      const entry = path.dirname(copied.info.graph);
      expect(fs.readdirSync(entry).sort()).toEqual(['manifest.json', 'model.onnx', 'model.onnx.data']);
      expect(fs.statSync(path.join(entry, 'model.onnx.data')).size).toBeGreaterThanOrEqual(fs.statSync(path.join(dir, 'model.safetensors')).size * 0.9);
      expect(copied.data).toEqual(linked.data);
    } finally {
      fs.rmSync(c, { recursive: true, force: true });
    }
  });
});
