#!/usr/bin/env node
// What embedrt's graph cache costs for a model built from model.safetensors: disk (the built graph's
// entry and ONNX Runtime's optimized graph), and the time and peak RSS of a cold load (graph built,
// optimized, saved) and a warm one (both cached), each load in its own process.
//
//   node bench/graph-cache.mjs [--shape flagship|small] [--checkout DIR] [--label NAME]
//
// --checkout: another checkout, built (its dist/ and build/Release/embedrt.node), to compare against —
// e.g. `git worktree add /tmp/old <rev>` and its build. Results: bench/results/graph-cache-<label>-<date>.json.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const arg = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const SHAPE = arg('--shape', 'flagship');
const CHECKOUT = path.resolve(arg('--checkout', root));
const DIST = path.join(CHECKOUT, 'dist');
const LABEL = arg('--label', 'current');
const modelDir = path.join(root, 'build', 'bench-models', SHAPE === 'flagship' ? 'flagship' : 'small-h128');
if (!fs.existsSync(path.join(modelDir, 'model.safetensors'))) throw new Error(`${modelDir}: run node bench/stream.mjs --shape ${SHAPE} --texts 10 once to generate it`);
const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'embedrt-graph-cache-'));
const checkpoint = fs.statSync(path.join(modelDir, 'model.safetensors'));

// One load in its own process: load time, a first encode, then the time of encoding 32 passages (batched,
// three times) and of 16 single texts one by one (medians), and the peak RSS (GNU time, into a file).
function loadWithRss() {
  const t = path.join(cache, 'rss.txt');
  const script = path.join(cache, 'load.mjs');
  fs.writeFileSync(script, `const { SentenceTransformer } = await import(${JSON.stringify(path.join(DIST, 'index.js'))});
const t0 = performance.now();
const m = await SentenceTransformer.load(${JSON.stringify(modelDir)}, { cacheDir: ${JSON.stringify(cache)} });
const seconds = (performance.now() - t0) / 1000;
const e = await m.encode(['What was the revenue growth in fiscal 2023?']);
const { passages } = await import(${JSON.stringify(path.join(root, 'examples', 'financial-texts.mjs'))});
const texts = passages(32);
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
const timed = async (f) => { const t = performance.now(); await f(); return performance.now() - t; };
const batchMs = median([await timed(() => m.encode(texts)), await timed(() => m.encode(texts)), await timed(() => m.encode(texts))]);
const singleMs = median(await texts.slice(0, 16).reduce(async (acc, t) => [...(await acc), await timed(() => m.encode([t]))], []));
console.log(JSON.stringify({ seconds, first: e.data[0], batch32Ms: batchMs, singleMs }));\n`);
  const out = execFileSync('/usr/bin/time', ['-o', t, '-f', '%M', process.execPath, script], {
    encoding: 'utf8',
    env: { ...process.env, EMBEDRT_ADDON_PATH: path.join(CHECKOUT, 'build', 'Release', 'embedrt.node') },
  });
  return { ...JSON.parse(out.trim().split('\n').pop()), maxRssMB: Number(fs.readFileSync(t, 'utf8').trim().split('\n').pop()) / 1024 };
}

/** Bytes under `dir`, each inode once; `excluding`: an inode not to count (the checkpoint, linked). */
function diskBytes(dir, excluding) {
  let total = 0, linked = 0;
  const seen = new Set();
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const st = fs.statSync(p);
        if (seen.has(st.ino)) continue;
        seen.add(st.ino);
        if (st.ino === excluding.ino && st.dev === excluding.dev) linked += st.size;
        else total += st.size;
      }
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return { ownMB: total / 2 ** 20, checkpointLinkedMB: linked / 2 ** 20 };
}

const cold = loadWithRss();
const disk = { onnx: diskBytes(path.join(cache, 'onnx'), checkpoint), optimized: diskBytes(path.join(cache, 'optimized'), checkpoint) };
const warm = [loadWithRss(), loadWithRss(), loadWithRss()];
const result = { label: LABEL, shape: SHAPE, checkpointMB: checkpoint.size / 2 ** 20, cold, warm, disk };
console.log(JSON.stringify(result, null, 2));
const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 13);
fs.writeFileSync(path.join(root, 'bench', 'results', `graph-cache-${LABEL}-${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
fs.rmSync(cache, { recursive: true, force: true });
