#!/usr/bin/env node
// A Python virtual environment with numpy under build/py-venv, for the tests that check embedrt's
// .npy output in numpy and for the numpy benchmarks. Idempotent; prints the python path.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const venv = path.join(root, 'build', 'py-venv');
const python = path.join(venv, 'bin', 'python');
const stamp = path.join(venv, '.numpy');
if (!fs.existsSync(stamp)) {
  execFileSync('python3', ['-m', 'venv', '--clear', venv], { stdio: 'inherit' });
  execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', 'numpy>=1.26,<3'], { stdio: 'inherit' });
  fs.writeFileSync(stamp, 'numpy\n');
}
process.stdout.write(`${python}\n`);
