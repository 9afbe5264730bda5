#!/usr/bin/env node
// A Python virtual environment under build/py-venv for the tests that check embedrt against Python
// tools (numpy for .npy output and the numpy benchmarks; huggingface_hub for the shared hub cache).
// Usage: node scripts/py-env.mjs [--with 'pkg==version' ...]. Idempotent; prints the python path.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const venv = path.join(root, 'build', 'py-venv');
const python = path.join(venv, 'bin', 'python');
const extras = [];
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--with' && process.argv[i + 1]) extras.push(process.argv[++i]);
  else {
    process.stderr.write(`py-env: unknown argument ${process.argv[i]}; usage: py-env.mjs [--with 'pkg==version' ...]\n`);
    process.exit(2);
  }
}
const pip = (pkgs) =>
  execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...pkgs], { stdio: ['ignore', 'ignore', 'inherit'] });
// Test files run in parallel: one process at a time builds the environment (a lock directory).
const lock = `${venv}.lock`;
fs.mkdirSync(path.dirname(venv), { recursive: true });
for (let waited = 0; ; waited += 200) {
  try {
    fs.mkdirSync(lock);
    break;
  } catch (e) {
    if (e.code !== 'EEXIST') throw e;
    if (waited > 600_000) {
      process.stderr.write(`py-env: ${lock} held for 10 minutes; remove it if no install is running\n`);
      process.exit(1);
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
}
process.on('exit', () => fs.rmSync(lock, { recursive: true, force: true }));
const stamp = path.join(venv, '.numpy');
if (!fs.existsSync(stamp)) {
  execFileSync('python3', ['-m', 'venv', '--clear', venv], { stdio: ['ignore', 'ignore', 'inherit'] });
  pip(['numpy>=1.26,<3']);
  fs.writeFileSync(stamp, 'numpy\n');
}
for (const pkg of extras) {
  const mark = path.join(venv, `.with-${pkg.replace(/[^\w.=-]/g, '_')}`);
  if (fs.existsSync(mark)) continue;
  pip([pkg]);
  fs.writeFileSync(mark, `${pkg}\n`);
}
process.stdout.write(`${python}\n`);
