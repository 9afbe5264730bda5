export { EmbedrtError, type ErrorCode } from './errors.js';
export { runtimeInfo, type RuntimeInfo } from './runtime.js';
export {
  Tokenizer,
  BatchEncoding,
  type Encoding,
  type EncodeOptions,
  type BatchEncodeOptions,
} from './tokenizer.js';
export {
  SentenceTransformer,
  Embeddings,
  TokenEmbeddings,
  resolveModelDir,
  type Device,
  type LoadOptions,
  type EncodeOptions as ModelEncodeOptions,
  type QuantizedEncodeOptions,
  type FloatEncodeOptions,
  type TokenEncodeOptions,
  type IdsEncodeOptions,
} from './model.js';
export {
  CrossEncoder,
  type CrossEncoderLoadOptions,
  type CrossEncoderActivation,
  type PredictOptions,
  type RankOptions,
  type RankedDocument,
} from './crossencoder.js';
export { type StreamItem, type EncodeStreamOptions, type EmbeddingChunk } from './stream.js';
export { type SimilarityFunction } from './pairwise.js';
export {
  downloadModel,
  cachedSnapshot,
  hubCacheDir,
  type HubOptions,
  type DownloadResult,
} from './hub.js';
export { generateTestModel, type TestModelOptions, type PoolingMode } from './testmodel.js';
export {
  similarity,
  semanticSearch,
  quantizeEmbeddings,
  semanticSearchQuantized,
  paraphraseMining,
  cosineSimilarity,
  dotProduct,
  simdPath,
  setSimdPath,
  type ScoreFunction,
  type Matrix,
  type EmbeddingsLike,
  type SearchHit,
  type SimilarityMatrix,
  type Precision,
  type QuantizedEmbeddings,
  type ParaphrasePair,
  type SimilarityOptions,
  type SemanticSearchOptions,
  type QuantizeOptions,
  type QuantizedSearchOptions,
  type ParaphraseMiningOptions,
} from './search.js';
export { readQaRows, qaDataset, type QaRow, type QaDataset } from './irdata.js';
export { renderEvalReport, bytesPerEmbedding, type EvalReportInput } from './report.js';
export { evaluateIR, type IRData, type IROptions, type IRMetrics, type IRResults, type Encoder } from './evaluate.js';
