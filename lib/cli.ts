#!/usr/bin/env node
// embedrt command line: a thin shell over the library.
import fs from 'node:fs';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { EmbedrtError } from './errors.js';
import { runtimeInfo } from './runtime.js';
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { evaluateIR } from './evaluate.js';
import { downloadModel, type HubOptions } from './hub.js';
import { convertCheckpoint, locateModel, onnxGraphFor } from './model.js';
import type { Quantization } from './onnx/bert.js';
import { semanticSearch } from './search.js';
import { qaDataset, readQaRows } from './irdata.js';
import { SentenceTransformer, type Device } from './model.js';
import { Tokenizer } from './tokenizer.js';
import { writeAllSync } from './files.js';

const VERSION = runtimeInfoSafe();

function runtimeInfoSafe(): string {
  try {
    return JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version as string;
  } catch {
    return 'unknown';
  }
}

const HELP = `embedrt ${VERSION} — sentence-transformer embeddings for Node.js

Usage: embedrt <command> [options]

Commands:
  encode     Embed texts from stdin (one per line) with a sentence-transformers model
  search     Embed a corpus once (cached) and rank it for each query
  eval       Information-retrieval evaluation per Matryoshka dimension (the model card's tables)
  convert    Build the ONNX graph of a safetensors checkpoint into a folder
  download   Download a model from the Hugging Face Hub into its cache (shared with Python tools)
  bench      Measure load time, throughput, single-text latency and memory of a model here
  tokenize   Tokenize text from stdin, one JSON array of ids per line
  info       Print the runtime: ONNX Runtime version, execution providers, SIMD level

Run 'embedrt <command> --help' for a command's options.
Options: --help, --version`;

const TOKENIZE_HELP = `Usage: embedrt tokenize --model <dir> [--max-length N] [--no-special-tokens] [--lines]

Reads one JSON string per line from stdin (with --lines: one plain-text line per line) and writes one
JSON array of token ids per line to stdout, in input order.

Options:
  --model <dir>          model folder with tokenizer.json (or vocab.txt + tokenizer_config.json)
  --max-length <N>       truncate to N tokens, special tokens included
  --no-special-tokens    do not add [CLS] / [SEP]
  --lines                read plain text lines instead of JSON strings
  --batch-size <N>       texts per native batch (default 4096)`;

const ENCODE_HELP = `Usage: embedrt encode --model <dir|hub-id> [options] < texts.txt

Embeds one text per stdin line (with --jsonl: one JSON string per line) and writes the embeddings, in
input order, as JSON lines (one array per text) or as a float32 .npy matrix [texts, dim].

Options:
  --model <dir|id>       model folder, or a hub id (downloaded into the Hugging Face cache if missing)
  --dim <D>              Matryoshka: keep the first D dimensions
  --normalize            L2-normalize the (truncated) embeddings
  --prompt-name <name>   a prompt from config_sentence_transformers.json
  --batch-size <B>       texts per inference run (default 32)
  --device <d>           cpu | cuda | tensorrt | auto (default cpu)
  --quantize <q>         int8 | int8-fast: the 8-bit graph built from model.safetensors
  --format <f>           jsonl (default) | npy
  --out <file>           write there instead of stdout
  --jsonl                read JSON strings instead of plain lines
  --progress             print progress on stderr`;

const EVAL_HELP = `Usage: embedrt eval --model <dir|hub-id> --data <file.csv|file.jsonl> [options]

Applies the financial QA evaluation recipe: the corpus is every row's context (keyed by row id), the
queries are the questions of the split (test: rows with index % 10 == 9), and each query's one relevant
document is its own row's context. Prints one markdown table per dimension, as the model card does.

Options:
  --split <s>        test (default) | train | all
  --dims <list>      comma-separated Matryoshka dimensions (default 768,512,256,128,64 up to the model's)
  --batch-size <B>   texts per inference run (default 32)
  --device <d>       cpu | cuda | tensorrt | auto (default cpu)
  --quantize <q>     int8 | int8-fast: the 8-bit graph built from model.safetensors
  --json             print the metrics as JSON instead
  --no-progress      no progress bar on stderr`;

