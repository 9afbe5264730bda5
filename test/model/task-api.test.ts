// sentence-transformers' task calls and similarity on the model: encodeQuery / encodeDocument against
// its fixtures (scripts/fixtures/make_st_fixtures.py: encode with prompt_name "query", and without a
// prompt — what encode_query and encode_document compute for that model, per sentence-transformers
// 6.3's source), the prompt choice on models with other prompts, and model.similarity /
// similarityPairwise for each similarity_fn_name against a float64 reference.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbedrtError, SentenceTransformer, quantizeEmbeddings, type TestModelOptions } from '../../lib/index.js';
import { repoRoot, rng } from '../helpers/data.js';
import { generateFixtureModel, makeModel, maxAbsDiff, tempDir } from '../helpers/models.js';

const fixtureDir = path.join(repoRoot, 'test', 'fixtures', 'st');
interface Fixture {
  texts: string[];
  cases: { options: Record<string, unknown>; rows: number; dim: number; embeddings: string }[];
}
const floats = (b64: string) => {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
};

let root: string;
beforeAll(() => {
  root = tempDir('task-api');
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function withConfig(name: string, edit: (st: Record<string, unknown>) => void): string {
  const dir = makeModel(root, name, { pooling: 'mean' });
  const file = path.join(dir, 'config_sentence_transformers.json');
  const st = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  edit(st);
  fs.writeFileSync(file, JSON.stringify(st));
  return dir;
}

describe('encodeQuery and encodeDocument', () => {
  it('equal sentence-transformers on the flagship-shaped fixture model (query prompt; no prompt for documents)', async () => {
    const spec = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'models.json'), 'utf8')) as { models: (Omit<TestModelOptions, 'tokenizerDir'> & { name: string })[] };
    const m = spec.models.find((x) => x.name === 'flagship-tiny')!;
    const fx = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'flagship-tiny.json'), 'utf8')) as Fixture;
    const dir = path.join(root, 'flagship-tiny');
    const { name: _name, ...shape } = m;
    generateFixtureModel(dir, shape);
    await using model = await SentenceTransformer.load(dir, { cacheDir: path.join(root, 'cache') });
    const query = fx.cases.find((c) => c.options.prompt_name === 'query')!;
    const plain = fx.cases.find((c) => c.options.truncate_dim === 768 && Object.keys(c.options).length === 1)!;
    const q = await model.encodeQuery(fx.texts);
    const d = await model.encodeDocument(fx.texts);
    expect([q.rows, q.dim]).toEqual([query.rows, query.dim]);
    expect(maxAbsDiff(q.data, floats(query.embeddings))).toBeLessThan(1e-5);
    expect(maxAbsDiff(d.data, floats(plain.embeddings))).toBeLessThan(1e-5);
    expect(maxAbsDiff(q.data, d.data)).toBeGreaterThan(1e-3); // the prompt did change them
  });

  it('choose prompts as sentence-transformers does: never the default prompt; "document" before "passage"; options win', async () => {
    const dir = withConfig('prompts', (st) => {
      st.prompts = { query: 'query: ', passage: 'passage: ', classify: 'label: ' };
      st.default_prompt_name = 'classify';
    });
    await using model = await SentenceTransformer.load(dir, { cacheDir: path.join(root, 'cache') });
    const texts = ['net revenue rose 8%', 'the dividend was cut'];
    const same = async (a: Promise<{ data: Float32Array }>, b: Promise<{ data: Float32Array }>) => expect(maxAbsDiff((await a).data, (await b).data)).toBe(0);
    await same(model.encodeQuery(texts), model.encode(texts, { prompt: 'query: ' }));
    await same(model.encodeDocument(texts), model.encode(texts, { prompt: '' })); // not 'passage: ', not the default
    await same(model.encodeDocument(texts, { promptName: 'passage' }), model.encode(texts, { prompt: 'passage: ' }));
    await same(model.encodeQuery(texts, { prompt: 'x: ' }), model.encode(texts, { prompt: 'x: ' }));
    expect(maxAbsDiff((await model.encode(texts)).data, (await model.encode(texts, { prompt: 'label: ' })).data)).toBe(0); // encode keeps the default
    await expect(model.encodeQuery(texts, { prompt_name: 'query' } as never)).rejects.toThrow(/^encodeQuery: unknown option options\.prompt_name \(did you mean promptName\?\)/);
  });
});

describe('encode precision', () => {
  it("equals quantizeEmbeddings over the call's embeddings, as sentence-transformers' encode(precision=…) does", async () => {
    await using model = await SentenceTransformer.load(makeModel(root, 'precision', { pooling: 'mean' }), { cacheDir: path.join(root, 'cache') });
    const texts = ['revenue grew 12%', 'net loss widened', 'guidance unchanged', 'buyback authorised', ''];
    const float = await model.encode(texts, { normalize: true, truncateDim: 24 });
    for (const precision of ['int8', 'uint8', 'binary', 'ubinary'] as const) {
      const q = await model.encode(texts, { normalize: true, truncateDim: 24, precision });
      const ref = await quantizeEmbeddings(float, precision);
      expect(q.precision).toBe(precision);
      expect([q.rows, q.width, q.dim]).toEqual([ref.rows, ref.width, ref.dim]);
      expect(Buffer.from(q.data.buffer, q.data.byteOffset, q.data.byteLength).equals(Buffer.from(ref.data.buffer, ref.data.byteOffset, ref.data.byteLength)), precision).toBe(true);
      expect((await model.encodeQuery(texts, { precision })).precision).toBe(precision);
    }
    expect((await model.encode(texts, { precision: 'float32' })).data).toBeInstanceOf(Float32Array);
    const empty = await model.encode([], { precision: 'binary', truncateDim: 24 });
    // 20 dimensions: 3 bytes a row, the last one's unused bits 0 (np.packbits), as quantizeEmbeddings gives.
    const odd = await model.encode(texts, { precision: 'binary', truncateDim: 20 });
    const oddRef = await quantizeEmbeddings(await model.encode(texts, { truncateDim: 20 }), 'binary');
    expect([odd.width, odd.dim]).toEqual([3, 20]);
    expect(Array.from(odd.data)).toEqual(Array.from(oddRef.data));
    expect([empty.rows, empty.width, empty.data.length]).toEqual([0, 3, 0]);
    await expect(model.encode(texts, { precision: 'int4' } as never)).rejects.toThrow(/encode: options\.precision must be 'float32', 'int8', 'uint8', 'binary' or 'ubinary', got the string "int4"/);
    const stream = model.encodeStream(texts, { precision: 'int8' } as never);
    await expect(stream.next()).rejects.toThrow(/encodeStream: options\.precision is not supported/);
  });
});

