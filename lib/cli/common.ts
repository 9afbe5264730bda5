// What the commands share: usage errors, progress bars, flag parsing, line batching.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { EmbedrtError } from '../errors.js';
import type { HubOptions } from '../hub.js';
import type { Quantization } from '../onnx/bert.js';
import { didYouMean } from '../validate.js';

/** One subcommand: its name, its line in `embedrt --help`, its own --help text, and what it runs. */
export interface Command {
  name: string;
  summary: string;
  help: string;
  run(argv: string[]): Promise<void>;
}

/** A mistake in the command line: exit code 2, the message (with the usage where it helps). */
export class UsageError extends Error {}

/**
 * node:util's parseArgs, strict, for `command`: an unknown flag is a usage error with a did-you-mean
 * (`--normalise` → `--normalize`, `--truncate_dim` → `--dim` is too far, so the list is printed).
 */
export function parseFlags<T extends Omit<ParseArgsConfig, 'strict'>>(command: string, config: T): ReturnType<typeof parseArgs<T & { strict: true }>> {
  try {
    return parseArgs({ ...config, strict: true });
  } catch (e) {
    const flag = (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'(-[^']*)'/.exec((e as Error).message)?.[1] : undefined;
    if (flag === undefined) throw e;
    const known = Object.keys(config.options ?? {});
    const guess = didYouMean(flag.replace(/^-+/, '').split('=')[0]!, known);
    throw new UsageError(`${command}: unknown option ${flag}${guess ? ` (did you mean --${guess}?)` : ''}; see embedrt ${command} --help`);
  }
}

/** A progress bar on stderr, redrawn at most every 100 ms; finish() ends its line. */
export function progressBar(label: string, unit: (n: number) => string = String): { update: (done: number, total: number) => void; finish: () => void } {
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

export const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Hub options for commands that load a model: a download progress bar when stderr is a terminal. */
export function hubForCli(): { hub: Omit<HubOptions, 'revision'>; done: () => void } {
  if (!process.stderr.isTTY) return { hub: {}, done: () => {} };
  const bar = progressBar('downloading', mb);
  return { hub: { onProgress: (d, t) => bar.update(d, t) }, done: () => bar.finish() };
}

export function quantizeFlag(v: string | undefined): Quantization | undefined {
  if (v === undefined) return undefined;
  if (v !== 'int8' && v !== 'int8-fast') throw new UsageError(`--quantize must be int8 or int8-fast, got ${v}`);
  return v;
}

export function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got ${value}`);
  return n;
}

export async function* batches(lines: AsyncIterable<string> | Iterable<string>, json: boolean, size: number): AsyncGenerator<string[]> {
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
