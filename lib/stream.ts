// Streaming encode: texts from an iterable or async iterable, embeddings out in input order, chunk by
// chunk, in memory bounded by a few chunks whatever the corpus size.
import { EmbedrtError } from './errors.js';
import type { EncodeOptions, Embeddings } from './embeddings.js';
import { describe, isCount, optionsOf, signalOf, type OptionKeys } from './validate.js';

/** A text, or a record carrying its id (kept beside its embedding, never sent to the model). */
export type StreamItem = string | { readonly id?: string | number; readonly text: string };

export interface EncodeStreamOptions extends Omit<EncodeOptions, 'onProgress' | 'precision' | 'outputValue'> {
  /** Texts per chunk yielded (default 1024): the unit of batching by length, of progress and of memory. */
  chunkSize?: number;
  /** Called after each chunk is embedded: texts embedded so far. */
  onProgress?: (done: number) => void;
}

/** One chunk of a streaming encode: consecutive items of the input. */
export interface EmbeddingChunk {
  /** The input index of the chunk's first item. */
  start: number;
  /** Each item's id: a record's `id`, undefined for a plain string or a record without one. */
  ids: (string | number | undefined)[];
  /** The chunk's embeddings, row i for input item start + i (`truncated` indexes within the chunk). */
  embeddings: Embeddings;
}

/** What encodeStream needs of a model (SentenceTransformer). */
export interface ChunkEncoder {
  encode(texts: string[], options: { signal: AbortSignal } & Omit<EncodeStreamOptions, 'chunkSize' | 'onProgress' | 'signal'>): Promise<Embeddings>;
}

const STREAM_KEYS: OptionKeys<EncodeStreamOptions> = {
  chunkSize: true, batchSize: true, maxBatchTokens: true, normalize: true, truncateDim: true, prompt: true, promptName: true, onProgress: true, signal: true,
};

/** The most texts per chunk: a chunk's embeddings are one Float32Array (1M × 1024 floats is 4 GB). */
const MAX_CHUNK = 1 << 20;

type Source = Iterable<StreamItem> | AsyncIterable<StreamItem>;

type SourceIterator = { sync: true; it: Iterator<StreamItem> } | { sync: false; it: AsyncIterator<StreamItem> };

function iteratorOf(source: Source): SourceIterator {
  if (source !== null && typeof source === 'object') {
    const s = source as Partial<AsyncIterable<StreamItem> & Iterable<StreamItem>>;
    if (typeof s[Symbol.asyncIterator] === 'function') return { sync: false, it: s[Symbol.asyncIterator]!() };
    if (typeof s[Symbol.iterator] === 'function') return { sync: true, it: s[Symbol.iterator]!() };
  }
  throw new EmbedrtError('E_BAD_INPUT', `encodeStream: expected an iterable or async iterable of texts or {id, text} records, got ${describe(source)}`);
}

/**
 * Embeds texts as they come from `source` and yields them in input order, `chunkSize` at a time. The
 * source is read at most two chunks ahead of what the consumer has taken (one chunk being embedded, the
 * next waiting), so memory stays bounded and a slow consumer slows the reading; breaking out of the loop
 * cancels the chunk in flight and closes the source.
 */