const SEARCH_HELP = `Usage: embedrt search --model <dir|hub-id> --corpus <file> [--query TEXT ...] [options]

Embeds the corpus (one passage per non-empty line; .jsonl: one JSON string per line) once — the embeddings are
cached under $EMBEDRT_CACHE (or ~/.cache/embedrt)/search, keyed by model, dimension and corpus content —
then ranks it for each query (--query, repeatable, else one query per stdin line).

Options:
  --top-k <K>        hits per query (default 5)
  --dim <D>          Matryoshka dimension
  --format <f>       text (default) | jsonl
  --device <d>       cpu | cuda | tensorrt | auto (default cpu)
  --quantize <q>     int8 | int8-fast: the 8-bit graph built from model.safetensors`;

const CONVERT_HELP = `Usage: embedrt convert --model <dir|hub-id> --out <dir> [--inline]

Builds the ONNX graph (opset 17; inputs input_ids, attention_mask, token_type_ids; output
last_hidden_state) of a BERT model.safetensors checkpoint into <dir>/model.onnx, weights in
<dir>/model.onnx.data (--inline: inside model.onnx).

  --quantize int8        8-bit weights: int8 dynamic quantization (DynamicQuantizeMatMul) for the attention
                         projections, 8-bit blockwise (MatMulNBits) for the feed-forward layers
  --quantize int8-fast   int8 dynamic quantization everywhere: faster, less faithful`;

