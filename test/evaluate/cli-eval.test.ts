import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceTransformer, evaluateIR } from '../../lib/index.js';
import { qaDataset, readQaRows } from '../../lib/irdata.js';
import { financialQa, repoRoot } from '../helpers/data.js';
import { makeModel, tempDir } from '../helpers/models.js';

const cli = path.join(repoRoot, 'dist', 'cli.js');
let root: string;
let model: string;
let data: string;

beforeAll(() => {
  root = tempDir('eval');
  model = makeModel(root, 'model', { pooling: 'cls', shape: { hidden_size: 64, num_hidden_layers: 1, num_attention_heads: 4, intermediate_size: 64 } });
  // 200 rows of the real data (so 20 test questions), one with an empty context.
  const rows = financialQa().slice(0, 200).map((r) => ({ question: r.question, context: r.context }));
  rows[19]!.context = '';
  data = path.join(root, 'qa.jsonl');
  fs.writeFileSync(data, rows.map((r) => JSON.stringify(r)).join('\n'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('embedrt eval', () => {
  it('applies the data recipe and prints one table per dimension, equal to evaluateIR', async () => {
    const env = { ...process.env, EMBEDRT_CACHE: path.join(root, 'cache') };
    const r = spawnSync(process.execPath, [cli, 'eval', '--model', model, '--data', data, '--dims', '64,32', '--no-progress'], { encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/row 19: empty context, left out of the corpus/);
    expect(r.stderr).toMatch(/row 19: its context is empty, so its question has no relevant document/);
    expect(r.stdout).toMatch(/#### dim_64[\s\S]*#### dim_32/);
    const ds = qaDataset(readQaRows(data), 'test');
    expect(Object.keys(ds.queries).length).toBe(19);
    expect(Object.keys(ds.corpus).length).toBe(199);
    const st = await SentenceTransformer.load(model, { cacheDir: env.EMBEDRT_CACHE });
    const lib = await evaluateIR(ds, st, { dims: [64, 32], scoreFunctions: ['cosine'] });
    const json = spawnSync(process.execPath, [cli, 'eval', '--model', model, '--data', data, '--dims', '64,32', '--json', '--no-progress'], { encoding: 'utf8', env });
    expect(JSON.parse(json.stdout).results).toEqual(JSON.parse(JSON.stringify(lib)));
    const ndcg = lib[64]!.cosine!['ndcg@k'][10]!;
    expect(r.stdout).toContain(`| cosine_ndcg@10 | ${ndcg.toFixed(4)} |`);
  });

  it('usage errors', () => {
    const r = spawnSync(process.execPath, [cli, 'eval', '--model', model], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--data <file\.csv\|file\.jsonl> is required/);
    const s = spawnSync(process.execPath, [cli, 'eval', '--model', model, '--data', data, '--split', 'dev'], { encoding: 'utf8' });
    expect(s.status).toBe(2);
    expect(s.stderr).toMatch(/--split must be test, train or all/);
  });
});
