#!/usr/bin/env node
// Tokenizer throughput on the 7,000 financial contexts: embedrt against Hugging Face tokenizers (npm,
// Rust) and the transformers.js tokenizer, single-threaded and on all threads, printed as ratios and
// saved under bench/results/. Each contender runs in its own process (TOKENIZERS_PARALLELISM and
// RAYON_NUM_THREADS are read at start-up), the median of several timed runs after a warm-up.
//
//   node bench/tokenizer.mjs [--runs 5] [--tokenizer bge|xlmr]
//
// --tokenizer xlmr: the generated XLM-RoBERTa-style SentencePiece Unigram tokenizer
// (test/fixtures/xlmr-tokenizer) instead of the flagship's WordPiece one.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { bgeDir, financialQaCsv, xlmrTokenizerDir } from '../scripts/data-paths.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const argv = process.argv.slice(2);
const tokenizerName = argv.includes('--tokenizer') ? argv[argv.indexOf('--tokenizer') + 1] : 'bge';
if (tokenizerName !== 'bge' && tokenizerName !== 'xlmr') throw new Error(`--tokenizer must be bge or xlmr, got ${tokenizerName}`);
const modelDir = tokenizerName === 'xlmr' ? xlmrTokenizerDir : bgeDir;
const require = createRequire(import.meta.url);

function contexts() {
  const { parseCsvRecords } = requireDist('csv.js');
  const csv = fs.readFileSync(financialQaCsv(), 'utf8');
  return parseCsvRecords(csv).map((r) => r.context);
}

let distCache = {};
function requireDist(file) {
  return distCache[file];
}

async function loadDist() {
  for (const f of ['csv.js', 'index.js']) distCache[f] = await import(path.join(root, 'dist', f));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeRuns(runs, fn) {
  await fn(); // warm-up
  const times = [];
  let tokens = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    tokens = await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { seconds: median(times), tokens, tokensPerSecond: tokens / median(times) };
}

async function worker(kind, runs) {
  await loadDist();
  const texts = contexts();
  if (kind === 'embedrt-1' || kind === 'embedrt-all') {
    const { Tokenizer } = requireDist('index.js');
    const tok = Tokenizer.fromPretrained(modelDir);
    const threads = kind === 'embedrt-1' ? 1 : 0;
    return timeRuns(runs, async () => (await tok.encodeBatch(texts, { threads })).ids.length);
  }
  if (kind === 'hf-1' || kind === 'hf-all') {
    const { Tokenizer } = require('tokenizers');
    const tok = Tokenizer.fromFile(path.join(modelDir, 'tokenizer.json'));
    return timeRuns(runs, async () => {
      const encs = await tok.encodeBatch(texts);
      let n = 0;
      for (const e of encs) n += e.getIds().length;
      return n;
    });
  }
  if (kind === 'transformersjs') {
    const { AutoTokenizer, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = path.dirname(modelDir);
    const tok = await AutoTokenizer.from_pretrained(path.basename(modelDir));
    return timeRuns(runs, async () => {
      let n = 0;
      for (const t of texts) n += tok.encode(t).length;
      return n;
    });
  }
  throw new Error(`unknown contender ${kind}`);
}

async function main() {
  const args = process.argv.slice(2);
  const runs = Number(args[args.indexOf('--runs') + 1]) || 5;
  if (args[0] === '--worker') {
    process.stdout.write(JSON.stringify(await worker(args[1], runs)));
    return;
  }
  const contenders = {
    'embedrt-1': { label: 'embedrt, 1 thread', env: {} },
    'hf-1': { label: 'HF tokenizers (npm), 1 thread', env: { TOKENIZERS_PARALLELISM: 'false', RAYON_NUM_THREADS: '1' } },
    transformersjs: { label: 'transformers.js tokenizer (JS thread)', env: {} },
    'embedrt-all': { label: `embedrt, all threads (${os.availableParallelism()})`, env: {} },
    'hf-all': { label: `HF tokenizers (npm), all threads`, env: { TOKENIZERS_PARALLELISM: 'true' } },
  };
  const results = {};
  for (const [kind, c] of Object.entries(contenders)) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--worker', kind, '--runs', String(runs), '--tokenizer', tokenizerName], {
      env: { ...process.env, ...c.env },
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    results[kind] = { ...JSON.parse(out), label: c.label };
  }
  const tps = (k) => results[k].tokensPerSecond;
  const ratios = {
    'embedrt / HF, 1 thread': tps('embedrt-1') / tps('hf-1'),
    'embedrt / transformers.js, 1 thread': tps('embedrt-1') / tps('transformersjs'),
    'embedrt / HF, all threads': tps('embedrt-all') / tps('hf-all'),
    'embedrt all threads / 1 thread': tps('embedrt-all') / tps('embedrt-1'),
  };
  console.log(`Tokenizer throughput (${tokenizerName === 'xlmr' ? 'SentencePiece Unigram, XLM-RoBERTa-style' : "WordPiece, the flagship's"}): 7,000 financial contexts, ${results['embedrt-1'].tokens} tokens, median of ${runs} runs`);
  console.log(`machine: ${os.cpus()[0]?.model} × ${os.availableParallelism()}, Node ${process.version}`);
  for (const r of Object.values(results)) {
    console.log(`  ${r.label.padEnd(42)} ${(r.tokensPerSecond / 1e6).toFixed(2).padStart(7)} M tokens/s  (${(r.seconds * 1000).toFixed(0)} ms)`);
  }
  console.log('ratios:');
  for (const [k, v] of Object.entries(ratios)) console.log(`  ${k.padEnd(42)} ${v.toFixed(2)}×`);
  const target = ratios['embedrt / HF, 1 thread'] >= 1.5;
  console.log(`target (≥ 1.5× HF tokenizers single-threaded): ${target ? 'met' : 'NOT met'}`);
  const file = path.join(here, 'results', `tokenizer-${tokenizerName === 'xlmr' ? 'unigram-' : ''}${new Date().toISOString().slice(0, 10)}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), tokenizer: path.relative(root, modelDir), machine: { cpu: os.cpus()[0]?.model, threads: os.availableParallelism(), node: process.version }, results, ratios }, null, 2)}\n`);
  console.log(`saved ${path.relative(root, file)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
