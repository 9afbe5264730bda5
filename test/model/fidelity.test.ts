// Fidelity of the model path: the ONNX graph builder against an independent float64 BERT, and the
// native encode (batching, padding, pooling, normalization) against onnxruntime-node on the same
// graph and the same ids.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceTransformer, Tokenizer } from '../../lib/index.js';
import { onnxGraphFor } from '../../lib/model.js';
import { parseEncoderConfig } from '../../lib/onnx/config.js';
import { bertForward } from '../helpers/bert-reference.js';
import { financialQa } from '../helpers/data.js';
import { float64Weights, l2normalize, makeModel, maxAbsDiff, ort, ortHidden, poolReference, tempDir, useKernels } from '../helpers/models.js';

let root: string;
let cache: string;
const texts = [
  ...financialQa().slice(0, 12).flatMap((r) => [r.question, r.context]),
  'x',
  '',
  'naïve café 東京 — “quoted” [SEP] text',
];

beforeAll(() => {
  root = tempDir('fidelity');
  cache = path.join(root, 'cache');
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('ONNX graph builder against a float64 BERT', () => {
  for (const act of ['gelu', 'gelu_new', 'relu'] as const) {
    it(`hidden_act ${act}: last_hidden_state within 1e-5`, async () => {
      const dir = makeModel(root, `graph-${act}`, { shape: { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, hidden_act: act }, seed: 7 });
      const cfg = parseEncoderConfig(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')), 'config.json');
      const session = await ort.InferenceSession.create(onnxGraphFor(dir, { cacheDir: cache }));
      const get = float64Weights(dir);
      const tok = Tokenizer.fromPretrained(dir);
      for (const text of texts.slice(0, 6)) {
        const ids = Array.from(tok.encode(text).ids);
        const got = await ortHidden(session, ids);
        const ref = bertForward(cfg, get, ids).flatMap((row) => Array.from(row));
        expect(maxAbsDiff(got.data, ref)).toBeLessThan(1e-5);
      }
    });
  }
});

describe('embedrt encode against onnxruntime-node on the standard graph and the same ids', () => {
  useKernels('embedrt');
  // embedrt's CPU graph runs the projections as com.embedrt.Linear (its own kernels: streaming for a few
  // rows, the packed GEMM for many); onnxruntime-node runs the standard graph (MatMul + Add) of the same
  // checkpoint, which the float64 BERT above checks.
  for (const pooling of ['cls', 'mean', 'max', 'mean_sqrt_len', 'weightedmean', 'lasttoken'] as const) {
    it(`pooling ${pooling}, Normalize module, batches of mixed lengths and single texts: max |diff| ≤ 1e-5`, async () => {
      const dir = makeModel(root, `pool-${pooling}`, { pooling, seed: 3 });
      const model = await SentenceTransformer.load(dir, { cacheDir: cache });
      const standard = onnxGraphFor(dir, { cacheDir: cache }, { clsOnly: model.info().clsOnly });
      expect(standard).not.toBe(model.info().graph);
      expect(fs.readFileSync(model.info().graph).includes('com.embedrt')).toBe(true);
      expect(fs.readFileSync(standard).includes('com.embedrt')).toBe(false);
      const session = await ort.InferenceSession.create(standard);
      const got = await model.encode(texts, { batchSize: 5 });
      expect(got.rows).toBe(texts.length);
      for (let i = 0; i < texts.length; i++) {
        const ids = Array.from(model.tokenizer.encode(texts[i]!.toLowerCase(), { maxLength: model.maxSeqLength }).ids);
        const h = await ortHidden(session, ids);
        const ref = l2normalize(poolReference(h.data, ids.length, 32, pooling));
        expect(maxAbsDiff(got.row(i), ref)).toBeLessThanOrEqual(1e-5);
        // Alone (a few rows: the streaming kernels): the same bits as in its batch.
        if (i % 4 === 0) expect(Array.from((await model.encode([texts[i]!])).row(0))).toEqual(Array.from(got.row(i)));
      }
      model.dispose();
    });
  }

  it('truncateDim keeps the first values of the Normalize output; normalize then rescales them', async () => {
    const dir = makeModel(root, 'matryoshka', { pooling: 'cls', seed: 5 });
    const model = await SentenceTransformer.load(dir, { cacheDir: cache });
    const full = await model.encode(texts);
    for (const dim of [32, 16, 8]) {
      const cut = await model.encode(texts, { truncateDim: dim });
      const unit = await model.encode(texts, { truncateDim: dim, normalize: true });
      expect(cut.dim).toBe(dim);
      for (let i = 0; i < texts.length; i++) {
        expect(Array.from(cut.row(i))).toEqual(Array.from(full.row(i).subarray(0, dim)));
        expect(maxAbsDiff(unit.row(i), l2normalize(Array.from(full.row(i).subarray(0, dim))))).toBeLessThan(1e-6);
      }
    }
    const loaded = await SentenceTransformer.load(dir, { cacheDir: cache, truncateDim: 8 });
    expect((await loaded.encode(['a'])).dim).toBe(8);
  });

  it('prompts: prompt, promptName and the default prompt are prepended as sentence-transformers does', async () => {
    const dir = makeModel(root, 'prompts', { pooling: 'mean', prompts: { query: 'Represent this sentence for searching relevant passages: ', doc: '' }, defaultPromptName: 'query' });
    const model = await SentenceTransformer.load(dir, { cacheDir: cache });
    const q = texts.slice(0, 4);
    const viaDefault = await model.encode(q);
    const viaName = await model.encode(q, { promptName: 'query' });
    const viaText = await model.encode(q, { prompt: 'Represent this sentence for searching relevant passages: ' });
    const manual = await model.encode(q.map((t) => `Represent this sentence for searching relevant passages: ${t}`), { promptName: 'doc' });
    expect(Array.from(viaDefault.data)).toEqual(Array.from(viaName.data));
    expect(Array.from(viaText.data)).toEqual(Array.from(manual.data));
    expect(Array.from(viaName.data)).toEqual(Array.from(manual.data));
    await expect(model.encode(q, { promptName: 'nope' })).rejects.toThrow(/prompt name "nope" is not in config_sentence_transformers\.json \(has: query, doc\)/);
  });

  it('texts longer than max_seq_length are truncated, and reported', async () => {
    const dir = makeModel(root, 'short', { pooling: 'mean', maxSeqLength: 16 });
    const model = await SentenceTransformer.load(dir, { cacheDir: cache });
    const long = financialQa()[0]!.context;
    const got = await model.encode(['short text', long, 'another short one']);
    expect(got.truncated).toEqual([1]);
    const cut = model.tokenizer.decode(model.tokenizer.encode(long.toLowerCase(), { maxLength: 16 }).ids);
    const same = await model.encode([cut]);
    expect(maxAbsDiff(same.row(0), got.row(1))).toBeLessThan(1e-5);
  });
});

describe('widths that are not whole panels of com.embedrt.Linear', () => {
  useKernels('embedrt');
  it('hidden 40 and intermediate 72 (the kernel pads its last panel of 16 columns): token rows within 1e-5 of the float64 BERT', async () => {
    const dir = makeModel(root, 'odd-widths', { shape: { hidden_size: 40, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 72 }, pooling: 'mean', seed: 9 });
    const cfg = parseEncoderConfig(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')), 'config.json');
    await using model = await SentenceTransformer.load(dir, { cacheDir: cache });
    expect(fs.readFileSync(model.info().graph).includes('com.embedrt')).toBe(true);
    const get = float64Weights(dir);
    const rows = await model.encode(texts.slice(0, 6), { outputValue: 'token_embeddings' });
    for (let i = 0; i < rows.length; i++) {
      const ids = Array.from(model.tokenizer.encode(texts[i]!.toLowerCase()).ids);
      const ref = bertForward(cfg, get, ids).flatMap((row) => Array.from(row));
      expect(rows[i]!.rows).toBe(ids.length);
      expect(maxAbsDiff(rows[i]!.data, ref)).toBeLessThan(1e-5);
    }
  });
});
