// embedrt encode: a corpus of any size, from stdin or a file, to embeddings written as they are made
// (JSON lines, .npy, raw float32), resumable and shardable.
import fs from 'node:fs';
import { EmbedrtError } from '../errors.js';
import { SentenceTransformer, type Device } from '../model.js';
import { type Command, StopWithCode, UsageError, hubForCli, outputFile, quantizeFlag, positiveInt, parseFlags, progressBar } from './common.js';
import { readRecords, type ByteCounter, type InputFormat } from './input.js';
import { openSink, type OutputFormat } from './output.js';

const ENCODE_HELP = `Usage: embedrt encode --model <dir|hub-id> [--input FILE] [--out FILE] [options]

Embeds a corpus as it reads it and writes the embeddings as it goes, in input order: memory stays flat
whatever the corpus size. Input: stdin or --input FILE — plain lines (one text per line), JSON lines
(JSON strings, or objects with a text field and an optional id field) or CSV with a header. Output:
stdout or --out FILE — JSON lines (one array per text; objects with "index", "id" and "embedding"
when ids or --shard are given), a float32 .npy matrix [texts, dim], or raw float32 rows with a
<out>.json sidecar. A file is written as <out>.partial and renamed when complete.

Model:
  --model <dir|id>       model folder, or a hub id (downloaded into the Hugging Face cache if missing)
  --dim <D>              Matryoshka: keep the first D dimensions
  --normalize            L2-normalize the (truncated) embeddings
  --prompt-name <name>   a prompt from config_sentence_transformers.json
  --batch-size <B>       texts per inference run (default 32)
  --device <d>           cpu | cuda | tensorrt | auto (default cpu)
  --quantize <q>         int8 | int8-fast | fp16 | bf16: that graph, built from model.safetensors
Input:
  --input <file>         read this file instead of stdin
  --input-format <f>     lines | jsonl | csv (default: from the --input extension, .jsonl/.ndjson/.csv;
                         else lines)
  --jsonl                same as --input-format jsonl
  --text-field <name>    JSON lines: the objects' text field (default text)
  --id-field <name>      JSON lines: the objects' id field, written beside each embedding
  --text-column <name>   CSV: the text column (default text)
  --id-column <name>     CSV: the id column, written beside each embedding
  --shard <i/N>          embed only records i, i+N, i+2N, … (0 ≤ i < N): one of N machines' share
Output:
  --out <file>           write there instead of stdout
  --format <f>           jsonl | npy | raw | parquet (default: from the --out extension, .npy, .f32 or
                         .parquet; else jsonl); all but jsonl need --out; npy and raw with ids or
                         --shard also write <out>.ids.jsonl; parquet has index and id columns then
  --resume               continue <out>.partial from its last whole row (same flags as the first run;
                         not parquet, whose footer only the end writes)
  --chunk-size <n>       texts embedded and written at a time (default 1024)
  --progress             progress on stderr also when it is not a terminal (plain lines every 10 s)
  --no-progress          no progress, even on a terminal

Ctrl-C stops after the chunk being written: <out>.partial then holds whole rows, and --resume continues
it (a Parquet .partial is closed as a readable file instead). A reader that goes away (| head) ends the command quietly.`;

function shardFlag(v: string | undefined): { index: number; count: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(v);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index >= count || !Number.isSafeInteger(count)) {
    throw new UsageError(`encode: --shard must be i/N with 0 ≤ i < N (e.g. 0/4 for the first of four), got ${v}`);
  }
  return { index, count };
}

function inputFormatOf(flag: string | undefined, jsonl: boolean, file: string | undefined): InputFormat {
  if (jsonl && flag !== undefined && flag !== 'jsonl') throw new UsageError(`encode: --jsonl and --input-format ${flag} disagree`);
  const f = jsonl ? 'jsonl' : (flag ?? (file && /\.(jsonl|ndjson)$/i.test(file) ? 'jsonl' : file && /\.csv$/i.test(file) ? 'csv' : 'lines'));
  if (f !== 'lines' && f !== 'jsonl' && f !== 'csv') throw new UsageError(`encode: --input-format must be lines, jsonl or csv, got ${f}`);
  return f;
}

function outputFormatOf(flag: string | undefined, out: string | undefined): OutputFormat {
  const f = flag ?? (out && /\.npy$/i.test(out) ? 'npy' : out && /\.(f32|raw)$/i.test(out) ? 'raw' : out && /\.parquet$/i.test(out) ? 'parquet' : 'jsonl');
  if (f !== 'jsonl' && f !== 'npy' && f !== 'raw' && f !== 'parquet') throw new UsageError(`encode: --format must be jsonl, npy, raw or parquet, got ${f}`);
  if (f !== 'jsonl' && out === undefined) throw new UsageError(`encode: --format ${f} is written to a file; give --out FILE`);
  return f;
}

