// embedrt serve: the official `openai` npm client and TEI-shaped requests (from TEI's API documentation)
// against the server, every answer compared with model.encode of the same inputs alone; each documented
// error provoked; concurrent requests merged into shared runs without changing a bit; a client that
// goes away dropped; graceful shutdown; the CLI's lifecycle.
// Longer than 400 lines because every test here shares the one server and the two models beforeAll
// loads; split, each file would load and serve them again.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { OpenAIEmbeddings } from '@langchain/openai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceTransformer } from '../../lib/index.js';
import { createServer, type EmbedServer } from '../../lib/serve/index.js';
import { passages } from '../../examples/financial-texts.mjs';
import { repoRoot } from '../helpers/data.js';
import { makeModel, tempDir } from '../helpers/models.js';
import { renderedDom } from '../helpers/chromium.js';
import { hfTokenizer } from '../helpers/hf.js';

let root: string;
let dir: string;
let model: SentenceTransformer;
/** A MiniLM-sized model: slow enough that a long request is still running when the next ones arrive. */
let medium: SentenceTransformer;
let server: EmbedServer;
let base: string;
const KEY = 'test-key-7f3a';
const texts = passages(12);

beforeAll(async () => {
  root = tempDir('serve');
  dir = makeModel(root, 'tiny', { pooling: 'mean', prompts: { query: 'query: ' } });
  model = await SentenceTransformer.load(dir, { cacheDir: path.join(root, 'cache') });
  const mediumDir = makeModel(root, 'medium', { pooling: 'mean', shape: { hidden_size: 384, num_hidden_layers: 6, num_attention_heads: 6, intermediate_size: 1536 } });
  medium = await SentenceTransformer.load(mediumDir, { cacheDir: path.join(root, 'cache') });
  server = createServer(model, { apiKey: KEY, modelId: 'tiny-embed' });
  base = await server.listen();
});
afterAll(async () => {
  await server?.close();
  model?.dispose();
  medium?.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

const post = (route: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
/** model.encode of each text alone, as float32 rows. */
const alone = async (t: string[], opts: { normalize?: boolean; truncateDim?: number; promptName?: string } = {}) =>
  Promise.all(t.map(async (x) => Array.from((await model.encode([x], opts)).data)));

describe('OpenAI API, through the official openai client', () => {
  it('embeddings.create: base64 (the client default) and float, dimensions, usage; equal to model.encode alone', async () => {
    const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: KEY });
    const expected = await alone(texts, { normalize: true });
    const b64 = await client.embeddings.create({ model: 'tiny-embed', input: texts });
    expect(b64.object).toBe('list');
    expect(b64.model).toBe('tiny-embed');
    expect(b64.data.map((d) => d.index)).toEqual(texts.map((_, i) => i));
    b64.data.forEach((d, i) => expect(Array.from(Float32Array.from(d.embedding))).toEqual(expected[i]));
    const counts = await model.countTokens(texts);
    expect(b64.usage).toEqual({ prompt_tokens: counts.reduce((a, b) => a + b, 0), total_tokens: counts.reduce((a, b) => a + b, 0) });
    const float = await client.embeddings.create({ model: 'tiny-embed', input: texts[0]!, encoding_format: 'float' });
    expect(Array.from(Float32Array.from(float.data[0]!.embedding))).toEqual(expected[0]);
    const cut = await client.embeddings.create({ model: 'tiny-embed', input: texts.slice(0, 3), dimensions: 16 });
    const cutExpected = await alone(texts.slice(0, 3), { normalize: true, truncateDim: 16 });
    cut.data.forEach((d, i) => expect(Array.from(Float32Array.from(d.embedding))).toEqual(cutExpected[i]));
  });

  it("errors come in OpenAI's shape, and the client raises its own error classes", async () => {
    const wrong = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'not-the-key', maxRetries: 0 });
    await expect(wrong.embeddings.create({ model: 'x', input: 'a' })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: KEY, maxRetries: 0 });
    const e = await client.embeddings.create({ model: 'x', input: [] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    const r = await post('/v1/embeddings', { input: ['a', { text: 'b' }] });
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: { message: expect.stringMatching(/^input\[1\] must be a string, got /), type: 'invalid_request_error', param: 'input', code: null } });
    const extra = await post('/embeddings', { input: 'a', temperature: 1 });
    expect([extra.status, ((await extra.json()) as { error: { message: string } }).error.message]).toEqual([400, expect.stringMatching(/unknown field "temperature"/)]);
    const fmt = await post('/v1/embeddings', { input: 'a', encoding_format: 'int8' });
    expect(fmt.status).toBe(400);
  });
});

