// embedrt encode: texts from stdin to embeddings (JSON lines or .npy).
import fs from 'node:fs';
import readline from 'node:readline';
import { EmbedrtError } from '../errors.js';
import { writeAllSync } from '../files.js';
import { SentenceTransformer, type Device } from '../model.js';
import { npyBytes } from './npy.js';
import { type Command, UsageError, hubForCli, quantizeFlag, positiveInt, batches, parseFlags } from './common.js';

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
      format: { type: 'string', default: 'jsonl' },
      out: { type: 'string' },
      jsonl: { type: 'boolean', default: false },
      progress: { type: 'boolean', default: false },
      quantize: { type: 'string' },
    },
  });
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

export const encodeCommand: Command = {
  name: 'encode',
  summary: 'Embed texts from stdin (one per line) with a sentence-transformers model',
  help: ENCODE_HELP,
  run: encode,
};
