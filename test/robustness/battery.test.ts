// The hostile-caller battery (battery-cases.mjs): every case asserts the exact error code or the exact
// result. Each group runs in its own child process (battery-run.mjs) under a time limit; a case that
// crashes or hangs the child fails by name.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeModel, tempDir } from '../helpers/models.js';
import { dist } from './harness.js';
// @ts-expect-error: a plain ES module shared with the child runner
import { groups } from './battery-cases.mjs';

interface Case {
  name: string;
  expect: string;
  check?: unknown;
}
interface Outcome {
  code: string;
  checked?: boolean;
  message?: string;
  value?: string;
}

let root: string;
let context: string;
beforeAll(() => {
  root = tempDir('battery');
  context = JSON.stringify({ dist, tiny: makeModel(root, 'tiny', { pooling: 'mean' }), cache: path.join(root, 'cache'), root });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function runGroup(name: string): Promise<{ outcomes: Map<number, Outcome>; started: number; exit: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--max-old-space-size=1024', path.join(import.meta.dirname, 'battery-run.mjs'), name, context], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 280_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const outcomes = new Map<number, Outcome>();
      let started = -1;
      for (const line of stdout.split('\n')) {
        const s = /^@@start (\d+)$/.exec(line);
        if (s) started = Number(s[1]);
        const c = /^@@case (\d+) (.*)$/.exec(line);
        if (c) outcomes.set(Number(c[1]), JSON.parse(c[2]!) as Outcome);
      }
      resolve({ outcomes, started, exit: signal ? `signal ${signal}` : `exit ${code}`, stderr });
    });
  });
}

const total = (groups as { cases: Case[] }[]).reduce((n, g) => n + g.cases.length, 0);
it(`the battery holds at least 300 cases (${total})`, () => expect(total).toBeGreaterThanOrEqual(300));

for (const group of groups as { name: string; cases: Case[] }[]) {
  describe(`battery: ${group.name}`, () => {
    let run: Awaited<ReturnType<typeof runGroup>>;
    beforeAll(async () => {
      run = await runGroup(group.name);
    }, 300_000);
    it('the child process ran every case and exited cleanly', () => {
      const where = run.outcomes.size < group.cases.length ? ` (stopped in case ${run.started}: ${group.cases[run.started]?.name})` : '';
      expect(`${run.exit}${where}`, run.stderr.slice(-1500)).toBe('exit 0');
    });
    for (const [i, c] of group.cases.entries()) {
      it(c.name, () => {
        const o = run.outcomes.get(i);
        expect(o, 'no outcome: the child died before this case').toBeDefined();
        expect(o!.code, o!.message).toBe(c.expect);
        if (c.check) expect(o!.checked, `value ${o!.value}`).toBe(true);
      });
    }
  });
}