const DOWNLOAD_HELP = `Usage: embedrt download <repo-id> [--revision R] [options]

Downloads the files embedrt needs of a Hugging Face Hub model (configs, tokenizer, model.safetensors —
or onnx/model.onnx when the repo has no safetensors) into the hub cache that Python tools share, and
prints the snapshot folder. Files are checked (size, sha256 / git blob sha1), written to a temporary
name and renamed; an interrupted download resumes where it stopped.

Options:
  --revision <R>     branch, tag or commit (default main)
  --all              every file of the repo
  --cache-dir <dir>  the hub cache (default $HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub)
  --endpoint <url>   the hub (default $HF_ENDPOINT or https://huggingface.co)
  --no-progress      no progress bar on stderr

Environment: HF_TOKEN (gated and private repos), HF_ENDPOINT, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE=1
(no network: print the cached snapshot or fail).`;

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
  --quantize <q>     int8 | int8-fast: run the 8-bit graph built from model.safetensors
  --device <d>       cpu | cuda | tensorrt | auto (default cpu)
  --json             one JSON object instead of the table`;

class UsageError extends Error {}

/** A progress bar on stderr, redrawn at most every 100 ms; finish() ends its line. */
function progressBar(label: string, unit: (n: number) => string = String): { update: (done: number, total: number) => void; finish: () => void } {
  let last = 0;
  let drawn = false;
  const draw = (done: number, total: number) => {
    const w = 30;
    const f = total > 0 ? Math.min(w, Math.round((done / total) * w)) : 0;
    process.stderr.write(`\r${label} [${'#'.repeat(f)}${'.'.repeat(w - f)}] ${unit(done)}/${unit(total)}`);
    drawn = true;
  };
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      draw(done, total);
    },
    finish() {
      if (drawn) process.stderr.write('\n');
    },
  };
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Hub options for commands that load a model: a download progress bar when stderr is a terminal. */
function hubForCli(): { hub: Omit<HubOptions, 'revision'>; done: () => void } {
  if (!process.stderr.isTTY) return { hub: {}, done: () => {} };
  const bar = progressBar('downloading', mb);
  return { hub: { onProgress: (d, t) => bar.update(d, t) }, done: () => bar.finish() };
}

async function download(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      revision: { type: 'string', default: 'main' },
      all: { type: 'boolean', default: false },
      'cache-dir': { type: 'string' },
      endpoint: { type: 'string' },
      'no-progress': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${DOWNLOAD_HELP}\n`);
    return;
  }
  if (positionals.length !== 1) throw new UsageError(`download: expected one repo id (org/name), got ${positionals.length}\n\n${DOWNLOAD_HELP}`);
  const bar = values['no-progress'] ? undefined : progressBar('downloading', mb);
  try {
    const r = await downloadModel(positionals[0]!, {
      revision: values.revision,
      allFiles: values.all,
      ...(values['cache-dir'] ? { cacheDir: values['cache-dir'] } : {}),
      ...(values.endpoint ? { endpoint: values.endpoint } : {}),
      ...(bar ? { onProgress: (d: number, t: number) => bar.update(d, t) } : {}),
    });
    bar?.finish();
    process.stderr.write(`embedrt: ${positionals[0]}@${r.commit}: ${r.files.length} files, ${mb(r.downloadedBytes)} downloaded\n`);
    process.stdout.write(`${r.dir}\n`);
  } catch (e) {
    bar?.finish();
    throw e;
  }
}

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
  const { values } = parseArgs({
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
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${BENCH_HELP}\n`);
    return;
  }
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

async function search(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      corpus: { type: 'string' },
      query: { type: 'string', multiple: true },
      'top-k': { type: 'string', default: '5' },
      dim: { type: 'string' },
      format: { type: 'string', default: 'text' },
      device: { type: 'string', default: 'cpu' },
      quantize: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${SEARCH_HELP}\n`);
    return;
  }
  if (!values.model) throw new UsageError('search: --model <dir|hub-id> is required');
  if (!values.corpus) throw new UsageError('search: --corpus <file> is required');
  if (values.format !== 'text' && values.format !== 'jsonl') throw new UsageError(`search: --format must be text or jsonl, got ${values.format}`);
  const topK = positiveInt(values['top-k'], '--top-k')!;
  const dim = positiveInt(values.dim, '--dim');
  let raw: string;
  try {
    raw = fs.readFileSync(values.corpus, 'utf8');
  } catch (e) {
    throw new EmbedrtError('E_BAD_INPUT', `${values.corpus}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  const corpus: string[] = [];
  for await (const b of batches(raw.split(/\r?\n/), values.corpus.endsWith('.jsonl'), 4096)) for (const t of b) if (t.trim() !== '') corpus.push(t);
  if (corpus.length === 0) throw new EmbedrtError('E_BAD_INPUT', `${values.corpus}: no passages`);
  let queries = values.query ?? [];
  if (queries.length === 0) {
    const qrl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of qrl) if (line.trim()) queries.push(line);
  }
  if (queries.length === 0) throw new UsageError('search: no queries (give --query or lines on stdin)');
  const cli = hubForCli();
  const quantize = quantizeFlag(values.quantize);
  const model = await SentenceTransformer.load(values.model, { device: values.device as Device, hub: cli.hub, ...(dim ? { truncateDim: dim } : {}), ...(quantize ? { quantize } : {}) });
  cli.done();
  const key = crypto.createHash('sha256').update(`${model.info().graph}|${model.dimension}|${raw}`).digest('hex').slice(0, 32);
  const cacheFile = path.join(process.env.EMBEDRT_CACHE ?? path.join(os.homedir(), '.cache', 'embedrt'), 'search', `${key}.f32`);
  // The cached file is used only when it holds exactly corpus × dim finite floats (and its checksum
  // matches); anything else (truncated, damaged) is recomputed and replaced.
  let docs = readCachedEmbeddings(cacheFile, corpus.length * model.dimension);
  if (docs) {
    process.stderr.write(`embedrt: using cached embeddings of ${corpus.length} passages\n`);
  } else {
    docs = (await model.encode(corpus, { normalize: true })).data;
    try {
      writeCachedEmbeddings(cacheFile, docs);
    } catch (e) {
      process.stderr.write(`embedrt: could not cache the corpus embeddings (${(e as NodeJS.ErrnoException).code ?? e}); continuing\n`);
    }
  }
  queries = queries.slice();
  const q = await model.encode(queries, { normalize: true });
  const hits = await semanticSearch(q, { data: docs, rows: corpus.length, dim: model.dimension }, { topK });
  model.dispose();
  let out = '';
  hits.forEach((row, i) => {
    if (values.format === 'jsonl') {
      out += `${JSON.stringify({ query: queries[i], hits: row.map((h) => ({ passage: h.corpusId + 1, score: h.score, text: corpus[h.corpusId] })) })}\n`;
    } else {
      out += `Q: ${queries[i]}\n`;
      for (const h of row) out += `  ${h.score.toFixed(4)}  #${h.corpusId + 1}  ${corpus[h.corpusId]!.slice(0, 120)}\n`;
    }
  });
  process.stdout.write(out);
}

