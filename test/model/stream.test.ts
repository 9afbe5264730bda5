// encodeStream: input order, ids, chunking, backpressure, cancellation, bad items, and agreement with
// encode on arrays.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbedrtError, SentenceTransformer, type EmbeddingChunk } from '../../lib/index.js';
import { passages } from '../../examples/financial-texts.mjs';
import { makeModel, maxAbsDiff, tempDir } from '../helpers/models.js';

let root: string;
let model: SentenceTransformer;
const texts: string[] = passages(300);

beforeAll(async () => {
  root = tempDir('stream');
  model = await SentenceTransformer.load(makeModel(root, 'tiny', { pooling: 'mean' }), { cacheDir: path.join(root, 'cache') });
});
afterAll(() => {
  model?.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

async function collect(it: AsyncIterable<EmbeddingChunk>): Promise<EmbeddingChunk[]> {
  const out: EmbeddingChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

async function caught(p: Promise<unknown>): Promise<EmbedrtError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected a rejection').toBeInstanceOf(EmbedrtError);
  return e as EmbedrtError;
}

/** An async source that counts how many items were pulled from it and whether it was closed. */
function counted<T>(items: readonly T[]) {
  const state = { pulled: 0, closed: false };
  async function* gen() {
    try {
      for (const t of items) {
        state.pulled++;
        yield t;
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, source: gen() };
}

describe('encodeStream', () => {
  it('yields every text in input order, in chunks, as encode on the whole array computes them', async () => {
    const whole = await model.encode(texts, { normalize: true });
    const chunks = await collect(model.encodeStream(texts, { normalize: true, chunkSize: 64 }));
    expect(chunks.map((c) => c.start)).toEqual([0, 64, 128, 192, 256]);
    expect(chunks.map((c) => c.embeddings.rows)).toEqual([64, 64, 64, 64, 44]);
    for (const c of chunks) {
      expect(c.ids).toEqual(new Array(c.embeddings.rows).fill(undefined));
      // The same texts batched by length among other neighbours: equal to float32 rounding.
      expect(maxAbsDiff(c.embeddings.data, whole.data.subarray(c.start * whole.dim, (c.start + c.embeddings.rows) * whole.dim))).toBeLessThan(1e-5);
    }
  });

  it('carries {id, text} records’ ids, from an async source, with prompts and truncation', async () => {
    const records = texts.slice(0, 50).map((text, i) => (i % 3 === 0 ? { text } : { id: i % 2 ? `doc-${i}` : i, text }));
    const { source } = counted(records);
    const chunks = await collect(model.encodeStream(source, { chunkSize: 7, truncateDim: 16, prompt: 'passage: ' }));
    const ids = chunks.flatMap((c) => c.ids);
    expect(ids).toEqual(records.map((r) => (r as { id?: unknown }).id));
    const ref = await model.encode(texts.slice(0, 50), { truncateDim: 16, prompt: 'passage: ' });
    const got = new Float32Array(chunks.flatMap((c) => [...c.embeddings.data]));
    expect(got.length).toBe(50 * 16);
    expect(maxAbsDiff(got, ref.data)).toBeLessThan(1e-5);
  });

  it('reads the source no more than two chunks ahead of a slow consumer', async () => {
    const { state, source } = counted(texts);
    let consumed = 0;
    let worstLead = 0;
    for await (const c of model.encodeStream(source, { chunkSize: 10 })) {
      consumed += c.embeddings.rows;
      await new Promise((r) => setTimeout(r, 20)); // the consumer is slow: the stream must wait for it
      worstLead = Math.max(worstLead, state.pulled - consumed);
    }
    expect(consumed).toBe(texts.length);
    expect(worstLead).toBeLessThanOrEqual(2 * 10);
    expect(worstLead).toBeGreaterThan(0); // it does read ahead, so the model is not idle between chunks
  });

  it('leaving the loop early closes the source and stops the work; the model stays usable', async () => {
    const { state, source } = counted(texts);
    let seen = 0;
    for await (const c of model.encodeStream(source, { chunkSize: 16 })) {
      seen += c.embeddings.rows;
      if (seen >= 32) break;
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(state.closed).toBe(true);
    expect(state.pulled).toBeLessThanOrEqual(32 + 2 * 16);
    expect((await model.encode(['still works'])).rows).toBe(1);
  });

  it('an abort ends the stream with E_ABORTED, even while the source is waiting', async () => {
    const ac = new AbortController();
    async function* stalls() {
      yield 'one';
      await new Promise(() => {}); // never another text
    }
    const it = model.encodeStream(stalls(), { chunkSize: 4, signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    const e = await caught(collect(it));
    expect(e.code).toBe('E_ABORTED');
    const pre = await caught(collect(model.encodeStream(texts, { signal: AbortSignal.abort() })));
    expect(pre.code).toBe('E_ABORTED');
  });

  it('a bad item: the items before it are yielded, then an E_BAD_INPUT naming its index; the source is closed', async () => {
    const { state, source } = counted([...texts.slice(0, 23), 42, 'after']);
    const got: EmbeddingChunk[] = [];
    const e = await caught(
      (async () => {
        for await (const c of model.encodeStream(source as AsyncIterable<string>, { chunkSize: 10 })) got.push(c);
      })(),
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(state.closed, 'the source is closed').toBe(true);
    expect(state.pulled).toBe(24); // nothing read past the bad item
    expect(e.code).toBe('E_BAD_INPUT');
    expect(e.message).toBe('encodeStream: item 23 must be a string or an {id, text} record with a string text, got number 42');
    expect(got.map((c) => [c.start, c.embeddings.rows])).toEqual([
      [0, 10],
      [10, 10],
      [20, 3],
    ]);
    const badId = await caught(collect(model.encodeStream([{ id: { x: 1 }, text: 'a' }] as never)));
    expect(badId.message).toMatch(/^encodeStream: item 0: id must be a string or a finite number, got an object/);
  });

  it('bad options fail before the source is read; a non-iterable source is E_BAD_INPUT', async () => {
    for (const [opts, message] of [
      [{ chunkSize: 0 }, /options\.chunkSize must be an integer in \[1, 1048576\]/],
      [{ normalize_embeddings: true }, /unknown option options\.normalize_embeddings \(did you mean normalize\?\)/],
      [{ truncateDim: 9999 }, /options\.truncateDim must be an integer in \[1, 32\]/],
      [{ promptName: 'nope' }, /prompt name "nope"/],
    ] as const) {
      const { state, source } = counted(texts);
      const e = await caught(collect(model.encodeStream(source, opts as never)));
      expect(e.code).toBe('E_BAD_INPUT');
      expect(e.message).toMatch(message);
      expect(state.pulled).toBe(0);
    }
    for (const bad of [42, 'a string', null, { length: 3 }]) {
      expect((await caught(collect(model.encodeStream(bad as never)))).message).toMatch(/^encodeStream: expected an iterable or async iterable/);
    }
  });

  it('reports progress after each chunk; an empty source yields nothing', async () => {
    const seen: number[] = [];
    await collect(model.encodeStream(texts.slice(0, 25), { chunkSize: 10, onProgress: (d) => seen.push(d) }));
    expect(seen).toEqual([10, 20, 25]);
    expect(await collect(model.encodeStream([]))).toEqual([]);
  });

  it('Symbol.dispose and Symbol.asyncDispose release the model', async () => {
    const m = await SentenceTransformer.load(model.dir, { cacheDir: path.join(root, 'cache') });
    await m[Symbol.asyncDispose]();
    expect((await caught(m.encode(['x']))).code).toBe('E_DISPOSED');
    const m2 = await SentenceTransformer.load(model.dir, { cacheDir: path.join(root, 'cache') });
    m2[Symbol.dispose]();
    expect(() => m2.encodeStream(['x'])).toThrow(/model was disposed/);
  });
});
