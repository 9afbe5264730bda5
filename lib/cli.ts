#!/usr/bin/env node
// embedrt command line: a thin shell over the library. One module per command under cli/, this file
// only dispatches: the command table, --help and --version, exit codes.
import fs from 'node:fs';
import { benchCommand } from './cli/bench.js';
import { type Command, StopWithCode, UsageError } from './cli/common.js';
import { convertCommand } from './cli/convert.js';
import { downloadCommand } from './cli/download.js';
import { encodeCommand } from './cli/encode.js';
import { evalCommand } from './cli/eval.js';
import { rerankCommand } from './cli/rerank.js';
import { searchCommand } from './cli/search.js';
import { serveCommand } from './cli/serve.js';
import { tokenizeCommand } from './cli/tokenize.js';
import { EmbedrtError } from './errors.js';
import { runtimeInfo } from './runtime.js';

const VERSION = packageVersion();

function packageVersion(): string {
  try {
    return JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version as string;
  } catch {
    return 'unknown';
  }
}

const infoCommand: Command = {
  name: 'info',
  summary: 'Print the runtime: ONNX Runtime version, execution providers, SIMD level',
  help: 'Usage: embedrt info\n\nPrints runtimeInfo() as JSON: versions, execution providers, SIMD level, the libraries loaded.',
  async run(argv) {
    if (argv.length > 0) throw new UsageError(`info: takes no arguments, got ${argv.join(' ')}`);
    process.stdout.write(`${JSON.stringify(runtimeInfo(), null, 2)}\n`);
  },
};

const COMMANDS: readonly Command[] = [encodeCommand, searchCommand, rerankCommand, serveCommand, evalCommand, convertCommand, downloadCommand, benchCommand, tokenizeCommand, infoCommand];

const HELP = `embedrt ${VERSION} — sentence-transformer embeddings for Node.js

Usage: embedrt <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

Run 'embedrt <command> --help' for a command's options.
Options: --help, --version`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${HELP}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw new UsageError(`unknown command '${name}'\n\n${HELP}`);
  // --help for every command here, before its own flags are parsed.
  const flags = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
  if (flags.includes('--help') || flags.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  await command.run(rest);
  return 0;
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
    if (err instanceof StopWithCode) {
      process.stderr.write(`embedrt: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else if (err instanceof UsageError || String((err as { code?: string }).code).startsWith('ERR_PARSE_ARGS_')) {
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

