// SentenceTransformer: a model folder (Hugging Face / sentence-transformers layout) loaded into an
// ONNX Runtime session, and an async, zero-copy encode that follows sentence-transformers.
import { EmbedrtError } from './errors.js';
import { defaultBatchSize, encodeCall, idsOf, runEncode, type EncodeCall } from './encode.js';
import type { NativeModelHandle } from './native.js';
import { readModelSpec } from './modelspec.js';
import { Tokenizer } from './tokenizer.js';
import { embedrtKernels, graphFor } from './graph.js';
import { loadOptionsOf, locateModel, openFullGraph, openSession, type LoadOptions } from './modelload.js';
import { encodeStream, type EmbeddingChunk, type EncodeStreamOptions, type StreamItem } from './stream.js';
import { pairwiseBy, similarityBy, type SimilarityFunction } from './pairwise.js';
import type { EmbeddingsLike, QuantizedEmbeddings, SimilarityMatrix } from './search.js';

export { convertCheckpoint, onnxGraphFor } from './graph.js';
export { resolveModelDir, type Device, type LoadOptions } from './modelload.js';
export { Embeddings, TokenEmbeddings, type EncodeOptions, type FloatEncodeOptions, type QuantizedEncodeOptions, type TokenEncodeOptions } from './embeddings.js';
import { ENCODE_OPTION_KEYS, type Embeddings, type EncodeOptions, type FloatEncodeOptions, type QuantizedEncodeOptions, type TokenEmbeddings, type TokenEncodeOptions } from './embeddings.js';
import { ModelFolder } from './modelfiles.js';
import { SessionOwner } from './sessionowner.js';
import { describe, isInteger, optionsOf, type OptionKeys } from './validate.js';
import { promptFor, taskPrompt, textsOf } from './prompts.js';

const LOAD_KEYS: OptionKeys<LoadOptions> = {
  device: true, deviceId: true, truncateDim: true, threads: true, revision: true, cacheDir: true, quantize: true, onnxFile: true, hub: true, signal: true,
};
const { prompt: _prompt, promptName: _promptName, ...IDS_KEYS } = ENCODE_OPTION_KEYS;
/** encodeIds' options: encode's but the prompts (ids are embedded as they are). */
export type IdsEncodeOptions = Omit<EncodeOptions, 'prompt' | 'promptName'>;


/**
 * A sentence-transformers model running on ONNX Runtime through embedrt's native core.
 *
 * @example
 * const model = await SentenceTransformer.load('BAAI/bge-base-en-v1.5', { truncateDim: 256 });
 * const emb = await model.encode(['What was revenue in 2023?'], { normalize: true });
 * emb.row(0); // Float32Array(256)
 */
export class SentenceTransformer extends SessionOwner {
  private constructor(
    handle: NativeModelHandle,
    /** The resolved model folder. */
    readonly dir: string,
    readonly tokenizer: Tokenizer,
    private readonly settings: {
      batchSize: number;
      maxSeqLength: number;
      lowercase: boolean;
      pooling: number[];
      normalizeModule: boolean;
      dim: number;
      truncateDim: number;
      prompts: Record<string, string>;
      defaultPromptName: string | undefined;
      similarity: string;
      graph: string;
      optimizedGraph: string | undefined;
      /** Opens a session whose graph returns every token (for token embeddings), when `handle`'s is CLS-only. */
      openFullGraph: (() => Promise<NativeModelHandle>) | undefined;
    },
  ) {
    super(handle);
  }

  /** The session token embeddings run on: the model's own, or (CLS-only graphs) one opened on first use. */
  private fullGraph: Promise<NativeModelHandle> | undefined;

