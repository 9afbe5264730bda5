// One regression test per defect of issue #13 (D1–D16 and the unclear errors): each failed on the
// main before the fix (a crash, a hang, a leak of memory contents, a wrong answer or an uncoded error).
// Risky cases run in child processes (harness.ts), so a regression fails the test instead of killing
// the runner.
// Longer than 400 lines because it is a list: one self-contained test per defect, in the order.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint } from '../../lib/model.js';
import { DataType, encodeModel } from '../../lib/onnx/proto.js';
import { SentenceTransformer, Tokenizer, similarity, semanticSearch, semanticSearchQuantized, evaluateIR } from '../../lib/index.js';
import { native } from '../../lib/native.js';
import { bgeTokenizerJson, repoRoot } from '../helpers/data.js';
import { makeModel, maxAbsDiff, tempDir } from '../helpers/models.js';
import { dist, expectChildError, expectCode, runChild } from './harness.js';

let root: string;
let cache: string;
let tiny: string;
let cls: string;

beforeAll(() => {
  root = tempDir('defects');
  cache = path.join(root, 'cache');
  tiny = makeModel(root, 'tiny', { pooling: 'mean' });
  cls = makeModel(root, 'cls', { pooling: 'cls', seed: 7 });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const load = (dir: string, opts: Parameters<typeof SentenceTransformer.load>[1] = {}) => SentenceTransformer.load(dir, { cacheDir: cache, ...opts });

function copyModel(from: string, name: string, edit?: (dir: string) => void): string {
  const dir = path.join(root, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(from, dir, { recursive: true });
  edit?.(dir);
  return dir;
}

const editJson = (file: string, f: (j: Record<string, unknown>) => void) => {
  const j = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  f(j);
  fs.writeFileSync(file, JSON.stringify(j));
};

const texts = ['What was the revenue in 2023?', 'Operating income rose by 12 percent.', 'Net loss per share'];

describe('crashes and memory safety', () => {
  it('D1: worker.terminate() while a worker awaits encode, encodeBatch or similarity leaves the process alive', async () => {
    for (const kind of ['encode', 'batch', 'similarity']) {
      const r = await runChild(
        `
        const { Worker } = await import('node:worker_threads');
        const src = \`
          const { parentPort, workerData } = await import('node:worker_threads');
          const m = await import(workerData.dist);
          const model = await m.SentenceTransformer.load(workerData.dir, { cacheDir: workerData.cache });
          parentPort.postMessage('ready');
          const texts = Array.from({ length: 300 }, (_, i) => 'text number ' + i + ' about revenue');
          for (;;) {
            if (workerData.kind === 'encode') await model.encode(texts, { onProgress() {} });
            else if (workerData.kind === 'batch') await model.tokenizer.encodeBatch(texts);
            else { const e = await model.encode(texts.slice(0, 40)); await m.similarity(e, e); }
          }\`;
        for (let i = 0; i < 8; i++) {
          const w = new Worker(src, { eval: true, workerData: { dist: ${JSON.stringify(dist)}, dir: ${JSON.stringify(tiny)}, cache: ${JSON.stringify(cache)}, kind: ${JSON.stringify(kind)} } });
          await new Promise((r) => w.once('message', r));
          await new Promise((r) => setTimeout(r, 3 + i * 9));
          await w.terminate();
        }
        report(() => 'survived');
      `,
        { timeoutMs: 90_000 },
      );
      expect(r.signal, `${kind}: ${r.stderr.slice(-400)}`).toBeNull();
      expect(r.code, `${kind}: ${r.stderr.slice(-400)}`).toBe(0);
      expect(r.result).toEqual({ ok: true, value: 'survived' });
    }
  });

  it('D2: a forged quantized shape is refused, never read past its buffer (TS and native checks)', async () => {
    const forged = { precision: 'int8' as const, data: new Int8Array(16), rows: 100000, width: 1000, dim: 1000 };
    const small = { precision: 'int8' as const, data: new Int8Array(1000), rows: 1, width: 1000, dim: 1000 };
    await expectCode(semanticSearchQuantized(small, forged), 'E_BAD_INPUT', /data holds 16 bytes, rows × width is 100000000/);
    await expectCode(semanticSearchQuantized({ ...small, data: new Int8Array(64), width: 8, dim: 8 }, { precision: 'int8', data: new Int8Array(64), rows: 200, width: 8, dim: 8 }), 'E_BAD_INPUT');
    // The native entry point re-checks, whatever lib/ passed.
    const api = native() as unknown as { searchQuantized(...a: unknown[]): Promise<unknown> };
    const r = await runChild(`
      const { native } = await import(${JSON.stringify(path.join(repoRoot, 'dist', 'native.js'))});
      report(() => native().searchQuantized(new Int8Array(8), 1, new Int8Array(64), 200, 8, 5, false));
    `);
    expectChildError(r, 'E_BAD_INPUT', /holds 64 values, its shape needs 1600/);
    expect(() => api.searchQuantized(new Int8Array(8), 1, new Int8Array(16), 100000, 1000, 5, false)).toThrow(expect.objectContaining({ code: 'E_BAD_INPUT' }));
  });

  it('D3: negative or fractional shapes are refused by similarity and semanticSearch (and natively)', async () => {
    const bad = { data: new Float32Array(6), rows: -2, dim: -3 };
    const good = { data: new Float32Array(6).fill(1), rows: 2, dim: 3 };
    await expectCode(similarity(bad, good), 'E_BAD_INPUT', /non-negative integer rows and dim/);
    await expectCode(semanticSearch(good, bad), 'E_BAD_INPUT', /non-negative integer rows and dim/);
    await expectCode(similarity({ data: new Float32Array(6), rows: 1.5, dim: 4 }, good), 'E_BAD_INPUT');
    const r = await runChild(`
      const { native } = await import(${JSON.stringify(path.join(repoRoot, 'dist', 'native.js'))});
      report(() => native().similarity(new Float32Array(6), -2, new Float32Array(6), 2, -3, 0));
    `);
    expectChildError(r, 'E_BAD_INPUT', /not a valid shape/);
  });

  it('D4: a corpus transferred away and collected while semanticSearch runs gives the right hits (memory pinned)', async () => {
    // A corpus of 300 MB scanned by 16 queries (the row kernels: a second or so), so the search is still
    // reading when the transferred copy is collected. Before the fix this read freed memory (a crash).
    const r = await runChild(
      `
      const dim = 384, rows = 200000;
      let x = 12345; const rnd = () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
      const values = new Float32Array(rows * dim);
      for (let i = 0; i < values.length; i++) values[i] = rnd();
      const q = { data: values.slice(0, 16 * dim).map((v) => v + 0.01), rows: 16, dim };
      const identity = Float32Array.from({ length: dim * dim }, (_, i) => (i % (dim + 1) === 0 ? 1 : 0));
      const reference = JSON.stringify(await m.semanticSearch(q, { data: values, rows, dim }, { topK: 5 }));
      const out = [];
      for (const owned of [false, true]) {
        for (let round = 0; round < 2; round++) {
          // owned: a buffer embedrt returned (shared natively); else a plain JS buffer (copied natively).
          const data = owned ? (await m.similarity({ data: values, rows, dim }, { data: identity, rows: dim, dim }, { scoreFunction: 'dot' })).data : values.slice();
          const p = m.semanticSearch(q, { data, rows, dim }, { topK: 5 });
          structuredClone(data.buffer, { transfer: [data.buffer] }); // detached here; the copy is dropped
          gc(); gc();
          out.push(JSON.stringify(await p) === reference);
        }
      }
      report(() => out);
    `,
      { timeoutMs: 120_000, heapMb: 1024 },
    );
    expect(r.signal, r.stderr.slice(-400)).toBeNull();
    expect(r.result, r.stderr.slice(-400)).toEqual({ ok: true, value: [true, true, true, true] });
  }, 180_000);

  it('D5: a single template that places sequence B is refused at load; natively it is never read', async () => {
    const file = path.join(root, 'd5-tokenizer.json');
    const tj = JSON.parse(fs.readFileSync(bgeTokenizerJson, 'utf8')) as { post_processor: { single: unknown[] } };
    tj.post_processor.single = [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }];
    fs.writeFileSync(file, JSON.stringify(tj));
    const r = await runChild(`report(() => m.Tokenizer.fromFile(${JSON.stringify(file)}).encode('hello').ids.length)`);
    expectChildError(r, 'E_MODEL_FILES', /post_processor\.single\[1\]\.Sequence\.id must be "A", got "B"/);
  });
});

describe('denial of service and unbounded resources', () => {
  it('D6: a sparse vocabulary id is refused at once, costing memory of the file, not of the id', async () => {
    for (const id of [2147483647, 2e7]) {
      const dir = path.join(root, `d6-${id}`);
      fs.mkdirSync(dir, { recursive: true });
      const tj = JSON.parse(fs.readFileSync(bgeTokenizerJson, 'utf8')) as { model: { vocab: Record<string, number> }; added_tokens: unknown[]; post_processor?: unknown };
      tj.model.vocab = { '[UNK]': 0, '[CLS]': 1, '[SEP]': 2, x: id };
      tj.added_tokens = [];
      tj.post_processor = undefined as never;
      fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tj));
      const r = await runChild(
        `const t0 = Date.now(); await report(() => m.Tokenizer.fromPretrained(${JSON.stringify(dir)})); console.log('ms', Date.now() - t0, process.memoryUsage().rss);`,
        { heapMb: 200, timeoutMs: 20_000 },
      );
      expectChildError(r, 'E_MODEL_FILES', new RegExp(`uses id ${id}; ids must be dense`));
      const [, ms] = /ms (\d+)/.exec(r.stdout)!;
      expect(Number(ms)).toBeLessThan(2000);
    }
  });

  it('D7: accent stripping is linear: 1 MB of combining marks tokenizes in under a second, equal to HF tokenizers on a shorter run', async () => {
    const tok = Tokenizer.fromFile(bgeTokenizerJson);
    const long = `a${'\u0301\u0316'.repeat(512 * 1024 / 2)}`; // 1 MiB of marks (UTF-16 code units)
    const t0 = performance.now();
    tok.encode(long);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(1000);
    // Same ids and offsets as Hugging Face tokenizers on mixed runs of marks (canonical ordering).
    const { Tokenizer: HfTokenizer } = (await import('tokenizers')) as unknown as {
      Tokenizer: { fromFile(f: string): { encode(t: string): Promise<{ getIds(): number[]; getOffsets(): [number, number][] }> } };
    };
    const hf = HfTokenizer.fromFile(bgeTokenizerJson);
    for (const s of [`x${'\u0316\u0301\u0317'.repeat(300)}y e\u0301\u0316\u0300`, `A\u0301\u0316\u0327${'\u0301\u0316'.repeat(700)}b`]) {
      const ours = tok.encode(s);
      const theirs = await hf.encode(s);
      expect(Array.from(ours.ids)).toEqual(theirs.getIds());
      expect(Array.from(ours.offsets)).toEqual(theirs.getOffsets().flat());
    }
  });

  it('D7: an AbortSignal stops encode during tokenization, not only between inference batches', async () => {
    const model = await load(tiny);
    const big = Array.from({ length: 48 }, (_, i) => `word${i} `.repeat(100_000));
    const t0 = performance.now();
    await model.tokenizer.encodeBatch(big, { maxLength: 512 });
    const tokenizeMs = performance.now() - t0;
    const ac = new AbortController();
    const t1 = performance.now();
    const p = model.encode(big, { signal: ac.signal });
    setImmediate(() => ac.abort());
    await expectCode(p, 'E_ABORTED');
    expect(performance.now() - t1).toBeLessThan(tokenizeMs / 2);
    model.dispose();
  });

  it('an AbortSignal stops load while it builds the graph (in a worker thread); nothing half-built stays in the cache', async () => {
    const medium = makeModel(root, 'abort-medium', { shape: { hidden_size: 384, num_hidden_layers: 6, num_attention_heads: 6, intermediate_size: 1536 }, pooling: 'cls' });
    const t0 = performance.now();
    (await SentenceTransformer.load(medium, { cacheDir: path.join(root, 'abort-full') })).dispose();
    const fullMs = performance.now() - t0;
    const c = path.join(root, 'abort-cache');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), fullMs * 0.3);
    const t1 = performance.now();
    await expectCode(SentenceTransformer.load(medium, { cacheDir: c, signal: ac.signal }), 'E_ABORTED');
    expect(performance.now() - t1).toBeLessThan(fullMs * 0.8);
    const onnx = path.join(c, 'onnx');
    expect(fs.existsSync(onnx) ? fs.readdirSync(onnx).filter((f) => f.includes('.tmp-')) : []).toEqual([]);
    const later = await SentenceTransformer.load(medium, { cacheDir: c });
    expect((await later.encode('a')).dim).toBe(384);
    later.dispose();
  });

  it('D8: special files are refused before they are read: /dev/zero, a FIFO, a folder', async () => {
    const cases: [string, (dir: string) => void, RegExp][] = [
      ['weights-dev-zero', (d) => { fs.rmSync(path.join(d, 'model.safetensors')); fs.symlinkSync('/dev/zero', path.join(d, 'model.safetensors')); }, /model\.safetensors: (resolves outside|not a regular file)/],
      ['weights-fifo', (d) => { fs.rmSync(path.join(d, 'model.safetensors')); execFileSync('mkfifo', [path.join(d, 'model.safetensors')]); }, /model\.safetensors: not a regular file/],
      ['tokenizer-dev-zero', (d) => { fs.rmSync(path.join(d, 'tokenizer.json')); fs.symlinkSync('/dev/zero', path.join(d, 'tokenizer.json')); }, /tokenizer\.json: (resolves outside|not a regular file)/],
      ['tokenizer-folder', (d) => { fs.rmSync(path.join(d, 'tokenizer.json')); fs.mkdirSync(path.join(d, 'tokenizer.json')); }, /tokenizer\.json: not a regular file/],
    ];
    for (const [name, edit, message] of cases) {
      const dir = copyModel(tiny, `d8-${name}`, edit);
      const r = await runChild(`report(m.SentenceTransformer.load(${JSON.stringify(dir)}, { cacheDir: ${JSON.stringify(cache)} }))`, { timeoutMs: 20_000, heapMb: 256 });
      expectChildError(r, 'E_MODEL_FILES', message);
    }
  });

  it('D9: threads is validated', async () => {
    for (const threads of [1e6, '2', -3, 0, 1.5, NaN]) {
      await expectCode(load(tiny, { threads: threads as number }), 'E_BAD_INPUT', /options\.threads must be an integer in \[1, 256\]/);
    }
    const m = await load(tiny, { threads: 1 });
    expect((await m.encode(texts)).rows).toBe(3);
    m.dispose();
  });
});

