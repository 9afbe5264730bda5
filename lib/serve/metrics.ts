// The server's Prometheus metrics (prom-client), under text-embeddings-inference's names so its
// dashboards and alerts work unchanged: requests by outcome, their durations by phase, input lengths,
// batch sizes and tokens, the queue; and the requests dropped because their client went away.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const TOKENS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'te_request_count', help: 'Requests received', labelNames: ['method'], registers: [this.registry] });
  readonly success = new Counter({ name: 'te_request_success', help: 'Requests answered', labelNames: ['method'], registers: [this.registry] });
  readonly failure = new Counter({ name: 'te_request_failure', help: 'Requests refused or failed, by TEI error type', labelNames: ['err'], registers: [this.registry] });
  readonly dropped = new Counter({ name: 'embedrt_request_dropped', help: 'Requests dropped before their turn because their client went away', registers: [this.registry] });
  readonly duration = new Histogram({ name: 'te_request_duration', help: 'Request duration (s)', buckets: SECONDS, registers: [this.registry] });
  readonly tokenization = new Histogram({ name: 'te_request_tokenization_duration', help: 'Tokenization (counting) duration (s)', buckets: SECONDS, registers: [this.registry] });
  readonly queue = new Histogram({ name: 'te_request_queue_duration', help: 'Time waiting for a model run (s)', buckets: SECONDS, registers: [this.registry] });
  readonly inference = new Histogram({ name: 'te_request_inference_duration', help: 'Duration of the model run that served the request (s)', buckets: SECONDS, registers: [this.registry] });
  readonly inputLength = new Histogram({ name: 'te_request_input_length', help: 'Tokens per input', buckets: TOKENS, registers: [this.registry] });
  readonly batchSize = new Histogram({ name: 'te_batch_next_size', help: 'Inputs per model run', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048], registers: [this.registry] });
  readonly batchTokens = new Histogram({ name: 'te_batch_next_tokens', help: 'Tokens per model run', buckets: TOKENS, registers: [this.registry] });

  constructor(queueSize: () => number) {
    new Gauge({ name: 'te_queue_size', help: 'Requests queued or running', registers: [this.registry], collect() { this.set(queueSize()); } });
  }
}
