// encode({ outputValue: 'token_embeddings' }) against sentence-transformers' encode(output_value=
// "token_embeddings") (test/fixtures/st/token-embeddings.json, written by scripts/fixtures/
// make_st_fixtures.py): each text's rows where its attention mask is 1. The CLS-pooled fixture model
// runs a CLS-only graph, so its token embeddings come from the full graph opened on first use.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceTransformer, TokenEmbeddings, type TestModelOptions } from '../../lib/index.js';
import { repoRoot } from '../helpers/data.js';
import { generateFixtureModel, makeModel, maxAbsDiff, miniLmDir, tempDir } from '../helpers/models.js';

interface TokenFixture {
  sentence_transformers: string;
  texts: string[];
  cases: { model: string; safetensors_sha256: string; options: Record<string, unknown>; rows: number[]; dim: number; embeddings: string }[];
}
const fixtureDir = path.join(repoRoot, 'test', 'fixtures', 'st');
const fx = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'token-embeddings.json'), 'utf8')) as TokenFixture;
const spec = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'models.json'), 'utf8')) as { models: (Omit<TestModelOptions, 'tokenizerDir'> & { name: string })[] };
const floats = (b64: string) => {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
};
const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

let root: string;
beforeAll(() => {
  root = tempDir('token-emb');
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function modelDir(name: string): string {
  if (name === 'all-MiniLM-L6-v2') return miniLmDir();
  const dir = path.join(root, name);
  if (!fs.existsSync(dir)) {
    const { name: _name, ...shape } = spec.models.find((m) => m.name === name)!;
    generateFixtureModel(dir, shape);
  }
  return dir;
}

describe("encode({ outputValue: 'token_embeddings' })", () => {
  it('equals sentence-transformers on every fixture case: rows per text and values', async () => {
    expect(fx.cases.map((c) => c.model)).toEqual(expect.arrayContaining(['flagship-tiny', 'mean', 'all-MiniLM-L6-v2']));
    for (const c of fx.cases) {
      const dir = modelDir(c.model);
      expect(sha256(path.join(dir, 'model.safetensors'))).toBe(c.safetensors_sha256);
      await using model = await SentenceTransformer.load(dir, { cacheDir: path.join(root, 'cache') });
      const got = await model.encode(fx.texts, {
        outputValue: 'token_embeddings',
        batchSize: 7,
        ...(c.options.prompt_name !== undefined ? { promptName: c.options.prompt_name as string } : {}),
      });
      const label = `${c.model} ${JSON.stringify(c.options)}`;
      expect(got.map((t) => t.rows), label).toEqual(c.rows);
      expect(got.every((t) => t instanceof TokenEmbeddings && t.dim === c.dim), label).toBe(true);
      const expected = floats(c.embeddings);
      const all = new Float32Array(expected.length);
      let at = 0;
      for (const t of got) {
        all.set(t.data, at);
        at += t.data.length;
      }
      expect(at, label).toBe(expected.length);
      // Unnormalized hidden states: the bound is relative to their largest magnitude.
      expect(maxAbsDiff(all, expected) / maxAbs(expected), label).toBeLessThan(2e-6 * Math.sqrt(c.dim));
    }
  });

  it("a CLS-only model's token embeddings come from the full graph: row 0, normalized, is its sentence embedding", async () => {
    await using model = await SentenceTransformer.load(modelDir('flagship-tiny'), { cacheDir: path.join(root, 'cache') });
    expect(model.info().clsOnly).toBe(true);
    const texts = ['Net revenue rose 8% in fiscal 2023.', 'x', ''];
    const [tokens, sentences] = await Promise.all([model.encode(texts, { outputValue: 'token_embeddings' }), model.encode(texts)]);
    for (let i = 0; i < texts.length; i++) {
      const cls = Float32Array.from(tokens[i]!.row(0));
      const norm = Math.hypot(...cls);
      expect(maxAbsDiff(cls.map((v) => v / norm), sentences.row(i))).toBeLessThan(1e-5);
    }
    expect(tokens[2]!.rows).toBe(2); // [CLS] [SEP]
    // The sentence path still runs the CLS-only session, and the two sessions keep answering.
    expect(maxAbsDiff((await model.encode(texts)).data, sentences.data)).toBe(0);
    expect(model.info().clsOnly).toBe(true);
  });

  it('marks a text cut to max_seq_length, and returns one entry per text for a single string and for none', async () => {
    await using model = await SentenceTransformer.load(makeModel(root, 'tok-mean', { pooling: 'mean' }), { cacheDir: path.join(root, 'cache') });
    const long = 'quarterly revenue '.repeat(400);
    const [a, b] = await model.encode([long, 'short text'], { outputValue: 'token_embeddings' });
    expect([a!.rows, a!.truncated, b!.truncated]).toEqual([model.maxSeqLength, true, false]);
    expect(await model.encode('one text', { outputValue: 'token_embeddings' })).toHaveLength(1);
    expect(await model.encode([], { outputValue: 'token_embeddings' })).toEqual([]);
    const q = await model.encodeQuery(['short text'], { outputValue: 'token_embeddings' });
    expect(maxAbsDiff(q[0]!.data, b!.data)).toBe(0); // no query prompt in this model
  });

  it('refuses what does not apply to token embeddings, with coded errors', async () => {
    await using model = await SentenceTransformer.load(makeModel(root, 'tok-mean', { pooling: 'mean' }), { cacheDir: path.join(root, 'cache') });
    const t = ['a text'];
    await expect(model.encode(t, { outputValue: 'token_embeddings', normalize: true } as never)).rejects.toMatchObject({ code: 'E_BAD_INPUT', message: expect.stringMatching(/options\.normalize applies to sentence embeddings/) });
    await expect(model.encode(t, { outputValue: 'token_embeddings', truncateDim: 16 } as never)).rejects.toMatchObject({ code: 'E_BAD_INPUT', message: expect.stringMatching(/options\.truncateDim/) });
    await expect(model.encode(t, { outputValue: 'token_embeddings', precision: 'int8' } as never)).rejects.toMatchObject({ code: 'E_BAD_INPUT', message: expect.stringMatching(/options\.precision/) });
    await expect(model.encode(t, { outputValue: 'tokens' } as never)).rejects.toMatchObject({ code: 'E_BAD_INPUT', message: expect.stringMatching(/outputValue must be 'sentence_embedding' or 'token_embeddings', got the string "tokens"/) });
    await expect(model.encode(t, { output_value: 'token_embeddings' } as never)).rejects.toThrow(/did you mean outputValue\?/);
    const stream = model.encodeStream(t, { outputValue: 'token_embeddings' } as never);
    await expect(stream.next()).rejects.toMatchObject({ code: 'E_UNSUPPORTED' });
    // 'sentence_embedding' is the default, said out loud.
    expect(maxAbsDiff((await model.encode(t, { outputValue: 'sentence_embedding' })).data, (await model.encode(t)).data)).toBe(0);
  });

  it('a model disposed while its full graph opens rejects with E_DISPOSED; an aborted signal stops before any work', async () => {
    const model = await SentenceTransformer.load(modelDir('flagship-tiny'), { cacheDir: path.join(root, 'cache-dispose') });
    const pending = model.encode(['a text'], { outputValue: 'token_embeddings' });
    model.dispose();
    await expect(pending).rejects.toMatchObject({ code: 'E_DISPOSED' });
    await using again = await SentenceTransformer.load(modelDir('flagship-tiny'), { cacheDir: path.join(root, 'cache-dispose') });
    const ac = new AbortController();
    ac.abort();
    await expect(again.encode(['a text'], { outputValue: 'token_embeddings', signal: ac.signal })).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect((await again.encode(['a text'], { outputValue: 'token_embeddings' }))[0]!.rows).toBeGreaterThan(2);
    // Two calls wait for the full graph to open; the one whose signal aborts stops, the other gets its rows.
    await using third = await SentenceTransformer.load(modelDir('flagship-tiny'), { cacheDir: path.join(root, 'cache-shared') });
    const stop = new AbortController();
    const stopped = third.encode(['first text'], { outputValue: 'token_embeddings', signal: stop.signal });
    const kept = third.encode(['second text'], { outputValue: 'token_embeddings' });
    stop.abort();
    await expect(stopped).rejects.toMatchObject({ code: 'E_ABORTED' });
    expect((await kept)[0]!.rows).toBe(4); // [CLS] second text [SEP]
  });
});
