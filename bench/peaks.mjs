#!/usr/bin/env node
// This machine's arithmetic peaks per precision (fp32 FMA, int8 dot products, bf16 dot products: every
// instruction the CPU has, 1 and 2 threads) and embedrt's projection kernels (fp32, int8, bf16) on
// BERT-base's shapes as a fraction of their precision's peak — the yardstick the encode benchmarks'
// figures are read against.
//
//   node bench/peaks.mjs            builds bench/native/peaks.cc (cmake, build/bench-native), runs it,
//                                   prints a table, writes bench/results/peaks-<date>T<hhmm>.json
// x86-64 only (the instructions measured are x86's).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (process.arch !== 'x64') {
  process.stderr.write(`bench/peaks.mjs: x86-64 only (this is ${process.arch})\n`);
  process.exit(2);
}
const dir = path.join(root, 'build', 'bench-native');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 << 20 });
run('cmake', ['-S', '.', '-B', dir, '-G', 'Ninja', '-DCMAKE_BUILD_TYPE=Release', '-DEMBEDRT_BENCH=ON', '-DEMBEDRT_ADDON=OFF']);
run('cmake', ['--build', dir, '--target', 'embedrt_peaks']);
const result = JSON.parse(run(path.join(dir, 'embedrt_peaks'), []));
result.date = new Date().toISOString();
result.cpu = os.cpus()[0]?.model ?? 'unknown';

const fmt = (r) => (r ? `${r.gops.toFixed(1)} (${r.min.toFixed(1)}–${r.max.toFixed(1)})` : 'n/a');
const lines = [`${result.cpu}, SIMD path ${result.simd}, ${result.hardwareThreads} hardware threads`, '', 'peak GOPS (1 MAC = 2 ops), median of 5 (range):', ''];
for (const p of result.peaks) lines.push(`  ${p.name.padEnd(72)} ${p.available ? `1 thread ${fmt(p.threads1)}   2 threads ${fmt(p.threads2)}` : 'not on this CPU'}`);
lines.push('', "embedrt's linear kernels (fp32 linear_forward, int8 and bf16 LowpLinear) on BERT-base projections (G ops/s, fraction of the peak of the instruction each runs):", '');
for (const l of result.linear) lines.push(`  ${(l.precision ?? 'fp32').padEnd(5)}m ${String(l.m).padStart(4)}  k ${String(l.k).padStart(4)}  n ${String(l.n).padStart(4)}  ${l.threads} thread${l.threads > 1 ? 's' : ' '}  ${fmt(l.rate).padEnd(24)} ${(100 * (l.ofPeak ?? l.ofFp32Peak)).toFixed(0)}% of its peak`);
process.stdout.write(`${lines.join('\n')}\n`);
const out = path.join(root, 'bench', 'results', `peaks-${result.date.slice(0, 16).replace(':', '')}.json`);
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`\n→ ${path.relative(root, out)}\n`);
