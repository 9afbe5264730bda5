#!/usr/bin/env node
// `embedrt serve` on loopback under load (autocannon), next to in-process encode of the same texts in
// the same run: texts/s, tokens/s, p50/p99 latency, errors, and the server's RSS over time.
//
//   node bench/serve.mjs [--model DIR] [--texts 2000] [--duration 10] [--clients 1,8,64] [--malloc tuned|system] [--rounds 3]
//
// Texts: the contexts of the Financial QA CSV (README: Test data), as TEI's figures in issue #17 were
// measured. Model: the real all-MiniLM-L6-v2 (PyPI) unless --model. Each scenario (clients × texts per
// request: 1 or 32) runs against one server process — single texts for --duration seconds, batches
// two requests per client, however long they take — and its RSS is sampled every 250 ms from /proc.
// --malloc: passed to the server (default: its own, tuned). The bar of issue #17: 64 clients × 1 text
// reach ≥ 70% of in-process batched throughput, with zero errors. This machine's speed drifts by ±15%
// within a minute, so after the scenarios the bar is measured in --rounds interleaved rounds (in
// process on a quarter of the texts, then the server for --duration s), each round's ratio from
// neighbouring measurements; the verdict takes their median. Results: bench/results/serve-<date>.json.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { financialQaCsv } from '../scripts/data-paths.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const arg = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const N = Number(arg('--texts', 2000));
const DURATION = Number(arg('--duration', 10));
const CLIENTS = arg('--clients', '1,8,64').split(',').map(Number);
const MALLOC = arg('--malloc', undefined);
const ROUNDS = Number(arg('--rounds', 3));
const model = arg('--model', undefined) ?? execFileSync(process.execPath, [path.join(root, 'scripts', 'fetch-minilm.mjs')], { encoding: 'utf8' }).trim();
const { SentenceTransformer, readQaRows } = await import(path.join(root, 'dist', 'index.js'));
const texts = readQaRows(financialQaCsv()).map((r) => r.context).filter((c) => c.trim() !== '').slice(0, N);
const cache = path.join(root, 'build', 'bench-models', 'cache');
const env = { ...process.env, EMBEDRT_CACHE: cache };

// ---- in process: the same texts, batches of 32, and single texts one at a time ----
const st = await SentenceTransformer.load(model, { cacheDir: cache });
await st.encode(texts.slice(0, 64), { normalize: true }); // warm
const counts = await st.countTokens(texts);
const tokensPerText = counts.reduce((a, c) => a + Math.min(c, st.maxSeqLength), 0) / texts.length;
/** In-process texts/s, batches of 32 (encode sorts by length: its best case). */
async function inProcessRate(list) {
  const t0 = performance.now();
  await st.encode(list, { normalize: true, batchSize: 32 });
  return list.length / ((performance.now() - t0) / 1000);
}
const inProcessBatched = await inProcessRate(texts);
const singles = [];
for (const t of texts.slice(0, 300)) {
  const s = performance.now();
  await st.encode([t], { normalize: true });
  singles.push(performance.now() - s);
}
singles.sort((a, b) => a - b);
const inProcess = { textsPerSecondBatched: inProcessBatched, singleP50Ms: singles[Math.floor(singles.length * 0.5)], singleP99Ms: singles[Math.floor(singles.length * 0.99)], rssMB: process.memoryUsage().rss / 2 ** 20 };
console.log(`in process: ${inProcessBatched.toFixed(0)} texts/s batched (32), single p50 ${inProcess.singleP50Ms.toFixed(2)} ms, p99 ${inProcess.singleP99Ms.toFixed(2)} ms; ${tokensPerText.toFixed(1)} tokens/text`);

// ---- the server ----
const server = spawn(process.execPath, [path.join(root, 'dist', 'cli.js'), 'serve', '--model', model, '--port', '0', '--max-concurrent-requests', '4096', '--auto-truncate', ...(MALLOC !== undefined ? ['--malloc', MALLOC] : [])], { env, stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
server.stderr.on('data', (d) => (stderr += d.toString()));
const address = await new Promise((resolve, reject) => {
  const t = setInterval(() => {
    const m = /serving .* at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
    if (m) {
      clearInterval(t);
      resolve(m[1]);
    }
  }, 20);
  server.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
});
const rss = [];
let scenario = 'idle';
const started = performance.now();
const sampler = setInterval(() => {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1]);
    rss.push({ t: (performance.now() - started) / 1000, scenario, mb: kb / 1024 });
  } catch {
    /* the server is gone */
  }
}, 250);

