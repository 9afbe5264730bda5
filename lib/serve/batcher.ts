// The server's dynamic batching: concurrent requests wait in one bounded queue and are merged into
// model.encode (or model.encodeIds) calls, each cut by a token budget. Requests merge only with
// requests of the same kind that ask for the same encode options (normalize, dimensions, prompt, token
// embeddings), so every input's embedding is exactly what the model gives it alone (embedrt's kernels
// give a row the same bits in any batch). A request whose client went away before its turn is dropped
// without being computed.
import { EmbedrtError } from '../errors.js';
import type { Embeddings, TokenEmbeddings } from '../embeddings.js';
import type { SentenceTransformer } from '../model.js';

export interface BatchRequest {
  /** Texts, or token id lists (embedded as they are: model.encodeIds); one per input. */
  inputs: { texts: string[] } | { ids: number[][] };
  /** Tokens of its inputs as they will be embedded (after truncation): its share of the budget. */
  tokens: number;
  normalize: boolean;
  /** Matryoshka dimension; 0: the model's. */
  dimensions: number;
  prompt: string | undefined;
  /** Each input's token embeddings (TEI's /embed_all) instead of one sentence embedding. */
  tokenEmbeddings: boolean;
  /** Set when the client has gone away: the request is dropped before its turn. */
  signal: AbortSignal;
}

export interface BatchResult {
  /** Sentence embeddings: rows × dim. (Empty with tokenEmbeddings.) */
  data: Float32Array;
  rows: number;
  dim: number;
  /** With tokenEmbeddings: each input's. */
  tokenRows: TokenEmbeddings[];
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
    // JSON, not a template: no prompt (undefined) must not equal a prompt that reads "undefined".
    const kind = (p: Pending) => JSON.stringify(['ids' in p.inputs, p.tokenEmbeddings, p.normalize, p.dimensions, p.prompt ?? null]);
    for (const p of this.queue) {
      const same = kind(p) === kind(head);
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
    const count = (p: Pending) => ('ids' in p.inputs ? p.inputs.ids.length : p.inputs.texts.length);
    const inputs = batch.reduce((n, p) => n + count(p), 0);
    this.opts.onRun?.(inputs, batch.reduce((n, p) => n + p.tokens, 0));
    const startedAt = performance.now();
    const maxBatchTokens = Math.max(this.opts.maxBatchTokens, this.model.maxSeqLength);
    try {
      const options = head.tokenEmbeddings
        ? { outputValue: 'token_embeddings' as const, maxBatchTokens }
        : { normalize: head.normalize, maxBatchTokens, ...(head.dimensions ? { truncateDim: head.dimensions } : {}) };
      // Never quantized (no precision asked): sentence embeddings are float32 rows.
      const result = ('ids' in head.inputs
        ? await this.model.encodeIds(batch.flatMap((p) => (p.inputs as { ids: number[][] }).ids), options)
        : await this.model.encode(batch.flatMap((p) => (p.inputs as { texts: string[] }).texts), { ...options, ...(head.prompt !== undefined ? { prompt: head.prompt } : {}) })) as Embeddings | TokenEmbeddings[];
      const endedAt = performance.now();
      let row = 0;
      for (const p of batch) {
        const n = count(p);
        if (Array.isArray(result)) {
          p.resolve({ data: new Float32Array(0), rows: n, dim: result[0]?.dim ?? 0, tokenRows: result.slice(row, row + n), startedAt, endedAt });
        } else {
          p.resolve({ data: result.data.slice(row * result.dim, (row + n) * result.dim), rows: n, dim: result.dim, tokenRows: [], startedAt, endedAt });
        }
        row += n;
      }
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  }
}
