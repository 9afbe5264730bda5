// Mutation fuzzing in CI, bounded in time (EMBEDRT_JS_FUZZ_SECONDS per target, default 15): the
// tokenizer.json loader (a WordPiece and a Unigram one), the safetensors header parser and the search entry points' shape checks
// (fuzz-run.mjs). The native tokenizer has its own libFuzzer target (native/fuzz/). Each target runs in
// a child process with a heap limit, so a crash or a blow-up fails the test with the input that did it.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bgeTokenizerJson, repoRoot, xlmrTokenizerJson } from '../helpers/data.js';

const seconds = Number(process.env.EMBEDRT_JS_FUZZ_SECONDS ?? 15);
const seed = Number(process.env.EMBEDRT_JS_FUZZ_SEED ?? 20261203);

describe('fuzzing', () => {
  for (const target of ['tokenizer-json', 'unigram-json', 'safetensors', 'search-shapes']) {
    it(`${target}: every mutated input works or fails with an allowed code (${seconds} s, seed ${seed})`, async () => {
      // Asynchronously: a test worker's event loop must not block (vitest's RPC times out at 60 s).
      const r = await new Promise<{ stdout: string; stderr: string; status: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        const child = spawn(process.execPath, ['--max-old-space-size=768', path.join(import.meta.dirname, 'fuzz-run.mjs'), target, String(seconds), String(seed), path.join(repoRoot, 'dist'), bgeTokenizerJson, xlmrTokenizerJson]);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
        child.on('close', (status, signal) => {
          clearTimeout(timer);
          resolve({ stdout, stderr, status, signal });
        });
      });
      const failure = /^@@fail (.*)$/m.exec(r.stdout)?.[1];
      expect(failure, failure).toBeUndefined();
      expect(r.signal, r.stderr.slice(-1500)).toBeNull();
      expect(r.status, r.stderr.slice(-1500)).toBe(0);
      const stats = JSON.parse(/^@@stats (.*)$/m.exec(r.stdout)![1]!) as { runs: number; ok: number; codes: Record<string, number> };
      // It ran, and both kinds of outcome occurred: the mutations reach past the first check.
      expect(stats.runs).toBeGreaterThan(50);
      expect(stats.ok).toBeGreaterThan(0);
      expect(Object.values(stats.codes).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      console.log(`${target}: ${JSON.stringify(stats)}`);
    }, (seconds + 90) * 1000);
  }
});
