#!/usr/bin/env node
// embedrt command line: a thin shell over the library.
import fs from 'node:fs';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { EmbedrtError } from './errors.js';
import { runtimeInfo } from './runtime.js';
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

class UsageError extends Error {}

async function* batches(lines: AsyncIterable<string>, json: boolean, size: number): AsyncGenerator<string[]> {
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
    case 'info':
      process.stdout.write(`${JSON.stringify(runtimeInfo(), null, 2)}\n`);
      return 0;
    default:
      throw new UsageError(`unknown command '${command}'\n\n${HELP}`);
  }
}

main(process.argv.slice(2)).then(
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
