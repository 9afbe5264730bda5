import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceTransformer, semanticSearch } from '../../lib/index.js';
import { onnxGraphFor } from '../../lib/model.js';
import { embedrtKernels } from '../../lib/graph.js';
import { financialQa, repoRoot } from '../helpers/data.js';
import { makeModel, maxAbsDiff, miniLmDir, ort, ortHidden, tempDir } from '../helpers/models.js';

const cli = path.join(repoRoot, 'dist', 'cli.js');
let root: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  root = tempDir('cli-encode');
  env = { ...process.env, EMBEDRT_CACHE: path.join(root, 'cache') };
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const run = (args: string[], input: string) =>
  spawnSync(process.execPath, [cli, 'encode', ...args], { input, encoding: 'utf8', env, maxBuffer: 256 << 20 });

describe('embedrt encode', () => {
  it('on the flagship-shaped generated model: JSON lines equal to the library, in input order', async () => {
    const dir = makeModel(root, 'flagship', { shape: 'flagship', pooling: 'cls' });
    const texts = financialQa().slice(0, 6).map((r) => r.question);
    const r = run(['--model', dir, '--dim', '256', '--normalize', '--batch-size', '4'], `${texts.join('\n')}\n`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rows = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as number[]);
    expect(rows.length).toBe(texts.length);
    expect(rows.every((v) => v.length === 256)).toBe(true);
    const model = await SentenceTransformer.load(dir, { cacheDir: env.EMBEDRT_CACHE, truncateDim: 256 });
    const lib = await model.encode(texts, { normalize: true });
    rows.forEach((v, i) => expect(maxAbsDiff(v, lib.row(i))).toBe(0));
  }, 300_000);

  it('--format npy loads in numpy with the right shape and values', () => {
    const dir = miniLmDir();
    const texts = ['What was the total revenue?', 'Net income rose 5%.', ''];
    const out = path.join(root, 'emb.npy');
    const r = run(['--model', dir, '--format', 'npy', '--out', out, '--jsonl'], texts.map((t) => JSON.stringify(t)).join('\n'));
    expect(r.status, r.stderr).toBe(0);
    const jsonl = run(['--model', dir, '--jsonl'], texts.map((t) => JSON.stringify(t)).join('\n'));
    const rows = jsonl.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as number[]);
    const python = execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'py-env.mjs')], { encoding: 'utf8' }).trim();
    const script = 'import json,sys,numpy; a=numpy.load(sys.argv[1]); print(json.dumps({"shape": a.shape, "dtype": str(a.dtype), "rows": a.astype(float).tolist()}))';
    const loaded = JSON.parse(execFileSync(python, ['-c', script, out], { encoding: 'utf8' })) as { shape: number[]; dtype: string; rows: number[][] };
    expect(loaded.shape).toEqual([3, 384]);
    expect(loaded.dtype).toBe('float32');
    loaded.rows.forEach((v, i) => expect(maxAbsDiff(v, rows[i]!)).toBe(0));
  });

  it('errors go to stderr with a non-zero exit', () => {
    const r = run([], '');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--model <dir\|hub-id> is required/);
    const bad = run(['--model', path.join(root, 'nope')], 'x\n');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/no such folder/);
    const fmt = run(['--model', 'x', '--format', 'csv'], '');
    expect(fmt.status).toBe(2);
    expect(fmt.stderr).toMatch(/--format must be jsonl, npy, raw or parquet, got csv/);
  });
});

