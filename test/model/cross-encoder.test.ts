// CrossEncoder against sentence-transformers' CrossEncoder (2.7.0 on torch; fixtures written by
// scripts/fixtures/make-st-fixtures.sh) on generated BertForSequenceClassification and
// XLMRobertaForSequenceClassification models: predict (sigmoid for one label, identity and softmax for
// three), pairs past max_length cut longest first, rank; then its errors.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEncoder, EmbedrtError, SentenceTransformer, type TestModelOptions } from '../../lib/index.js';
import { repoRoot } from '../helpers/data.js';
import { generateFixtureModel, makeModel, maxAbsDiff, ort, tempDir } from '../helpers/models.js';

interface Fixture {
  model: string;
  safetensors_sha256: string;
  max_length: number;
  pairs: [string, string][];
  num_labels: number;
  cases: { options: { apply_softmax?: boolean }; scores: string }[];
  rank: { query: string; documents: string[]; hits: { corpus_id: number; score: number }[] | null };
}

const fixtureDir = path.join(repoRoot, 'test', 'fixtures', 'st');
const spec = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'models.json'), 'utf8')) as {
  crossEncoders: (Omit<TestModelOptions, 'tokenizerDir'> & { name: string })[];
};
const floats = (b64: string) => {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
};

let root: string;
const dirs = new Map<string, string>();
beforeAll(() => {
  root = tempDir('cross-encoder');
  for (const m of spec.crossEncoders) {
    const { name, ...opts } = m;
    const dir = path.join(root, name);
    generateFixtureModel(dir, opts);
    dirs.set(name, dir);
  }
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const load = (name: string, opts = {}) => CrossEncoder.load(dirs.get(name)!, { cacheDir: path.join(root, 'cache'), ...opts });

const expectCode = async (p: Promise<unknown>, code: string, message: RegExp) => {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(EmbedrtError);
  expect([(e as EmbedrtError).code, (e as Error).message]).toEqual([code, expect.stringMatching(message)]);
};

describe('CrossEncoder against sentence-transformers', () => {
  for (const name of ['ce-bert', 'ce-xlmr', 'ce-bert-3labels']) {
    it(`${name}: regenerated bit for bit; predict within 1e-5 of CrossEncoder.predict on every pair, long pairs cut longest first`, async () => {
      const fx = JSON.parse(fs.readFileSync(path.join(fixtureDir, `${name}.json`), 'utf8')) as Fixture;
      const weights = fs.readFileSync(path.join(dirs.get(name)!, 'model.safetensors'));
      expect(crypto.createHash('sha256').update(weights).digest('hex')).toBe(fx.safetensors_sha256);
      await using ce = await load(name);
      expect([ce.numLabels, ce.maxLength]).toEqual([fx.num_labels, fx.max_length]);
      expect(ce.activation).toBe(fx.num_labels === 1 ? 'sigmoid' : 'identity');
      // Some pairs pass max_length: the comparison covers longest-first truncation.
      const lengths = (await ce.tokenizer.encodeBatch(fx.pairs.map((p) => p[0]), { pair: fx.pairs.map((p) => p[1]), maxLength: 0 })).lengths;
      expect(Math.max(...lengths)).toBeGreaterThan(fx.max_length);
      for (const c of fx.cases) {
        const got = await ce.predict(fx.pairs, { batchSize: 5, ...(c.options.apply_softmax ? { applySoftmax: true } : {}) });
        const expected = floats(c.scores);
        expect(got.length).toBe(expected.length);
        if (process.env.EMBEDRT_REPORT) console.log(name, JSON.stringify(c.options), maxAbsDiff(got, expected), Math.min(...expected), Math.max(...expected));
        expect(maxAbsDiff(got, expected), JSON.stringify(c.options)).toBeLessThanOrEqual(1e-5);
      }
      if (fx.rank.hits) {
        const hits = await ce.rank(fx.rank.query, fx.rank.documents, { returnDocuments: true });
        expect(hits.map((h) => h.corpusId)).toEqual(fx.rank.hits.map((h) => h.corpus_id));
        hits.forEach((h, i) => {
          expect(Math.abs(h.score - fx.rank.hits![i]!.score)).toBeLessThanOrEqual(1e-5);
          expect(h.text).toBe(fx.rank.documents[h.corpusId]);
        });
        const top = await ce.rank(fx.rank.query, fx.rank.documents, { topK: 3 });
        expect(top).toEqual(hits.slice(0, 3).map(({ corpusId, score }) => ({ corpusId, score })));
      }
    });
  }

  it('`embedrt convert` of a cross-encoder writes its head: onnxruntime-node runs it to the logits predict gives', async () => {
    for (const name of ['ce-bert', 'ce-xlmr']) {
      const out = path.join(root, `converted-${name}`);
      const r = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'cli.js'), 'convert', '--model', dirs.get(name)!, '--out', out], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const session = await ort.InferenceSession.create(path.join(out, 'model.onnx'));
      await using ce = await load(name);
      const pair: [string, string] = ['What was revenue?', 'Revenue grew 12% to $4.2 billion.'];
      const enc = ce.tokenizer.encode(pair[0], { pair: pair[1] });
      const t = (v: ArrayLike<number>) => new ort.Tensor('int64', BigInt64Array.from(Array.from(v, (x) => BigInt(x))), [1, v.length]);
      const feeds: Record<string, unknown> = { input_ids: t(enc.ids), attention_mask: t(enc.attentionMask) };
      if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = t(enc.typeIds);
      const logits = (await session.run(feeds)).logits!;
      expect(logits.dims).toEqual([1, 1]); // [batch, labels], as transformers' exports
      const got = await ce.predict([pair], { activation: 'identity' });
      expect(Math.abs(logits.data[0]! - got[0]!)).toBeLessThanOrEqual(1e-5);
    }
  });

  it("quantize 'int8' builds the 8-bit encoder under the float head: logits within 0.02 of fp32 (an XLM-RoBERTa encoder too: cosine ≥ 0.999)", async () => {
    const pairs: [string, string][] = [['What was revenue?', 'Revenue grew 12% to $4.2 billion.'], ['cash flow', 'Free cash flow was $2.8 million.'], ['a', 'b']];
    for (const name of ['ce-bert', 'ce-xlmr', 'ce-bert-3labels']) {
      await using fp32 = await load(name);
      await using int8 = await load(name, { quantize: 'int8' });
      expect(int8.info().graph).not.toBe(fp32.info().graph);
      const [a, b] = [await fp32.predict(pairs, { activation: 'identity' }), await int8.predict(pairs, { activation: 'identity' })];
      expect(maxAbsDiff(a, b), name).toBeLessThanOrEqual(0.02);
      expect(maxAbsDiff(a, b), name).toBeGreaterThan(0); // it is another graph
    }
    const spec = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'models.json'), 'utf8')) as { models: (Omit<TestModelOptions, 'tokenizerDir'> & { name: string })[] };
    const { name: _name, ...xlmr } = spec.models.find((m) => m.name === 'xlmr-mean')!;
    const dir = path.join(root, 'xlmr-mean');
    generateFixtureModel(dir, xlmr);
    const texts = pairs.flat();
    await using f = await SentenceTransformer.load(dir, { cacheDir: path.join(root, 'cache') });
    await using q = await SentenceTransformer.load(dir, { cacheDir: path.join(root, 'cache'), quantize: 'int8' });
    const [ea, eb] = [await f.encode(texts, { normalize: true }), await q.encode(texts, { normalize: true })];
    for (let r = 0; r < texts.length; r++) {
      const dot = ea.row(r).reduce((acc, v, k) => acc + v * eb.row(r)[k]!, 0);
      expect(dot, texts[r]).toBeGreaterThanOrEqual(0.999);
    }
  });

  it('a folder that ships only an ONNX export (logits [batch, labels]) runs it: the same scores; as a sentence embedding model it is refused', async () => {
    const shipped = path.join(root, 'shipped-export');
    fs.cpSync(dirs.get('ce-xlmr')!, shipped, { recursive: true });
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'cli.js'), 'convert', '--model', shipped, '--out', path.join(shipped, 'onnx')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    fs.rmSync(path.join(shipped, 'model.safetensors'));
    await using built = await load('ce-xlmr');
    await using exported = await CrossEncoder.load(shipped, { cacheDir: path.join(root, 'cache') });
    expect(exported.info().graph).toBe(path.join(shipped, 'onnx', 'model.onnx'));
    const pairs: [string, string][] = [['What was revenue?', 'Revenue grew 12% to $4.2 billion.'], ['x', 'y']];
    expect(maxAbsDiff(await exported.predict(pairs), await built.predict(pairs))).toBeLessThanOrEqual(1e-5);
    await expectCode(SentenceTransformer.load(shipped, { cacheDir: path.join(root, 'cache') }), 'E_MODEL_FILES', /no last_hidden_state output/);
  });

  it('activation and softmax options; scores are the graph logits through them, pair order kept', async () => {
    await using ce = await load('ce-bert');
    const pairs: [string, string][] = [['a', 'b'], ['revenue', 'Revenue grew 12%'], ['', '']];
    const raw = await ce.predict(pairs, { activation: 'identity' });
    const sig = await ce.predict(pairs);
    raw.forEach((v, i) => expect(sig[i]).toBeCloseTo(1 / (1 + Math.exp(-v)), 6));
    // Pair i's score does not depend on the batch it ran in.
    const one = await ce.predict([pairs[1]!]);
    expect(one[0]).toBe(sig[1]);
    await using three = await load('ce-bert-3labels');
    const soft = await three.predict(pairs, { applySoftmax: true });
    for (let r = 0; r < pairs.length; r++) expect(soft[3 * r]! + soft[3 * r + 1]! + soft[3 * r + 2]!).toBeCloseTo(1, 6);
  });
});

