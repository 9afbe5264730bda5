// POST /rerank, as text-embeddings-inference serves it for a reranker: {query, texts, raw_scores,
// return_text, truncate, truncation_direction} → [{index, score, text?}], best first. Served when the
// server has a CrossEncoder (createServer's `reranker`, `embedrt serve --reranker`); each request runs
// on it directly (its pairs batched by length natively), not merged with other requests.
import type { CrossEncoder } from '../crossencoder.js';
import { describe } from '../validate.js';
import { HttpError, truncationOf } from './inputs.js';

export interface RerankLimits {
  maxClientBatchSize: number;
  maxInputChars: number;
  autoTruncate: boolean;
}

export const RERANK_FIELDS = ['query', 'texts', 'raw_scores', 'return_text', 'truncate', 'truncation_direction'] as const;

/** Answers one /rerank body (fields already checked against RERANK_FIELDS); `signal`: the client went away. */
export async function rerank(reranker: CrossEncoder, b: Record<string, unknown>, limits: RerankLimits, signal: AbortSignal): Promise<{ index: number; score: number; text?: string }[]> {
  const text = (v: unknown, field: string): string => {
    if (typeof v !== 'string') throw new HttpError(422, 'Validation', `${field} must be a string, got ${describe(v)}`, field.replace(/\[.*/, ''));
    if (v === '') throw new HttpError(422, 'Validation', `${field} is an empty string`, field.replace(/\[.*/, ''));
    if (v.length > limits.maxInputChars) throw new HttpError(413, 'PayloadTooLarge', `${field} has ${v.length} characters; at most ${limits.maxInputChars} (--max-input-chars)`, field.replace(/\[.*/, ''));
    return v;
  };
  const flag = (v: unknown, field: string): boolean => {
    if (v === undefined || v === null) return false;
    if (typeof v !== 'boolean') throw new HttpError(422, 'Validation', `${field} must be a boolean, got ${describe(v)}`, field);
    return v;
  };
  const query = text(b.query, 'query');
  if (!Array.isArray(b.texts)) throw new HttpError(422, 'Validation', `texts must be a list of strings, got ${describe(b.texts)}`, 'texts');
  if (b.texts.length === 0) throw new HttpError(400, 'Empty', 'texts is empty', 'texts');
  if (b.texts.length > limits.maxClientBatchSize) throw new HttpError(422, 'Validation', `texts has ${b.texts.length} inputs; at most ${limits.maxClientBatchSize} per request (--max-client-batch-size)`, 'texts');
  const texts = b.texts.map((t: unknown, i: number) => text(t, `texts[${i}]`));
  const rawScores = flag(b.raw_scores, 'raw_scores');
  const returnText = flag(b.return_text, 'return_text');
  if (!truncationOf(b, limits.autoTruncate)) {
    // As TEI: without truncate, a pair longer than the model takes is refused, not cut.
    const lengths = (await reranker.tokenizer.encodeBatch(texts.map(() => query), { pair: texts, maxLength: 0 })).lengths;
    const i = lengths.findIndex((n) => n > reranker.maxLength);
    if (i >= 0) throw new HttpError(422, 'Validation', `query + texts[${i}] has ${lengths[i]} tokens, more than the model's ${reranker.maxLength}; send truncate: true (or start the server with --auto-truncate)`, 'texts');
  }
  const hits = await reranker.rank(query, texts, { signal, ...(rawScores ? { activation: 'identity' } : {}) });
  return hits.map((h) => (returnText ? { index: h.corpusId, score: h.score, text: texts[h.corpusId]! } : { index: h.corpusId, score: h.score }));
}