  /** Loads a model folder, or a hub id: from the Hugging Face cache, downloaded into it when missing. */
  static async load(idOrDir: string, options?: LoadOptions): Promise<SentenceTransformer> {
    const { opts, device, sessionOptions, signal, step } = loadOptionsOf(idOrDir, options, 'SentenceTransformer.load', LOAD_KEYS);
    if (opts.truncateDim != null && (!isInteger(opts.truncateDim) || opts.truncateDim < 1)) {
      throw new EmbedrtError('E_BAD_INPUT', `load: options.truncateDim must be a positive integer, got ${describe(opts.truncateDim)}`);
    }
    const dir = await locateModel(idOrDir, opts);
    step();
    const folder = new ModelFolder(dir);
    const spec = readModelSpec(folder);
    const tokenizer = await Tokenizer.load(dir, { signal });
    if (spec.vocabSize !== undefined && tokenizer.vocabSize > spec.vocabSize) {
      throw new EmbedrtError('E_MODEL_FILES', `${dir}: the tokenizer has ${tokenizer.vocabSize} ids, config.json's vocab_size is ${spec.vocabSize}; the two do not belong together`);
    }
    // CLS pooling alone (BGE): the built graph skips the last layer's work on every other token.
    const clsOnly = spec.pooling.length === 1 && spec.pooling[0] === 0;
    // On a CPU with AVX-512 the projections run on embedrt's own kernels (com.embedrt.Linear); elsewhere,
    // and on a GPU provider, as ONNX's MatMul (embedrtKernels says why).
    step();
    const graph = await graphFor(dir, opts, { clsOnly, embedrtOps: embedrtKernels(device, opts.quantize) }, signal);
    step();
    const tokHandle = tokenizer.handle;
    const { handle, optimizedGraph } = await openSession(graph, tokHandle, sessionOptions);
    const fail = (e: EmbedrtError): never => {
      handle.dispose();
      throw e;
    };
    if (handle.info().clsOnly && !clsOnly) {
      fail(new EmbedrtError('E_UNSUPPORTED', `${graph}: the graph returns only the first (CLS) row, but ${spec.poolingFile} pools over every token`));
    }
    const dim = handle.info().hiddenSize * spec.pooling.length;
    const truncateDim = opts.truncateDim ?? 0;
    if (truncateDim > dim) fail(new EmbedrtError('E_BAD_INPUT', `load: options.truncateDim must be an integer in [1, ${dim}], got ${truncateDim}`));
    if (signal?.aborted) fail(new EmbedrtError('E_ABORTED', 'load: aborted'));
    return new SentenceTransformer(handle, dir, tokenizer, {
      batchSize: defaultBatchSize(handle.info().provider),
      maxSeqLength: spec.maxSeqLength,
      lowercase: spec.lowercase,
      pooling: spec.pooling,
      normalizeModule: spec.normalizeModule,
      dim,
      truncateDim,
      prompts: spec.prompts,
      defaultPromptName: spec.defaultPromptName,
      similarity: spec.similarity,
      graph,
      optimizedGraph,
      openFullGraph: handle.info().clsOnly ? () => openFullGraph(dir, opts, device, tokHandle, sessionOptions) : undefined,
    });
  }

  /** Embedding size after truncation. */
  get dimension(): number {
    return this.settings.truncateDim || this.settings.dim;
  }

  get maxSeqLength(): number {
    return this.settings.maxSeqLength;
  }

  /** The prompts of config_sentence_transformers.json, by name (a copy). */
  get prompts(): Record<string, string> {
    return { ...this.settings.prompts };
  }

  /** What runs: execution provider, why 'auto' fell back, the graph file, pooling, sizes. */
  info() {
    const i = this.live('info').info();
    return {
      provider: i.provider,
      fallbackReason: i.fallbackReason || undefined,
      graph: this.settings.graph,
      /** ONNX Runtime's cached optimized graph this session started from, if any. */
      optimizedGraph: this.settings.optimizedGraph,
      /** The graph returns only the CLS row: built so for CLS-pooled models, its last layer skips the other tokens. */
      clsOnly: i.clsOnly,
      dimension: this.dimension,
      maxSeqLength: this.settings.maxSeqLength,
      normalize: this.settings.normalizeModule,
      similarity: this.settings.similarity,
    };
  }

  /**
   * Embeds texts on native threads (tokenize, batch by length, run, pool) without blocking the event
   * loop. Results are in input order.
   */
  encode(texts: readonly string[] | string, options: QuantizedEncodeOptions): Promise<QuantizedEmbeddings>;
  encode(texts: readonly string[] | string, options: TokenEncodeOptions): Promise<TokenEmbeddings[]>;
  encode(texts: readonly string[] | string, options?: FloatEncodeOptions): Promise<Embeddings>;
  encode(texts: readonly string[] | string, options?: EncodeOptions): Promise<Embeddings | QuantizedEmbeddings | TokenEmbeddings[]>;
  async encode(texts: readonly string[] | string, options?: EncodeOptions): Promise<Embeddings | QuantizedEmbeddings | TokenEmbeddings[]> {
    this.live('encode');
    const opts = optionsOf(options, 'encode', ENCODE_OPTION_KEYS);
    const call = encodeCall(opts, this.settings, 'encode');
    const list = textsOf(texts, 'encode');
    const prompt = promptFor(opts, this.settings.prompts, this.settings.defaultPromptName);
    // sentence-transformers: prompt + text, then lower-case when do_lower_case.
    let inputs = prompt ? list.map((t) => prompt + t) : [...list];
    if (this.settings.lowercase) inputs = inputs.map((t) => t.toLowerCase());
    const handle = this.handleFor(call);
    return runEncode(handle instanceof Promise ? await handle : handle, { texts: inputs }, call, this.settings);
  }

