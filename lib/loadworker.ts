// The worker thread in which load() does its slow file work (offthread.ts runs it): reading and
// checking a tokenizer, hashing a checkpoint and building its ONNX graph. The JS thread stays free
// meanwhile, and an aborted load terminates this worker.
import { parentPort, workerData } from 'node:worker_threads';
import { onnxGraphFor, type GraphBuild, type GraphOptions } from './graph.js';
import { readTokenizerFolder } from './tokenizer-config.js';

/** The tasks: 'graph' returns the graph's path (string), 'tokenizer' a TokenizerFiles. */
export type LoadTask = { task: 'graph'; dir: string; opts: GraphOptions; build: GraphBuild; tag: string } | { task: 'tokenizer'; dir: string };

const task = workerData as LoadTask;
try {
  const value = task.task === 'graph' ? onnxGraphFor(task.dir, task.opts, task.build, { tag: task.tag }) : readTokenizerFolder(task.dir);
  parentPort!.postMessage({ value });
} catch (e) {
  const err = e as { code?: unknown; message?: unknown };
  parentPort!.postMessage({ code: typeof err.code === 'string' && err.code.startsWith('E_') ? err.code : 'E_INTERNAL', message: String(err.message ?? e) });
}