describe('token id inputs (OpenAI and TEI) and /embed_all', () => {
  // The reference ids: Hugging Face tokenizers (npm) on the model's tokenizer.json, special tokens included.
  const referenceIds = async (t: string[]) => (await hfTokenizer(path.join(dir, 'tokenizer.json')).encodeBatch(t)).map((e) => e.getIds().filter((_, k) => e.getAttentionMask()[k] === 1));

  it("the openai client's token-id inputs embed as the texts they come from", async () => {
    const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: KEY, maxRetries: 0 });
    const ids = await referenceIds(texts.slice(0, 4));
    const expected = await alone(texts.slice(0, 4), { normalize: true });
    const many = await client.embeddings.create({ model: 'tiny-embed', input: ids, encoding_format: 'float' });
    many.data.forEach((d, i) => expect(Array.from(Float32Array.from(d.embedding))).toEqual(expected[i]));
    expect(many.usage.prompt_tokens).toBe(ids.reduce((n, l) => n + l.length, 0));
    const one = await client.embeddings.create({ model: 'tiny-embed', input: ids[1]!, dimensions: 16 });
    expect(one.data).toHaveLength(1);
    expect(Array.from(Float32Array.from(one.data[0]!.embedding))).toEqual((await alone([texts[1]!], { normalize: true, truncateDim: 16 }))[0]);
    const bad = await client.embeddings.create({ model: 'x', input: [[101, 30522]] }).catch((x: unknown) => x);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as Error).message).toMatch(/input\[0\]\[1\] = number 30522 is not a token id of the model \(an integer from 0 to 30521\)/);
  });

  it('TEI /embed takes ids; too many are 422 unless truncate (then the first max_seq_length)', async () => {
    const ids = await referenceIds(texts.slice(0, 3));
    const r = await post('/embed', { inputs: ids, normalize: false });
    expect(await r.json()).toEqual(await alone(texts.slice(0, 3)));
    const long = Array.from({ length: model.maxSeqLength + 5 }, (_, k) => 1000 + k);
    const refused = await post('/embed', { inputs: [long] });
    expect([refused.status, ((await refused.json()) as { error: string }).error]).toEqual([422, expect.stringMatching(/inputs\[0\] has \d+ tokens, more than the model's \d+/)]);
    const cut = await post('/embed', { inputs: [long], truncate: true });
    expect(await cut.json()).toEqual([Array.from((await model.encodeIds([long.slice(0, model.maxSeqLength)], { normalize: true })).data)]);
  });

  it("/embed_all gives every token's row, as model.encode's token embeddings; from texts (with a prompt) or ids", async () => {
    const t = texts.slice(0, 3);
    const rows = (tokens: { rows: number; row(k: number): Float32Array }[]) => tokens.map((e) => Array.from({ length: e.rows }, (_, k) => Array.from(e.row(k))));
    const r = await post('/embed_all', { inputs: t });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual(rows(await model.encode(t, { outputValue: 'token_embeddings' })));
    const q = await post('/embed_all', { inputs: 'net revenue', prompt_name: 'query' });
    expect(await q.json()).toEqual(rows(await model.encode(['net revenue'], { outputValue: 'token_embeddings', promptName: 'query' })));
    const fromIds = await post('/embed_all', { inputs: await referenceIds(t) });
    expect(await fromIds.json()).toEqual(rows(await model.encode(t, { outputValue: 'token_embeddings' })));
  });
});

describe('LangChain.js', () => {
  it('OpenAIEmbeddings pointed at the server: embedDocuments and embedQuery equal model.encode alone', async () => {
    const lc = new OpenAIEmbeddings({ model: 'tiny-embed', apiKey: KEY, configuration: { baseURL: `${base}/v1` }, batchSize: 5, maxRetries: 0 });
    const docs = await lc.embedDocuments(texts);
    const expected = await alone(texts, { normalize: true });
    expect(docs).toHaveLength(texts.length);
    docs.forEach((d, i) => expect(Array.from(Float32Array.from(d))).toEqual(expected[i]));
    const q = await lc.embedQuery('What was net revenue?');
    expect(Array.from(Float32Array.from(q))).toEqual((await alone(['What was net revenue?'], { normalize: true }))[0]);
    const cut = new OpenAIEmbeddings({ model: 'tiny-embed', apiKey: KEY, configuration: { baseURL: `${base}/v1` }, dimensions: 16, maxRetries: 0 });
    expect(await cut.embedQuery(texts[0]!)).toHaveLength(16);
  });
});

describe('text-embeddings-inference API (requests as its documentation shows them)', () => {
  it('POST /embed: a string or a list; normalize (default true); prompt_name; dimensions; TEI timing headers', async () => {
    const one = await post('/embed', { inputs: 'What is Deep Learning?' });
    expect(one.status).toBe(200);
    expect(one.headers.get('content-type')).toMatch(/application\/json/);
    for (const h of ['x-total-time', 'x-tokenization-time', 'x-queue-time', 'x-inference-time', 'x-compute-tokens']) expect(one.headers.get(h), h).toMatch(/^\d+$/);
    expect(Number(one.headers.get('x-total-time'))).toBeGreaterThanOrEqual(Number(one.headers.get('x-queue-time')) + Number(one.headers.get('x-inference-time')) - 1);
    expect(await one.json()).toEqual(await alone(['What is Deep Learning?'], { normalize: true }));
    const raw = await post('/embed', { inputs: texts.slice(0, 4), normalize: false });
    expect(await raw.json()).toEqual(await alone(texts.slice(0, 4)));
    const q = await post('/embed', { inputs: ['net revenue'], prompt_name: 'query', dimensions: 8 });
    expect(await q.json()).toEqual(await alone(['net revenue'], { promptName: 'query', truncateDim: 8, normalize: true }));
    // TEI's own k6 load script (load_tests in TEI's repository): POST / with a long text and truncate,
    // reading the four timing headers.
    const long = 'A path from a point approximately 330 metres east of the most south westerly corner of Unit 4, '.repeat(40);
    const k6 = await post('/', { inputs: long, truncate: true });
    expect(k6.status).toBe(200);
    for (const h of ['X-Total-Time', 'X-Tokenization-Time', 'X-Queue-Time', 'X-Inference-Time']) expect(k6.headers.get(h), h).toMatch(/^\d+$/);
    expect(await k6.json()).toEqual(await alone([long], { normalize: true }));
  });

  it('long inputs: 422 unless truncate is true (then equal to encode, which truncates)', async () => {
    const long = 'revenue '.repeat(model.maxSeqLength + 10);
    const refused = await post('/embed', { inputs: [long] });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toEqual({ error: expect.stringMatching(/inputs\[0\] has \d+ tokens, more than the model's \d+; send truncate: true/), error_type: 'Validation' });
    const cut = await post('/embed', { inputs: [long], truncate: true });
    expect(cut.status).toBe(200);
    expect(await cut.json()).toEqual(await alone([long], { normalize: true }));
  });

  it("every documented error, in TEI's shape — and JSON where TEI answers text/plain", async () => {
    const cases: [string, RequestInit | undefined, unknown, number, string][] = [
      ['/embed', undefined, { inputs: [] }, 400, 'Empty'],
      ['/embed', undefined, { inputs: [true, 2] }, 422, 'Validation'],
      ['/embed', undefined, { inputs: [[101, 102], 'a'] }, 422, 'Validation'],
      ['/embed', undefined, { inputs: [[101, 102], []] }, 422, 'Validation'],
      ['/embed', undefined, { inputs: [[101, 30522]] }, 422, 'Validation'],
      ['/embed', undefined, { inputs: [[101, 1.5]] }, 422, 'Validation'],
      ['/embed', undefined, { inputs: [[101, 102]], prompt_name: 'query' }, 422, 'Validation'],
      ['/embed_all', undefined, { inputs: 'a', normalize: true }, 422, 'Validation'],
      ['/embed', undefined, { inputs: 'a', normalize: 'yes' }, 422, 'Validation'],
      ['/embed', undefined, { inputs: 'a', truncation_direction: 'Left' }, 422, 'Validation'],
      ['/embed', undefined, { inputs: 'a', prompt_name: 'nope' }, 422, 'Validation'],
      ['/embed', undefined, '{"inputs": ', 400, 'Validation'],
      ['/embed', undefined, '[1, 2]', 422, 'Validation'],
      ['/embed', { headers: { authorization: 'Bearer wrong' } }, { inputs: 'a' }, 401, 'Unauthorized'],
    ];
    for (const [route, init, body, status, type] of cases) {
      const r = await post(route, body, (init?.headers as Record<string, string>) ?? {});
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.headers.get('content-type')).toMatch(/application\/json/);
      const j = (await r.json()) as { error: string; error_type: string };
      expect(j.error_type, JSON.stringify(body)).toBe(type);
      expect(j.error.length).toBeGreaterThan(5);
    }
    const missing = await fetch(`${base}/nope`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(missing.status).toBe(404);
  });

  it('413 over the payload limit; 429 beyond --max-concurrent-requests (never an unbounded queue)', async () => {
    const small = createServer(model, { payloadLimit: 1000 });
    const at = await small.listen();
    try {
      const big = await fetch(`${at}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: 'x'.repeat(2000) }) });
      expect([big.status, ((await big.json()) as { error_type: string }).error_type]).toEqual([413, 'PayloadTooLarge']);
      // One request holds the only place; the others, sent while it runs, are refused at once.
      const slow = createServer(medium, { maxConcurrentRequests: 1 });
      const slowAt = await slow.listen();
      try {
        const first = fetch(`${slowAt}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: passages(400) }) });
        await new Promise((r) => setTimeout(r, 150));
        const more = await Promise.all(Array.from({ length: 3 }, () => fetch(`${slowAt}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: texts[0] }) })));
        expect(more.map((r) => r.status)).toEqual([429, 429, 429]);
        expect(((await more[0]!.json()) as { error_type: string }).error_type).toBe('Overloaded');
        expect((await first).status).toBe(200);
      } finally {
        await slow.close();
      }
    } finally {
      await small.close();
    }
  });

  it('GET /health and /info', async () => {
    expect((await fetch(`${base}/health`)).status).toBe(200); // no key needed
    const info = (await (await fetch(`${base}/info`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ model_id: 'tiny-embed', max_input_length: model.maxSeqLength, max_batch_tokens: 16384, max_client_batch_size: 2048, max_concurrent_requests: 512 });
    expect((await fetch(`${base}/info`)).status).toBe(401);
  });
});

describe('dynamic batching', () => {
  it('concurrent requests share model runs, and each input gets exactly what model.encode gives it alone', async () => {
    let calls = 0;
    const counting = new Proxy(medium, {
      get(target, prop, receiver) {
        if (prop === 'encode') return (...a: Parameters<SentenceTransformer['encode']>) => (calls++, (target.encode as (...x: unknown[]) => unknown).apply(target, a));
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
      },
    });
    const s = createServer(counting, {});
    const at = await s.listen();
    try {
      // While a long request runs, forty single-text ones queue up; they share the next run(s).
      const long = fetch(`${at}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: passages(400), normalize: false }) });
      await new Promise((r) => setTimeout(r, 150));
      calls = 0;
      const inputs = passages(40);
      const answers = await Promise.all(inputs.map((t) => fetch(`${at}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: t }) }).then((r) => r.json() as Promise<number[][]>)));
      expect((await long).status).toBe(200);
      expect(calls).toBeLessThanOrEqual(2); // merged: the long run (if it began after calls was reset) and one more
      const expected = await Promise.all(inputs.map(async (x) => Array.from((await medium.encode([x], { normalize: true })).data)));
      answers.forEach((a, i) => expect(a[0], `input ${i}`).toEqual(expected[i]));
    } finally {
      await s.close();
    }
  });

  it('requests merge only with the same options: no prompt never meets a prompt that reads "undefined"', async () => {
    const odd = await SentenceTransformer.load(makeModel(root, 'odd-prompt', { pooling: 'mean', prompts: { odd: 'undefined' }, shape: { hidden_size: 384, num_hidden_layers: 6, num_attention_heads: 6, intermediate_size: 1536 } }), { cacheDir: path.join(root, 'cache') });
    const s = createServer(odd, {});
    const at = await s.listen();
    const embed = (body: unknown) => fetch(`${at}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<number[][]>);
    try {
      // While a long request runs, both kinds queue up together.
      const long = embed({ inputs: passages(300) });
      await new Promise((r) => setTimeout(r, 150));
      const inputs = passages(20);
      const answers = await Promise.all(inputs.map((t, i) => embed(i % 2 ? { inputs: t, prompt_name: 'odd' } : { inputs: t })));
      await long;
      for (let i = 0; i < inputs.length; i++) {
        const expected = Array.from((await odd.encode([inputs[i]!], { normalize: true, ...(i % 2 ? { promptName: 'odd' } : {}) })).data);
        expect(answers[i]![0], `input ${i}`).toEqual(expected);
      }
    } finally {
      await s.close();
      odd.dispose();
    }
  });

  it('a request whose client went away before its turn is dropped, not computed', async () => {
    const s = createServer(medium, {});
    const at = await s.listen();
    try {
      // A long first request (running), then a second that waits for its turn and whose client leaves.
      const busy = passages(400);
      const first = fetch(`${at}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: busy, normalize: false }) });
      await new Promise((r) => setTimeout(r, 150));
      const ac = new AbortController();
      const gone = fetch(`${at}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: busy.slice(0, 10) }), signal: ac.signal }).catch(() => 'aborted');
      await new Promise((r) => setTimeout(r, 50));
      ac.abort();
      expect(await gone).toBe('aborted');
      expect((await first).status).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
      expect(s.dropped).toBe(1);
    } finally {
      await s.close();
    }
  });
});

