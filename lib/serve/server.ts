// `embedrt serve` and createServer(): an HTTP server (fastify) that speaks OpenAI's embeddings API
// (POST /v1/embeddings, /embeddings) and text-embeddings-inference's (POST /embed, /embed_all, /similarity,
// /tokenize, /decode, /rerank with a reranker, GET /info, /health, /metrics), with requests merged into model runs by the Batcher. Errors come in each API's own
// shape: OpenAI's {error: {message, type, param, code}}, TEI's {error, error_type} with TEI's status codes.
import crypto from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { EmbedrtError } from '../errors.js';
import type { CrossEncoder } from '../crossencoder.js';
import type { SentenceTransformer } from '../model.js';
import { describe, isCount, optionsOf, type OptionKeys } from '../validate.js';
import { Batcher, type BatchResult } from './batcher.js';
import { HttpError, prepareInputs, promptByName, truncationOf, type Prepared } from './inputs.js';
import { ServerMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { RERANK_FIELDS, rerank } from './rerank.js';

export interface ServerOptions {
  /** The name /info and OpenAI responses report (default: the model folder's name). */
  modelId?: string;
  /** Bearer token every request must carry (compared in constant time); none: no authentication. */
  apiKey?: string;
  /** Whether /health also needs the API key (default false: probes stay simple). */
  authHealth?: boolean;
  /** Whether /metrics needs the API key (default true; false for a scraper inside a trusted network). */
  authMetrics?: boolean;
  /** Tokens merged into one model run at most (default 16384). */
  maxBatchTokens?: number;
  /** Inputs one request may carry (default 2048, OpenAI's limit). */
  maxClientBatchSize?: number;
  /** Requests queued or running at most; beyond it, 429 (default 512). */
  maxConcurrentRequests?: number;
  /** Characters one input may have (default 100,000). */
  maxInputChars?: number;
  /** Request body bytes at most (default 2 MB, as TEI); beyond it, 413. */
  payloadLimit?: number;
  /** Cut inputs longer than the model's max_seq_length when a request does not say (default false: 422/400, as TEI). */
  autoTruncate?: boolean;
  /** Fastify's logger (pino) options; default: off. */
  logger?: boolean | Record<string, unknown>;
  /** A cross-encoder served at POST /rerank (TEI's reranker API) beside the embedding model. */
  reranker?: CrossEncoder;
}

const SERVER_KEYS: OptionKeys<ServerOptions> = {
  modelId: true, apiKey: true, authHealth: true, authMetrics: true, maxBatchTokens: true, maxClientBatchSize: true, maxConcurrentRequests: true, maxInputChars: true, payloadLimit: true, autoTruncate: true, logger: true, reranker: true,
};

const OPENAI_TYPE: Record<number, string> = { 400: 'invalid_request_error', 401: 'authentication_error', 413: 'invalid_request_error', 422: 'invalid_request_error', 429: 'rate_limit_error', 503: 'server_error' };

export interface EmbedServer {
  /** The fastify instance: add routes, or inject requests in tests. */
  app: FastifyInstance;
  /** Starts listening (host default 127.0.0.1); resolves to the address. */
  listen(o?: { host?: string; port?: number }): Promise<string>;
  /** Stops accepting, lets requests in flight finish (up to graceMs, default 30 s), then closes. */
  close(graceMs?: number): Promise<void>;
  /** Requests dropped because their client went away before they ran. */
  readonly dropped: number;
}

/**
 * An embedding server for a loaded model. Nothing a request carries can name a file or another model.
 *
 * @example
 * const server = createServer(await SentenceTransformer.load(dir), { apiKey: process.env.API_KEY });
 * console.log(await server.listen({ port: 8080 }));
 */
export function createServer(model: SentenceTransformer, options?: ServerOptions): EmbedServer {
  const o = optionsOf(options, 'createServer', SERVER_KEYS);
  const count = (v: unknown, name: string, dflt: number) => {
    if (v === undefined) return dflt;
    if (!isCount(v) || v === 0) throw new EmbedrtError('E_BAD_INPUT', `createServer: options.${name} must be a positive integer, got ${describe(v)}`);
    return v;
  };
  const maxBatchTokens = count(o.maxBatchTokens, 'maxBatchTokens', 16384);
  const maxClientBatchSize = count(o.maxClientBatchSize, 'maxClientBatchSize', 2048);
  const maxConcurrentRequests = count(o.maxConcurrentRequests, 'maxConcurrentRequests', 512);
  const maxInputChars = count(o.maxInputChars, 'maxInputChars', 100_000);
  const payloadLimit = count(o.payloadLimit, 'payloadLimit', 2_000_000);
  if (o.apiKey !== undefined && (typeof o.apiKey !== 'string' || o.apiKey === '')) throw new EmbedrtError('E_BAD_INPUT', 'createServer: options.apiKey must be a non-empty string');
  const modelId = o.modelId ?? model.dir.split(/[\\/]/).filter(Boolean).pop() ?? 'embedrt';
  const metrics = new ServerMetrics(() => batcher.size);
  const batcher = new Batcher(model, {
    maxBatchTokens,
    maxConcurrentRequests,
    onRun: (inputs, tokens) => {
      metrics.batchSize.observe(inputs);
      metrics.batchTokens.observe(tokens);
    },
    onDrop: () => metrics.dropped.inc(),
  });
  let closing = false;

  const app = Fastify({ logger: o.logger ?? false, bodyLimit: payloadLimit, return503OnClosing: true });
  const document = openApiDocument({ title: `embedrt serve — ${modelId}`, dimension: model.dimension, prompts: Object.keys(model.prompts), vocabSize: model.tokenizer.vocabSize, maxSeqLength: model.maxSeqLength, secured: o.apiKey !== undefined, rerank: o.reranker !== undefined });

  // ---- authentication ----
  const key = o.apiKey === undefined ? undefined : crypto.createHash('sha256').update(o.apiKey).digest();
  app.addHook('onRequest', async (req) => {
    const route = req.url.split('?')[0]!;
    const open = (route === '/health' && !o.authHealth) || (route === '/metrics' && o.authMetrics === false) || route === '/openapi.json' || route === '/docs' || route.startsWith('/docs/');
    if (key === undefined || open) return;
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const given = crypto.createHash('sha256').update(m?.[1] ?? '').digest();
    if (!m || !crypto.timingSafeEqual(given, key)) throw new HttpError(401, 'Unauthorized', 'missing or wrong API key (Authorization: Bearer <key>)');
  });

  // ---- errors, in the shape of the API the route belongs to ----
  const isOpenAI = (req: FastifyRequest) => req.url.startsWith('/v1/') || req.url === '/embeddings';
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const refused = notAllowed(req, reply);
    if (refused) return refused;
    const e = toHttp(err);
    if (e.status >= 500) req.log.error({ err }, 'request failed');
    metrics.failure.inc({ err: e.teiType });
    if (isOpenAI(req)) {
      const status = e.status === 422 ? 400 : e.status; // OpenAI says 400 where TEI says 422
      return reply.status(status).send({ error: { message: e.message, type: OPENAI_TYPE[status] ?? 'server_error', param: e.param, code: e.teiType === 'Overloaded' ? 'rate_limit_exceeded' : null } });
    }
    return reply.status(e.status).send({ error: e.message, error_type: e.teiType });
  });
  // A known path asked with another method: 405 and the methods it takes (the OpenAPI document's) —
  // also for a method fastify refuses before routing (QUERY without a content type).
  const methodsOf = (url: string) => {
    const route = url.split('?')[0]!;
    const methods = Object.keys(document.paths[route] ?? {}).map((m) => m.toUpperCase());
    return route === '/docs' || route.startsWith('/docs/') ? ['GET', 'HEAD'] : methods.includes('GET') ? [...methods, 'HEAD'] : methods;
  };
  const notAllowed = (req: FastifyRequest, reply: FastifyReply) => {
    const methods = methodsOf(req.url);
    if (!methods.length || methods.includes(req.method)) return undefined;
    return reply.status(405).header('allow', methods.join(', ')).send({ error: `${req.method} ${req.url.split('?')[0]}: method not allowed (allowed: ${methods.join(', ')})`, error_type: 'Validation' });
  };
  app.setNotFoundHandler((req, reply) => notAllowed(req, reply) ?? reply.status(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}`, error_type: 'Validation' }));

  /** A request body's inputs checked, counted and cut by the server's limits (inputs.ts). */
  const limits = { maxClientBatchSize, maxInputChars };
  const prepare = (raw: unknown, field: string, truncate: boolean, dimensions: unknown, prompt: string | undefined) =>
    prepareInputs(model, metrics, limits, raw, field, { truncate, dimensions, prompt });

  /** Runs a request through the batcher; a client that goes away before its turn is dropped. */
  async function embed(req: FastifyRequest, reply: FastifyReply, p: Prepared, how: { normalize: boolean; prompt: string | undefined; tokenEmbeddings?: boolean }): Promise<BatchResult> {
    if (closing) throw new HttpError(503, 'Unhealthy', 'the server is shutting down');
    // The response's 'close' before it finished: the connection went away (the request's own 'close'
    // only says its body was read).
    const gone = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) gone.abort();
    };
    reply.raw.on('close', onClose);
    const queuedAt = performance.now();
    try {
      const r = await batcher.embed({ ...p, normalize: how.normalize, prompt: how.prompt, tokenEmbeddings: how.tokenEmbeddings === true, signal: gone.signal });
      const now = performance.now();
      metrics.queue.observe((r.startedAt - queuedAt) / 1000);
      metrics.inference.observe((r.endedAt - r.startedAt) / 1000);
      void reply.headers({
        'x-compute-type': 'cpu',
        'x-compute-tokens': String(p.tokens),
        'x-compute-characters': String(p.characters),
        'x-total-time': String(Math.round(p.tokenizationMs + now - queuedAt)),
        'x-tokenization-time': String(Math.round(p.tokenizationMs)),
        'x-queue-time': String(Math.round(r.startedAt - queuedAt)),
        'x-inference-time': String(Math.round(r.endedAt - r.startedAt)),
      });
      return r;
    } finally {
      reply.raw.off('close', onClose);
    }
  }

  const body = (req: FastifyRequest): Record<string, unknown> => {
    const b = req.body;
    if (b === null || typeof b !== 'object' || Array.isArray(b)) throw new HttpError(422, 'Validation', `the body must be a JSON object, got ${describe(b)}`);
    return b as Record<string, unknown>;
  };
  const known = (b: Record<string, unknown>, keys: readonly string[]) => {
    for (const k of Object.keys(b)) if (!keys.includes(k)) throw new HttpError(422, 'Validation', `unknown field ${JSON.stringify(k)}; known: ${keys.join(', ')}`, k);
  };

  // Requests to the embedding routes: counted, timed, and their successes (failures: the error handler).
  const EMBED_ROUTES: Record<string, string> = { '/v1/embeddings': 'openai', '/embeddings': 'openai', '/': 'embed', '/embed': 'embed', '/embed_all': 'embed_all', '/similarity': 'similarity', '/rerank': 'rerank' };
  app.addHook('onRequest', async (req) => {
    const method = EMBED_ROUTES[req.url.split('?')[0]!];
    if (method) metrics.requests.inc({ method });
  });
  app.addHook('onResponse', async (req, reply) => {
    const method = EMBED_ROUTES[req.url.split('?')[0]!];
    if (!method) return;
    metrics.duration.observe(reply.elapsedTime / 1000);
    if (reply.statusCode < 400) metrics.success.inc({ method });
  });

  // The API described (openapi.ts) and rendered for people; neither needs the key.
  void app.register(swagger, { mode: 'static', specification: { document: document as never } });
  void app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', async () => document);

  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  // ---- OpenAI ----
  const openai = async (req: FastifyRequest, reply: FastifyReply) => {
    const b = body(req);
    known(b, ['input', 'model', 'encoding_format', 'dimensions', 'user']);
    if (b.model !== undefined && typeof b.model !== 'string') throw new HttpError(400, 'Validation', `model must be a string, got ${describe(b.model)}`, 'model');
    if (b.user !== undefined && typeof b.user !== 'string') throw new HttpError(400, 'Validation', 'user must be a string', 'user');
    const format = b.encoding_format ?? 'float';
    if (format !== 'float' && format !== 'base64') throw new HttpError(400, 'Validation', `encoding_format must be 'float' or 'base64', got ${describe(format)}`, 'encoding_format');
    const p = await prepare(b.input, 'input', o.autoTruncate === true, b.dimensions, undefined);
    const r = await embed(req, reply, p, { normalize: true, prompt: undefined });
    const data = Array.from({ length: r.rows }, (_, i) => {
      const row = r.data.subarray(i * r.dim, (i + 1) * r.dim);
      const embedding = format === 'base64' ? Buffer.from(row.buffer, row.byteOffset, row.byteLength).toString('base64') : Array.from(row);
      return { object: 'embedding', index: i, embedding };
    });
    return { object: 'list', data, model: modelId, usage: { prompt_tokens: p.tokens, total_tokens: p.tokens } };
  };
  app.post('/v1/embeddings', openai);
  app.post('/embeddings', openai);

  // ---- text-embeddings-inference ----
  const teiEmbed = async (req: FastifyRequest, reply: FastifyReply) => {
    const b = body(req);
    known(b, ['inputs', 'normalize', 'truncate', 'truncation_direction', 'prompt_name', 'dimensions']);
    const normalize = b.normalize ?? true;
    if (typeof normalize !== 'boolean') throw new HttpError(422, 'Validation', `normalize must be a boolean, got ${describe(normalize)}`, 'normalize');
    const truncate = truncationOf(b, o.autoTruncate === true);
    let prompt: string | undefined;
    if (b.prompt_name !== undefined && b.prompt_name !== null) {
      if (typeof b.prompt_name !== 'string') throw new HttpError(422, 'Validation', `prompt_name must be a string, got ${describe(b.prompt_name)}`, 'prompt_name');
      prompt = promptByName(model, b.prompt_name);
    }
    const p = await prepare(b.inputs, 'inputs', truncate, b.dimensions, prompt);
    const r = await embed(req, reply, p, { normalize, prompt });
    return Array.from({ length: r.rows }, (_, i) => Array.from(r.data.subarray(i * r.dim, (i + 1) * r.dim)));
  };
  app.post('/embed', teiEmbed);
  // TEI's root route, /embed for an embedding model (what TEI's own k6 load script posts to).
  app.post('/', teiEmbed);

  // Every token's row, special tokens included (sentence-transformers' token embeddings).
  app.post('/embed_all', async (req, reply) => {
    const b = body(req);
    known(b, ['inputs', 'truncate', 'truncation_direction', 'prompt_name']);
    const truncate = truncationOf(b, o.autoTruncate === true);
    const prompt = b.prompt_name == null ? undefined : promptByName(model, String(b.prompt_name));
    const p = await prepare(b.inputs, 'inputs', truncate, undefined, prompt);
    const r = await embed(req, reply, p, { normalize: false, prompt, tokenEmbeddings: true });
    return r.tokenRows.map((t) => Array.from({ length: t.rows }, (_, k) => Array.from(t.row(k))));
  });

  app.post('/similarity', async (req, reply) => {
    const b = body(req);
    known(b, ['inputs', 'truncate', 'truncation_direction', 'prompt_name']);
    const inputs = b.inputs as { source_sentence?: unknown; sentences?: unknown } | null;
    if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) throw new HttpError(422, 'Validation', 'inputs must be { source_sentence, sentences }', 'inputs');
    if (typeof inputs.source_sentence !== 'string') throw new HttpError(422, 'Validation', `inputs.source_sentence must be a string, got ${describe(inputs.source_sentence)}`, 'inputs');
    const truncate = truncationOf(b, o.autoTruncate === true);
    const prompt = b.prompt_name == null ? undefined : promptByName(model, String(b.prompt_name));
    if (!Array.isArray(inputs.sentences) || inputs.sentences.length === 0) throw new HttpError(422, 'Validation', `inputs.sentences must be a non-empty list of strings, got ${describe(inputs.sentences)}`, 'inputs');
    const p = await prepare([inputs.source_sentence, ...(inputs.sentences as unknown[])], 'inputs', truncate, undefined, prompt);
    const r = await embed(req, reply, p, { normalize: true, prompt });
    const src = r.data.subarray(0, r.dim);
    // Rows are normalized: the dot product is the cosine similarity.
    return Array.from({ length: r.rows - 1 }, (_, i) => {
      const row = r.data.subarray((i + 1) * r.dim, (i + 2) * r.dim);
      let dot = 0;
      for (let k = 0; k < r.dim; k++) dot += src[k]! * row[k]!;
      return dot;
    });
  });

  const reranker = o.reranker;
  if (reranker !== undefined) {
    app.post('/rerank', async (req, reply) => {
      const b = body(req);
      known(b, RERANK_FIELDS);
      if (closing) throw new HttpError(503, 'Unhealthy', 'the server is shutting down');
      const gone = new AbortController();
      const onClose = () => {
        if (!reply.raw.writableFinished) gone.abort();
      };
      reply.raw.on('close', onClose);
      try {
        return await rerank(reranker, b, { maxClientBatchSize, maxInputChars, autoTruncate: o.autoTruncate === true }, gone.signal);
      } finally {
        reply.raw.off('close', onClose);
      }
    });
  }

  app.post('/tokenize', async (req) => {
    const b = body(req);
    known(b, ['inputs', 'add_special_tokens', 'prompt_name']);
    const texts = typeof b.inputs === 'string' ? [b.inputs] : b.inputs;
    if (!Array.isArray(texts) || texts.length === 0 || texts.length > maxClientBatchSize || !texts.every((t) => typeof t === 'string' && t !== '' && t.length <= maxInputChars)) {
      throw new HttpError(422, 'Validation', `inputs must be a non-empty string or 1 to ${maxClientBatchSize} of them, of at most ${maxInputChars} characters`, 'inputs');
    }
    const add = b.add_special_tokens ?? true;
    if (typeof add !== 'boolean') throw new HttpError(422, 'Validation', `add_special_tokens must be a boolean, got ${describe(add)}`, 'add_special_tokens');
    const prompt = b.prompt_name == null ? '' : promptByName(model, String(b.prompt_name));
    const enc = await model.tokenizer.encodeBatch(texts.map((t: string) => prompt + t), { addSpecialTokens: add, withTokens: true, maxLength: 0 });
    return [...enc].map((e) =>
      Array.from(e.ids, (id, k) => ({ id, text: e.tokens![k]!, special: e.specialTokensMask[k] === 1, start: e.specialTokensMask[k] === 1 ? null : e.offsets[2 * k]!, stop: e.specialTokensMask[k] === 1 ? null : e.offsets[2 * k + 1]! })),
    );
  });

  app.post('/decode', async (req, reply) => {
    const b = body(req);
    known(b, ['ids', 'skip_special_tokens']);
    const one = Array.isArray(b.ids) && b.ids.length > 0 && b.ids.every((v) => typeof v === 'number');
    const lists = one ? [b.ids as number[]] : b.ids;
    if (!Array.isArray(lists) || lists.length === 0 || !lists.every((l) => Array.isArray(l) && l.every((v) => Number.isInteger(v) && v >= 0 && v < model.tokenizer.vocabSize))) {
      throw new HttpError(422, 'Validation', `ids must be a list of token ids (or of lists of them), each in [0, ${model.tokenizer.vocabSize})`, 'ids');
    }
    const skip = b.skip_special_tokens ?? true;
    if (typeof skip !== 'boolean') throw new HttpError(422, 'Validation', `skip_special_tokens must be a boolean, got ${describe(skip)}`, 'skip_special_tokens');
    const out = (lists as number[][]).map((l) => model.tokenizer.decode(l, { skipSpecialTokens: skip }));
    // A bare string would go out as text/plain: JSON, as TEI answers.
    return reply.type('application/json').send(JSON.stringify(one ? out[0] : out));
  });

  app.get('/health', async (_req, reply) => {
    if (closing) return reply.status(503).send({ error: 'shutting down', error_type: 'Unhealthy' });
    return reply.status(200).send();
  });

  app.get('/info', async () => {
    const i = model.info();
    return {
      model_id: modelId,
      model_sha: null,
      model_dtype: 'float32',
      model_type: { embedding: { pooling: i.clsOnly ? 'cls' : 'other' } },
      max_concurrent_requests: maxConcurrentRequests,
      max_input_length: model.maxSeqLength,
      max_batch_tokens: maxBatchTokens,
      max_client_batch_size: maxClientBatchSize,
      auto_truncate: o.autoTruncate === true,
      tokenization_workers: null,
      version: 'embedrt',
      dimension: model.dimension,
      provider: i.provider,
    };
  });

  return {
    app,
    async listen(l = {}) {
      return app.listen({ host: l.host ?? '127.0.0.1', port: l.port ?? 0 });
    },
    async close(graceMs = 30_000) {
      closing = true;
      await Promise.race([batcher.drain(), new Promise((r) => setTimeout(r, graceMs).unref())]);
      await app.close();
    },
    get dropped() {
      return batcher.dropped;
    },
  };
}

/** Any error as an HttpError: ours as they are, fastify's (bad JSON, a body too large) and the engine's mapped. */
function toHttp(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new HttpError(413, 'PayloadTooLarge', 'the request body is larger than the payload limit (--payload-limit)');
  if (typeof e.code === 'string' && e.code.startsWith('FST_ERR_CTP')) return new HttpError(400, 'Validation', `the body is not valid JSON: ${e.message ?? ''}`);
  if (e.statusCode === 400) return new HttpError(400, 'Validation', e.message ?? 'bad request');
  if (e.code === 'E_OVERLOADED') return new HttpError(429, 'Overloaded', e.message ?? 'overloaded');
  if (e.code === 'E_BAD_INPUT') return new HttpError(422, 'Validation', e.message ?? 'invalid input');
  if (e.code === 'E_ABORTED') return new HttpError(499, 'Backend', 'the client went away');
  return new HttpError(424, 'Backend', `the model failed: ${e.message ?? String(err)}`);
}
