#!/usr/bin/env node
// `embedrt encode --out` in each output format over the same corpus: wall time, texts/s, peak RSS and
// file size, in interleaved rounds, each format's time as a ratio to .npy (a plain copy of the floats:
// the floor) in the same round. What the writer costs on top of the model.
//
//   node bench/cli-formats.mjs [--texts 3000] [--rounds 3] [--formats npy,raw,jsonl,parquet]
//                              [--sink-rows 50000] [--sink-dim 768] [--writers-only]
//
// Then the writers alone (no model): --sink-rows random rows of --sink-dim floats through each
// format's sink in chunks of 1024, rows/s per format (interleaved rounds, medians) — the ceiling each
// format puts on a job, to set beside the model's texts/s.
// Model: the real all-MiniLM-L6-v2 (384-d, fast on a CPU: the writer's share is largest with a fast
// model). Texts: examples/financial-texts.mjs's passages. Results: bench/results/cli-formats-<date>.json.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { passages } from '../examples/financial-texts.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const arg = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const N = Number(arg('--texts', 3000));
const SINK_ROWS = Number(arg('--sink-rows', 50000));
const SINK_DIM = Number(arg('--sink-dim', 768));
const WRITERS_ONLY = args.includes('--writers-only'); // skip the CLI runs
const ROUNDS = Number(arg('--rounds', 3));
const FORMATS = arg('--formats', 'npy,raw,jsonl,parquet').split(',');
const EXT = { npy: 'npy', raw: 'f32', jsonl: 'jsonl', parquet: 'parquet' };

const model = execFileSync(process.execPath, [path.join(root, 'scripts', 'fetch-minilm.mjs')], { encoding: 'utf8' }).trim();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'embedrt-formats-'));
const corpus = path.join(work, 'corpus.txt');
fs.writeFileSync(corpus, `${passages(N).join('\n')}\n`);
const env = { ...process.env, EMBEDRT_CACHE: path.join(root, 'build', 'bench-models', 'cache') };
const cli = path.join(root, 'dist', 'cli.js');

function once(format) {
  const out = path.join(work, `out.${EXT[format]}`);
  const t0 = process.hrtime.bigint();
  // GNU time reports the child's peak RSS (KiB) on the last line of stderr.
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, cli, 'encode', '--model', model, '--input', corpus, '--out', out, '--format', format, '--no-progress'], { env, encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${format}: exit ${r.status}: ${r.stderr}`);
  const size = fs.statSync(out).size;
  fs.rmSync(out);
  return { seconds, textsPerSecond: N / seconds, maxRssMB: Number(r.stderr.trim().split('\n').pop()) / 1024, bytes: size };
}

if (!WRITERS_ONLY) once('npy'); // warm: the graph cache, the page cache
const rounds = [];
for (let r = 0; r < (WRITERS_ONLY ? 0 : ROUNDS); r++) {
  const order = FORMATS.map((_, i) => FORMATS[(i + r) % FORMATS.length]);
  const round = {};
  for (const f of order) round[f] = once(f);
  for (const f of FORMATS) round[f].vsNpy = round[f].seconds / round.npy.seconds;
  rounds.push(round);
  console.log(`round ${r + 1}: ${FORMATS.map((f) => `${f} ${round[f].textsPerSecond.toFixed(0)}/s (×${round[f].vsNpy.toFixed(3)}, ${round[f].maxRssMB.toFixed(0)} MB)`).join(' · ')}`);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = WRITERS_ONLY ? undefined : Object.fromEntries(
  FORMATS.map((f) => {
    const xs = rounds.map((r) => r[f]);
    return [f, { textsPerSecond: median(xs.map((x) => x.textsPerSecond)), timeVsNpy: { median: median(xs.map((x) => x.vsNpy)), min: Math.min(...xs.map((x) => x.vsNpy)), max: Math.max(...xs.map((x) => x.vsNpy)) }, maxRssMB: Math.max(...xs.map((x) => x.maxRssMB)), bytes: xs[0].bytes }];
  }),
);
if (summary) console.table(Object.fromEntries(Object.entries(summary).map(([f, s]) => [f, { 'texts/s': s.textsPerSecond.toFixed(0), 'time/npy median': s.timeVsNpy.median.toFixed(3), range: `${s.timeVsNpy.min.toFixed(3)}–${s.timeVsNpy.max.toFixed(3)}`, 'peak RSS MB': s.maxRssMB.toFixed(0), 'MB on disk': (s.bytes / 2 ** 20).toFixed(1) }])));
// The writers alone.
const { openSink } = await import(path.join(root, 'dist', 'cli', 'output.js'));
const chunk = new Float32Array(1024 * SINK_DIM).map(() => Math.random() - 0.5);
async function sinkOnce(format) {
  const out = path.join(work, `sink.${EXT[format]}`);
  const sink = await openSink({ format, file: out, dim: SINK_DIM, withIds: false, resume: false });
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < SINK_ROWS; done += 1024) {
    const rows = Math.min(1024, SINK_ROWS - done);
    await sink.write({ indices: [], ids: [], data: chunk.subarray(0, rows * SINK_DIM), rows });
  }
  await sink.finish();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  fs.rmSync(out);
  return SINK_ROWS / seconds;
}
const sinkRounds = [];
for (let r = 0; r < ROUNDS; r++) {
  const round = {};
  for (let i = 0; i < FORMATS.length; i++) {
    const f = FORMATS[(i + r) % FORMATS.length];
    round[f] = await sinkOnce(f);
  }
  sinkRounds.push(round);
}
const sinkSummary = Object.fromEntries(FORMATS.map((f) => [f, { rowsPerSecond: median(sinkRounds.map((r) => r[f])), min: Math.min(...sinkRounds.map((r) => r[f])), max: Math.max(...sinkRounds.map((r) => r[f])) }]));
console.log(`writers alone, ${SINK_ROWS} rows × ${SINK_DIM} floats:`);
console.table(Object.fromEntries(Object.entries(sinkSummary).map(([f, s]) => [f, { 'rows/s median': s.rowsPerSecond.toFixed(0), range: `${s.min.toFixed(0)}–${s.max.toFixed(0)}` }])));

const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 13);
const file = path.join(root, 'bench', 'results', `cli-formats-${stamp}.json`);
fs.writeFileSync(file, `${JSON.stringify({ texts: N, rounds, summary, sink: { rows: SINK_ROWS, dim: SINK_DIM, rounds: sinkRounds, summary: sinkSummary }, cpus: os.cpus().length, node: process.version }, null, 2)}\n`);
console.log(`wrote ${path.relative(root, file)}`);
fs.rmSync(work, { recursive: true, force: true });