function load(clients, perRequest) {
  let next = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: address,
        connections: clients,
        // Single texts: --duration seconds. Batches: two requests per client, however long they take —
        // a run of 256 texts outlasts a 10-s window, which would count only the requests done inside it.
        ...(perRequest === 1 ? { duration: DURATION } : { amount: clients * 2, timeout: 900 }),
        requests: [
          {
            method: 'POST',
            path: '/embed',
            headers: { 'content-type': 'application/json' },
            setupRequest: (req) => {
              const batch = Array.from({ length: perRequest }, () => texts[next++ % texts.length]);
              return { ...req, body: JSON.stringify({ inputs: batch }) };
            },
          },
        ],
      },
      (err, r) => (err ? reject(err) : resolve(r)),
    );
  });
}

const results = [];
await load(4, 8); // warm the server
for (const perRequest of [1, 32]) {
  for (const clients of CLIENTS) {
    scenario = `${clients}x${perRequest}`;
    const r = await load(clients, perRequest);
    const ok = r['2xx'];
    const textsPerSecond = (ok * perRequest) / r.duration;
    const row = {
      scenario,
      clients,
      perRequest,
      requests: r.requests.total,
      ok,
      errors: r.errors + r.non2xx + r.timeouts,
      textsPerSecond,
      tokensPerSecond: textsPerSecond * tokensPerText,
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      maxRssMB: Math.max(...rss.filter((s) => s.scenario === scenario).map((s) => s.mb)),
      vsInProcessBatched: textsPerSecond / inProcessBatched,
    };
    results.push(row);
    console.log(`${scenario}: ${textsPerSecond.toFixed(0)} texts/s (${(row.vsInProcessBatched * 100).toFixed(0)}% of in-process batched), p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, errors ${row.errors}, RSS ≤ ${row.maxRssMB.toFixed(0)} MB`);
  }
}
// The bar, interleaved: each round measures in process, then the server, one after the other.
const barClients = Math.max(...CLIENTS);
const rounds = [];
for (let round = 0; round < ROUNDS; round++) {
  const inProc = await inProcessRate(texts.filter((_, i) => i % 4 === round % 4));
  scenario = `bar-${round + 1}`;
  const r = await load(barClients, 1);
  const served = r['2xx'] / r.duration;
  rounds.push({ inProcessBatched: inProc, served, ratio: served / inProc, errors: r.errors + r.non2xx + r.timeouts });
  console.log(`bar round ${round + 1}: in process ${inProc.toFixed(1)} texts/s, ${barClients} × 1 served ${served.toFixed(1)} texts/s: ${((served / inProc) * 100).toFixed(0)}%, errors ${rounds.at(-1).errors}`);
}
st.dispose();
clearInterval(sampler);
server.kill('SIGTERM');
await new Promise((r) => server.on('exit', r));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ratios = rounds.map((r) => r.ratio);
const barErrors = rounds.reduce((n, r) => n + r.errors, 0);
const summary = {
  texts: texts.length,
  durationPerScenario: DURATION,
  tokensPerText,
  inProcess,
  results,
  rss: { maxMB: Math.max(...rss.map((s) => s.mb)), samples: rss },
  bar: rounds.length > 0 ? { scenario: `${barClients}x1`, rounds, medianRatio: median(ratios), minRatio: Math.min(...ratios), maxRatio: Math.max(...ratios), errors: barErrors, met: median(ratios) >= 0.7 && barErrors === 0 } : undefined,
  malloc: MALLOC ?? 'server default (tuned)',
  cpus: os.cpus().length,
  node: process.version,
};
const b = summary.bar;
if (b) console.log(`bar (${b.scenario}: ≥ 70% of in-process batched, no errors; median of ${rounds.length} interleaved rounds): ${b.met ? 'met' : 'NOT met'} (${(b.medianRatio * 100).toFixed(0)}%, range ${(b.minRatio * 100).toFixed(0)}–${(b.maxRatio * 100).toFixed(0)}%, errors ${b.errors})`);
console.log(`server RSS max ${summary.rss.maxMB.toFixed(0)} MB`);
const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 13);
const file = path.join(root, 'bench', 'results', `serve-${MALLOC !== undefined ? `malloc-${MALLOC}-` : ''}${stamp}.json`);
fs.writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
console.log(`wrote ${path.relative(root, file)}`);
