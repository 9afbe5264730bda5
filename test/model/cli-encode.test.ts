import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceTransformer } from '../../lib/index.js';
import { financialQa, repoRoot } from '../helpers/data.js';
import { makeModel, maxAbsDiff, miniLmDir, tempDir } from '../helpers/models.js';

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
    expect(fmt.stderr).toMatch(/--format must be jsonl or npy/);
  });
});
