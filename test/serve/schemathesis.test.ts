// schemathesis (PyPI) against the server's own /openapi.json: generated requests — valid ones, and
// ones that break the description — over every route, bounded in examples and time. It must find no
// 5xx, no response that breaks the description, no valid request refused and no invalid one accepted.
// The server has a reranker, so POST /rerank is among the routes.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossEncoder, SentenceTransformer } from '../../lib/index.js';
import { createServer, type EmbedServer } from '../../lib/serve/index.js';
import { repoRoot } from '../helpers/data.js';
import { makeModel, tempDir } from '../helpers/models.js';

const execFileP = promisify(execFile);
let root: string;
let model: SentenceTransformer;
let reranker: CrossEncoder;
let server: EmbedServer;
let base: string;

beforeAll(async () => {
  root = tempDir('schemathesis');
  model = await SentenceTransformer.load(makeModel(root, 'tiny', { pooling: 'mean', prompts: { query: 'query: ' } }), { cacheDir: path.join(root, 'cache') });
  reranker = await CrossEncoder.load(makeModel(root, 'reranker', { classifierLabels: 1 }), { cacheDir: path.join(root, 'cache') });
  server = createServer(model, { apiKey: 'st-key', reranker });
  base = await server.listen();
});
afterAll(async () => {
  await server?.close();
  model?.dispose();
  reranker?.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('schemathesis against /openapi.json', () => {
  it('finds no issue in any route (all checks, 40 examples per operation, a fixed seed)', async () => {
    const python = (await execFileP(process.execPath, [path.join(repoRoot, 'scripts', 'py-env.mjs'), '--with', 'schemathesis==4.32.5'])).stdout.trim();
    const st = path.join(path.dirname(python), 'schemathesis');
    const r = await execFileP(st, ['run', `${base}/openapi.json`, '--checks', 'all', '--max-examples', '40', '--seed', '1', '-H', 'Authorization: Bearer st-key', '--no-color'], {
      cwd: root, // its example database
      timeout: 240_000,
      maxBuffer: 64 << 20,
    }).catch((e: { stdout?: string; stderr?: string; message: string }) => ({ stdout: `${e.message}\n${e.stdout ?? ''}`, stderr: e.stderr ?? '' }));
    expect(r.stdout).toMatch(/No issues found/);
    expect(r.stdout).toMatch(/Selected: 12\/12/); // /rerank included: the server has a reranker
  }, 300_000);
});
