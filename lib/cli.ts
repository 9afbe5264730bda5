#!/usr/bin/env node
// embedrt command line: a thin shell over the library.
import fs from 'node:fs';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { EmbedrtError } from './errors.js';
import { runtimeInfo } from './runtime.js';
import { evaluateIR } from './evaluate.js';
import { qaDataset, readQaRows } from './irdata.js';
import { SentenceTransformer, type Device } from './model.js';
import { Tokenizer } from './tokenizer.js';

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
  eval       Information-retrieval evaluation per Matryoshka dimension (the model card's tables)
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
  --model <dir|id>       model folder, or a hub id already in the Hugging Face cache
  --dim <D>              Matryoshka: keep the first D dimensions
  --normalize            L2-normalize the (truncated) embeddings
  --prompt-name <name>   a prompt from config_sentence_transformers.json
  --batch-size <B>       texts per inference run (default 32)
  --device <d>           cpu | cuda | tensorrt | auto (default cpu)
  --format <f>           jsonl (default) | npy
  --out <file>           write there instead of stdout
  --jsonl                read JSON strings instead of plain lines
  --progress             print progress on stderr`;

const EVAL_HELP = `Usage: embedrt eval --model <dir|hub-id> --data <file.csv|file.jsonl> [options]

Applies the recipe of ../shared/data/README.md: the corpus is every row's context (keyed by row id), the
queries are the questions of the split (test: rows with index % 10 == 9), and each query's one relevant
document is its own row's context. Prints one markdown table per dimension, as the model card does.

Options:
  --split <s>        test (default) | train | all
  --dims <list>      comma-separated Matryoshka dimensions (default 768,512,256,128,64 up to the model's)
  --batch-size <B>   texts per inference run (default 32)
  --device <d>       cpu | cuda | tensorrt | auto (default cpu)
  --json             print the metrics as JSON instead
  --no-progress      no progress bar on stderr`;

class UsageError extends Error {}

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
  const model = await SentenceTransformer.load(values.model, { device: values.device as Device });
  const bar = !values['no-progress'];
  const started = Date.now();
  const results = await evaluateIR(data, model, {
    ...(dims ? { dims } : {}),
    scoreFunctions: ['cosine'],
    ...(batchSize ? { batchSize } : {}),
    ...(bar
      ? {
          onProgress: (done: number, total: number) => {
            const w = 30;
            const f = Math.round((done / total) * w);
            process.stderr.write(`\r[${'#'.repeat(f)}${'.'.repeat(w - f)}] ${done}/${total} texts embedded`);
          },
        }
      : {}),
  });
  if (bar) process.stderr.write(`\n`);
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
  const texts: string[] = [];
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const batch of batches(rl, values.jsonl, 1 << 30)) texts.push(...batch);
  const model = await SentenceTransformer.load(values.model, { device: values.device as Device, ...(dim ? { truncateDim: dim } : {}) });
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
  if (values.out) fs.writeFileSync(values.out, bytes);
  else await new Promise<void>((resolve, reject) => process.stdout.write(bytes, (e) => (e ? reject(e) : resolve())));
}

async function* batches(lines: AsyncIterable<string>, json: boolean, size: number): AsyncGenerator<string[]> {
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
    case 'info':
      process.stdout.write(`${JSON.stringify(runtimeInfo(), null, 2)}\n`);
      return 0;
    default:
      throw new UsageError(`unknown command '${command}'\n\n${HELP}`);
  }
}

const isMain = process.argv[1] !== undefined && fs.realpathSync(process.argv[1]) === fs.realpathSync(new URL(import.meta.url));
if (isMain) main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
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
