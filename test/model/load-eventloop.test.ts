// load() keeps the event loop free: a BERT-base-shaped model (768-d, 12 layers, 440 MB of weights)
// loads cold (graph built, ONNX Runtime session created and its optimized form saved) and warm (both
// from the caches) with no synchronous stretch of 50 ms or more on the JS thread.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceTransformer, Tokenizer } from '../../lib/index.js';
import { watchEventLoop } from '../helpers/eventloop.js';
import { makeModel, tempDir } from '../helpers/models.js';

let root: string;
let dir: string;
beforeAll(() => {
  root = tempDir('load-eventloop');
  dir = makeModel(root, 'flagship', { shape: 'flagship', pooling: 'cls' });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('load() and the event loop', () => {
  it('the measure sees a blocking call: the synchronous Tokenizer.fromPretrained busies the loop', () => {
    const watch = watchEventLoop();
    Tokenizer.fromPretrained(dir);
    const r = watch.stop();
    expect(r.maxBusyMs).toBeGreaterThan(20);
  });

  it('a BERT-base-shaped model, cold then warm: no synchronous stretch of 50 ms', async () => {
    const cacheDir = path.join(root, 'cache');
    for (const round of ['cold', 'warm']) {
      const watch = watchEventLoop();
      const started = performance.now();
      const model = await SentenceTransformer.load(dir, { cacheDir });
      const elapsed = performance.now() - started;
      const r = watch.stop();
      console.log(`${round} load: ${elapsed.toFixed(0)} ms, ${r.ticks} ticks, longest gap ${r.maxGapMs.toFixed(1)} ms, most JS-thread CPU in one gap ${r.maxBusyMs.toFixed(1)} ms`);
      expect(model.dimension).toBe(768);
      expect(r.maxBusyMs, `${round}: the JS thread was busy ${r.maxBusyMs.toFixed(1)} ms between two ticks`).toBeLessThan(50);
      // The slow path was taken: the graph built (hashing, writing) in this round.
      if (round === 'cold') expect(fs.readdirSync(path.join(cacheDir, 'onnx')).filter((f) => /^[0-9a-f]{32}$/.test(f))).toHaveLength(1);
      model.dispose();
    }
  });
});
