import fs from 'node:fs';
import path from 'node:path';
import { parseCsvRecords } from '../../lib/csv.js';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const sharedDir = path.resolve(repoRoot, '..', 'shared');
export const bgeDir = path.join(sharedDir, 'models', 'bge-base-en-v1.5');
export const bgeTokenizerJson = path.join(bgeDir, 'tokenizer.json');

export interface QaRow {
  question: string;
  answer: string;
  context: string;
  ticker: string;
  filing: string;
}

let rows: QaRow[] | undefined;
/** The 7,000 rows of ../shared/data/financial-qa-10k, in file order. */
export function financialQa(): QaRow[] {
  if (!rows) {
    const file = path.join(sharedDir, 'data', 'financial-qa-10k', 'Financial-QA-10k.csv');
    rows = parseCsvRecords(fs.readFileSync(file, 'utf8'), file) as unknown as QaRow[];
  }
  return rows;
}

/** mulberry32: a small seeded PRNG, the same sequence on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
