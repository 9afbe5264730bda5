// CrossEncoder: a sequence-classification model scoring text pairs — BertForSequenceClassification
// (cross-encoder/ms-marco-MiniLM-L-6-v2's shape) or XLMRobertaForSequenceClassification
// (BAAI/bge-reranker-base's) — with sentence-transformers' CrossEncoder semantics: predict() applies
// the model's activation (sigmoid for one label unless config.json names another), rank() sorts
// documents by their score against a query. Pairs are tokenized, batched by length and run on native
// threads as encode's texts are; scores come back in one Float32Array, without a copy.
import { EmbedrtError } from './errors.js';
import { defaultBatchSize, encodeCall, runEncode } from './encode.js';
import type { Embeddings } from './embeddings.js';
import { embedrtKernels, graphFor } from './graph.js';
import { ModelFolder } from './modelfiles.js';
import { loadOptionsOf, locateModel, openSession, type LoadOptions } from './modelload.js';
import type { NativeModelHandle } from './native.js';
import { classifierHead, maxSequenceTokens, type ClassifierHead } from './onnx/config.js';
import { SessionOwner } from './sessionowner.js';
import { Tokenizer } from './tokenizer.js';
import { countOption, describe, optionsOf, signalOf, type OptionKeys } from './validate.js';

/** What CrossEncoder.load takes: load()'s options but truncateDim and onnxFile, and maxLength. */
export interface CrossEncoderLoadOptions extends Omit<LoadOptions, 'truncateDim' | 'onnxFile'> {
  /** Tokens per pair at most, special tokens included (default: the tokenizer's model_max_length, capped by the model's positions). */
  maxLength?: number;
}

/** sentence-transformers' activations of a CrossEncoder's logits. */
export type CrossEncoderActivation = 'sigmoid' | 'identity';

export interface PredictOptions {
  /** Pairs per session run at most (default 32 on a CPU, 128 on a GPU provider). */
  batchSize?: number;
  /** Overrides the model's activation (sentence-transformers' activation_fct). */
  activation?: CrossEncoderActivation;
  /** Softmax over each pair's labels after the activation (models with more than one label). */
  applySoftmax?: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface RankOptions extends Omit<PredictOptions, 'applySoftmax'> {
  /** Keep the best topK documents (default: all). */
  topK?: number;
  /** Each hit carries its document's text. */
  returnDocuments?: boolean;
}

/** One ranked document: its index in the documents given, its score, and (returnDocuments) its text. */
export interface RankedDocument {
  corpusId: number;
  score: number;
  text?: string;
}

const LOAD_KEYS: OptionKeys<CrossEncoderLoadOptions> = {
  device: true, deviceId: true, threads: true, revision: true, cacheDir: true, quantize: true, hub: true, signal: true, maxLength: true,
};
const PREDICT_KEYS: OptionKeys<PredictOptions> = { batchSize: true, activation: true, applySoftmax: true, signal: true, onProgress: true };
const RANK_KEYS: OptionKeys<RankOptions> = { batchSize: true, activation: true, signal: true, onProgress: true, topK: true, returnDocuments: true };

/** sentence-transformers' names for the activations a config.json may ask for (sbert_ce_default_activation_function). */
const ACTIVATIONS: Record<string, CrossEncoderActivation> = {
  'torch.nn.modules.activation.Sigmoid': 'sigmoid',
  'torch.nn.modules.linear.Identity': 'identity',
};

function activationOf(config: Record<string, unknown>, head: ClassifierHead, file: string): CrossEncoderActivation {
  const named = config.sbert_ce_default_activation_function;
  if (named === undefined || named === null) return head.numLabels === 1 ? 'sigmoid' : 'identity';
  if (typeof named !== 'string' || !Object.hasOwn(ACTIVATIONS, named)) {
    throw new EmbedrtError('E_UNSUPPORTED', `${file}: sbert_ce_default_activation_function ${JSON.stringify(named)} is not supported (${Object.keys(ACTIVATIONS).join(', ')})`);
  }
  return ACTIVATIONS[named]!;
}

/**
 * A cross-encoder (reranker) running on ONNX Runtime through embedrt's native core.
 *
 * @example
 * const reranker = await CrossEncoder.load('cross-encoder/ms-marco-MiniLM-L-6-v2');
 * const hits = await reranker.rank('What was revenue in 2023?', passages, { topK: 3, returnDocuments: true });
 */
export class CrossEncoder extends SessionOwner {
  private constructor(
    handle: NativeModelHandle,
    /** The resolved model folder. */
    readonly dir: string,
    readonly tokenizer: Tokenizer,
    /** The labels of the classification head, by id (config.json's id2label). */
    readonly labels: readonly string[],
    /** The activation predict() applies unless told otherwise. */
    readonly activation: CrossEncoderActivation,
    /** Tokens per pair at most, special tokens included. */
    readonly maxLength: number,
    private readonly graph: string,
  ) {
    super(handle);
  }

