import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EmbedrtError, SentenceTransformer, downloadModel, type HubOptions } from '../../lib/index.js';
import { repoRoot } from '../helpers/data.js';
import { HubServer, isLfs, repoFromFolder, type RepoSpec } from '../helpers/hubserver.js';
import { watchEventLoop } from '../helpers/eventloop.js';
import { makeModel, tempDir } from '../helpers/models.js';

let root: string;
let model: string;
let hub: HubServer;
let repo: RepoSpec;
let cacheN = 0;
let cache: string;
const texts = ['What was the total revenue in 2023?', 'Net income rose 12% year over year.'];

beforeAll(async () => {
  root = tempDir('hub');
  model = makeModel(root, 'tiny', { pooling: 'cls' });
  // What a real repo also carries, that embedrt must not fetch.
  repo = repoFromFolder(model, {
    'pytorch_model.bin': crypto.randomBytes(3000),
    'onnx/model_qint8_avx512.onnx': crypto.randomBytes(2000),
    'README.md': Buffer.from('# tiny\n'),
  });
  hub = await new HubServer().start();
  hub.repos.set('org/tiny', repo);
  hub.repos.set('org/gated', { ...repoFromFolder(model), token: 'hf_secret' });
});
afterAll(async () => {
  await hub.stop();
  fs.rmSync(root, { recursive: true, force: true });
});
beforeEach(() => {
  cache = path.join(root, `cache-${cacheN++}`);
  hub.log.length = 0;
  hub.faults.clear();
});

const opts = (o: HubOptions = {}): HubOptions => ({ endpoint: hub.endpoint, cacheDir: cache, token: '', offline: false, ...o });

