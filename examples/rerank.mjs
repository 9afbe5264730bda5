#!/usr/bin/env node
// Retrieve, then rerank: the RAG pipeline's two stages. An embedding model finds the 10 passages
// nearest each question; a cross-encoder reads each (question, passage) pair and reorders them.
//
//   node examples/rerank.mjs --reranker <cross-encoder dir or hub id> [--model <dir|hub id>] [--corpus N]
//
// With hub access, --reranker cross-encoder/ms-marco-MiniLM-L-6-v2 (or BAAI/bge-reranker-base). This
// machine has no hub and PyPI has no reranker weights, so without --reranker the example generates a
// cross-encoder with random weights (say so below): the pipeline runs, its scores mean nothing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CrossEncoder, SentenceTransformer, generateTestModel, semanticSearch } from 'embedrt';
import { passages, question } from './financial-texts.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const valueOf = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const corpus = passages(Number(valueOf('--corpus')) || 200);
const questions = [3, 42, 150].map((i) => question(i % corpus.length));
const modelDir = valueOf('--model') ?? execFileSync(process.execPath, [path.join(here, '..', 'scripts', 'fetch-minilm.mjs')], { encoding: 'utf8' }).trim();
let rerankerDir = valueOf('--reranker');
let scratch;
if (rerankerDir === undefined) {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'embedrt-reranker-'));
  rerankerDir = path.join(scratch, 'random-reranker');
  generateTestModel(rerankerDir, { classifierLabels: 1, shape: 'tiny', tokenizerDir: modelDir });
  console.log('no --reranker: a generated cross-encoder with random weights reranks (its scores mean nothing)');
}

// Stage 1: embeddings, the 10 nearest passages per question.
const model = await SentenceTransformer.load(modelDir);
const docs = await model.encode(corpus, { normalize: true });
const hits = await semanticSearch(await model.encode(questions, { normalize: true }), docs, { topK: 10 });
model.dispose();

// Stage 2: the cross-encoder scores each (question, passage) pair; the 3 best stay.
const reranker = await CrossEncoder.load(rerankerDir);
for (const [q, row] of hits.entries()) {
  const candidates = row.map((h) => corpus[h.corpusId]);
  const reranked = await reranker.rank(questions[q], candidates, { topK: 3 });
  console.log(`\nQ: ${questions[q]}`);
  for (const r of reranked) console.log(`  ${r.score.toFixed(4)}  #${row[r.corpusId].corpusId}  ${candidates[r.corpusId].slice(0, 90)}…`);
}
reranker.dispose();
if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