  /**
   * Loads a cross-encoder folder, or a hub id (from the Hugging Face cache, downloaded into it when
   * missing): the graph built from model.safetensors with its head, or, without a checkpoint, the
   * folder's onnx/model.onnx export (logits [batch, labels]).
   */
  static async load(idOrDir: string, options?: CrossEncoderLoadOptions): Promise<CrossEncoder> {
    const { opts, device, sessionOptions, signal, step } = loadOptionsOf(idOrDir, options, 'CrossEncoder.load', LOAD_KEYS);
    const dir = await locateModel(idOrDir, opts);
    step();
    const folder = new ModelFolder(dir);
    const configFile = folder.join('config.json');
    const config = folder.optionalObject('config.json', 'the model config');
    if (config === undefined) throw new EmbedrtError('E_MODEL_FILES', `${configFile}: not found (expected the model config)`);
    const head = classifierHead(config, configFile);
    if (head === undefined) {
      throw new EmbedrtError('E_UNSUPPORTED', `${configFile}: architectures ${JSON.stringify(config.architectures)} has no sequence-classification head; a sentence embedding model loads with SentenceTransformer.load`);
    }
    const activation = activationOf(config, head, configFile);
    const positions = maxSequenceTokens(config) ?? 512;
    const tokConfig = folder.optionalObject('tokenizer_config.json', 'a tokenizer_config.json') ?? {};
    const modelMax = tokConfig.model_max_length;
    const maxLength = countOption(opts.maxLength, 'CrossEncoder.load', 'maxLength', 2, positions) ??
      (typeof modelMax === 'number' && Number.isInteger(modelMax) && modelMax >= 2 ? Math.min(modelMax, positions) : positions);
    const tokenizer = await Tokenizer.load(dir, { signal });
    if (typeof config.vocab_size === 'number' && tokenizer.vocabSize > config.vocab_size) {
      throw new EmbedrtError('E_MODEL_FILES', `${dir}: the tokenizer has ${tokenizer.vocabSize} ids, config.json's vocab_size is ${config.vocab_size}; the two do not belong together`);
    }
    step();
    const graph = await graphFor(dir, opts, { head, embedrtOps: embedrtKernels(device, opts.quantize) }, signal);
    step();
    const { handle } = await openSession(graph, tokenizer.handle, sessionOptions, 'logits');
    if (handle.info().hiddenSize !== head.numLabels || !handle.info().clsOnly || signal?.aborted) {
      handle.dispose();
      if (signal?.aborted) throw new EmbedrtError('E_ABORTED', 'load: aborted');
      throw new EmbedrtError('E_MODEL_FILES', `${graph}: the graph's logits have ${handle.info().hiddenSize} labels, config.json says ${head.numLabels}`);
    }
    return new CrossEncoder(handle, dir, tokenizer, head.labels, activation, maxLength, graph);
  }

  /** Labels per pair (1 for a reranker). */
  get numLabels(): number {
    return this.labels.length;
  }

  /** What runs: execution provider, why 'auto' fell back, the graph file, sizes. */
  info() {
    const i = this.live('info').info();
    return { provider: i.provider, fallbackReason: i.fallbackReason || undefined, graph: this.graph, numLabels: this.numLabels, activation: this.activation, maxLength: this.maxLength };
  }

  /**
   * Scores each [text, pair] — sentence-transformers' CrossEncoder.predict: the logits through the
   * model's activation (then softmax over the labels with applySoftmax). Pairs longer than maxLength
   * are cut longest first. Returns pairs × numLabels scores, pair i's at [i·numLabels, (i+1)·numLabels).
   */
  async predict(pairs: readonly (readonly [string, string])[], options?: PredictOptions): Promise<Float32Array> {
    const opts = optionsOf(options, 'predict', PREDICT_KEYS);
    const list = pairsOf(pairs, 'predict');
    return (await this.run(list, opts, 'predict')).data;
  }

