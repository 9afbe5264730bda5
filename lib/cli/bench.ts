// embedrt bench: load time, throughput, latency and memory of a model on this machine.
import fs from 'node:fs';
import { EmbedrtError } from '../errors.js';
import { readQaRows } from '../irdata.js';
import { SentenceTransformer, type Device } from '../model.js';
import { Tokenizer } from '../tokenizer.js';
import { type Command, UsageError, hubForCli, quantizeFlag, positiveInt, parseFlags } from './common.js';

const BENCH_HELP = `Usage: embedrt bench --model <dir|hub-id> [options]

Loads the model, embeds a set of texts in batches and one at a time, and prints load time, sentences/s,
real tokens/s, padding, single-text latency (p50/p99) and peak RSS of this process.

Options:
  --data <file>      texts: a .txt file (one per line), or a .csv/.jsonl QA file (contexts and questions);
                     default: generated texts of 8-200 words from the model's vocabulary
  --texts <N>        how many texts (default 1000)
  --single <N>       texts embedded one at a time for latency (default 100)
  --batch-size <B>   texts per inference run (default 32)
  --threads <T>      ONNX Runtime intra-op threads
  --quantize <q>     int8 | int8-fast | fp16 | bf16: run that graph, built from model.safetensors
  --device <d>       cpu | cuda | tensorrt | auto (default cpu)
  --json             one JSON object instead of the table`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Deterministic texts of 8-200 words drawn from the tokenizer's whole-word vocabulary. */
function generatedTexts(tok: Tokenizer, n: number): string[] {
  const words: string[] = [];
  for (let id = 0; id < tok.vocabSize; id++) {
    const w = tok.idToToken(id);
    if (w !== undefined && /^[a-z]{2,}$/i.test(w)) words.push(w);
  }
  if (words.length === 0) throw new EmbedrtError('E_BAD_INPUT', 'bench: the vocabulary has no plain words to build texts from; pass --data');
  let x = 0x9e3779b9;
  const rnd = () => ((x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
  return Array.from({ length: n }, () => Array.from({ length: 8 + Math.floor(rnd() * rnd() * 193) }, () => words[Math.floor(rnd() * words.length)]).join(' '));
}

async function bench(argv: string[]): Promise<void> {
  const { values } = parseFlags('bench', {
    args: argv,
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      texts: { type: 'string', default: '1000' },
      single: { type: 'string', default: '100' },
      'batch-size': { type: 'string', default: '32' },
      threads: { type: 'string' },
      quantize: { type: 'string' },
      device: { type: 'string', default: 'cpu' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.model) throw new UsageError('bench: --model <dir|hub-id> is required');
  const n = positiveInt(values.texts, '--texts')!;
  const single = positiveInt(values.single, '--single')!;
  const batchSize = positiveInt(values['batch-size'], '--batch-size')!;
  const threads = positiveInt(values.threads, '--threads');
  const cli = hubForCli();
  const t0 = performance.now();
  const model = await SentenceTransformer.load(values.model, {
    device: values.device as Device,
    hub: cli.hub,
    ...(threads ? { threads } : {}),
    ...(quantizeFlag(values.quantize) ? { quantize: quantizeFlag(values.quantize)! } : {}),
  });
  const loadS = (performance.now() - t0) / 1000;
  cli.done();
  try {
    let texts: string[];
    if (values.data === undefined) texts = generatedTexts(model.tokenizer, n);
    else if (/\.(csv|jsonl)$/i.test(values.data)) {
      const rows = readQaRows(values.data);
      texts = rows.flatMap((r) => [r.context, r.question]).filter((t) => t.trim() !== '');
    } else {
      let raw: string;
      try {
        raw = fs.readFileSync(values.data, 'utf8');
      } catch (e) {
        throw new EmbedrtError('E_BAD_INPUT', `${values.data}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
      }
      texts = raw.split(/\r?\n/).filter((t) => t.trim() !== '');
    }
    if (texts.length === 0) throw new EmbedrtError('E_BAD_INPUT', `${values.data}: no texts`);
    texts = texts.slice(0, n);
    await model.encode(texts.slice(0, Math.min(8, texts.length)), { batchSize }); // warm-up
    const t1 = performance.now();
    const emb = await model.encode(texts, { batchSize });
    const batchS = (performance.now() - t1) / 1000;
    const lat: number[] = [];
    for (let i = 0; i < Math.min(single, texts.length); i++) {
      const t = performance.now();
      await model.encode([texts[i]!]);
      lat.push(performance.now() - t);
    }
    lat.sort((a, b) => a - b);
    const r = {
      model: values.model,
      device: model.info().provider,
      texts: texts.length,
      batchSize,
      loadSeconds: loadS,
      sentencesPerSecond: texts.length / batchS,
      realTokensPerSecond: emb.tokens.real / batchS,
      paddingFraction: emb.tokens.padded > 0 ? 1 - emb.tokens.real / emb.tokens.padded : 0,
      singleTextMs: { p50: percentile(lat, 50), p99: percentile(lat, 99), n: lat.length },
      peakRssMB: process.resourceUsage().maxRSS / 1024,
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      return;
    }
    const rows: [string, string][] = [
      ['model', r.model],
      ['device', r.device],
      ['load', `${r.loadSeconds.toFixed(2)} s`],
      [`throughput (${r.texts} texts, batch ${batchSize})`, `${r.sentencesPerSecond.toFixed(1)} sentences/s, ${r.realTokensPerSecond.toFixed(0)} real tokens/s`],
      ['padding', `${(r.paddingFraction * 100).toFixed(1)}% of computed tokens`],
      [`single text (${r.singleTextMs.n} texts)`, `p50 ${r.singleTextMs.p50.toFixed(1)} ms, p99 ${r.singleTextMs.p99.toFixed(1)} ms`],
      ['peak RSS', `${r.peakRssMB.toFixed(0)} MB`],
    ];
    const w = Math.max(...rows.map(([k]) => k.length));
    process.stdout.write(`${rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}\n`);
  } finally {
    model.dispose();
  }
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'Measure load time, throughput, single-text latency and memory of a model here',
  help: BENCH_HELP,
  run: bench,
};