// Cached corpus embeddings: the float32 values, then the sha256 of those bytes (32 bytes).
function readCachedEmbeddings(file: string, values: number): Float32Array | undefined {
  let b: Buffer;
  try {
    if (!fs.statSync(file).isFile()) return undefined;
    b = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  if (b.length !== values * 4 + 32) return undefined;
  const body = b.subarray(0, values * 4);
  if (!crypto.createHash('sha256').update(body).digest().equals(b.subarray(values * 4))) return undefined;
  const docs = new Float32Array(values);
  new Uint8Array(docs.buffer).set(body);
  return docs;
}

function writeCachedEmbeddings(file: string, docs: Float32Array): void {
  const body = new Uint8Array(docs.buffer, docs.byteOffset, docs.byteLength);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, Buffer.concat([body, crypto.createHash('sha256').update(body).digest()]));
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

async function convert(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { model: { type: 'string' }, out: { type: 'string' }, inline: { type: 'boolean', default: false }, quantize: { type: 'string' }, help: { type: 'boolean', default: false } },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${CONVERT_HELP}\n`);
    return;
  }
  if (!values.model) throw new UsageError('convert: --model <dir|hub-id> is required');
  if (!values.out) throw new UsageError('convert: --out <dir> is required');
  const quantize = quantizeFlag(values.quantize);
  const dir = await locateModel(values.model, {});
  if (!fs.existsSync(path.join(dir, 'model.safetensors'))) {
    // A model that ships onnx/model.onnx needs no conversion; say where it is.
    const graph = onnxGraphFor(dir);
    throw new EmbedrtError('E_MODEL_FILES', `${dir}: no model.safetensors to convert (the model ships ${graph})`);
  }
  if (fs.existsSync(path.join(values.out, 'model.onnx')) || (fs.existsSync(values.out) && !fs.statSync(values.out).isDirectory())) {
    throw new EmbedrtError('E_BAD_INPUT', `convert: --out ${values.out} already holds a model.onnx (or is a file); give a new folder`);
  }
  // Built beside the target and moved into it when complete: a full disk leaves nothing that looks whole.
  const tmp = `${path.resolve(values.out)}.tmp-${process.pid}`;
  try {
    convertCheckpoint(dir, tmp, { externalData: !values.inline, ...(quantize ? { quantize } : {}) });
    fs.mkdirSync(values.out, { recursive: true });
    for (const f of fs.readdirSync(tmp)) fs.renameSync(path.join(tmp, f), path.join(values.out, f));
  } catch (e) {
    if (e instanceof EmbedrtError) throw e;
    throw new EmbedrtError('E_BAD_INPUT', `convert: cannot write ${values.out} (${(e as NodeJS.ErrnoException).code ?? e}); nothing was written`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  process.stdout.write(`${path.join(values.out, 'model.onnx')}\n`);
}

async function evaluate(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      split: { type: 'string', default: 'test' },
      dims: { type: 'string' },
      'batch-size': { type: 'string' },
      device: { type: 'string', default: 'cpu' },
      json: { type: 'boolean', default: false },
      'no-progress': { type: 'boolean', default: false },
      quantize: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${EVAL_HELP}\n`);
    return;
  }
  if (!values.model) throw new UsageError('eval: --model <dir|hub-id> is required');
  if (!values.data) throw new UsageError('eval: --data <file.csv|file.jsonl> is required');
  if (!['test', 'train', 'all'].includes(values.split)) throw new UsageError(`eval: --split must be test, train or all, got ${values.split}`);
  const dims = values.dims?.split(',').map((d) => positiveInt(d.trim(), '--dims')!);
  const batchSize = positiveInt(values['batch-size'], '--batch-size');
  const data = qaDataset(readQaRows(values.data), values.split as 'test');
  for (const n of data.notes) process.stderr.write(`embedrt: ${n}\n`);
  const cli = hubForCli();
  const quantize = quantizeFlag(values.quantize);
  const model = await SentenceTransformer.load(values.model, { device: values.device as Device, hub: cli.hub, ...(quantize ? { quantize } : {}) });
  cli.done();
  const bar = values['no-progress'] ? undefined : progressBar('embedding');
  const started = Date.now();
  const results = await evaluateIR(data, model, {
    ...(dims ? { dims } : {}),
    scoreFunctions: ['cosine'],
    ...(batchSize ? { batchSize } : {}),
    ...(bar ? { onProgress: (done: number, total: number) => bar.update(done, total) } : {}),
  });
  bar?.finish();
  model.dispose();
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ model: values.model, split: values.split, queries: Object.keys(data.queries).length, corpus: Object.keys(data.corpus).length, seconds: (Date.now() - started) / 1000, results }, null, 2)}\n`);
    return;
  }
  const lines: string[] = [];
  for (const dim of Object.keys(results).map(Number).sort((a, b) => b - a)) {
    const m = results[dim]!.cosine!;
    lines.push(`#### dim_${dim}`, '', '| Metric | Value |', '| :-- | --: |');
    const row = (name: string, v: number) => lines.push(`| ${name} | ${v.toFixed(4)} |`);
    for (const [k, v] of Object.entries(m['accuracy@k'])) row(`cosine_accuracy@${k}`, v);
    for (const [k, v] of Object.entries(m['precision@k'])) row(`cosine_precision@${k}`, v);
    for (const [k, v] of Object.entries(m['recall@k'])) row(`cosine_recall@${k}`, v);
    for (const [k, v] of Object.entries(m['ndcg@k'])) row(`cosine_ndcg@${k}`, v);
    for (const [k, v] of Object.entries(m['mrr@k'])) row(`cosine_mrr@${k}`, v);
    for (const [k, v] of Object.entries(m['map@k'])) row(`cosine_map@${k}`, v);
    lines.push('');
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