export async function* encodeStream(model: ChunkEncoder, source: Source, options?: EncodeStreamOptions): AsyncGenerator<EmbeddingChunk, void, undefined> {
  if (options != null && typeof options === 'object' && Object.hasOwn(options, 'precision')) {
    throw new EmbedrtError('E_UNSUPPORTED', "encodeStream: options.precision is not supported: encode's int8/uint8 ranges come from the whole call, a stream has no whole; quantize each chunk with quantizeEmbeddings(chunk.embeddings, precision, { ranges }) and ranges from a calibration set");
  }
  if (options != null && typeof options === 'object' && Object.hasOwn(options, 'outputValue')) {
    throw new EmbedrtError('E_UNSUPPORTED', 'encodeStream: options.outputValue is not supported: a stream gives sentence embeddings; for token embeddings, call encode(texts, { outputValue: \'token_embeddings\' }) on each batch of texts');
  }
  const opts = optionsOf(options, 'encodeStream', STREAM_KEYS);
  const chunkSize = opts.chunkSize ?? 1024;
  if (!isCount(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK) {
    throw new EmbedrtError('E_BAD_INPUT', `encodeStream: options.chunkSize must be an integer in [1, ${MAX_CHUNK}], got ${describe(opts.chunkSize)}`);
  }
  if (opts.onProgress != null && typeof opts.onProgress !== 'function') {
    throw new EmbedrtError('E_BAD_INPUT', `encodeStream: options.onProgress must be a function, got ${describe(opts.onProgress)}`);
  }
  const userSignal = signalOf(opts.signal, 'encodeStream');
  const { chunkSize: _c, onProgress, signal: _s, ...encodeOptions } = opts;
  const iter = iteratorOf(source);
  // One signal for the chunks in flight: the caller's, or the consumer leaving the loop.
  const stop = new AbortController();
  const forward = () => stop.abort();
  userSignal?.addEventListener('abort', forward, { once: true });
  const aborted = () => new EmbedrtError('E_ABORTED', 'encodeStream: aborted');
  // Waiting on an async source also ends when the signal fires (stdin may never send another line). A
  // listener per wait, removed when the wait ends: racing one long-lived promise instead would leave a
  // reaction on it per item, a leak that grew the heap by ~0.6 KB per text.
  const nextItem = (): IteratorResult<StreamItem> | Promise<IteratorResult<StreamItem>> => {
    if (iter.sync) return iter.it.next();
    const pending = iter.it.next();
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(aborted());
      stop.signal.addEventListener('abort', onAbort, { once: true });
      pending.then(
        (r) => {
          stop.signal.removeEventListener('abort', onAbort);
          resolve(r);
        },
        (e: unknown) => {
          stop.signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  };
  let read = 0;
  let exhausted = false;
  interface Pending {
    start: number;
    texts: string[];
    ids: (string | number | undefined)[];
    /** What reading the source threw after these items: thrown once they are yielded. */
    error?: { error: unknown };
  }
  const readChunk = async (): Promise<Pending | undefined> => {
    if (exhausted) return undefined;
    const c: Pending = { start: read, texts: [], ids: [] };
    try {
      while (c.texts.length < chunkSize) {
        if (stop.signal.aborted) throw aborted();
        let r: IteratorResult<StreamItem>;
        try {
          const next = nextItem();
          r = next instanceof Promise ? await next : next;
        } catch (e) {
          exhausted = true; // a source that threw is done; one we stop on a bad item is closed below
          throw e;
        }
        if (r.done) {
          exhausted = true;
          break;
        }
        const item: unknown = r.value;
        if (typeof item === 'string') {
          c.texts.push(item);
          c.ids.push(undefined);
        } else if (item !== null && typeof item === 'object' && typeof (item as { text?: unknown }).text === 'string') {
          const id = (item as { id?: unknown }).id;
          if (id !== undefined && typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id))) {
            throw new EmbedrtError('E_BAD_INPUT', `encodeStream: item ${read}: id must be a string or a finite number, got ${describe(id)}`);
          }
          c.texts.push((item as { text: string }).text);
          c.ids.push(id as string | number | undefined);
        } else {
          throw new EmbedrtError('E_BAD_INPUT', `encodeStream: item ${read} must be a string or an {id, text} record with a string text, got ${describe(item)}`);
        }
        read++;
      }
    } catch (error) {
      if (stop.signal.aborted) throw aborted();
      c.error = { error }; // the items before the bad one are still embedded and yielded
    }
    return c.texts.length > 0 || c.error ? c : undefined;
  };
  let current: Promise<EmbeddingChunk | undefined> | undefined;
  let done = 0;
  // A chunk of no items (the source failed at once) yields nothing but its error.
  const embed = (c: Pending): Promise<EmbeddingChunk | undefined> =>
    c.texts.length === 0
      ? Promise.resolve(undefined)
      : model.encode(c.texts, { ...encodeOptions, signal: stop.signal }).then((embeddings) => ({ start: c.start, ids: c.ids, embeddings }));
  try {
    if (userSignal?.aborted) throw aborted();
    // Zero texts check every encode option now, so a bad one fails before the source is read.
    await model.encode([], { ...encodeOptions, signal: stop.signal });
    let pending = await readChunk();
    current = pending && embed(pending);
    while (current !== undefined && pending !== undefined) {
      // While `current` is embedded, the next chunk is read; it is embedded as soon as `current` is
      // done, whether or not the consumer has taken `current` yet.
      const next = pending.error ? undefined : await readChunk();
      const following = next && current.then(() => embed(next));
      following?.catch(() => {}); // its error, if any, is thrown when it is awaited
      const chunk = await current;
      const failed = pending.error;
      current = following;
      pending = next;
      if (chunk !== undefined) {
        done += chunk.embeddings.rows;
        onProgress?.(done);
        yield chunk;
      }
      if (failed) throw failed.error;
    }
  } finally {
    userSignal?.removeEventListener('abort', forward);
    if (current !== undefined) {
      stop.abort(); // the consumer left early, or something failed: nothing more is embedded
      await current.catch(() => {});
    }
    stop.abort();
    // Closes the source without waiting on it (a pending read of stdin may never end).
    if (!exhausted) Promise.resolve(iter.it.return?.()).catch(() => {});
  }
}