describe('CrossEncoder errors', () => {

  it('bad pairs, queries, documents and options are E_BAD_INPUT naming them; rank of a 3-label model is E_UNSUPPORTED', async () => {
    await using ce = await load('ce-bert');
    await expectCode(ce.predict('a b' as never), 'E_BAD_INPUT', /pairs must be an array/);
    await expectCode(ce.predict([['a', 'b'], ['c']] as never), 'E_BAD_INPUT', /pairs\[1\] must be \[text, text\]/);
    await expectCode(ce.predict([['a', 3]] as never), 'E_BAD_INPUT', /pairs\[0\]/);
    await expectCode(ce.predict([['a', 'b']], { activation: 'tanh' as never }), 'E_BAD_INPUT', /options\.activation/);
    await expectCode(ce.predict([['a', 'b']], { batchSize: 0 }), 'E_BAD_INPUT', /options\.batchSize/);
    await expectCode(ce.predict([['a', 'b']], { nope: 1 } as never), 'E_BAD_INPUT', /nope/);
    await expectCode(ce.rank(3 as never, ['a']), 'E_BAD_INPUT', /query must be a string/);
    await expectCode(ce.rank('q', ['a', null] as never), 'E_BAD_INPUT', /documents\[1\]/);
    await expectCode(ce.rank('q', ['a'], { topK: 0 }), 'E_BAD_INPUT', /topK/);
    await expectCode(ce.predict([['a', 'b']], { signal: AbortSignal.abort() }), 'E_ABORTED', /aborted/);
    expect(await ce.predict([])).toEqual(new Float32Array(0));
    expect(await ce.rank('q', [])).toEqual([]);
    await using three = await load('ce-bert-3labels');
    await expectCode(three.rank('q', ['a']), 'E_UNSUPPORTED', /3 labels/);
    ce.dispose();
    await expectCode(ce.predict([['a', 'b']]), 'E_DISPOSED', /disposed/);
  });

  it('a folder that is not a sequence classifier, or has no checkpoint, is refused by name; maxLength is checked', async () => {
    const encoder = makeModel(root, 'encoder', { pooling: 'mean' });
    await expectCode(CrossEncoder.load(encoder, { cacheDir: path.join(root, 'cache') }), 'E_UNSUPPORTED', /no sequence-classification head.*SentenceTransformer\.load/);
    const odd = path.join(root, 'odd-head');
    fs.cpSync(dirs.get('ce-bert')!, odd, { recursive: true });
    const cfg = JSON.parse(fs.readFileSync(path.join(odd, 'config.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(odd, 'config.json'), JSON.stringify({ ...cfg, architectures: ['DebertaV2ForSequenceClassification'] }));
    await expectCode(CrossEncoder.load(odd), 'E_UNSUPPORTED', /DebertaV2ForSequenceClassification/);
    fs.writeFileSync(path.join(odd, 'config.json'), JSON.stringify({ ...cfg, sbert_ce_default_activation_function: 'torch.nn.modules.activation.Tanh' }));
    await expectCode(CrossEncoder.load(odd), 'E_UNSUPPORTED', /sbert_ce_default_activation_function/);
    fs.writeFileSync(path.join(odd, 'config.json'), JSON.stringify({ ...cfg, id2label: { 0: 'a', 2: 'b' } }));
    await expectCode(CrossEncoder.load(odd), 'E_MODEL_FILES', /id2label/);
    fs.writeFileSync(path.join(odd, 'config.json'), JSON.stringify(cfg));
    fs.rmSync(path.join(odd, 'model.safetensors'));
    await expectCode(CrossEncoder.load(odd), 'E_MODEL_FILES', /no onnx\/model\.onnx and no model\.safetensors/);
    await expectCode(load('ce-bert', { maxLength: 100_000 }), 'E_BAD_INPUT', /maxLength/);
    // A cross-encoder folder still loads as a sentence embedding model (its encoder, mean pooling), as in sentence-transformers.
    await using st = await SentenceTransformer.load(dirs.get('ce-bert')!, { cacheDir: path.join(root, 'cache') });
    expect(st.dimension).toBe(32);
  });
});