function quantizeFlag(v: string | undefined): Quantization | undefined {
  if (v === undefined) return undefined;
  if (v !== 'int8' && v !== 'int8-fast') throw new UsageError(`--quantize must be int8 or int8-fast, got ${v}`);
  return v;
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got ${value}`);
  return n;
}

/** A float32 matrix in numpy's .npy format (version 1.0, C order). */
export function npyBytes(data: Float32Array, rows: number, dim: number): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${dim}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

async function encode(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      dim: { type: 'string' },
      normalize: { type: 'boolean', default: false },
      'prompt-name': { type: 'string' },
      'batch-size': { type: 'string' },
      device: { type: 'string', default: 'cpu' },
      format: { type: 'string', default: 'jsonl' },
      out: { type: 'string' },
      jsonl: { type: 'boolean', default: false },
      progress: { type: 'boolean', default: false },
      quantize: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${ENCODE_HELP}\n`);
    return;
  }
  if (!values.model) throw new UsageError('encode: --model <dir|hub-id> is required');
  if (values.format !== 'jsonl' && values.format !== 'npy') throw new UsageError(`encode: --format must be jsonl or npy, got ${values.format}`);
  if (values.format === 'npy' && !values.out && process.stdout.isTTY) throw new UsageError('encode: --format npy writes binary; give --out FILE or redirect stdout');
  const dim = positiveInt(values.dim, '--dim');
  const batchSize = positiveInt(values['batch-size'], '--batch-size');
  // The output file is opened (under a temporary name) before any work, so an unwritable --out fails
  // at once; it gets its name only when complete, so a full disk never leaves a truncated file that looks whole.
  const out = values.out === undefined ? undefined : openOutput(values.out);
  const texts: string[] = [];
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const batch of batches(rl, values.jsonl, 4096)) for (const t of batch) texts.push(t); // no push(...batch): a spread of 125k+ items overflows the stack
  const cli = hubForCli();
  const quantize = quantizeFlag(values.quantize);
  const model = await SentenceTransformer.load(values.model, { device: values.device as Device, hub: cli.hub, ...(dim ? { truncateDim: dim } : {}), ...(quantize ? { quantize } : {}) });
  cli.done();
  const emb = await model.encode(texts, {
    normalize: values.normalize,
    ...(batchSize ? { batchSize } : {}),
    ...(values['prompt-name'] ? { promptName: values['prompt-name'] } : {}),
    ...(values.progress ? { onProgress: (d: number, t: number) => process.stderr.write(`\rembedded ${d}/${t}`) } : {}),
  });
  if (values.progress) process.stderr.write('\n');
  if (emb.truncated.length) process.stderr.write(`embedrt: ${emb.truncated.length} text(s) were longer than ${model.maxSeqLength} tokens and were truncated\n`);
  model.dispose();
  let bytes: Buffer;
  if (values.format === 'npy') {
    bytes = npyBytes(emb.data, emb.rows, emb.dim);
  } else {
    const lines: string[] = [];
    for (let i = 0; i < emb.rows; i++) lines.push(`[${Array.from(emb.row(i)).join(',')}]\n`);
    bytes = Buffer.from(lines.join(''));
  }
  if (out) out.finish(bytes);
  else await new Promise<void>((resolve, reject) => process.stdout.write(bytes, (e) => (e ? reject(e) : resolve())));
}