async function rejection(p: Promise<unknown>): Promise<EmbedrtError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected a rejection').toBeInstanceOf(EmbedrtError);
  return e as EmbedrtError;
}

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Buffer) => crypto.createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const wanted = ['1_Pooling/config.json', 'config.json', 'config_sentence_transformers.json', 'model.safetensors', 'modules.json', 'sentence_bert_config.json', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt'];
/** The CDN requests for model.safetensors' bytes: their Range headers. */
const weightRanges = () => hub.log.filter((l) => l.url === `/cdn/${sha256(repo.files.get('model.safetensors')!)}`).map((l) => l.range);

describe('downloadModel against a local hub', () => {
  it('writes the Hugging Face cache layout: blobs by hash, relative symlinks, refs/main; only the files needed', async () => {
    const r = await downloadModel('org/tiny', opts());
    const repoDir = path.join(cache, 'models--org--tiny');
    expect(r.commit).toBe(repo.commit);
    expect(r.dir).toBe(path.join(repoDir, 'snapshots', repo.commit));
    expect(fs.readFileSync(path.join(repoDir, 'refs', 'main'), 'utf8')).toBe(repo.commit);
    expect(r.files).toEqual(wanted.filter((f) => repo.files.has(f)));
    expect(r.files).not.toContain('pytorch_model.bin');
    for (const f of r.files) {
      const body = repo.files.get(f)!;
      const link = fs.readlinkSync(path.join(r.dir, f));
      const blob = isLfs(f, body) ? sha256(body) : gitSha1(body);
      expect(link).toBe(path.join(...f.split('/').slice(1).map(() => '..'), '..', '..', 'blobs', blob));
      expect(fs.readFileSync(path.join(r.dir, f)).equals(body)).toBe(true);
    }
    expect(fs.readdirSync(path.join(repoDir, 'blobs')).filter((b) => !/^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(b))).toEqual([]);
    expect(r.downloadedBytes).toBe(r.files.reduce((n, f) => n + repo.files.get(f)!.length, 0));
    // The token-less CDN got the safetensors; a second call fetches no file again.
    hub.log.length = 0;
    const again = await downloadModel('org/tiny', opts());
    expect(again.downloadedBytes).toBe(0);
    expect(hub.log.filter((l) => l.url.includes('/resolve/'))).toEqual([]);
  });

  it('load() downloads a hub id once, then loads it from the cache without the network; embeddings equal the folder', async () => {
    const progress: number[] = [];
    const m = await SentenceTransformer.load('org/tiny', { cacheDir: path.join(cache, 'embedrt'), hub: opts({ onProgress: (d) => progress.push(d) }) });
    expect(progress.length).toBeGreaterThan(0);
    const local = await SentenceTransformer.load(model, { cacheDir: path.join(cache, 'embedrt') });
    const [a, b] = [await m.encode(texts), await local.encode(texts)];
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    m.dispose();
    hub.log.length = 0;
    const m2 = await SentenceTransformer.load('org/tiny', { cacheDir: path.join(cache, 'embedrt'), hub: opts() });
    expect(hub.log).toEqual([]);
    m2.dispose();
    local.dispose();
  });

  it('offline: uses the cache, or says it is offline and what is missing', async () => {
    const e = await rejection(downloadModel('org/tiny', opts({ offline: true })));
    expect(e.code).toBe('E_HUB_OFFLINE');
    expect(e.message).toMatch(/org\/tiny@main is not in the hub cache .* offline mode is on \(HF_HUB_OFFLINE\)/);
    await downloadModel('org/tiny', opts());
    hub.log.length = 0;
    const r = await downloadModel('org/tiny', opts({ offline: true }));
    expect(hub.log).toEqual([]);
    expect(r.dir).toContain(repo.commit);
    const prev = process.env.HF_HUB_OFFLINE;
    process.env.HF_HUB_OFFLINE = '1';
    try {
      const { offline: _o, ...rest } = opts();
      expect((await rejection(downloadModel('org/other', rest))).code).toBe('E_HUB_OFFLINE');
    } finally {
      if (prev === undefined) delete process.env.HF_HUB_OFFLINE;
      else process.env.HF_HUB_OFFLINE = prev;
    }
    expect(hub.log).toEqual([]);
  });

  it('401 on a gated repo names HF_TOKEN; with the token it works, and the token never goes to the CDN', async () => {
    const e = await rejection(downloadModel('org/gated', opts()));
    expect(e.code).toBe('E_HUB_AUTH');
    expect(e.message).toMatch(/org\/gated@main: HTTP 401 .*gated or private: set HF_TOKEN/);
    const wrong = await rejection(downloadModel('org/gated', opts({ token: 'hf_wrong' })));
    expect(wrong.message).toMatch(/token in HF_TOKEN was refused/);
    const prev = process.env.HF_TOKEN;
    process.env.HF_TOKEN = 'hf_secret';
    try {
      hub.log.length = 0;
      const { token: _t, ...rest } = opts();
      await downloadModel('org/gated', rest);
    } finally {
      if (prev === undefined) delete process.env.HF_TOKEN;
      else process.env.HF_TOKEN = prev;
    }
    const hubSide = hub.log.filter((l) => l.host.startsWith('127.0.0.1'));
    const cdnSide = hub.log.filter((l) => l.host.startsWith('localhost'));
    expect(cdnSide.length).toBeGreaterThan(0);
    expect(hubSide.every((l) => l.authorization === 'Bearer hf_secret')).toBe(true);
    expect(cdnSide.every((l) => l.authorization === undefined)).toBe(true);
  });

  it('404: names the missing repo, revision or file', async () => {
    const e = await rejection(downloadModel('org/nope', opts()));
    expect(e.code).toBe('E_HUB_NOT_FOUND');
    expect(e.message).toMatch(/repo org\/nope not found/);
    const rev = await rejection(downloadModel('org/tiny', opts({ revision: 'v9' })));
    expect(rev.code).toBe('E_HUB_NOT_FOUND');
    expect(rev.message).toMatch(/revision "v9" not found in org\/tiny/);
    hub.faults.set('tokenizer.json', [{ status: 404 }]);
    const file = await rejection(downloadModel('org/tiny', opts()));
    expect(file.message).toMatch(/org\/tiny\/tokenizer\.json: .*injected 404/);
    expect(fs.existsSync(path.join(cache, 'models--org--tiny', 'refs', 'main'))).toBe(false);
  });

  it('bad ids and revisions are refused before any request', async () => {
    for (const id of ['tiny', '../etc/passwd', 'org/../x', 'a/b/c', '']) {
      expect((await rejection(downloadModel(id, opts()))).code).toBe('E_BAD_INPUT');
    }
    expect((await rejection(downloadModel('org/tiny', opts({ revision: '../../x' })))).code).toBe('E_BAD_INPUT');
    expect(hub.log).toEqual([]);
  });

  it('follows redirects of a renamed repo', async () => {
    hub.renamed.set('old/tiny', 'org/tiny');
    const r = await downloadModel('old/tiny', opts());
    expect(r.files).toContain('model.safetensors');
    expect(hub.log.filter((l) => l.url.startsWith('/old/tiny/resolve')).length).toBeGreaterThan(0);
  });

  it('retries 5xx answers and resumes a cut-off response with a Range request', async () => {
    const size = repo.files.get('model.safetensors')!.length;
    hub.faults.set('api', [{ status: 503 }]);
    hub.faults.set('model.safetensors', [{ cutAfter: 1000 }, { cutAfter: 1000 }]);
    const r = await downloadModel('org/tiny', opts());
    expect(fs.readFileSync(path.join(r.dir, 'model.safetensors')).equals(repo.files.get('model.safetensors')!)).toBe(true);
    expect(weightRanges()).toEqual([undefined, 'bytes=1000-', 'bytes=2000-']);
    expect(size).toBeGreaterThan(2000);
  });

  it('resumes a download a crash left behind (blobs/<sha>.incomplete)', async () => {
    const body = repo.files.get('model.safetensors')!;
    const blobs = path.join(cache, 'models--org--tiny', 'blobs');
    fs.mkdirSync(blobs, { recursive: true });
    fs.writeFileSync(path.join(blobs, `${sha256(body)}.incomplete`), body.subarray(0, 1234));
    const r = await downloadModel('org/tiny', opts());
    expect(fs.readFileSync(path.join(r.dir, 'model.safetensors')).equals(body)).toBe(true);
    expect(weightRanges()).toEqual(['bytes=1234-']);
    expect(fs.readdirSync(blobs).some((f) => f.endsWith('.incomplete') || f.endsWith('.lock'))).toBe(false);
  });

  it('a lock left by a dead process is taken over; a live one is waited for', async () => {
    const body = repo.files.get('model.safetensors')!;
    const blobs = path.join(cache, 'models--org--tiny', 'blobs');
    fs.mkdirSync(blobs, { recursive: true });
    fs.writeFileSync(path.join(blobs, `${sha256(body)}.lock`), '2147483646\n'); // no such pid
    const r = await downloadModel('org/tiny', opts());
    expect(fs.readFileSync(path.join(r.dir, 'model.safetensors')).equals(body)).toBe(true);
    expect(fs.existsSync(path.join(blobs, `${sha256(body)}.lock`))).toBe(false);

    cache = path.join(root, `cache-${cacheN++}`);
    const blobs2 = path.join(cache, 'models--org--tiny', 'blobs');
    fs.mkdirSync(blobs2, { recursive: true });
    const lock = path.join(blobs2, `${sha256(body)}.lock`);
    fs.writeFileSync(lock, `${process.ppid}\n`); // a live process holds it
    let done = false;
    const p = downloadModel('org/tiny', opts()).then((x) => ((done = true), x));
    await new Promise((res) => setTimeout(res, 600));
    expect(done).toBe(false);
    fs.rmSync(lock); // the holder finishes
    expect(fs.readFileSync(path.join((await p).dir, 'model.safetensors')).equals(body)).toBe(true);
  });

  it('a stalled response is abandoned after timeoutMs and resumed; with no attempts left the error says it stalled', async () => {
    hub.faults.set('model.safetensors', [{ stallAfter: 500 }]);
    const r = await downloadModel('org/tiny', opts({ timeoutMs: 300 }));
    expect(fs.readFileSync(path.join(r.dir, 'model.safetensors')).equals(repo.files.get('model.safetensors')!)).toBe(true);
    expect(weightRanges()).toEqual([undefined, 'bytes=500-']);

    cache = path.join(root, `cache-${cacheN++}`);
    hub.faults.set('model.safetensors', [{ stallAfter: 10 }]);
    const e = await rejection(downloadModel('org/tiny', opts({ timeoutMs: 300, attempts: 1 })));
    expect(e.code).toBe('E_HUB_DOWNLOAD');
    expect(e.message).toMatch(/org\/tiny\/model\.safetensors: the server sent nothing for 300 ms .*run again to resume/);
    // Nothing half-written is in the snapshot; the partial blob waits for the resume.
    const snap = path.join(cache, 'models--org--tiny', 'snapshots', repo.commit);
    expect(fs.existsSync(path.join(snap, 'model.safetensors'))).toBe(false);
    const r2 = await downloadModel('org/tiny', opts());
    expect(fs.readFileSync(path.join(r2.dir, 'model.safetensors')).equals(repo.files.get('model.safetensors')!)).toBe(true);
  });

  it('corrupted bytes fail the checksum and nothing is kept', async () => {
    hub.faults.set('model.safetensors', [{ corrupt: true }]);
    const e = await rejection(downloadModel('org/tiny', opts()));
    expect(e.code).toBe('E_HUB_CHECKSUM');
    expect(e.message).toMatch(/model\.safetensors: the downloaded bytes have sha256 [0-9a-f]{64}, the hub lists [0-9a-f]{64}; nothing was kept/);
    const repoDir = path.join(cache, 'models--org--tiny');
    expect(fs.readdirSync(path.join(repoDir, 'blobs')).some((b) => b.startsWith(sha256(repo.files.get('model.safetensors')!)))).toBe(false);
    expect(fs.existsSync(path.join(repoDir, 'snapshots', repo.commit, 'model.safetensors'))).toBe(false);
    cache = path.join(root, `cache-${cacheN++}`);
    hub.faults.set('config.json', [{ corrupt: true }]);
    const git = await rejection(downloadModel('org/tiny', opts()));
    expect(git.message).toMatch(/config\.json: the downloaded bytes have git blob sha1/);
  });

  it('refuses listed file names that would leave the cache folder, before writing anything', async () => {
    for (const name of ['../../../evil.json', '/etc/evil.json', 'a/../../evil.json', 'a\\..\\evil.json', 'a//b.json']) {
      hub.repos.set('org/evil', { ...repoFromFolder(model), extraListed: [name] });
      const e = await rejection(downloadModel('org/evil', opts({ allFiles: true })));
      expect(e.code).toBe('E_HUB_UNSAFE');
      expect(e.message).toContain(JSON.stringify(name));
      expect(fs.existsSync(path.join(cache, 'models--org--evil'))).toBe(false);
    }
    expect(fs.readdirSync(root).some((f) => f.includes('evil'))).toBe(false);
  });

  it('repos without what embedrt reads are refused by name', async () => {
    const only = (files: Record<string, string>) => ({ ...repoFromFolder(model), files: new Map(Object.entries(files).map(([k, v]) => [k, Buffer.from(v)])) });
    hub.repos.set('org/bin', only({ 'config.json': '{}', 'pytorch_model.bin': 'x'.repeat(100) }));
    expect((await rejection(downloadModel('org/bin', opts()))).message).toMatch(/ships only pytorch_model\.bin/);
    hub.repos.set('org/sharded', only({ 'config.json': '{}', 'model.safetensors.index.json': '{}' }));
    expect((await rejection(downloadModel('org/sharded', opts()))).message).toMatch(/sharded safetensors/);
  });

  it('files with the same content share one blob, downloaded once; an AbortSignal stops a download', async () => {
    const spec = repoFromFolder(model, { 'copy/config.json': repo.files.get('config.json')!, 'copy/model.safetensors': repo.files.get('model.safetensors')! });
    hub.repos.set('org/dup', spec);
    const r = await downloadModel('org/dup', opts({ allFiles: true }));
    expect(fs.readFileSync(path.join(r.dir, 'copy', 'model.safetensors')).equals(repo.files.get('model.safetensors')!)).toBe(true);
    expect(fs.readlinkSync(path.join(r.dir, 'copy', 'config.json'))).toBe(path.join('..', fs.readlinkSync(path.join(r.dir, 'config.json'))));
    expect(weightRanges()).toEqual([undefined]);

    cache = path.join(root, `cache-${cacheN++}`);
    hub.faults.set('model.safetensors', [{ stallAfter: 100 }]);
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 300);
    const e = await rejection(downloadModel('org/tiny', opts({ signal: ctl.signal })));
    expect(e.code).toBe('E_ABORTED');
    const pre = new AbortController();
    pre.abort();
    expect((await rejection(downloadModel('org/tiny', opts({ signal: pre.signal })))).code).toBe('E_ABORTED');
    // load()'s own signal stops the download it starts.
    cache = path.join(root, `cache-${cacheN++}`);
    hub.faults.set('model.safetensors', [{ stallAfter: 100 }]);
    const during = new AbortController();
    setTimeout(() => during.abort(), 300);
    expect((await rejection(SentenceTransformer.load('org/tiny', { cacheDir: path.join(cache, 'embedrt'), hub: opts(), signal: during.signal }))).code).toBe('E_ABORTED');
  });

  it('a 160 MB download keeps the event loop free (writes and checksums off the JS thread or in small steps)', async () => {
    const big = repoFromFolder(makeModel(root, 'big', { shape: { hidden_size: 512, num_hidden_layers: 8, num_attention_heads: 8, intermediate_size: 2048 } }));
    const weights = big.files.get('model.safetensors')!;
    expect(weights.length).toBeGreaterThan(150e6);
    hub.repos.set('org/big', big);
    await fetch(`${hub.endpoint}/api/models/org/big/revision/main`); // the server hashes its files once, before the watch
    const watch = watchEventLoop();
    const r = await downloadModel('org/big', opts());
    const loop = watch.stop();
    console.log(`download of ${(weights.length / 1e6).toFixed(0)} MB: ${loop.ticks} ticks, longest gap ${loop.maxGapMs.toFixed(1)} ms, most JS-thread CPU in one gap ${loop.maxBusyMs.toFixed(1)} ms`);
    expect(r.downloadedBytes).toBeGreaterThan(weights.length);
    expect(sha256(fs.readFileSync(path.join(r.dir, 'model.safetensors')))).toBe(sha256(weights));
    expect(loop.maxBusyMs).toBeLessThan(50);
    // A resumed download hashes the kept bytes too: cut the weights midway, then finish.
    hub.faults.set(`cdn:${sha256(weights)}`, [{ cutAfter: weights.length >> 1 }]);
    hub.log.length = 0;
    const again = await downloadModel('org/big', opts({ cacheDir: path.join(root, 'big-resume') }));
    expect(sha256(fs.readFileSync(path.join(again.dir, 'model.safetensors')))).toBe(sha256(weights));
    const ranges = hub.log.filter((l) => l.url === `/cdn/${sha256(weights)}`).map((l) => l.range);
    expect(ranges.length).toBe(2);
    expect(Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1])).toBeGreaterThan(0);
    hub.repos.delete('org/big');
  });

  it('cannot reach the hub: says so and how to work offline', async () => {
    const e = await rejection(downloadModel('org/tiny', opts({ endpoint: 'http://127.0.0.1:1', attempts: 2 })));
    expect(e.code).toBe('E_HUB_DOWNLOAD');
    expect(e.message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1 .*HF_HUB_OFFLINE=1/);
  });

  it('embedrt download prints the snapshot folder; errors go to stderr with exit code 1', async () => {
    const cli = path.join(repoRoot, 'dist', 'cli.js');
    const run = (args: string[], env: Record<string, string> = {}) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, [cli, ...args], { env: { ...process.env, HF_HUB_CACHE: cache, HF_ENDPOINT: hub.endpoint, HF_TOKEN: '', ...env } });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d) => (stdout += d));
        p.stderr.on('data', (d) => (stderr += d));
        p.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    const ok = await run(['download', 'org/tiny', '--no-progress']);
    expect(ok.stderr).toMatch(/org\/tiny@[0-9a-f]{40}: 10 files, /);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toBe(path.join(cache, 'models--org--tiny', 'snapshots', repo.commit));
    const bad = await run(['download', 'org/nope', '--no-progress']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/repo org\/nope not found .*\[E_HUB_NOT_FOUND\]/);
    const usage = await run(['download']);
    expect(usage.code).toBe(2);
    const offline = await run(['download', 'org/tiny', '--no-progress'], { HF_HUB_OFFLINE: '1', HF_ENDPOINT: 'http://127.0.0.1:1' });
    expect(offline.code).toBe(0);
    expect(offline.stdout.trim()).toBe(ok.stdout.trim());
  });
});
