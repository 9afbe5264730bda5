// embedrt encode end to end as a corpus job: input formats, streamed outputs, invalid UTF-8, EPIPE,
// Ctrl-C, --resume and --shard. References: the library's encode on the same texts, numpy for .npy,
// pyarrow for Parquet.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceTransformer, type Embeddings } from '../../lib/index.js';
import { passages } from '../../examples/financial-texts.mjs';
import { repoRoot } from '../helpers/data.js';
import { makeModel, maxAbsDiff, tempDir } from '../helpers/models.js';

const cli = path.join(repoRoot, 'dist', 'cli.js');
let root: string;
let env: NodeJS.ProcessEnv;
let dir: string;
let model: SentenceTransformer;
const texts = passages(3000);
let reference: Embeddings;

beforeAll(async () => {
  root = tempDir('cli-stream');
  env = { ...process.env, EMBEDRT_CACHE: path.join(root, 'cache') };
  dir = makeModel(root, 'tiny', { pooling: 'mean' });
  model = await SentenceTransformer.load(dir, { cacheDir: env.EMBEDRT_CACHE });
  reference = await model.encode(texts);
  fs.writeFileSync(path.join(root, 'corpus.txt'), `${texts.join('\n')}\n`);
});
afterAll(() => {
  model?.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

const run = (args: string[], input = '') => spawnSync(process.execPath, [cli, 'encode', '--model', dir, ...args], { input, encoding: 'utf8', env, maxBuffer: 256 << 20, cwd: root });
const file = (name: string) => path.join(root, name);
const jsonRows = (text: string) => text.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
/** Row i of the reference: the library's encode of the same text (batched among other neighbours). */
const expectRow = (got: ArrayLike<number>, i: number) => expect(maxAbsDiff(got, reference.row(i)), `row ${i}`).toBeLessThan(1e-5);

function readNpy(f: string): { shape: number[]; data: Float32Array } {
  const python = execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'py-env.mjs')], { encoding: 'utf8' }).trim();
  const script = 'import json,sys,numpy; a=numpy.load(sys.argv[1]); print(json.dumps({"shape": a.shape, "dtype": str(a.dtype), "data": a.astype(float).ravel().tolist()}))';
  const r = JSON.parse(execFileSync(python, ['-c', script, f], { encoding: 'utf8', maxBuffer: 256 << 20 })) as { shape: number[]; dtype: string; data: number[] };
  expect(r.dtype).toBe('float32');
  return { shape: r.shape, data: new Float32Array(r.data) };
}

/** A Parquet file as pyarrow reads it: its schema, row groups, columns and embeddings. */
function readParquet(f: string): { schema: string; rowGroups: number; index?: number[]; id?: (string | null)[]; rows: number[][] } {
  const python = execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'py-env.mjs'), '--with', 'pyarrow==22.0.0'], { encoding: 'utf8' }).trim();
  const script = [
    'import json,sys,pyarrow.parquet as pq',
    'f=pq.ParquetFile(sys.argv[1]); t=f.read(); names=t.column_names',
    'out={"schema": str(f.schema_arrow.remove_metadata()), "rowGroups": f.metadata.num_row_groups, "rows": t.column("embedding").to_pylist()}',
    'out.update({n: t.column(n).to_pylist() for n in ("index","id") if n in names})',
    'print(json.dumps(out))',
  ].join('\n');
  return JSON.parse(execFileSync(python, ['-c', script, f], { encoding: 'utf8', maxBuffer: 256 << 20 })) as ReturnType<typeof readParquet>;
}

/** Starts encode, sends SIGINT once `partial` holds at least `bytes`, and returns how it ended. */
async function interrupt(args: string[], partial: string, bytes: number): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [cli, 'encode', '--model', dir, ...args], { env, cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const ended = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const poll = setInterval(() => {
    if (fs.existsSync(partial) && fs.statSync(partial).size >= bytes) {
      clearInterval(poll);
      child.kill('SIGINT');
    }
  }, 20);
  const code = await ended;
  clearInterval(poll);
  return { code, stderr };
}

