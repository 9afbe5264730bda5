// The server's dynamic batching: concurrent requests wait in one bounded queue and are merged into
// model.encode calls, each cut by a token budget. Requests merge only with requests that ask for the
// same encode options (normalize, dimensions, prompt), so every input's embedding is exactly what
// model.encode gives it alone (embedrt's kernels give a row the same bits in any batch). A request
// whose client went away before its turn is dropped without being computed.
import { EmbedrtError } from '../errors.js';
import type { SentenceTransformer } from '../model.js';

export interface BatchRequest {
  texts: string[];
  /** Tokens of each text as it will be embedded (after truncation): its share of the budget. */
  tokens: number;
  normalize: boolean;
  /** Matryoshka dimension; 0: the model's. */
  dimensions: number;
  prompt: string | undefined;
  /** Set when the client has gone away: the request is dropped before its turn. */
  signal: AbortSignal;
}

export interface BatchResult {
  data: Float32Array;
  rows: number;
  dim: number;
  /** When it started to run, and when its run ended (performance.now()). */
  startedAt: number;
  endedAt: number;
}

export interface BatcherOptions {
  /** Tokens merged into one encode call at most (a single larger request runs alone). */
  maxBatchTokens: number;
  /** Requests queued or running at most; beyond it, enqueue refuses (HTTP 429). */
  maxConcurrentRequests: number;
  /** Told of each model run: its inputs and tokens (metrics). */
  onRun?: (inputs: number, tokens: number) => void;
  /** Told of each request dropped because its client went away (metrics). */
  onDrop?: () => void;
}

interface Pending extends BatchRequest {
  resolve(r: BatchResult): void;
  reject(e: unknown): void;
}

export class Batcher {
  private queue: Pending[] = [];
  private running = false;
  private inFlight = 0;
  private idle: (() => void)[] = [];
  /** Requests dropped because their client went away before they ran. */
  dropped = 0;

  constructor(
    private readonly model: SentenceTransformer,
    private readonly opts: BatcherOptions,
  ) {}

  /** Requests queued or running. */
  get size(): number {
    return this.inFlight;
  }

  /** Queues a request; rejects with E_OVERLOADED when maxConcurrentRequests are already in. */
  embed(req: BatchRequest): Promise<BatchResult> {
    if (this.inFlight >= this.opts.maxConcurrentRequests) {
      return Promise.reject(new EmbedrtError('E_OVERLOADED', `the server is handling ${this.inFlight} requests, its limit (--max-concurrent-requests); retry later`));
    }
    this.inFlight++;
    return new Promise<BatchResult>((resolve, reject) => {
      this.queue.push({ ...req, resolve, reject });
      void this.pump();
    }).finally(() => {
      if (--this.inFlight === 0) for (const wake of this.idle.splice(0)) wake();
    });
  }

  /** Resolves when nothing is queued or running (graceful shutdown). */
  drain(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.take();
        if (batch.length === 0) continue;
        await this.run(batch);
      }
    } finally {
      this.running = false;
    }
  }

  /** The first live request and every later one with the same options, within the token budget. */
  private take(): Pending[] {
    const live = (p: Pending) => {
      if (!p.signal.aborted) return true;
      this.dropped++;
      this.opts.onDrop?.();
      p.reject(new EmbedrtError('E_ABORTED', 'the client went away'));
      return false;
    };
    this.queue = this.queue.filter(live);
    const head = this.queue.shift();
    if (!head) return [];
    const batch = [head];
    let tokens = head.tokens;
    const rest: Pending[] = [];
    for (const p of this.queue) {
      const same = p.normalize === head.normalize && p.dimensions === head.dimensions && p.prompt === head.prompt;
      if (same && tokens + p.tokens <= this.opts.maxBatchTokens) {
        batch.push(p);
        tokens += p.tokens;
      } else rest.push(p);
    }
    this.queue = rest;
    return batch;
  }

  private async run(batch: Pending[]): Promise<void> {
    const head = batch[0]!;
    const texts = batch.flatMap((p) => p.texts);
    this.opts.onRun?.(texts.length, batch.reduce((n, p) => n + p.tokens, 0));
    const startedAt = performance.now();
    try {
      const emb = await this.model.encode(texts, {
        normalize: head.normalize,
        ...(head.dimensions ? { truncateDim: head.dimensions } : {}),
        ...(head.prompt !== undefined ? { prompt: head.prompt } : {}),
        maxBatchTokens: Math.max(this.opts.maxBatchTokens, this.model.maxSeqLength),
      });
      const endedAt = performance.now();
      let row = 0;
      for (const p of batch) {
        const data = emb.data.slice(row * emb.dim, (row + p.texts.length) * emb.dim);
        row += p.texts.length;
        p.resolve({ data, rows: p.texts.length, dim: emb.dim, startedAt, endedAt });
      }
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  }
}
