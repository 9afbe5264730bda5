// The worker thread in which load() hashes a checkpoint and builds its ONNX graph (model.ts graphFor):
// the JS thread stays free meanwhile, and an aborted load terminates this worker.
import { parentPort, workerData } from 'node:worker_threads';
import { onnxGraphFor, type GraphBuild, type GraphOptions } from './graph.js';

const { dir, opts, build, tag } = workerData as { dir: string; opts: GraphOptions; build: GraphBuild; tag: string };
try {
  parentPort!.postMessage({ graph: onnxGraphFor(dir, opts, build, { tag }) });
} catch (e) {
  const err = e as { code?: unknown; message?: unknown };
  parentPort!.postMessage({ code: typeof err.code === 'string' && err.code.startsWith('E_') ? err.code : 'E_INTERNAL', message: String(err.message ?? e) });
}