describe('embedrt search and convert', () => {
  it('search embeds the corpus once (cached) and ranks it for each query, numbered as semanticSearch numbers it', async () => {
    const corpus = path.join(root, 'corpus.txt');
    fs.writeFileSync(corpus, 'NVIDIA makes GPUs for gaming and data centers.\n\nApple sells iPhones and Macs.\nThe bank reported net interest income growth.\n');
    const args = [cli, 'search', '--model', miniLmDir(), '--corpus', corpus, '--top-k', '2', '--format', 'jsonl'];
    const first = spawnSync(process.execPath, [...args, '--query', 'graphics chips', '--query', 'smartphone maker'], { encoding: 'utf8', env });
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).not.toMatch(/cached/);
    const second = spawnSync(process.execPath, args, { encoding: 'utf8', env, input: 'graphics chips\nsmartphone maker\n' });
    expect(second.stderr).toMatch(/using cached embeddings of 3 passages/);
    expect(second.stdout).toBe(first.stdout);
    const rows = first.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { query: string; hits: { corpusId: number; score: number; text: string }[] });
    expect(rows[0]!.hits[0]!.text).toMatch(/NVIDIA/);
    expect(rows[1]!.hits[0]!.text).toMatch(/Apple/);
    // The library on the same passages (the corpus's non-empty lines) gives the same corpus ids.
    const passages = ['NVIDIA makes GPUs for gaming and data centers.', 'Apple sells iPhones and Macs.', 'The bank reported net interest income growth.'];
    const model = await SentenceTransformer.load(miniLmDir(), { cacheDir: env.EMBEDRT_CACHE });
    const lib = await semanticSearch(await model.encode(['graphics chips', 'smartphone maker'], { normalize: true }), await model.encode(passages, { normalize: true }), { topK: 2 });
    model.dispose();
    expect(rows.map((r) => r.hits.map((h) => h.corpusId))).toEqual(lib.map((r) => r.map((h) => h.corpusId)));
    rows.forEach((r) => r.hits.forEach((h) => expect(h.text).toBe(passages[h.corpusId])));
  });

  it('convert writes the standard graph (what GPU sessions and other runtimes run)', async () => {
    const dir = makeModel(root, 'convert-me', { pooling: 'mean' });
    const out = path.join(root, 'converted');
    const r = spawnSync(process.execPath, [cli, 'convert', '--model', dir, '--out', out], { encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(path.join(out, 'model.onnx'));
    const cached = onnxGraphFor(dir, { cacheDir: env.EMBEDRT_CACHE });
    expect(fs.readFileSync(cached).includes('com.embedrt')).toBe(false);
    // The CPU session's own graph: this standard one where ONNX Runtime's kernels run (without AVX-512),
    // else one that differs only in its projections (com.embedrt.Linear).
    const model = await SentenceTransformer.load(dir, { cacheDir: env.EMBEDRT_CACHE });
    expect(model.info().graph === cached).toBe(!embedrtKernels('cpu'));
    // The same graph as the cached standard one, standing alone: the weights in its own data file, where
    // the cached graph points into the checkpoint. The same hidden states from onnxruntime-node.
    expect(fs.readdirSync(out).sort()).toEqual(['model.onnx', 'model.onnx.data']);
    const ids = [101, 2054, 2001, 1996, 6599, 102];
    const [a, b] = await Promise.all([ort.InferenceSession.create(path.join(out, 'model.onnx')), ort.InferenceSession.create(cached)]);
    expect(Array.from((await ortHidden(a, ids)).data)).toEqual(Array.from((await ortHidden(b, ids)).data));
    // (--quantize int8 and fp16: test/model/precision.test.ts)
  });
});

describe('embedrt bench', () => {
  it('prints load time, throughput, padding, latency and RSS; the token counts are the tokenizer\'s', async () => {
    const dir = makeModel(root, 'bench-tiny', { pooling: 'mean' });
    const data = path.join(root, 'bench-texts.txt');
    const texts = financialQa().slice(0, 40).map((r) => r.context);
    fs.writeFileSync(data, `${texts.join('\n')}\n`);
    const r = spawnSync(process.execPath, [cli, 'bench', '--model', dir, '--data', data, '--texts', '30', '--single', '5', '--batch-size', '8', '--json'], { encoding: 'utf8', env });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.texts).toBe(30);
    expect(j.singleTextMs.n).toBe(5);
    for (const k of ['loadSeconds', 'sentencesPerSecond', 'realTokensPerSecond', 'peakRssMB']) expect(j[k]).toBeGreaterThan(0);
    expect(j.singleTextMs.p99).toBeGreaterThanOrEqual(j.singleTextMs.p50);
    expect(j.paddingFraction).toBeGreaterThanOrEqual(0);
    expect(j.paddingFraction).toBeLessThan(0.5);
    // real tokens/s × seconds = the tokens the tokenizer makes of the 30 texts
    const model = await SentenceTransformer.load(dir, { cacheDir: env.EMBEDRT_CACHE });
    const real = (await model.encode(texts.slice(0, 30))).tokens.real;
    expect(Math.round((j.realTokensPerSecond / j.sentencesPerSecond) * 30)).toBe(real);
    model.dispose();
    const table = spawnSync(process.execPath, [cli, 'bench', '--model', dir, '--texts', '20', '--single', '3'], { encoding: 'utf8', env });
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/throughput \(20 texts, batch 32\)\s+[\d.]+ sentences\/s, \d+ real tokens\/s\n/);
    expect(table.stdout).toMatch(/single text \(3 texts\)\s+p50 [\d.]+ ms, p99 [\d.]+ ms/);
    const bad = spawnSync(process.execPath, [cli, 'bench', '--model', dir, '--texts', '0'], { encoding: 'utf8', env });
    expect(bad.status).toBe(2);
  });
});
