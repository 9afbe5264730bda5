// embedrt serve: the embedding server (lib/serve/server.ts) for one model, until SIGTERM or SIGINT.
import { CrossEncoder } from '../crossencoder.js';
import { SentenceTransformer, type Device } from '../model.js';
import { tuneMalloc } from '../serve/malloc.js';
import { type Command, UsageError, hubForCli, positiveInt, parseFlags, quantizeFlag } from './common.js';

const SERVE_HELP = `Usage: embedrt serve --model <dir|hub-id> [--reranker <dir|hub-id>] [options]

An HTTP server for the model: OpenAI's embeddings API (POST /v1/embeddings, /embeddings) and
text-embeddings-inference's (POST /embed, /embed_all, /similarity, /tokenize, /decode; GET /info,
/health, /metrics); inputs are texts or token ids. With --reranker, a cross-encoder answers TEI's POST /rerank. Concurrent requests are merged into model runs by a
token budget. SIGTERM or SIGINT: it stops accepting, finishes what is in flight
(--grace seconds at most), then exits 0.

Options:
  --reranker <dir|hub-id>        a cross-encoder for POST /rerank (TEI's reranker API)
  --host <h>                     address to bind (default 127.0.0.1: this machine only)
  --port <p>                     port (default 3000; 0: any free one)
  --api-key <key>                require Authorization: Bearer <key> (also $EMBEDRT_API_KEY); /health stays open
  --open-metrics                 /metrics without the key (a scraper in a trusted network)
  --max-batch-tokens <n>         tokens merged into one model run (default 16384)
  --max-client-batch-size <n>    inputs per request (default 2048)
  --max-concurrent-requests <n>  requests queued or running; beyond it 429 (default 512)
  --max-input-chars <n>          characters per input (default 100000)
  --payload-limit <bytes>        request body size; beyond it 413 (default 2000000)
  --auto-truncate                cut long inputs to the model's max_seq_length when a request does not say
  --grace <s>                    seconds to finish requests in flight on shutdown (default 30)
  --device <d>                   cpu | cuda | tensorrt | auto (default cpu)
  --quantize <q>                 int8 | int8-fast | fp16 | bf16
  --malloc <m>                   tuned (default: one glibc malloc arena, blocks of 1 MiB or more returned
                                 to the system when freed; a lower peak RSS) | system (glibc's own)
  --log                          one JSON line per request on stdout (pino)`;

async function serve(argv: string[]): Promise<void> {
  const { values } = parseFlags('serve', {
    args: argv,
    options: {
      model: { type: 'string' },
      reranker: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '3000' },
      'api-key': { type: 'string' },
      'max-batch-tokens': { type: 'string' },
      'max-client-batch-size': { type: 'string' },
      'max-concurrent-requests': { type: 'string' },
      'max-input-chars': { type: 'string' },
      'payload-limit': { type: 'string' },
      'auto-truncate': { type: 'boolean', default: false },
      'open-metrics': { type: 'boolean', default: false },
      grace: { type: 'string', default: '30' },
      device: { type: 'string', default: 'cpu' },
      quantize: { type: 'string' },
      log: { type: 'boolean', default: false },
      malloc: { type: 'string', default: 'tuned' },
    },
  });
  if (!values.model) throw new UsageError('serve: --model <dir|hub-id> is required');
  const port = values.port === '0' ? 0 : positiveInt(values.port, '--port')!;
  if (port > 65535) throw new UsageError(`serve: --port must be at most 65535, got ${port}`);
  const grace = values.grace === '0' ? 0 : positiveInt(values.grace, '--grace')!;
  const apiKey = values['api-key'] ?? process.env.EMBEDRT_API_KEY;
  const limits = {
    maxBatchTokens: positiveInt(values['max-batch-tokens'], '--max-batch-tokens'),
    maxClientBatchSize: positiveInt(values['max-client-batch-size'], '--max-client-batch-size'),
    maxConcurrentRequests: positiveInt(values['max-concurrent-requests'], '--max-concurrent-requests'),
    maxInputChars: positiveInt(values['max-input-chars'], '--max-input-chars'),
    payloadLimit: positiveInt(values['payload-limit'], '--payload-limit'),
  };
  const quantize = quantizeFlag(values.quantize);
  if (values.malloc !== 'tuned' && values.malloc !== 'system') throw new UsageError(`serve: --malloc must be tuned or system, got ${JSON.stringify(values.malloc)}`);
  if (values.malloc === 'tuned') tuneMalloc(); // before the model's threads start (lib/serve/malloc.ts)
  const cli = hubForCli();
  const model = await SentenceTransformer.load(values.model, { device: values.device as Device, hub: cli.hub, ...(quantize ? { quantize } : {}) });
  const reranker = values.reranker === undefined ? undefined : await CrossEncoder.load(values.reranker, { device: values.device as Device, hub: cli.hub, ...(quantize ? { quantize } : {}) });
  cli.done();
  // Loaded here, not at the CLI's start: the other commands never pay for the HTTP framework.
  const { createServer } = await import('../serve/server.js');
  const server = createServer(model, {
    ...Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)),
    ...(apiKey ? { apiKey } : {}),
    autoTruncate: values['auto-truncate'],
    authMetrics: !values['open-metrics'],
    logger: values.log,
    ...(reranker ? { reranker } : {}),
  });
  const address = await server.listen({ host: values.host, port });
  process.stderr.write(`embedrt: serving ${values.model} at ${address}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      process.stderr.write('embedrt: shutting down: finishing the requests in flight\n');
      void server.close(grace * 1000).then(resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  model.dispose();
  reranker?.dispose();
}

export const serveCommand: Command = {
  name: 'serve',
  summary: "An embedding server: OpenAI's and text-embeddings-inference's APIs, requests batched together",
  help: SERVE_HELP,
  run: serve,
};
