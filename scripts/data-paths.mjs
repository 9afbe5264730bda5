// Where the tests, benchmarks and fixture scripts find their data. Two kinds:
// - the bge-base-en-v1.5 tokenizer and config files, and a generated XLM-RoBERTa-style tokenizer: in the
//   repository (test/fixtures/);
// - the Financial QA 10-K data set (7,000 rows, 3.2 MB): not redistributed here. It is read from
//   $EMBEDRT_DATA/financial-qa-10k/Financial-QA-10k.csv, where EMBEDRT_DATA defaults to ../shared/data
//   beside the checkout (this workplace's copy). README "Test data" says how to get it elsewhere.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const bgeDir = path.join(repoRoot, 'test', 'fixtures', 'bge-base-en-v1.5');
export const bgeTokenizerJson = path.join(bgeDir, 'tokenizer.json');
/** An XLM-RoBERTa-style SentencePiece Unigram tokenizer (scripts/fixtures/make_unigram_tokenizer.py). */
export const xlmrTokenizerDir = path.join(repoRoot, 'test', 'fixtures', 'xlmr-tokenizer');
export const xlmrTokenizerJson = path.join(xlmrTokenizerDir, 'tokenizer.json');

/** The SHA-256 of the one file the tests were written against (SOURCE.txt of the data set). */
export const FINANCIAL_QA_SHA256 = '342385ae11a6facd1a6bffbc16927b6ca620d51d2b3ebc76649a68618328477e';

export function dataDir() {
  return path.resolve(process.env.EMBEDRT_DATA || path.join(repoRoot, '..', 'shared', 'data'));
}

let checked;
/** The path of Financial-QA-10k.csv, checked once per process: present and the expected bytes. */
export function financialQaCsv() {
  const file = path.join(dataDir(), 'financial-qa-10k', 'Financial-QA-10k.csv');
  if (checked === file) return file;
  const how =
    'Get Financial-QA-10k.csv (the Hugging Face dataset virattt/financial-qa-10K, also on Kaggle; ' +
    `sha256 ${FINANCIAL_QA_SHA256}) and set EMBEDRT_DATA to the folder that holds financial-qa-10k/ (README: Test data).`;
  let bytes;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: ${e.code ?? e}. ${how}`);
  }
  const sha = crypto.createHash('sha256').update(bytes).digest('hex');
  if (sha !== FINANCIAL_QA_SHA256) throw new Error(`${file}: sha256 ${sha}, not the file the tests were written against. ${how}`);
  checked = file;
  return file;
}