/** An output file written under a temporary name and renamed when complete; removed on failure or exit. */
function openOutput(file: string): { finish: (bytes: Uint8Array) => void } {
  const tmp = `${file}.tmp-${process.pid}`;
  let fd: number;
  try {
    fd = fs.openSync(tmp, 'w');
  } catch (e) {
    throw new EmbedrtError('E_BAD_INPUT', `--out ${file}: cannot write there (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  const cleanup = () => fs.rmSync(tmp, { force: true });
  process.once('exit', cleanup);
  return {
    finish(bytes) {
      try {
        writeAllSync(fd, bytes);
        fs.closeSync(fd);
        fs.renameSync(tmp, file);
      } catch (e) {
        cleanup();
        throw new EmbedrtError('E_BAD_INPUT', `--out ${file}: writing failed (${(e as NodeJS.ErrnoException).code ?? e}); nothing was written`);
      } finally {
        process.removeListener('exit', cleanup);
      }
    },
  };
}

async function* batches(lines: AsyncIterable<string> | Iterable<string>, json: boolean, size: number): AsyncGenerator<string[]> {
  // Plain lines: every line is a text (an empty line is an empty text). JSON lines: blank lines skip.
  let batch: string[] = [];
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    let text = line;
    if (json) {
      if (line.trim() === '') continue;
      try {
        text = JSON.parse(line) as string;
      } catch (e) {
        throw new EmbedrtError('E_BAD_INPUT', `stdin line ${lineNo}: not valid JSON (${(e as Error).message}); use --lines for plain text`);
      }
      if (typeof text !== 'string') {
        throw new EmbedrtError('E_BAD_INPUT', `stdin line ${lineNo}: expected a JSON string, got ${typeof text}; use --lines for plain text`);
      }
    }
    batch.push(text);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

async function tokenize(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      'max-length': { type: 'string' },
      'no-special-tokens': { type: 'boolean', default: false },
      lines: { type: 'boolean', default: false },
      'batch-size': { type: 'string', default: '4096' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${TOKENIZE_HELP}\n`);
    return;
  }
  if (!values.model) throw new UsageError('tokenize: --model <dir> is required');
  const maxLength = values['max-length'] === undefined ? undefined : Number(values['max-length']);
  if (maxLength !== undefined && (!Number.isInteger(maxLength) || maxLength < 1)) {
    throw new UsageError(`tokenize: --max-length must be a positive integer, got ${values['max-length']}`);
  }
  const batchSize = Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new UsageError(`tokenize: --batch-size must be a positive integer, got ${values['batch-size']}`);
  }
  const tok = Tokenizer.fromPretrained(values.model);
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const batch of batches(rl, !values.lines, batchSize)) {
    const enc = await tok.encodeBatch(batch, {
      addSpecialTokens: !values['no-special-tokens'],
      ...(maxLength !== undefined ? { maxLength } : {}),
    });
    let out = '';
    for (let i = 0; i < enc.rows; i++) out += `[${enc.row(i).ids.join(',')}]\n`;
    if (!process.stdout.write(out)) await new Promise((r) => process.stdout.once('drain', r));
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  switch (command) {
    case 'tokenize':
      await tokenize(rest);
      return 0;
    case 'encode':
      await encode(rest);
      return 0;
    case 'eval':
      await evaluate(rest);
      return 0;
    case 'search':
      await search(rest);
      return 0;
    case 'convert':
      await convert(rest);
      return 0;
    case 'download':
      await download(rest);
      return 0;
    case 'bench':
      await bench(rest);
      return 0;
    case 'info':
      process.stdout.write(`${JSON.stringify(runtimeInfo(), null, 2)}\n`);
      return 0;
    default:
      throw new UsageError(`unknown command '${command}'\n\n${HELP}`);
  }
}

const isMain = process.argv[1] !== undefined && fs.realpathSync(process.argv[1]) === fs.realpathSync(new URL(import.meta.url));
// A reader that went away (`embedrt encode | head -1`) ends the command quietly, exit code 0.
if (isMain) {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}
if (isMain) main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError || String((err as { code?: string }).code).startsWith('ERR_PARSE_ARGS_')) {
      process.stderr.write(`embedrt: ${(err as Error).message}\n`);
      process.exitCode = 2;
    } else if (err instanceof EmbedrtError) {
      process.stderr.write(`embedrt: ${err.message} [${err.code}]\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`embedrt: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 70;
    }
  },
);