describe('embedrt encode as a corpus job', () => {
  it('reads plain lines, JSON lines with ids and CSV with quoted line breaks; writes rows as the library computes them', () => {
    const plain = run(['--input', 'corpus.txt', '--chunk-size', '100']);
    expect(plain.stderr).toBe('');
    const rows = jsonRows(plain.stdout) as number[][];
    expect(rows.length).toBe(texts.length);
    rows.forEach((v, i) => expectRow(v, i));

    const jsonl = texts.slice(0, 40).map((text, i) => JSON.stringify({ doc: `d${i}`, body: text, other: 1 }));
    const j = run(['--input-format', 'jsonl', '--text-field', 'body', '--id-field', 'doc', '--chunk-size', '16'], `${jsonl.join('\n')}\n`);
    expect(j.stderr).toBe('');
    const objs = jsonRows(j.stdout) as { index: number; id: string; embedding: number[] }[];
    expect(objs.map((o) => [o.index, o.id])).toEqual(texts.slice(0, 40).map((_, i) => [i, `d${i}`]));
    objs.forEach((o, i) => expectRow(o.embedding, i));

    // A text with a comma, a doubled quote and a line break; the reference embeds exactly that text.
    const tricky = 'Revenue, "adjusted", rose\nin 2023';
    const quote = (t: string) => `"${t.replace(/"/g, '""')}"`;
    fs.writeFileSync(file('in.csv'), `id,text\nk1,${quote(tricky)}\nk2,${quote(texts[1]!)}\n`);
    const c = run(['--input', 'in.csv', '--id-column', 'id']);
    expect(c.stderr).toBe('');
    const crow = jsonRows(c.stdout) as { index: number; id: string; embedding: number[] }[];
    expect(crow.map((o) => o.id)).toEqual(['k1', 'k2']);
    expectRow(crow[1]!.embedding, 1);
    return model.encode([tricky]).then((e) => expect(maxAbsDiff(crow[0]!.embedding, e.row(0))).toBeLessThan(1e-5));
  });

  it('writes .npy (read by numpy) and raw float32 with a sidecar; no .partial is left', () => {
    const n = run(['--input', 'corpus.txt', '--out', 'all.npy', '--chunk-size', '500']);
    expect(n.status, n.stderr).toBe(0);
    const npy = readNpy(file('all.npy'));
    expect(npy.shape).toEqual([texts.length, reference.dim]);
    for (let i = 0; i < texts.length; i += 97) expectRow(npy.data.subarray(i * reference.dim, (i + 1) * reference.dim), i);
    const r = run(['--input', 'corpus.txt', '--out', 'all.f32']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(file('all.f32.json'), 'utf8'))).toEqual({ dtype: 'float32', rows: texts.length, dim: reference.dim, layout: 'row-major, little-endian' });
    const raw = new Float32Array(new Uint8Array(fs.readFileSync(file('all.f32'))).buffer);
    expect(maxAbsDiff(raw, npy.data)).toBe(0);
    expect(fs.readdirSync(root).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('writes Parquet (read by pyarrow): list<float> embeddings, a row group per chunk, index and id columns with ids', () => {
    const plain = run(['--input', 'corpus.txt', '--out', 'all.parquet', '--chunk-size', '700']);
    expect(plain.status, plain.stderr).toBe(0);
    const p = readParquet(file('all.parquet'));
    expect(p.schema).toBe('embedding: list<element: float not null> not null\n  child 0, element: float not null');
    expect([p.rows.length, p.rowGroups]).toEqual([texts.length, Math.ceil(texts.length / 700)]);
    p.rows.forEach((v, i) => i % 97 === 0 && expectRow(v, i));
    // Ids of either type (as text) and the input index, with --shard too.
    const records = texts.slice(0, 50).map((text, i) => JSON.stringify(i % 2 ? { key: `doc-${i}`, text } : { key: i, text }));
    fs.writeFileSync(file('ids.jsonl'), `${records.join('\n')}\n`);
    const ided = run(['--input', 'ids.jsonl', '--id-field', 'key', '--shard', '1/2', '--out', 'ids.parquet', '--chunk-size', '7']);
    expect(ided.status, ided.stderr).toBe(0);
    const q = readParquet(file('ids.parquet'));
    expect(q.schema).toMatch(/^index: int64 not null\nid: string\nembedding: list<element: float not null> not null/);
    expect(q.index).toEqual(Array.from({ length: 25 }, (_, k) => 2 * k + 1));
    expect(q.id).toEqual(q.index!.map((i) => `doc-${i}`));
    q.rows.forEach((v, k) => expectRow(v, q.index![k]!));
    expect(fs.readdirSync(root).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('invalid UTF-8 is an error naming its line; the rows before it stay in <out>.partial', () => {
    const input = Buffer.concat([Buffer.from(`${texts.slice(0, 5).join('\n')}\n`), Buffer.from([0x61, 0xff, 0xfe, 0x0a]), Buffer.from('after\n')]);
    const r = spawnSync(process.execPath, [cli, 'encode', '--model', dir, '--out', 'bad.jsonl', '--chunk-size', '2'], { input, encoding: 'utf8', env, cwd: root });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^embedrt: stdin line 6: not valid UTF-8; \S*bad\.jsonl\.partial holds the first 5 rows, each whole; run the same command with --resume to continue \[E_BAD_INPUT\]\n$/);
    expect(fs.existsSync(file('bad.jsonl'))).toBe(false);
    (jsonRows(fs.readFileSync(file('bad.jsonl.partial'), 'utf8')) as number[][]).forEach((v, i) => expectRow(v, i));
  });

  it('a reader that goes away (| head -1) ends it quietly with exit code 0', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${cli}" encode --model "${dir}" --input corpus.txt --chunk-size 64 | head -1 > first.txt`], { encoding: 'utf8', env, cwd: root });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expectRow(JSON.parse(fs.readFileSync(file('first.txt'), 'utf8')) as number[], 0);
  });

  it('Ctrl-C leaves whole rows in <out>.partial and says so; --resume completes it exactly as an uninterrupted run', async () => {
    const full = run(['--input', 'corpus.txt', '--out', 'whole.jsonl', '--chunk-size', '100']);
    expect(full.status, full.stderr).toBe(0);
    for (const [out, extra] of [
      ['cut.jsonl', []],
      ['cut.npy', []],
    ] as const) {
      const args = ['--input', 'corpus.txt', '--out', out, '--chunk-size', '100', ...extra];
      const stopped = await interrupt(args, file(`${out}.partial`), 20_000);
      expect(stopped.code, stopped.stderr).toBe(130);
      expect(stopped.stderr).toMatch(new RegExp(`interrupted after \\d+ new rows; .*${out}\\.partial holds the first \\d+ rows, each whole; run the same command with --resume to continue`));
      expect(fs.existsSync(file(out))).toBe(false);
      const held = Number(/holds the first (\d+) rows/.exec(stopped.stderr)![1]);
      expect(held).toBeGreaterThan(0);
      expect(held).toBeLessThan(texts.length);
      const resumed = run([...args, '--resume']);
      expect(resumed.status, resumed.stderr).toBe(0);
      expect(fs.existsSync(file(`${out}.partial`))).toBe(false);
      if (out.endsWith('.jsonl')) {
        expect(fs.readFileSync(file(out), 'utf8')).toBe(fs.readFileSync(file('whole.jsonl'), 'utf8'));
      } else {
        const npy = readNpy(file(out));
        expect(npy.shape).toEqual([texts.length, reference.dim]);
        const whole = (jsonRows(fs.readFileSync(file('whole.jsonl'), 'utf8')) as number[][]).flat();
        expect(maxAbsDiff(npy.data, whole)).toBe(0);
      }
      const again = run([...args, '--resume']);
      expect(again.stderr).toMatch(/is already complete; nothing to resume/);
    }
  });

  it('Ctrl-C closes a Parquet .partial as a readable file of whole rows and says so; --resume with Parquet is refused', async () => {
    const args = ['--input', 'corpus.txt', '--out', 'cut.parquet', '--chunk-size', '100'];
    const stopped = await interrupt(args, file('cut.parquet.partial'), 20_000);
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toMatch(/cut\.parquet\.partial holds the first \d+ rows as a complete Parquet file; Parquet output cannot be resumed/);
    const held = Number(/holds the first (\d+) rows/.exec(stopped.stderr)![1]);
    const p = readParquet(file('cut.parquet.partial'));
    expect(p.rows.length).toBe(held);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(texts.length);
    p.rows.forEach((v, i) => i % 13 === 0 && expectRow(v, i));
    expect(fs.existsSync(file('cut.parquet'))).toBe(false);
    const resumed = run([...args, '--resume']);
    expect(resumed.status).toBe(2);
    expect(resumed.stderr).toMatch(/--resume does not work with --format parquet/);
  });

  it('--resume after a crash mid-row cuts back to the last whole row; a partial of another --dim is refused', () => {
    const whole = fs.readFileSync(file('whole.jsonl'), 'utf8');
    fs.writeFileSync(file('crash.jsonl.partial'), whole.slice(0, whole.indexOf('\n', 50_000) + 120)); // ends inside a row
    const r = run(['--input', 'corpus.txt', '--out', 'crash.jsonl', '--chunk-size', '100', '--resume']);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(file('crash.jsonl'), 'utf8')).toBe(whole);
    fs.writeFileSync(file('dim.jsonl.partial'), whole.slice(0, whole.indexOf('\n') + 1));
    const d = run(['--input', 'corpus.txt', '--out', 'dim.jsonl', '--dim', '8', '--resume']);
    expect(d.status).toBe(1);
    expect(d.stderr).toMatch(/--resume: .*dim\.jsonl\.partial does not hold 8-dimensional JSON rows/);
  });

  it('--shard i/N: the shards together hold every record once, each row with its input index', () => {
    const seen = new Map<number, Float32Array>();
    for (let s = 0; s < 3; s++) {
      const r = run(['--input', 'corpus.txt', '--out', `shard-${s}.npy`, '--shard', `${s}/3`, '--chunk-size', '128']);
      expect(r.status, r.stderr).toBe(0);
      const npy = readNpy(file(`shard-${s}.npy`));
      const idx = (jsonRows(fs.readFileSync(file(`shard-${s}.npy.ids.jsonl`), 'utf8')) as { index: number }[]).map((o) => o.index);
      expect(npy.shape).toEqual([idx.length, reference.dim]);
      idx.forEach((k, i) => {
        expect(k % 3).toBe(s);
        seen.set(k, npy.data.slice(i * reference.dim, (i + 1) * reference.dim));
      });
    }
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual(texts.map((_, i) => i));
    for (const [k, v] of seen) expectRow(v, k);
    for (const bad of ['3/3', '1', '-1/2', 'a/b', '0/0']) {
      const r = run([`--shard=${bad}`]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--shard must be i\/N with 0 ≤ i < N/);
    }
  });

  it('usage errors: binary output to stdout, --resume without --out, fields of another format', () => {
    expect(run(['--format', 'npy']).stderr).toMatch(/--format npy is written to a file; give --out FILE/);
    expect(run(['--format', 'parquet']).stderr).toMatch(/--format parquet is written to a file; give --out FILE/);
    expect(run(['--format', 'arrow']).stderr).toMatch(/--format must be jsonl, npy, raw or parquet, got arrow/);
    expect(run(['--resume']).stderr).toMatch(/--resume continues an --out FILE/);
    expect(run(['--id-column', 'id']).stderr).toMatch(/--text-column and --id-column are for CSV input/);
    expect(run(['--input', 'in.csv', '--text-column', 'nope']).stderr).toMatch(/in\.csv: no column "nope" in the header \(id, text\)/);
    const j = run(['--jsonl'], '"a"\nnot json\n');
    expect(j.stderr).toMatch(/stdin line 2: not valid JSON .*use --input-format lines for plain text/);
  });
});