  /**
   * Embeds token ids as they are — no special tokens added, no prompt, no lower-casing, token type 0:
   * `ids[i]` is input i's, as the model's tokenizer gives them (`tokenizer.encode(text).ids`, special
   * tokens included, gives encode's embedding of that text). Each list must be non-empty, at most
   * maxSeqLength long, and every id in the tokenizer's vocabulary: else E_BAD_INPUT naming it. Takes
   * encode's options but `prompt` and `promptName`.
   */
  encodeIds(ids: readonly ArrayLike<number>[], options: Omit<QuantizedEncodeOptions, 'prompt' | 'promptName'>): Promise<QuantizedEmbeddings>;
  encodeIds(ids: readonly ArrayLike<number>[], options: Omit<TokenEncodeOptions, 'prompt' | 'promptName'>): Promise<TokenEmbeddings[]>;
  encodeIds(ids: readonly ArrayLike<number>[], options?: Omit<FloatEncodeOptions, 'prompt' | 'promptName'>): Promise<Embeddings>;
  encodeIds(ids: readonly ArrayLike<number>[], options?: IdsEncodeOptions): Promise<Embeddings | QuantizedEmbeddings | TokenEmbeddings[]>;
  async encodeIds(ids: readonly ArrayLike<number>[], options?: IdsEncodeOptions): Promise<Embeddings | QuantizedEmbeddings | TokenEmbeddings[]> {
    this.live('encodeIds');
    const call = encodeCall(optionsOf(options, 'encodeIds', IDS_KEYS), this.settings, 'encodeIds');
    const input = idsOf(ids, 'encodeIds', this.tokenizer.vocabSize, this.settings.maxSeqLength);
    const handle = this.handleFor(call);
    return runEncode(handle instanceof Promise ? await handle : handle, input, call, this.settings);
  }

  /**
   * The session a call runs on, once the call's signal is checked: the model's own at once (so a
   * dispose() right after the call cannot overtake it), or for token embeddings one that returns every
   * token, which may still have to open.
   */
  private handleFor(call: EncodeCall): NativeModelHandle | Promise<NativeModelHandle> {
    const aborted = () => new EmbedrtError('E_ABORTED', `${call.where}: the signal was already aborted`);
    if (call.signal?.aborted) throw aborted();
    if (!call.tokenEmbeddings) return this.live(call.where);
    return this.fullGraphHandle().then((handle) => {
      if (call.signal?.aborted) throw aborted();
      return handle;
    });
  }

  /** The session that returns every token: the model's own, or a full graph's opened once and kept (see `fullGraph`). */
  private async fullGraphHandle(): Promise<NativeModelHandle> {
    const open = this.settings.openFullGraph;
    if (open === undefined) return this.live('encode');
    // Shared by every call that waits for it: no one caller's signal stops it.
    this.fullGraph ??= open();
    let h: NativeModelHandle;
    try {
      h = await this.fullGraph;
    } catch (e) {
      this.fullGraph = undefined; // not kept: a later call (a freed disk, say) tries again
      throw e;
    }
    if (this.disposed) {
      h.dispose(); // the model was disposed while it opened
      throw new EmbedrtError('E_DISPOSED', 'encode: the model was disposed; load it again');
    }
    return h;
  }

  /**
   * How many tokens encode would run for each text before cutting it to maxSeqLength (special tokens
   * and the prompt's included): what the text costs, and whether it fits (`count > maxSeqLength`: it
   * would be truncated). Takes encode's `prompt` / `promptName`.
   */
  async countTokens(texts: readonly string[], options?: Pick<EncodeOptions, 'prompt' | 'promptName'>): Promise<Uint32Array> {
    this.live('countTokens');
    const opts = optionsOf(options, 'countTokens', { prompt: true, promptName: true });
    const list = textsOf(texts, 'countTokens');
    const prompt = promptFor(opts, this.settings.prompts, this.settings.defaultPromptName);
    let inputs = prompt ? list.map((t) => prompt + t) : [...list];
    if (this.settings.lowercase) inputs = inputs.map((t) => t.toLowerCase());
    return (await this.tokenizer.encodeBatch(inputs, { maxLength: 0 })).lengths;
  }