describe('model.similarity and model.similarityPairwise', () => {
  const r = rng(5);
  const rows = (n: number, d: number) => Array.from({ length: n }, () => Float32Array.from({ length: d }, () => r() * 2 - 1));
  const a = rows(7, 24);
  const b = rows(5, 24);
  const ref: Record<string, (x: Float32Array, y: Float32Array) => number> = {
    cosine: (x, y) => {
      let xy = 0, xx = 0, yy = 0;
      for (let k = 0; k < x.length; k++) {
        xy += x[k]! * y[k]!;
        xx += x[k]! * x[k]!;
        yy += y[k]! * y[k]!;
      }
      return xy / (Math.max(Math.sqrt(xx), 1e-12) * Math.max(Math.sqrt(yy), 1e-12));
    },
    dot: (x, y) => x.reduce((s, v, k) => s + v * y[k]!, 0),
    euclidean: (x, y) => -Math.sqrt(x.reduce((s, v, k) => s + (v - y[k]!) ** 2, 0)),
    manhattan: (x, y) => -x.reduce((s, v, k) => s + Math.abs(v - y[k]!), 0),
  };

  for (const fn of ['cosine', 'dot', 'euclidean', 'manhattan'] as const) {
    it(`similarity_fn_name ${fn}: every pair and row-wise pairs equal a float64 reference`, async () => {
      const dir = withConfig(`sim-${fn}`, (st) => {
        st.similarity_fn_name = fn;
      });
      await using model = await SentenceTransformer.load(dir, { cacheDir: path.join(root, 'cache') });
      expect(model.info().similarity).toBe(fn);
      const m = await model.similarity(a, b);
      expect([m.rows, m.cols]).toEqual([7, 5]);
      for (let i = 0; i < 7; i++) for (let j = 0; j < 5; j++) expect(Math.abs(m.data[i * 5 + j]! - ref[fn]!(a[i]!, b[j]!)), `${i},${j}`).toBeLessThan(1e-5);
      const p = await model.similarityPairwise(a.slice(0, 5), b);
      expect(p.length).toBe(5);
      for (let i = 0; i < 5; i++) expect(Math.abs(p[i]! - ref[fn]!(a[i]!, b[i]!))).toBeLessThan(1e-6);
    });
  }

  it('pairwise: a zero vector has cosine 0 (as torch normalizes); unequal rows, dims or non-finite values are E_BAD_INPUT', async () => {
    await using model = await SentenceTransformer.load(withConfig('sim-default', () => {}), { cacheDir: path.join(root, 'cache') });
    const zero = new Float32Array(24);
    expect([...(await model.similarityPairwise([zero], [a[0]!]))]).toEqual([0]);
    const bad = async (p: Promise<unknown>, re: RegExp) => {
      const e = await p.then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(EmbedrtError);
      expect((e as EmbedrtError).code).toBe('E_BAD_INPUT');
      expect((e as Error).message).toMatch(re);
    };
    await bad(model.similarityPairwise(a, b), /similarityPairwise: a has 7 rows, b has 5; pairwise scores need as many of each/);
    await bad(model.similarityPairwise([new Float32Array(3)], [new Float32Array(4)]), /similarityPairwise: a has 3 dimensions, b has 4/);
    await bad(model.similarityPairwise([Float32Array.of(1, NaN)], [Float32Array.of(1, 2)]), /similarityPairwise: a\[0\]\[1\] is NaN; embeddings must be finite/);
  });
});

describe('model.countTokens', () => {
  it("counts what encode tokenizes — the prompt and special tokens included, before the cut to maxSeqLength", async () => {
    const dir = withConfig('count', (st) => {
      st.prompts = { query: 'query: ' };
    });
    await using model = await SentenceTransformer.load(dir, { cacheDir: path.join(root, 'cache') });
    const texts = ['Net revenue rose 8%', '', 'revenue '.repeat(model.maxSeqLength)];
    const counts = await model.countTokens(texts);
    const direct = await model.tokenizer.encodeBatch(texts.map((t) => t.toLowerCase()), { maxLength: 0 });
    expect(Array.from(counts)).toEqual(Array.from(direct.lengths));
    expect(counts[1]).toBe(2); // [CLS] [SEP]
    expect(counts[2]).toBeGreaterThan(model.maxSeqLength);
    const withPrompt = await model.countTokens(texts.slice(0, 1), { promptName: 'query' });
    expect(withPrompt[0]).toBe(counts[0]! + (await model.tokenizer.encodeBatch(['query:'])).lengths[0]! - 2);
    await expect(model.countTokens(['a', 5] as never)).rejects.toMatchObject({ code: 'E_BAD_INPUT', message: 'countTokens: texts[1] must be a string, got number 5' });
  });
});