describe('wrong results', () => {
  it("D10: prompt names are looked up as the model's own prompts only; prompts must be strings", async () => {
    const dir = copyModel(tiny, 'd10', (d) => editJson(path.join(d, 'config_sentence_transformers.json'), (j) => (j.prompts = { query: 'query: ' })));
    const model = await load(dir);
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      await expectCode(model.encode('hello', { promptName: name }), 'E_BAD_INPUT', /is not in config_sentence_transformers\.json \(has: query\)/);
    }
    await expectCode(model.encode('hello', { prompt: 42 as unknown as string }), 'E_BAD_INPUT', /options\.prompt must be a string/);
    const viaName = await model.encode('hello', { promptName: 'query' });
    const viaText = await model.encode('query: hello');
    expect(Array.from(viaName.data)).toEqual(Array.from(viaText.data));
    model.dispose();
    const badPrompt = copyModel(tiny, 'd10-bad', (d) => editJson(path.join(d, 'config_sentence_transformers.json'), (j) => (j.prompts = { query: 7 })));
    await expectCode(load(badPrompt), 'E_MODEL_FILES', /prompts\["query"\] must be a string/);
    // The CLI goes through the same check.
    const cli = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'cli.js'), 'encode', '--model', dir, '--prompt-name', 'constructor'], {
      input: 'hello\n', encoding: 'utf8', env: { ...process.env, EMBEDRT_CACHE: cache },
    });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/prompt name "constructor" is not in config_sentence_transformers\.json.*\[E_BAD_INPUT\]/);
  });

  it('D11: replacing only a shipped graph\'s external data, or copying a checkpoint over with its mtime kept, gives the new embeddings', async () => {
    const other = makeModel(root, 'd11-other', { pooling: 'mean', seed: 1234 });
    // A folder that ships onnx/model.onnx + model.onnx.data.
    const shipped = copyModel(tiny, 'd11-shipped', (d) => {
      fs.rmSync(path.join(d, 'model.safetensors'));
      convertCheckpoint(tiny, path.join(d, 'onnx'));
    });
    const before = await load(shipped);
    const a = Array.from((await before.encode(texts)).data);
    before.dispose();
    const otherGraph = path.join(root, 'd11-other-onnx');
    convertCheckpoint(other, otherGraph);
    fs.copyFileSync(path.join(otherGraph, 'model.onnx.data'), path.join(shipped, 'onnx', 'model.onnx.data'));
    const expected = await load(other);
    const b = Array.from((await expected.encode(texts)).data);
    expected.dispose();
    const after = await load(shipped);
    const got = Array.from((await after.encode(texts)).data);
    after.dispose();
    expect(got).not.toEqual(a);
    for (let i = 0; i < b.length; i++) expect(got[i]).toBeCloseTo(b[i]!, 5);

    // A same-size checkpoint copied over with its mtime preserved (cp -p / tar).
    const dir = copyModel(tiny, 'd11-cp-p');
    const first = await load(dir);
    const old = Array.from((await first.encode(texts)).data);
    first.dispose();
    const weights = path.join(dir, 'model.safetensors');
    const { atime, mtime } = fs.statSync(weights);
    expect(fs.statSync(path.join(other, 'model.safetensors')).size).toBe(fs.statSync(weights).size);
    execFileSync('cp', ['-p', path.join(other, 'model.safetensors'), weights]);
    fs.utimesSync(weights, atime, mtime);
    const second = await load(dir);
    const now = Array.from((await second.encode(texts)).data);
    second.dispose();
    expect(now).not.toEqual(old);
    expect(now).toEqual(b);
  });

  it('D12: modules.json paths are confined to the folder; a listed Pooling module needs its config', async () => {
    fs.mkdirSync(path.join(root, 'outside'), { recursive: true });
    fs.writeFileSync(path.join(root, 'outside', 'config.json'), JSON.stringify({ pooling_mode_max_tokens: true }));
    const escape = copyModel(tiny, 'd12-escape', (d) => editJson(path.join(d, 'modules.json'), (j) => ((j as unknown as { path: string }[])[1]!.path = '../outside')));
    await expectCode(load(escape), 'E_MODEL_FILES', /a path outside the model folder/);
    const linked = copyModel(tiny, 'd12-link', (d) => {
      fs.rmSync(path.join(d, '1_Pooling'), { recursive: true });
      fs.symlinkSync(path.join(root, 'outside'), path.join(d, '1_Pooling'));
    });
    await expectCode(load(linked), 'E_MODEL_FILES', /resolves outside the model folder/);
    const missing = copyModel(cls, 'd12-missing', (d) => fs.rmSync(path.join(d, '1_Pooling'), { recursive: true }));
    await expectCode(load(missing), 'E_MODEL_FILES', /1_Pooling\/config\.json: not found \(modules\.json lists a Pooling module/);
  });

  it('D13: progress never arrives after the promise settles, ends at (total, total); a throwing callback rejects the encode', async () => {
    const model = await load(tiny);
    const many = Array.from({ length: 200 }, (_, i) => `text ${i} ${'word '.repeat(i % 40)}`);
    let late = 0;
    for (let round = 0; round < 60; round++) {
      const calls: number[] = [];
      let settled = false;
      await model.encode(many, { batchSize: 8, onProgress: (d) => (settled ? late++ : calls.push(d)) });
      settled = true;
      expect(calls.at(-1)).toBe(many.length);
      expect(calls).toEqual([...calls].sort((a, b) => a - b));
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(late).toBe(0);
    const boom = new Error('callback failed');
    await expect(model.encode(many, { batchSize: 8, onProgress: () => { throw boom; } })).rejects.toBe(boom);
    model.dispose();
  });
});