  /**
   * Ranks documents by their score against the query, best first (equal scores keep their order) —
   * sentence-transformers' CrossEncoder.rank. For single-label models (rerankers).
   */
  async rank(query: string, documents: readonly string[], options?: RankOptions): Promise<RankedDocument[]> {
    const opts = optionsOf(options, 'rank', RANK_KEYS);
    if (typeof query !== 'string') throw new EmbedrtError('E_BAD_INPUT', `rank: query must be a string, got ${describe(query)}`);
    if (!Array.isArray(documents)) throw new EmbedrtError('E_BAD_INPUT', `rank: documents must be an array of strings, got ${describe(documents)}`);
    documents.forEach((d, i) => {
      if (typeof d !== 'string') throw new EmbedrtError('E_BAD_INPUT', `rank: documents[${i}] must be a string, got ${describe(d)}`);
    });
    if (this.numLabels !== 1) throw new EmbedrtError('E_UNSUPPORTED', `rank: the model has ${this.numLabels} labels; rank sorts by one score (use predict)`);
    const topK = countOption(opts.topK, 'rank', 'topK', 1, Number.MAX_SAFE_INTEGER) ?? documents.length;
    if (opts.returnDocuments != null && typeof opts.returnDocuments !== 'boolean') {
      throw new EmbedrtError('E_BAD_INPUT', `rank: options.returnDocuments must be a boolean, got ${describe(opts.returnDocuments)}`);
    }
    const { returnDocuments, topK: _topK, ...predictOptions } = opts;
    const scores = (await this.run(documents.map((d) => [query, d] as const), predictOptions, 'rank')).data;
    const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b);
    return order.slice(0, topK).map((i) => (returnDocuments ? { corpusId: i, score: scores[i]!, text: documents[i]! } : { corpusId: i, score: scores[i]! }));
  }

  private async run(pairs: readonly (readonly [string, string])[], opts: PredictOptions, where: string): Promise<Embeddings> {
    const handle = this.live(where);
    if (opts.activation != null && opts.activation !== 'sigmoid' && opts.activation !== 'identity') {
      throw new EmbedrtError('E_BAD_INPUT', `${where}: options.activation must be 'sigmoid' or 'identity', got ${describe(opts.activation)}`);
    }
    if (opts.applySoftmax != null && typeof opts.applySoftmax !== 'boolean') {
      throw new EmbedrtError('E_BAD_INPUT', `${where}: options.applySoftmax must be a boolean, got ${describe(opts.applySoftmax)}`);
    }
    const settings = { batchSize: defaultBatchSize(handle.info().provider), maxSeqLength: this.maxLength, dim: this.numLabels, pooling: [0], normalizeModule: false, truncateDim: 0 };
    const call = encodeCall({ batchSize: opts.batchSize, onProgress: opts.onProgress, signal: signalOf(opts.signal, where) }, settings, where);
    if (call.signal?.aborted) throw new EmbedrtError('E_ABORTED', `${where}: the signal was already aborted`);
    const input = { texts: pairs.map((p) => p[0]), pairs: pairs.map((p) => p[1]) };
    const out = (await runEncode(handle, input, call, settings)) as Embeddings;
    const data = out.data;
    if ((opts.activation ?? this.activation) === 'sigmoid') {
      for (let i = 0; i < data.length; i++) data[i] = 1 / (1 + Math.exp(-data[i]!));
    }
    const L = this.numLabels;
    if (opts.applySoftmax && L > 1) {
      for (let r = 0; r < out.rows; r++) {
        const row = data.subarray(r * L, (r + 1) * L);
        const max = row.reduce((m, v) => Math.max(m, v), -Infinity);
        let sum = 0;
        for (let j = 0; j < L; j++) sum += Math.exp(row[j]! - max);
        for (let j = 0; j < L; j++) row[j] = Math.exp(row[j]! - max) / sum;
      }
    }
    return out;
  }

}

/** Pairs as predict takes them: an array of [text, text]. */
function pairsOf(pairs: unknown, where: string): readonly (readonly [string, string])[] {
  if (!Array.isArray(pairs)) throw new EmbedrtError('E_BAD_INPUT', `${where}: pairs must be an array of [text, text], got ${describe(pairs)}`);
  for (let i = 0; i < pairs.length; i++) {
    const p: unknown = pairs[i];
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || typeof p[1] !== 'string') {
      throw new EmbedrtError('E_BAD_INPUT', `${where}: pairs[${i}] must be [text, text] (two strings), got ${describe(p)}`);
    }
  }
  return pairs as readonly (readonly [string, string])[];
}
