// POST /rerank (text-embeddings-inference's reranker API) on a server with a CrossEncoder: every answer
// equals CrossEncoder.rank of the same query and texts (which cross-encoder.test.ts holds to
// sentence-transformers), raw_scores gives the logits, return_text the texts; each error provoked; the
// route exists only with a reranker; `embedrt serve --reranker` serves it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEncoder, SentenceTransformer } from '../../lib/index.js';
import { createServer, type EmbedServer } from '../../lib/serve/index.js';
import { passages } from '../../examples/financial-texts.mjs';
import { repoRoot } from '../helpers/data.js';
import { makeModel, tempDir } from '../helpers/models.js';

let root: string;
let model: SentenceTransformer;
let reranker: CrossEncoder;
let rerankerDir: string;
let server: EmbedServer;
let base: string;
const docs = passages(9);
const query = 'How much did revenue grow?';

beforeAll(async () => {
  root = tempDir('rerank');
  const cache = path.join(root, 'cache');
  model = await SentenceTransformer.load(makeModel(root, 'tiny', { pooling: 'mean' }), { cacheDir: cache });
  rerankerDir = makeModel(root, 'reranker', { classifierLabels: 1, seed: 5 });
  reranker = await CrossEncoder.load(rerankerDir, { cacheDir: cache, maxLength: 64 });
  server = createServer(model, { reranker, maxClientBatchSize: 20 });
  base = await server.listen();
});
afterAll(async () => {
  await server?.close();
  model?.dispose();
  reranker?.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

const post = (body: unknown, at = base) => fetch(`${at}/rerank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('POST /rerank', () => {
  it('equals CrossEncoder.rank: indices best first, scores after the activation; raw_scores and return_text', async () => {
    const expected = await reranker.rank(query, docs);
    const res = await post({ query, texts: docs, truncate: true });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { index: number; score: number; text?: string }[];
    expect(body).toEqual(expected.map((h) => ({ index: h.corpusId, score: h.score })));
    const logits = await reranker.predict(docs.map((d) => [query, d] as [string, string]), { activation: 'identity' });
    const raw = (await (await post({ query, texts: docs, truncate: true, raw_scores: true, return_text: true })).json()) as { index: number; score: number; text: string }[];
    expect(raw.map((h) => h.score)).toEqual(raw.map((h) => logits[h.index]));
    expect(raw.map((h) => h.index)).toEqual(body.map((h) => h.index));
    expect(raw.every((h) => h.text === docs[h.index])).toBe(true);
  });

  it('errors in TEI shape: missing or empty fields, unknown fields, too many texts, a pair over max length without truncate', async () => {
    const expectError = async (b: unknown, status: number, type: string, message: RegExp) => {
      const res = await post(b);
      expect(res.status).toBe(status);
      const e = (await res.json()) as { error: string; error_type: string };
      expect([e.error_type, e.error]).toEqual([type, expect.stringMatching(message)]);
    };
    await expectError({ texts: ['a'] }, 422, 'Validation', /query must be a string/);
    await expectError({ query: '', texts: ['a'] }, 422, 'Validation', /query is an empty string/);
    await expectError({ query: 'q', texts: [] }, 400, 'Empty', /texts is empty/);
    await expectError({ query: 'q', texts: ['a', 3] }, 422, 'Validation', /texts\[1\] must be a string/);
    await expectError({ query: 'q', texts: 'a' }, 422, 'Validation', /texts must be a list/);
    await expectError({ query: 'q', texts: ['a'], top_n: 2 }, 422, 'Validation', /unknown field "top_n"/);
    await expectError({ query: 'q', texts: ['a'], raw_scores: 'yes' }, 422, 'Validation', /raw_scores must be a boolean/);
    await expectError({ query: 'q', texts: Array(21).fill('a') }, 422, 'Validation', /at most 20/);
    const long = docs.join(' ');
    await expectError({ query, texts: ['short', long] }, 422, 'Validation', /query \+ texts\[1\] has \d+ tokens, more than the model's 64/);
    expect((await post({ query, texts: ['short', long], truncate: true })).status).toBe(200);
  });

  it('is not served without a reranker (404), and `embedrt serve --reranker` serves it', async () => {
    const plain = createServer(model);
    const at = await plain.listen();
    expect((await post({ query, texts: docs }, at)).status).toBe(404);
    await plain.close();
    const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'cli.js'), 'serve', '--model', model.dir, '--reranker', rerankerDir, '--port', '0', '--auto-truncate'], {
      env: { ...process.env, EMBEDRT_CACHE: path.join(root, 'cache') },
    });
    try {
      const address = await new Promise<string>((resolve, reject) => {
        let err = '';
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          const m = /serving .* at (http:\/\/\S+)/.exec(err);
          if (m) resolve(m[1]!);
        });
        child.on('exit', () => reject(new Error(err)));
      });
      const res = await post({ query, texts: docs.slice(0, 3) }, address);
      expect(res.status).toBe(200);
      const expected = await reranker.rank(query, docs.slice(0, 3));
      expect(await res.json()).toEqual(expected.map((h) => ({ index: h.corpusId, score: h.score })));
    } finally {
      child.kill('SIGTERM');
    }
  });
});
