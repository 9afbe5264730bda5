// A request's inputs, checked before they queue: texts (each non-empty, within the character limit,
// counted in tokens as the model will run them) or token id lists (OpenAI's and TEI's id inputs:
// integers of the tokenizer's vocabulary, embedded as they are), the Matryoshka dimension, and
// truncation; the HTTP errors every route shares.
import type { SentenceTransformer } from '../model.js';
import { describe, isCount } from '../validate.js';
import type { ServerMetrics } from './metrics.js';

/** A request's problem, with the HTTP status and each API's words for it. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    /** TEI's error_type. */
    readonly teiType: 'Empty' | 'Validation' | 'Tokenizer' | 'Backend' | 'Overloaded' | 'Unhealthy' | 'PayloadTooLarge' | 'Unauthorized',
    message: string,
    /** OpenAI's param: the field at fault. */
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export interface InputLimits {
  maxClientBatchSize: number;
  maxInputChars: number;
}

/** Inputs ready for the batcher. */
export interface Prepared {
  inputs: { texts: string[] } | { ids: number[][] };
  /** Tokens they run as (after truncation). */
  tokens: number;
  /** Matryoshka dimension; 0: the model's. */
  dimensions: number;
  /** Characters of the texts (0 for ids). */
  characters: number;
  /** Time spent counting the texts' tokens, ms (0 for ids). */
  tokenizationMs: number;
}

/**
 * `raw` as a request sent it: a string, a list of strings, a list of token ids, or a list of such lists
 * (one input each; texts and ids not mixed). Too long: cut to max_seq_length when `truncate`, else 422.
 */
export async function prepareInputs(
  model: SentenceTransformer,
  metrics: ServerMetrics,
  limits: InputLimits,
  raw: unknown,
  field: string,
  o: { truncate: boolean; dimensions: unknown; prompt: string | undefined },
): Promise<Prepared> {
  const isIds = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number');
  const list = typeof raw === 'string' || isIds(raw) ? [raw] : raw;
  if (!Array.isArray(list)) throw new HttpError(422, 'Validation', `${field} must be a string, a list of strings or of token id lists, got ${describe(raw)}`, field);
  if (list.length === 0) throw new HttpError(400, 'Empty', `${field} is empty`, field);
  if (list.length > limits.maxClientBatchSize) throw new HttpError(422, 'Validation', `${field} has ${list.length} inputs; at most ${limits.maxClientBatchSize} per request (--max-client-batch-size)`, field);
  const dimensions = dimensionsOf(o.dimensions, model.dimension);
  const ids = Array.isArray(list[0]); // the first input says which kind; textLengths / idLengths refuse a mix
  if (ids && o.prompt !== undefined) throw new HttpError(422, 'Validation', `prompt_name applies to texts; token ids are embedded as they are`, 'prompt_name');
  const started = performance.now();
  const lengths = ids ? idLengths(list, field, model.tokenizer.vocabSize) : await textLengths(model, metrics, limits, list, field, o.prompt);
  const tokenizationMs = ids ? 0 : performance.now() - started;
  let tokens = 0;
  for (let i = 0; i < lengths.length; i++) {
    metrics.inputLength.observe(lengths[i]!);
    if (lengths[i]! > model.maxSeqLength && !o.truncate) {
      throw new HttpError(422, 'Validation', `${field}[${i}] has ${lengths[i]} tokens, more than the model's ${model.maxSeqLength}; send truncate: true (or start the server with --auto-truncate)`, field);
    }
    tokens += Math.min(lengths[i]!, model.maxSeqLength);
  }
  if (!ids) return { inputs: { texts: list as string[] }, tokens, dimensions, characters: (list as string[]).reduce((n, t) => n + t.length, 0), tokenizationMs };
  // Ids are cut here (the first max_seq_length: no special token is put back, as the request's own).
  return { inputs: { ids: (list as number[][]).map((ids) => ids.slice(0, model.maxSeqLength)) }, tokens, dimensions, characters: 0, tokenizationMs };
}

function dimensionsOf(dimensions: unknown, dim: number): number {
  if (dimensions === undefined || dimensions === null) return 0;
  if (!isCount(dimensions) || dimensions === 0 || dimensions > dim) throw new HttpError(422, 'Validation', `dimensions must be an integer in [1, ${dim}], got ${describe(dimensions)}`, 'dimensions');
  return dimensions;
}

async function textLengths(model: SentenceTransformer, metrics: ServerMetrics, limits: InputLimits, list: unknown[], field: string, prompt: string | undefined): Promise<Uint32Array> {
  for (let i = 0; i < list.length; i++) {
    const t = list[i];
    if (Array.isArray(t) || typeof t === 'number') throw new HttpError(422, 'Validation', `${field}[${i}]: texts and token id lists cannot be mixed in one request`, field);
    if (typeof t !== 'string') throw new HttpError(422, 'Validation', `${field}[${i}] must be a string, got ${describe(t)}`, field);
    if (t === '') throw new HttpError(422, 'Validation', `${field}[${i}] is an empty string`, field);
    if (t.length > limits.maxInputChars) throw new HttpError(413, 'PayloadTooLarge', `${field}[${i}] has ${t.length} characters; at most ${limits.maxInputChars} (--max-input-chars)`, field);
  }
  const started = performance.now();
  const counts = await model.countTokens(list as string[], prompt === undefined ? {} : { prompt });
  metrics.tokenization.observe((performance.now() - started) / 1000);
  return counts;
}

function idLengths(list: unknown[], field: string, vocabSize: number): number[] {
  return list.map((ids, i) => {
    if (!Array.isArray(ids)) throw new HttpError(422, 'Validation', `${field}[${i}]: texts and token id lists cannot be mixed in one request`, field);
    if (ids.length === 0) throw new HttpError(422, 'Validation', `${field}[${i}] is an empty list of token ids`, field);
    ids.forEach((id: unknown, t) => {
      if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= vocabSize) {
        throw new HttpError(422, 'Validation', `${field}[${i}][${t}] = ${describe(id)} is not a token id of the model (an integer from 0 to ${vocabSize - 1})`, field);
      }
    });
    return ids.length;
  });
}

/** TEI's truncate (default: the server's --auto-truncate) and truncation_direction (only Right: sentence-transformers cuts there). */
export function truncationOf(b: Record<string, unknown>, auto: boolean): boolean {
  const truncate = b.truncate ?? auto;
  if (typeof truncate !== 'boolean') throw new HttpError(422, 'Validation', `truncate must be a boolean, got ${describe(truncate)}`, 'truncate');
  const direction = b.truncation_direction ?? 'Right';
  if (direction !== 'Right' && direction !== 'right') {
    throw new HttpError(422, 'Validation', `truncation_direction ${describe(direction)} is not supported: embedrt cuts from the right, as sentence-transformers does`, 'truncation_direction');
  }
  return truncate;
}

/** A prompt of config_sentence_transformers.json by name (TEI's prompt_name), or a 422 naming the known ones. */
export function promptByName(model: SentenceTransformer, name: string): string {
  const prompts = model.prompts;
  if (!Object.hasOwn(prompts, name)) throw new HttpError(422, 'Validation', `prompt_name ${JSON.stringify(name)} is not one of the model's prompts (${Object.keys(prompts).join(', ') || 'none'})`, 'prompt_name');
  return prompts[name]!;
}
