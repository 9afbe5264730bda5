// evaluateIR against sentence-transformers' InformationRetrievalEvaluator, on the same fixed
// embeddings (fixture: scripts/fixtures/make_ir_fixtures.py), to 1e-9.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbedrtError, evaluateIR, type Encoder } from '../../lib/index.js';
import { defaultDims } from '../../lib/evaluate.js';
import { repoRoot } from '../helpers/data.js';

const fx = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'st', 'ir.json'), 'utf8')) as {
  dim: number;
  corpus: { ids: string[]; texts: string[]; embeddings: string };
  queries: { ids: string[]; texts: string[]; embeddings: string };
  relevant: Record<string, string[]>;
  results: Record<string, Record<'cos_sim' | 'dot_score', Record<string, Record<string, number>>>>;
};
const f32 = (b64: string) => {
  const b = Buffer.from(b64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};

/** A stand-in model that returns the fixture's embeddings for its texts. */
function fixedModel(): Encoder & { calls: number } {
  const vec = new Map<string, Float32Array>();
  const add = (p: { texts: string[]; embeddings: string }) => {
    const all = f32(p.embeddings);
    p.texts.forEach((t, i) => vec.set(t, all.subarray(i * fx.dim, (i + 1) * fx.dim)));
  };
  add(fx.corpus);
  add(fx.queries);
  const m = {
    calls: 0,
    async encode(texts: string[]) {
      m.calls++;
      const data = new Float32Array(texts.length * fx.dim);
      texts.forEach((t, i) => data.set(vec.get(t)!, i * fx.dim));
      return { data, rows: texts.length, dim: fx.dim };
    },
  };
  return m;
}

const data = {
  queries: Object.fromEntries(fx.queries.ids.map((id, i) => [id, fx.queries.texts[i]!])),
  corpus: Object.fromEntries(fx.corpus.ids.map((id, i) => [id, fx.corpus.texts[i]!])),
  relevantDocs: fx.relevant,
};

describe('evaluateIR', () => {
  it("equals InformationRetrievalEvaluator's metrics per dimension and score function, to 1e-9", async () => {
    const model = fixedModel();
    const got = await evaluateIR(data, model, { dims: [64, 32, 16] });
    expect(model.calls).toBe(2); // queries and corpus are embedded once, for all dimensions
    for (const [dim, byFn] of Object.entries(fx.results)) {
      for (const [stName, ours] of [['cos_sim', 'cosine'], ['dot_score', 'dot']] as const) {
        const expected = byFn[stName];
        for (const [metric, byK] of Object.entries(expected)) {
          for (const [k, v] of Object.entries(byK)) {
            const actual = (got[Number(dim)]![ours] as unknown as Record<string, Record<string, number>>)[metric]![k]!;
            expect(Math.abs(actual - v), `${dim} ${ours} ${metric}@${k}`).toBeLessThanOrEqual(1e-9);
          }
        }
      }
    }
  });

  it("defaults to the model's own dimension and the Matryoshka cuts below it", async () => {
    const model = fixedModel(); // 64-dimensional
    expect(Object.keys(await evaluateIR(data, model)).map(Number)).toEqual([64]);
    expect(defaultDims(384)).toEqual([384, 256, 128, 64]); // all-MiniLM-L6-v2: its own size first
    expect(defaultDims(768)).toEqual([768, 512, 256, 128, 64]);
    expect(defaultDims(1024)).toEqual([1024, 768, 512, 256, 128, 64]);
  });

  it('rejects data it cannot evaluate, saying why', async () => {
    const model = fixedModel();
    await expect(evaluateIR({ ...data, relevantDocs: {} }, model)).rejects.toThrow(/no query has a relevant document/);
    await expect(evaluateIR(data, model, { dims: [65] })).rejects.toThrow(EmbedrtError);
    await expect(evaluateIR(data, model, { mapAtK: [0] })).rejects.toThrow(/mapAtK must be a non-empty array of positive integers/);
  });
});
