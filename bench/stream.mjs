#!/usr/bin/env node
// Streaming encode over a large generated corpus: RSS over time, and throughput against encode() on
// arrays, measured in the same run.
//
//   node bench/stream.mjs [--shape flagship|small] [--texts 1000000] [--chunk 1024]
//                         [--compare 1000] [--rounds 3] [--sample-ms 2000]
//
// The corpus is examples/financial-texts.mjs's passages, generated one at a time (never held as an
// array). The model is generated with seeded weights: 'flagship' is BERT-base with CLS pooling (the
// flagship's shape), 'small' the soak's 4-layer, hidden-128 BERT (the same code path, ~40× faster, so
// a million texts fit in minutes on two cores). Every embedding is consumed (its sum is taken) and
// dropped, as a writer to a file or an index would.
//
// Throughput: `--rounds` interleaved rounds of encode(array of --compare passages) and encodeStream
// over the same passages; the ratio of each round and their median are printed.
// Results: bench/results/stream-<shape>-<date>.json (the RSS samples included).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bgeDir } from '../scripts/data-paths.mjs';
import { passage } from '../examples/financial-texts.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const args = process.argv.slice(2);
const arg = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const SHAPE = arg('--shape', 'flagship');
const N = Number(arg('--texts', 1_000_000));
const CHUNK = Number(arg('--chunk', 1024));
const COMPARE = Number(arg('--compare', 1000));
const ROUNDS = Number(arg('--rounds', 3));
const SAMPLE_MS = Number(arg('--sample-ms', 2000));
if (!['flagship', 'small'].includes(SHAPE)) throw new Error(`--shape must be flagship or small, got ${SHAPE}`);

const { SentenceTransformer, generateTestModel } = await import(path.join(root, 'dist', 'index.js'));
const modelsDir = path.join(root, 'build', 'bench-models');
const modelDir = path.join(modelsDir, SHAPE === 'flagship' ? 'flagship' : 'small-h128');
const cacheDir = path.join(modelsDir, 'cache');
if (!fs.existsSync(path.join(modelDir, 'model.safetensors'))) {
  const shape = SHAPE === 'flagship' ? 'flagship' : { hidden_size: 128, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 512 };
  generateTestModel(modelDir, { shape, pooling: 'cls', normalize: true, seed: 42, tokenizerDir: bgeDir });
}
const model = await SentenceTransformer.load(modelDir, { cacheDir });
const mb = (b) => Math.round(b / 1e6);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function* corpus(n) {
  for (let i = 0; i < n; i++) yield passage(i);
}

// ---- throughput: encode(array) vs encodeStream, interleaved ----
const compareTexts = [...corpus(COMPARE)];
await model.encode(compareTexts.slice(0, 64)); // warm-up
const rounds = [];
for (let r = 0; r < ROUNDS; r++) {
  let t = performance.now();
  const whole = await model.encode(compareTexts);
  const arraySeconds = (performance.now() - t) / 1000;
  let sum = 0;
  for (let i = 0; i < whole.data.length; i++) sum += whole.data[i];
  t = performance.now();
  let rows = 0;
  for await (const c of model.encodeStream(compareTexts, { chunkSize: CHUNK })) {
    rows += c.embeddings.rows;
    for (let i = 0; i < c.embeddings.data.length; i++) sum -= c.embeddings.data[i];
  }
  const streamSeconds = (performance.now() - t) / 1000;
  if (rows !== COMPARE) throw new Error(`stream gave ${rows} rows`);
  const round = { arrayTextsPerS: COMPARE / arraySeconds, streamTextsPerS: COMPARE / streamSeconds, ratio: arraySeconds / streamSeconds, checksum: sum };
  rounds.push(round);
  console.log(`round ${r + 1}: encode(array) ${round.arrayTextsPerS.toFixed(1)} texts/s, encodeStream ${round.streamTextsPerS.toFixed(1)} texts/s, stream/array ${round.ratio.toFixed(3)}`);
}
const ratio = median(rounds.map((r) => r.ratio));
console.log(`throughput stream/array: median ${ratio.toFixed(3)} (rounds ${rounds.map((r) => r.ratio.toFixed(3)).join(', ')}; target ≥ 0.95)`);

// ---- RSS over a long stream ----
const samples = [];
let done = 0;
const t0 = performance.now();
const sample = () => samples.push({ s: +((performance.now() - t0) / 1000).toFixed(1), texts: done, rssMB: mb(process.memoryUsage.rss()) });
sample();
const timer = setInterval(sample, SAMPLE_MS);
let lastLog = 0;
let acc = 0;
for await (const c of model.encodeStream(corpus(N), { chunkSize: CHUNK })) {
  const d = c.embeddings.data;
  for (let i = 0; i < d.length; i += 97) acc += d[i];
  done += c.embeddings.rows;
  if (done - lastLog >= N / 20 || done === N) {
    lastLog = done;
    const s = (performance.now() - t0) / 1000;
    console.log(`${done.toLocaleString('en')} texts, ${s.toFixed(0)} s, ${(done / s).toFixed(0)} texts/s, RSS ${mb(process.memoryUsage.rss())} MB`);
  }
}
clearInterval(timer);
sample();
const seconds = (performance.now() - t0) / 1000;
model.dispose();

const tenth = Math.max(1, Math.floor(samples.length / 10));
const rssOf = (xs) => xs.map((x) => x.rssMB);
const early = samples.slice(tenth, 2 * tenth);
const late = samples.slice(-tenth);
const summary = {
  shape: SHAPE,
  texts: N,
  chunk: CHUNK,
  seconds: +seconds.toFixed(1),
  textsPerS: +(N / seconds).toFixed(1),
  rssMaxMB: Math.max(...rssOf(samples)),
  rssMedianSecondTenthMB: median(rssOf(early)),
  rssMedianLastTenthMB: median(rssOf(late)),
  throughputStreamOverArray: { median: +ratio.toFixed(3), rounds },
  checksum: acc,
};
console.log(
  `${N.toLocaleString('en')} texts in ${summary.seconds} s (${summary.textsPerS} texts/s); RSS max ${summary.rssMaxMB} MB, median of the 2nd tenth ${summary.rssMedianSecondTenthMB} MB, of the last tenth ${summary.rssMedianLastTenthMB} MB`,
);
const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', 'T');
fs.mkdirSync(path.join(here, 'results'), { recursive: true });
const out = path.join(here, 'results', `stream-${SHAPE}-${stamp}.json`);
fs.writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, summary, samples }, null, 1)}\n`);
console.log(`saved ${path.relative(root, out)}`);
