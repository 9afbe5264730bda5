// Running risky cases where a crash, a hang or a memory blow-up cannot take the test runner with it: a
// child Node process on the compiled package (dist/), with a time limit and a heap limit.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect } from 'vitest';
import { EmbedrtError } from '../../lib/index.js';
import { repoRoot } from '../helpers/data.js';

export const dist = path.join(repoRoot, 'dist', 'index.js');

export interface ChildResult {
  /** Exit code (null when killed by a signal). */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** What the script printed last as JSON (see `report` in childScript), if anything. */
  result?: { ok: boolean; code?: string; message?: string; value?: unknown };
}

/**
 * Runs an ES module body in a child process. In scope: `m` (the embedrt package), `report(promiseOrFn)`
 * (prints {ok, value} or {ok: false, code, message} of what it settles to) and `gc` (with --expose-gc).
 */
export function runChild(body: string, opts: { timeoutMs?: number; heapMb?: number; env?: NodeJS.ProcessEnv; args?: string[] } = {}): Promise<ChildResult> {
  const script = `
    const m = await import(${JSON.stringify(dist)});
    globalThis.report = async (x) => {
      try {
        const value = await (typeof x === 'function' ? x() : x);
        console.log('@@' + JSON.stringify({ ok: true, value }));
      } catch (e) {
        console.log('@@' + JSON.stringify({ ok: false, code: e?.code, message: String(e?.message ?? e) }));
      }
    };
    ${body}
  `;
  const args = ['--expose-gc', `--max-old-space-size=${opts.heapMb ?? 512}`, ...(opts.args ?? []), '--input-type=module', '-e', script];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').reverse().find((l) => l.startsWith('@@'));
      resolve({ code, signal, timedOut, stdout, stderr, ...(line ? { result: JSON.parse(line.slice(2)) as ChildResult['result'] } : {}) });
    });
  });
}

/** The child finished on its own, exit code 0, and its report is an error with this code. */
export function expectChildError(r: ChildResult, code: string, message?: RegExp): void {
  expect(r.timedOut, `timed out; stderr: ${r.stderr.slice(-500)}`).toBe(false);
  expect(r.signal, `killed by ${r.signal}; stderr: ${r.stderr.slice(-500)}`).toBeNull();
  expect(r.code, `stderr: ${r.stderr.slice(-800)}`).toBe(0);
  expect(r.result?.ok, JSON.stringify(r.result)).toBe(false);
  expect(r.result?.code, JSON.stringify(r.result)).toBe(code);
  if (message) expect(r.result?.message).toMatch(message);
}

/** A promise (or a function's result or throw) is an EmbedrtError with this code. */
export async function expectCode(x: Promise<unknown> | (() => unknown), code: string, message?: RegExp): Promise<void> {
  let err: unknown;
  try {
    await (typeof x === 'function' ? x() : x);
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${code}`).toBeInstanceOf(EmbedrtError);
  expect((err as EmbedrtError).code, (err as Error).message).toBe(code);
  if (message) expect((err as Error).message).toMatch(message);
}
