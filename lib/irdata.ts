// The financial QA evaluation recipe (README: Test data): row i (0-based, file order) is in the test
// split when i % 10 === 9; the corpus is every row's context keyed by row id; the queries are the
// split's questions; each query's one relevant document is its own row's context.
import fs from 'node:fs';
import { parseCsvRecords } from './csv.js';
import { EmbedrtError } from './errors.js';
import type { IRData } from './evaluate.js';

export interface QaDataset extends IRData {
  /** What was left out and why (empty questions or contexts), for the report. */
  notes: string[];
}

export interface QaRow {
  question: string;
  context: string;
}

/** Reads a CSV (question, context columns) or JSON lines ({ question, context }) file, in file order. */
export function readQaRows(file: string): QaRow[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new EmbedrtError('E_BAD_INPUT', `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  const rows = file.endsWith('.jsonl')
    ? text.split('\n').filter((l) => l.trim()).map((l, i) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          throw new EmbedrtError('E_BAD_INPUT', `${file}: line ${i + 1} is not JSON`);
        }
      })
    : parseCsvRecords(text, file);
  return rows.map((r, i) => {
    if (typeof r.question !== 'string' || typeof r.context !== 'string') {
      throw new EmbedrtError('E_BAD_INPUT', `${file}: record ${i + 1} needs string "question" and "context" fields`);
    }
    return { question: r.question, context: r.context };
  });
}

/**
 * The IR data of QA rows: corpus = every row's non-empty context keyed by row index; queries = the
 * split's questions (test: rows with i % 10 === 9); each query's one relevant document is its own row.
 */
export function qaDataset(rows: readonly QaRow[], split: 'test' | 'train' | 'all'): QaDataset {
  const corpus: Record<string, string> = {};
  const queries: Record<string, string> = {};
  const relevantDocs: Record<string, string[]> = {};
  const notes: string[] = [];
  rows.forEach((r, i) => {
    const id = String(i);
    if (r.context.trim() === '') notes.push(`row ${i}: empty context, left out of the corpus`);
    else corpus[id] = r.context;
    const inSplit = split === 'all' || (split === 'test') === (i % 10 === 9);
    if (!inSplit) return;
    if (r.question.trim() === '') notes.push(`row ${i}: empty question, not used as a query`);
    else if (r.context.trim() === '') notes.push(`row ${i}: its context is empty, so its question has no relevant document and is not used`);
    else {
      queries[id] = r.question;
      relevantDocs[id] = [id];
    }
  });
  return { corpus, queries, relevantDocs, notes };
}