describe('lifecycle', () => {
  it('close() finishes the requests in flight; meanwhile /health and new requests get 503', async () => {
    const s = createServer(medium, {});
    const at = await s.listen();
    const inFlight = fetch(`${at}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: passages(150) }) });
    await new Promise((r) => setTimeout(r, 30));
    const closing = s.close();
    expect((await fetch(`${at}/health`)).status).toBe(503); // not ready: load balancers stop sending
    const late = await fetch(`${at}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: 'late' }) });
    expect([late.status, ((await late.json()) as { error_type: string }).error_type]).toEqual([503, 'Unhealthy']);
    const r = await inFlight;
    expect(r.status).toBe(200);
    expect(((await r.json()) as unknown[]).length).toBe(150);
    await closing;
    await expect(fetch(`${at}/health`)).rejects.toThrow();
  });

  it('embedrt serve: binds 127.0.0.1, answers, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'cli.js'), 'serve', '--model', dir, '--port', '0'], { env: { ...process.env, EMBEDRT_CACHE: path.join(root, 'cache') }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const address = await new Promise<string>((resolve, reject) => {
      const t = setInterval(() => {
        const m = /serving .* at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
        if (m) {
          clearInterval(t);
          resolve(m[1]!);
        }
      }, 20);
      child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    });
    expect((await fetch(`${address}/health`)).status).toBe(200);
    const r = await fetch(`${address}/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: 'hello' }) });
    expect(await r.json()).toEqual(await alone(['hello'], { normalize: true }));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/shutting down/);
    // A bad --malloc is a usage error (exit 2) before anything loads.
    const bad = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'cli.js'), 'serve', '--model', dir, '--malloc', 'jemalloc'], { encoding: 'utf8' });
    expect([bad.status, bad.stderr]).toEqual([2, expect.stringMatching(/--malloc must be tuned or system, got "jemalloc"/)]);
  });
});

describe('TEI: /similarity, /tokenize, /decode, /metrics', () => {
  it('/similarity scores the sentences against the source as model.similarity does', async () => {
    const [source, ...sentences] = texts.slice(0, 5) as [string, ...string[]];
    const r = await post('/similarity', { inputs: { source_sentence: source, sentences } });
    expect(r.status).toBe(200);
    const got = (await r.json()) as number[];
    const emb = await model.encode([source, ...sentences], { normalize: true });
    const ref = await model.similarity({ data: emb.data.subarray(0, emb.dim), rows: 1, dim: emb.dim }, { data: emb.data.subarray(emb.dim), rows: sentences.length, dim: emb.dim });
    expect(got).toHaveLength(sentences.length);
    got.forEach((v, i) => expect(Math.abs(v - ref.data[i]!)).toBeLessThan(1e-6));
    expect((await post('/similarity', { inputs: { source_sentence: source, sentences: 'x' } })).status).toBe(422);
  });

  it('/tokenize gives the tokenizer\'s ids, strings and offsets; /decode turns ids back into text', async () => {
    const text = 'Net revenue rose 8% in fiscal 2023';
    const r = (await (await post('/tokenize', { inputs: text })).json()) as { id: number; text: string; special: boolean; start: number | null; stop: number | null }[][];
    const e = model.tokenizer.encode(text, { withTokens: true });
    expect(r[0]!.map((t) => t.id)).toEqual(Array.from(e.ids));
    expect(r[0]!.map((t) => t.text)).toEqual(e.tokens);
    expect([r[0]![0]!.special, r[0]![0]!.start, r[0]![1]!.special]).toEqual([true, null, false]);
    expect(text.slice(r[0]![1]!.start!, r[0]![1]!.stop!).toLowerCase()).toBe(r[0]![1]!.text);
    const plain = (await (await post('/tokenize', { inputs: [text], add_special_tokens: false })).json()) as { id: number }[][];
    expect(plain[0]!.map((t) => t.id)).toEqual(Array.from(e.ids).slice(1, -1));
    expect(await (await post('/decode', { ids: Array.from(e.ids) })).json()).toBe(model.tokenizer.decode(e.ids));
    expect(await (await post('/decode', { ids: [Array.from(e.ids), [101, 102]], skip_special_tokens: false })).json()).toEqual([model.tokenizer.decode(e.ids, { skipSpecialTokens: false }), '[CLS] [SEP]']);
    expect((await post('/decode', { ids: [-1] })).status).toBe(422);
  });

  it('/metrics: Prometheus text with TEI\'s metric names, counting what happened', async () => {
    const s = createServer(model, { apiKey: KEY });
    const at = await s.listen();
    const send = (body: unknown) => fetch(`${at}/embed`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: JSON.stringify(body) });
    try {
      for (let i = 0; i < 3; i++) expect((await send({ inputs: texts.slice(0, 2) })).status).toBe(200);
      expect((await send({ inputs: [] })).status).toBe(400);
      expect((await fetch(`${at}/metrics`)).status).toBe(401); // behind the key unless authMetrics is false
      const m = await (await fetch(`${at}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })).text();
      const value = (line: string) => Number(new RegExp(`^${line.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(m)?.[1]);
      expect(value('te_request_count{method="embed"}')).toBe(4);
      expect(value('te_request_success{method="embed"}')).toBe(3);
      expect(value('te_request_failure{err="Empty"}')).toBe(1);
      expect(value('te_request_input_length_count')).toBe(6);
      expect(value('te_batch_next_size_sum')).toBe(6);
      expect(value('te_request_duration_count')).toBe(4);
      expect(value('te_queue_size')).toBe(0);
      expect(value('embedrt_request_dropped')).toBe(0);
    } finally {
      await s.close();
    }
  });
});

describe('the API described: /openapi.json and /docs', () => {
  it('/openapi.json describes every route the server answers, and each one it describes exists', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const described = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    expect(described).toEqual(['GET /health', 'GET /info', 'GET /metrics', 'POST /', 'POST /decode', 'POST /embed', 'POST /embed_all', 'POST /embeddings', 'POST /similarity', 'POST /tokenize', 'POST /v1/embeddings']);
    for (const d of described) {
      const [method, route] = d.split(' ') as [string, string];
      const r = await fetch(`${base}${route}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, ...(method === 'POST' ? { body: '{}' } : {}) });
      expect(r.status, d).not.toBe(404);
    }
  });

  it('/docs renders in headless Chromium and lists the routes', async () => {
    const dom = await renderedDom(`${base}/docs`);
    for (const route of ['/v1/embeddings', '/embed', '/embed_all', '/similarity', '/tokenize', '/decode', '/info', '/health', '/metrics']) expect(dom, route).toContain(route);
    expect(dom).toMatch(/embedrt serve — tiny-embed/);
  }, 180_000);
});
