// Runs one of load()'s slow file jobs in a worker thread (loadworker.ts), so that the event loop stays
// free; an AbortSignal terminates the worker. Errors come back with their code.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { EmbedrtError, type ErrorCode } from './errors.js';
import { packageRoot } from './native.js';

/**
 * Runs `task` (loadworker.ts says which tasks there are and what each returns, R); `what` names the
 * job in errors ("building the graph").
 */
export async function runOffThread<R>(task: { task: string; [field: string]: unknown }, signal: AbortSignal | undefined, what: string): Promise<R> {
  if (signal?.aborted) throw new EmbedrtError('E_ABORTED', `load: aborted while ${what}`);
  const worker = new Worker(path.join(packageRoot, 'dist', 'loadworker.js'), {
    execArgv: [], // not the parent's: `node --input-type=module -e …` would stop a file worker from starting
    workerData: task,
  });
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new EmbedrtError('E_ABORTED', `load: aborted while ${what}`));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  const done = new Promise<R>((resolve, reject) => {
    worker.once('message', (m: { value?: R; code?: ErrorCode; message?: string }) =>
      m.value !== undefined ? resolve(m.value) : reject(new EmbedrtError(m.code ?? 'E_INTERNAL', m.message ?? `${what} failed`)),
    );
    worker.once('error', (e) => reject(new EmbedrtError('E_INTERNAL', `${what} failed: ${e.message}`, { cause: e })));
    worker.once('exit', (code) => reject(new EmbedrtError('E_INTERNAL', `${what}: the worker exited (${code})`)));
  });
  try {
    return await Promise.race([done, aborted]);
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    await worker.terminate();
  }
}
