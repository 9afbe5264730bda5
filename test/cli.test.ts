import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bgeDir, bgeTokenizerJson, financialQa, repoRoot } from './helpers/data.js';
import { hfTokenizer } from './helpers/hf.js';

const cli = path.join(repoRoot, 'dist', 'cli.js');
const run = (args: string[], input = '') =>
  spawnSync(process.execPath, [cli, ...args], { input, encoding: 'utf8', maxBuffer: 64 << 20 });

describe('embedrt CLI', () => {
  it('tokenize: one JSON array of ids per JSON line, as Hugging Face tokenizers gives', async () => {
    const texts = [...financialQa().slice(0, 200).map((r) => r.question), 'naïve café 東京 [SEP] \u2028 x', ''];
    const r = run(['tokenize', '--model', bgeDir], `${texts.map((t) => JSON.stringify(t)).join('\n')}\n`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as number[]);
    const ref = hfTokenizer(bgeTokenizerJson);
    const expected = await ref.encodeBatch(texts);
    expect(lines).toEqual(expected.map((e) => e.getIds()));
  });

  it('tokenize --lines --max-length --no-special-tokens', async () => {
    const texts = ['plain line one with several words', 'two'];
    const r = run(['tokenize', '--model', bgeDir, '--lines', '--max-length', '4', '--no-special-tokens'], texts.join('\n'));
    expect(r.status).toBe(0);
    const ref = hfTokenizer(bgeTokenizerJson);
    ref.setTruncation(4);
    const expected = await ref.encodeBatch(texts, { addSpecialTokens: false });
    expect(r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(expected.map((e) => e.getIds()));
  });

  it('reports bad input on stderr with a non-zero exit code', () => {
    const bad = run(['tokenize', '--model', bgeDir], 'not json\n');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/stdin line 1: not valid JSON/);
    expect(bad.stdout).toBe('');
    const usage = run(['tokenize']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--model <dir> is required/);
    const unknown = run(['frobnicate']);
    expect(unknown.status).toBe(2);
    const missing = run(['tokenize', '--model', '/nonexistent'], '"x"\n');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/\/nonexistent: no tokenizer\.json and no vocab\.txt/);
  });

  it('an unknown flag is a usage error with a did-you-mean, in every command', () => {
    const cases: [string[], string][] = [
      [['encode', '--normalise'], 'encode: unknown option --normalise (did you mean --normalize?)'],
      [['encode', '--truncate_dim', '64'], 'encode: unknown option --truncate_dim (did you mean --dim?)'],
      [['search', '--modle', 'x'], 'search: unknown option --modle (did you mean --model?)'],
      [['eval', '--batch_size', '8'], 'eval: unknown option --batch_size (did you mean --batch-size?)'],
      [['convert', '--quantise', 'int8'], 'convert: unknown option --quantise (did you mean --quantize?)'],
      [['download', '--revison', 'main'], 'download: unknown option --revison (did you mean --revision?)'],
      [['bench', '--singel'], 'bench: unknown option --singel (did you mean --single?)'],
      [['tokenize', '--max_length', '4'], 'tokenize: unknown option --max_length (did you mean --max-length?)'],
    ];
    for (const [args, message] of cases) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toBe(`embedrt: ${message}; see embedrt ${args[0]} --help\n`);
    }
    const far = run(['encode', '--xyzzy']);
    expect(far.stderr).toBe('embedrt: encode: unknown option --xyzzy; see embedrt encode --help\n');
  });

  it('--help, --version and info', () => {
    expect(run(['--help']).stdout).toMatch(/Usage: embedrt <command>/);
    expect(run(['tokenize', '--help']).stdout).toMatch(/--max-length/);
    // every command is listed, has its own help, and an unknown one is a usage error
    const help = run(['--help']).stdout;
    for (const [cmd, flag] of [['encode', '--normalize'], ['search', '--top-k'], ['eval', '--split'], ['convert', '--quantize'], ['download', '--revision'], ['bench', '--single'], ['tokenize', '--lines']]) {
      expect(help).toMatch(new RegExp(`\\n  ${cmd} `));
      const h = run([cmd!, '--help']);
      expect(h.status).toBe(0);
      expect(h.stdout).toContain(flag!);
    }
    const unknown = run(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(run(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(JSON.parse(run(['info']).stdout).ortVersion).toMatch(/^1\.30\./);
  });
});
