// embedrt tokenize: texts from stdin to token ids.
import readline from 'node:readline';
import { Tokenizer } from '../tokenizer.js';
import { type Command, UsageError, batches, parseFlags } from './common.js';

const TOKENIZE_HELP = `Usage: embedrt tokenize --model <dir> [--max-length N] [--no-special-tokens] [--lines]

Reads one JSON string per line from stdin (with --lines: one plain-text line per line) and writes one
JSON array of token ids per line to stdout, in input order.

Options:
  --model <dir>          model folder with tokenizer.json (or vocab.txt + tokenizer_config.json)
  --max-length <N>       truncate to N tokens, special tokens included
  --no-special-tokens    do not add [CLS] / [SEP]
  --lines                read plain text lines instead of JSON strings
  --batch-size <N>       texts per native batch (default 4096)`;

async function tokenize(argv: string[]): Promise<void> {
  const { values } = parseFlags('tokenize', {
    args: argv,
    options: {
      model: { type: 'string' },
      'max-length': { type: 'string' },
      'no-special-tokens': { type: 'boolean', default: false },
      lines: { type: 'boolean', default: false },
      'batch-size': { type: 'string', default: '4096' },
    },
  });
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
  for await (const batch of batches(rl, values.lines ? undefined : { source: 'stdin', plainHint: 'use --lines for plain text' }, batchSize)) {
    const enc = await tok.encodeBatch(batch, {
      addSpecialTokens: !values['no-special-tokens'],
      ...(maxLength !== undefined ? { maxLength } : {}),
    });
    let out = '';
    for (let i = 0; i < enc.rows; i++) out += `[${enc.row(i).ids.join(',')}]\n`;
    if (!process.stdout.write(out)) await new Promise((r) => process.stdout.once('drain', r));
  }
}

export const tokenizeCommand: Command = {
  name: 'tokenize',
  summary: 'Tokenize text from stdin, one JSON array of ids per line',
  help: TOKENIZE_HELP,
  run: tokenize,
};