  /**
   * sentence-transformers' encode_query: encode with the model's "query" prompt unless options give a
   * prompt or a prompt name. As there (6.x), a model without one gets no prompt — never the default
   * prompt (config_sentence_transformers.json's default_prompt_name).
   */
  encodeQuery(texts: readonly string[] | string, options: QuantizedEncodeOptions): Promise<QuantizedEmbeddings>;
  encodeQuery(texts: readonly string[] | string, options: TokenEncodeOptions): Promise<TokenEmbeddings[]>;
  encodeQuery(texts: readonly string[] | string, options?: FloatEncodeOptions): Promise<Embeddings>;
  encodeQuery(texts: readonly string[] | string, options?: EncodeOptions): Promise<Embeddings | QuantizedEmbeddings | TokenEmbeddings[]>;
  async encodeQuery(texts: readonly string[] | string, options?: EncodeOptions): Promise<Embeddings | QuantizedEmbeddings | TokenEmbeddings[]> {
    return this.encode(texts, this.taskOptions(options, ['query'], 'encodeQuery'));
  }

  /**
   * sentence-transformers' encode_document: encode with the first of the prompts "document", "passage",
   * "corpus" unless options give a prompt or a prompt name. As there (6.x), "document" always exists
   * (empty unless the model sets it), so it is the one used: a model's "passage" prompt only applies
   * when asked for by name ({ promptName: 'passage' }).
   */
  encodeDocument(texts: readonly string[] | string, options: QuantizedEncodeOptions): Promise<QuantizedEmbeddings>;
  encodeDocument(texts: readonly string[] | string, options: TokenEncodeOptions): Promise<TokenEmbeddings[]>;
  encodeDocument(texts: readonly string[] | string, options?: FloatEncodeOptions): Promise<Embeddings>;
  encodeDocument(texts: readonly string[] | string, options?: EncodeOptions): Promise<Embeddings | QuantizedEmbeddings | TokenEmbeddings[]>;
  async encodeDocument(texts: readonly string[] | string, options?: EncodeOptions): Promise<Embeddings | QuantizedEmbeddings | TokenEmbeddings[]> {
    return this.encode(texts, this.taskOptions(options, ['document', 'passage', 'corpus'], 'encodeDocument'));
  }

  /** The options of a task call: its prompt chosen as sentence-transformers chooses it. */
  private taskOptions(options: EncodeOptions | undefined, candidates: readonly string[], where: string): EncodeOptions {
    const opts = optionsOf(options, where, ENCODE_OPTION_KEYS);
    return opts.prompt != null || opts.promptName != null ? opts : { ...opts, prompt: taskPrompt(this.settings.prompts, candidates) };
  }

  /**
   * model.similarity: every row of `a` against every row of `b` by the model's similarity_fn_name
   * (cosine unless config_sentence_transformers.json says dot, euclidean or manhattan).
   */
  similarity(a: EmbeddingsLike, b: EmbeddingsLike): Promise<SimilarityMatrix> {
    return similarityBy(this.settings.similarity as SimilarityFunction, a, b, 'similarity');
  }

  /** model.similarity_pairwise: row i of `a` against row i of `b`, by the model's similarity_fn_name. */
  async similarityPairwise(a: EmbeddingsLike, b: EmbeddingsLike): Promise<Float32Array> {
    return pairwiseBy(this.settings.similarity as SimilarityFunction, a, b, 'similarityPairwise');
  }

  /**
   * Embeds a corpus of any size as it arrives: `source` is an iterable or async iterable of texts or
   * `{id, text}` records (a generator, a readline interface, a database cursor); chunks of embeddings come
   * out in input order, each with its items' ids. Memory stays bounded by a few chunks: the source is
   * read at most two chunks ahead of the consumer. Breaking out of the loop stops the work.
   *
   * @example
   * for await (const { ids, embeddings } of model.encodeStream(records, { normalize: true })) {
   *   for (let i = 0; i < embeddings.rows; i++) await index.add(ids[i], embeddings.row(i));
   * }
   */
  encodeStream(source: Iterable<StreamItem> | AsyncIterable<StreamItem>, options?: EncodeStreamOptions): AsyncGenerator<EmbeddingChunk, void, undefined> {
    this.live('encodeStream');
    return encodeStream(this, source, options);
  }

  /** Releases the ONNX Runtime session (and a full graph's); later calls fail with E_DISPOSED. Idempotent. */
  override dispose(): void {
    super.dispose();
    // A full graph still opening is disposed by fullGraphHandle when it arrives.
    this.fullGraph?.then((h) => h.dispose(), () => {});
    this.fullGraph = undefined;
  }
}