async function encode(argv: string[]): Promise<void> {
  const { values } = parseFlags('encode', {
    args: argv,
    options: {
      model: { type: 'string' },
      dim: { type: 'string' },
      normalize: { type: 'boolean', default: false },
      'prompt-name': { type: 'string' },
      'batch-size': { type: 'string' },
      device: { type: 'string', default: 'cpu' },
      quantize: { type: 'string' },
      input: { type: 'string' },
      'input-format': { type: 'string' },
      jsonl: { type: 'boolean', default: false },
      'text-field': { type: 'string', default: 'text' },
      'id-field': { type: 'string' },
      'text-column': { type: 'string', default: 'text' },
      'id-column': { type: 'string' },
      shard: { type: 'string' },
      out: { type: 'string' },
      format: { type: 'string' },
      resume: { type: 'boolean', default: false },
      'chunk-size': { type: 'string' },
      progress: { type: 'boolean', default: false },
      'no-progress': { type: 'boolean', default: false },
    },
  });
  if (!values.model) throw new UsageError('encode: --model <dir|hub-id> is required');
  const inputFormat = inputFormatOf(values['input-format'], values.jsonl, values.input);
  if (inputFormat !== 'jsonl' && (values['id-field'] !== undefined || values['text-field'] !== 'text')) throw new UsageError('encode: --text-field and --id-field are for JSON lines input');
  if (inputFormat !== 'csv' && (values['id-column'] !== undefined || values['text-column'] !== 'text')) throw new UsageError('encode: --text-column and --id-column are for CSV input');
  const format = outputFormatOf(values.format, values.out);
  if (values.resume && values.out === undefined) throw new UsageError('encode: --resume continues an --out FILE; stdout cannot be resumed');
  if (values.resume && format === 'parquet') {
    throw new UsageError('encode: --resume does not work with --format parquet: a Parquet file is readable only once its footer is written at the end; use --format jsonl, npy or raw for a resumable job');
  }
  const shard = shardFlag(values.shard);
  const dim = positiveInt(values.dim, '--dim');
  const batchSize = positiveInt(values['batch-size'], '--batch-size');
  const chunkSize = positiveInt(values['chunk-size'], '--chunk-size') ?? 1024;
  const idField = values['id-field'] ?? values['id-column'];
  const withIds = idField !== undefined || shard !== undefined;
  const out = values.out === undefined ? undefined : outputFile(values.out, '--out');
  if (out !== undefined && values.resume && fs.existsSync(out) && !fs.existsSync(`${out}.partial`)) {
    process.stderr.write(`embedrt: ${values.out} is already complete; nothing to resume\n`);
    return;
  }
  let inputSize: number | undefined;
  if (values.input !== undefined) {
    try {
      const st = fs.statSync(values.input);
      if (st.isDirectory()) throw new EmbedrtError('E_BAD_INPUT', `--input ${values.input}: is a folder, not a file`);
      inputSize = st.isFile() ? st.size : undefined;
    } catch (e) {
      if (e instanceof EmbedrtError) throw e;
      throw new EmbedrtError('E_BAD_INPUT', `--input ${values.input}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
    }
  }

  const cli = hubForCli();
  const quantize = quantizeFlag(values.quantize);
  const model = await SentenceTransformer.load(values.model, { device: values.device as Device, hub: cli.hub, ...(dim ? { truncateDim: dim } : {}), ...(quantize ? { quantize } : {}) });
  cli.done();
  const sink = await openSink({ format, file: out, dim: model.dimension, withIds, resume: values.resume });
  const skip = sink.rows;
  const input = values.input === undefined ? process.stdin : fs.createReadStream(values.input);
  const inputName = values.input ?? 'stdin';
  const counter: ByteCounter = { bytes: 0 };
  const records = readRecords(input, inputName, { format: inputFormat, textField: values['text-field'], idField, textColumn: values['text-column'] }, counter);
  // Each record's input position and id, in the order encodeStream returns them.
  const pending: { index: number; id: string | number | undefined }[] = [];
  async function* selected() {
    let index = -1;
    let taken = 0;
    for await (const r of records) {
      index++;
      if (shard !== undefined && index % shard.count !== shard.index) continue;
      if (taken++ < skip) continue; // already in the resumed output
      pending.push({ index, id: r.id });
      yield r.text;
    }
  }
  const showProgress = !values['no-progress'] && (values.progress || process.stderr.isTTY === true);
  const bar = showProgress ? progressBar('embedding', undefined, { rateUnit: 'texts' }) : undefined;
  const stop = new AbortController();
  const onSigint = () => {
    if (stop.signal.aborted) process.exit(130); // a second Ctrl-C: at once
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  let truncated = 0;
  let written = 0;
  try {
    for await (const chunk of model.encodeStream(selected(), {
      chunkSize,
      normalize: values.normalize,
      signal: stop.signal,
      ...(batchSize ? { batchSize } : {}),
      ...(values['prompt-name'] ? { promptName: values['prompt-name'] } : {}),
    })) {
      const e = chunk.embeddings;
      const meta = pending.splice(0, e.rows);
      await sink.write({ indices: meta.map((m) => m.index), ids: meta.map((m) => m.id), data: e.data, rows: e.rows });
      truncated += e.truncated.length;
      written += e.rows;
      bar?.update(skip + written, undefined, inputSize ? Math.min(1, counter.bytes / inputSize) : undefined);
    }
    await sink.finish();
    bar?.finish();
  } catch (e) {
    bar?.finish();
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return; // the reader went away: a quiet end
    const where = await sink.stop().catch(() => 'the partial output could not be closed');
    if (stop.signal.aborted && (e as { code?: unknown }).code === 'E_ABORTED') {
      throw new StopWithCode(`interrupted after ${written} new row${written === 1 ? '' : 's'}; ${where}`, 130);
    }
    // The error and what the output holds, in one line.
    if (out !== undefined && e instanceof EmbedrtError) throw new EmbedrtError(e.code, `${e.message}; ${where}`, { cause: e });
    throw e;
  } finally {
    process.removeListener('SIGINT', onSigint);
    model.dispose();
  }
  if (truncated) process.stderr.write(`embedrt: ${truncated} text(s) were longer than ${model.maxSeqLength} tokens and were truncated\n`);
}

export const encodeCommand: Command = {
  name: 'encode',
  summary: 'Embed a corpus (stdin or a file; lines, JSON lines or CSV) as it streams, resumable and shardable',
  help: ENCODE_HELP,
  run: encode,
};
