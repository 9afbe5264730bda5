// What the commands share: usage errors, progress bars, flag parsing, line batching.
import fs from 'node:fs';
import path from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { EmbedrtError } from '../errors.js';
import type { HubOptions } from '../hub.js';
import { QUANTIZATIONS, type Quantization } from '../onnx/encoder.js';
import { didYouMean, ownKey } from '../validate.js';

/** One subcommand: its name, its line in `embedrt --help`, its own --help text, and what it runs. */
export interface Command {
  name: string;
  summary: string;
  help: string;
  run(argv: string[]): Promise<void>;
}

/** A mistake in the command line: exit code 2, the message (with the usage where it helps). */
export class UsageError extends Error {}

/** An end that is not a failure of embedrt (an interrupt): the message on stderr and this exit code. */
export class StopWithCode extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

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

/** Seconds as "42s", "3m05s", "2h04m". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export interface Progress {
  /** `done` of `total` (total undefined: unknown); `fraction`, when given, is the share done (bytes of a file). */
  update(done: number, total?: number, fraction?: number): void;
  /** Ends the display: the bar's line, or a last plain line. */
  finish(): void;
}

/**
 * Progress on stderr. On a terminal, a bar redrawn at most every 100 ms with the rate and the time
 * left; otherwise (a log) a plain line at most every `everyMs` (default 10 s) and one at the end, so
 * logs stay readable.
 */
export function progressBar(label: string, unit: (n: number) => string = (n) => n.toLocaleString('en'), o: { tty?: boolean; everyMs?: number; rateUnit?: string } = {}): Progress {
  const tty = o.tty ?? process.stderr.isTTY === true;
  const everyMs = o.everyMs ?? 10_000;
  const start = Date.now();
  let last = 0;
  let drawn = false;
  let latest: { done: number; total: number | undefined; fraction: number | undefined } = { done: 0, total: undefined, fraction: undefined };
  const describe = () => {
    const { done, total, fraction } = latest;
    const seconds = (Date.now() - start) / 1000;
    const share = fraction ?? (total ? done / total : undefined);
    const rate = seconds > 0 ? done / seconds : 0;
    const parts = [`${unit(done)}${total !== undefined ? `/${unit(total)}` : ''}${o.rateUnit ? ` ${o.rateUnit}` : ''}`];
    if (seconds >= 1) parts.push(`${unit(Math.round(rate))}/s`);
    if (share !== undefined && share > 0 && share < 1 && seconds >= 1) parts.push(`ETA ${duration((seconds * (1 - share)) / share)}`);
    return { share, text: parts.join(' · ') };
  };
  const draw = () => {
    const { share, text } = describe();
    if (tty) {
      const w = 24;
      const f = share !== undefined ? Math.min(w, Math.round(share * w)) : 0;
      const pct = share !== undefined ? ` ${Math.floor(share * 100)}%` : '';
      process.stderr.write(`\r\x1b[K${label} [${'#'.repeat(f)}${'.'.repeat(w - f)}]${pct} ${text}`);
    } else {
      process.stderr.write(`${label}: ${share !== undefined ? `${Math.floor(share * 100)}%, ` : ''}${text}\n`);
    }
    drawn = true;
  };
  return {
    update(done, total, fraction) {
      latest = { done, total, fraction };
      const now = Date.now();
      if (now - last < (tty ? 100 : everyMs) && !(tty && total !== undefined && done >= total)) return;
      if (!tty && last === 0) {
        last = now; // the first plain line after everyMs, not at once
        return;
      }
      last = now;
      draw();
    },
    finish() {
      if (tty && drawn) {
        draw();
        process.stderr.write('\n');
      } else if (!tty && latest.done > 0) {
        draw();
      }
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
  if (!ownKey(QUANTIZATIONS, v)) throw new UsageError(`--quantize must be int8, int8-fast, fp16 or bf16, got ${v}`);
  return v as Quantization;
}

export function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got ${value}`);
  return n;
}

/**
 * Texts in batches: plain lines, or JSON strings one per line (`json` gives the source's name and the
 * hint printed with a line that is not one, naming how this command reads plain text).
 */
export async function* batches(lines: AsyncIterable<string> | Iterable<string>, json: { source: string; plainHint: string } | undefined, size: number): AsyncGenerator<string[]> {
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
        throw new EmbedrtError('E_BAD_INPUT', `${json.source} line ${lineNo}: not valid JSON (${(e as Error).message}); ${json.plainHint}`);
      }
      if (typeof text !== 'string') {
        throw new EmbedrtError('E_BAD_INPUT', `${json.source} line ${lineNo}: expected a JSON string, got ${typeof text}; ${json.plainHint}`);
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

/**
 * An output file a command will write (`flag` names it in errors), resolved: a folder that cannot be
 * written, or a name that is a folder, fails now — not after the model has loaded and the work is done.
 */
export function outputFile(given: string, flag: string): string {
  const out = path.resolve(given);
  try {
    fs.accessSync(path.dirname(out), fs.constants.W_OK);
  } catch (e) {
    throw new EmbedrtError('E_BAD_INPUT', `${flag} ${given}: cannot write there (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  if (fs.statSync(out, { throwIfNoEntry: false })?.isDirectory()) throw new EmbedrtError('E_BAD_INPUT', `${flag} ${given}: is a folder; give a file name`);
  return out;
}