describe('CLI and cache', () => {
  const cliPath = () => path.join(repoRoot, 'dist', 'cli.js');
  const run = (args: string[], input = '', env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [cliPath(), ...args], { input, encoding: 'utf8', env: { ...process.env, EMBEDRT_CACHE: cache, ...env }, maxBuffer: 1 << 30 });

  it('D14: encode takes more than 125k input lines', () => {
    const lines = Array.from({ length: 130_000 }, (_, i) => `l${i % 10}`).join('\n');
    const r = run(['encode', '--model', tiny, '--format', 'npy', '--out', path.join(root, 'd14.npy')], lines);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.statSync(path.join(root, 'd14.npy')).size).toBe(128 + 130_000 * 32 * 4);
  });

  it("D15: exit codes keep the README's contract: 2 for usage, 1 for bad input, no stack traces", () => {
    const usage: string[][] = [
      ['encode', '--model'],
      ['encode', '--model', tiny, '--batch-size', '-1'],
      ['encode', '--model', tiny, 'extra'],
      ['encode', '--model', tiny, '--batch-size', '0'],
      ['nonsense'],
    ];
    for (const args of usage) {
      const r = run(args, 'x\n');
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const unwritable = run(['encode', '--model', tiny, '--out', path.join(root, 'no-such-dir', 'out.jsonl')], 'x\n');
    expect(unwritable.status, unwritable.stderr).toBe(1);
    expect(unwritable.stderr).toMatch(/--out .*cannot write there \(ENOENT\).*\[E_BAD_INPUT\]/);
    const convertOut = path.join(root, 'd15-convert');
    expect(run(['convert', '--model', tiny, '--out', convertOut]).status).toBe(0);
    const again = run(['convert', '--model', tiny, '--out', convertOut]);
    expect(again.status, again.stderr).toBe(1);
    expect(again.stderr).toMatch(/already holds a model\.onnx/);
    expect(again.stderr).not.toMatch(/\n\s+at /);
  });

  it('D15/D16: a full disk (ENOSPC) leaves no output, graph or cache entry that looks complete', async () => {
    const mnt = path.join(root, 'full-disk');
    fs.mkdirSync(mnt, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
    try {
      const texts = Array.from({ length: 20000 }, (_, i) => `text ${i}`).join('\n');
      const out = path.join(mnt, 'out.jsonl');
      const r = run(['encode', '--model', tiny, '--out', out], texts);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/writing failed \(ENOSPC\); nothing was written/); // (its .partial removed: it held no whole row)
      expect(fs.readdirSync(mnt)).toEqual([]);
      const conv = run(['convert', '--model', tiny, '--out', path.join(mnt, 'graph')]);
      expect(conv.status, conv.stderr).toBe(1);
      expect(conv.stderr).toMatch(/ENOSPC/);
      expect(fs.existsSync(path.join(mnt, 'graph', 'model.onnx'))).toBe(false);
      const c = path.join(mnt, 'cache');
      await expectCode(SentenceTransformer.load(tiny, { cacheDir: c }), 'E_CACHE', /ENOSPC/);
      expect(fs.readdirSync(path.join(c, 'onnx')).filter((f) => f !== 'by-identity')).toEqual([]);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });

  it('D15: a reader that goes away (encode | head -1) ends quietly with exit code 0', () => {
    const input = Array.from({ length: 3000 }, (_, i) => `line ${i}`).join('\n');
    const r = spawnSync('bash', ['-c', `set -o pipefail; node ${JSON.stringify(cliPath())} encode --model ${JSON.stringify(tiny)} | head -1 > /dev/null`], {
      input, encoding: 'utf8', env: { ...process.env, EMBEDRT_CACHE: cache },
    });
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(r.status, r.stderr).toBe(0);
  });

  it('D16: damaged caches heal: deleted or truncated graph files, leftovers of a crashed writer, an unwritable cache', async () => {
    const c = path.join(root, 'd16-cache');
    const first = await SentenceTransformer.load(tiny, { cacheDir: c });
    const ref = Array.from((await first.encode(texts)).data);
    const graph = first.info().graph;
    first.dispose();
    // The cached graph points into the checkpoint through a hard link (its only other file).
    const link = path.join(path.dirname(graph), 'checkpoint.safetensors');
    expect(fs.statSync(link).ino).toBe(fs.statSync(path.join(tiny, 'model.safetensors')).ino);
    expect(fs.existsSync(`${graph}.data`)).toBe(false);
    const damage: [string, () => void][] = [
      ['link to the weights deleted', () => fs.rmSync(link)],
      ['link replaced by another file', () => {
        fs.rmSync(link); // not written through: that would write into the checkpoint itself
        fs.writeFileSync(link, 'not the weights');
      }],
      ['graph truncated', () => fs.truncateSync(graph, 10)],
      ['leftover tmp', () => fs.mkdirSync(path.join(path.dirname(path.dirname(graph)), `${path.basename(path.dirname(graph))}.tmp-999999-x`))],
    ];
    for (const [what, hurt] of damage) {
      hurt();
      // Also the optimized graph: damage each of its files in turn.
      const m = await SentenceTransformer.load(tiny, { cacheDir: c });
      expect(Array.from((await m.encode(texts)).data), what).toEqual(ref);
      m.dispose();
    }
    // ONNX Runtime's optimized graph (int8-fast's, ONNX Runtime's ops on every CPU: the CPU's float and
    // int8 graphs on embedrt's kernels have none) truncated.
    const int8 = { cacheDir: c, quantize: 'int8-fast' } as const;
    const q = await SentenceTransformer.load(tiny, int8);
    const refInt8 = Array.from((await q.encode(texts)).data);
    q.dispose();
    const opt = (await SentenceTransformer.load(tiny, int8)).info().optimizedGraph!;
    expect(opt).toBeTruthy();
    fs.truncateSync(`${opt}.data`, 0);
    const healed = await SentenceTransformer.load(tiny, int8);
    expect(Array.from((await healed.encode(texts)).data)).toEqual(refInt8);
    healed.dispose();
    expect(fs.readdirSync(path.join(c, 'onnx')).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // A cache folder that cannot be written: a model that ships its graph still loads.
    const blocked = path.join(root, 'd16-blocked');
    fs.writeFileSync(blocked, 'a file where the cache folder should be');
    const shipped = copyModel(tiny, 'd16-shipped', (d) => {
      fs.rmSync(path.join(d, 'model.safetensors'));
      convertCheckpoint(tiny, path.join(d, 'onnx'));
    });
    const s = await SentenceTransformer.load(shipped, { cacheDir: blocked });
    // The shipped graph is the standard one (ONNX Runtime's attention ops; ref's ran com.embedrt's where
    // the CPU takes embedrt's kernels): the same embeddings to float32's rounding.
    expect(maxAbsDiff((await s.encode(texts)).data, ref)).toBeLessThan(1e-6);
    s.dispose();
    await expectCode(SentenceTransformer.load(copyModel(tiny, 'd16-build'), { cacheDir: blocked }), 'E_CACHE', /cannot write embedrt's graph cache in .*ENOTDIR/);
  });

  it('D16: four cold loads at once leave one cache entry and no orphaned weights', async () => {
    const c = path.join(root, 'd16-race');
    const dir = copyModel(tiny, 'd16-race-model');
    const loads = Array.from({ length: 4 }, () =>
      // int8-fast (ONNX Runtime's ops on every CPU): its graph is built and optimized, so both caches are raced for.
      runChild(`const mm = await m.SentenceTransformer.load(${JSON.stringify(dir)}, { cacheDir: ${JSON.stringify(c)}, quantize: 'int8-fast' }); report(async () => Array.from((await mm.encode(['a b c'])).data))`, { timeoutMs: 60_000 }),
    );
    const results = await Promise.all(loads);
    for (const x of results) expect(x.result?.ok, x.stderr.slice(-300)).toBe(true);
    for (const x of results) expect(x.result!.value).toEqual(results[0]!.result!.value);
    const entries = (sub: string) => fs.readdirSync(path.join(c, sub));
    expect(entries('onnx').filter((f) => f !== 'by-identity')).toHaveLength(1);
    expect(entries('optimized')).toHaveLength(1);
    const files = fs.readdirSync(path.join(c, 'optimized', entries('optimized')[0]!)).sort();
    expect(files).toEqual(['manifest.json', 'model.onnx', 'model.onnx.data']);
  });

  it('D16: a damaged cached-embeddings file of `embedrt search` is recomputed, not fatal', () => {
    const corpus = path.join(root, 'd16-corpus.txt');
    fs.writeFileSync(corpus, 'revenue grew\noperating loss\ncash flow\n');
    const args = ['search', '--model', tiny, '--corpus', corpus, '--query', 'revenue', '--format', 'jsonl'];
    const first = run(args);
    expect(first.status, first.stderr).toBe(0);
    const dir = path.join(cache, 'search');
    for (const f of fs.readdirSync(dir)) fs.writeFileSync(path.join(dir, f), 'garbage');
    const second = run(args);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
  });
});

describe('unclear errors become coded ones', () => {
  it('sparse arrays, null options, a non-AbortSignal, evaluateIR(null)', async () => {
    const model = await load(tiny);
    // eslint-disable-next-line no-sparse-arrays
    const sparse = ['a', , 'b'] as string[];
    await expectCode(model.encode(sparse), 'E_BAD_INPUT', /texts\[1\] must be a string, got undefined/);
    await expectCode(model.tokenizer.encodeBatch(sparse), 'E_BAD_INPUT', /texts\[1\] must be a string/);
    await expectCode(model.encode('a', null as never), 'E_BAD_INPUT', /options must be an object, got null/);
    await expectCode(model.encode('a', { signal: {} as AbortSignal }), 'E_BAD_INPUT', /options\.signal must be an AbortSignal/);
    await expectCode(similarity([new Float32Array(2), , new Float32Array(2)] as Float32Array[], [new Float32Array(2)]), 'E_BAD_INPUT', /\[1\]: expected a Float32Array/);
    await expectCode(semanticSearch([[1, 2]], [[1, 2]], null as never), 'E_BAD_INPUT', /options must be an object/);
    await expectCode(evaluateIR(null as never, model), 'E_BAD_INPUT');
    expect(model.tokenizer.idToToken(2 ** 32 + 101)).toBeUndefined();
    expect(model.tokenizer.idToToken(101)).toBe('[CLS]');
    model.dispose();
  });

  it('model files: template ids as strings, a graph with no 3-D output, garbage ONNX, no config.json, max_seq_length 0, a vocabulary larger than the model, no echo of file contents', async () => {
    const strIds = copyModel(tiny, 'u-str-ids', (d) =>
      editJson(path.join(d, 'tokenizer.json'), (j) => ((j.post_processor as { special_tokens: Record<string, { ids: unknown[] }> }).special_tokens['[CLS]']!.ids = ['101'])),
    );
    await expectCode(load(strIds), 'E_MODEL_FILES', /special_tokens\["\[CLS\]"\]\.ids\[0\] must be a token id/);
    const garbage = copyModel(tiny, 'u-garbage', (d) => {
      fs.rmSync(path.join(d, 'model.safetensors'));
      fs.mkdirSync(path.join(d, 'onnx'));
      fs.writeFileSync(path.join(d, 'onnx', 'model.onnx'), 'this is not a protobuf at all');
    });
    await expectCode(load(garbage), 'E_MODEL_FILES', /ONNX Runtime cannot load this graph/);
    const noConfig = copyModel(tiny, 'u-no-config', (d) => fs.rmSync(path.join(d, 'config.json')));
    await expectCode(load(noConfig), 'E_MODEL_FILES', /config\.json: no such file \(expected the model config\)/);
    const zeroLen = copyModel(tiny, 'u-zero-len', (d) => editJson(path.join(d, 'sentence_bert_config.json'), (j) => (j.max_seq_length = 0)));
    await expectCode(load(zeroLen), 'E_MODEL_FILES', /max_seq_length must be a positive integer, got number 0/);
    const smallVocab = copyModel(tiny, 'u-vocab', (d) => editJson(path.join(d, 'config.json'), (j) => (j.vocab_size = 1000)));
    await expectCode(load(smallVocab), 'E_MODEL_FILES', /the tokenizer has 30522 ids, config\.json's vocab_size is 1000/);
    fs.writeFileSync(path.join(root, 'secret.txt'), 'TOP-SECRET-VALUE {');
    const echo = copyModel(tiny, 'u-echo', (d) => {
      fs.rmSync(path.join(d, 'config_sentence_transformers.json'));
      fs.copyFileSync(path.join(root, 'secret.txt'), path.join(d, 'config_sentence_transformers.json'));
    });
    const e = await load(echo).catch((x: Error) => x);
    expect((e as { code?: string }).code).toBe('E_MODEL_FILES');
    expect((e as Error).message).not.toMatch(/SECRET/);
    // A graph whose output is not [batch, sequence, hidden]: the 2-D pooler output of a converted graph.
    const flat = copyModel(tiny, 'u-2d', (d) => {
      fs.rmSync(path.join(d, 'model.safetensors'));
      fs.mkdirSync(path.join(d, 'onnx'));
      const graph = encodeModel({
        irVersion: 8, opset: 17, producer: 'embedrt-test', graphName: 'two-d',
        nodes: [{ op: 'Cast', inputs: ['attention_mask'], outputs: ['last_hidden_state'], attrs: [{ name: 'to', i: DataType.FLOAT }] }],
        initializers: [],
        inputs: [{ name: 'input_ids', elemType: DataType.INT64, shape: ['b', 's'] }, { name: 'attention_mask', elemType: DataType.INT64, shape: ['b', 's'] }],
        outputs: [{ name: 'last_hidden_state', elemType: DataType.FLOAT, shape: ['b', 's'] }],
      });
      fs.writeFileSync(path.join(d, 'onnx', 'model.onnx'), graph);
    });
    await expectCode(load(flat), 'E_MODEL_FILES', /last_hidden_state is not a float \[batch, sequence, hidden\] tensor/);
  });
});
