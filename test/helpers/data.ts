import fs from 'node:fs';
import { parseCsvRecords } from '../../lib/csv.js';

import { financialQaCsv } from '../../scripts/data-paths.mjs';

export { bgeDir, bgeTokenizerJson, financialQaCsv, repoRoot, xlmrTokenizerDir, xlmrTokenizerJson } from '../../scripts/data-paths.mjs';

export interface QaRow {
  question: string;
  answer: string;
  context: string;
  ticker: string;
  filing: string;
}

let rows: QaRow[] | undefined;
/** The 7,000 rows of Financial-QA-10k.csv (scripts/data-paths.mjs says where it is), in file order. */
export function financialQa(): QaRow[] {
  if (!rows) {
    const file = financialQaCsv();
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
