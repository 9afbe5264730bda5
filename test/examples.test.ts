// The README's examples run, and give sensible answers with the real all-MiniLM-L6-v2 weights.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { financialQaCsv, repoRoot } from './helpers/data.js';
import { HubServer, repoFromFolder } from './helpers/hubserver.js';
import { makeModel, tempDir } from './helpers/models.js';

describe('examples', () => {
  it('examples/search.mjs (the README main job) embeds generated passages and finds each question its passage', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'examples', 'search.mjs'), '--corpus', '300'], { encoding: 'utf8', cwd: repoRoot });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/embedded 300 passages and 3 questions \(dim 384\)/);
    const blocks = r.stdout.split('\nQ: ').slice(1);
    expect(blocks.length).toBe(3);
    // The questions ask for the figures of passages #3, #42 and #250; the best hit must be each one's own.
    expect(blocks.map((b) => b.split('\n')[1]!.match(/#(\d+) /)?.[1])).toEqual(['3', '42', '250']);
  });

  it('examples/search.mjs --csv embeds the Financial QA contexts and finds each question its passage', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'examples', 'search.mjs'), '--corpus', '300', '--csv', financialQaCsv()], { encoding: 'utf8', cwd: repoRoot });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/embedded 300 passages and 3 questions \(dim 384\)/);
    const blocks = r.stdout.split('\nQ: ').slice(1);
    expect(blocks.length).toBe(3);
    // Questions 1 and 3 are about passages #3 and #250 of the corpus; the best hit must be theirs.
    expect(blocks[0]!.split('\n')[1]).toMatch(/#3 /);
    expect(blocks[2]!.split('\n')[1]).toMatch(/#250 /);
  });

  it.each(['--int8', '--bf16'])('examples/search.mjs %s finds the same passages with the reduced-precision graph', (flag) => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'examples', 'search.mjs'), '--corpus', '300', '--csv', financialQaCsv(), flag], { encoding: 'utf8', cwd: repoRoot });
    expect(r.status, r.stderr).toBe(0);
    const blocks = r.stdout.split('\nQ: ').slice(1);
    expect(blocks[0]!.split('\n')[1]).toMatch(/#3 /);
    expect(blocks[2]!.split('\n')[1]).toMatch(/#250 /);
  });

  it('examples/search.mjs --gpu: without a GPU here it runs on the CPU, says why, and finds the same passages with the fp16 graph', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'examples', 'search.mjs'), '--corpus', '300', '--csv', financialQaCsv(), '--gpu'], { encoding: 'utf8', cwd: repoRoot });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^running on cpu \(CUDAExecutionProvider .+\)$/m);
    const blocks = r.stdout.split('\nQ: ').slice(1);
    expect(blocks[0]!.split('\n')[1]).toMatch(/#3 /);
    expect(blocks[2]!.split('\n')[1]).toMatch(/#250 /);
  });

  it('examples/rerank.mjs retrieves 10 passages per question and reranks them with a cross-encoder: 3 each, best first', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'examples', 'rerank.mjs'), '--corpus', '200'], { encoding: 'utf8', cwd: repoRoot });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/random weights/); // no reranker weights can be had here: said so
    const blocks = r.stdout.split('\nQ: ').slice(1);
    expect(blocks.length).toBe(3);
    for (const b of blocks) {
      const scores = b.trim().split('\n').slice(1).map((l) => Number(/^\s*([0-9.]+)\s+#\d+ /.exec(l)![1]));
      expect(scores.length).toBe(3);
      expect([...scores].sort((x, y) => y - x)).toEqual(scores);
    }
  });

  it('examples/token-ids.mjs embeds the tokenizer\'s ids of a text to the text\'s own embedding', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'examples', 'token-ids.mjs')], { encoding: 'utf8', cwd: repoRoot });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\d+ ids: \[101, [\d, ]+, 102\]$/m);
    expect(r.stdout).toMatch(/same embedding as the text: true/);
  });

  it('examples/serve.mjs serves the model and answers the openai client and a TEI request', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'examples', 'serve.mjs')], { encoding: 'utf8', cwd: repoRoot });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^serving at http:\/\/127\.0\.0\.1:\d+$/m);
    expect(r.stdout).toMatch(/^malloc tuned: true$/m); // glibc here
    expect(r.stdout).toMatch(/openai client: 3 embeddings of 384 dims, \d+ tokens/);
    const [, answer, other] = /question vs answer: ([\d.-]+), question vs buyback: ([\d.-]+)/.exec(r.stdout)!;
    expect(Number(answer)).toBeGreaterThan(Number(other) + 0.3);
    expect(r.stdout).toMatch(/TEI \/embed: 128 dims/);
  });

  it('examples/download.mjs downloads from a hub (here a local one, via HF_ENDPOINT) and embeds', async () => {
    const root = tempDir('example-download');
    const hub = await new HubServer().start();
    try {
      hub.repos.set('org/tiny', repoFromFolder(makeModel(root, 'tiny', { pooling: 'cls' })));
      const env = { ...process.env, HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: path.join(root, 'hub'), EMBEDRT_CACHE: path.join(root, 'embedrt'), HF_TOKEN: '' };
      const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const p = spawn(process.execPath, [path.join(repoRoot, 'examples', 'download.mjs'), 'org/tiny'], { env, cwd: repoRoot });
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (err += d));
        p.on('close', (code) => resolve({ code, out, err }));
      });
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/^org\/tiny@[0-9a-f]{12}: 10 files in .*models--org--tiny\/snapshots\/[0-9a-f]{40} \(\d+ bytes downloaded now\)\ndim 32, cosine\(question, passage\) = -?[01]\.\d{4}\n$/);
    } finally {
      await hub.stop();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('every README code block that imports embedrt is a file under examples/ or a snippet of one', () => {
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    expect(readme).toMatch(/npm run example/);
    for (const m of readme.matchAll(/examples\/[\w.-]+/g)) expect(fs.existsSync(path.join(repoRoot, m[0])), m[0]).toBe(true);
  });
});
